"""The pay-by date a letter states: the law's minimum from the rule pack, the policy's days if longer.

Pure (country, sending day, policy days → date). The numbers are in ``rulepacks/*.toml``
(``letter_min_deadline_days`` for every letter, ``notice_min_deadline_days`` for a collection notice),
never here. A deadline on a weekend or public holiday of the creditor's country (in DK and SE also a day
the banks are closed: ``calendar``) moves to the next business day: the debtor never gets less than the
minimum, and a payment order given on the first business day after is on time (the usual reading of a
deadline that ends on a day banks are closed).
"""

from __future__ import annotations

from datetime import date, timedelta

from connector.dunning.calendar import effective_due_date, next_business_day
from connector.dunning.rules import RulePackError, pack_on
from connector.model import Action


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


# The ladder letters that state a pay-by date: the reminder (issue 15: so a later fee is lawful and the
# debtor knows by when) and the collection notice (inkassovarsel: the law requires it). The step after such
# a letter waits for its deadline (connector.dunning.ladder.lawful_next_step).
DEADLINE_LETTERS: frozenset[Action] = frozenset({Action.REMINDER, Action.COLLECTION_NOTICE})


def letter_deadline(country: str, step: Action, sent_on: date, ladder_days: int) -> date | None:
    """The pay-by date the letter of ``step`` sent on ``sent_on`` states, or None when it states none.

    ``ladder_days``: the policy's days from this letter to the ladder's next rung: the deadline is never
    shorter. The sending (``connector.actions.send``) and the case timing
    (``connector.dunning.ladder``) both ask here, so the letter and the decision always agree. Without a rule
    pack for the day, the ladder's days (which ``connector.dunning.policy`` checks against the law)."""
    if step not in DEADLINE_LETTERS:
        return None
    try:
        return pay_by_date(country, sent_on, notice=step is Action.COLLECTION_NOTICE, policy_days=ladder_days)
    except RulePackError:
        return effective_due_date(sent_on + timedelta(days=ladder_days), country)


def after_deadline(deadline: date, country: str, settle_days: int) -> date:
    """The first day the next step may be taken after a letter's deadline: the debtor owns the deadline day,
    so from the first business day after it, plus ``settle_days`` business days for a payment made on the
    deadline to show in the bank files (all in the creditor's country's calendar)."""
    day = deadline
    for _ in range(settle_days + 1):
        day = next_business_day(day, country)
    return day
