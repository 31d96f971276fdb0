"""What the pages read, each through the function the command line uses for the same thing.

- aging: ``engine.decisions.decide_client`` + ``reports.aging.aging_rows``, exactly as ``arsync report aging``;
- cases: ``Store.cases`` as ``arsync cases list``;
- open items: the decisions the last run stored (``store.decisions``);
- freshness: the sync status and the core's own freshness holds (the same rule that holds dunning).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from connector.config import ClientConfig
from connector.engine.decisions import decide_client
from connector.model import ZERO, Case, CaseStatus, Decision
from connector.reports import aging
from connector.reports.freshness import Freshness as Freshness  # re-exported: the pages use data.freshness
from connector.reports.freshness import freshness as freshness
from connector.store import Store

log = logging.getLogger("arsync.web")


# ---- freshness: connector.reports.freshness (the command line shows the same) ----------------


# ---- aging --------------------------------------------------------------------------------------


@dataclass
class ClientAging:
    client: ClientConfig
    rows: list[aging.AgingRow] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    error: str | None = None  # the client's decisions could not be computed


def client_aging(store: Store, client: ClientConfig, as_of: date) -> ClientAging:
    """One client's aging rows, as ``arsync report aging --client ID --as-of DATE`` computes them."""
    try:
        decisions = decide_client(store, client, as_of)
        customers = {c.customer_id: c for c in store.customers(client.id)}
        return ClientAging(client, aging.aging_rows(client.id, customers, decisions, as_of), decisions)
    except Exception as exc:  # one client that cannot be decided never hides the others
        log.exception("aging for client %s failed", client.id)
        return ClientAging(client, error=str(exc) or exc.__class__.__name__)


@dataclass
class Totals:
    """Bucket sums of some aging rows in one currency."""

    currency: str
    buckets: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(aging.BUCKETS, ZERO))
    disputed: Decimal = ZERO
    held: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)


def totals(rows: Sequence[aging.AgingRow]) -> list[Totals]:
    """Per currency (amounts in different currencies are never added up), in currency order."""
    out: dict[str, Totals] = {}
    for r in rows:
        t = out.setdefault(r.currency, Totals(r.currency))
        for b in aging.BUCKETS:
            t.buckets[b] += r.buckets[b]
        t.disputed += r.disputed
        t.held += r.held
    return [out[c] for c in sorted(out)]


def open_invoices(result: ClientAging, customer_id: str) -> list[Decision]:
    """The customer's invoices behind their aging row: every decision with something open."""
    return [d for d in result.decisions if d.customer_id == customer_id and d.open_amount > ZERO]


# ---- cases --------------------------------------------------------------------------------------


def cases_by_status(store: Store, client_ids: Sequence[str], *statuses: CaseStatus) -> list[Case]:
    return [c for c in store.cases(client_ids) if c.status in statuses]
