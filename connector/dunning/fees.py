"""The fee a reminder or collection notice may lawfully carry on its sending date. Pure.

A fee is charged only when the policy step asks for one *and* the rule pack in force on the
sending date allows it: the cap, the minimum days after the due date, how many fee-bearing notices
a claim may have, and the interval between them. Otherwise the fee is zero and the reason says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from connector.dunning.rules import RulePackError, pack_on
from connector.frozen import fast_init
from connector.model import ZERO, Action, DunningStep

FEE_STEPS = (Action.REMINDER, Action.COLLECTION_NOTICE)


@fast_init
@dataclass(frozen=True, slots=True)
class Fee:
    amount: Decimal
    currency: str
    reason: str


def fee_for(
    step: Action,
    wants_fee: bool,
    *,
    country: str,
    currency: str,
    due: date,
    sent_on: date,
    previous: Sequence[DunningStep],
    fee_agreed: bool = False,
) -> Fee:
    if step not in FEE_STEPS or not wants_fee:
        return Fee(ZERO, currency, "no fee: not asked for by the policy step")
    try:
        pack = pack_on(country, sent_on)
    except RulePackError as exc:
        return Fee(ZERO, currency, f"no fee: {exc}")
    law = f"{country} rule pack {pack.valid_from.isoformat()}"
    if currency != pack.currency:
        return Fee(ZERO, currency, f"no fee: {law} caps fees in {pack.currency}, the invoice is in {currency}")
    if pack.fee_requires_agreement and not fee_agreed:
        return Fee(ZERO, currency, f"no fee: {law} allows a fee only if agreed (policy.fee_agreed)")
    days_after_due = (sent_on - due).days
    if days_after_due < pack.fee_min_days_after_due:
        return Fee(
            ZERO,
            currency,
            f"no fee: {days_after_due} days after due on {sent_on.isoformat()}, {law} requires "
            f"{pack.fee_min_days_after_due}",
        )
    charged = sorted((s for s in previous if s.fee > ZERO and s.sent_on < sent_on), key=lambda s: s.sent_on)
    if len(charged) >= pack.max_fee_notices:
        return Fee(
            ZERO, currency, f"no fee: {len(charged)} fee-bearing notices already, {law} allows {pack.max_fee_notices}"
        )
    if charged and (sent_on - charged[-1].sent_on).days < pack.min_days_between_fee_notices:
        gap = (sent_on - charged[-1].sent_on).days
        return Fee(
            ZERO,
            currency,
            f"no fee: {gap} days since the last fee, {law} requires {pack.min_days_between_fee_notices}",
        )
    return Fee(pack.reminder_fee_cap, currency, f"{law}: {pack.fee_basis}")
