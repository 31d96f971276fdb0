"""Issue 17 item 1: a failed or stale client never looks like a client with nothing owed — in the
decision table, --json, the aging report in every format and the run summary."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

from tests.builders import Entry, Workspace, client_table, kid

ISSUE = date(2026, 6, 1)
DUE = date(2026, 6, 15)
AS_OF = DUE + timedelta(days=14)


def tripletex_client(client_id: str) -> dict[str, object]:
    ledger = {"kind": "tripletex", "consumer_token_env": "TT_CONSUMER", "employee_token_env": "TT_EMPLOYEE"}
    return client_table(client_id, ledger=ledger)


def setup(ws: Workspace) -> None:
    """acme reads fine; beta's Tripletex secrets are not set; gamma's bank files are a month old."""
    ws.write_config(client_table("acme"), tripletex_client("beta"), client_table("gamma"))
    ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="1000.00")
    ws.add_bank_file("camt054.xml", [Entry("R1", "1000.00", DUE, kid("1001"))], created=AS_OF)
    ws.add_invoice("3001", client_id="gamma", issue=ISSUE, due=DUE, amount="500.00")
    ws.bank_heartbeat(AS_OF - timedelta(days=30), client_id="gamma")


def test_every_client_failing_is_never_reported_as_nothing_owed(ws: Workspace) -> None:
    ws.write_config(tripletex_client("beta"))
    result = ws.cli("reconcile", "--as-of", AS_OF.isoformat())
    assert result.exit_code == 1
    assert "No open or recently settled invoices" not in result.stdout
    lines = result.stdout.splitlines()
    assert lines[0].startswith("beta: NO DATA — ledger sync failed: secrets not set: TT_CONSUMER")
    assert lines[0].endswith("(never synced)")
    assert "from the clients that could be read" in result.stdout
    assert lines[-1] == "1 client: 0 ok, 1 failed, 0 stale"


def test_table_names_failed_and_stale_clients_and_counts_them(ws: Workspace) -> None:
    setup(ws)
    result = ws.cli("reconcile", "--as-of", AS_OF.isoformat())
    assert result.exit_code == 1
    out = result.stdout.splitlines()
    assert any(line.startswith("beta: NO DATA — ledger sync failed: ") for line in out)
    stale = next(line for line in out if line.startswith("gamma: "))
    assert "STALE DATA" in stale and "older than 3 days" in stale
    assert out[-1] == "3 clients: 1 ok, 1 failed, 1 stale"


def test_json_has_a_clients_list_with_status_and_error_and_keeps_items(ws: Workspace) -> None:
    setup(ws)
    result = ws.cli("reconcile", "--json", "--as-of", AS_OF.isoformat())
    payload = json.loads(result.stdout)
    assert {i["invoice"] for i in payload["items"]} == {"1001", "3001"}
    clients = {c["client"]: c for c in payload["clients"]}
    assert (clients["acme"]["status"], clients["acme"]["error"]) == ("ok", None)
    assert clients["beta"]["status"] == "failed" and "TT_CONSUMER" in clients["beta"]["error"]
    assert clients["beta"]["since"] is None  # never synced
    assert clients["gamma"]["status"] == "stale" and "bank data" in clients["gamma"]["error"]
    assert payload["summary"] == {"ok": 1, "failed": 1, "stale": 1, "never": 0}


def test_failed_since_names_the_last_good_sync(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    ws.bank_heartbeat(AS_OF)
    assert ws.cli("sync", "--as-of", AS_OF.isoformat()).exit_code == 0
    ws.ehf_dir("acme").rmdir()  # the access point's folder went away
    result = ws.cli("reconcile", "--json", "--as-of", AS_OF.isoformat())
    acme = json.loads(result.stdout)["clients"][0]
    assert acme["status"] == "failed" and "folder not found" in acme["error"]
    assert acme["since"] is not None  # the last good sync
    text = ws.cli("reconcile", "--as-of", AS_OF.isoformat()).stdout
    assert "acme: NO DATA — ledger sync failed: " in text and "(since 20" in text


def test_aging_in_every_format_shows_failed_and_stale_clients(ws: Workspace) -> None:
    setup(ws)
    ws.cli("sync", "--as-of", AS_OF.isoformat())
    table = ws.cli("report", "aging", "--as-of", AS_OF.isoformat())
    assert table.exit_code == 0, table.output
    assert "beta: NO DATA — ledger sync failed" in table.stdout and "gamma: STALE DATA" in table.stdout
    assert table.stdout.rstrip().endswith("3 clients: 1 ok, 1 failed, 1 stale")

    rows = list(
        csv.DictReader(io.StringIO(ws.cli("report", "aging", "--format", "csv", "--as-of", AS_OF.isoformat()).stdout))
    )
    beta = [r for r in rows if r["client"] == "beta"]
    assert len(beta) == 1 and beta[0]["total"] == "" and beta[0]["data"].startswith("NO DATA")
    assert all(r["data"].startswith("STALE DATA") for r in rows if r["client"] == "gamma")

    html = ws.cli("report", "aging", "--format", "html", "--as-of", AS_OF.isoformat()).stdout
    assert 'class="nodata"' in html and "beta: NO DATA" in html and "1 failed" in html

    data = json.loads(ws.cli("report", "aging", "--json", "--as-of", AS_OF.isoformat()).stdout)
    assert {c["client"]: c["status"] for c in data["clients"]} == {"acme": "ok", "beta": "failed", "gamma": "stale"}


def test_sync_summary_counts_clients(ws: Workspace) -> None:
    setup(ws)
    result = ws.cli("sync", "--as-of", AS_OF.isoformat())
    assert result.exit_code == 1
    assert "beta: sync FAILED — ledger: secrets not set: TT_CONSUMER" in result.stdout
    assert result.stdout.splitlines()[-1] == "3 clients: 1 ok, 1 failed, 1 stale"


def test_a_client_whose_bank_file_does_not_read_is_not_counted_ok(ws: Workspace) -> None:
    """An unreadable bank file may hold the payment of any invoice, so it holds the client's dunning
    (``bank_data_stale``): the client is stale in the run's lines, its --json status and the summary, as
    in every other view of it, until the file reads or is quarantined."""
    ws.write_config(client_table("acme"))
    ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="1000.00")
    ws.bank_heartbeat(AS_OF)
    broken = ws.bank_dir() / "camt054-truncated.xml"
    broken.write_text('<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"><Bk')
    result = ws.cli("run", "--as-of", AS_OF.isoformat())
    assert result.exit_code == 0, result.output  # the run went on: nothing failed
    lines = result.stdout.splitlines()
    assert lines[0].startswith("acme: STALE DATA — ") and "camt054-truncated.xml" in lines[0]
    assert lines[-1] == "1 client: 0 ok, 0 failed, 1 stale"
    payload = json.loads(ws.cli("reconcile", "--no-sync", "--json", "--as-of", AS_OF.isoformat()).stdout)
    [acme] = payload["clients"]
    assert acme["status"] == "stale" and "camt054-truncated.xml" in acme["error"]
    assert payload["summary"] == {"ok": 0, "failed": 0, "stale": 1, "never": 0}
    assert [i["holds"] for i in payload["items"]] == [["bank_data_stale"]]
    aging = json.loads(ws.cli("report", "aging", "--json", "--as-of", AS_OF.isoformat()).stdout)
    assert [c["status"] for c in aging["clients"]] == ["stale"]

    why = "the bank re-sent the day's file whole"
    assert ws.cli("files", "quarantine", "acme", str(broken), "--reason", why).exit_code == 0
    again = ws.cli("reconcile", "--no-sync", "--as-of", AS_OF.isoformat())
    assert again.stdout.splitlines()[-1] == "1 client: 1 ok, 0 failed, 0 stale"
