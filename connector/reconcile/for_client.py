"""Reconcile one client's stored facts under that client's policy — the one call every stage uses,
so the nightly decision, the push re-check and the after-push follow-up see the same allocations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from connector.config import ClientConfig
from connector.model import SELF_BOOKING_CHANNELS, ZERO, Facts
from connector.reconcile.matching import Reconciliation, reconcile


def reconcile_facts(facts: Facts, client: ClientConfig, **slice_options: Any) -> Reconciliation:
    """``slice_options``: what ``connector.engine.slices`` passes for one slice of a sliced client."""
    return reconcile(
        facts.invoices,
        facts.payments,
        customers=facts.customers,
        tolerance=client.policy.payment_tolerance,
        kid_schemes=client.policy.kid_schemes,
        inkasso_payers=client.policy.inkasso_payers,
        country=client.country,
        charges=letter_charges(facts),
        **slice_options,
    )


def letter_charges(facts: Facts) -> dict[str, Sequence[tuple[date, Decimal, str]]]:
    """Invoice → (day, amount, currency) of each fee and interest its letters charged, while the letter's step
    stands (a voided letter is no step and charged nothing); a fee the ledger's own reminder function charged
    is on its step."""
    standing = {(s.invoice_number, s.step, s.sent_on) for s in facts.steps}
    out: dict[str, list[tuple[date, Decimal, str]]] = {}
    for c in facts.charges:
        if (c.invoice_number, c.step, c.charged_on) in standing and c.amount > ZERO:
            out.setdefault(c.invoice_number, []).append((c.charged_on, c.amount, c.currency))
    for s in facts.steps:
        if s.channel in SELF_BOOKING_CHANNELS and s.fee > ZERO and s.currency:
            out.setdefault(s.invoice_number, []).append((s.sent_on, s.fee, s.currency))
    for found in out.values():
        found.sort()
    return dict(out)
