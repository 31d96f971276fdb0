"""``arsync credit check``: by org no (registers only), by client and customer (with the ledger history),
as JSON, Denmark said plainly, an outage shown as the previous answer, and nothing asked while offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from credit_env import BANKRUPT, NAMES, SOUND, configure, fill

from connector.credit.risk import RiskLevel
from connector.store.credit_checks import latest_checks
from tests.builders import Entry, Workspace, kid
from tests.fakes.registers import FakeRegisters, deleted_sub_unit, quick_http

MON, TUE = date(2026, 2, 2), date(2026, 2, 3)


@pytest.fixture
def registers(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRegisters]:
    fake = FakeRegisters()
    fill(fake)
    with quick_http(monkeypatch), fake.running():
        yield fake


def late_payer(ws: Workspace) -> None:
    """FJORD BYGG paid three invoices 30 days late and has 25 000 NOK overdue today."""
    for n, due in enumerate((date(2025, 9, 1), date(2025, 10, 1), date(2025, 11, 3))):
        number = f"50{n}"
        ws.add_invoice(number, customer=NAMES[SOUND], org=SOUND, issue=date(2025, 8, 1), due=due, amount="1000.00")
        paid = date.fromordinal(due.toordinal() + 30)
        ws.add_bank_file(f"p{n}.xml", [Entry(f"R{n}", "1000.00", paid, kid=kid(number))], created=paid)
    ws.add_invoice(
        "510", customer=NAMES[SOUND], org=SOUND, issue=date(2025, 12, 1), due=date(2026, 1, 2), amount="25000"
    )
    ws.bank_heartbeat(MON)
    assert ws.cli("sync", "--as-of", MON.isoformat()).exit_code == 0


def test_an_org_no_alone_is_checked_in_the_registers(ws: Workspace, registers: FakeRegisters) -> None:
    configure(ws, registers)
    result = ws.cli("credit", "check", "934 567 897", "--as-of", MON.isoformat())
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"{NAMES[BANKRUPT]} (org no {BANKRUPT})"
    assert lines[1] == "Credit risk: HIGH (as of 2026-02-02)"
    assert lines[2].split()[:5] == ["HIGH", "Bankrupt", "(konkurs)", "since", "2026-01-12."]
    assert lines[2].endswith("[Enhetsregisteret, answer of 2026-02-02]")
    assert "Ledger history not used: give --client ID to see how this company pays that client." in result.stdout
    assert "arsync never blocks a sale" in result.stdout


def test_a_customer_is_checked_with_the_clients_ledger_and_the_check_is_kept(
    ws: Workspace, registers: FakeRegisters
) -> None:
    configure(ws, registers)
    late_payer(ws)
    result = ws.cli("credit", "check", "--client", "acme", "--customer", SOUND, "--as-of", MON.isoformat(), "--json")
    assert result.exit_code == 0, result.output
    [check] = json.loads(result.stdout)["checks"]
    assert check["level"] == "watch" and check["name"] == NAMES[SOUND]
    assert [(r["code"], r["source"]) for r in check["reasons"]] == [
        ("days_paid_after_due", "ledger"),
        ("overdue_amount", "ledger"),
    ]
    assert check["reasons"][0]["text"].startswith("Paid on average 30.0 days after the due date (3 invoices paid")
    assert check["reasons"][1]["text"] == "25 000 NOK overdue today (1 invoice)."
    assert [(r["register"], r["status"], r["stale"]) for r in check["registers"]] == [
        ("enhetsregisteret", "found", False),
        ("regnskapsregisteret", "found", False),
    ]
    stored = ws.store.read(latest_checks, "acme")[SOUND]
    assert stored.trigger == "manual" and stored.level is RiskLevel.WATCH and stored.checked_on == MON


def test_an_org_no_with_a_client_finds_the_customer(ws: Workspace, registers: FakeRegisters) -> None:
    configure(ws, registers)
    late_payer(ws)
    result = ws.cli("credit", "check", SOUND, "--client", "acme", "--as-of", MON.isoformat())
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{NAMES[SOUND]} (org no {SOUND}, customer {SOUND} of client acme)\n")
    assert "Credit risk: WATCH" in result.stdout and "Paid on average 30.0 days" in result.stdout


def test_an_outage_shows_the_previous_answer_and_says_so(ws: Workspace, registers: FakeRegisters) -> None:
    configure(ws, registers)
    assert ws.cli("credit", "check", BANKRUPT, "--as-of", MON.isoformat()).exit_code == 0
    registers.fail(f"/enheter/{BANKRUPT}", 503, times=3)
    result = ws.cli("credit", "check", BANKRUPT, "--as-of", TUE.isoformat(), "--json")
    [check] = json.loads(result.stdout)["checks"]
    assert check["level"] == "high" and check["reasons"][0]["as_of"] == "2026-02-02"
    assert any(n.startswith("Enhetsregisteret could not be reached on 2026-02-03") for n in check["notes"])
    company = check["registers"][0]
    assert company["stale"] and company["answered_on"] == "2026-02-02"


def test_the_same_day_asks_the_registers_once(ws: Workspace, registers: FakeRegisters) -> None:
    configure(ws, registers)
    ws.cli("credit", "check", SOUND, "--as-of", MON.isoformat())
    asked = len(registers.requests)
    ws.cli("credit", "check", SOUND, "--as-of", MON.isoformat())
    assert len(registers.requests) == asked


def test_denmark_is_said_to_be_not_covered(ws: Workspace, registers: FakeRegisters) -> None:
    configure(ws, registers)
    result = ws.cli("credit", "check", "DK 12345678", "--as-of", MON.isoformat())
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Org no 12345678\nCredit risk: LOW")
    assert "No warning signs found in what could be checked (see the notes)." in result.stdout
    assert "DK credit data is not covered: CVR has no free key-based API arsync can use" in result.stdout
    assert registers.requests == []


def test_offline_a_customer_is_judged_on_the_ledger_alone(ws: Workspace, registers: FakeRegisters) -> None:
    configure(ws, registers, enabled=False)
    late_payer(ws)
    result = ws.cli("credit", "check", "--client", "acme", "--customer", SOUND, "--as-of", MON.isoformat())
    assert result.exit_code == 0, result.output
    assert "Registers not asked: client 'acme' has [clients.registry] enabled = false." in result.stdout
    assert "Credit risk: WATCH" in result.stdout and registers.requests == []
    assert ws.store.read(latest_checks, "acme") == {}  # a ledger-only look is not kept as a check


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customer", SOUND], "--customer needs --client"),
        ([], "give an organisation number, or --client ID --customer ID"),
        (["12"], "'12' is not an organisation number"),
        (["--client", "acme", "--customer", "nobody"], "client 'acme' has no customer 'nobody' in the store"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    ws: Workspace, registers: FakeRegisters, args: list[str], message: str
) -> None:
    configure(ws, registers)
    assert ws.store is not None  # the store exists: what is refused is the request itself
    result = ws.cli("credit", "check", *args)
    assert result.exit_code == 2 and message in result.output


def test_an_org_no_alone_needs_a_client_with_registers_on(ws: Workspace) -> None:
    configure(ws, None, enabled=False)
    result = ws.cli("credit", "check", SOUND)
    assert result.exit_code == 2 and "no client has [clients.registry] enabled = true" in result.output


def test_a_deleted_branch_number_asks_for_the_companys_org_no(ws: Workspace, registers: FakeRegisters) -> None:
    """A customer registered under a branch (sub-unit) that was deleted: the company may trade on, so
    the check says the org no is not the company's, not that the company was deleted."""
    registers.sub_units["973000004"] = deleted_sub_unit("973000004", "2025-06-30")
    configure(ws, registers)
    result = ws.cli("credit", "check", "973000004", "--as-of", MON.isoformat())
    assert result.exit_code == 0, result.output
    assert "a sub-unit (branch) deleted from Enhetsregisteret on 2025-06-30" in result.stdout
    assert "the customer's org no should be the company's" in result.stdout
    assert "was deleted from" not in result.stdout
