"""Reminder channels: EHF Reminder XML, e-mail over STARTTLS to a real local SMTP server, Tripletex."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from email import message_from_bytes
from pathlib import Path

import pytest
import responses
from lxml import etree

from connector.channels import ehf_reminder
from connector.channels.base import LetterMessage, ReminderMessage
from connector.channels.email import EmailChannel
from connector.channels.tripletex import TripletexChannel
from connector.config import EmailSettings, TripletexSettings
from connector.letters import ChargeKind, LetterKind, Money, PaymentDetails, render_pdf, render_text
from connector.letters.model import Language
from connector.model import Action, Attachment, Customer, DocKind, Invoice
from tests.letters.letter_samples import PAY_BY, letter

CUSTOMER = Customer("acme", "934567897", "Kunde AS", org_no="934567897", email="faktura@kunde.example")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _invoice() -> Invoice:
    return Invoice(
        "acme",
        "7001",
        DocKind.INVOICE,
        "934567897",
        date(2025, 12, 22),
        date(2026, 1, 5),
        "NOK",
        Decimal("10000.00"),
        "ehf",
        kid="0070013",
        source_ref="7001.xml",
    )


def _reminder(step: Action = Action.REMINDER, fee: str = "37.50") -> ReminderMessage:
    return ReminderMessage("acme", _invoice(), CUSTOMER, step, Decimal(fee), date(2026, 1, 19))


def _document(**changes: object) -> bytes:
    sample = letter(LetterKind.REMINDER, **changes)
    attachment = Attachment("acme", "10023", "faktura-10023.pdf", "application/pdf", b"%PDF-1.4 x")
    return ehf_reminder.build(
        sample, sample.invoices[0], document_id="R-1", country="NO", customer=CUSTOMER, attachments=[attachment]
    )


def test_ehf_reminder_document() -> None:
    root = etree.fromstring(_document())
    ns = {"cbc": ehf_reminder.CBC, "cac": ehf_reminder.CAC}
    assert root.findtext("cbc:CustomizationID", namespaces=ns) == ehf_reminder.CUSTOMIZATION_ID
    assert root.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", namespaces=ns) == "10023"
    assert root.findtext("cbc:DueDate", namespaces=ns) == PAY_BY.isoformat()  # the letter's pay-by date
    fee, interest = root.findall("cac:AllowanceCharge", ns)
    assert fee.findtext("cbc:AllowanceChargeReasonCode", namespaces=ns) == "REM"
    assert fee.findtext("cbc:Amount", namespaces=ns) == "35.00"
    assert interest.findtext("cbc:AllowanceChargeReason", namespaces=ns) == "Forsinkelsesrente"
    # 12 500 invoiced, 5 000 paid, 1 000 credited: 6 500 owed + 35 fee + 46.16 interest
    assert root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=ns) == "6581.16"
    assert root.findtext("cac:PaymentMeans/cbc:PaymentID", namespaces=ns) == "1002300008"
    assert root.find("cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject", ns) is not None


def test_the_payee_account_is_the_iban_or_the_domestic_account_digits() -> None:
    ns = {"cbc": ehf_reminder.CBC, "cac": ehf_reminder.CAC}
    path = "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID"
    domestic = etree.fromstring(_document(payment=PaymentDetails("1234.56.78903")))
    assert domestic.findtext(path, namespaces=ns) == "12345678903"
    # only an IBAN configured (no national account derived from it): the IBAN as it is, not its digits
    iban_only = etree.fromstring(_document(payment=PaymentDetails("SE4550000000058398257466")))
    assert iban_only.findtext(path, namespaces=ns) == "SE4550000000058398257466"


def test_a_fee_an_earlier_letter_charged_is_a_charge_of_its_own_not_a_second_rem() -> None:
    sample = letter(LetterKind.REMINDER)
    [fee] = [c for c in sample.charges if c.kind is ChargeKind.REMINDER_FEE]
    earlier = replace(fee, amount=Money(Decimal("35.00"), "NOK"), charged_on=date(2026, 2, 10))
    root = etree.fromstring(_document(charges=(earlier, *sample.charges)))
    ns = {"cbc": ehf_reminder.CBC, "cac": ehf_reminder.CAC}
    charges = [
        (
            c.findtext("cbc:AllowanceChargeReasonCode", namespaces=ns),
            c.findtext("cbc:AllowanceChargeReason", namespaces=ns),
        )
        for c in root.findall("cac:AllowanceCharge", ns)
    ]
    assert charges == [("REM", "Purregebyr"), (None, "Forsinkelsesrente"), (None, "Purregebyr 2026-02-10")]
    assert root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=ns) == "6616.16"  # + 35.00


def test_a_danish_or_swedish_reminder_document_has_no_norwegian_in_it() -> None:
    # found trying a DK client: the invoice line read "Faktura 10023 forfalt …" (bokmål), and a customer the
    # ledger gives no country was a Norwegian party (country NO, org no scheme 0192) with its CVR number
    ns = {"cbc": ehf_reminder.CBC, "cac": ehf_reminder.CAC}
    customer = Customer("acme", "29834709", "Aalborg Maler ApS", org_no="29834709")
    cases: tuple[tuple[Language, str, str, str], ...] = (
        ("da", "DK", "0184", "forfaldt"),
        ("sv", "SE", "0007", "förföll"),
    )
    for language, country, scheme, word in cases:
        sample = letter(LetterKind.REMINDER, language)
        line = sample.invoices[0]
        root = etree.fromstring(ehf_reminder.build(sample, line, document_id="R-1", country=country, customer=customer))
        name = root.findtext("cac:InvoiceLine/cac:Item/cbc:Name", namespaces=ns)
        assert name == f"Faktura {line.number} {word} {line.due_date.isoformat()}"
        buyer = root.find("cac:AccountingCustomerParty/cac:Party", ns)
        assert buyer is not None
        assert buyer.findtext("cac:PostalAddress/cac:Country/cbc:IdentificationCode", namespaces=ns) == country
        endpoint = buyer.find("cbc:EndpointID", ns)
        assert endpoint is not None and endpoint.get("schemeID") == scheme
    # Norway's stays as it was
    sample = letter(LetterKind.REMINDER)
    root = etree.fromstring(
        ehf_reminder.build(sample, sample.invoices[0], document_id="R-1", country="NO", customer=customer)
    )
    name = root.findtext("cac:InvoiceLine/cac:Item/cbc:Name", namespaces=ns)
    assert name == f"Faktura {sample.invoices[0].number} forfalt {sample.invoices[0].due_date.isoformat()}"


def test_no_fee_no_charge() -> None:
    root = etree.fromstring(_document(charges=()))
    assert root.find(f"{{{ehf_reminder.CAC}}}AllowanceCharge") is None


def _message() -> LetterMessage:
    sample = letter(LetterKind.REMINDER)
    text = render_text(sample)
    pdf = render_pdf(sample)
    copy = Attachment("acme", "10023", "faktura-10023.pdf", "application/pdf", b"%PDF-1.4 x")
    return LetterMessage(
        "acme", sample.reference, "acme--934567897--reminder--2026-03-10", "reminder", CUSTOMER, sample.sent_on,
        text.subject, text.body, pdf, pdf, (copy,),
    )  # fmt: skip


# ---- e-mail ---------------------------------------------------------------------------------------


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[tuple[int, list[bytes], ssl.SSLContext]]:
    from aiosmtpd.controller import Controller

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ],
        check=True,
        capture_output=True,
    )
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))
    client_tls.check_hostname = False
    received: list[bytes] = []

    class Handler:
        async def handle_DATA(self, _server, _session, envelope):
            received.append(envelope.original_content)
            return "250 OK"

    port = _free_port()
    controller = Controller(
        Handler(), hostname="127.0.0.1", port=port, tls_context=server_tls, require_starttls=True, ready_timeout=5
    )
    controller.start()
    try:
        yield port, received, client_tls
    finally:
        controller.stop()


def test_email_over_starttls(smtp_server: tuple[int, list[bytes], ssl.SSLContext]) -> None:
    port, received, tls = smtp_server
    settings = EmailSettings(host="127.0.0.1", port=port, from_address="purring@acme.example")
    result = EmailChannel(settings, ssl_context=tls).deliver_letter(_message())
    assert result.channel == "email" and len(received) == 1
    mail = message_from_bytes(received[0])
    assert mail["To"] == "faktura@kunde.example" and "10023" in mail["Subject"]
    parts = {p.get_filename(): p for p in mail.walk() if p.get_filename()}
    # the letter as a PDF and the invoice copy; no EHF XML (an e-mail is read by a person)
    assert set(parts) == {"RE-K1042-20260310.pdf", "faktura-10023.pdf"}
    assert parts["RE-K1042-20260310.pdf"].get_payload(decode=True).startswith(b"%PDF-")
    body = next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert "Purregebyr" in body and "Når kan vi forvente betaling?" in body


def test_email_refuses_without_starttls() -> None:
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, *_args):
            return "250 OK"

    port = _free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, ready_timeout=5)
    controller.start()
    try:
        from connector.channels.base import ChannelError

        with pytest.raises(ChannelError, match="STARTTLS"):
            EmailChannel(EmailSettings(host="127.0.0.1", port=port, from_address="a@b.example")).deliver_letter(
                _message()
            )
    finally:
        controller.stop()


# ---- tripletex ------------------------------------------------------------------------------------


def test_ehf_reminder_note_names_the_invoice_once() -> None:
    ns = {"cbc": ehf_reminder.CBC}
    two = letter(LetterKind.REMINDER)
    one = replace(two, invoices=two.invoices[:1])
    subject = f"Betalingspåminnelse – faktura {one.invoices[0].number}"

    def note(sample: object, line: object, text: str) -> str | None:
        document = ehf_reminder.build(sample, line, document_id="R-1", country="NO", customer=CUSTOMER, note=text)  # type: ignore[arg-type]
        return etree.fromstring(document).findtext("cbc:Note", namespaces=ns)

    assert note(one, one.invoices[0], subject) == subject  # was "… faktura 10023 — faktura 10023"
    # a letter naming two invoices sends a document per invoice: each says which one it is
    assert (
        note(two, two.invoices[1], "Betalingspåminnelse") == f"Betalingspåminnelse — faktura {two.invoices[1].number}"
    )
    assert note(one, one.invoices[0], "") == f"faktura {one.invoices[0].number}"


@responses.activate
def test_tripletex_create_reminder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TT_SESSION", "s3cret-token")
    base = "https://tt.example/v2"
    responses.get(f"{base}/invoice", json={"values": [{"id": 555, "invoiceNumber": 7001}]})
    put = responses.put(f"{base}/invoice/555/:createReminder", json={"value": 91})
    channel = TripletexChannel(TripletexSettings(base_url=base, session_token_env="TT_SESSION"))
    result = channel.deliver(_reminder(Action.COLLECTION_NOTICE))
    assert result.ref == "tripletex reminder 91"
    params = put.calls[0].request.params
    assert params["type"] == "NOTICE_OF_DEBT_COLLECTION" and params["date"] == "2026-01-19"
    assert params["includeCharge"] == "true" and params["dispatchTypes"] == "EMAIL"
    assert "s3cret-token" not in result.ref


@responses.activate
def test_tripletex_unreachable_invoice_lookup_fails_only_that_send(monkeypatch: pytest.MonkeyPatch) -> None:
    """A network error while looking the invoice up is a ChannelError (the run goes on with the next
    invoice), and names neither the URL's token nor the session token."""
    import requests

    from connector.channels.base import ChannelError

    monkeypatch.setenv("TT_SESSION", "s3cret-token")
    base = "https://tt.example/v2"
    responses.get(f"{base}/invoice", body=requests.ConnectionError("connection reset"))
    channel = TripletexChannel(TripletexSettings(base_url=base, session_token_env="TT_SESSION"))
    with pytest.raises(ChannelError, match="looking up invoice 7001 failed: ConnectionError") as failed:
        channel.deliver(_reminder())
    assert "s3cret-token" not in str(failed.value)
