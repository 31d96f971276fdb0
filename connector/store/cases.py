"""Collection cases: the cases and their events (proposed, approved, pushed, …), and the bookkeeping of
the push: the write-ahead log of provider operations, provider states, pull cursors.

An operation is recorded as ``pending`` in a committed transaction *before* the provider is called, and
settled (``done`` / ``failed`` / ``cancelled``) after (a batch of pushes is claimed in one transaction and
settled in one: ``connector.actions.collection``). A ``pending`` row found at start
therefore means "we may or may not have reached the provider": it must be resolved by asking the
provider before anything is sent again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select, update

from connector.model import Case, CaseEvent, CaseStatus, UnreadableRow
from connector.store import schema
from connector.store.rows import RowSpec, Skipped, aware, checked_rows
from connector.store.upsert import insert_ignore, upsert

PENDING, DONE, FAILED, CANCELLED = "pending", "done", "failed", "cancelled"


# ---- cases and their events ----------------------------------------------------------------------


def propose_case(conn: Connection, case: Case, *, at: datetime) -> bool:
    """Create the case if it does not exist yet; True when it was created."""
    created = insert_ignore(
        conn,
        schema.cases,
        [
            {
                "client_id": case.client_id,
                "case_id": case.case_id,
                "invoice_number": case.invoice_number,
                "customer_id": case.customer_id,
                "currency": case.currency,
                "amount": case.amount,
                "open_amount": case.open_amount,
                "created_on": case.created_on,
                "provider_ref": None,
            }
        ],
        ["client_id", "case_id"],
    )
    if created:
        add_case_event(conn, case.client_id, case.case_id, CaseStatus.PROPOSED, case.created_on, case.note, at=at)
    return bool(created)


def add_case_event(
    conn: Connection,
    client_id: str,
    case_id: str,
    status: CaseStatus,
    on: date,
    note: str = "",
    *,
    at: datetime,
    push_after: datetime | None = None,
) -> None:
    conn.execute(
        schema.case_events.insert().values(
            client_id=client_id,
            case_id=case_id,
            status=str(status),
            on_date=on,
            recorded_at=at,
            note=note,
            push_after=push_after,
        )
    )


def set_provider_ref(conn: Connection, client_id: str, case_id: str, ref: str) -> None:
    t = schema.cases
    conn.execute(update(t).where(and_(t.c.client_id == client_id, t.c.case_id == case_id)).values(provider_ref=ref))


def set_open_amount(conn: Connection, client_id: str, case_id: str, amount: Decimal) -> None:
    """What the case claims, as the invoice's decision has it now (a case back to review for a changed amount
    is approved again for the new one)."""
    t = schema.cases
    conn.execute(update(t).where(and_(t.c.client_id == client_id, t.c.case_id == case_id)).values(open_amount=amount))


def add_case_events_many(
    conn: Connection, client_id: str, events: Sequence[tuple[str, CaseStatus, str]], on: date, *, at: datetime
) -> None:
    """Many cases' events, ``(case_id, status, note)``, in one statement (a batch of pushes recorded)."""
    if not events:
        return
    rows = [
        {
            "client_id": client_id,
            "case_id": case_id,
            "status": str(status),
            "on_date": on,
            "recorded_at": at,
            "note": note,
            "push_after": None,
        }
        for case_id, status, note in events
    ]
    conn.execute(schema.case_events.insert(), rows)


def set_provider_refs(conn: Connection, client_id: str, refs: Sequence[tuple[str, str]]) -> None:
    """Many cases' provider references, ``(case_id, ref)``, in one statement."""
    if not refs:
        return
    t = schema.cases
    stmt = (
        update(t)
        .where(and_(t.c.client_id == client_id, t.c.case_id == bindparam("b_case")))
        .values(provider_ref=bindparam("b_ref"))
    )
    conn.execute(stmt, [{"b_case": case_id, "b_ref": ref} for case_id, ref in refs])


CASES = RowSpec.of(schema.cases, ["case_id", "invoice_number"], customer="customer_id")
CASE_EVENTS = RowSpec.of(
    schema.case_events, ["case_id", "status", "on_date"], invoice=None, checks={"status": CaseStatus}
)


class _EventSkips(Skipped):
    """Skipped events, and the cases they belong to: a case with an unreadable event is left out whole (its
    status cannot be known, and a wrong one could push it again)."""

    def __init__(self) -> None:
        super().__init__()
        self.cases: dict[tuple[str, str], UnreadableRow] = {}

    def add(self, spec: RowSpec, row: Sequence[Any], exc: BaseException, column: str | None = None) -> None:
        super().add(spec, row, exc, column)
        values = dict(zip(spec.columns, row, strict=False))
        self.cases.setdefault((str(values.get("client_id")), str(values.get("case_id"))), self[-1])


def load_cases(conn: Connection, client_ids: Iterable[str] | None = None, skipped: Skipped | None = None) -> list[Case]:
    """The cases of ``client_ids`` (all clients: None) with their events, by client, creation day and id.
    ``skipped``: where rows that cannot be read go (``connector.store.rows``); logged only when None."""
    t, e = schema.cases, schema.case_events
    q = select(t).order_by(t.c.client_id, t.c.created_on, t.c.case_id)
    qe = select(e).order_by(e.c.id)
    if client_ids is not None:
        ids = list(client_ids)
        q = q.where(t.c.client_id.in_(ids))
        qe = qe.where(e.c.client_id.in_(ids))
    bad_events = _EventSkips()
    events: dict[tuple[str, str], list[CaseEvent]] = {}
    for r in checked_rows(conn, qe, CASE_EVENTS, bad_events):
        try:
            event = CaseEvent(
                case_id=r.case_id,
                status=CaseStatus(r.status),
                on=r.on_date,
                note=r.note or "",
                push_after=aware(r.push_after),
            )
        except Exception as exc:
            bad_events.add(CASE_EVENTS, tuple(r), exc)
            continue
        events.setdefault((r.client_id, r.case_id), []).append(event)
    out = []
    for r in checked_rows(conn, q, CASES, skipped):
        bad = bad_events.cases.get((r.client_id, r.case_id))
        if bad is not None:
            if skipped is not None:  # named with the invoice it concerns: the core holds that invoice
                skipped.append(replace(bad, invoice_number=r.invoice_number, customer_id=r.customer_id))
            continue
        evs = tuple(events.get((r.client_id, r.case_id), ()))
        out.append(
            Case(
                case_id=r.case_id,
                client_id=r.client_id,
                invoice_number=r.invoice_number,
                customer_id=r.customer_id,
                currency=r.currency,
                amount=r.amount,
                open_amount=r.open_amount,
                status=evs[-1].status if evs else CaseStatus.PROPOSED,
                created_on=r.created_on,
                note=evs[-1].note if evs else "",
                provider_ref=r.provider_ref,
                events=evs,
            )
        )
    return out


def find_case(conn: Connection, case_id: str) -> Case | None:
    """The case with this id, whichever client's (ids name their client), or None."""
    t = schema.cases
    row = conn.execute(select(t.c.client_id).where(t.c.case_id == case_id).order_by(t.c.client_id)).first()
    if row is None:
        return None
    return next((c for c in load_cases(conn, [row.client_id]) if c.case_id == case_id), None)


# ---- the write-ahead log of provider operations --------------------------------------------------


@dataclass(frozen=True)
class Op:
    client_id: str
    op_key: str
    case_id: str
    kind: str
    provider: str
    idem_key: str
    generation: int
    state: str
    amount: Decimal | None
    currency: str | None
    provider_ref: str | None
    detail: dict[str, Any]
    attempts: int
    last_error: str | None
    created_at: datetime
    claimed_by: str | None = None  # the run that claimed it (connector.store.locks.RunId.key)

    @property
    def pending(self) -> bool:
        return self.state == PENDING


@dataclass(frozen=True)
class ProviderState:
    case_id: str
    provider: str
    status: str
    close_code: str | None
    raw_status: str
    remaining: Decimal | None
    observed_on: date


def idempotency_key(client_id: str, op_key: str, generation: int) -> str:
    """Stable per operation (so a resend after a crash replays), new after a refusal (new generation)."""
    digest = hashlib.sha256(f"{client_id}|{op_key}|{generation}".encode()).hexdigest()[:40]
    return f"arsync-{digest}"


def _op(row: Any) -> Op:
    created = aware(row.created_at)
    return Op(
        client_id=row.client_id,
        op_key=row.op_key,
        case_id=row.case_id,
        kind=row.kind,
        provider=row.provider,
        idem_key=row.idem_key,
        generation=row.generation,
        state=row.state,
        amount=row.amount,
        currency=row.currency,
        provider_ref=row.provider_ref,
        detail=json.loads(row.detail) if row.detail else {},
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=created,
        claimed_by=row.claimed_by,
    )


def get_op(conn: Connection, client_id: str, op_key: str) -> Op | None:
    t = schema.collection_ops
    row = conn.execute(select(t).where(and_(t.c.client_id == client_id, t.c.op_key == op_key))).first()
    return _op(row) if row else None


def ops(conn: Connection, client_id: str, *, case_id: str | None = None, state: str | None = None) -> list[Op]:
    t = schema.collection_ops
    q = select(t).where(t.c.client_id == client_id).order_by(t.c.created_at, t.c.op_key)
    if case_id is not None:
        q = q.where(t.c.case_id == case_id)
    if state is not None:
        q = q.where(t.c.state == state)
    return [_op(r) for r in conn.execute(q)]


def record_intent(
    conn: Connection,
    *,
    client_id: str,
    op_key: str,
    case_id: str,
    kind: str,
    provider: str,
    amount: Decimal | None = None,
    currency: str | None = None,
    detail: dict[str, Any] | None = None,
    owner: str,
    replaces: str | None = None,
    at: datetime,
) -> Op | None:
    """Claim the op for ``owner`` before the provider is called (the caller commits it first:
    ``store.write(cases.record_intent, …)``); returns the op to execute, or None when another run has it.

    Every change is a compare-and-set on what was read, checked by its row count, so of two processes
    only one ever gets a given op to send:
    - a new op is inserted (ON CONFLICT DO NOTHING);
    - a ``failed`` or ``cancelled`` op starts a new generation with a new idempotency key (the provider
      replays refusals verbatim for the old key, and the accountant has approved again), if its state
      and generation are still those read;
    - a ``pending`` op is the owner's own (returned), or one the caller judged stopped — ``replaces``,
      the claim it saw (``Store.may_resolve``) — or of before claims were recorded; it is taken over
      only while that claim is still on it. A live other run's op is never taken.
    A ``done`` op is returned unchanged (the caller must not send).
    """
    t = schema.collection_ops
    where = and_(t.c.client_id == client_id, t.c.op_key == op_key)
    existing = get_op(conn, client_id, op_key)
    if existing is None:
        row = {
            "client_id": client_id,
            "op_key": op_key,
            "case_id": case_id,
            "kind": kind,
            "provider": provider,
            "idem_key": idempotency_key(client_id, op_key, 0),
            "generation": 0,
            "state": PENDING,
            "amount": amount,
            "currency": currency,
            "provider_ref": None,
            "detail": json.dumps(detail or {}, sort_keys=True),
            "attempts": 1,
            "last_error": None,
            "created_at": at,
            "updated_at": at,
            "claimed_by": owner,
        }
        if not insert_ignore(conn, t, [row], ["client_id", "op_key"]):
            return None  # another run inserted it first
    elif existing.state in (FAILED, CANCELLED):
        generation = existing.generation + 1
        claimed = conn.execute(
            update(t)
            .where(and_(where, t.c.state == existing.state, t.c.generation == existing.generation))
            .values(
                idem_key=idempotency_key(client_id, op_key, generation),
                generation=generation,
                state=PENDING,
                amount=amount,
                currency=currency,
                detail=json.dumps(detail or {}, sort_keys=True),
                attempts=existing.attempts + 1,
                last_error=None,
                updated_at=at,
                created_at=at,
                claimed_by=owner,
            )
        )
        if claimed.rowcount != 1:
            return None
    elif existing.state == PENDING:
        seen = existing.claimed_by
        if seen is not None and seen not in (owner, replaces):
            return None  # a live other run's op
        same_claim = t.c.claimed_by.is_(None) if seen is None else t.c.claimed_by == seen
        claimed = conn.execute(
            update(t)
            .where(and_(where, t.c.state == PENDING, same_claim))
            .values(attempts=existing.attempts + 1, updated_at=at, claimed_by=owner)
        )
        if claimed.rowcount != 1:
            return None
    return get_op(conn, client_id, op_key)


def settle_op(
    conn: Connection,
    client_id: str,
    op_key: str,
    state: str,
    *,
    at: datetime,
    provider_ref: str | None = None,
    error: str | None = None,
) -> None:
    """Settle an op inside the caller's transaction; ``at``: the store's clock (``store.now()``)."""
    t = schema.collection_ops
    values: dict[str, Any] = {"state": state, "updated_at": at, "last_error": error}
    if provider_ref is not None:
        values["provider_ref"] = provider_ref
    conn.execute(update(t).where(and_(t.c.client_id == client_id, t.c.op_key == op_key)).values(**values))


def settle_ops(
    conn: Connection, client_id: str, settled: Sequence[tuple[str, str, str | None, str | None]], *, at: datetime
) -> None:
    """Many ops settled in one statement, ``(op_key, state, provider_ref, error)``, as :func:`settle_op` each
    (a provider_ref of None keeps the op's)."""
    if not settled:
        return
    t = schema.collection_ops
    stmt = (
        update(t)
        .where(and_(t.c.client_id == client_id, t.c.op_key == bindparam("b_key")))
        .values(
            state=bindparam("b_state"),
            updated_at=at,
            last_error=bindparam("b_error", type_=t.c.last_error.type),
            provider_ref=func.coalesce(bindparam("b_ref", type_=t.c.provider_ref.type), t.c.provider_ref),
        )
    )
    conn.execute(stmt, [{"b_key": k, "b_state": st, "b_ref": ref, "b_error": e} for k, st, ref, e in settled])


def op_states(conn: Connection, client_id: str, op_keys: Collection[str]) -> dict[str, str]:
    """The state of each of these ops that exists."""
    t = schema.collection_ops
    out: dict[str, str] = {}
    keys = sorted(op_keys)
    for start in range(0, len(keys), 500):  # bounded IN lists
        q = select(t.c.op_key, t.c.state).where(
            and_(t.c.client_id == client_id, t.c.op_key.in_(keys[start : start + 500]))
        )
        out.update({row.op_key: row.state for row in conn.execute(q)})
    return out


def note_op_error(conn: Connection, client_id: str, op_key: str, error: str, *, at: datetime) -> None:
    """Keep the op pending (the outcome is unknown) but remember why."""
    t = schema.collection_ops
    conn.execute(
        update(t).where(and_(t.c.client_id == client_id, t.c.op_key == op_key)).values(last_error=error, updated_at=at)
    )


# ---- provider states ----------------------------------------------------------------------------


def add_provider_state(conn: Connection, client_id: str, state: ProviderState, *, at: datetime) -> None:
    conn.execute(
        schema.case_provider_states.insert().values(
            client_id=client_id,
            case_id=state.case_id,
            provider=state.provider,
            status=state.status,
            close_code=state.close_code,
            raw_status=state.raw_status,
            remaining=state.remaining,
            observed_on=state.observed_on,
            recorded_at=at,
        )
    )


def provider_states(conn: Connection, client_ids: Iterable[str] | None = None) -> dict[tuple[str, str], ProviderState]:
    """The newest provider state per (client, case)."""
    t = schema.case_provider_states
    q = select(t).order_by(t.c.id)
    if client_ids is not None:
        q = q.where(t.c.client_id.in_(list(client_ids)))
    out: dict[tuple[str, str], ProviderState] = {}
    for r in conn.execute(q):
        out[(r.client_id, r.case_id)] = ProviderState(
            r.case_id, r.provider, r.status, r.close_code, r.raw_status or "", r.remaining, r.observed_on
        )
    return out


def provider_history(conn: Connection, client_id: str, case_id: str) -> list[ProviderState]:
    t = schema.case_provider_states
    q = select(t).where(and_(t.c.client_id == client_id, t.c.case_id == case_id)).order_by(t.c.id)
    return [
        ProviderState(r.case_id, r.provider, r.status, r.close_code, r.raw_status or "", r.remaining, r.observed_on)
        for r in conn.execute(q)
    ]


# ---- pull cursors -------------------------------------------------------------------------------


def get_cursor(conn: Connection, client_id: str, provider: str) -> str | None:
    t = schema.collection_cursors
    row = conn.execute(select(t.c.cursor).where(and_(t.c.client_id == client_id, t.c.provider == provider))).first()
    return row[0] if row else None


def set_cursor(conn: Connection, client_id: str, provider: str, cursor: str, *, at: datetime) -> None:
    upsert(
        conn,
        schema.collection_cursors,
        [{"client_id": client_id, "provider": provider, "cursor": cursor, "updated_at": at}],
    )
