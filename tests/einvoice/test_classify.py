"""Every corpus file is classified as its SOURCES.md row says (root element *and* CustomizationID)."""

from __future__ import annotations

import pytest
from einvoice_corpus import peppol_file

from connector.einvoice.classify import classify, unwrap_sbdh
from connector.einvoice.document import DocClass, EDocument, StatusEvent
from connector.einvoice.read import DocumentError, read_document
from connector.safexml import parse_bytes

IR = "invoice-response/"
EXPECTED = {
    "bis3/base-example.xml": DocClass.INVOICE,
    "bis3/base-creditnote-correction.xml": DocClass.CREDIT_NOTE,
    "bis3/base-negative-inv-correction.xml": DocClass.INVOICE,
    "bis3/Allowance-example.xml": DocClass.INVOICE,
    "bis3/vat-category-O.xml": DocClass.INVOICE,
    "bis3/Norwegian-example-1.xml": DocClass.INVOICE,
    "bis3/Snippet-cn.xml": DocClass.CREDIT_NOTE,
    "bis3/giro.xml": DocClass.INVOICE,
    "bis3/direct-debit.xml": DocClass.INVOICE,
    "ehf/ehf-3-faktura-1.xml": DocClass.INVOICE,
    "ehf/ehf-2-faktura-1.xml": DocClass.EHF2_INVOICE,
    "ehf/Reminder-Example-with-REM.xml": DocClass.REMINDER,
    "ehf/Invoice_EHF3.0_forward-billing-nettleie-corporate_v2.0.xml": DocClass.FORWARD_BILLING_INVOICE,
    "ehf/Creditnote_EHF3.0_forward-billing-nettleie-corporate_v2.0.xml": DocClass.FORWARD_BILLING_CREDIT_NOTE,
    "ehf/PaymentRequest-example-1.xml": DocClass.PAYMENT_REQUEST,
    IR + "InvoiceResponse_Example.xml": DocClass.INVOICE_RESPONSE,
    IR + "T111-uc001-Invoice in process.xml": DocClass.INVOICE_RESPONSE,
    IR + "T111-uc002a-Additional reference data.xml": DocClass.INVOICE_RESPONSE,
    IR + "T111-uc002b-In process but postponed.xml": DocClass.INVOICE_RESPONSE,
    IR + "T111-uc003-Invoice is accepted.xml": DocClass.INVOICE_RESPONSE,
    IR + "T111-uc004a-Invoice is rejected.xml": DocClass.INVOICE_RESPONSE,
    IR + "T111-uc004b-Rejected requesting reissue.xml": DocClass.INVOICE_RESPONSE,
    IR + "T111-uc004c-Rejected requesting replacement.xml": DocClass.INVOICE_RESPONSE,
    IR + "T111-uc005-Invoice is conditionally accepted.xml": DocClass.INVOICE_RESPONSE,
    IR + "T111-uc006a-Under query missing information.xml": DocClass.INVOICE_RESPONSE,
    IR + "T111-uc006c-Wrong detail partial credit.xml": DocClass.INVOICE_RESPONSE,
    IR + "T111-uc007-Payment has been initiated.xml": DocClass.INVOICE_RESPONSE,
    IR + "T111-uc008-Invoice is accepted by third party.xml": DocClass.INVOICE_RESPONSE,
    "mlr-mls/MessageLevelResponse_Example.xml": DocClass.MLR,
    "mlr-mls/MessageLevelStatus_Example_RE.xml": DocClass.MLS,
    "mlr-mls/MessageLevelStatus_Example_AP.xml": DocClass.MLS,
    "sbdh/good-bis3-full.xml": DocClass.INVOICE,  # stub payload, classified from the SBDH DOCUMENTID scope
    "en16931/ubl-tc434-example2.xml": DocClass.INVOICE,
    "en16931/CII_example2.xml": DocClass.CII_INVOICE,
    "en16931/ubl-tc434-example5.xml": DocClass.INVOICE,
    "en16931/CII_example5.xml": DocClass.CII_INVOICE,
    "en16931/ubl-tc434-creditnote1.xml": DocClass.CREDIT_NOTE,
    "en16931/XRechnung-O.xml": DocClass.CII_INVOICE,
    "oioubl/credit-note.xml": DocClass.OIOUBL_CREDIT_NOTE,
    "oioubl/nemkonto.xml": DocClass.OIOUBL_INVOICE,
}


@pytest.mark.parametrize(("rel", "expected"), sorted(EXPECTED.items()))
def test_every_corpus_file_is_classified(rel: str, expected: DocClass) -> None:
    root, envelope = unwrap_sbdh(parse_bytes(peppol_file(rel).read_bytes(), rel))
    assert classify(root, envelope) is expected


def test_corpus_has_no_unlisted_file() -> None:
    folder = peppol_file("SOURCES.md").parent
    found = {p.relative_to(folder).as_posix() for p in folder.rglob("*.xml")}
    assert found == set(EXPECTED)


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_read_document_returns_the_right_record(rel: str) -> None:
    if rel.startswith("sbdh/"):
        pytest.skip("stub payload, see test_sbdh_stub_payload_is_a_clear_error")
    doc = read_document(peppol_file(rel).read_bytes(), rel)
    expected = EXPECTED[rel]
    if expected is DocClass.PAYMENT_REQUEST:
        assert doc is DocClass.PAYMENT_REQUEST
    elif expected.is_status:
        assert isinstance(doc, StatusEvent) and doc.doc_class is expected
    else:
        assert isinstance(doc, EDocument) and doc.doc_class is expected


def test_sbdh_envelope_is_unwrapped_and_kept() -> None:
    root, env = unwrap_sbdh(parse_bytes(peppol_file("sbdh/good-bis3-full.xml").read_bytes()))
    assert root.tag == "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
    assert env is not None
    assert env.instance_id == "a593a0aa-6ff7-48b0-8906-5534fa5212e0"
    assert env.sender == "0088:7315458756324"
    assert env.receiver == "0088:4562458856624"
    assert env.process_id == "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    assert env.country_c1 == "AT"


def test_sbdh_stub_payload_is_a_clear_error() -> None:
    with pytest.raises(DocumentError, match=r"good-bis3-full\.xml: invoice: missing currency"):
        read_document(peppol_file("sbdh/good-bis3-full.xml").read_bytes(), "good-bis3-full.xml")


def test_sbdh_wrapped_invoice_keeps_instance_id() -> None:
    inner = peppol_file("bis3/Norwegian-example-1.xml").read_bytes().split(b"?>", 1)[1]
    wrapped = (
        b'<StandardBusinessDocument xmlns="http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader">'
        b"<StandardBusinessDocumentHeader><HeaderVersion>1.0</HeaderVersion><DocumentIdentification>"
        b"<InstanceIdentifier>5b5e6f36-0f0e-4a53-9d1c-1f2f5a0b9c11</InstanceIdentifier></DocumentIdentification>"
        b"</StandardBusinessDocumentHeader>" + inner + b"</StandardBusinessDocument>"
    )
    doc = read_document(wrapped, "wrapped.xml")
    assert isinstance(doc, EDocument)
    assert doc.number == "TOSL108"
    assert doc.sbdh_instance_id == "5b5e6f36-0f0e-4a53-9d1c-1f2f5a0b9c11"


def test_sbdh_with_two_payloads_is_refused() -> None:
    data = (
        b'<StandardBusinessDocument xmlns="http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader">'
        b"<StandardBusinessDocumentHeader/><a xmlns='x'/><b xmlns='x'/></StandardBusinessDocument>"
    )
    with pytest.raises(DocumentError, match=r"two\.xml: an SBDH needs exactly one"):
        read_document(data, "two.xml")


@pytest.mark.parametrize(
    ("cid", "root", "expected"),
    [
        ("urn:fdc:peppol.eu:2017:poacc:selfbilling:3.0", "Invoice", DocClass.SELF_BILLING_INVOICE),
        ("urn:fdc:peppol.eu:2017:poacc:selfbilling:3.0", "CreditNote", DocClass.SELF_BILLING_CREDIT_NOTE),
        (
            "urn:www.cenbii.eu:transaction:biitrns014:ver2.0:extended:urn:www.peppol.eu:bis:peppol5a:ver2.0"
            ":extended:urn:www.difi.no:ehf:kreditnota:ver2.0",
            "CreditNote",
            DocClass.EHF2_CREDIT_NOTE,
        ),
        ("urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0", "Invoice", DocClass.INVOICE),
        ("urn:something:else", "Invoice", DocClass.UNKNOWN),
    ],
)
def test_classifier_table_rows_without_corpus_files(cid: str, root: str, expected: DocClass) -> None:
    ns = f"urn:oasis:names:specification:ubl:schema:xsd:{root}-2"
    xml = (
        f'<{root} xmlns="{ns}" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
        f"<cbc:CustomizationID>{cid}</cbc:CustomizationID></{root}>"
    ).encode()
    assert classify(parse_bytes(xml)) is expected


def test_cii_credit_note_by_type_code() -> None:
    xml = (
        b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" '
        b'xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100">'
        b"<rsm:ExchangedDocument><ram:TypeCode>381</ram:TypeCode></rsm:ExchangedDocument></rsm:CrossIndustryInvoice>"
    )
    assert classify(parse_bytes(xml)) is DocClass.CII_CREDIT_NOTE


def test_unknown_document_is_a_clear_error() -> None:
    xml = b'<Catalogue xmlns="urn:oasis:names:specification:ubl:schema:xsd:Catalogue-2"/>'
    with pytest.raises(DocumentError, match=r"cat\.xml: not a recognised e-invoice document .*Catalogue"):
        read_document(xml, "cat.xml")
