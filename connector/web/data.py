"""What the pages read, each through the function the command line uses for the same thing.

- aging: ``engine.decisions.decide_client`` + ``reports.aging.aging_rows``, exactly as ``arsync report aging``;
- a client's and a customer's open items and their evidence in prose: ``engine.decisions.decided`` +
  ``reports.explain.explain``, exactly as ``arsync explain``;
- cases and their provider status: ``Store.cases`` + ``collection.evidence.provider_fields`` as
  ``arsync cases list --json``;
- disputes, agreements, exclusions: ``actions.manual`` as ``arsync disputes/agreements/exclude list``;
- unreadable, refused, conflicting and quarantined files: ``actions.files.listed`` as ``arsync files list``;
- the call list: ``actions.calls.call_list`` as ``arsync calls list``; letters sent: ``actions.letter_service``
  as ``arsync letters list``;
- the credit level: ``store.credit_checks.latest_checks`` + ``credit.checks.credit_line``;
- Today's queue: the decisions last night's run stored (``store.decisions``: ``review``, broken agreements),
  the open disputes, oldest first, the files that hold something and the calls due (decided afresh for the
  clients whose last night stored a call), the outbox letters not posted past their pay-by date;
- freshness: ``reports.freshness`` (the same rule that holds dunning).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from connector.actions import calls as calls_service
from connector.actions import files as files_service
from connector.actions import letter_service, manual
from connector.collection import evidence as collection_evidence
from connector.collection.approval import may_push
from connector.config import ClientConfig
from connector.credit.checks import CreditCheck
from connector.engine.decisions import Decided, decide_client, decided
from connector.model import ZERO, Action, Agreement, Call, Case, CaseStatus, Decision, Dispute, Exclusion
from connector.reports import aging
from connector.reports.freshness import Freshness as Freshness  # re-exported: the pages use data.freshness
from connector.reports.freshness import freshness as freshness
from connector.store import Store
from connector.store import calls as calls_store
from connector.store import decisions as saved_decisions
from connector.store import disputes as disputes_store
from connector.store.cases import load_cases
from connector.store.credit_checks import latest_checks
from connector.store.files import unreadable_files
from connector.store.ledger import load_customers
from connector.store.sync import sync_status

log = logging.getLogger("arsync.web")


# ---- freshness: connector.reports.freshness (the command line shows the same) ----------------


def stored_freshness(store: Store, client: ClientConfig, as_of: date) -> Freshness:
    """The client's freshness from its stored sync state and unreadable files (a bank file that does not read
    holds all its dunning)."""
    return freshness(client, store.read(sync_status, client.id), as_of, store.read(unreadable_files, client.id))


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


@dataclass(frozen=True)
class ProviderStatus:
    status: str | None  # None: the provider has reported nothing yet
    close_code: str | None
    remaining: Decimal | None


def provider_status(store: Store, cases: Sequence[Case]) -> dict[str, ProviderStatus]:
    """Per case id: the provider's newest status, close code and remaining amount, as ``cases list --json``
    reports them."""
    out = {}
    for case_id, f in collection_evidence.provider_fields(store, cases).items():
        remaining = f["provider_remaining"]
        out[case_id] = ProviderStatus(
            str(f["provider_status"]) if f["provider_status"] is not None else None,
            str(f["provider_close_code"]) if f["provider_close_code"] is not None else None,
            Decimal(str(remaining)) if remaining is not None else None,
        )
    return out


# ---- a client's decisions, made afresh (as `arsync explain`) ----------------------------------------


@dataclass
class ClientView:
    """What the client and customer pages show: the decisions, the records behind the holds, the cases."""

    client: ClientConfig
    decided: Decided | None  # None: the decisions could not be computed (``error`` says why)
    error: str | None = None
    disputes: list[Dispute] = field(default_factory=list)  # open
    agreements: list[Agreement] = field(default_factory=list)  # active
    exclusions: list[Exclusion] = field(default_factory=list)  # in force
    cases: list[Case] = field(default_factory=list)
    credit: dict[str, CreditCheck] = field(default_factory=dict)  # customer id → newest check

    @property
    def decisions(self) -> list[Decision]:
        return self.decided.decisions if self.decided else []


def client_view(store: Store, client: ClientConfig, as_of: date) -> ClientView:
    """One client's decisions as of ``as_of`` with what is recorded against them; a client whose
    decisions cannot be computed still shows its records and cases, and says why."""
    view = ClientView(client, None)
    try:
        view.decided = decided(store, client, as_of)
        facts = view.decided.facts
        view.disputes = manual.open_disputes(facts)
        view.agreements = manual.active_agreements(facts)
        view.exclusions = manual.exclusions_in_force(facts.exclusions, as_of)
    except Exception as exc:  # one client that cannot be decided never takes the page down
        log.exception("decisions for client %s failed", client.id)
        view.error = str(exc) or exc.__class__.__name__
    view.cases = store.read(load_cases, [client.id])
    view.credit = store.read(latest_checks, client.id)
    return view


def needs_attention(d: Decision) -> bool:
    """Something will happen, or something holds it: what a person may want to look at."""
    return str(d.action) != "none" or bool(d.holds)


# ---- Today's queue (last night's stored decisions) --------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    client: ClientConfig
    decision: saved_decisions.SavedDecision

    @property
    def broken(self) -> list[str]:
        """The "agreement … broken" lines of its evidence."""
        return [e["detail"] for e in self.decision.evidence if e.get("kind") == "agreement_broken"]


QUEUE_LIMIT = 100  # per client and kind: the page lists the oldest; the client's page has them all


def stored_queue(
    store: Store, clients: Sequence[ClientConfig], *, action: str | None = None, evidence_kind: str | None = None
) -> list[QueueItem]:
    return [
        QueueItem(client, d)
        for client in clients
        for d in store.read(
            saved_decisions.load, client.id, action=action, evidence_kind=evidence_kind, limit=QUEUE_LIMIT
        ).rows
    ]


@dataclass(frozen=True)
class Waiting:
    """An approved case past its undo window that has not gone to collection: what last night's decision of
    its invoice holds it by (the push re-checks the same; ``cases push`` prints why it waits)."""

    case: Case
    holds: tuple[str, ...]
    why: tuple[str, ...]  # the holds' evidence


def approved_waiting(store: Store, cases: Sequence[Case], now: datetime) -> list[Waiting]:
    out = []
    for case in cases:
        if case.status is not CaseStatus.APPROVED or not may_push(case, now):
            continue
        saved = store.read(saved_decisions.load, case.client_id, invoice_number=case.invoice_number, limit=1).rows
        d = saved[0] if saved else None
        holds = tuple(h for h in (d.holds if d else ()) if h != "wait_interval")
        why = tuple(e["detail"] for e in (d.evidence if d else ()) if e.get("kind") == "hold")
        out.append(Waiting(case, holds, why))
    return out


def open_disputes(store: Store, clients: Sequence[ClientConfig]) -> list[tuple[Dispute, str | None]]:
    """Every open dispute of these clients, oldest first, with the invoice's customer id (answered fast,
    a disputed invoice gets paid)."""
    return store.read(disputes_store.open_disputes, [c.id for c in clients])


def files(store: Store, clients: Sequence[ClientConfig]) -> list[files_service.Listed]:
    """Every unreadable, refused, conflicting or quarantined file of these clients, with what it holds (the
    lines of ``arsync files list``); ``holding`` marks those a person has to decide about."""
    return files_service.listed(store, clients)


# ---- calls and letters (issue 15's services) ---------------------------------------------------------


def calls_due(store: Store, clients: Sequence[ClientConfig], as_of: date) -> list[calls_service.CallEntry]:
    """Today's call list across these clients, as ``arsync calls list`` makes it. Only the clients whose last
    night stored a call are decided again (the others have nobody to call), afresh: a call logged since
    takes its customer off the list."""
    out: list[calls_service.CallEntry] = []
    for client in clients:
        if not store.read(saved_decisions.load, client.id, action=str(Action.CALL), limit=1).rows:
            continue
        try:
            out.extend(calls_service.call_list(store, client, decide_client(store, client, as_of), as_of))
        except Exception:  # one client that cannot be decided never hides the others (its page says why)
            log.exception("the call list of client %s failed", client.id)
    return out


def client_calls(store: Store, view: ClientView, as_of: date) -> list[calls_service.CallEntry]:
    """The client's call list from the decisions the page made (none when they could not be made)."""
    if view.decided is None:
        return []
    return calls_service.call_list(store, view.client, view.decisions, as_of)


def customer_calls(store: Store, client_id: str, customer_id: str) -> list[Call]:
    """The calls logged to one customer, in the order made."""
    return store.read(lambda conn: list(calls_store.load_calls(conn, client_id, customer_id)))


def letters_unposted(
    store: Store, clients: Sequence[ClientConfig], as_of: date
) -> list[tuple[ClientConfig, letter_service.LetterView]]:
    """Outbox letters still waiting to be posted past their pay-by date, across these clients (the run report
    names them each night: ``actions.letter_service.unposted``)."""
    return [(client, v) for client in clients for v in letter_service.unposted(store, client, as_of)]


def letters_sent(store: Store, client: ClientConfig, customer_id: str) -> list[letter_service.LetterView]:
    """The letters written to one customer, oldest first, with where each is (``arsync letters list``)."""
    return letter_service.list_letters(store, [client], customer_id=customer_id)
