"""Checking a client's dunning ladder against the law of its country. Pure: the day is passed in.

Each problem names the config key, the rule and its source, so the accountant can fix the file.
The ladder must obey the rule pack in force on the given day and every later pack already known.
``check_policies`` runs it for every client before a command works on them.
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import TYPE_CHECKING

from connector.config import ConfigError
from connector.dunning.rules import RulePack, RulePackError, rules_for

if TYPE_CHECKING:
    from connector.config import ClientConfig, Settings, StepConfig

CHANNELS = ("outbox", "email", "tripletex")

# The statute behind each rule, per country, for error messages.
LAW: dict[str, dict[str, str]] = {
    "NO": {
        "fee_after_due": "inkassoforskriften § 1-2",
        "fee_count": "inkassoforskriften § 1-3",
        "fee_interval": "inkassoforskriften § 1-3",
        "reminder_interval": "inkassoforskriften § 1-3",
        "notice_deadline": "inkassoloven § 9",
        "notice_after_due": "inkassoloven § 9",
        "fee_agreement": "inkassoforskriften § 1-2",
    },
    "DK": {
        "fee_after_due": "renteloven § 9 b",
        "fee_count": "renteloven § 9 b",
        "fee_interval": "renteloven § 9 b",
        "reminder_interval": "renteloven § 9 b",
        "notice_deadline": "inkassoloven § 10",
        "notice_after_due": "inkassoloven § 10",
        "fee_agreement": "renteloven § 9 b",
    },
    "SE": {
        "fee_after_due": "lag om ersättning för inkassokostnader",
        "fee_count": "lag om ersättning för inkassokostnader",
        "fee_interval": "lag om ersättning för inkassokostnader",
        "reminder_interval": "lag om ersättning för inkassokostnader",
        "notice_deadline": "inkassolagen",
        "notice_after_due": "inkassolagen",
        "fee_agreement": "lag om ersättning för inkassokostnader 2 §",
    },
}

_LETTERS = ("reminder", "collection_notice")


def check_policies(settings: Settings, today: date) -> None:
    """Ladders that break the law of the client's country are config errors naming file, client, key and
    rule. The rule packs in force depend on the day, so this runs where the day is known (the command's
    --as-of), not when the file is parsed."""
    where = f"{settings.source_file}: " if settings.source_file else ""
    problems = [
        f"{where}client '{c.id}': {key}: {msg}" for c in settings.clients for key, msg in ladder_problems(c, today)
    ]
    if problems:
        raise ConfigError(problems)


def ladder_problems(client: ClientConfig, today: date) -> list[tuple[str, str]]:
    """(key, message) for every way the client's ladder breaks a rule pack in force from ``today`` on."""
    try:
        packs = rules_for(client.country).packs_from(today)
    except RulePackError as exc:
        return [("country", str(exc))]
    out: list[tuple[str, str]] = []
    for pack in packs:
        for problem in _check(client, pack):
            if problem not in out:
                out.append(problem)
    out.extend(_channel_problems(client))
    return out


def _check(client: ClientConfig, pack: RulePack) -> list[tuple[str, str]]:
    steps: list[StepConfig] = list(client.policy.steps)
    law = LAW[pack.country]
    c = pack.country
    out: list[tuple[str, str]] = []
    at = 0  # days after the due date each step is sent at the earliest
    sent_at: list[int] = []
    for s in steps:
        at += s.days
        sent_at.append(at)
    fee_idx = [i for i, s in enumerate(steps) if s.fee and s.action in _LETTERS]
    for i in fee_idx:
        if sent_at[i] < pack.fee_min_days_after_due:
            out.append(
                (
                    f"policy.steps[{i}].days",
                    f"{c}: a fee may only be charged for a {steps[i].action} sent at least "
                    f"{pack.fee_min_days_after_due} days after the due date ({law['fee_after_due']}); "
                    f"this step is sent {sent_at[i]} days after due",
                )
            )
        if pack.fee_requires_agreement and not client.policy.fee_agreed:
            out.append(
                (
                    f"policy.steps[{i}].fee",
                    f"{c}: a reminder fee is lawful only if agreed when the debt arose ({law['fee_agreement']}); "
                    "set policy.fee_agreed = true if it was, or fee = false",
                )
            )
    if len(fee_idx) > pack.max_fee_notices:
        i = fee_idx[pack.max_fee_notices]
        out.append(
            (
                f"policy.steps[{i}].fee",
                f"{c}: fees for at most {pack.max_fee_notices} reminders/notices per claim ({law['fee_count']}); "
                f"the ladder has {len(fee_idx)} fee-bearing steps",
            )
        )
    for a, b in itertools.pairwise(fee_idx):
        gap = sent_at[b] - sent_at[a]
        if gap < pack.min_days_between_fee_notices:
            out.append(
                (
                    f"policy.steps[{b}].days",
                    f"{c}: fee-bearing notices must be at least {pack.min_days_between_fee_notices} days apart "
                    f"({law['fee_interval']}); step {b} comes {gap} days after step {a}",
                )
            )
    letters = [i for i, s in enumerate(steps) if s.action in _LETTERS]
    for a, b in itertools.pairwise(letters):
        gap = sent_at[b] - sent_at[a]
        if gap < pack.min_days_between_reminders:
            out.append(
                (
                    f"policy.steps[{b}].days",
                    f"{c}: reminders must be at least {pack.min_days_between_reminders} days apart "
                    f"({law['reminder_interval']}); step {b} comes {gap} days after step {a}",
                )
            )
    for i, s in enumerate(steps):
        if s.action == "call" and s.fee:
            out.append(
                (f"policy.steps[{i}].fee", f"{c}: a call carries no fee (only a written reminder or notice may)")
            )
        if s.action == "collection_notice" and pack.notice_after_due and sent_at[i] < 1:
            out.append(
                (
                    f"policy.steps[{i}].days",
                    f"{c}: the collection notice must be sent after the due date ({law['notice_after_due']})",
                )
            )
        if s.action == "collection_case" and i > 0 and s.days < pack.notice_min_deadline_days:
            out.append(
                (
                    f"policy.steps[{i}].days",
                    f"{c}: the collection notice must give the debtor at least {pack.notice_min_deadline_days} days "
                    f"before the case goes to collection ({law['notice_deadline']}); "
                    f"collection_case comes {s.days} days after the notice",
                )
            )
    return out


def _channel_problems(client: ClientConfig) -> list[tuple[str, str]]:
    out = []
    reminders = client.reminders
    for i, s in enumerate(client.policy.steps):
        if s.action not in (*_LETTERS, "call"):
            continue
        if s.action == "call" and s.channel == "tripletex":  # a call's channel carries its written follow-up
            out.append(
                (
                    f"policy.steps[{i}].channel",
                    "a call's written follow-up goes by 'outbox' or 'email'; Tripletex cannot send it",
                )
            )
        elif s.channel not in CHANNELS:
            out.append((f"policy.steps[{i}].channel", f"unknown channel '{s.channel}' (one of {', '.join(CHANNELS)})"))
        elif s.channel == "email" and getattr(reminders, "email", None) is None:
            out.append((f"policy.steps[{i}].channel", "channel 'email' needs a [clients.reminders.email] table"))
        elif s.channel == "tripletex" and getattr(reminders, "tripletex", None) is None:
            out.append(
                (f"policy.steps[{i}].channel", "channel 'tripletex' needs a [clients.reminders.tripletex] table")
            )
    return out
