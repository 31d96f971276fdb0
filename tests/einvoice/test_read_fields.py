"""The canonical record's fields, checked against the values written in the corpus files."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from einvoice_corpus import read_doc

from connector.einvoice.document import DocClass, EDocument
from connector.einvoice.read import DocumentError, read_document


def test_norwegian_bis3_invoice() -> None:
    doc = read_doc("bis3/Norwegian-example-1.xml")
    assert (doc.number, doc.type_code, doc.currency) == ("TOSL108", "380", "NOK")
    assert (doc.issue_date, doc.due_date) == (date(2013, 6, 30), date(2013, 7, 20))
    assert doc.tax_inclusive == Decimal("1801.78")
    assert doc.prepaid == Decimal("1000")
    assert doc.rounding == Decimal("0.22")
    assert doc.payable == Decimal("802.00")
    assert doc.tax_inclusive - doc.prepaid + doc.rounding == doc.payable  # BR-CO-16
    assert doc.kid == "0003434323213231"
    assert doc.order_ref == "123"
    s, c = doc.supplier, doc.customer
    assert (s.endpoint_scheme, s.endpoint_id, s.legal_scheme, s.legal_id) == ("0192", "123456785", "0192", "123456785")
    assert s.vat_id == "NO123456785MVA"
    assert s.name == "The Sellercompany ASA"
    assert (c.endpoint_scheme, c.endpoint_id, c.legal_id, c.vat_id) == (
        "0192",
        "987654325",
        "987654325",
        "NO987654325MVA",
    )
    assert (c.name, c.city, c.postal_code, c.country) == ("Buyercompany ASA", "Anytown", "101", "NO")
    assert c.email == "john@buyercompany.no"
    pm = doc.payment_means[0]
    assert (pm.code, pm.account, pm.account_kind, pm.bic) == ("31", "NO9386011117947", "iban", "DNBANOKK")
    # A payee other than the seller: the claim may be assigned, so the invoice is held as factored.
    assert doc.payee is not None and (doc.payee.name, doc.payee.legal_id) == ("Ebeneser Scrooge AS", "999999999")
    assert doc.factored is True
    [att] = doc.attachments
    assert (att.filename, att.mime_type, len(att.content)) == ("Hours-spent.csv", "application/pdf", 21)


def test_ehf3_invoice_with_bban() -> None:
    doc = read_doc("ehf/ehf-3-faktura-1.xml")
    assert doc.doc_class is DocClass.INVOICE
    assert doc.payable == Decimal("802.00")
    pm = doc.payment_means[0]
    assert (pm.account, pm.account_kind) == ("86011117947", "bban")
    assert pm.payment_id == "0003434323213231"


def test_ehf2_legacy_mapping() -> None:
    doc = read_doc("ehf/ehf-2-faktura-1.xml")
    assert doc.doc_class is DocClass.EHF2_INVOICE
    assert (doc.number, doc.issue_date) == ("TOSL108", date(2013, 6, 30))
    # EHF 2.0 states the due date in PaymentMeans/PaymentDueDate, not in a root DueDate.
    assert doc.due_date == date(2013, 7, 20)
    assert doc.payment_means[0].due_date == date(2013, 7, 20)
    # The legacy NO:ORGNR scheme is mapped to its EAS code so parties compare across versions.
    assert (doc.supplier.endpoint_scheme, doc.supplier.legal_scheme, doc.supplier.legal_id) == (
        "0192",
        "0192",
        "123456785",
    )
    assert doc.customer.key == "987654325"
    assert (doc.tax_inclusive, doc.prepaid, doc.rounding, doc.payable) == (
        Decimal("1802.00"),
        Decimal("1000"),
        Decimal("0.22"),
        Decimal("802.00"),
    )
    assert doc.payment_means[0].account == "86011117947"


def test_credit_note_references_and_no_due_date() -> None:
    doc = read_doc("bis3/base-creditnote-correction.xml")
    assert doc.doc_class is DocClass.CREDIT_NOTE and doc.is_credit
    assert (doc.number, doc.type_code, doc.payable) == ("Snippet1", "381", Decimal("1656.25"))
    assert doc.billing_refs == ("Snippet1",)
    assert doc.due_date is None
    assert doc.warnings == ("no due date, only payment terms: Payment within 10 days, 2% discount",)


def test_credit_note_crediting_several_invoices() -> None:
    doc = read_doc("bis3/Snippet-cn.xml")
    assert doc.billing_refs == ("123", "124")
    assert (doc.tax_inclusive, doc.prepaid, doc.payable) == (Decimal("5000"), Decimal("1000"), Decimal("4000"))
    assert doc.order_ref == "o-998877"
    assert [a.filename for a in doc.attachments] == ["milage.csv"]


def test_negative_invoice_is_a_credit() -> None:
    doc = read_doc("bis3/base-negative-inv-correction.xml")
    assert doc.doc_class is DocClass.INVOICE
    assert doc.payable == Decimal("-1656.25")
    assert doc.is_credit
    assert doc.billing_refs == ("Snippet1",)


def test_direct_debit_mandate() -> None:
    doc = read_doc("bis3/direct-debit.xml")
    pm = doc.payment_means[0]
    assert (pm.code, pm.payment_id, pm.account, pm.mandate_id) == ("59", "payref2", None, "123456")
    assert doc.payable == Decimal("3762.50")


def test_giro_and_payee_same_as_seller_is_not_factored() -> None:
    doc = read_doc("bis3/giro.xml")
    assert (doc.payment_means[0].code, doc.payment_means[0].account) == ("50", "98765432")
    assert doc.kid == "PgPaymRef-345"
    # The payee's id is the seller's own endpoint (GLN 7300010000001): not assigned to anyone else.
    assert doc.payee is not None and doc.payee.legal_id == "7300010000001"
    assert doc.factored is False


def test_allowance_example_prepaid() -> None:
    doc = read_doc("bis3/Allowance-example.xml")
    assert (doc.tax_inclusive, doc.prepaid, doc.payable) == (Decimal("7125"), Decimal("1000"), Decimal("6125.00"))
    assert doc.due_date == date(2017, 12, 1)
    assert (doc.supplier.endpoint_scheme, doc.customer.endpoint_scheme) == ("0088", "0002")


def test_vat_category_o_swedish_seller_norwegian_buyer() -> None:
    doc = read_doc("bis3/vat-category-O.xml")
    assert (doc.currency, doc.payable, doc.kid) == ("SEK", Decimal("3200.00"), None)
    assert (doc.customer.endpoint_scheme, doc.customer.endpoint_id) == ("0192", "987654325")
    assert doc.due_date is None  # only "Payment within 30 days": never parsed from free text
    assert doc.payment_terms == "Payment within 30 days"


def test_forward_billing_invoice_and_credit_note() -> None:
    inv = read_doc("ehf/Invoice_EHF3.0_forward-billing-nettleie-corporate_v2.0.xml")
    assert (inv.number, inv.type_code, inv.due_date) == ("0997462625", "82", date(2019, 5, 12))
    assert (inv.payable, inv.kid) == (Decimal("1543.34"), "0003434323213231")
    assert inv.supplier.legal_id == "811143758"
    assert [a.filename for a in inv.attachments] == ["originalinvoice.pdf"]
    assert inv.attachments[0].mime_type == "application/pdf"
    cn = read_doc("ehf/Creditnote_EHF3.0_forward-billing-nettleie-corporate_v2.0.xml")
    assert (cn.doc_class, cn.type_code, cn.payable) == (DocClass.FORWARD_BILLING_CREDIT_NOTE, "81", Decimal("1543.34"))
    assert cn.is_credit


def test_reminder_points_at_the_reminded_invoice() -> None:
    doc = read_doc("ehf/Reminder-Example-with-REM.xml")
    assert doc.doc_class is DocClass.REMINDER
    assert (doc.number, doc.type_code, doc.billing_refs) == ("007", None, ("006",))
    assert doc.payable == Decimal("1756.25")


def test_oioubl_invoice_nemkonto() -> None:
    doc = read_doc("oioubl/nemkonto.xml")
    assert (doc.number, doc.currency, doc.payable) == ("NEMKONTO-001", "DKK", Decimal("41178.80"))
    assert doc.due_date == date(2024, 6, 15)  # from PaymentMeans/PaymentDueDate
    assert (doc.supplier.legal_scheme, doc.supplier.legal_id) == ("0184", "DK10000009")  # DK:CVR → 0184
    assert doc.supplier.vat_id == "DK10000009"  # TaxScheme 63 "Moms"
    assert doc.payment_means[0].code == "97"


def test_oioubl_credit_note() -> None:
    doc = read_doc("oioubl/credit-note.xml")
    assert (doc.number, doc.billing_refs, doc.payable) == ("A00095679", ("A00095678",), Decimal("6312.50"))
    assert (doc.supplier.endpoint_scheme, doc.supplier.endpoint_id) == ("0088", "5798009811530")  # GLN → 0088
    assert doc.supplier.name == "Tavleleverandøren"


def test_belgian_en16931_credit_note() -> None:
    doc = read_doc("en16931/ubl-tc434-creditnote1.xml")
    assert (doc.number, doc.payable, doc.kid) == ("018304 / 28865", Decimal("100.11"), "010676609538")
    assert doc.payment_means[0].account == "BE91000000143476"
    assert doc.supplier.endpoint_scheme == "0201"


CREDIT_NOTE_WITH_PAYMENT_DUE_DATE = b"""<?xml version="1.0" encoding="UTF-8"?>
<CreditNote xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
  <cbc:ID>KN-2024-0007</cbc:ID><cbc:IssueDate>2024-03-05</cbc:IssueDate>
  <cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode><cbc:DocumentCurrencyCode>NOK</cbc:DocumentCurrencyCode>
  <cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>2024-0123</cbc:ID></cac:InvoiceDocumentReference>
  </cac:BillingReference>
  <cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode><cbc:PaymentDueDate>2024-03-19</cbc:PaymentDueDate>
    <cac:PayeeFinancialAccount><cbc:ID>8601 11 17947</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>
  <cac:LegalMonetaryTotal><cbc:PayableAmount currencyID="NOK">1250.00</cbc:PayableAmount></cac:LegalMonetaryTotal>
</CreditNote>"""


def test_credit_note_due_date_from_payment_means() -> None:
    doc = read_document(CREDIT_NOTE_WITH_PAYMENT_DUE_DATE, "kn.xml")
    assert isinstance(doc, EDocument)
    assert doc.due_date == date(2024, 3, 19)
    assert doc.billing_refs == ("2024-0123",)
    assert doc.payment_means[0].account == "86011117947"  # spaces removed


def test_type_393_is_factored() -> None:
    data = CREDIT_NOTE_WITH_PAYMENT_DUE_DATE.replace(b">381<", b">396<")
    doc = read_document(data, "kn.xml")
    assert isinstance(doc, EDocument) and doc.factored


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (b"<cbc:ID>KN-2024-0007</cbc:ID>", b"", "kn.xml: credit_note: missing document number"),
        (b"2024-03-05", b"05.03.2024", "IssueDate '05.03.2024' is not a date"),
        (b">1250.00<", b">1.250,00<", "PayableAmount '1.250,00' is not an amount"),
        (b">1250.00<", b">NaN<", "PayableAmount 'NaN' is not an amount"),
    ],
)
def test_malformed_fields_are_clear_errors(old: bytes, new: bytes, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        read_document(CREDIT_NOTE_WITH_PAYMENT_DUE_DATE.replace(old, new), "kn.xml")
