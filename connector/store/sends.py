"""Reminder sends: the dunning steps taken (``dunning_steps``, append-only) and the write-ahead log of
sends (table ``dunning_sends``).

An intent is committed as ``pending`` *before* the channel is called (a batch of letters' intents in one
transaction: ``connector.actions.send``). It is
settled after: ``sent`` in the same transaction that records the dunning step, ``failed`` when the
channel refused (nothing reached the debtor; the next run may try again). A ``pending`` row found by
a later run means the process stopped in between: the message may or may not have gone out, so it
is resolved (see :mod:`connector.actions.resolve`), never blindly sent again. ``unconfirmed`` marks
an intent resolved as "may have been sent": its step is recorded and the accountant is told.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, select, update

from connector.model import Action, DunningStep
from connector.store import schema
from connector.store.rows import RowSpec, Skipped, checked_rows, mapped
from connector.store.upsert import insert_ignore

PENDING, SENT, UNCONFIRMED, FAILED = "pending", "sent", "unconfirmed", "failed"


# ---- steps taken ---------------------------------------------------------------------------------


def record_steps(conn: Connection, steps: Iterable[DunningStep]) -> int:
    """Append steps; a step already recorded (same invoice, step and day) is not added again."""
    rows = [
        {
            "client_id": s.client_id,
            "invoice_number": s.invoice_number,
            "step": str(s.step),
            "sent_on": s.sent_on,
            "channel": s.channel,
            "fee": s.fee,
            "currency": s.currency,
            "detail": s.detail,
        }
        for s in steps
    ]
    return insert_ignore(conn, schema.dunning_steps, rows, ["client_id", "invoice_number", "step", "sent_on"])


STEPS = RowSpec.of(schema.dunning_steps, ["invoice_number", "step", "sent_on"], checks={"step": Action})


def load_steps(conn: Connection, client_id: str, skipped: Skipped | None = None) -> Iterator[DunningStep]:
    """``skipped``: where rows that cannot be read go (``connector.store.rows``); logged only when None."""
    t = schema.dunning_steps
    q = select(t).where(t.c.client_id == client_id).order_by(t.c.sent_on, t.c.id)
    yield from mapped(checked_rows(conn, q, STEPS, skipped), _step, STEPS, skipped)


def _step(r: Any) -> DunningStep:
    return DunningStep(
        client_id=r.client_id,
        invoice_number=r.invoice_number,
        step=Action(r.step),
        sent_on=r.sent_on,
        channel=r.channel,
        fee=r.fee,
        currency=r.currency,
        detail=r.detail or "",
    )


# ---- the write-ahead log of sends ----------------------------------------------------------------


@dataclass(frozen=True)
class SendIntent:
    client_id: str
    invoice_number: str
    step: Action
    sent_on: date
    channel: str
    status: str
    fee: Decimal
    currency: str
    ref: str = ""
    last_error: str | None = None
    attempts: int = 0
    claimed_by: str | None = None  # the run that claimed it (connector.store.locks.RunId.key)


def _key(t: Table, client_id: str, invoice_number: str, step: Action, sent_on: date) -> ColumnElement[bool]:
    return and_(
        t.c.client_id == client_id,
        t.c.invoice_number == invoice_number,
        t.c.step == str(step),
        t.c.sent_on == sent_on,
    )


def _intent(r: Any) -> SendIntent:
    return SendIntent(
        client_id=r.client_id,
        invoice_number=r.invoice_number,
        step=Action(r.step),
        sent_on=r.sent_on,
        channel=r.channel,
        status=r.status,
        fee=r.fee,
        currency=r.currency,
        ref=r.ref or "",
        last_error=r.last_error,
        attempts=r.attempts,
        claimed_by=r.claimed_by,
    )


def intents(conn: Connection, client_id: str, *, status: str | None = None) -> list[SendIntent]:
    t = schema.dunning_sends
    q = select(t).where(t.c.client_id == client_id).order_by(t.c.sent_on, t.c.invoice_number, t.c.step)
    if status is not None:
        q = q.where(t.c.status == status)
    return [_intent(r) for r in conn.execute(q)]


def begin(conn: Connection, intent: SendIntent, *, owner: str, at: datetime) -> SendIntent | None:
    """Claim the send for ``owner`` as ``pending`` before the channel is called (the caller commits it
    first: ``store.write(sends.begin, …)``); None when it must not be sent by this run.

    A compare-and-set, checked by its row count: a new key is inserted (ON CONFLICT DO NOTHING), a
    ``failed`` one is retried only if still failed with the attempts read. So of two processes only one
    ever sends; the other gets None (no error). A key pending, sent or unconfirmed gets None too: that send
    is in flight, or made, and is never made again (a pending one is resolved, ``take_over``).
    """
    t = schema.dunning_sends
    where = _key(t, intent.client_id, intent.invoice_number, intent.step, intent.sent_on)
    row = conn.execute(select(t).where(where)).first()
    if row is None:
        attempts = 1
        new = {
            "client_id": intent.client_id,
            "invoice_number": intent.invoice_number,
            "step": str(intent.step),
            "sent_on": intent.sent_on,
            "channel": intent.channel,
            "status": PENDING,
            "fee": intent.fee,
            "currency": intent.currency,
            "ref": "",
            "attempts": attempts,
            "created_at": at,
            "updated_at": at,
            "claimed_by": owner,
        }
        if not insert_ignore(conn, t, [new], ["client_id", "invoice_number", "step", "sent_on"]):
            return None  # another run began the same send first
    elif row.status == FAILED:
        attempts = row.attempts + 1
        claimed = conn.execute(
            update(t)
            .where(and_(where, t.c.status == FAILED, t.c.attempts == row.attempts))
            .values(
                status=PENDING,
                channel=intent.channel,
                fee=intent.fee,
                attempts=attempts,
                updated_at=at,
                claimed_by=owner,
            )
        )
        if claimed.rowcount != 1:
            return None
    else:
        return None
    return SendIntent(**{**intent.__dict__, "status": PENDING, "attempts": attempts, "claimed_by": owner})


def take_over(conn: Connection, intent: SendIntent, *, owner: str, at: datetime) -> SendIntent | None:
    """Claim a ``pending`` intent another run left (the caller judged that run stopped:
    ``Store.may_resolve``), to resolve or complete it; None when it is no longer pending with the claim
    read (another run took it, or it was settled)."""
    t = schema.dunning_sends
    where = _key(t, intent.client_id, intent.invoice_number, intent.step, intent.sent_on)
    same_claim = t.c.claimed_by.is_(None) if intent.claimed_by is None else t.c.claimed_by == intent.claimed_by
    taken = conn.execute(
        update(t).where(and_(where, t.c.status == PENDING, same_claim)).values(claimed_by=owner, updated_at=at)
    )
    return replace(intent, claimed_by=owner) if taken.rowcount == 1 else None


def settle(
    conn: Connection, intent: SendIntent, status: str, *, at: datetime, ref: str = "", error: str | None = None
) -> None:
    """Settle an intent inside the caller's transaction (``sent`` goes with the recorded step); ``at``: the
    store's clock (``store.now()``)."""
    t = schema.dunning_sends
    conn.execute(
        update(t)
        .where(_key(t, intent.client_id, intent.invoice_number, intent.step, intent.sent_on))
        .values(status=status, ref=ref, last_error=error, updated_at=at)
    )


def complete(conn: Connection, intent: SendIntent, status: str, *, ref: str, detail: str, at: datetime) -> None:
    """Record the intent's dunning step and settle it (``sent`` / ``unconfirmed``), in one transaction."""
    step = DunningStep(
        client_id=intent.client_id,
        invoice_number=intent.invoice_number,
        step=intent.step,
        sent_on=intent.sent_on,
        channel=intent.channel,
        fee=intent.fee,
        currency=intent.currency,
        detail=detail,
    )
    record_steps(conn, [step])
    settle(conn, intent, status, at=at, ref=ref)
