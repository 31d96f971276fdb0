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

``SlicedRun.map`` does the same with two processes on Linux: routing runs in a forked child (so its peak
memory, every invoice's reference, is returned to the system when it ends), then a forked helper and this
process take slices of half the size from one counter; the helper sends each slice's result back pickled.

A client with at most ``SLICE_DOCUMENTS`` documents is one slice, read and reconciled the ordinary way.

Matching, and the caller's work on each slice (``map``), run with the cyclic GC paused (``connector.gcpause``):
the core itself never switches it.
"""

from __future__ import annotations

import contextlib
import gc
import json
import multiprocessing
import os
import pickle
import queue
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from typing import Any, Generic, TypeVar

from connector.config import ClientConfig
from connector.forked import as_helper, end, may_fork, processes_now
from connector.gcpause import gc_paused
from connector.model import BANK_PAYMENT_SOURCES, DunningStep, Facts, Invoice, Payment, PaymentStatus, UnreadableRow
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
from connector.store import Store
from connector.store.facts import facts_around, load_facts
from connector.store.rows import Shared, Skipped
from connector.store.slices import RoutingRow, SliceReader

SLICE_DOCUMENTS = 100_000  # invoices + credit notes per slice: about 150 MB of facts, matches and decisions
_EVERYWHERE = "*"  # the "customer" of a payment every slice matches
_ANYWHERE = ""  # … of one that touches no customer's book: slice 0 matches it
PARALLEL_SLICES = 2  # slices in memory (and in work) at once, each in its own process
T = TypeVar("T")


@dataclass
class Slice:
    facts: Facts
    recon: Reconciliation


@dataclass
class SlicedRun:
    """Iterate for the slices (or ``map`` a function over them, two at a time in separate processes);
    afterwards ``unexplained_everywhere`` lists the payments every slice saw and none could tie to anything
    (a slice's own ``recon.unexplained`` never lists those)."""

    store: Store
    client: ClientConfig
    slice_documents: int = field(default_factory=lambda: SLICE_DOCUMENTS)  # read when run: tests lower it
    workers: int | None = None  # slices worked on at once by ``map``; None: PARALLEL_SLICES if the CPUs allow
    # with other threads in this process, ``map`` forks only if this returns True: every other thread is
    # idle and stays so (``ReadAhead.settle``); without it, or on False, one process does everything
    quiesce: Callable[[], bool] | None = None
    # only the slices holding one of these customers are read and matched (iterating only; the credit checks
    # of a few customers); ``unexplained_everywhere`` is then not computed. None: every slice
    customers: frozenset[str] | None = None
    slices: int = 0
    unexplained_everywhere: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=lambda: {"route": 0.0, "read": 0.0, "match": 0.0})

    def __iter__(self) -> Iterator[Slice]:
        with self.store.connect() as conn:
            reader = SliceReader(conn, self.client.id)
            per_customer = reader.documents_per_customer()
            if not self._needs_slices(per_customer):
                yield self._whole()
                return
            routed = self._routed(reader, self._plan(reader, per_customer))
            wanted = self.customers
            for n in range(self.slices):
                if wanted is None or not wanted.isdisjoint(routed.plan.customers[n]):
                    yield self._slice(routed, reader, n)
            if wanted is None:
                self._finish(routed)

    def map(self, work: Callable[[Slice], T]) -> Iterator[T]:
        """``work(slice)`` for every slice, in no particular order, with the result of ``iter``.

        On Linux (``workers`` > 1) routing runs in a short-lived child process, so its peak (every
        invoice's reference) goes back to the system before any slice is read, and then a forked helper
        reads, matches and works on slices alongside this process, each with slices of half the size;
        the helper's results come back pickled."""
        if self.customers is not None:
            raise ValueError("SlicedRun.customers is for iterating: map works on every slice")
        with self.store.connect() as conn:
            reader = SliceReader(conn, self.client.id)
            per_customer = reader.documents_per_customer()
            if not self._needs_slices(per_customer):
                yield _paused(work, self._whole())
                return
            processes = self._workers()
            if processes <= 1:
                routed = self._routed(reader, self._plan(reader, per_customer))
                for n in range(self.slices):
                    yield _paused(work, self._slice(routed, reader, n))
            else:
                parallel = _Parallel(self, work, processes)
                yield from parallel.run(reader, per_customer)
                routed = parallel.routed
            self._finish(routed)

    # -- the steps -------------------------------------------------------------------------------

    def _needs_slices(self, per_customer: dict[str, int]) -> bool:
        if sum(per_customer.values()) <= self.slice_documents:
            self.slices = 1
            return False
        return True

    def _plan(self, reader: SliceReader, per_customer: dict[str, int], processes: int = 1) -> _Plan:
        started = time.perf_counter()
        with gc_paused():  # slices half the size when two processes hold one each: the same memory
            plan = _route(reader, self.client, per_customer, max(1, self.slice_documents // processes))
        self.seconds["route"] = time.perf_counter() - started
        self.slices = len(plan.customers)
        return plan

    def _routed(self, reader: SliceReader, plan: _Plan) -> _Routed:
        """What every slice shares: the client's other facts, and the payments every slice matches (read
        once: a few percent, credits no one can place)."""
        rest = facts_around(reader.conn, self.client.id, {}, (), (), Skipped(plan.skipped))
        everywhere_payments = tuple(reader.payments_at(plan.everywhere_rows, Shared()))
        return _Routed(plan, rest, everywhere_payments)

    def _whole(self) -> Slice:
        started = time.perf_counter()
        facts = self.store.read(load_facts, self.client.id)
        read = time.perf_counter()
        with gc_paused():
            recon = reconcile_facts(facts, self.client)
        self.seconds.update(read=read - started, match=time.perf_counter() - read)
        return Slice(facts, recon)

    def _slice(self, routed: _Routed, reader: SliceReader, n: int) -> Slice:
        plan = routed.plan
        customer_ids = plan.customers[n]
        started = time.perf_counter()
        with gc_paused():
            shared = Shared()
            skipped_before = len(reader.skipped)
            invoices = tuple(reader.invoices_of(customer_ids, shared))
            facts = replace(
                routed.rest,
                customers=reader.customers_of(customer_ids),
                invoices=invoices,
                payments=(*reader.payments_at(plan.payment_rows[n], shared), *routed.everywhere_payments),
                steps=_steps_of(routed.rest, invoices),
            )
            if len(reader.skipped) > skipped_before:  # rows of this slice no type could read
                facts = replace(facts, unreadable_rows=(*facts.unreadable_rows, *reader.skipped[skipped_before:]))
            read = time.perf_counter()
            recon = reconcile_facts(
                facts,
                self.client,
                payer_accounts=plan.payer_accounts[n],
                learned=True,
                deduplicated=True,
                everywhere=routed.everywhere,
            )
        self.seconds["read"] += read - started
        self.seconds["match"] += time.perf_counter() - read
        routed.pending_hit.update(k for k in plan.everywhere_pending if k in recon.pending_reason)
        return Slice(facts, recon)

    def _finish(self, routed: _Routed) -> None:
        # a booked credit nobody could tie to anything is unexplained; a pending one only if no slice
        # had an item it could pay (as the whole-client match lists them)
        plan = routed.plan
        self.unexplained_everywhere = sorted(plan.everywhere_booked) + sorted(
            plan.everywhere_pending - routed.pending_hit
        )

    def _workers(self) -> int:
        if _in_memory(self.store):
            return 1
        if self.workers is None:
            return processes_now(PARALLEL_SLICES, self.quiesce)
        return self.workers if self.workers > 1 and may_fork(self.quiesce) else 1


@dataclass
class _Routed:
    plan: _Plan
    rest: Facts  # the client's facts apart from customers, invoices and payments (steps, disputes, …)
    everywhere_payments: tuple[Payment, ...]
    pending_hit: set[str] = field(default_factory=set)  # pending credits every slice sees that one could pay

    @cached_property
    def everywhere(self) -> set[str]:
        plan = self.plan
        return plan.everywhere_pending | plan.everywhere_booked | plan.everywhere_other


def _in_memory(store: Store) -> bool:
    url = store.engine.url
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


class _Parallel(Generic[T]):
    """Route in a child process; then this process and ``processes - 1`` forked helpers take slices from
    one counter until none is left. Each helper sends every slice's result (and the pending credits it
    could pay) back over its own pipe, which a thread here drains as it comes, so a helper never waits for
    this process to finish its own slice; a pipe that closes before "done" is an error, never a hang."""

    def __init__(self, run: SlicedRun, work: Callable[[Slice], T], processes: int):
        self.run_, self.work, self.processes = run, work, processes
        self.ctx = multiprocessing.get_context("fork")
        self.counter = self.ctx.Value("i", 0)
        self.inbox: queue.SimpleQueue[tuple[int, bytes | None]] = queue.SimpleQueue()  # None: pipe closed
        self.routed: _Routed

    def run(self, reader: SliceReader, per_customer: dict[str, int]) -> Iterator[T]:
        plan = self._route_in_child(per_customer)
        self.routed = routed = self.run_._routed(reader, plan)
        del plan
        helpers: list[tuple[Any, Any]] = []  # (process, receiving end of its pipe)
        drains: list[threading.Thread] = []
        try:
            if self.run_.slices > 1:
                # the helpers' collector then never walks the objects they share (reference counts still
                # copy the pages of the few a helper touches)
                gc.freeze()
                try:
                    for _ in range(min(self.processes, self.run_.slices) - 1):
                        receiving, sending = self.ctx.Pipe(duplex=False)
                        inherited = [r for _proc, r in helpers] + [receiving]
                        args = (sending, os.getpid(), inherited)
                        proc = self.ctx.Process(target=self._helper, args=args, name="arsync-slice", daemon=True)
                        proc.start()
                        sending.close()  # the helper's end: when it ends, this side reads end-of-file
                        helpers.append((proc, receiving))
                finally:
                    gc.unfreeze()
            for i, (_proc, receiving) in enumerate(helpers):  # threads only once every fork is done
                drain = threading.Thread(target=self._drain, args=(i, receiving), name="arsync-slice-results")
                drain.start()
                drains.append(drain)
            running = set(range(len(helpers)))
            while (n := self._take()) is not None:
                yield _paused(self.work, self.run_._slice(routed, reader, n))
                while running:
                    try:
                        message = self.inbox.get_nowait()
                    except queue.Empty:
                        break
                    yield from self._open(message, helpers, running)
            while running:
                yield from self._open(self.inbox.get(), helpers, running)
        finally:
            end([proc for proc, _receiving in helpers], grace_s=1)  # done by now, or not wanted any more
            for drain in drains:  # each ends at its pipe's end-of-file, now that the helpers are gone
                drain.join()
            for _proc, receiving in helpers:
                receiving.close()

    def _drain(self, i: int, receiving: Any) -> None:
        try:
            while True:
                self.inbox.put((i, receiving.recv_bytes()))
        except (EOFError, OSError):
            self.inbox.put((i, None))

    def _open(
        self, message: tuple[int, bytes | None], helpers: list[tuple[Any, Any]], running: set[int]
    ) -> Iterator[T]:
        i, data = message
        if i not in running:
            return  # the end-of-file after "done"
        if data is None:
            proc = helpers[i][0]
            proc.join(timeout=5)
            raise RuntimeError(f"a slice process ended (exit code {proc.exitcode}) before it sent all its slices")
        with gc_paused():  # a slice's decisions: the collector would walk the whole heap for nothing
            kind, payload = pickle.loads(data)
        del data
        if kind == "error":
            raise RuntimeError(f"slice work failed in a helper process:\n{payload}")
        if kind == "done":
            running.discard(i)
            return
        result, pending_hit, seconds = payload
        self.routed.pending_hit.update(pending_hit)
        for name, value in seconds.items():
            self.run_.seconds[name] += value
        yield result

    def _route_in_child(self, per_customer: dict[str, int]) -> _Plan:
        started = time.perf_counter()
        plan_in, plan_out = self.ctx.Pipe(duplex=False)
        args = (plan_out, per_customer, os.getpid(), [plan_in])
        proc = self.ctx.Process(target=self._router, args=args, name="arsync-route", daemon=True)
        proc.start()
        plan_out.close()
        try:
            kind, payload = pickle.loads(plan_in.recv_bytes())
        except EOFError:
            proc.join()
            raise RuntimeError(f"the routing process ended with exit code {proc.exitcode}") from None
        except BaseException:  # interrupted here: the child must not route on for nobody
            end([proc], grace_s=0)
            raise
        finally:
            plan_in.close()
        proc.join()
        if kind == "error":
            raise RuntimeError(f"routing failed in its process:\n{payload}")
        plan: _Plan = payload
        self.run_.slices = len(plan.customers)
        self.run_.seconds["route"] = time.perf_counter() - started
        return plan

    def _router(self, plan_out: Any, per_customer: dict[str, int], parent: int, inherited: list[Any]) -> None:
        """In the forked routing process: route with its own connection, send the plan, end."""
        run = self.run_
        as_helper(parent, inherited, finishes=True)
        try:
            run.store.engine.dispose(close=False)  # the parent's pooled connections are its own
            with run.store.connect() as conn:
                plan = run._plan(SliceReader(conn, run.client.id), per_customer, self.processes)
            plan_out.send_bytes(pickle.dumps(("plan", plan), protocol=pickle.HIGHEST_PROTOCOL))
        except BaseException:
            plan_out.send_bytes(pickle.dumps(("error", traceback.format_exc())))
        finally:
            plan_out.close()

    def _take(self) -> int | None:
        lock = self.counter.get_lock()
        if not lock.acquire(timeout=60):  # held for nanoseconds: only a process killed right then keeps it
            raise RuntimeError("the slice counter stayed locked: a slice process was killed while taking one")
        try:
            n = self.counter.value
            if n >= self.run_.slices:
                return None
            self.counter.value = n + 1
            return n
        finally:
            lock.release()

    def _helper(self, sending: Any, parent: int, inherited: list[Any]) -> None:
        """In a forked slice process: its own connection, then slices until none is left."""
        run, routed = self.run_, self.routed
        as_helper(parent, inherited, finishes=True)
        try:
            run.store.engine.dispose(close=False)  # the parent's pooled connections are its own
            run.seconds = {name: 0.0 for name in run.seconds}
            with run.store.connect() as conn:
                reader = SliceReader(conn, run.client.id)
                while (n := self._take()) is not None:
                    routed.pending_hit = set()
                    before = dict(run.seconds)
                    result = _paused(self.work, run._slice(routed, reader, n))
                    seconds = {k: v - before[k] for k, v in run.seconds.items()}
                    data = pickle.dumps(("slice", (result, routed.pending_hit, seconds)), protocol=5)
                    del result  # not kept alive while the next slice is read and matched
                    sending.send_bytes(data)
                    del data
            sending.send_bytes(pickle.dumps(("done", None)))
        except BaseException:
            with contextlib.suppress(OSError):  # the parent may be gone
                sending.send_bytes(pickle.dumps(("error", traceback.format_exc())))
        finally:
            sending.close()


def _paused(work: Callable[[Slice], T], part: Slice) -> T:
    """The caller's work on one slice (deciding, flagging: a slice's worth of new small acyclic objects), with
    the collector paused as for reading and matching it. Never held across a ``yield``: the consumer runs
    with the collector on."""
    with gc_paused():
        return work(part)


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
    skipped: list[UnreadableRow] = field(default_factory=list)  # payment rows routing could not read


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
        try:
            targets = json.loads(credits) if credits else []
        except ValueError:  # an unreadable credit note: skipped and named where its slice reads it
            targets = []
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
            if p.source in BANK_PAYMENT_SOURCES and twin_key(p) is not None:
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
        if doubtful and (entry := group_key(p)) in doubtful:
            waiting.setdefault(entry, []).append(p)
        else:
            place(p)
    for members in waiting.values():
        kept = keep_of_group(members)
        dropped.update(p.key for p in members if p not in kept)
        for p in kept:
            place(p)
    dropped_rows: set[Any] = set()  # OCR twins were routed before they were known to be twins
    if twins:
        kept_twins = {p.key for p in ocr_camt_twins(twins)}
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
    for account, account_owners in router.payer_accounts():
        for owner in account_owners:
            at = slice_of.get(owner)
            if at is not None:
                payer_accounts[at].setdefault(account, set()).add(owner)
    return _Plan(
        customers=customers,
        payment_rows=payment_rows,
        payer_accounts=payer_accounts,
        everywhere_rows=everywhere_rows,
        everywhere_pending=everywhere_pending,
        everywhere_booked=everywhere_booked,
        everywhere_other=everywhere_other,
        skipped=list(reader.skipped),
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
    originals = Originals({Originals.key(p) for p in reversals})
    day: list[RoutingRow] = []

    def flush() -> Iterator[tuple[RoutingRow, str]]:
        for p in sorted(day, key=match_order):
            if p.key in dropped or (p.source not in BANK_SOURCES and p.invoice_number):
                continue  # the matcher looks among bank payments only
            if p.reversal and p.key not in asking:
                continue  # a reversal with a reference takes back by that reference, not a payment
            original = originals.see(p)
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
