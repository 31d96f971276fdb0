"""Fee, late interest and B2B compensation of an overdue invoice, as evidence. Pure.

Amounts come from the rule packs; when a number is not known the evidence says so instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from connector.dunning.fees import FEE_STEPS, Fee, fee_for
from connector.dunning.interest import Interest, late_interest
from connector.dunning.rules import RulePackError, pack_on
from connector.model import Action, Customer, DunningStep, Evidence, Invoice


def step_fee(
    inv: Invoice,
    country: str,
    action: Action,
    wants_fee: bool,
    effective_due: date,
    sent_on: date,
    steps: Sequence[DunningStep],
    fee_agreed: bool,
) -> Fee:
    return fee_for(
        action,
        wants_fee,
        country=country,
        currency=inv.currency,
        due=effective_due,
        sent_on=sent_on,
        previous=steps,
        fee_agreed=fee_agreed,
    )


def interest_on(inv: Invoice, country: str, open_amount: Decimal, effective_due: date, as_of: date) -> Interest:
    return late_interest(open_amount, effective_due, as_of, country, inv.currency)


def charge_evidence(
    inv: Invoice,
    country: str,
    open_amount: Decimal,
    effective_due: date,
    as_of: date,
    action: Action | None,
    wants_fee: bool,
    steps: Sequence[DunningStep],
    fee_agreed: bool,
    customer: Customer | None,
) -> list[Evidence]:
    out: list[Evidence] = []
    if action in FEE_STEPS:
        fee = step_fee(inv, country, action, wants_fee, effective_due, as_of, steps, fee_agreed)
        out.append(Evidence("fee", f"{action} fee {fee.amount} {fee.currency}: {fee.reason}", amount=fee.amount))
    interest = interest_on(inv, country, open_amount, effective_due, as_of)
    if interest.amount is None:
        out.append(Evidence("interest", f"late interest from {interest.start.isoformat()}: {interest.detail}"))
    elif interest.amount:
        out.append(
            Evidence(
                "interest",
                f"late interest {interest.amount} {interest.currency} from {interest.start.isoformat()} "
                f"to {interest.through.isoformat()} ({interest.detail}); shown, not charged",
                amount=interest.amount,
                on=interest.through,
            )
        )
    if customer is not None and customer.org_no and not customer.is_person:
        try:
            pack = pack_on(country, as_of)
        except RulePackError:
            return out
        if pack.currency == inv.currency:
            out.append(
                Evidence(
                    "compensation",
                    f"B2B fixed compensation claimable: {pack.b2b_compensation} {pack.currency} "
                    f"({country} rule pack {pack.valid_from.isoformat()}); not charged automatically",
                    amount=pack.b2b_compensation,
                )
            )
    return out
