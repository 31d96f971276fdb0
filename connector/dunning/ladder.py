"""The dunning ladder: an invoice's next rung after the steps already taken, and the earliest day it may be
taken under the policy and the law. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from connector.config import ClientConfig, StepConfig
from connector.dunning.rules import RulePackError, pack_on
from connector.model import Action, DunningStep


@dataclass(frozen=True)
class NextStep:
    action: Action
    due_on: date  # earliest day the step may be taken
    step: StepConfig


def next_ladder_step(client: ClientConfig, done: Sequence[DunningStep], effective_due: date | None) -> NextStep | None:
    """The invoice's next rung with the legal intervals applied, whatever holds it."""
    return lawful_next_step(next_step(client.policy.steps, done, effective_due), done, client.country)


def lawful_next_step(nxt: NextStep | None, done: Sequence[DunningStep], country: str) -> NextStep | None:
    """Push the step's earliest day out to the legal minimum intervals of the rule pack.

    Between letters (reminders, notices) the pack's minimum interval; a case only once the notice's
    legal deadline has passed, even when steps were taken outside arsync.
    """
    if nxt is None or not done:
        return nxt
    try:
        pack = pack_on(country, nxt.due_on)
    except RulePackError:
        return nxt
    earliest = nxt.due_on
    letters = [s.sent_on for s in done if s.step in (Action.REMINDER, Action.COLLECTION_NOTICE)]
    if nxt.action in (Action.REMINDER, Action.COLLECTION_NOTICE) and letters:
        earliest = max(earliest, max(letters) + timedelta(days=pack.min_days_between_reminders))
    notices = [s.sent_on for s in done if s.step is Action.COLLECTION_NOTICE]
    if nxt.action is Action.COLLECTION_CASE and notices:
        earliest = max(earliest, max(notices) + timedelta(days=pack.notice_min_deadline_days))
    return nxt if earliest == nxt.due_on else NextStep(nxt.action, earliest, nxt.step)


def next_step(ladder: list[StepConfig], done: Sequence[DunningStep], effective_due: date | None) -> NextStep | None:
    """The ladder rung after the steps already taken, and the earliest day it may be taken."""
    position = 0
    last_on: date | None = None
    for taken in sorted(done, key=lambda s: s.sent_on):
        # A step taken further up (e.g. a notice sent outside arsync) moves the invoice up to it.
        for i in range(position, len(ladder)):
            if ladder[i].action == taken.step:
                position = i + 1
                last_on = taken.sent_on
                break
    if position >= len(ladder):
        return None
    step = ladder[position]
    anchor = last_on if last_on is not None else effective_due
    if anchor is None:
        return None
    return NextStep(Action(step.action), anchor + timedelta(days=step.days), step)
