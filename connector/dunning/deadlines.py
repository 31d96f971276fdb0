"""The pay-by date a letter states: the law's minimum from the rule pack, the policy's days if longer.

Pure (country, sending day, policy days → date). The numbers are in ``rulepacks/*.toml``
(``letter_min_deadline_days`` for every letter, ``notice_min_deadline_days`` for a collection notice),
never here. A deadline on a weekend or public holiday of the creditor's country moves to the next
business day: the debtor never gets less than the minimum, and a payment order given on the first
business day after is on time (the usual reading of a deadline that ends on a day banks are closed).
"""

from __future__ import annotations

from datetime import date, timedelta

from connector.dunning.calendar import effective_due_date
from connector.dunning.rules import pack_on


def pay_by_date(country: str, sent_on: date, *, notice: bool = False, policy_days: int = 0) -> date:
    """The pay-by date of a letter sent on ``sent_on`` in ``country``.

    ``notice``: the letter is a collection notice (inkassovarsel), which has its own legal minimum.
    ``policy_days``: the client's own deadline (for example the days until the next ladder step); used
    when longer than the law's. Raises ``RulePackError`` when no pack covers the sending day."""
    if policy_days < 0:
        raise ValueError(f"policy_days must not be negative, got {policy_days}")
    pack = pack_on(country, sent_on)
    days = max(pack.letter_min_deadline_days, policy_days)
    if notice:
        days = max(days, pack.notice_min_deadline_days)
    return effective_due_date(sent_on + timedelta(days=days), country)
