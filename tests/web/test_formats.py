"""Amounts and dates as Norwegian, Danish and Swedish readers write them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from connector.web import formats

NBSP = "\u00a0"


def test_numbers_group_and_separate_decimals_per_language() -> None:
    amount = Decimal("1234567.5")
    assert formats.number(amount, "nb") == f"1{NBSP}234{NBSP}567,50"
    assert formats.number(amount, "sv") == f"1{NBSP}234{NBSP}567,50"
    assert formats.number(amount, "da") == "1.234.567,50"
    assert formats.number(Decimal("-0.5"), "nb") == "\u22120,50"
    assert formats.money(Decimal("999.999"), "NOK", "nb") == f"1{NBSP}000,00{NBSP}NOK"  # shown to the øre
    assert formats.number(Decimal("12345678901234567890.01"), "da") == "12.345.678.901.234.567.890,01"  # exact


def test_dates_per_language() -> None:
    assert formats.day(date(2026, 7, 27), "nb") == "27.07.2026"
    assert formats.day(date(2026, 7, 27), "da") == "27.07.2026"
    assert formats.day(date(2026, 7, 27), "sv") == "2026-07-27"
    assert formats.day(None, "nb") == "–"
    assert formats.moment(None, "nb") == "never"
    assert formats.moment(datetime(2026, 7, 27, 12, 0, tzinfo=UTC), "sv").startswith("2026-07-2")
