"""Amounts and dates as Norwegian, Danish and Swedish readers write them: one module (connector.formats) for
the letters, the reports and the workbench."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from connector import formats

NBSP = "\u00a0"


def test_numbers_group_and_separate_decimals_per_language() -> None:
    amount = Decimal("1234567.5")
    assert formats.amount(amount, "nb") == f"1{NBSP}234{NBSP}567,50"
    assert formats.amount(amount, "sv") == f"1{NBSP}234{NBSP}567,50"
    assert formats.amount(amount, "da") == "1.234.567,50"
    assert formats.amount(Decimal("-0.5"), "nb") == "\u22120,50"
    assert formats.money(Decimal("999.999"), "NOK", "nb") == f"1{NBSP}000,00{NBSP}NOK"  # shown to the øre
    assert formats.amount(Decimal("12345678901234567890.01"), "da") == "12.345.678.901.234.567.890,01"  # exact


def test_rounding_is_half_up_everywhere_and_whole_units_on_request() -> None:
    assert formats.amount(Decimal("0.125"), "nb") == "0,13"  # half up, not to even
    assert formats.amount(Decimal("-2.5"), "da", 0) == "\u22123"
    assert formats.money(Decimal("1234.5"), "DKK", "da", places=0) == f"1.235{NBSP}DKK"
    assert formats.amount(7, "sv", 0) == "7"


def test_percentages_and_shares() -> None:
    assert formats.percent(Decimal("12.5"), "nb") == f"12,50{NBSP}%"
    assert formats.share(Decimal("0.4567"), "da") == f"45,7{NBSP}%"
    assert formats.share(None, "nb") == "–"
    assert formats.days(Decimal("31.25"), "sv") == f"31,3{NBSP}days"
    assert formats.days(None, "sv") == "–"


def test_dates_per_language() -> None:
    assert formats.day(date(2026, 7, 27), "nb") == "27.07.2026"
    assert formats.day(date(2026, 7, 27), "da") == "27.07.2026"
    assert formats.day(date(2026, 7, 27), "sv") == "2026-07-27"
    assert formats.day(None, "nb") == "–"
    assert formats.month(date(2026, 1, 31), "nb") == "01.26"
    assert formats.month(date(2026, 1, 31), "sv") == "26-01"
    assert formats.moment(None, "nb") == "never"
    assert formats.moment(datetime(2026, 7, 27, 12, 0, tzinfo=UTC), "sv").startswith("2026-07-2")
