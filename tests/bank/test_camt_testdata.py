"""Every camt file in ../shared/testdata/bank, with the values the bank wrote in it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from bank_testdata import TESTDATA

from connector.bank.camt import CamtError, read_camt
from connector.model import PaymentStatus

# file → (message, version, entries, customer payments, skipped entries)
SHAPES = {
    "camt052.v4.xml": ("camt.052", "04", 1, 0, 1),
    "camt053.v2.all-balance-types.xml": ("camt.053", "02", 1, 1, 0),
    "camt053.v2.five.decimals.xml": ("camt.053", "02", 1, 1, 0),
    "camt053.v2.minimal.ultimate.xml": ("camt.053", "02", 1, 1, 0),
    "camt053.v2.minimal.xml": ("camt.053", "02", 1, 1, 0),
    "camt053.v2.multi.statement.xml": ("camt.053", "02", 2, 1, 1),
    "camt053.v2.with-party-ids.xml": ("camt.053", "02", 1, 1, 0),
    "camt053.v3.xml": ("camt.053", "03", 1, 1, 0),
    "camt053.v4.xml": ("camt.053", "04", 1, 1, 0),
    "camt053.v8.xml": ("camt.053", "08", 1, 1, 0),
    "camt054.v2.with-account-name.xml": ("camt.054", "02", 1, 0, 1),
    "camt054.v2.xml": ("camt.054", "02", 1, 0, 1),
    "camt054.v4.xml": ("camt.054", "04", 1, 0, 1),
    "camt054.v8-with-UETR.xml": ("camt.054", "08", 1, 0, 1),
    "camt054.v8-with-financial-institution.xml": ("camt.054", "08", 1, 0, 1),
    "camt054.v8.xml": ("camt.054", "08", 1, 0, 1),
    "camt53.only-Dt-with-DtTm.xml": ("camt.053", "02", 0, 0, 0),
    "test-camt053": ("camt.053", "02", 3, 3, 1),
    "test-camt053-bookgdt-dttm": ("camt.053", "02", 1, 0, 1),
    "test-camt053-no-ntry": ("camt.053", "04", 0, 0, 0),
    "test-camt053-txdtls": ("camt.053", "04", 1, 2, 0),
    "test-camt054": ("camt.054", "04", 1, 1, 0),
}
INVALID = {"camt053.v2.wrong.xml"}
NOT_CAMT = {"SOURCES.md", "ocr_giro_transactions.txt"}


def test_every_shared_file_is_covered():
    if not TESTDATA.is_dir():
        pytest.skip(f"shared bank test data not found at {TESTDATA}")
    on_disk = {p.name for p in TESTDATA.iterdir()}
    assert on_disk - NOT_CAMT == set(SHAPES) | INVALID


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shape(bank_file, name):
    camt = read_camt(bank_file(name), name)
    message, version, entries, payments, skipped = SHAPES[name]
    assert (camt.message, camt.version, camt.entries, len(camt.payments), camt.skipped) == (
        message,
        version,
        entries,
        payments,
        skipped,
    )
    for p in camt.payments:
        assert isinstance(p.amount, Decimal) and p.amount >= 0


def test_invalid_file_is_a_clear_error(bank_file):
    with pytest.raises(CamtError, match=r"camt053.v2.wrong.xml: camt.053 without any statement"):
        read_camt(bank_file("camt053.v2.wrong.xml"), "camt053.v2.wrong.xml")


def test_a_truncated_file_is_a_clear_error_naming_it_once(bank_file, tmp_path):
    data = bank_file("camt053.v2.minimal.xml")
    (tmp_path / "camt053.xml").write_bytes(data[: len(data) // 2])  # a file, read as the feed reads it
    with pytest.raises(CamtError) as exc:
        read_camt(tmp_path / "camt053.xml", "camt053.xml")
    assert str(exc.value).startswith("camt053.xml: not well-formed XML: ")
    assert str(exc.value).count("camt053.xml") == 1  # not again as "(/…/camt053.xml, line 40)"


def test_camt053_v2_minimal_scor_reference_and_payer(bank_file):
    (p,) = read_camt(bank_file("camt053.v2.minimal.xml")).payments
    assert p.account == "NL26VAYB8060476890"
    assert (p.amount, p.currency, p.status) == (Decimal("8.85"), "EUR", PaymentStatus.BOOKED)
    assert (p.booking_date, p.value_date) == (date(2014, 12, 31), date(2015, 1, 2))
    assert (p.structured_ref, p.ref_type) == ("4654654654654654", "SCOR")
    assert (p.payer_name, p.payer_account) == ("NAME NAME", "NL56AGDH9619008421")


def test_ultimate_debtor_gives_the_payer_name(bank_file):
    (p,) = read_camt(bank_file("camt053.v2.minimal.ultimate.xml")).payments
    assert p.payer_name == "DEBTOR NAME NM"


def test_three_decimal_amount_stays_decimal(bank_file):
    (p,) = read_camt(bank_file("camt053.v2.five.decimals.xml")).payments
    assert p.amount == Decimal("8.85") and str(p.amount) == "8.850"
    assert p.free_text == "Transaction Description"
    assert p.end_to_end_id == "000000001"


def test_multi_statement_keeps_the_credit_and_skips_the_debit(bank_file):
    camt = read_camt(bank_file("camt053.v2.multi.statement.xml"))
    assert camt.accounts == ("NL26VAYB8060476890", "NL26VAYB8060476890")
    assert [(t.direction, t.payment.amount) for t in camt.transactions] == [
        ("CRDT", Decimal("8.85")),
        ("DBIT", Decimal("7.00")),
    ]


@pytest.mark.parametrize(("name", "amount", "ref"), [("camt053.v3.xml", "105.750", "XXXXXXXXXXXXXXXXXXXXXXEUR")])
def test_camt053_v3(bank_file, name, amount, ref):
    (p,) = read_camt(bank_file(name)).payments
    assert (p.amount, p.bank_ref, p.structured_ref) == (Decimal(amount), ref, "4654654654654654")


def test_camt053_v8_status_code_and_pty_name(bank_file):
    camt = read_camt(bank_file("camt053.v8.xml"))
    (t,) = camt.transactions
    assert t.status_code == "BOOK" and t.payment.status is PaymentStatus.BOOKED
    assert t.payment.payer_name == "NAME NAME" and t.payment.bank_ref == "AAAASESS-FP-CN_98765/01"
    assert t.payment.end_to_end_id == "MUELL/FINP/RA12345"


def test_camt052_pending_entry_is_pending(bank_file):
    camt = read_camt(bank_file("camt052.v4.xml"))
    (t,) = camt.transactions
    assert (t.direction, t.status_code) == ("DBIT", "PDNG")
    assert t.payment.status is PaymentStatus.PENDING
    assert t.payment.bank_ref == "ACSR160614165200001"
    assert (t.payment.amount, t.payment.currency) == (Decimal("4.1"), "USD")
    assert camt.payments == ()  # a debit is never a customer payment


def test_camt054_v2_amounts_come_from_amtdtls_and_refs_per_txdtls(bank_file):
    camt = read_camt(bank_file("camt054.v4.xml"))
    txs = [t.payment for t in camt.transactions]
    assert [p.amount for p in txs] == [Decimal("3.1"), Decimal("3.2"), Decimal("3.2")]
    assert [p.ordinal for p in txs] == [0, 1, 2]
    assert [p.structured_ref for p in txs] == ["ISR ref number V1", "ISR ref number V2", "Ref number V3 block 1"]
    assert [p.ref_type for p in txs] == ["ISR Reference", "ISR Reference", "SCOR"]
    assert txs[2].free_text.startswith("Unstructured Remittance Information V3 block 1 Unstructured")


def test_camt054_v2_three_txdtls(bank_file):
    txs = [t.payment for t in read_camt(bank_file("camt054.v2.xml")).transactions]
    assert len(txs) == 3 and {p.bank_ref for p in txs} == {"AAAASESS-FP-ACCR001"}
    assert txs[0].free_text == "Unstructured Remittance Information V1" and txs[0].payer_name == "MUELLER"


@pytest.mark.parametrize(
    "name",
    ["camt054.v8-with-UETR.xml", "camt054.v8-with-financial-institution.xml", "camt054.v2.with-account-name.xml"],
)
def test_minimal_camt054_debits(bank_file, name):
    (t,) = read_camt(bank_file(name)).transactions
    assert (t.direction, t.payment.amount, t.payment.currency) == ("DBIT", Decimal("200000"), "SEK")


def test_camt054_v8_batch(bank_file):
    txs = [t.payment for t in read_camt(bank_file("camt054.v8.xml")).transactions]
    assert [str(p.amount) for p in txs] == ["3.1", "3.2", "3.2"]
    assert txs[0].payer_name == "UNIFITS GmbH" and txs[0].payer_account == "CH2801234000123456789"
    assert txs[1].end_to_end_id == "UXC06170000006PI00001EE00002"


def test_oca_camt053_reversal_batch_and_payer(bank_file):
    camt = read_camt(bank_file("test-camt053"))
    back, back2, paid = camt.payments
    assert back.reversal and back2.reversal  # DBIT + RvslInd: customer money taken back
    assert (back.amount, back2.amount) == (Decimal("564.05"), Decimal("100.00"))
    assert back.return_reason == "AC06" and back.end_to_end_id == "TESTBANK/NL/20141229/01206408"
    assert not paid.reversal and paid.amount == Decimal("1405.31")
    assert (paid.payer_name, paid.payer_account) == ("3rd party Media", "NL69ABNA0522123643")
    assert paid.free_text == "#RD PARTY MEDIA CUSNO 90782 4210773"


def test_oca_bookgdt_dttm(bank_file):
    (t,) = read_camt(bank_file("test-camt053-bookgdt-dttm")).transactions
    assert t.payment.booking_date == date(2014, 1, 4) and t.payment.value_date == date(2014, 1, 5)
    assert t.payment.amount == Decimal("754.25") and t.direction == "DBIT"


def test_oca_batch_of_two_isr_references(bank_file):
    a, b = read_camt(bank_file("test-camt053-txdtls")).payments
    assert (a.amount, b.amount) == (Decimal("2187.00"), Decimal("1296.00"))
    assert (a.structured_ref, a.ref_type) == ("302388292000011111111111111", "ISR Reference")
    assert (a.ordinal, b.ordinal) == (0, 1) and a.bank_ref == b.bank_ref == "20170323001234567891234567891234"
    assert a.payer_account == "CH2222000000123456789"


def test_oca_camt054_qrr(bank_file):
    (p,) = read_camt(bank_file("test-camt054")).payments
    assert (p.amount, p.bank_ref, p.structured_ref, p.ref_type) == (
        Decimal("5.00"),
        "98888208N8",
        "000000000000000000000000003",
        "QRR",
    )
    assert (p.payer_name, p.payer_account, p.end_to_end_id) == ("Test Customer", "NL46ABNA0499998748", "ENDTOENDID-01")


@pytest.mark.parametrize("name", ["camt53.only-Dt-with-DtTm.xml", "test-camt053-no-ntry"])
def test_no_entries_is_fine(bank_file, name):
    camt = read_camt(bank_file(name))
    assert camt.payments == () and camt.entries == 0 and len(camt.accounts) == 1
