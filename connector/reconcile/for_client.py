"""Reconcile one client's stored facts under that client's policy — the one call every stage uses,
so the nightly decision, the push re-check and the after-push follow-up see the same allocations."""

from __future__ import annotations

from typing import Any

from connector.config import ClientConfig
from connector.model import Facts
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
        **slice_options,
    )
