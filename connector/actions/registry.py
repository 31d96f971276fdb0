"""Refreshing the register cache for the debtors about to get a collection notice or case.

The engine (``connector.engine.decisions.decide_night``) asks for it between reading a client's facts
and deciding: the core names the debtors about to escalate (``dunning.decide.registry_debtors``), the
register is asked here (or the cache reused while fresh), and the answers fetched are stored and handed
back so the one decision of the night is made with them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from connector.config import ClientConfig
from connector.model import RegistryFact
from connector.registry.brreg import BrregClient
from connector.store import Store
from connector.store.registry import load_registry, save_registry


def refresh(
    client: ClientConfig, store: Store, org_nos: Iterable[str], as_of: date, api: BrregClient | None = None
) -> list[RegistryFact]:
    settings = client.registry
    if not settings.enabled:
        return []
    api = api or BrregClient(settings)
    with store.connect() as conn:
        cached = load_registry(conn, "brreg")
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
            save_registry(conn, fetched)
    return fetched
