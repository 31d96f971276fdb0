"""Refreshing the register cache for the debtors about to get a collection notice or case.

The pipeline calls :func:`refresh` between two pure decisions: the first says who is about to
escalate, the register is asked (or the cache reused while fresh), the second decides with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from connector.config import ClientConfig
from connector.dunning.holds import REGISTRY_STEPS, needs_registry
from connector.model import Decision, RegistryFact
from connector.registry.brreg import BrregClient
from connector.store import Store
from connector.store import dunning as dunning_store


def debtors_to_check(client: ClientConfig, store: Store, decisions: Iterable[Decision]) -> set[str]:
    customers = store.facts(client.id).customers
    out = set()
    for d in decisions:
        if d.action in REGISTRY_STEPS or d.next_step in REGISTRY_STEPS:
            org = needs_registry(customers.get(d.customer_id))
            if org:
                out.add(org)
    return out


def refresh(
    client: ClientConfig, store: Store, org_nos: Iterable[str], as_of: date, api: BrregClient | None = None
) -> list[RegistryFact]:
    settings = client.registry
    if not settings.enabled:
        return []
    api = api or BrregClient(settings)
    with store.engine.connect() as conn:
        cached = dunning_store.load_registry(conn, "brreg")
    fetched = []
    for org in sorted(set(org_nos)):
        fact = cached.get(org)
        if fact is not None and fact.ok and (as_of - fact.fetched_at.date()).days <= settings.max_age_days:
            continue  # fresh enough (an answer fetched after a backfill's as-of day counts as fresh)
        answer = api.lookup(org)
        if not answer.ok and fact is not None and fact.ok and fact.insolvent:
            continue  # an outage never un-knows a bankruptcy: keep the insolvent answer
        fetched.append(answer)
    if fetched:
        with store.transaction() as conn:
            dunning_store.save_registry(conn, fetched)
    return fetched
