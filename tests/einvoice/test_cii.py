"""CII reading, and the UBL/CII twins of the EN 16931 examples giving the same canonical record."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from einvoice_corpus import read_doc

from connector.einvoice.document import DocClass, EDocument


def _header(doc: EDocument) -> dict[str, Any]:
    """Everything the connector uses from an invoice, except what the twins state differently on purpose."""
    return {
        "number": doc.number,
        "type_code": doc.type_code,
        "issue_date": doc.issue_date,
        "due_date": doc.due_date,
        "currency": doc.currency,
        "tax_exclusive": doc.tax_exclusive,
        "tax_total": doc.tax_total,
        "tax_inclusive": doc.tax_inclusive,
        "prepaid": doc.prepaid,
        "rounding": doc.rounding,
        "payable": doc.payable,
        "supplier": doc.supplier,
        "customer": doc.customer,
        "payee": doc.payee,
        "kid": doc.kid,
        "billing_refs": doc.billing_refs,
        "order_ref": doc.order_ref,
        "buyer_ref": doc.buyer_ref,
        "factored": doc.factored,
        "attachments": [(a.filename, a.mime_type) for a in doc.attachments],
    }


def test_example2_twins_match() -> None:
    ubl, cii = read_doc("en16931/ubl-tc434-example2.xml"), read_doc("en16931/CII_example2.xml")
    assert cii.doc_class is DocClass.CII_INVOICE
    assert _header(ubl) | {"attachments": None} == _header(cii) | {"attachments": None}
    assert cii.payment_means[0].account == ubl.payment_means[0].account == "NO9386011117947"
    assert cii.payment_means[0].bic == "DNBANOKK"
    assert (cii.payable, cii.prepaid, cii.due_date) == (Decimal("801.78"), Decimal("1000"), date(2013, 7, 20))
    assert cii.supplier.vat_id == "NO123456789MVA"
    assert cii.payee is not None and cii.payee.legal_id == "989823401"


def test_example5_twins_match() -> None:
    ubl, cii = read_doc("en16931/ubl-tc434-example5.xml"), read_doc("en16931/CII_example5.xml")
    assert _header(ubl) == _header(cii)
    assert (cii.number, cii.currency, cii.payable) == ("TOSL110", "DKK", Decimal("2337.5"))
    assert cii.billing_refs == ("TOSL109",)
    assert cii.order_ref == "PO4711"
    assert (cii.supplier.endpoint_scheme, cii.supplier.endpoint_id) == ("EM", "info@selco.nl")
    assert cii.tax_total == Decimal("675.00")  # the DKK total, not the EUR VAT-accounting one
    # Known difference between the twins (research §6): the UBL file states a direct-debit mandate.
    assert ubl.payment_means[0].mandate_id == "123456"
    assert cii.payment_means[0].account == "DK1212341234123412"


def test_xrechnung_cii() -> None:
    doc = read_doc("en16931/XRechnung-O.xml")
    assert (doc.number, doc.type_code, doc.currency) == ("150377292", "380", "EUR")
    assert (doc.issue_date, doc.due_date) == (date(2021, 1, 14), date(2021, 1, 1))
    assert doc.payable == Decimal("385544.60")
    assert doc.kid == "V50028642477VR00150377292"
    assert doc.payment_means[0].bic == "HELADEFFXXX"
    assert (doc.supplier.legal_scheme, doc.supplier.city, doc.customer.city) == ("0189", "Stuttgart", "Köln")
