"""A second document with a stored invoice number and other content never replaces the invoice (issue 13,
item 2): the first is kept, the invoice is held ``conflicting_document`` with both files named, and the
hold lifts when the conflict is resolved.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.model import DocKind, Invoice
from connector.store import Store
from connector.store.conflicts import open_conflicts, quarantine_document, store_invoices
from connector.store.facts import load_facts
from connector.store.ledger import load_attachments
from tests.builders import Workspace, client_table, pdf_bytes, ubl_invoice

ISSUE, DUE = date(2026, 5, 1), date(2026, 5, 15)
LATE = date(2026, 6, 20)  # overdue: a reminder is due unless something holds it
AT = datetime(2026, 6, 20, 6, 0, tzinfo=UTC)


def _file(ws: Workspace, name: str, number: str, amount: str, **kw: Any) -> None:
    (ws.ehf_dir() / name).write_text(ubl_invoice(number, issue=ISSUE, due=DUE, amount=amount, **kw), encoding="utf-8")


@pytest.fixture
def acme(ws: Workspace) -> Workspace:
    ws.write_config(client_table("acme"))
    ws.bank_heartbeat(LATE)
    return ws


def test_a_second_document_with_other_content_is_refused_held_and_reported(acme: Workspace) -> None:
    _file(acme, "a-1001.xml", "1001", "1000.00", pdf=pdf_bytes("the real one"))
    assert acme.items(LATE)["1001"]["action"] == "reminder"
    _file(acme, "b-1001.xml", "1001", "1200.00", customer="Annen Kunde AS", org="923456791", pdf=pdf_bytes("forged"))

    result = acme.cli("run", "--as-of", LATE.isoformat())
    item = acme.items(LATE)["1001"]

    assert "conflicting document: invoice 1001: b-1001.xml carries the number" in result.output
    assert item["amount"] == "1000.00" and item["open_amount"] == "1000.00"  # the first is kept
    assert "conflicting_document" in item["holds"] and item["action"] == "review"
    [evidence] = [e for e in item["evidence"] if e["detail"].startswith("conflicting_document")]
    assert "b-1001.xml" in evidence["detail"] and "a-1001.xml" in evidence["detail"]
    assert "amount 1000.00 / 1200.00" in evidence["detail"] and "customer" in evidence["detail"]
    assert not acme.outbox_files(acme.reminders_dir())  # no reminder on a contested invoice
    [pdf] = acme.store.read(load_attachments, "acme", "1001")
    assert pdf.content == pdf_bytes("the real one")  # the refused document's copy never joins the invoice


def test_an_identical_redelivery_is_a_no_op(acme: Workspace) -> None:
    _file(acme, "a-1001.xml", "1001", "1000.00")
    acme.items(LATE)
    resent = ubl_invoice("1001", issue=ISSUE, due=DUE, amount="1000.00") + "<!-- sent again -->\n"
    (acme.ehf_dir() / "copy-of-1001.xml").write_text(resent, encoding="utf-8")  # other bytes, same content
    item = acme.items(LATE)["1001"]
    assert item["holds"] == [] and item["action"] == "reminder"
    assert list(acme.store.read(open_conflicts, "acme")) == []


def test_the_hold_lifts_when_the_refused_file_is_removed(acme: Workspace) -> None:
    _file(acme, "a-1001.xml", "1001", "1000.00")
    acme.items(LATE)
    _file(acme, "b-1001.xml", "1001", "1200.00")
    assert "conflicting_document" in acme.items(LATE)["1001"]["holds"]
    (acme.ehf_dir() / "b-1001.xml").unlink()
    item = acme.items(LATE)["1001"]
    assert item["holds"] == [] and item["amount"] == "1000.00"


def test_quarantining_the_kept_file_makes_the_other_the_invoice(acme: Workspace) -> None:
    _file(acme, "a-1001.xml", "1001", "1000.00")
    acme.items(LATE)
    _file(acme, "b-1001.xml", "1001", "1200.00")
    acme.items(LATE)
    with acme.store.transaction() as conn:
        assert quarantine_document(conn, "acme", "a-1001.xml", "sent by mistake", by="cli:ann", on=LATE, at=AT) == 1
    item = acme.items(LATE)["1001"]
    assert item["holds"] == [] and item["amount"] == "1200.00"
    [invoice] = acme.store.read(load_facts, "acme").invoices
    assert invoice.source_ref == "b-1001.xml"


def test_two_documents_of_one_number_in_one_batch_keep_the_first(acme: Workspace) -> None:
    _file(acme, "a-1001.xml", "1001", "1000.00")
    _file(acme, "b-1001.xml", "1001", "1200.00")
    item = acme.items(LATE)["1001"]
    assert item["amount"] == "1000.00" and "conflicting_document" in item["holds"]


# ---- API ledgers: versions of one object ----------------------------------------------------------------


def _api(number: str, customer: str, amount: str, ref: str = "inv-77") -> Invoice:
    return Invoice(
        "acme", number, DocKind.INVOICE, customer, ISSUE, DUE, "NOK", Decimal(amount), "tripletex", source_ref=ref
    )


def test_an_api_ledgers_newer_version_is_an_update_but_a_new_customer_is_a_conflict(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/a.db")
    with store.transaction() as conn:
        assert store_invoices(conn, "acme", [_api("1001", "c1", "1000.00")], at=AT).conflicts == []
        # the system corrected its own invoice (same id, newer version): an update
        assert store_invoices(conn, "acme", [_api("1001", "c1", "900.00")], at=AT).conflicts == []
        # the same number moved to another customer: a conflict, the stored one is kept
        [moved] = store_invoices(conn, "acme", [_api("1001", "c2", "900.00")], at=AT).conflicts
        # another object of the ledger with the number: a conflict too
        [other] = store_invoices(conn, "acme", [_api("1001", "c1", "950.00", ref="inv-78")], at=AT).conflicts
    assert "customer c1 / c2" in moved.differences and moved.kept_ref == moved.other_ref == "inv-77"
    assert other.other_ref == "inv-78" and "amount 900.00 / 950.00" in other.differences
    [invoice] = store.read(load_facts, "acme").invoices
    assert (invoice.customer_id, invoice.amount) == ("c1", Decimal("900.00"))
    with store.transaction() as conn:  # the ledger moves it back: that conflict resolves itself
        assert store_invoices(conn, "acme", [_api("1001", "c1", "900.00")], at=AT).resolved
    assert [c.other_ref for c in store.read(open_conflicts, "acme")] == ["inv-78"]
    store.close()


def _work_to_store_a_part(tmp_path: Path, stored_before: int) -> int:
    """SQLite's work (in units of 1,000 virtual machine steps) to store 200 new invoices, and one again, for
    a client with ``stored_before`` invoices already stored in the same sync."""
    store = Store(f"sqlite:///{tmp_path}/{stored_before}.db")
    steps = [0]
    with store.transaction() as conn:
        store_invoices(conn, "acme", [_api(str(i), "c1", "100.00", f"r{i}") for i in range(stored_before)], at=AT)
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.set_progress_handler(lambda: steps.__setitem__(0, steps[0] + 1) or 0, 1000)
        part = [_api(str(stored_before + i), "c1", "100.00", f"r{stored_before + i}") for i in range(200)]
        part.append(_api("7", "c1", "100.00", "r7"))  # one stored before: found and compared
        assert store_invoices(conn, "acme", part, at=AT).conflicts == []
        raw.set_progress_handler(None, 0)
    store.close()
    return steps[0]


def test_storing_a_part_costs_the_same_however_many_invoices_the_client_has(tmp_path: Path) -> None:
    """A folder of a million invoices is stored 5,000 at a time: each part looks up only its own numbers.
    Looked up without the kind, every part scanned all the invoices stored so far (quadratic in the folder)."""
    small, large = _work_to_store_a_part(tmp_path, 500), _work_to_store_a_part(tmp_path, 20_000)
    assert large < 2 * small, (small, large)


def test_the_same_invoice_with_its_account_as_iban_and_as_bban_is_no_conflict(ws: Workspace) -> None:
    """The BIS 3 Norwegian example and the EHF 3.0 example are one invoice (TOSL108); the one writes the payee
    account as NO9386011117947, the other as 86011117947: the same account, so no conflicting document."""
    corpus = Path(__file__).resolve().parents[1] / ".." / "shared" / "testdata" / "peppol"
    bis, ehf = corpus / "bis3" / "Norwegian-example-1.xml", corpus / "ehf" / "ehf-3-faktura-1.xml"
    if not (bis.is_file() and ehf.is_file()):
        pytest.skip(f"shared test corpus not found: {corpus} (expected ../shared/testdata/peppol next to the repo)")
    ws.write_config(client_table("acme", org_no="123456785"))  # The Sellercompany ASA, their seller
    (ws.ehf_dir() / "a-TOSL108.xml").write_bytes(bis.read_bytes())
    (ws.ehf_dir() / "b-TOSL108.xml").write_bytes(ehf.read_bytes())
    result = ws.cli("sync", "--as-of", "2018-01-10")
    assert result.exit_code == 0 and "conflicting document" not in result.output, result.output
    assert "conflicting_document" not in ws.items(date(2018, 1, 10), "--no-sync")["TOSL108"]["holds"]
