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
from datetime import date, datetime
from decimal import Decimal

from connector.config import ClientConfig
from connector.dunning.decide import client_holds  # the one definition of "data too old to dun on"
from connector.engine.decisions import decide_client
from connector.model import ZERO, Case, CaseStatus, Decision, Facts, SyncStatus
from connector.reports import aging
from connector.store import Store
from connector.store.cases import load_cases
from connector.store.ledger import load_customers

log = logging.getLogger("arsync.web")


# ---- freshness ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Freshness:
    """How a client's last sync went: ``ok``, ``failed`` (a source's last attempt failed), ``never``
    (the ledger never synced) or ``stale`` (data older than the client's policy allows to dun on)."""

    state: str
    problems: tuple[str, ...]
    last_attempt: datetime | None
    last_success: datetime | None


def freshness(client: ClientConfig, sync: dict[str, SyncStatus], today: date) -> Freshness:
    attempts = [s.last_attempt_at for s in sync.values() if s.last_attempt_at]
    ledger = sync.get("ledger")
    last_success = ledger.last_success_at if ledger else None
    failed = tuple(f"{name}: {s.last_error}" for name, s in sorted(sync.items()) if s.last_error)
    if failed:
        state, problems = "failed", failed
    elif last_success is None:
        state, problems = "never", ("the ledger has never been synced",)
    else:
        # only the sync status matters to the freshness holds
        facts = Facts(
            client_id=client.id, customers={}, invoices=(), payments=(), disputes=(), agreements=(), steps=(),
            cases=(), sync=sync,
        )  # fmt: skip
        holds = tuple(dict.fromkeys(e.detail for _hold, e in client_holds(facts, client, today)))
        state, problems = ("stale", holds) if holds else ("ok", ())
    return Freshness(state, problems, max(attempts, default=None), last_success)


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
        customers = {c.customer_id: c for c in store.read(load_customers, client.id)}
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
    return [c for c in store.read(load_cases, client_ids) if c.status in statuses]
