"""The nightly credit checks through ``arsync run``: which customers are checked, one lookup per org no,
the stored result, and "credit stop?" in the run report for a high-risk customer with new invoices."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from credit_env import BANKRUPT, NAMES, OLD, SOUND, configure, fill

from connector.credit.risk import RiskLevel
from connector.engine import slices
from connector.store.credit_checks import latest_checks
from tests.builders import Workspace, client_table
from tests.fakes.registers import FakeRegisters, quick_http

MON, TUE = date(2026, 2, 2), date(2026, 2, 3)


@pytest.fixture
def registers(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRegisters]:
    fake = FakeRegisters()
    fill(fake)
    with quick_http(monkeypatch), fake.running():
        yield fake


def invoice(ws: Workspace, number: str, org: str, issue: date, amount: str) -> None:
    ws.add_invoice(number, customer=NAMES[org], org=org, issue=issue, due=date(2026, 3, 1), amount=amount)


def ledger(ws: Workspace) -> None:
    invoice(ws, "1001", SOUND, date(2026, 1, 20), "1000.00")  # a new customer, small invoice
    invoice(ws, "0901", BANKRUPT, date(2025, 6, 2), "800.00")  # known since last summer …
    invoice(ws, "1002", BANKRUPT, date(2026, 1, 28), "60000.00")  # … with a large new invoice
    invoice(ws, "0902", OLD, date(2025, 5, 5), "900.00")  # known for long, only a small new invoice
    invoice(ws, "1003", OLD, date(2026, 1, 29), "4000.00")


def run(ws: Workspace, day: date) -> str:
    ws.bank_heartbeat(day)
    result = ws.cli("run", "--as-of", day.isoformat())
    assert result.exit_code == 0, result.output
    return result.stdout


def test_new_customers_and_large_invoices_are_checked_and_a_high_risk_is_flagged(
    ws: Workspace, registers: FakeRegisters
) -> None:
    configure(ws, registers)
    ledger(ws)
    out = run(ws, MON)

    checks = ws.store.read(latest_checks, "acme")
    assert set(checks) == {SOUND, BANKRUPT}  # OLD: neither new nor a large new invoice
    assert checks[SOUND].trigger == "new customer" and checks[SOUND].level is RiskLevel.LOW
    assert checks[BANKRUPT].trigger == "invoice 1002 (60000.00 NOK)"
    assert checks[BANKRUPT].level is RiskLevel.HIGH and checks[BANKRUPT].checked_on == MON
    assert registers.asked(f"/enheter/{OLD}") == 0

    flagged = [line for line in out.splitlines() if "credit stop?" in line]
    assert flagged == [
        f"acme: credit stop? customer {BANKRUPT} {NAMES[BANKRUPT]} (org no {BANKRUPT}): credit risk high — "
        "Bankrupt (konkurs) since 2026-01-12; Negative equity of -350 000 NOK in the accounts for the period "
        "ending 2024-12-31. New invoices: 1002 (60000.00 NOK)."  # last summer's invoice is not new
    ]


def test_a_second_run_the_same_day_asks_nothing_and_flags_nothing_new(ws: Workspace, registers: FakeRegisters) -> None:
    configure(ws, registers)
    ledger(ws)
    run(ws, MON)
    asked = len(registers.requests)
    out = run(ws, MON)
    assert len(registers.requests) == asked and "credit stop?" not in out


def test_the_next_night_a_high_risk_customer_with_a_new_invoice_is_checked_again(
    ws: Workspace, registers: FakeRegisters
) -> None:
    configure(ws, registers)
    ledger(ws)
    run(ws, MON)
    invoice(ws, "1004", BANKRUPT, TUE, "500.00")  # small, but the customer is high risk
    invoice(ws, "1005", SOUND, TUE, "700.00")  # small, and the customer is low risk: not checked again
    out = run(ws, TUE)
    checks = ws.store.read(latest_checks, "acme")
    assert checks[BANKRUPT].checked_on == TUE and checks[BANKRUPT].trigger == "high risk, new invoices"
    assert checks[SOUND].checked_on == MON
    assert [line.split("New invoices: ")[1] for line in out.splitlines() if "credit stop?" in line] == [
        "1004 (500.00 NOK)."
    ]
    assert registers.asked(f"/enheter/{BANKRUPT}") == 2  # once per day


def test_one_lookup_per_org_no_per_run_even_when_the_register_is_down(ws: Workspace, registers: FakeRegisters) -> None:
    registry = {
        "enabled": True,
        "base_url": registers.enhetsregisteret_url,
        "regnskap_base_url": registers.regnskapsregisteret_url,
    }
    ws.write_config(client_table("acme", registry=registry), client_table("beta", registry=registry))
    for n, client_id in enumerate(("acme", "beta")):  # the same company is a new customer of two clients
        ws.bank_heartbeat(MON, client_id=client_id)
        new = {"customer": NAMES[SOUND], "org": SOUND, "issue": MON, "due": TUE, "amount": "10"}
        ws.add_invoice(f"300{n}", client_id=client_id, **new)
    registers.fail(f"/enheter/{SOUND}", 503, times=100)
    result = ws.cli("run", "--as-of", MON.isoformat())
    assert result.exit_code == 0, result.output
    assert registers.asked(f"/enheter/{SOUND}") == 3  # one lookup (the retry policy's three attempts), not two
    for client_id in ("acme", "beta"):
        check = ws.store.read(latest_checks, client_id)[SOUND]
        assert [r.code for r in check.assessment.reasons] == ["register_unavailable"]
        assert check.level is RiskLevel.WATCH


def test_nothing_is_asked_without_registry_enabled(ws: Workspace, registers: FakeRegisters) -> None:
    configure(ws, registers, enabled=False)
    ledger(ws)
    out = run(ws, MON)
    assert registers.requests == [] and ws.store.read(latest_checks, "acme") == {} and "credit stop?" not in out


def test_a_client_in_slices_is_checked_as_in_one_piece_reading_only_the_slices_of_due_customers(
    ws: Workspace, registers: FakeRegisters, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A very large client is read a slice of customers at a time (connector.engine.slices), and for the
    credit checks only the slices holding a customer due tonight: never whole, with the checks and the
    "credit stop?" lines of a client read in one piece (the first test's)."""
    monkeypatch.setattr(slices, "SLICE_DOCUMENTS", 1)  # every customer its own slice
    monkeypatch.setattr(slices, "PARALLEL_SLICES", 1)
    read: list[set[str]] = []  # the customers of each slice the credit checks read
    whole = slices.SlicedRun._whole

    def slice_read(self: slices.SlicedRun, routed: Any, reader: Any, n: int) -> slices.Slice:
        if self.customers is not None:
            read.append(set(routed.plan.customers[n]))
        return original(self, routed, reader, n)

    def no_whole(self: slices.SlicedRun) -> slices.Slice:
        assert self.customers is None, "the credit checks read the client whole"
        return whole(self)

    original = slices.SlicedRun._slice
    monkeypatch.setattr(slices.SlicedRun, "_slice", slice_read)
    monkeypatch.setattr(slices.SlicedRun, "_whole", no_whole)
    configure(ws, registers)
    ledger(ws)
    out = run(ws, MON)

    checks = ws.store.read(latest_checks, "acme")
    assert {org: (c.trigger, c.level) for org, c in checks.items()} == {
        SOUND: ("new customer", RiskLevel.LOW),
        BANKRUPT: ("invoice 1002 (60000.00 NOK)", RiskLevel.HIGH),
    }
    assert [line for line in out.splitlines() if "credit stop?" in line] == [
        f"acme: credit stop? customer {BANKRUPT} {NAMES[BANKRUPT]} (org no {BANKRUPT}): credit risk high — "
        "Bankrupt (konkurs) since 2026-01-12; Negative equity of -350 000 NOK in the accounts for the period "
        "ending 2024-12-31. New invoices: 1002 (60000.00 NOK)."
    ]
    # customers are keyed by org no here: the slices of the two due customers were read, OLD's was not
    assert sorted(read, key=sorted) == sorted([{SOUND}, {BANKRUPT}], key=sorted)
