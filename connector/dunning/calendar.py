"""Business days per country: a due date on a weekend or public holiday moves to the next business day.

Denmark and Sweden also have weekdays that are no business days though they are no public holiday: their
banks are closed, and a payment made then is booked on the next business day (settle_days counts on that).
- SE: midsommarafton, julafton, nyårsafton — a deadline falling on one moves to the next weekday by law
  (lag (1930:173) om beräkning av lagstadgad tid 2 §); Bankgirot does not settle on them.
- DK: Nationalbanken's banklukkedage — the Friday after Kristi himmelfartsdag, 5 June (grundlovsdag),
  24 and 31 December (nationalbanken.dk, "Banklukkedage").
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


def _bank_closed(country: str, year: int, public: set[date]) -> set[date]:
    """The weekdays that are no business day in ``country`` besides its public holidays."""
    if country == "SE":
        midsummer_eve = next(d for d in (date(year, 6, 19) + timedelta(days=i) for i in range(7)) if d.weekday() == 4)
        return {midsummer_eve, date(year, 12, 24), date(year, 12, 31)}
    if country == "DK":
        # Easter Sunday is the only public holiday on a Sunday in March or April (whatever the names' language)
        easter = next(d for d in public if d.weekday() == 6 and d.month in (3, 4))
        friday_after_ascension = easter + timedelta(days=40)
        return {friday_after_ascension, date(year, 6, 5), date(year, 12, 24), date(year, 12, 31)}
    return set()


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[date]:
    public = set(holidays.country_holidays(country, years=year))
    return frozenset(public | _bank_closed(country, year, public))


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
