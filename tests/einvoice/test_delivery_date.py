"""The delivery date (BT-72, else the invoicing period's end BT-74): read from UBL and CII, kept through
the EHF folder source and the store, and never a reason to refuse an invoice."""

from __future__ import annotations

from datetime import date

from einvoice_corpus import read_doc

from connector.einvoice.document import EDocument
from connector.einvoice.read import read_document
from connector.store.facts import load_facts
from tests.builders import Workspace, ubl_invoice


def _ubl(extra: str) -> bytes:
    text = ubl_invoice("7001", issue=date(2026, 1, 31), due=date(2026, 2, 14), amount="100.00")
    return text.replace("  <cbc:BuyerReference>", extra + "  <cbc:BuyerReference>", 1).encode()


def _read(data: bytes) -> EDocument:
    doc = read_document(data, "7001.xml")
    assert isinstance(doc, EDocument)
    return doc


def test_the_actual_delivery_date_of_the_norwegian_example() -> None:
    doc = read_doc("bis3/Norwegian-example-1.xml")
    assert doc.delivery_date == date(2013, 6, 15)  # cac:Delivery wins over the invoice period (2013-06-30)


def test_ubl_and_cii_twins_agree_on_the_delivery_date() -> None:
    ubl, cii = read_doc("en16931/ubl-tc434-example2.xml"), read_doc("en16931/CII_example2.xml")
    assert ubl.delivery_date == cii.delivery_date == date(2013, 6, 15)


def test_without_a_delivery_the_invoice_periods_end_is_used() -> None:
    period = (
        "  <cac:InvoicePeriod><cbc:StartDate>2026-01-01</cbc:StartDate>"
        "<cbc:EndDate>2026-01-20</cbc:EndDate></cac:InvoicePeriod>\n"
    )
    assert _read(_ubl(period)).delivery_date == date(2026, 1, 20)


def test_neither_is_none() -> None:
    assert _read(_ubl("")).delivery_date is None


def test_a_malformed_delivery_date_is_a_warning_not_an_unreadable_invoice() -> None:
    bad = "  <cac:Delivery><cbc:ActualDeliveryDate>15/01/2026</cbc:ActualDeliveryDate></cac:Delivery>\n"
    doc = _read(_ubl(bad))
    assert doc.delivery_date is None and doc.number == "7001"
    assert doc.warnings == ("ActualDeliveryDate '15/01/2026' is not a date (YYYY-MM-DD); left out",)


def test_the_delivery_date_is_kept_in_the_store(ws: Workspace) -> None:
    ws.write_config()
    delivery = "  <cac:Delivery><cbc:ActualDeliveryDate>2026-01-12</cbc:ActualDeliveryDate></cac:Delivery>\n"
    (ws.ehf_dir() / "7001.xml").write_bytes(_ubl(delivery))
    assert ws.cli("sync", "--as-of", "2026-02-01").exit_code == 0
    [invoice] = ws.store.read(load_facts, "acme").invoices
    assert invoice.delivery_date == date(2026, 1, 12)
