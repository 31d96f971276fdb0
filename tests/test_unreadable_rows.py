"""Reading never dies on a stored value (issue 13, item 3, the store's part): a row no type can read is
skipped and named (table, key, column), the client still runs, and what the row could have changed is held.

The bad values are written behind the store's back, as an older arsync (before amounts were checked at
the door) or a hand edit would have left them.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from connector.model import Case, CaseStatus
from connector.store.cases import add_case_event, load_cases, propose_case
from connector.store.facts import load_facts
from tests.builders import Entry, Workspace, client_table, kid

ISSUE, DUE = date(2026, 5, 1), date(2026, 5, 15)
LATE = date(2026, 6, 20)


@pytest.fixture
def acme(ws: Workspace) -> Workspace:
    ws.write_config(client_table("acme"))
    for number in ("1001", "1002", "1003"):
        ws.add_invoice(number, issue=ISSUE, due=DUE, amount="1000.00")
    ws.add_bank_file("camt-1.xml", [Entry("R1", "1000.00", date(2026, 6, 1), kid("1003"))], created=date(2026, 6, 1))
    ws.bank_heartbeat(LATE)
    items = ws.items(LATE)
    assert [items[n]["action"] for n in ("1001", "1002")] == ["reminder", "reminder"]
    assert items["1003"]["state"] == "settled"
    return ws


def _poke(ws: Workspace, sql: str) -> None:
    database = ws.settings().store.url.removeprefix("sqlite:///")
    path = Path(database) if Path(database).is_absolute() else ws.root / database
    with sqlite3.connect(path) as raw:
        assert raw.execute(sql).rowcount == 1
    ws.close()
    ws._store = None


def test_an_absurd_stored_amount_skips_its_invoice_and_the_client_runs_on(acme: Workspace) -> None:
    _poke(acme, "UPDATE invoices SET amount = '1E+30' WHERE number = '1002'")
    facts = acme.store.read(load_facts, "acme")  # before: decimal.InvalidOperation, no row named
    assert sorted(i.number for i in facts.invoices) == ["1001", "1003"]
    [bad] = facts.unreadable_rows
    assert (bad.table, bad.key, bad.column) == ("invoices", "kind=invoice, number=1002", "amount")
    assert "'1E+30'" in bad.problem

    result = acme.cli("run", "--as-of", LATE.isoformat())
    assert result.exit_code == 0, result.output
    assert "invoices row (kind=invoice, number=1002) cannot be read: amount" in result.output
    assert "reminder for invoice 1001" in result.output  # the rest goes on
    assert "1002" not in acme.items(LATE)


def test_an_unreadable_payment_holds_the_clients_dunning(acme: Workspace) -> None:
    _poke(acme, "UPDATE payments SET amount = '123456789012345678901234567890' WHERE bank_ref = 'R1'")
    result = acme.cli("run", "--as-of", LATE.isoformat())
    assert result.exit_code == 0, result.output
    items = acme.items(LATE)
    for number in ("1001", "1002", "1003"):  # 1003's payment is unknown now: nobody is reminded meanwhile
        assert "bank_data_stale" in items[number]["holds"], number
    [evidence] = [e for e in items["1003"]["evidence"] if "payments row" in e["detail"]]
    assert "amount: '123456789012345678901234567890'" in evidence["detail"]
    assert not acme.outbox_files(acme.reminders_dir())


def test_an_unreadable_dispute_or_step_holds_its_invoice_only(acme: Workspace) -> None:
    acme.cli("disputes", "open", "acme", "1001", "--reason", "wrong amount", "--as-of", LATE.isoformat())
    _poke(acme, "UPDATE disputes SET opened_on = 'yesterday' WHERE invoice_number = '1001'")
    items = acme.items(LATE)
    assert "unreadable_document" in items["1001"]["holds"] and items["1001"]["action"] != "reminder"
    assert items["1002"]["action"] == "reminder"
    [bad] = acme.store.read(load_facts, "acme").unreadable_rows
    assert (bad.table, bad.column, bad.invoice_number) == ("disputes", "opened_on", "1001")


def test_a_case_with_an_unreadable_event_is_left_out_and_its_invoice_held(acme: Workspace) -> None:
    amount = Decimal("1000.00")
    case = Case("acme-1002", "acme", "1002", "934567897", "NOK", amount, amount, CaseStatus.PROPOSED, LATE)
    with acme.store.transaction() as conn:
        propose_case(conn, case, at=acme.store.now())
        add_case_event(conn, "acme", "acme-1002", CaseStatus.PUSHED, LATE, "pushed", at=acme.store.now())
    _poke(acme, "UPDATE case_events SET status = 'sent-somewhere' WHERE status = 'pushed'")
    assert acme.store.read(load_cases, ["acme"]) == []  # a wrong status could push it again: left out
    items = acme.items(LATE)
    assert "unreadable_document" in items["1002"]["holds"] and items["1002"]["action"] != "reminder"


def test_a_new_delivery_of_the_document_repairs_its_unreadable_row(acme: Workspace) -> None:
    _poke(acme, "UPDATE invoices SET due_date = 'soon' WHERE number = '1002'")
    assert "1002" not in acme.items(LATE)
    (acme.ehf_dir() / "1002.xml").write_text(
        (acme.ehf_dir() / "1002.xml").read_text(encoding="utf-8") + "<!-- again -->\n", encoding="utf-8"
    )
    item = acme.items(LATE)["1002"]
    assert item["action"] == "reminder" and item["due_date"] == DUE.isoformat()
