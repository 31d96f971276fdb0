"""Nets OCR giro via netsgiro: the shared sample, a MOD11 KID ending in '-', sign and reversal types."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connector.bank.ocr import OcrError, read_ocr
from connector.references import kid_mod11, kid_schemes


def test_shared_sample(bank_file):
    ocr = read_ocr(bank_file("ocr_giro_transactions.txt"), "ocr.txt")
    assert len(ocr.payments) == 20
    assert sum(p.amount for p in ocr.payments) == Decimal("51449.00")
    first = ocr.payments[0]
    assert (first.structured_ref, first.amount, first.free_text) == ("0000531", Decimal("1020.00"), "Foo bar baz")
    assert (first.booking_date, first.value_date, first.payer_account) == (
        date(1992, 1, 20),
        date(1992, 1, 16),
        "99990512341",
    )
    assert first.account == "99991042764" and first.bank_ref == "0170031/0000002/0000001"
    assert not any(p.reversal for p in ocr.payments)
    assert all(kid_schemes(p.structured_ref or "") for p in ocr.payments)  # every KID passes MOD10 or MOD11


def _patched(data: bytes, record: int, fn) -> bytes:
    lines = data.decode("iso-8859-1").splitlines()
    lines[record] = fn(lines[record])
    return ("\n".join(lines) + "\n").encode("iso-8859-1")


def test_mod11_kid_with_dash_does_not_abort(bank_file):
    dash_kid = next(kid_mod11(str(n)) for n in range(100000, 200000) if kid_mod11(str(n)).endswith("-"))
    data = _patched(bank_file("ocr_giro_transactions.txt"), 2, lambda r: r[:49] + dash_kid.rjust(25) + r[74:])
    ocr = read_ocr(data)
    assert ocr.payments[0].structured_ref == dash_kid and len(ocr.payments) == 20


def test_reversal_type_and_sign(bank_file):
    data = bank_file("ocr_giro_transactions.txt")
    # record 2 (type 21) → 20 reversing with text; its three records carry the type at 4:6
    for i in (2, 3, 4):
        data = _patched(data, i, lambda r: r[:4] + "20" + r[6:])
    data = _patched(data, 5, lambda r: r[:31] + "-" + r[32:])  # type 10 with a minus sign
    ocr = read_ocr(data)
    assert ocr.payments[0].reversal and ocr.payments[1].reversal
    assert not ocr.payments[2].reversal


def test_garbage_is_a_clear_error():
    with pytest.raises(OcrError, match="not a valid Nets OCR giro file"):
        read_ocr(b"NY000010 nonsense\n", "x.txt")
