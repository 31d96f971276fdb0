"""The store's side of the hostile corpus (issue 13, items 2, 3 and 10): amounts in two currencies,
values no type can read, documents that contradict each other, and what a crashed outbox write leaves."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hostile_corpus import (
    LEFTOVER_STEM,
    ConflictCase,
    CurrencyCase,
    StoredValueCase,
    conflicting_documents,
    currency_mismatch,
    mixed_currency_invoice,
    outbox_leftovers,
    stored_values,
)

from connector.einvoice.document import EDocument
from connector.einvoice.read import DocumentError, read_document
from connector.model import Action, Dispute, DunningStep
from connector.store.disputes import add_dispute
from connector.store.facts import load_facts
from connector.store.sends import record_steps
from tests.builders import Entry, Workspace, client_table, kid, ubl_invoice

ISSUE, DUE = date(2026, 5, 1), date(2026, 5, 15)
LATE = date(2026, 6, 20)

# ---- amounts in two currencies (item 10) ---------------------------------------------------------------


@pytest.mark.parametrize("case", currency_mismatch(), ids=lambda c: f"{c.syntax} {c.element or 'BT-6 VAT'} {c.stated}")
def test_totals_in_another_currency_are_refused_and_named(case: CurrencyCase) -> None:
    data = mixed_currency_invoice(case)
    if case.refused:
        with pytest.raises(DocumentError) as refused:
            read_document(data, "7101.xml")
        message = str(refused.value)
        assert message.startswith("7101.xml: ") and case.element in message
        assert f"is in {case.stated} (currencyID) but the document's currency is NOK" in message
    else:
        doc = read_document(data, "7101.xml")
        assert isinstance(doc, EDocument) and (doc.payable, doc.currency) == (Decimal("1250.00"), "NOK")


def test_an_invoice_with_amounts_in_two_currencies_is_never_dunned(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    ws.add_invoice("7100", issue=ISSUE, due=DUE, amount="800.00")
    assert ws.cli("sync", "--as-of", ISSUE.isoformat()).exit_code == 0
    (ws.ehf_dir() / "7101.xml").write_bytes(mixed_currency_invoice(CurrencyCase("ubl", "PayableAmount", "EUR", True)))
    ws.bank_heartbeat(LATE)
    result = ws.cli("run", "--as-of", LATE.isoformat())
    assert "7101.xml: " in result.output and "PayableAmount is in EUR (currencyID)" in result.output
    items = ws.items(LATE, "--no-sync")
    assert "7101" not in items  # not stored: no amount of it is trusted
    assert not any("7101" in name for name in ws.outbox_files(ws.reminders_dir()))
    # 7101.xml cannot change 7100 (another number, not a credit note), so 7100's ladder goes on (issue 14);
    # the file waits in the accountant's list with the mismatch named until it is fixed or quarantined.
    assert "unreadable_document" not in items["7100"]["holds"]
    listed = ws.cli("files", "list")
    assert "7101.xml" in listed.output and "PayableAmount is in EUR" in listed.output, listed.output


# ---- values no type can read (item 3) ---------------------------------------------------------------


@pytest.fixture
def book(ws: Workspace) -> Workspace:
    """1001 paid by R1 (KID); 1002 overdue, reminded once, with a resolved dispute: a row in every table."""
    ws.write_config(client_table("acme"))
    ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="1000.00")
    ws.add_invoice("1002", issue=ISSUE, due=DUE, amount="500.00")
    paid = date(2026, 6, 1)
    ws.add_bank_file("camt-1.xml", [Entry("R1", "1000.00", paid, kid("1001"))], created=paid)
    ws.bank_heartbeat(LATE)
    assert ws.cli("sync", "--as-of", LATE.isoformat()).exit_code == 0
    with ws.store.transaction() as conn:
        record_steps(conn, [DunningStep("acme", "1002", Action.REMINDER, DUE + timedelta(days=20), "outbox")])
        settled = Dispute(
            "acme", "1002", "d1", date(2026, 6, 1), "asked for a copy", "manual", date(2026, 6, 2), "sent"
        )
        add_dispute(conn, settled)
    return ws


def _poke(ws: Workspace, case: StoredValueCase) -> None:
    ws.close()
    ws._store = None
    with sqlite3.connect(ws.root / "state" / "arsync.db") as raw:
        changed = raw.execute(f"UPDATE {case.table} SET {case.column} = ? WHERE {case.where}", (case.value,))
        assert changed.rowcount == 1, case


@pytest.mark.parametrize("case", stored_values(), ids=lambda c: f"{c.table}.{c.column}={c.value[:12]}")
def test_a_value_no_type_can_read_skips_its_row_and_the_client_runs_on(book: Workspace, case: StoredValueCase) -> None:
    _poke(book, case)
    facts = book.store.read(load_facts, "acme")  # reading never dies on a stored value
    assert [(u.table, u.column) for u in facts.unreadable_rows] == [(case.table, case.column)]
    result = book.cli("run", "--as-of", LATE.isoformat())
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    items = book.items(LATE, "--no-sync")
    if case.table == "invoices":
        assert "1002" not in items  # an invoice that cannot be read is left out: never dunned
    if case.table == "sync_state":
        assert "unreadable_document" not in items["1002"]["holds"]  # the next sync wrote a good row over it
    elif case.holds is not None:
        assert case.holds in items[case.held]["holds"] and items[case.held]["action"] != "reminder"


# ---- documents that contradict each other (item 2) ------------------------------------------------------


@pytest.mark.parametrize("case", conflicting_documents(), ids=lambda c: c.name)
def test_a_second_document_of_a_number_is_held_only_when_it_claims_something_else(
    ws: Workspace, case: ConflictCase
) -> None:
    ws.write_config(client_table("acme"))
    ws.bank_heartbeat(LATE)
    first = {"issue": ISSUE, "due": DUE, "amount": "1000.00"}
    (ws.ehf_dir() / "a-1001.xml").write_text(ubl_invoice("1001", **first), encoding="utf-8")  # type: ignore[arg-type]
    assert ws.items(LATE)["1001"]["action"] == "reminder"
    second = ubl_invoice("1001", **{**first, **case.changes}) + "<!-- delivered again -->\n"  # type: ignore[arg-type]
    (ws.ehf_dir() / "b-1001.xml").write_text(second, encoding="utf-8")
    item = ws.items(LATE)["1001"]
    assert item["amount"] == "1000.00" and item["due_date"] == DUE.isoformat()  # the first is kept
    if case.conflict:
        assert "conflicting_document" in item["holds"] and item["action"] == "review"
    else:
        assert item["holds"] == [] and item["action"] == "reminder"


# ---- what a crashed outbox write leaves (item 10) ---------------------------------------------------------


def test_temp_files_of_a_crashed_outbox_write_are_removed_on_the_next_run(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="1000.00")
    ws.bank_heartbeat(LATE)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    cases = outbox_leftovers(int(dead.stdout), os.getpid())
    folder = ws.reminders_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for case in cases:
        path = folder / case.name
        path.write_bytes(b"half a lett")
        then = time.time() - case.age_seconds
        os.utime(path, (then, then))
    assert ws.cli("run", "--as-of", LATE.isoformat()).exit_code == 0
    left = {p.name for p in Path(folder).iterdir()}
    assert {c.name for c in cases if not c.removed} <= left
    assert not {c.name for c in cases if c.removed} & left
    assert f"{LEFTOVER_STEM}.pdf" in left  # and the reminder itself was written whole
