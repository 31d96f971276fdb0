"""Late-payment interest (forsinkelsesrente / morarente / dröjsmålsränta): simple, per half-year rate.

Interest runs from the day after the due date, actual days / 365, at the rate in force for each day
(the rule pack's half-year table). A day without a published rate means no amount at all: the
result says why instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from connector.dunning.rules import InterestPeriod, rules_for
from connector.frozen import fast_init
from connector.model import ZERO, money

DAYS_PER_YEAR = Decimal(365)


@fast_init
@dataclass(frozen=True, slots=True)
class Interest:
    amount: Decimal | None  # None: not computable from published rates
    currency: str
    start: date  # first interest day (the day after the due date)
    through: date
    detail: str  # rates and days, or why there is no amount


def late_interest(principal: Decimal, due: date, through: date, country: str, currency: str) -> Interest:
    start = due + timedelta(days=1)
    if through < start or principal <= ZERO:
        return Interest(ZERO, currency, start, through, "no interest: not overdue")
    rules = rules_for(country)
    if currency != rules.currency:
        return Interest(None, currency, start, through, f"not computed: {country} rates are for {rules.currency}")
    periods = rules.interest_periods()
    total = Decimal(0)
    parts: list[str] = []
    for i, period in enumerate(periods):
        end = periods[i + 1].valid_from - timedelta(days=1) if i + 1 < len(periods) else date.max
        lo, hi = max(start, period.valid_from), min(through, end)
        if lo > hi:
            continue
        days = (hi - lo).days + 1
        if period.rate is None:
            return Interest(None, currency, start, through, _missing(period))
        total += principal * period.rate / 100 * days / DAYS_PER_YEAR
        parts.append(f"{days} d at {period.rate} %")
    if not periods or start < periods[0].valid_from:
        return Interest(None, currency, start, through, f"not computed: no {country} rate before the rule pack")
    return Interest(money(total), currency, start, through, ", ".join(parts))


def unpublished_since(country: str, through: date) -> date | None:
    """The first day up to ``through`` for which the country's rule pack has no published rate (from then on
    no late interest is computed), or None: every day up to ``through`` has one."""
    for period in rules_for(country).interest_periods():
        if period.valid_from > through:
            break
        if period.rate is None:
            return period.valid_from
    return None


def _missing(period: InterestPeriod) -> str:
    return f"not computed: no published rate from {period.valid_from.isoformat()} in the rule pack"


def rates_applied(country: str, start: date, through: date) -> tuple[Decimal, ...]:
    """The distinct yearly rates (percent) in force between ``start`` and ``through``, in order: a letter
    states the rate when there is one."""
    periods = rules_for(country).interest_periods()
    out: list[Decimal] = []
    for i, period in enumerate(periods):
        end = periods[i + 1].valid_from - timedelta(days=1) if i + 1 < len(periods) else date.max
        if period.rate is not None and max(start, period.valid_from) <= min(through, end) and period.rate not in out:
            out.append(period.rate)
    return tuple(out)
