"""Our own Norwegian-shaped camt.054 files: KID as SCOR, BBAN, batches, a return, pending, Latin-1, BOM."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from no_camt054 import ACCOUNT, Entry, Tx, camt054

from connector.bank.camt import CamtError, CamtHeader, iter_camt, read_camt
from connector.model import PaymentStatus

KID = "1234567890128"  # MOD10


def _file(**kw) -> bytes:
    return camt054(
        [
            Entry("A1", txs=[Tx("1500.00", kid=KID, payer="Fjord Bygg AS", payer_account="12345678903")]),
            Entry("A2", txs=[Tx("200.00", text="Faktura 1005 takk for sist"), Tx("300.50", kid="0000531")]),
            Entry("A3", direction="DBIT", txs=[Tx("750.00", kid=KID, return_reason="AC04")]),
            Entry("A4", status="PDNG", booked="2024-03-05", txs=[Tx("99.00", text="Kjøp på Ålesund kafé")]),
        ],
        **kw,
    )


@pytest.mark.parametrize(("encoding", "bom"), [("UTF-8", False), ("UTF-8", True), ("ISO-8859-1", False)])
def test_norwegian_camt054(encoding, bom):
    camt = read_camt(_file(encoding=encoding, bom=bom), "no.xml")
    assert (camt.message, camt.version, camt.accounts) == ("camt.054", "02", (ACCOUNT,))
    kid, text, mod11, ret, pending = camt.payments
    assert (kid.structured_ref, kid.ref_type, kid.amount) == (KID, "SCOR", Decimal("1500.00"))
    assert (kid.payer_name, kid.payer_account, kid.account) == ("Fjord Bygg AS", "12345678903", ACCOUNT)
    assert (kid.booking_date, kid.value_date) == (date(2024, 3, 4), date(2024, 3, 1))
    assert (text.bank_ref, text.ordinal, mod11.ordinal) == ("A2", 0, 1)
    assert text.free_text == "Faktura 1005 takk for sist" and text.structured_ref is None
    assert ret.reversal and ret.return_reason == "AC04 Tilbakeført" and ret.amount == Decimal("750.00")
    assert pending.status is PaymentStatus.PENDING and pending.free_text == "Kjøp på Ålesund kafé"


def test_streaming_from_a_file_object_fills_the_header():
    head = CamtHeader()
    payments = list(iter_camt(io.BytesIO(_file()), "no.xml", head))
    assert len(payments) == 5 and head.entries == 4 and head.msg_id == "NO054-1"


def test_file_without_txdtls_gives_the_entry_as_ordinal_minus_one():
    camt = read_camt(camt054([Entry("S1", amount="10.00")]))
    (p,) = camt.payments
    assert (p.ordinal, p.amount, p.bank_ref) == (-1, Decimal("10.00"), "S1")


def test_doctype_is_refused():
    data = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>' + _file().split(b"?>", 1)[1]
    with pytest.raises(CamtError, match="DOCTYPE"):
        read_camt(data, "evil.xml")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"<a>", "not well-formed"),
        (b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID/></Invoice>', "not a camt"),
    ],
)
def test_invalid_input_is_a_clear_error(data, message):
    with pytest.raises(CamtError, match=message):
        read_camt(data, "bad.xml")


def test_bad_amount_refuses_the_record_and_names_it():
    # Issue 13: the record is refused, named with file, entry, transaction and field; the rest is read.
    data = camt054([Entry("X", amount="12.50", txs=[Tx("12,50")]), Entry("Y", amount="10.00", txs=[Tx("10.00")])])
    camt = read_camt(data, "f.xml")
    assert [p.bank_ref for p in camt.payments] == ["Y"]
    (refused,) = camt.refused
    assert refused.startswith("f.xml: entry 1 transaction 1: Amt '12,50' is not a number")
