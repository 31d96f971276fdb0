"""The recovery parse of a file that does not read (connector.einvoice.salvage): what it still finds, and that a
hostile file stays harmless (no entity expanded, no file or network read, never an exception)."""

from __future__ import annotations

import time
from datetime import date

from connector.dunning.unreadable import Reach, scope_of
from connector.einvoice.salvage import salvage
from connector.model import FileRole, Salvaged, UnreadableFile
from tests.builders import ubl_credit_note, ubl_invoice


def _cut(text: str, keep: float = 0.6) -> bytes:
    return text.encode()[: int(len(text) * keep)]


def test_a_truncated_invoice_is_still_known_as_an_invoice_of_its_buyer() -> None:
    got = salvage(_cut(ubl_invoice("1001", issue=date(2026, 6, 1), due=date(2026, 6, 15), amount="100.00")))
    assert got is not None
    assert (got.kind, got.type_code, got.number) == ("invoice", "380", "1001")
    assert "934567897" in got.buyer_ids and got.buyer_name == "Kunde AS"


def test_a_negative_invoice_is_not_clearly_an_invoice() -> None:
    negative = ubl_invoice("1002", issue=date(2026, 6, 1), due=date(2026, 6, 15), amount="-100.00")
    got = salvage(negative.replace("</Invoice>", "<broken").encode())
    assert got is not None and got.kind == "unknown"


def test_a_truncated_credit_note_names_the_invoice_it_credits() -> None:
    got = salvage(_cut(ubl_credit_note("5001", "1001", issue=date(2026, 6, 20), amount="100.00"), 0.5))
    assert got is not None and (got.kind, got.refs) == ("credit_note", ("1001",))


def test_an_mlr_names_the_envelope_and_the_scope_follows_it_to_the_invoice() -> None:
    mlr = b"""<ApplicationResponse xmlns="urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2"
      xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
      xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2">
      <cbc:CustomizationID>urn:fdc:peppol.eu:poacc:trns:mlr:3</cbc:CustomizationID><cbc:ID>MLR-1</cbc:ID>
      <cac:DocumentResponse><cac:DocumentReference><cbc:ID>env-42</cbc:ID></cac:DocumentReference>
      <cac:Response><cbc:ResponseCode>RE"""
    got = salvage(mlr)
    assert got is not None and (got.kind, got.refs) == ("mlr", ("env-42",))
    f = UnreadableFile("acme", "ledger", FileRole.LEDGER, "/x/mlr.xml", "mlr.xml", "h", "broken", date(2026, 6, 1), got)
    assert scope_of(f, {"env-42": "1001"}).invoices == ("1001",)


def test_cii_is_read_by_local_names() -> None:
    cii = b"""<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
      xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100">
      <rsm:ExchangedDocument><ram:ID>CN-9</ram:ID><ram:TypeCode>381</ram:TypeCode></rsm:ExchangedDocument>
      <ram:BuyerTradeParty><ram:Name>Kunde AS</ram:Name><ram:GlobalID>934567897</ram:GlobalID></ram:BuyerTradeParty>
      <ram:InvoiceReferencedDocument><ram:IssuerAssignedID>1001</ram:IssuerAssignedID>"""
    got = salvage(cii)
    assert got == Salvaged("credit_note", "381", "CN-9", ("934567897",), "Kunde AS", ("1001",))


def test_a_hostile_file_expands_nothing_and_reads_nothing() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            b'<!ENTITY %s "&%s;&%s;&%s;&%s;&%s;&%s;&%s;&%s;&%s;&%s;">' % ((b"a%d" % i,) + (b"a%d" % (i - 1),) * 10)
            for i in range(1, 12)
        ).replace(b"a0", b"a")
        + b"]><CreditNote><ID>&a11;</ID></CreditNote>"
    )
    started = time.perf_counter()
    got = salvage(laughs)
    assert time.perf_counter() - started < 2
    assert got is not None and got.kind == "credit_note" and got.number in (None, "")
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Invoice><ID>&e;</ID></Invoice>'
    got = salvage(xxe)
    assert got is not None and "root" not in (got.number or "")  # /etc/passwd was never read
    f = UnreadableFile("acme", "ledger", FileRole.LEDGER, "/x/x.xml", "x.xml", "h", "DOCTYPE", date(2026, 6, 1), got)
    assert scope_of(f, {}).reach is Reach.CLIENT  # nothing identifiable: the whole client


def test_garbage_salvages_nothing() -> None:
    assert salvage(b"") is None
    assert salvage(b"\x00\xff not xml at all") is None
