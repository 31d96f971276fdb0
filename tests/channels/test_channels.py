"""Reminder channels: EHF Reminder XML, e-mail over STARTTLS to a real local SMTP server, Tripletex."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from email import message_from_bytes
from pathlib import Path

import pytest
import responses
from lxml import etree

from connector.channels import ehf_reminder
from connector.channels.base import ReminderMessage
from connector.channels.email import EmailChannel
from connector.channels.letters import Letter
from connector.channels.tripletex import TripletexChannel
from connector.config import EmailSettings, TripletexSettings
from connector.model import Action, Attachment, Customer, DocKind, Invoice


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _message(step: Action = Action.REMINDER, fee: str = "37.50") -> ReminderMessage:
    inv = Invoice(
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
    customer = Customer("acme", "934567897", "Kunde AS", org_no="934567897", email="faktura@kunde.example")
    letter = Letter(
        step,
        "nb",
        "Acme AS",
        "923456783",
        "Kunde AS",
        "7001",
        date(2026, 1, 5),
        Decimal("10000.00"),
        "NOK",
        Decimal(fee),
        "0070013",
        date(2026, 2, 16) if step is Action.COLLECTION_NOTICE else None,
    )
    return ReminderMessage(
        "acme",
        "Acme AS",
        "923456783",
        "NO",
        inv,
        customer,
        letter,
        Decimal(fee),
        date(2026, 1, 19),
        (Attachment("acme", "7001", "faktura-7001.pdf", "application/pdf", b"%PDF-1.4 x"),),
    )


def test_ehf_reminder_document() -> None:
    root = etree.fromstring(ehf_reminder.build(_message()))
    ns = {"cbc": ehf_reminder.CBC, "cac": ehf_reminder.CAC}
    assert root.findtext("cbc:CustomizationID", namespaces=ns) == ehf_reminder.CUSTOMIZATION_ID
    assert root.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", namespaces=ns) == "7001"
    charge = root.find("cac:AllowanceCharge", ns)
    assert charge.findtext("cbc:AllowanceChargeReasonCode", namespaces=ns) == "REM"
    assert charge.findtext("cbc:Amount", namespaces=ns) == "37.50"
    assert root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=ns) == "10037.50"
    assert root.find("cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject", ns) is not None


def test_no_fee_no_charge() -> None:
    root = etree.fromstring(ehf_reminder.build(_message(fee="0")))
    assert root.find(f"{{{ehf_reminder.CAC}}}AllowanceCharge") is None


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
    result = EmailChannel(settings, ssl_context=tls).deliver(_message())
    assert result.channel == "email" and len(received) == 1
    mail = message_from_bytes(received[0])
    assert mail["To"] == "faktura@kunde.example" and "7001" in mail["Subject"]
    parts = {p.get_filename(): p for p in mail.walk() if p.get_filename()}
    assert "faktura-7001.pdf" in parts and any(name.endswith(".xml") for name in parts)
    body = next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert "Purregebyr: 37.50 NOK" in body


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
            EmailChannel(EmailSettings(host="127.0.0.1", port=port, from_address="a@b.example")).deliver(_message())
    finally:
        controller.stop()


# ---- tripletex ------------------------------------------------------------------------------------


@responses.activate
def test_tripletex_create_reminder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TT_SESSION", "s3cret-token")
    base = "https://tt.example/v2"
    responses.get(f"{base}/invoice", json={"values": [{"id": 555, "invoiceNumber": 7001}]})
    put = responses.put(f"{base}/invoice/555/:createReminder", json={"value": 91})
    channel = TripletexChannel(TripletexSettings(base_url=base, session_token_env="TT_SESSION"))
    result = channel.deliver(_message(Action.COLLECTION_NOTICE))
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
        channel.deliver(_message())
    assert "s3cret-token" not in str(failed.value)
