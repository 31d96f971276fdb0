"""Letters written to debtors (table ``letters``): the write-ahead record of each letter and what it named.

A letter is begun as ``pending`` (claimed by the run that writes it, like a send intent), with its invoices'
send intents, in a transaction committed before the channel is called (a batch of letters shares one:
``connector.actions.send``), and settled after:
:func:`complete` records the dunning step of every invoice it names, settles their intents and the letter in
one transaction, so a letter is never half recorded. Of two runs only one ever sends a letter: the letter's
own row is a compare-and-set (:func:`begin` inserts it once; :func:`take_over` moves a stopped run's pending
one to this run only if it still has the claim read), and so is each invoice's intent
(``connector.store.sends``): a run that cannot claim one of them sends nothing. A ``pending`` letter found by
a later run is resolved (``connector.actions.resolve``), never blindly sent again. An outbox letter voided
before it was posted is ``cancelled``: its steps are taken back (it does not count), its intents settle
``failed`` with the reason (its charges are taken back too: ``connector.store.bookings.take_back``), the record
stays. A letter claimed and never started (a stop asked for mid-batch) is released (:func:`release`): its row
goes, its intents settle ``failed``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, delete, select, text, update

from connector.model import ZERO, Action, DunningStep
from connector.store import schema, sends
from connector.store.sends import SendIntent
from connector.store.upsert import insert_ignore

PENDING, SENT, UNCONFIRMED, FAILED, CANCELLED = "pending", "sent", "unconfirmed", "failed", "cancelled"
COUNTS = (PENDING, SENT, UNCONFIRMED)  # a letter in one of these states went out (or may have)
LADDER_KINDS = ("reminder", "collection_notice")  # letters that are a ladder step of each invoice they name


@dataclass(frozen=True)
class LetterRecord:
    client_id: str
    letter_id: str  # our reference, printed on the letter
    kind: str  # connector.letters.LetterKind
    customer_id: str
    sent_on: date
    channel: str
    status: str
    invoices: tuple[str, ...]
    currency: str
    total: Decimal
    fee: Decimal
    stem: str
    content: str  # JSON (connector.letters.serial)
    pay_by: date | None = None
    about: str | None = None  # follow_up: the agreement; collection_case: the case
    ref: str = ""
    last_error: str | None = None
    cancelled_on: date | None = None
    cancelled_by: str | None = None
    cancel_note: str | None = None
    claimed_by: str | None = None  # the run that writes (or resolves) it (connector.store.locks.RunId.key)


def _record(r: Any) -> LetterRecord:
    return LetterRecord(
        client_id=r.client_id,
        letter_id=r.letter_id,
        kind=r.kind,
        customer_id=r.customer_id,
        sent_on=r.sent_on,
        channel=r.channel,
        status=r.status,
        invoices=tuple(json.loads(r.invoices)),
        currency=r.currency,
        total=r.total,
        fee=r.fee,
        stem=r.stem,
        content=getattr(r, "content", ""),
        pay_by=r.pay_by,
        about=r.about,
        ref=r.ref or "",
        last_error=r.last_error,
        cancelled_on=r.cancelled_on,
        cancelled_by=r.cancelled_by,
        cancel_note=r.cancel_note,
        claimed_by=r.claimed_by,
    )


def free_id(conn: Connection, client_id: str, base: str) -> str:
    """``base``, or ``base-2``, ``base-3`` … when a letter (a cancelled or failed one too) has it already."""
    return next_free(base, ids_from(conn, client_id, base))


def ids_from(conn: Connection, client_id: str, prefix: str) -> set[str]:
    """The client's letter ids that start with ``prefix`` (a night's letters read theirs once: ``next_free``)."""
    t = schema.letters
    q = select(t.c.letter_id).where(and_(t.c.client_id == client_id, t.c.letter_id.like(f"{prefix}%")))
    return {r.letter_id for r in conn.execute(q) if r.letter_id.startswith(prefix)}


def next_free(base: str, taken: Iterable[str]) -> str:
    """``base``, or the first ``base-n`` (n ≥ 2) not ``taken``."""
    taken = set(taken)
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def begin(conn: Connection, record: LetterRecord, *, owner: str, at: datetime) -> LetterRecord | None:
    """Write the letter ahead as ``pending``, claimed by ``owner`` (the caller commits before anything is
    sent: ``store.write(letters.begin, …)``); None when a letter of that id exists already (another run took
    the id first: it writes that letter, this run none)."""
    row = {
        "client_id": record.client_id,
        "letter_id": record.letter_id,
        "kind": record.kind,
        "customer_id": record.customer_id,
        "sent_on": record.sent_on,
        "channel": record.channel,
        "status": PENDING,
        "invoices": json.dumps(list(record.invoices), ensure_ascii=False),
        "currency": record.currency,
        "total": record.total,
        "fee": record.fee,
        "pay_by": record.pay_by,
        "about": record.about,
        "stem": record.stem,
        "ref": "",
        "content": record.content,
        "created_at": at,
        "updated_at": at,
        "claimed_by": owner,
    }
    if not insert_ignore(conn, schema.letters, [row], ["client_id", "letter_id"]):
        return None
    return replace(record, status=PENDING, claimed_by=owner)


def begin_once(conn: Connection, record: LetterRecord, *, owner: str, at: datetime) -> LetterRecord | None:
    """:func:`begin` for a letter that goes once per what it is ``about`` (the follow-up of an agreement, the
    handover of a case), whatever its id: None also when another letter of that kind about it counts already
    (pending, sent or unconfirmed). A compare-and-set like :func:`begin`: of two runs that both found it
    unsent, only one begins it. Commit it before the channel is called (``store.write(letters.begin_once, …)``).

    Inserted first, then the others looked for: on SQLite the insert holds the write lock, so a letter another
    process begins is either committed and seen here, or begun after ours and sees ours. On PostgreSQL two
    transactions could each miss the other's uncommitted row, so they take turns on a transaction lock."""
    if conn.dialect.name == "postgresql":
        key = f"arsync letter {record.client_id} {record.kind} {record.about}"
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})
    begun = begin(conn, record, owner=owner, at=at)
    if begun is None:
        return None
    t = schema.letters
    other = conn.execute(
        select(t.c.letter_id).where(
            and_(
                t.c.client_id == record.client_id,
                t.c.kind == record.kind,
                t.c.about == record.about,
                t.c.status.in_(COUNTS),
                t.c.letter_id != record.letter_id,
            )
        )
    ).first()
    if other is not None:  # begun (or sent) by another run first: ours goes, that run's letter is the one
        conn.execute(delete(t).where(_key(record)))
        return None
    return begun


def take_over(conn: Connection, record: LetterRecord, *, owner: str, at: datetime) -> LetterRecord | None:
    """Claim a ``pending`` letter a stopped run left (the caller judged it stopped: ``Store.may_resolve``), to
    resolve it; None when it is no longer pending with the claim read (another run took it, or it settled)."""
    t = schema.letters
    same_claim = t.c.claimed_by.is_(None) if record.claimed_by is None else t.c.claimed_by == record.claimed_by
    taken = conn.execute(
        update(t).where(and_(_key(record), t.c.status == PENDING, same_claim)).values(claimed_by=owner, updated_at=at)
    )
    return replace(record, claimed_by=owner) if taken.rowcount == 1 else None


def settle(
    conn: Connection, record: LetterRecord, status: str, *, at: datetime, ref: str = "", error: str | None = None
) -> None:
    t = schema.letters
    values: dict[str, Any] = {"status": status, "updated_at": at, "last_error": error}
    if ref:
        values["ref"] = ref
    conn.execute(update(t).where(_key(record)).values(**values))


def _key(record: LetterRecord) -> Any:
    t = schema.letters
    return and_(t.c.client_id == record.client_id, t.c.letter_id == record.letter_id)


def load(
    conn: Connection,
    client_id: str,
    *,
    status: str | None = None,
    kind: str | None = None,
    customer_id: str | None = None,
    content: bool = False,
) -> list[LetterRecord]:
    """The client's letters, oldest first; ``content``: with what each said (else "": :func:`get` has it)."""
    t = schema.letters
    where = [t.c.client_id == client_id]
    if status is not None:
        where.append(t.c.status == status)
    if kind is not None:
        where.append(t.c.kind == kind)
    if customer_id is not None:
        where.append(t.c.customer_id == customer_id)
    columns = list(t.c) if content else [c for c in t.c if c.name != "content"]
    q = select(*columns).where(and_(*where)).order_by(t.c.sent_on, t.c.created_at, t.c.letter_id)
    return [_record(r) for r in conn.execute(q)]


def fee_letters(conn: Connection, client_id: str) -> dict[str, list[tuple[date, Decimal]]]:
    """For each invoice, the (day, fee) of every fee-bearing reminder or notice that named it (the fee limits
    count such a letter for every invoice in it, whichever invoice's step recorded the fee)."""
    t = schema.letters
    q = select(t.c.invoices, t.c.sent_on, t.c.fee).where(
        and_(t.c.client_id == client_id, t.c.status.in_(COUNTS), t.c.kind.in_(LADDER_KINDS))
    )
    out: dict[str, list[tuple[date, Decimal]]] = {}
    for r in conn.execute(q):
        if r.fee > 0:
            for number in json.loads(r.invoices):
                out.setdefault(number, []).append((r.sent_on, r.fee))
    return out


def statuses(conn: Connection, client_id: str, letter_ids: Iterable[str]) -> dict[str, str]:
    """The status of each of these letters (a released one has none: its row is gone)."""
    t, wanted, out = schema.letters, sorted(set(letter_ids)), {}
    for at in range(0, len(wanted), 500):  # a bounded IN list per query
        q = select(t.c.letter_id, t.c.status).where(
            and_(t.c.client_id == client_id, t.c.letter_id.in_(wanted[at : at + 500]))
        )
        out.update({r.letter_id: r.status for r in conn.execute(q)})
    return out


def get(conn: Connection, client_id: str, letter_id: str) -> LetterRecord | None:
    t = schema.letters
    row = conn.execute(select(t).where(and_(t.c.client_id == client_id, t.c.letter_id == letter_id))).first()
    return _record(row) if row is not None else None


def complete(
    conn: Connection,
    record: LetterRecord,
    intents: Iterable[SendIntent],
    status: str,
    *,
    ref: str,
    detail: str,
    at: datetime,
) -> None:
    """Record the dunning step of every invoice the letter names, settle their intents and the letter
    (``sent`` / ``unconfirmed``) — in the caller's one transaction (``store.write(letters.complete, …)``): a
    letter is recorded whole or not at all."""
    intents = list(intents)
    steps = [
        DunningStep(i.client_id, i.invoice_number, i.step, i.sent_on, i.channel, i.fee, i.currency, detail)
        for i in intents
    ]
    sends.record_steps(conn, steps)
    for intent in intents:
        sends.settle(conn, intent, status, at=at, ref=ref)
    settle(conn, record, status, at=at, ref=ref)


def fail(conn: Connection, record: LetterRecord, intents: Iterable[SendIntent], error: str, *, at: datetime) -> None:
    """Nothing reached the debtor: the letter and its intents settle ``failed`` (the next run may try again)."""
    for intent in intents:
        sends.settle(conn, intent, sends.FAILED, at=at, error=error)
    settle(conn, record, FAILED, at=at, error=error)


def release(conn: Connection, record: LetterRecord, intents: Iterable[SendIntent], why: str, *, at: datetime) -> None:
    """A letter this run claimed and never started (a stop was asked for first): its row goes, so its id is
    free again, and its intents settle ``failed`` (the next run claims them again). Only while it is still
    pending and this run's."""
    t = schema.letters
    gone = conn.execute(delete(t).where(and_(_key(record), t.c.status == PENDING, t.c.claimed_by == record.claimed_by)))
    if gone.rowcount == 1:
        for intent in intents:
            sends.settle(conn, intent, sends.FAILED, at=at, error=why)


def cancel(conn: Connection, record: LetterRecord, *, on: date, by: str, note: str, at: datetime) -> None:
    """Void a letter: it no longer counts as a step. Its invoices' steps of that day (recorded from this letter)
    are taken back, their intents settle ``failed`` (a fee the letter planned is void) and the letter keeps
    its record with who cancelled it, when and why."""
    t = schema.letters
    conn.execute(
        update(t)
        .where(_key(record))
        .values(status=CANCELLED, cancelled_on=on, cancelled_by=by, cancel_note=note, updated_at=at)
    )
    steps = schema.dunning_steps
    for number in record.invoices:
        conn.execute(
            delete(steps).where(
                and_(
                    steps.c.client_id == record.client_id,
                    steps.c.invoice_number == number,
                    steps.c.step == record.kind,
                    steps.c.sent_on == record.sent_on,
                    steps.c.detail == record.ref,
                )
            )
        )
        if record.kind in LADDER_KINDS:
            step = Action(record.kind)
            intent = SendIntent(record.client_id, number, step, record.sent_on, record.channel, "", ZERO, "")
            sends.settle(conn, intent, sends.FAILED, at=at, error=f"letter {record.letter_id} cancelled: {note}")
