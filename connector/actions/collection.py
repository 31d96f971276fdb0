"""The collection workflow: proposal and auto-approval, the re-checked push, status pull and follow-up,
withdrawal.

It acts on decisions it is given and never decides itself: the night's decisions propose cases, and the
push re-check and the follow-up call the ``afresh`` they are handed (the pipeline's
``connector.engine.afresh.invoices_afresh``: the cases' invoices matched and decided afresh from the store).

The rules it keeps:
- an approval is re-checked against a fresh decision at push time; paid, credited, disputed,
  agreed, insolvent or otherwise changed → the case goes back to review with the reason; stale
  data → the push waits (the case stays approved, nothing is lost);
- every provider call is recorded as a pending op first and settled after (``store.cases``); a
  pending op is resolved by asking the provider before anything is sent again;
- after the push, money the debtor paid the client directly and credit notes are reported to the
  provider, provider payouts never are, and a case settled that way is withdrawn.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Protocol, TypeVar

from sqlalchemy import Connection

from connector import interrupt
from connector.collection.approval import may_push, push_wait
from connector.collection.base import (
    BusinessError,
    CasePayload,
    CollectionProvider,
    ProviderCase,
    ProviderError,
    ProviderStatus,
    PushResult,
    Transfer,
    Unsupported,
)
from connector.collection.providers import provider_for
from connector.config import ClientConfig, CollectionConfig
from connector.model import (
    ZERO,
    Action,
    AllocationTier,
    Case,
    CaseStatus,
    Customer,
    Decision,
    Dispute,
    DisputeSource,
    Hold,
    InvoiceAfresh,
    Payment,
)
from connector.reports.run import PROVIDER_REPORT, PUSH, REVIEW, STATUS, WITHDRAWAL, ClientReport
from connector.store import Store, audit
from connector.store import cases as case_store
from connector.store.cases import DONE, FAILED, PENDING, Op, ProviderState
from connector.store.disputes import add_dispute
from connector.store.ledger import load_attachments


class Afresh(Protocol):
    """The cases' invoices as the store has them now, matched (and ``decided``) afresh: the pipeline hands in
    ``connector.engine.afresh.invoices_afresh``."""

    def __call__(self, numbers: Collection[str], *, decided: bool = True) -> dict[str, InvoiceAfresh]: ...


log = logging.getLogger("arsync.collection")

# Holds that mean "something changed since the accountant approved": a person looks again.
REVIEW_HOLDS = frozenset(
    {
        Hold.DISPUTED,
        Hold.AGREEMENT,
        Hold.DEBTOR_INSOLVENT,
        Hold.PAYMENT_PENDING,
        Hold.BUYER_REPORTS_PAID,
        Hold.UNALLOCATED_CREDIT,
        Hold.NOT_DELIVERED,
        Hold.EXCLUDED,
        Hold.FACTORED,
        Hold.BELOW_MINIMUM,
        Hold.PARTLY_PAID,
        Hold.CONFLICTING_DOCUMENT,
    }
)
# Provider close codes that mean the debtor disputes the claim: dunning must stop too.
DISPUTE_CLOSE_CODES = frozenset({"DisputedLegalActionDeclinedByClient", "Disputed"})


# ---- proposal and auto-approval ------------------------------------------------------------------


def case_id_for(client_id: str, invoice_number: str) -> str:
    # Deterministic: proposing the same invoice twice finds the same case.
    return f"{client_id}-{invoice_number}"


def propose_case(store: Store, client: ClientConfig, as_of: date, d: Decision, customer: Customer | None) -> str | None:
    """The case for a decision that reached the collection step (approved at once when the client's rule
    allows it); a report line, or None when the case existed already."""
    case = Case(
        case_id=case_id_for(client.id, d.invoice_number),
        client_id=client.id,
        invoice_number=d.invoice_number,
        customer_id=d.customer_id,
        currency=d.currency,
        amount=d.amount,
        open_amount=d.open_amount,
        status=CaseStatus.PROPOSED,
        created_on=as_of,
        note="proposed by the nightly run",
    )
    with store.transaction() as conn:
        created = case_store.propose_case(conn, case, at=store.now())
        why = auto_approve_reason(client, case, customer)
        if created and why:
            case_store.add_case_event(conn, client.id, case.case_id, CaseStatus.APPROVED, as_of, why, at=store.now())
    return f"collection case {case.case_id} proposed" if created else None


def auto_approve_reason(client: ClientConfig, case: Case, customer: Customer | None) -> str | None:
    """Why the client's rule approves this case, or None when a person must approve it."""
    policy = client.policy
    if not policy.auto_approve:
        return None
    why = ["auto-approved by client rule"]
    if policy.auto_approve_b2b_only:
        if customer is None or customer.is_person or not customer.org_no:
            return None
        why.append(f"B2B debtor (org no {customer.org_no})")
    if policy.auto_approve_max_amount is not None:
        if case.open_amount > policy.auto_approve_max_amount:
            return None
        why.append(f"open {case.open_amount} ≤ {policy.auto_approve_max_amount} {case.currency}")
    return ": ".join([why[0], ", ".join(why[1:])]) if len(why) > 1 else why[0]


# ---- the re-check -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    action: str  # "push", "review" (back to the accountant), "wait" (stays approved)
    reason: str = ""


def recheck(case: Case, d: Decision | None) -> Verdict:
    if d is None or d.open_amount <= ZERO:
        return Verdict("review", "paid or credited since approval: nothing is open")
    if d.open_amount != case.open_amount:
        return Verdict(
            "review", f"open amount changed since approval: {case.open_amount} → {d.open_amount} {d.currency}"
        )
    holds = [h for h in d.holds if h is not Hold.WAIT_INTERVAL]
    review = [h for h in holds if h in REVIEW_HOLDS]
    if review:
        return Verdict("review", "; ".join(_hold_detail(d, h) for h in review))
    if holds:
        return Verdict("wait", "; ".join(_hold_detail(d, h) for h in holds))
    if d.action is not Action.COLLECTION_CASE:
        return Verdict("review", f"the decision is now '{d.action}'")
    return Verdict("push")


def _hold_detail(d: Decision, hold: Hold) -> str:
    for e in d.evidence:
        if e.kind == "hold" and e.detail.startswith(str(hold)):
            return e.detail
    return str(hold)


# ---- payloads -----------------------------------------------------------------------------------


def build_payload(
    store: Store, client: ClientConfig, case: Case, d: Decision, current: InvoiceAfresh
) -> CasePayload | None:
    """The case as the provider gets it, from its invoice as the store has it now (``current``)."""
    inv = current.invoice
    if inv is None:
        return None
    customer = current.customer or Customer(client.id, inv.customer_id, inv.customer_id)
    return CasePayload(
        case=case,
        creditor_name=client.name,
        creditor_org_no=client.org_no,
        debtor=customer,
        invoice=inv,
        remaining=d.open_amount,
        steps=current.steps,
        attachments=tuple(store.read(load_attachments, client.id, inv.number)),
        pushed_on=case.created_on,  # deterministic body: a resend after a crash is byte-identical
    )


# ---- the push -----------------------------------------------------------------------------------


def _in_flight(case: Case, op: Op) -> None:
    """A pending op claimed by a run that still runs: its send is in flight, so it is left to that run
    (no lookup, no resend, no alarm)."""
    log.info("case %s: the %s is in flight in another arsync run (%s)", case.case_id, op.kind, op.claimed_by)


def run_collection(
    store: Store,
    client: ClientConfig,
    as_of: date,
    report: ClientReport,
    afresh: Afresh,
    provider: CollectionProvider | None = None,
) -> None:
    """The nightly collection step: push approved cases, pull statuses, report money, close.
    ``afresh``: invoices matched and decided afresh from the store (the push re-check, the follow-up)."""
    cases = store.read(case_store.load_cases, [client.id])
    has_work = any(c.status in (CaseStatus.APPROVED, CaseStatus.PUSHED) for c in cases)
    if not has_work and not store.read(case_store.ops, client.id, state=PENDING):
        return
    provider = provider or provider_for(client)
    push_approved(store, client, as_of, report, provider, afresh)
    if interrupt.requested():  # the operator asked to stop: nothing new starts after the push
        return
    pull_status(store, client, as_of, report, provider)
    follow_up(store, client, as_of, report, provider, afresh)


def push_approved(
    store: Store,
    client: ClientConfig,
    as_of: date,
    report: ClientReport,
    provider: CollectionProvider,
    afresh: Afresh,
) -> None:
    """Push the client's approved cases: each earlier unresolved push asked about and each approval re-checked
    (:func:`_check`, case by case), then the cases that pass pushed in batches of :data:`BATCH_PUSHES`
    (:func:`_push_batch`). A stop asked for (``connector.interrupt``) starts no further request."""
    approved = [c for c in store.read(case_store.load_cases, [client.id]) if c.status is CaseStatus.APPROVED]
    # An approval inside its undo window (the workbench's) stays approved and is pushed by a later run.
    now = store.now()
    for case in approved:
        if (why := push_wait(case, now)) is not None:
            report.warnings.append(f"case {case.case_id}: push waits (stays approved): {why}")
    approved = [c for c in approved if may_push(c, now)]
    if not approved:
        return
    # A real re-check, not the night's decision: the case leaves for the provider, where a false claim
    # cannot be taken back by the next run. Between the decision and this push the act stage sent letters
    # and proposed cases, ``cases push`` may run days after the last decision, and a concurrent sync may
    # have stored a payment, a credit note or a dispute; so the facts are read again and decided afresh.
    # The cases' invoices only, each from the slice that holds its customer (connector.engine.afresh).
    fresh = afresh({c.invoice_number for c in approved})
    submits = {op.case_id: op for op in store.read(case_store.ops, client.id) if op.kind == "submit"}
    checks: list[Callable[[], _Ready | None]] = []
    for case in approved:
        current = fresh.get(case.invoice_number)
        d = current.decision if current is not None else None
        payload = build_payload(store, client, case, d, current) if d is not None and current is not None else None
        known = sorted(a.source_key for a in current.allocations) if current is not None else []
        checks.append(
            partial(_check, store, client, as_of, report, provider, case, d, payload, known, submits.get(case.case_id))
        )
    workers = max(1, client.collection.concurrency)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="push") as pool:
        ready = [r for r in _all(pool if workers > 1 else None, checks) if r is not None]
        # By case id: two runs claim the same rows in the same order (on PostgreSQL they cannot deadlock).
        ready.sort(key=lambda r: r.case.case_id)
        for start in range(0, len(ready), BATCH_PUSHES):
            if interrupt.requested():  # the operator asked to stop: nothing of the next batch is claimed
                return
            _push_batch(store, client, as_of, report, provider, ready[start : start + BATCH_PUSHES], pool, workers)


T = TypeVar("T")


def _all(pool: ThreadPoolExecutor | None, jobs: Sequence[Callable[[], T]]) -> list[T]:
    """Every job's result, in order; on the pool's threads when given (the first error raised once all ended)."""
    if pool is None or len(jobs) <= 1:
        return [job() for job in jobs]
    futures = [pool.submit(job) for job in jobs]
    wait(futures)
    return [f.result() for f in futures]


# Pushes claimed (one transaction), sent and recorded (one transaction) together: two commits per batch
# instead of two per case (a commit is an fsync, and the store serialises them across the threads).
BATCH_PUSHES = 100


@dataclass(frozen=True)
class _Ready:
    """An approved case that passed the re-check, with what its push sends and records."""

    case: Case
    d: Decision
    payload: CasePayload
    known_allocations: list[str]
    earlier: Op | None  # its submit op as read before the re-check (a pending one was looked up, not found)

    @property
    def tried_before(self) -> bool:
        """An earlier run claimed this push and may have sent it (the provider did not know it when asked)."""
        return self.earlier is not None and self.earlier.pending


# What became of one push in a batch (:class:`_Sent`).
PUSHED, REFUSED, PUSH_FAILED, UNKNOWN, UNSENT = "pushed", "refused", "failed", "unknown", "unsent"


@dataclass(frozen=True)
class _Sent:
    ready: _Ready
    op: Op  # the op this run claimed for it
    outcome: str
    result: PushResult | None = None
    how: str = ""  # how the result was had: "created", "already there", "found at the provider …"
    error: str = ""


def _check(
    store: Store,
    client: ClientConfig,
    as_of: date,
    report: ClientReport,
    provider: CollectionProvider,
    case: Case,
    d: Decision | None,
    payload: CasePayload | None,
    known_allocations: list[str],
    op: Op | None,
) -> _Ready | None:
    """One approved case before its push: an earlier push that may have reached the provider resolved by
    asking it (never by resending), then the approval re-checked against today's facts. The case to push,
    or None when it is settled here (found, back to review, waiting, or left to another run)."""
    op_key = f"{case.case_id}|submit"
    if interrupt.requested():  # a stop was asked for: nothing new starts, not even a lookup
        return None
    if op is not None and op.state == DONE:  # approved again after its push: never sent twice
        _pushed_before(store, client, as_of, report, provider, case, op)
        return None
    if op is not None and op.pending and not store.may_resolve(client.id, op.claimed_by):
        _in_flight(case, op)  # another run's push in flight: neither resolved nor sent again
        return None
    # 1. A push that may have reached the provider is resolved by asking it, never by resending.
    if op is not None and op.pending and payload is not None:
        try:
            found = provider.find(payload, op.created_at)
        except ProviderError as exc:
            store.write(case_store.note_op_error, client.id, op_key, str(exc), at=store.now())
            report.warnings.append(f"case {case.case_id}: unresolved earlier push, provider not reachable: {exc}")
            return None
        if found is not None:  # recorded as a batch's pushes are (never a second "pushed")
            assert d is not None  # the payload is built from it
            earlier = _Sent(_Ready(case, d, payload, known_allocations, op), op, PUSHED, found, _FOUND_EARLIER)
            for item in _record(store, client, as_of, provider, [earlier]):
                _report_sent(report, provider, item)
            return None
    elif op is not None and op.pending:
        # No decision to build the lookup from (e.g. settled long ago): the earlier push may be live at
        # the provider, so it is neither cancelled nor re-sent — a person checks it.
        report.warnings.append(
            f"case {case.case_id}: an earlier push may have reached {provider.name} and cannot be looked up "
            "(the invoice has no current decision); check it at the provider"
        )
        return None
    # 2. Re-check the approval against today's facts.
    gone = Verdict("review", "the invoice is no longer in the ledger")
    verdict = recheck(case, d) if payload is not None else gone
    if verdict.action == "push":
        assert payload is not None and d is not None
        return _Ready(case, d, payload, known_allocations, op)
    if op is not None and op.pending:
        with store.transaction() as conn:  # provably not at the provider (asked above)
            case_store.settle_op(conn, client.id, op_key, case_store.CANCELLED, at=store.now(), error=verdict.reason)
    if verdict.action == "review":
        with store.transaction() as conn:
            note = f"push refused, back to review: {verdict.reason}"
            case_store.add_case_event(conn, client.id, case.case_id, CaseStatus.PROPOSED, as_of, note, at=store.now())
            if d is not None and d.open_amount > ZERO and d.open_amount != case.open_amount:
                # what an approval now approves: the amount open today (else every push refuses it again)
                case_store.set_open_amount(conn, client.id, case.case_id, d.open_amount)
        report.did(
            REVIEW,
            f"case {case.case_id} back to review: {verdict.reason}",
            invoice=case.invoice_number,
            case=case.case_id,
        )
    else:
        report.warnings.append(f"case {case.case_id}: push waits (stays approved): {verdict.reason}")
    return None


def _pushed_before(
    store: Store,
    client: ClientConfig,
    as_of: date,
    report: ClientReport,
    provider: CollectionProvider,
    case: Case,
    op: Op,
) -> None:
    """An approved case whose push is recorded done: it went to the provider before, as ``op.provider_ref``,
    and is never sent again (a second create would be a second claim against the debtor).

    How it arises: the case went back to proposed after that push was recorded, and was approved again. The
    workbench's undo reads the case (approved, window open by its clock) and appends "proposed" without the
    client's lock, so a push on another machine (clock ahead) or a long stall between its read and its write
    lets the push's "pushed" land first; likewise a run's "back to review" racing another run's push when two
    runs held the client (a lock taken over).

    The provider is asked about its reference: a case it has is recorded pushed under it again (and its state,
    closed when closed there), so the follow-up, status pull and withdrawal work on it; one it does not know
    stays approved and is named each run until a person withdraws it. A line for the accountant either way."""
    told = f"case {case.case_id}: approved again, but it went to {provider.name} before"
    withdraw = f"`arsync cases withdraw {case.case_id} --note …`"
    ref = op.provider_ref
    if ref is None:  # not expected: a push is recorded done with the provider's reference
        report.warnings.append(
            f"{told} (no reference recorded); not sent again (stays approved): check it at {provider.name}, "
            f"then {withdraw}"
        )
        return
    try:
        pc = provider.get(ref)
    except ProviderError as exc:
        report.warnings.append(f"{told} as {ref}; not sent again (stays approved), asked about next run: {exc}")
        return
    if pc is None:
        report.warnings.append(
            f"{told} as {ref}, which {provider.name} no longer knows; not sent again (stays approved): "
            f"check it at {provider.name}; {withdraw} takes it off the push"
        )
        return
    with store.transaction() as conn:
        note = f"{provider.name} has it already as {ref} (approved again after its push)"
        case_store.set_provider_ref(conn, client.id, case.case_id, ref)
        case_store.add_case_event(conn, client.id, case.case_id, CaseStatus.PUSHED, as_of, note, at=store.now())
        _observe(conn, store, client, as_of, provider, case, pc)
    report.warnings.append(
        f"{told} as {ref}: not sent twice, recorded as pushed ({provider.name}: {pc.raw_status or pc.status}); "
        f"if it should not be in collection: {withdraw}"
    )


_FOUND_EARLIER = "found at the provider after an interrupted push"
_FOUND_LOST = "found at the provider after the answer was lost"
_STOPPED = "not sent: the run was stopped first"
_HALTED = "not sent: another push of its batch failed unexpectedly first"


def _push_batch(
    store: Store,
    client: ClientConfig,
    as_of: date,
    report: ClientReport,
    provider: CollectionProvider,
    batch: Sequence[_Ready],
    pool: ThreadPoolExecutor,
    workers: int,
) -> None:
    """One batch: its intents claimed in one transaction (committed before any request), the requests sent
    (``workers`` at once), and every outcome recorded in one transaction; the report's lines only after it.

    A stop asked for, or an unexpected error in one request, sends no further request: what was sent is
    recorded, the intents never sent are released (:func:`_record`), and the error is raised after."""
    claimed = _claim(store, client, provider, batch)
    halt = threading.Event()  # an unexpected error in one request: no further one starts

    def push(ready: _Ready, op: Op) -> _Sent:
        if interrupt.requested():
            return _Sent(ready, op, UNSENT, error=_STOPPED)
        if halt.is_set():
            return _Sent(ready, op, UNSENT, error=_HALTED)
        try:
            return _send(provider, ready, op)
        except BaseException:
            halt.set()
            raise

    jobs = [partial(push, ready, op) for ready, op in claimed]
    sent: list[_Sent] = []
    error: BaseException | None = None  # the request's outcome is unknown: its intent stays pending
    # Whatever ends the batch — also a second Ctrl-C (KeyboardInterrupt) in the middle of it — what was sent
    # is recorded before it goes on (else each would wait for the next run's lookup at the provider).
    try:
        if workers == 1 or len(jobs) <= 1:
            for n, job in enumerate(jobs):
                try:
                    sent.append(job())
                except Exception as exc:
                    error = error or exc
                except BaseException:  # interrupted in this request: its outcome unknown, the rest not sent
                    sent += [_Sent(ready, op, UNSENT, error=_STOPPED) for ready, op in claimed[n + 1 :]]
                    raise
        else:
            futures = [pool.submit(job) for job in jobs]
            try:
                wait(futures)
            finally:
                halt.set()  # interrupted while waiting: the jobs not started send nothing …
                wait(futures)  # … and the requests in flight end (each within its timeouts)
                for future in futures:
                    if (failure := future.exception()) is None:
                        sent.append(future.result())
                    else:
                        error = error or failure
    finally:
        for item in _record(store, client, as_of, provider, sent):
            _report_sent(report, provider, item)
    if error is not None:
        raise error


def _claim(
    store: Store, client: ClientConfig, provider: CollectionProvider, batch: Sequence[_Ready]
) -> list[tuple[_Ready, Op]]:
    """One transaction: every case's intent recorded (``cases.record_intent``: compare-and-set, of two runs
    only one gets a case to send), in the batch's order (by case id). The cases this run now holds."""
    claimed: list[tuple[_Ready, Op]] = []
    with store.transaction() as conn:
        at = store.now()
        for ready in batch:
            case, earlier = ready.case, ready.earlier
            op = case_store.record_intent(
                conn,
                client_id=client.id,
                op_key=f"{case.case_id}|submit",
                case_id=case.case_id,
                kind="submit",
                provider=provider.name,
                amount=ready.d.open_amount,
                currency=ready.d.currency,
                detail={"allocations": ready.known_allocations},
                owner=store.run.key,
                replaces=earlier.claimed_by if earlier is not None else None,
                at=at,
            )
            if op is None:
                log.info("client %s: case %s is being pushed by another arsync run", client.id, case.case_id)
            elif op.state == DONE:  # done since _check read it (another run pushed it); still approved: next run
                log.info("client %s: case %s was pushed by another arsync run meanwhile", client.id, case.case_id)
            else:
                claimed.append((ready, op))
    return claimed


def _send(provider: CollectionProvider, ready: _Ready, op: Op) -> _Sent:
    """The request for one claimed case, and what became of it (nothing is recorded here)."""
    try:
        result = provider.submit(ready.payload, op.idem_key)
    except BusinessError as exc:
        return _Sent(ready, op, REFUSED, error=str(exc))
    except ProviderError as exc:
        if not exc.ambiguous:
            return _Sent(ready, op, PUSH_FAILED, error=str(exc))
        # Maybe created: ask now; if the provider cannot tell, the next run asks again.
        try:
            found = provider.find(ready.payload, op.created_at)
        except ProviderError:
            found = None
        if found is None:
            return _Sent(ready, op, UNKNOWN, error=str(exc))
        return _Sent(ready, op, PUSHED, found, _FOUND_LOST)
    return _Sent(ready, op, PUSHED, result, "created" if result.created else "already there")


def _record(
    store: Store, client: ClientConfig, as_of: date, provider: CollectionProvider, sent: Sequence[_Sent]
) -> list[_Sent]:
    """One transaction: every outcome of a batch recorded (or an earlier push found by :func:`_check`'s lookup);
    the ones recorded (for the report).

    Pushed: the op done with the provider's reference and the case pushed. Refused (a business error): the
    op failed and the case back to review. Failed (not ambiguous): the op failed, the case stays approved.
    Unknown (ambiguous and not found): the op stays pending with the error, for the next run to ask about.
    Not sent (the run was stopped): the op released as provably not at the provider (cancelled); one that
    carries on an earlier unresolved push stays pending instead (that push's key is kept for the resend)."""
    recorded: list[_Sent] = []
    if not sent:
        return recorded
    settled: list[tuple[str, str, str | None, str | None]] = []  # (op key, state, provider ref, error)
    refs: list[tuple[str, str]] = []
    events: list[tuple[str, CaseStatus, str]] = []
    with store.transaction() as conn:
        at = store.now()
        states = case_store.op_states(conn, client.id, [item.op.op_key for item in sent])
        for item in sent:
            case, key = item.ready.case, item.op.op_key
            if item.outcome == PUSHED:
                assert item.result is not None
                if states.get(key) == DONE:
                    continue  # already recorded (never a second "pushed")
                settled.append((key, DONE, item.result.provider_ref, None))
                refs.append((case.case_id, item.result.provider_ref))
                events.append((case.case_id, CaseStatus.PUSHED, f"{provider.name} {item.how}"))
            elif item.outcome == REFUSED:
                settled.append((key, FAILED, None, item.error))
                events.append((case.case_id, CaseStatus.PROPOSED, f"{provider.name} refused: {item.error}"))
            elif item.outcome == PUSH_FAILED:
                # Failed also when it carried on an earlier try: _check's lookup did not find that try and its run
                # has stopped, so it is not at the provider (what cancelling it there rests on too), and this
                # resend was answered for sure. Left pending, it would bar `cases withdraw` while the push keeps
                # failing; failed, the case stays approved and the next run sends it afresh (a new key).
                settled.append((key, FAILED, None, item.error))
            elif item.outcome == UNKNOWN or item.ready.tried_before:
                # the outcome unknown, or not sent now after an earlier try: pending, asked about next run (the
                # lookup costs little, and the earlier try's key is kept for the resend)
                case_store.note_op_error(conn, client.id, key, item.error, at=at)
            else:
                settled.append((key, case_store.CANCELLED, None, item.error))
            recorded.append(item)
        # One statement each for the batch (a statement per case costs more than the commit saved).
        case_store.settle_ops(conn, client.id, settled, at=at)
        case_store.set_provider_refs(conn, client.id, refs)
        case_store.add_case_events_many(conn, client.id, events, as_of, at=at)
    return recorded


def _report_pushed(
    report: ClientReport, provider: CollectionProvider, case: Case, result: PushResult, how: str
) -> None:
    report.did(
        PUSH,
        f"case {case.case_id} pushed to {provider.name} ({result.provider_ref}, {how})",
        invoice=case.invoice_number,
        case=case.case_id,
    )


def _report_sent(report: ClientReport, provider: CollectionProvider, item: _Sent) -> None:
    """The report's line for one recorded outcome (see :func:`_record`)."""
    case = item.ready.case
    if item.outcome == PUSHED:
        assert item.result is not None
        _report_pushed(report, provider, case, item.result, item.how)
    elif item.outcome == REFUSED:
        report.warnings.append(f"case {case.case_id}: {provider.name} refused the case, back to review: {item.error}")
    elif item.outcome == PUSH_FAILED:
        report.fail(f"case {case.case_id}: push failed (stays approved): {item.error}")
    elif item.outcome == UNKNOWN:
        report.warnings.append(
            f"case {case.case_id}: push outcome unknown ({item.error}); "
            "the next run asks the provider before anything is resent"
        )
    else:
        log.info("client %s: case %s %s (stays approved)", case.client_id, case.case_id, item.error)


# ---- status pull --------------------------------------------------------------------------------


def pull_status(
    store: Store, client: ClientConfig, as_of: date, report: ClientReport, provider: CollectionProvider
) -> None:
    open_cases = {
        c.provider_ref: c
        for c in store.read(case_store.load_cases, [client.id])
        if c.status is CaseStatus.PUSHED and c.provider_ref
    }
    if not open_cases:
        return
    cursor = store.read(case_store.get_cursor, client.id, provider.name)
    try:
        changed, new_cursor = provider.changes(cursor)
    except ProviderError as exc:
        report.warnings.append(f"{provider.name}: status pull failed, will retry next run: {exc}")
        return
    latest = store.read(case_store.provider_states, [client.id])
    for pc in changed:
        case = open_cases.get(pc.provider_ref)
        if case is None:
            continue
        prev = latest.get((client.id, case.case_id))
        if prev is not None and (prev.status, prev.close_code, prev.remaining) == (
            str(pc.status),
            pc.close_code,
            pc.remaining,
        ):
            continue
        with store.transaction() as conn:
            _observe(conn, store, client, as_of, provider, case, pc)
        detail = f"{pc.status}" + (f" ({pc.close_code})" if pc.close_code else "")
        report.did(
            STATUS,
            f"case {case.case_id}: {provider.name} reports {detail}",
            invoice=case.invoice_number,
            case=case.case_id,
        )
    if new_cursor and new_cursor != cursor:
        with store.transaction() as conn:
            case_store.set_cursor(conn, client.id, provider.name, new_cursor, at=store.now())


def _observe(
    conn: Connection,
    store: Store,
    client: ClientConfig,
    as_of: date,
    provider: CollectionProvider,
    case: Case,
    pc: ProviderCase,
) -> None:
    """What the provider reports on a case, recorded in the caller's transaction: its state; the case closed
    when the provider closed it; a dispute when the debtor disputes the claim (dunning stops too)."""
    state = ProviderState(
        case.case_id, provider.name, str(pc.status), pc.close_code, pc.raw_status, pc.remaining, as_of
    )
    case_store.add_provider_state(conn, client.id, state, at=store.now())
    if pc.status is ProviderStatus.CLOSED:
        closed = f"closed by {provider.name}: {pc.close_code}"
        case_store.add_case_event(conn, client.id, case.case_id, CaseStatus.CLOSED, as_of, closed, at=store.now())
    if pc.close_code in DISPUTE_CLOSE_CODES:
        add_dispute(
            conn,
            Dispute(
                client.id,
                case.invoice_number,
                f"provider-{provider.name}-{pc.provider_ref}",
                as_of,
                f"{provider.name} reports the debtor disputes the claim ({pc.close_code})",
                DisputeSource.PROVIDER,
            ),
        )


# ---- after the push: direct payments, credits, closing ------------------------------------------


def is_provider_payout(p: Payment, cfg: CollectionConfig, provider_name: str) -> bool:
    """Money the provider paid the client (collected from the debtor) is not a direct payment."""
    accounts = {_digits(a) for a in cfg.payout_accounts}
    if {_digits(x) for x in (p.payer_account, p.payer_org_id) if x} & accounts:
        return True
    name = (p.payer_name or "").lower()
    return any(n.lower() in name for n in [*cfg.payout_names, provider_name] if n and n != "outbox")


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value) or value.strip().lower()


def follow_up(
    store: Store, client: ClientConfig, as_of: date, report: ClientReport, provider: CollectionProvider, afresh: Afresh
) -> None:
    pushed = [
        c for c in store.read(case_store.load_cases, [client.id]) if c.status is CaseStatus.PUSHED and c.provider_ref
    ]
    if not pushed:
        return
    fresh = afresh({c.invoice_number for c in pushed}, decided=False)
    all_ops = store.read(case_store.ops, client.id)
    by_key = {op.op_key: op for op in all_ops}
    submits = {op.case_id: op for op in all_ops if op.kind == "submit" and op.state == DONE}
    for case in pushed:
        submit = submits.get(case.case_id)
        if submit is None:
            continue  # pushed before the op log existed: nothing known about what was sent
        known = set(submit.detail.get("allocations", []))
        reported = False
        current = fresh.get(case.invoice_number)
        if current is None:
            continue  # the store no longer has the invoice: nothing to report or close by
        for a in current.allocations:
            if a.source_key in known or a.amount <= ZERO:
                continue
            if a.tier is AllocationTier.CREDIT_NOTE:
                note = current.credit_notes.get(a.source_key)
                on = note.issue_date if note else as_of
                transfer = Transfer(a.source_key, a.amount, a.currency, on, f"credit note {a.source_key}")
                kind = "credit"
            else:
                p = current.payments.get(a.source_key)
                if p is None or is_provider_payout(p, client.collection, provider.name):
                    continue
                ref = "pay-" + case_store.idempotency_key(client.id, a.source_key, 0).removeprefix("arsync-")[:24]
                transfer = Transfer(
                    ref, a.amount, a.currency, p.booking_date, f"paid directly to the creditor ({a.tier})"
                )
                kind = "payment"
            op_key = f"{case.case_id}|{kind}|{a.source_key}"
            reported |= _report(store, client, report, provider, case, kind, op_key, transfer, by_key.get(op_key))
        open_amount = current.open_amount
        case_ops = [op for op in all_ops if op.case_id == case.case_id and op.kind in ("payment", "credit")]
        settled_by_us = reported or any(op.state == DONE for op in case_ops)
        if open_amount is not None and open_amount <= ZERO and settled_by_us:
            _close_settled(store, client, as_of, report, provider, case, by_key.get(f"{case.case_id}|withdraw"))


def _report(
    store: Store,
    client: ClientConfig,
    report: ClientReport,
    provider: CollectionProvider,
    case: Case,
    kind: str,
    op_key: str,
    transfer: Transfer,
    existing: Op | None,
) -> bool:
    assert case.provider_ref is not None
    if existing is not None and existing.state in (DONE, FAILED):
        return existing.state == DONE  # failed ones were reported once for a person to handle
    if existing is not None and existing.pending and not store.may_resolve(client.id, existing.claimed_by):
        _in_flight(case, existing)
        return False
    if existing is not None and existing.pending:
        try:
            pc = provider.get(case.provider_ref)
        except ProviderError:
            pc = None
        if pc is not None and transfer.ref in pc.payment_refs:
            with store.transaction() as conn:
                case_store.settle_op(conn, client.id, op_key, DONE, at=store.now())
            return True
    op = store.write(
        case_store.record_intent,
        client_id=client.id,
        op_key=op_key,
        case_id=case.case_id,
        kind=kind,
        provider=provider.name,
        amount=transfer.amount,
        currency=transfer.currency,
        detail={"ref": transfer.ref},
        owner=store.run.key,
        replaces=existing.claimed_by if existing is not None else None,
        at=store.now(),
    )
    if op is None:
        log.info("client %s: the %s on case %s is being reported by another arsync run", client.id, kind, case.case_id)
        return False
    try:
        if kind == "payment":
            provider.register_payment(case.provider_ref, transfer, op.idem_key)
        else:
            provider.credit(case.provider_ref, transfer, op.idem_key)
    except (Unsupported, BusinessError) as exc:
        with store.transaction() as conn:
            case_store.settle_op(conn, client.id, op_key, FAILED, at=store.now(), error=str(exc))
        report.warnings.append(f"case {case.case_id}: report the {kind} by hand: {exc}")
        return False
    except ProviderError as exc:
        store.write(case_store.note_op_error, client.id, op_key, str(exc), at=store.now())
        report.warnings.append(f"case {case.case_id}: reporting the {kind} failed, will retry next run: {exc}")
        return False
    with store.transaction() as conn:
        case_store.settle_op(conn, client.id, op_key, DONE, at=store.now())
    what = "direct payment" if kind == "payment" else "credit"
    report.did(
        PROVIDER_REPORT,
        f"case {case.case_id}: reported {what} {transfer.amount} {transfer.currency} to {provider.name}",
        invoice=case.invoice_number,
        case=case.case_id,
    )
    return True


def _close_settled(
    store: Store,
    client: ClientConfig,
    as_of: date,
    report: ClientReport,
    provider: CollectionProvider,
    case: Case,
    existing: Op | None,
) -> None:
    """Paid or credited in full to the client: the case must not go on at the provider."""
    assert case.provider_ref is not None
    if existing is not None and existing.state == FAILED:
        return
    try:
        pc = provider.get(case.provider_ref)
    except ProviderError as exc:
        report.warnings.append(f"case {case.case_id}: settled in full; could not check the provider: {exc}")
        return
    if pc is not None and pc.status is ProviderStatus.CLOSED:
        with store.transaction() as conn:
            case_store.add_provider_state(
                conn,
                client.id,
                ProviderState(
                    case.case_id, provider.name, str(pc.status), pc.close_code, pc.raw_status, pc.remaining, as_of
                ),
                at=store.now(),
            )
            case_store.add_case_event(
                conn,
                client.id,
                case.case_id,
                CaseStatus.CLOSED,
                as_of,
                f"closed by {provider.name}: {pc.close_code}",
                at=store.now(),
            )
        report.did(
            WITHDRAWAL,
            f"case {case.case_id}: settled in full; {provider.name} closed it ({pc.close_code})",
            invoice=case.invoice_number,
            case=case.case_id,
        )
        return
    try:
        withdraw_at_provider(store, client, as_of, provider, case, "paid or credited in full to the creditor")
    except (Unsupported, BusinessError) as exc:
        report.warnings.append(f"case {case.case_id}: settled in full; withdraw it by hand: {exc}")
        return
    except ProviderError as exc:
        report.warnings.append(f"case {case.case_id}: settled in full; withdrawal failed, will retry: {exc}")
        return
    report.did(
        WITHDRAWAL,
        f"case {case.case_id}: settled in full; withdrawn at {provider.name}",
        invoice=case.invoice_number,
        case=case.case_id,
    )


# ---- withdrawal ---------------------------------------------------------------------------------


class WithdrawRefused(Exception):
    pass


def withdraw_at_provider(
    store: Store,
    client: ClientConfig,
    as_of: date,
    provider: CollectionProvider,
    case: Case,
    note: str,
    *,
    actor: str | None = None,
    address: str | None = None,
) -> None:
    """Withdraw a pushed case at the provider (op log first), then record it — with who asked for it in the
    audit trail and the case's history when a person did (``actor``; a run's withdrawal names none). Raises
    ProviderError."""
    assert case.provider_ref is not None
    op_key = f"{case.case_id}|withdraw"
    existing = store.read(case_store.get_op, client.id, op_key)
    op = store.write(
        case_store.record_intent,
        client_id=client.id,
        op_key=op_key,
        case_id=case.case_id,
        kind="withdraw",
        provider=provider.name,
        owner=store.run.key,
        replaces=existing.claimed_by
        if existing is not None and store.may_resolve(client.id, existing.claimed_by)
        else None,
        at=store.now(),
    )
    if op is None:
        raise ProviderError(f"case {case.case_id}: another arsync run is withdrawing it right now")
    if op.state != DONE:
        try:
            provider.withdraw(case.provider_ref, note, op.idem_key)
        except (Unsupported, BusinessError) as exc:
            with store.transaction() as conn:
                case_store.settle_op(conn, client.id, op_key, FAILED, at=store.now(), error=str(exc))
            raise
        except ProviderError as exc:
            store.write(case_store.note_op_error, client.id, op_key, str(exc), at=store.now())
            raise
    with store.transaction() as conn:
        case_store.settle_op(conn, client.id, op_key, DONE, at=store.now())
        _withdrawn(conn, store, client, case, as_of, note, f"withdrawn at {provider.name}", actor, address)


def _withdrawn(
    conn: Connection,
    store: Store,
    client: ClientConfig,
    case: Case,
    as_of: date,
    note: str,
    how: str,
    actor: str | None,
    address: str | None,
) -> None:
    """The withdrawal recorded in the case's history and, when a person asked for it (``actor``), with how and
    who there and in the audit trail (in the caller's transaction: the two commit together)."""
    at = store.now()
    history = note if actor is None else f"{note} ({how}, by {actor})"
    case_store.add_case_event(conn, client.id, case.case_id, CaseStatus.WITHDRAWN, as_of, history, at=at)
    if actor is not None:
        entry = audit.AuditEntry(at, actor, "case.withdraw", client.id, case.case_id, f"{note} ({how})", address)
        audit.record(conn, entry)


def withdraw_case(
    store: Store,
    client: ClientConfig,
    case: Case,
    note: str,
    as_of: date,
    *,
    actor: str,
    address: str | None = None,
    done_at_provider: bool = False,
    provider: CollectionProvider | None = None,
) -> str:
    """The accountant's ``cases withdraw``: returns what happened; raises WithdrawRefused, ProviderError, or
    ClientLocked when a run works on the client (a withdrawal acts, so it holds the client's lock). Recorded
    with ``actor`` (``cli:<login>`` or the workbench user) in the audit trail and the case's history."""
    with store.lock(client.id, "cases withdraw"):
        current = store.read(case_store.find_case, case.case_id) or case  # as it is now, under the lock
        return _withdraw_case(store, client, current, note, as_of, done_at_provider, provider, actor, address)


def _withdraw_case(
    store: Store,
    client: ClientConfig,
    case: Case,
    note: str,
    as_of: date,
    done_at_provider: bool,
    provider: CollectionProvider | None,
    actor: str,
    address: str | None,
) -> str:
    submit = next(
        (op for op in store.read(case_store.ops, client.id, case_id=case.case_id) if op.kind == "submit"), None
    )
    if case.status in (CaseStatus.PROPOSED, CaseStatus.APPROVED):
        if submit is not None and submit.pending:
            raise WithdrawRefused(
                f"case {case.case_id} has an unresolved push; run `arsync cases push` first so the provider is asked"
            )
        with store.transaction() as conn:
            _withdrawn(conn, store, client, case, as_of, note, "withdrawn here", actor, address)
        if submit is not None and submit.state == DONE:  # approved again after its push (see _pushed_before)
            ref = f" as {submit.provider_ref}" if submit.provider_ref else ""
            return (
                f"{case.case_id}: withdrawn here; it went to {submit.provider} before{ref}: "
                "withdraw it there too if it is still open"
            )
        return f"{case.case_id}: withdrawn (it was never sent to a provider)"
    if case.status is not CaseStatus.PUSHED:
        raise WithdrawRefused(
            f"case {case.case_id} is {case.status}; only proposed, approved or pushed cases can be withdrawn"
        )
    if done_at_provider:
        # A withdrawal tried through the API whose outcome is unknown (pending) is settled with it: the
        # accountant saw it done, so it is never sent again and nothing is left to ask the provider about.
        # (Under the client's lock no run has it in flight.) One the provider refused stays failed, as it was.
        withdrawal = store.read(case_store.get_op, client.id, f"{case.case_id}|withdraw")
        with store.transaction() as conn:
            if withdrawal is not None and withdrawal.pending:
                case_store.settle_op(conn, client.id, withdrawal.op_key, DONE, at=store.now())
            _withdrawn(conn, store, client, case, as_of, note, "done at the provider by hand", actor, address)
        return f"{case.case_id}: recorded as withdrawn at the provider"
    provider = provider or provider_for(client)
    withdraw_at_provider(store, client, as_of, provider, case, note, actor=actor, address=address)
    return f"{case.case_id}: withdrawn at {provider.name}"
