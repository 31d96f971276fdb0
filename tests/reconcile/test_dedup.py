from __future__ import annotations

from datetime import date

from recon_helpers import pay

from connector.model import PaymentStatus
from connector.reconcile.dedup import dedup


def test_same_entry_in_054_and_053_counts_once():
    a = pay("R1", "100.00")
    assert dedup([a, pay("R1", "100.00")]) == [a]


def test_booked_supersedes_pending_twin():
    pending = pay("R1", "100.00", on=date(2024, 3, 3), status=PaymentStatus.PENDING)
    booked = pay("R1", "100.00", on=date(2024, 3, 4))
    assert dedup([pending, booked]) == [booked]
    assert dedup([booked, pending]) == [booked]


def test_summary_entry_gives_way_to_its_txdtls():
    summary = pay("R1", "300.00", ordinal=-1)
    details = [pay("R1", "100.00", ordinal=0), pay("R1", "200.00", ordinal=1)]
    assert dedup([summary, *details]) == details


def test_two_real_payments_with_same_date_amount_name_are_both_kept():
    a = pay("R1", "100.00", payer_name="Ola")
    b = pay("R2", "100.00", payer_name="Ola")
    assert dedup([a, b]) == [a, b]


def test_reused_reference_a_year_later_is_a_new_payment():
    a = pay("R1", "100.00", on=date(2023, 3, 4))
    b = pay("R1", "100.00", on=date(2024, 3, 4))
    assert len(dedup([a, b])) == 2


# -- the same money as Nets OCR giro and as camt ------------------------------------------------------

KID = "1234567890128"


def _ocr(amount: str, on: date = date(2024, 3, 4), kid: str | None = KID, ref: str = "1/1/1", **kw):
    return pay(ref, amount, on=on, source="ocr", structured_ref=kid, **kw)


def test_ocr_and_camt_of_the_same_kid_payment_count_once():
    camt = pay("A1", "500.00", on=date(2024, 3, 5), structured_ref=KID)
    ocr = _ocr("500.00", kid="1234 5678 90128")
    assert dedup([ocr, camt]) == [camt]
    assert dedup([camt, ocr]) == [camt]


def test_two_ocr_payments_of_one_kid_pair_with_at_most_one_camt_each():
    camt = pay("A1", "500.00", structured_ref=KID)
    first, second = _ocr("500.00", ref="1/1/1"), _ocr("500.00", ref="1/1/2")
    assert dedup([first, second, camt]) == [second, camt]
    assert sorted(p.key for p in dedup([camt, second, first])) == sorted([second.key, camt.key])


def test_ocr_and_camt_are_not_paired_without_kid_or_outside_the_window_or_on_another_amount():
    camt = pay("A1", "500.00", structured_ref=KID)
    assert len(dedup([camt, _ocr("500.00", on=date(2024, 3, 8))])) == 2  # 4 days apart
    assert len(dedup([camt, _ocr("499.00")])) == 2
    assert len(dedup([camt, _ocr("500.00", kid="0000531")])) == 2
    plain = pay("A2", "500.00", payer_name="Ola")
    assert len(dedup([plain, _ocr("500.00", kid=None, payer_name="Ola")])) == 2  # never date+amount+name
    assert len(dedup([camt, _ocr("500.00", account="99999999999")])) == 2  # another creditor account


def test_ocr_and_camt_writing_the_account_as_its_iban_are_one_account():
    # Nets OCR giro writes the 11 digits; a camt file may write the same account as an IBAN
    camt = pay("A1", "500.00", structured_ref=KID, account="NO9799991042764")
    assert dedup([camt, _ocr("500.00", account="99991042764")]) == [camt]
    assert len(dedup([camt, _ocr("500.00", account="99991042772")])) == 2  # another account is another
