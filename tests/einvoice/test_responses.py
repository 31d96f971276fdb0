"""Invoice Response (T111), MLR and MLS: every status in the corpus, read into StatusEvent values."""

from __future__ import annotations

from datetime import date

import pytest
from einvoice_corpus import read_status

from connector.einvoice.document import DocClass

IR = "invoice-response/"


@pytest.mark.parametrize(
    ("rel", "code", "reasons", "actions"),
    [
        ("InvoiceResponse_Example.xml", "RE", (), ("NOA",)),
        ("T111-uc001-Invoice in process.xml", "IP", (), ()),
        ("T111-uc002a-Additional reference data.xml", "IP", (), ("NOA",)),
        ("T111-uc002b-In process but postponed.xml", "IP", (), ()),
        ("T111-uc003-Invoice is accepted.xml", "AP", (), ()),
        ("T111-uc004a-Invoice is rejected.xml", "RE", ("REF",), ()),
        ("T111-uc004b-Rejected requesting reissue.xml", "RE", ("REF",), ("NIN",)),
        ("T111-uc004c-Rejected requesting replacement.xml", "RE", ("REF",), ("CNF", "NIN")),
        ("T111-uc005-Invoice is conditionally accepted.xml", "CA", ("PAY",), ()),
        ("T111-uc006a-Under query missing information.xml", "UQ", ("REF",), ("PIN",)),
        ("T111-uc006c-Wrong detail partial credit.xml", "UQ", ("DEL",), ("CNP",)),
        ("T111-uc007-Payment has been initiated.xml", "PD", (), ()),
        ("T111-uc008-Invoice is accepted by third party.xml", "AP", (), ()),
    ],
)
def test_invoice_response_status_and_codes(
    rel: str, code: str, reasons: tuple[str, ...], actions: tuple[str, ...]
) -> None:
    ev = read_status(IR + rel)
    assert ev.doc_class is DocClass.INVOICE_RESPONSE
    assert (ev.code, ev.reason_codes, ev.action_codes) == (code, reasons, actions)
    assert (ev.response_id, ev.ref_id, ev.ref_type_code) == ("imrid001", "inv021", "380")
    assert not ev.links_by_envelope


def test_full_example_with_condition_and_issuer() -> None:
    ev = read_status(IR + "InvoiceResponse_Example.xml")
    assert ev.texts == ("VAT Reference not found",)
    assert ev.conditions == (("BT-48", "EU123456789"),)
    assert (ev.effective_date, ev.ref_issue_date) == (date(2018, 9, 24), date(2018, 9, 22))
    assert ev.issuer_name == "Test Company AS"


def test_conditionally_accepted_with_new_due_date() -> None:
    ev = read_status(IR + "T111-uc005-Invoice is conditionally accepted.xml")
    assert ev.conditions == (("BT-9", "2018-01-15"),)
    assert ev.new_due_date == date(2018, 1, 15)
    assert (ev.sender.endpoint_scheme, ev.sender.endpoint_id, ev.sender.name) == (
        "0196",
        "6963495890",
        "Buyer organization",
    )
    assert ev.receiver.endpoint_id == "6841569459"


def test_under_query_texts_and_condition() -> None:
    ev = read_status(IR + "T111-uc006a-Under query missing information.xml")
    assert ev.conditions == (("BT-13", "PO0001"),)
    assert ev.effective_date == date(2017, 12, 2)
    partial = read_status(IR + "T111-uc006c-Wrong detail partial credit.xml")
    assert partial.texts and partial.texts[0].startswith("Delivered quantity for line number 1 was 2 units")


def test_paid_has_payment_date() -> None:
    ev = read_status(IR + "T111-uc007-Payment has been initiated.xml")
    assert (ev.issue_date, ev.effective_date) == (date(2017, 12, 31), date(2017, 12, 30))


def test_rejected_reason_text() -> None:
    ev = read_status(IR + "T111-uc004a-Invoice is rejected.xml")
    assert ev.texts[0].startswith("A textual explanation for why the invoice is being rejected")


def test_third_party_response() -> None:
    ev = read_status(IR + "T111-uc008-Invoice is accepted by third party.xml")
    assert ev.sender.name == "Invoice processing service"


def test_mlr_rejection_refers_to_the_envelope() -> None:
    ev = read_status("mlr-mls/MessageLevelResponse_Example.xml")
    assert (ev.doc_class, ev.code, ev.response_id) == (DocClass.MLR, "RE", "MLR-ID123")
    assert ev.ref_id == "EnvelopeID-12456789"
    assert ev.links_by_envelope
    assert ev.reason_codes == ("BV",)
    assert ev.texts[0] == "Rejected due to validation errors"
    assert "CL-T77-R002" in ev.texts[1]
    assert ev.issue_date == date(2016, 8, 15)


@pytest.mark.parametrize(
    ("rel", "code"), [("MessageLevelStatus_Example_RE.xml", "RE"), ("MessageLevelStatus_Example_AP.xml", "AP")]
)
def test_mls(rel: str, code: str) -> None:
    ev = read_status("mlr-mls/" + rel)
    assert (ev.doc_class, ev.code) == (DocClass.MLS, code)
    assert ev.ref_id == "90f14eff-3705-4869-ad3c-caae270a234e"
    assert (ev.sender.endpoint_scheme, ev.sender.endpoint_id) == ("0242", "123456")
    assert ev.issue_date == date(2025, 3, 11)
