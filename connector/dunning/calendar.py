"""Business days per country: a due date on a weekend or public holiday moves to the next business day."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=year)


def is_business_day(day: date, country: str) -> bool:
    return day.weekday() < 5 and day not in _holidays(country, day.year)


def next_business_day(day: date, country: str) -> date:
    """The first business day after ``day``."""
    return effective_due_date(day + timedelta(days=1), country)


@lru_cache(maxsize=4096)
def effective_due_date(due: date, country: str) -> date:
    day = due
    while not is_business_day(day, country):
        day += timedelta(days=1)
    return day
