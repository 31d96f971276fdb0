"""The dunning ladder: an invoice's next rung after the steps already taken, and the earliest day it may be
taken under the policy and the law. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from connector.config import ClientConfig, StepConfig
from connector.dunning.deadlines import DEADLINE_LETTERS, after_deadline, letter_deadline
from connector.dunning.rules import RulePackError, pack_on
from connector.model import Action, DunningStep


@dataclass(frozen=True)
class NextStep:
    action: Action
    due_on: date  # earliest day the step may be taken
    step: StepConfig


def next_ladder_step(client: ClientConfig, done: Sequence[DunningStep], effective_due: date | None) -> NextStep | None:
    """The invoice's next rung with the legal intervals and the last letter's deadline applied, whatever
    holds it."""
    return lawful_next_step(next_step(client.policy.steps, done, effective_due), done, client)


def lawful_next_step(nxt: NextStep | None, done: Sequence[DunningStep], client: ClientConfig) -> NextStep | None:
    """Push the step's earliest day out to the legal minimum intervals of the rule pack and past the deadline
    the last letter stated.

    Between letters (reminders, notices) the pack's minimum interval; a case only once the notice's
    legal deadline has passed, even when steps were taken outside arsync. After a letter that states a
    deadline, the next step waits until the first business day after it plus ``policy.settle_days``
    business days: the debtor owns the deadline day, and a payment made on it reaches the bank files later.
    """
    if nxt is None or not done:
        return nxt
    earliest = nxt.due_on
    try:
        pack = pack_on(client.country, nxt.due_on)
    except RulePackError:
        pack = None
    if pack is not None:
        letters = [s.sent_on for s in done if s.step in (Action.REMINDER, Action.COLLECTION_NOTICE)]
        if nxt.action in (Action.REMINDER, Action.COLLECTION_NOTICE) and letters:
            earliest = max(earliest, max(letters) + timedelta(days=pack.min_days_between_reminders))
        notices = [s.sent_on for s in done if s.step is Action.COLLECTION_NOTICE]
        if nxt.action is Action.COLLECTION_CASE and notices:
            earliest = max(earliest, max(notices) + timedelta(days=pack.notice_min_deadline_days))
    last = last_deadline_letter(done)
    if last is not None:
        deadline = stated_deadline(client, last.step, last.sent_on, done)
        if deadline is not None:
            earliest = max(earliest, after_deadline(deadline, client.country, client.policy.settle_days))
    return nxt if earliest == nxt.due_on else NextStep(nxt.action, earliest, nxt.step)


def last_deadline_letter(done: Sequence[DunningStep]) -> DunningStep | None:
    """The latest step taken whose letter states a deadline."""
    letters = [s for s in done if s.step in DEADLINE_LETTERS]
    return max(letters, key=lambda s: s.sent_on) if letters else None


def stated_deadline(client: ClientConfig, step: Action, sent_on: date, done: Sequence[DunningStep] = ()) -> date | None:
    """The pay-by date the client's letter of ``step`` sent on ``sent_on`` states (None: it states none): the
    one definition the letter (``connector.actions.letters``) and the next step's timing share.

    ``done``: the invoice's steps (those before ``sent_on`` place the letter on the ladder; none: the first
    rung of its kind). The deadline gives at least the days of the rung after the letter."""
    if step not in DEADLINE_LETTERS:
        return None
    ladder = client.policy.steps
    position, _ = _position(ladder, [s for s in done if s.sent_on < sent_on])
    rung = next((i for i in range(position, len(ladder)) if ladder[i].action == step), None)
    days = ladder[rung + 1].days if rung is not None and rung + 1 < len(ladder) else 0
    return letter_deadline(client.country, step, sent_on, days)


def _position(ladder: Sequence[StepConfig], done: Sequence[DunningStep]) -> tuple[int, date | None]:
    """How far up the ladder the steps taken are (the index of the next rung), and the day of the last."""
    position = 0
    last_on: date | None = None
    for taken in sorted(done, key=lambda s: s.sent_on):
        # A step taken further up (e.g. a notice sent outside arsync) moves the invoice up to it.
        for i in range(position, len(ladder)):
            if ladder[i].action == taken.step:
                position = i + 1
                last_on = taken.sent_on
                break
    return position, last_on


def next_step(ladder: list[StepConfig], done: Sequence[DunningStep], effective_due: date | None) -> NextStep | None:
    """The ladder rung after the steps already taken, and the earliest day it may be taken."""
    position, last_on = _position(ladder, done)
    if position >= len(ladder):
        return None
    step = ladder[position]
    anchor = last_on if last_on is not None else effective_due
    if anchor is None:
        return None
    return NextStep(Action(step.action), anchor + timedelta(days=step.days), step)
