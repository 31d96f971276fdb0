"""Reconciling a very large client one slice of customers at a time, in bounded memory, with exactly the
allocations, holds and evidence of reconciling it whole (``reconcile_facts``).

1. Route (``connector.reconcile.routing``): read the invoices' numbers, customers and references and the
   customers' org ids; stream every payment once, deduplicate it as ``dedup`` does (only a bank entry
   reported more than once with a pending or summed report waits for its other reports), learn payer
   accounts, and keep where it is matched (its row id and one customer: a few bytes each). Customers one
   payment may touch are joined (union-find), so they land in one slice.
2. Pack whole joined groups of customers into slices of about ``SLICE_DOCUMENTS`` invoices and credit notes.
3. Per slice: read its customers, invoices and payments (plus the payments every slice sees), reconcile them
   and hand (facts, reconciliation) to the caller, who decides and writes before the next slice is read.

A client with at most ``SLICE_DOCUMENTS`` documents is one slice, read and reconciled the ordinary way.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from connector.bulk import gc_paused
from connector.config import ClientConfig
from connector.model import DunningStep, Invoice, PaymentStatus
from connector.reconcile.dedup import group_key, keep_of_group, ocr_camt_twins, twin_key
from connector.reconcile.for_client import reconcile_facts
from connector.reconcile.matching import BANK_SOURCES, Reconciliation, match_order
from connector.reconcile.routing import (
    EVERYWHERE,
    NEEDS_ORIGINAL,
    NEEDS_PAYER,
    Components,
    Originals,
    Route,
    Router,
)
from connector.store import Facts, Store
from connector.store.repository import Shared, facts_around
from connector.store.slices import RoutingRow, SliceReader

SLICE_DOCUMENTS = 100_000  # invoices + credit notes per slice: about 150 MB of facts, matches and decisions
_EVERYWHERE = "*"  # the "customer" of a payment every slice matches
_ANYWHERE = ""  # … of one that touches no customer's book: slice 0 matches it


@dataclass
class Slice:
    facts: Facts
    recon: Reconciliation


@dataclass
class SlicedRun:
    """Iterate for the slices; afterwards ``unexplained_everywhere`` lists the payments every slice saw and
    none could tie to anything (a slice's own ``recon.unexplained`` never lists those)."""

    store: Store
    client: ClientConfig
    slice_documents: int = SLICE_DOCUMENTS
    slices: int = 0
    unexplained_everywhere: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=lambda: {"route": 0.0, "read": 0.0, "match": 0.0})

    def __iter__(self) -> Iterator[Slice]:
        store, client = self.store, self.client
        with store.engine.connect() as conn:
            reader = SliceReader(conn, client.id)
            per_customer = reader.documents_per_customer()
            if sum(per_customer.values()) <= self.slice_documents:
                self.slices = 1
                started = time.perf_counter()
                facts = store.facts(client.id)
                read = time.perf_counter()
                recon = reconcile_facts(facts, client)
                self.seconds.update(read=read - started, match=time.perf_counter() - read)
                yield Slice(facts, recon)
                return
            started = time.perf_counter()
            with gc_paused():
                plan = _route(reader, client, per_customer, self.slice_documents)
            self.seconds["route"] = time.perf_counter() - started
            self.slices = len(plan.customers)
            rest = facts_around(conn, client.id, {}, (), ())
            # the payments every slice matches are read once (a few percent: credits no one can place)
            everywhere_payments = tuple(reader.payments_at(plan.everywhere_rows, Shared()))
            everywhere = plan.everywhere_pending | plan.everywhere_booked | plan.everywhere_other
            pending_hit: set[str] = set()
            for n, customer_ids in enumerate(plan.customers):
                started = time.perf_counter()
                with gc_paused():
                    shared = Shared()
                    invoices = tuple(reader.invoices_of(customer_ids, shared))
                    facts = replace(
                        rest,
                        customers=reader.customers_of(customer_ids),
                        invoices=invoices,
                        payments=(*reader.payments_at(plan.payment_rows[n], shared), *everywhere_payments),
                        steps=_steps_of(rest, invoices),
                    )
                    read = time.perf_counter()
                    recon = reconcile_facts(
                        facts,
                        client,
                        payer_accounts=plan.payer_accounts[n],
                        learned=True,
                        deduplicated=True,
                        everywhere=everywhere,
                    )
                self.seconds["read"] += read - started
                self.seconds["match"] += time.perf_counter() - read
                pending_hit.update(k for k in plan.everywhere_pending if k in recon.pending_reason)
                yield Slice(facts, recon)
                del facts, recon, invoices, shared
            # a booked credit nobody could tie to anything is unexplained; a pending one only if no slice
            # had an item it could pay (as the whole-client match lists them)
            self.unexplained_everywhere = sorted(plan.everywhere_booked) + sorted(plan.everywhere_pending - pending_hit)


def _steps_of(facts: Facts, invoices: tuple[Invoice, ...]) -> tuple[DunningStep, ...]:
    if not facts.steps:
        return ()
    numbers = {i.number for i in invoices}
    return tuple(s for s in facts.steps if s.invoice_number in numbers)


@dataclass
class _Plan:
    customers: list[list[str]]  # slice → its customers
    payment_rows: list[list[Any]]  # slice → row ids of the payments it alone matches
    payer_accounts: list[dict[str, set[str]]]  # slice → payer account → its customers in that slice
    everywhere_rows: list[Any]  # row ids of the payments every slice matches
    everywhere_pending: set[str]  # keys of those that are pending credits
    everywhere_booked: set[str]  # … booked credits (always unexplained)
    everywhere_other: set[str]  # … reversals of those


def _route(reader: SliceReader, client: ClientConfig, per_customer: dict[str, int], slice_documents: int) -> _Plan:
    policy = client.policy
    router = Router(policy.kid_schemes, policy.inkasso_payers)
    for number, customer_id, currency, kid in reader.receivables(in_document_order=False):
        router.add_invoice(number, customer_id, currency, kid)
    if router.by_number:  # numbers that differ only in case or spaces: which one a token names needs the order
        router = Router(policy.kid_schemes, policy.inkasso_payers)
        for number, customer_id, currency, kid in reader.receivables(in_document_order=True):
            router.add_invoice(number, customer_id, currency, kid)
    for customer_id, org_no in reader.customer_orgs():
        router.add_customer(customer_id, org_no)
    groups = Components()
    for customer_id, n in per_customer.items():
        groups.add(customer_id, n)
    for customer_id, credits in reader.credit_notes():
        targets = json.loads(credits) if credits else []
        groups.join([customer_id, *(router.owner[t] for t in targets if t in router.owner)])
    for pair in router.together:
        groups.join(pair)

    # where each payment goes: its row id, and one of its customers (or _EVERYWHERE / _ANYWHERE)
    row_ids: list[Any] = []
    owners: list[str] = []
    # OCR giro and camt report the same KID payment; which OCR payment is a twin is only known once all are
    # read, so with OCR payments present learning waits for that answer
    ocr = reader.has_payments_from("ocr")
    twins: list[RoutingRow] = []
    learn_later: list[RoutingRow] = []
    needs_payer: list[RoutingRow] = []
    reversals: list[RoutingRow] = []
    dropped: set[str] = set()  # keys deduplication drops

    def place(p: RoutingRow) -> None:
        if ocr:
            learn_later.append(p)
            if p.source in ("ocr", "camt") and twin_key(p) is not None:  # type: ignore[arg-type]
                twins.append(p)
        else:
            router.learn(p)
        route = router.route(p)
        if route == NEEDS_PAYER:
            needs_payer.append(p)
        elif route == NEEDS_ORIGINAL:
            reversals.append(p)
            # a text naming several invoices is no reference (the matcher takes back by payment): each slice
            # must see all or none of them, never exactly one
            groups.join(router.customers(router.tier2(p)))
        else:
            row_ids.append(p.row_id)
            owners.append(_owner(route, groups))

    # Only a bank entry reported more than once with a pending or summed report can lose a report to
    # deduplication: those wait for all their reports; every other payment is placed as it is read.
    doubtful = reader.doubtful_entries()
    waiting: dict[tuple[str, str, str], list[RoutingRow]] = {}
    for p in reader.routing_rows():
        if doubtful and (entry := group_key(p)) in doubtful:  # type: ignore[arg-type]
            waiting.setdefault(entry, []).append(p)
        else:
            place(p)
    for members in waiting.values():
        kept = keep_of_group(members)  # type: ignore[arg-type]
        dropped.update(p.key for p in members if p not in kept)
        for p in kept:
            place(p)  # type: ignore[arg-type]
    dropped_rows: set[Any] = set()  # OCR twins were routed before they were known to be twins
    if twins:
        kept_twins = {p.key for p in ocr_camt_twins(twins)}  # type: ignore[arg-type]
        for p in twins:
            if p.key not in kept_twins:
                dropped.add(p.key)
                dropped_rows.add(p.row_id)
        twins.clear()
    for p in learn_later:
        if p.key not in dropped:
            router.learn(p)
    learn_later.clear()

    everywhere_pending: set[str] = set()
    everywhere_booked: set[str] = set()
    for p in needs_payer:
        if p.key in dropped:
            continue
        route = router.route_by_payer(p.payer_account, p.payer_org_id)
        if route == EVERYWHERE:
            (everywhere_pending if p.status is PaymentStatus.PENDING else everywhere_booked).add(p.key)
        row_ids.append(p.row_id)
        owners.append(_owner(route, groups))
    needs_payer.clear()

    everywhere_other: set[str] = set()
    reversals = [p for p in reversals if p.key not in dropped]
    if reversals:
        for p, owner in _reversal_owners(reader, router, groups, reversals, dropped):
            if owner == _EVERYWHERE:
                everywhere_other.add(p.key)
            row_ids.append(p.row_id)
            owners.append(owner)

    slice_of = groups.slices(slice_documents)
    n_slices = max(slice_of.values(), default=0) + 1
    customers: list[list[str]] = [[] for _ in range(n_slices)]
    for customer_id, n in slice_of.items():
        customers[n].append(customer_id)
    payment_rows: list[list[Any]] = [[] for _ in range(n_slices)]
    everywhere_rows: list[Any] = []
    for rid, owner in zip(row_ids, owners, strict=True):
        if rid in dropped_rows:
            continue
        if owner == _EVERYWHERE:
            everywhere_rows.append(rid)
        else:
            payment_rows[slice_of[owner] if owner else 0].append(rid)
    payer_accounts: list[dict[str, set[str]]] = [{} for _ in range(n_slices)]
    for account, account_owners in router.by_payer.items():
        for owner in account_owners:
            n = slice_of.get(owner)
            if n is not None:
                payer_accounts[n].setdefault(account, set()).add(owner)
    return _Plan(
        customers=customers,
        payment_rows=payment_rows,
        payer_accounts=payer_accounts,
        everywhere_rows=everywhere_rows,
        everywhere_pending=everywhere_pending,
        everywhere_booked=everywhere_booked,
        everywhere_other=everywhere_other,
    )


def _owner(route: Route, groups: Components) -> str:
    """One customer of the route's set (joined into one group here), or _EVERYWHERE / _ANYWHERE."""
    if route == EVERYWHERE:
        return _EVERYWHERE
    assert isinstance(route, frozenset)
    if not route:
        return _ANYWHERE
    if len(route) == 1:  # the usual case: nothing to join
        (customer_id,) = route
        if customer_id not in groups.parent:  # a customer known by org id only, without documents
            groups.add(customer_id)
        return customer_id
    groups.join(route)
    return min(route)


def _reversal_owners(
    reader: SliceReader, router: Router, groups: Components, reversals: list[RoutingRow], dropped: set[str]
) -> Iterator[tuple[RoutingRow, str]]:
    """Each reversal without a usable reference goes where the payment it takes back went; that payment is
    found as the whole-client match finds it, so the payments are read again in matching order."""
    asking = {p.key for p in reversals}
    originals = Originals({Originals.key(p) for p in reversals})  # type: ignore[arg-type]
    day: list[RoutingRow] = []

    def flush() -> Iterator[tuple[RoutingRow, str]]:
        for p in sorted(day, key=match_order):  # type: ignore[arg-type]
            if p.key in dropped or (p.source not in BANK_SOURCES and p.invoice_number):
                continue  # the matcher looks among bank payments only
            if p.reversal and p.key not in asking:
                continue  # a reversal with a reference takes back by that reference, not a payment
            original = originals.see(p)  # type: ignore[arg-type]
            if p.key not in asking:
                continue
            if original is None:  # nothing to take back: listed as an unexplained reversal, in slice 0
                yield p, _ANYWHERE
                continue
            route = router.route(original)
            if route == NEEDS_PAYER:
                route = router.route_by_payer(original.payer_account, original.payer_org_id)
            yield p, _owner(route, groups)
        day.clear()

    booked: date | None = None
    for p in reader.routing_rows("booking_date"):
        if p.booking_date != booked:
            yield from flush()
            booked = p.booking_date
        day.append(p)
    yield from flush()
