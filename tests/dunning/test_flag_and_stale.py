"""Through the real pipeline: a short payment after the buyer's complaint opens a dispute by itself,
and a failed (or too old) ledger sync holds every reminder as ``ledger_stale`` until a good sync."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import date
from typing import Any

import pytest

from connector.engine import slices
from connector.model import Action
from connector.store.facts import load_facts
from tests.builders import Entry, Workspace, client_table, kid, wait_for_no_other_threads

DUE = date(2026, 1, 5)
COMPLAINT = date(2026, 1, 8)
PAID = date(2026, 1, 12)
DAY = date(2026, 1, 19)  # the default ladder's reminder day


def _short_payment_disputes(ws: Workspace) -> list[tuple[str, str, bool]]:
    return [
        (d.invoice_number, d.reason, d.is_open)
        for d in ws.store.read(load_facts, "acme").disputes
        if d.source == "short_payment"
    ]


def _complaint_then_short_payment(ws: Workspace, number: str = "7001") -> None:
    ws.write_config(client_table())
    ws.add_invoice(number, issue=date(2025, 12, 22), due=DUE, amount="10000.00")
    assert ws.cli("sync", "--as-of", COMPLAINT.isoformat()).exit_code == 0
    opened = ws.cli(
        "disputes",
        "open",
        "--client",
        "acme",
        number,
        "--reason",
        "phone: two of ten chairs broken",
        "--as-of",
        COMPLAINT.isoformat(),
    )
    assert opened.exit_code == 0, opened.output
    dispute_id = opened.output.split()[1]
    resolved = ws.cli(
        "disputes", "resolve", "--client", "acme", dispute_id, "--note", "credit note promised", "--as-of", "2026-01-09"
    )
    assert resolved.exit_code == 0, resolved.output
    ws.add_bank_file("camt-paid.xml", [Entry("P-1", "8000.00", PAID, kid=kid(number))], created=PAID)


def test_short_payment_after_a_complaint_opens_a_dispute_and_holds(ws: Workspace) -> None:
    _complaint_then_short_payment(ws)
    for _ in range(2):  # a second run finds the same dispute, it opens no other
        ws.bank_heartbeat(DAY)
        result = ws.cli("run", "--as-of", DAY.isoformat())
        assert result.exit_code == 0, result.output
    [(invoice, reason, is_open)] = _short_payment_disputes(ws)
    assert invoice == "7001" and is_open
    assert "short payment of 8000.00 NOK" in reason and "2000.00 NOK left unpaid" in reason
    assert "phone: two of ten chairs broken" in reason  # the complaint it rests on
    item = ws.items(DAY, "--no-sync")["7001"]
    assert item["state"] == "disputed" and "disputed" in item["holds"] and item["open_amount"] == "2000.00"
    assert ws.store.read(load_facts, "acme").steps == ()  # no reminder for the disputed rest


def test_resolved_short_payment_dispute_is_not_reopened(ws: Workspace) -> None:
    _complaint_then_short_payment(ws)
    ws.bank_heartbeat(DAY)
    assert ws.cli("run", "--as-of", DAY.isoformat()).exit_code == 0
    done = ws.cli(
        "disputes",
        "resolve",
        "--client",
        "acme",
        "short-payment-7001",
        "--note",
        "rest is owed",
        "--as-of",
        DAY.isoformat(),
    )
    assert done.exit_code == 0, done.output
    nxt = date(2026, 1, 20)
    ws.bank_heartbeat(nxt)
    result = ws.cli("run", "--as-of", nxt.isoformat())
    assert result.exit_code == 0, result.output
    assert [open_ for *_, open_ in _short_payment_disputes(ws)] == [False]
    item = ws.items(nxt, "--no-sync")["7001"]
    assert "disputed" not in item["holds"] and item["state"] == "overdue"


def test_short_payment_without_a_complaint_is_no_dispute(ws: Workspace) -> None:
    ws.write_config(client_table())
    ws.add_invoice("7002", issue=date(2025, 12, 22), due=DUE, amount="10000.00")
    ws.add_bank_file("camt-paid.xml", [Entry("P-2", "8000.00", PAID, kid=kid("7002"))], created=PAID)
    ws.bank_heartbeat(DAY)
    assert ws.cli("run", "--as-of", DAY.isoformat()).exit_code == 0
    assert _short_payment_disputes(ws) == []
    item = ws.items(DAY, "--no-sync")["7002"]  # a plain partial payment: a person confirms the rest
    assert item["state"] == "overdue" and "disputed" not in item["holds"] and item["open_amount"] == "2000.00"


def test_payment_before_the_complaint_is_no_short_payment_dispute(ws: Workspace) -> None:
    ws.write_config(client_table())
    ws.add_invoice("7003", issue=date(2025, 12, 22), due=DUE, amount="10000.00")
    ws.add_bank_file(
        "camt-paid.xml", [Entry("P-3", "8000.00", date(2026, 1, 6), kid=kid("7003"))], created=date(2026, 1, 6)
    )
    assert ws.cli("sync", "--as-of", "2026-01-07").exit_code == 0
    opened = ws.cli(
        "disputes", "open", "--client", "acme", "7003", "--reason", "late complaint", "--as-of", COMPLAINT.isoformat()
    )
    assert opened.exit_code == 0
    ws.bank_heartbeat(DAY)
    assert ws.cli("run", "--as-of", DAY.isoformat()).exit_code == 0
    assert _short_payment_disputes(ws) == []


# ---- ledger_stale through the pipeline -------------------------------------------------------------


def test_failed_ledger_sync_holds_as_ledger_stale_until_a_good_sync(ws: Workspace) -> None:
    ws.write_config(client_table())
    ws.add_invoice("7010", issue=date(2025, 12, 22), due=DUE, amount="10000.00")
    ws.bank_heartbeat(date(2026, 1, 10))
    assert ws.cli("run", "--as-of", "2026-01-10").exit_code == 0  # a good sync; not yet reminder day

    hidden = ws.ehf_dir().rename(ws.ehf_dir().with_name("ehf-away"))  # the ledger source fails
    ws.bank_heartbeat(DAY)
    failed = ws.cli("run", "--as-of", DAY.isoformat())
    assert failed.exit_code == 1 and "folder not found" in failed.stderr
    assert ws.store.read(load_facts, "acme").steps == ()
    _result, payload = ws.reconcile_json(DAY, "--no-sync")
    [item] = payload["items"]
    assert item["action"] == "hold" and "ledger_stale" in item["holds"]
    assert any("the last ledger sync failed" in e["detail"] for e in item["evidence"])

    hidden.rename(ws.ehf_dir())  # the ledger reads again: the hold is released, the reminder goes
    ok = ws.cli("run", "--as-of", DAY.isoformat())
    assert ok.exit_code == 0, ok.output
    assert [(s.invoice_number, s.step) for s in ws.store.read(load_facts, "acme").steps] == [("7010", Action.REMINDER)]


def test_old_ledger_sync_is_ledger_stale(ws: Workspace) -> None:
    ws.write_config(client_table())
    ws.add_invoice("7011", issue=date(2025, 12, 22), due=DUE, amount="10000.00")
    ws.bank_heartbeat(date(2026, 1, 10))
    assert ws.cli("sync", "--as-of", "2026-01-10").exit_code == 0
    ws.bank_heartbeat(DAY)
    item = ws.items(DAY, "--no-sync")["7011"]  # last good ledger sync 9 days ago (max 2)
    assert "ledger_stale" in item["holds"]
    assert any("too old" in e["detail"] for e in item["evidence"])


def test_a_client_too_big_for_one_slice_is_flagged_and_decided_in_two_processes_by_the_nightly_run(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three customers, slices of one (SLICE_DOCUMENTS lowered): ``arsync run`` fetches on threads, so the
    fetches settle before the slices fork; the short payment is flagged from whichever process matched it."""
    monkeypatch.setattr(slices, "SLICE_DOCUMENTS", 2)
    threads_at_fork: list[int] = []
    real_run = slices._Parallel.run

    def run(self: Any, *args: Any) -> Any:
        threads_at_fork.append(threading.active_count())
        yield from real_run(self, *args)

    monkeypatch.setattr(slices._Parallel, "run", run)
    _complaint_then_short_payment(ws)
    for number, name, org in (("7002", "Bord AS", "923456783"), ("7003", "Stol AS", "912345670")):
        ws.add_invoice(number, customer=name, org=org, issue=date(2025, 12, 22), due=DUE, amount="500.00")
    ws.bank_heartbeat(DAY)
    wait_for_no_other_threads()
    result = ws.cli("run", "--as-of", DAY.isoformat())
    assert result.exit_code == 0, result.output
    assert threads_at_fork and threads_at_fork[0] > 1  # the fetch pool was there: it was settled, not avoided
    [(invoice, reason, is_open)] = _short_payment_disputes(ws)
    assert invoice == "7001" and is_open and "2000.00 NOK left unpaid" in reason
    items = ws.items(DAY, "--no-sync")
    assert items["7001"]["state"] == "disputed" and items["7001"]["open_amount"] == "2000.00"
    assert {n: items[n]["state"] for n in ("7002", "7003")} == {"7002": "overdue", "7003": "overdue"}
    assert not multiprocessing.active_children()
