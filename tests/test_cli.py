"""The command line: the JSON users script against, exit statuses, client selection, disputes."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date, timedelta

import pytest

from connector.cli import COMMANDS
from connector.store.facts import load_facts
from tests.builders import Entry, Workspace, client_table, kid

ISSUE = date(2026, 6, 1)
DUE = date(2026, 6, 15)
AS_OF = DUE + timedelta(days=14)  # reminder day of the default ladder
ITEM_KEYS = {
    "client",
    "invoice",
    "customer",
    "currency",
    "amount",
    "open_amount",
    "due_date",
    "state",
    "action",
    "holds",
    "evidence",
}
DECIMAL = re.compile(r"^-?\d+\.\d{2}$")


def two_clients(ws: Workspace) -> None:
    ws.write_config(client_table("acme"), client_table("beta"))
    ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="1000.00")
    ws.add_invoice("1002", issue=ISSUE, due=DUE, amount="250.50")
    ws.add_invoice("2001", client_id="beta", issue=ISSUE, due=DUE, amount="99.90", customer="Liten AS")
    ws.add_bank_file("camt054.xml", [Entry("R1", "1000.00", DUE, kid("1001"))], created=AS_OF)
    ws.bank_heartbeat(AS_OF, client_id="beta")


def test_reconcile_json_has_exactly_the_documented_shape(ws: Workspace) -> None:
    two_clients(ws)
    result, payload = ws.reconcile_json(AS_OF)
    assert result.exit_code == 0, result.output
    assert set(payload) == {"as_of", "items", "clients", "summary"}
    assert payload["as_of"] == AS_OF.isoformat()
    assert [(c["client"], c["status"], c["error"]) for c in payload["clients"]] == [
        ("acme", "ok", None),
        ("beta", "ok", None),
    ]
    assert payload["summary"] == {"ok": 2, "failed": 0, "stale": 0, "never": 0}
    assert len(payload["items"]) == 3
    for item in payload["items"]:
        assert set(item) == ITEM_KEYS
        assert isinstance(item["amount"], str) and DECIMAL.match(item["amount"])
        assert isinstance(item["open_amount"], str) and DECIMAL.match(item["open_amount"])
        assert item["due_date"] == DUE.isoformat()
        assert isinstance(item["holds"], list)
        assert all({"kind", "detail"} <= set(e) for e in item["evidence"])
    items = {i["invoice"]: i for i in payload["items"]}
    assert items["1001"] | {"evidence": None} == {
        "client": "acme",
        "invoice": "1001",
        "customer": "934567897",
        "currency": "NOK",
        "amount": "1000.00",
        "open_amount": "0.00",
        "due_date": DUE.isoformat(),
        "state": "settled",
        "action": "none",
        "holds": [],
        "evidence": None,
    }
    paid_by = [e for e in items["1001"]["evidence"] if e["kind"] == "kid"]
    assert len(paid_by) == 1 and paid_by[0]["amount"] == "1000.00"
    assert (items["1002"]["amount"], items["1002"]["action"]) == ("250.50", "reminder")
    assert (items["2001"]["client"], items["2001"]["holds"]) == ("beta", ["below_minimum"])


def test_reconcile_never_sends_anything(ws: Workspace) -> None:
    two_clients(ws)
    items = ws.items(AS_OF)
    assert items["1002"]["action"] == "reminder"
    assert ws.outbox_files(ws.reminders_dir()) == []
    assert ws.store.read(load_facts, "acme").steps == ()


def test_human_output_is_a_table_with_customer_names(ws: Workspace) -> None:
    two_clients(ws)
    result = ws.cli("reconcile", "--as-of", AS_OF.isoformat())
    assert result.exit_code == 0, result.output
    assert f"Decisions as of {AS_OF.isoformat()}" in result.stdout
    row = next(line for line in result.stdout.splitlines() if "2001" in line)
    assert "Liten AS" in row and "below_minimum" in row


def test_client_option_selects(ws: Workspace) -> None:
    two_clients(ws)
    _, payload = ws.reconcile_json(AS_OF, "--client", "beta")
    assert [i["invoice"] for i in payload["items"]] == ["2001"]
    _, payload = ws.reconcile_json(AS_OF, "--client", "beta", "--client", "acme")
    assert {i["client"] for i in payload["items"]} == {"acme", "beta"}


def test_unknown_client_exits_2(ws: Workspace) -> None:
    two_clients(ws)
    result = ws.cli("reconcile", "--as-of", AS_OF.isoformat(), "--client", "gamma")
    assert result.exit_code == 2
    assert "no client with id 'gamma' (clients: acme, beta)" in result.stderr
    assert result.stdout == ""
    typo = ws.cli("reconcile", "--as-of", AS_OF.isoformat(), "--client", "betta")
    assert typo.exit_code == 2 and "no client with id 'betta'; did you mean 'beta'?" in typo.stderr


def test_bad_date_is_a_usage_error(ws: Workspace) -> None:
    two_clients(ws)
    result = ws.cli("reconcile", "--as-of", "20.11.2026")
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.stderr


def test_one_failing_client_exits_1_and_the_other_is_still_printed(ws: Workspace) -> None:
    two_clients(ws)
    for f in ws.ehf_dir("acme").iterdir():
        f.unlink()
    ws.ehf_dir("acme").rmdir()

    result, payload = ws.reconcile_json(AS_OF)
    assert result.exit_code == 1
    assert {i["client"] for i in payload["items"]} == {"beta"}
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors and all(line.startswith("error: client acme: ") for line in errors)
    assert "ehf" in errors[0]


def test_no_sync_decides_on_what_is_stored(ws: Workspace) -> None:
    two_clients(ws)
    nothing_yet = ws.cli("reconcile", "--no-sync", "--as-of", AS_OF.isoformat())  # no store: refused, not made
    assert nothing_yet.exit_code == 2 and nothing_yet.stderr.startswith("error: no store at ")
    ws.cli("sync", "--as-of", AS_OF.isoformat())
    assert set(ws.items(AS_OF, "--no-sync")) == {"1001", "1002", "2001"}


def test_sync_reports_per_client(ws: Workspace) -> None:
    two_clients(ws)
    result = ws.cli("sync", "--as-of", AS_OF.isoformat())
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["acme: sync ok", "beta: sync ok", "2 clients: 2 ok, 0 failed, 0 stale"]


def test_disputes_open_and_resolve(ws: Workspace) -> None:
    two_clients(ws)
    assert ws.cli("sync", "--as-of", DUE.isoformat()).exit_code == 0
    opened = ws.cli(
        "disputes", "open", "--client", "acme", "1002", "--reason", "wrong hours", "--as-of", DUE.isoformat()
    )
    assert opened.exit_code == 0, opened.output
    dispute_id = re.search(r"dispute (\S+) opened", opened.stdout).group(1)  # type: ignore[union-attr]

    item = ws.items(AS_OF)["1002"]
    assert (item["state"], item["action"], item["holds"]) == ("disputed", "hold", ["disputed"])
    assert any("wrong hours" in e["detail"] for e in item["evidence"])
    assert "wrong hours" in ws.cli("disputes", "list").stdout
    assert ws.cli("run", "--as-of", AS_OF.isoformat()).exit_code == 0
    assert ws.outbox_files(ws.reminders_dir()) == []  # a disputed invoice gets no reminder

    resolved = ws.cli(
        "disputes", "resolve", "--client", "acme", dispute_id, "--note", "agreed", "--as-of", AS_OF.isoformat()
    )
    assert resolved.exit_code == 0, resolved.output
    item = ws.items(AS_OF)["1002"]
    assert (item["state"], item["action"]) == ("overdue", "reminder")
    again = ws.cli("disputes", "resolve", "--client", "acme", dispute_id)
    assert again.exit_code == 2  # already resolved


def test_a_second_dispute_on_a_disputed_invoice_is_refused_naming_the_open_one(ws: Workspace) -> None:
    two_clients(ws)
    assert ws.cli("sync", "--as-of", DUE.isoformat()).exit_code == 0
    day = ("--as-of", DUE.isoformat())
    first = ws.cli("disputes", "open", "--client", "acme", "1002", "--reason", "wrong hours", *day)
    dispute_id = re.search(r"dispute (\S+) opened", first.stdout).group(1)  # type: ignore[union-attr]
    again = ws.cli("disputes", "open", "--client", "acme", "1002", "--reason", "and the wrong price", *day)
    assert again.exit_code == 2
    assert again.stderr.splitlines() == [
        f"error: invoice 1002 of client 'acme' is already disputed: {dispute_id} (opened {DUE.isoformat()}: "
        "wrong hours); resolve it first to record another"
    ]
    assert [d.dispute_id for d in ws.store.read(load_facts, "acme").disputes] == [dispute_id]
    # so the invoice number still names the one dispute, and once it is resolved a new one may be opened
    assert ws.cli("disputes", "resolve", "--client", "acme", "1002").exit_code == 0
    assert ws.cli("disputes", "open", "--client", "acme", "1002", "--reason", "the price").exit_code == 0


def test_a_dispute_id_alone_names_its_client_an_invoice_number_does_not(ws: Workspace) -> None:
    two_clients(ws)
    assert ws.cli("sync", "--as-of", DUE.isoformat()).exit_code == 0
    opened = ws.cli("disputes", "open", "--client", "beta", "2001", "--reason", "never ordered")
    dispute_id = re.search(r"dispute (\S+) opened", opened.stdout).group(1)  # type: ignore[union-attr]
    by_number = ws.cli("disputes", "resolve", "2001")
    assert by_number.exit_code == 2 and "missing --client ID" in by_number.stderr
    resolved = ws.cli("disputes", "resolve", dispute_id)
    assert resolved.exit_code == 0, resolved.output
    assert resolved.stdout == f"dispute {dispute_id} on invoice 2001 resolved\n"
    assert not [d for d in ws.store.read(load_facts, "beta").disputes if d.is_open]
    again = ws.cli("disputes", "resolve", dispute_id)  # resolved: no longer names a client
    assert again.exit_code == 2 and f"'{dispute_id}' is no open dispute's id" in again.stderr


def test_confirming_a_mistyped_invoice_is_one_line(ws: Workspace) -> None:
    two_clients(ws)
    assert ws.cli("sync", "--as-of", DUE.isoformat()).exit_code == 0
    typo = ws.cli("invoices", "confirm", "acme", "10022", "--note", "checked")
    assert typo.exit_code == 2
    # as every command refuses: the error alone, no usage text (the command itself was typed right)
    assert typo.stderr.splitlines() == [
        "error: client 'acme' has no invoice '10022' in the store; check the number, or run `arsync sync`"
    ]


def test_dispute_on_a_mistyped_invoice_is_refused_unless_forced(ws: Workspace) -> None:
    two_clients(ws)
    assert ws.cli("sync", "--as-of", DUE.isoformat()).exit_code == 0
    typo = ws.cli("disputes", "open", "--client", "acme", "10022", "--reason", "wrong hours")
    assert typo.exit_code == 2
    assert "no invoice '10022'" in typo.stderr
    assert "No disputes." in ws.cli("disputes", "list").stdout
    forced = ws.cli("disputes", "open", "--client", "acme", "10022", "--reason", "wrong hours", "--force")
    assert forced.exit_code == 0, forced.output
    assert "10022" in ws.cli("disputes", "list").stdout


def test_disputes_for_an_unknown_client_exit_2(ws: Workspace) -> None:
    two_clients(ws)
    result = ws.cli("disputes", "open", "--client", "gamma", "1002", "--reason", "x")
    assert result.exit_code == 2
    assert "no client with id 'gamma'" in result.stderr


def test_case_commands_refuse_unknown_cases(ws: Workspace) -> None:
    two_clients(ws)
    assert ws.cli("cases", "approve", "acme-9999").exit_code == 2
    assert ws.cli("cases", "show", "acme-9999").exit_code == 2


def test_aging_report_csv(ws: Workspace) -> None:
    two_clients(ws)
    ws.cli("sync", "--as-of", AS_OF.isoformat())
    result = ws.cli("report", "aging", "--format", "csv", "--as-of", AS_OF.isoformat())
    assert result.exit_code == 0, result.output
    assert "250.50" in result.stdout and "99.90" in result.stdout


def test_workers_option_changes_speed_not_results(ws: Workspace) -> None:
    two_clients(ws)
    seq = ws.cli("reconcile", "--json", "--as-of", AS_OF.isoformat(), "--workers", "1")
    conc = ws.cli("reconcile", "--json", "--as-of", AS_OF.isoformat(), "--workers", "4")
    assert seq.exit_code == conc.exit_code == 0, conc.output
    assert seq.stdout == conc.stdout  # same decisions, same (client) order
    assert ws.cli("sync", "--as-of", AS_OF.isoformat(), "--workers", "0").exit_code == 2


def test_python_dash_m_offers_every_command_of_the_console_script() -> None:
    argv = [sys.executable, "-m", "connector.cli", "--help"]
    shown = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60).stdout
    listed = {line.split()[0] for line in shown.split("Commands:")[1].splitlines() if line.startswith("  ")}
    assert listed == set(COMMANDS)
    assert {"sync", "reconcile", "run", "cases", "agreements", "exclude", "check", "validate"} <= listed


@pytest.mark.parametrize("command", [["disputes", "list"], ["cases", "list"]])
def test_a_command_that_reads_the_store_starts_without_loading_the_pipeline(ws: Workspace, command: list[str]) -> None:
    """Each command's module is imported when it runs: listing disputes or cases must not pay for importing the
    sync, the engine and the letters (every command took ~1.7 s to start when all of them were imported)."""
    ws.write_config(client_table())
    assert ws.cli("sync", "--as-of", AS_OF.isoformat()).exit_code == 0
    script = (
        "import sys\n"
        "from connector.cli import main\n"
        f"main(['--config', {str(ws.config_path)!r}, *{command!r}], standalone_mode=False)\n"
        "print(sorted(m for m in ('connector.pipeline', 'connector.engine.slices', 'connector.letters') "
        "if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ws.root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


def test_a_mistyped_command_is_refused_with_the_command_meant(ws: Workspace) -> None:
    ws.write_config(client_table())
    typo = ws.cli("reconsile")
    assert typo.exit_code == 2
    assert "No such command 'reconsile'" in typo.stderr and "reconcile" in typo.stderr.split("Did you mean", 1)[-1]
