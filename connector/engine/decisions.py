"""Every invoice's decision for one client: read its facts (slice by slice when it is very large), reconcile
and call the pure core (``connector.dunning.decide``) on them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from connector.config import ClientConfig
from connector.dunning.decide import decide, sort_decisions
from connector.engine.slices import Slice, SlicedRun
from connector.model import Decision
from connector.store import Store


def decide_client(
    store: Store, client: ClientConfig, as_of: date, quiesce: Callable[[], bool] | None = None
) -> list[Decision]:
    """Every invoice's decision. A very large client is matched and decided one slice of customers at a time
    (connector.engine.slices), with the same result as in one piece; ``quiesce`` idles other threads so
    slices may run in two processes."""

    def work(part: Slice) -> list[Decision]:
        return decide(part.facts, client, as_of, part.recon)

    decisions: list[Decision] = []
    for decided in SlicedRun(store, client, quiesce=quiesce).map(work):
        decisions.extend(decided)
    return sort_decisions(decisions)
