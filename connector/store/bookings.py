"""The write-ahead log of fee and interest bookings (table ``fee_bookings``, issue 16).

When a letter is about to charge a reminder fee or late interest through a channel other than the
ledger's own reminder function, its charges are *planned* here before the letter goes out (the
send's own intent is already committed, :mod:`connector.store.sends`). Once the send is settled:
``sent``/``unconfirmed`` → the charges are booked (``pending`` is committed before the ledger or the
booking file is written, ``booked`` after, with the ledger's id or the file's name); ``failed`` → the
letter never went, so its charges are ``void``. A ``pending`` row found by a later run means the
process stopped while booking: it is resolved by looking for the booking (its reference is unique),
never booked blindly again.

Every change of state is a compare-and-set checked by its row count, as for sends: a charge is claimed
(``pending``, with the run that claimed it) only while it is still as it was read, so of two runs only one
books it; the other gets None, no error. A ``pending`` charge of a live other run is left to it
(``Store.may_resolve``); one of a run that stopped is taken over (:func:`take_over`) and looked for.

A charge is its letter's (``letter_id``): a letter cancelled and written again the same day charges anew,
in a row of its own. Cancelling a letter (:func:`take_back`, in the cancellation's transaction) voids its
charges still ``planned`` — a compare-and-set, so a run cannot claim one after — and gives each one booked
(or being booked) into the booking file a *reversal*: a row of kind ``fee_reversal`` / ``interest_reversal``
with the amount negated, booked on the day the letter was cancelled once the charge itself is booked, in the
same way (planned → pending → booked, its own reference). A booking in a ledger is not reversed by arsync:
the accountant is told.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, or_, select, update

from connector.model import ZERO, Action, LetterCharge
from connector.store import schema
from connector.store.bookings_table import fee_bookings
from connector.store.letters import COUNTS, LetterRecord
from connector.store.rows import RowSpec, Skipped, checked_rows, mapped
from connector.store.upsert import insert_ignore

PLANNED, PENDING, BOOKED, VOID = "planned", "pending", "booked", "void"
FEE, INTEREST = "fee", "interest"
CHARGES_KINDS = (FEE, INTEREST)
REVERSAL = "_reversal"  # the kind of a charge's reversal: fee_reversal, interest_reversal


@dataclass(frozen=True)
class FeeBooking:
    client_id: str
    invoice_number: str
    step: Action
    sent_on: date  # the letter's day, and the booking's date
    kind: str  # fee, interest
    amount: Decimal
    currency: str
    customer_id: str
    account: str  # the income account the charge is booked to
    text: str
    target: str  # "file", or the ledger system
    status: str = PLANNED
    ref: str = ""
    last_error: str | None = None
    attempts: int = 0
    claimed_by: str | None = None  # the run that moved it to pending (connector.store.locks.RunId.key)
    letter_id: str = ""  # the letter that charged it ("" on a row from before v20: the letter of its key)
    booked_on: date | None = None  # the day it is booked when not the letter's day (a reversal's)

    @property
    def reference(self) -> str:
        """Unique per charge and stable across runs: the ledger's duplicate check and the file's key. (Rows
        from before v20 have no letter: their references are as they were.)"""
        key = f"{self.client_id}\x00{self.invoice_number}\x00{self.step}\x00{self.sent_on}\x00{self.kind}"
        if self.letter_id:
            key += f"\x00{self.letter_id}"
        return f"arsync-{hashlib.sha256(key.encode()).hexdigest()[:24]}"

    @property
    def on(self) -> date:
        """The day it is booked: its booking file's, and the ledger entry's."""
        return self.booked_on or self.sent_on

    @property
    def reversal(self) -> bool:
        return self.kind.endswith(REVERSAL)

    @property
    def label(self) -> str:
        """``fee``, ``interest``, ``fee reversal``, ``interest reversal``: for people."""
        return self.kind.replace("_", " ")

    def reversed_by(self, on: date) -> FeeBooking:
        """The reversal of this charge, booked on ``on`` (the day its letter was cancelled)."""
        return FeeBooking(
            self.client_id,
            self.invoice_number,
            self.step,
            self.sent_on,
            self.kind + REVERSAL,
            -self.amount,
            self.currency,
            self.customer_id,
            self.account,
            f"Reversal (letter cancelled): {self.text}",
            self.target,
            letter_id=self.letter_id,
            booked_on=on,
        )

    @property
    def key(self) -> tuple[str, str, date, str, str]:
        return (self.invoice_number, str(self.step), self.sent_on, self.kind, self.letter_id)

    @property
    def reverses(self) -> tuple[str, str, date, str, str]:
        """The key of the charge a reversal reverses."""
        return (self.invoice_number, str(self.step), self.sent_on, self.kind.removesuffix(REVERSAL), self.letter_id)


def _key(b: FeeBooking) -> ColumnElement[bool]:
    t = fee_bookings
    return and_(
        t.c.client_id == b.client_id,
        t.c.invoice_number == b.invoice_number,
        t.c.step == str(b.step),
        t.c.sent_on == b.sent_on,
        t.c.kind == b.kind,
        t.c.letter_id == b.letter_id,
    )


def _booking(r: Any) -> FeeBooking:
    return FeeBooking(
        client_id=r.client_id,
        invoice_number=r.invoice_number,
        step=Action(r.step),
        sent_on=r.sent_on,
        kind=r.kind,
        amount=r.amount,
        currency=r.currency,
        customer_id=r.customer_id,
        account=r.account,
        text=r.text,
        target=r.target,
        status=r.status,
        ref=r.ref or "",
        last_error=r.last_error,
        attempts=r.attempts,
        claimed_by=r.claimed_by,
        letter_id=r.letter_id,
        booked_on=r.booked_on,
    )


def plan(conn: Connection, charges: list[FeeBooking], *, at: datetime) -> None:
    """Log the charges of a letter about to be sent as ``planned`` (commit it before the letter goes:
    ``store.write(bookings.plan, …)``). A charge already logged stays as it is, unless it was ``void`` (its
    letter failed and is being sent again)."""
    for b in charges:
        values = {
            "amount": b.amount,
            "currency": b.currency,
            "customer_id": b.customer_id,
            "account": b.account,
            "text": b.text,
            "target": b.target,
            "status": PLANNED,
            "updated_at": at,
        }
        new = {
            "client_id": b.client_id,
            "invoice_number": b.invoice_number,
            "step": str(b.step),
            "sent_on": b.sent_on,
            "kind": b.kind,
            "letter_id": b.letter_id,
            "booked_on": b.booked_on,
            "ref": "",
            "attempts": 0,
            "created_at": at,
            **values,
        }
        keys = ["client_id", "invoice_number", "step", "sent_on", "kind", "letter_id"]
        if not insert_ignore(conn, fee_bookings, [new], keys):
            t = fee_bookings
            conn.execute(update(t).where(and_(_key(b), t.c.status == VOID)).values(last_error=None, **values))


def bookings(conn: Connection, client_id: str, *, status: str | None = None) -> list[FeeBooking]:
    t = fee_bookings
    q = select(t).where(t.c.client_id == client_id).order_by(t.c.sent_on, t.c.invoice_number, t.c.step, t.c.kind)
    if status is not None:
        q = q.where(t.c.status == status)
    return [_booking(r) for r in conn.execute(q)]


CHARGES = RowSpec.of(fee_bookings, ["invoice_number", "step", "sent_on", "kind", "letter_id"], checks={"step": Action})


def _letter_counts() -> ColumnElement[bool]:
    """The row's letter still counts (pending, sent, unconfirmed: not failed, released or cancelled). A row
    from before v20 names no letter: it counts unless it was reversed (its letter cancelled), and then
    whether its step stands says it (as the core checks for every row)."""
    t, letters, r = fee_bookings, schema.letters, fee_bookings.alias("reversal")
    reversed_ = (
        select(r.c.kind)
        .where(
            and_(
                r.c.client_id == t.c.client_id,
                r.c.invoice_number == t.c.invoice_number,
                r.c.step == t.c.step,
                r.c.sent_on == t.c.sent_on,
                r.c.letter_id == t.c.letter_id,
                r.c.kind == t.c.kind + REVERSAL,
            )
        )
        .exists()
    )
    counts = (
        select(letters.c.letter_id)
        .where(
            and_(
                letters.c.client_id == t.c.client_id,
                letters.c.letter_id == t.c.letter_id,
                letters.c.status.in_(COUNTS),
            )
        )
        .exists()
    )
    return or_(and_(t.c.letter_id == "", ~reversed_), counts)


def load_charges(conn: Connection, client_id: str, skipped: Skipped | None = None) -> Iterator[LetterCharge]:
    """The fees and interest the client's letters charged, for the core: not a void charge's (its letter never
    went), nor a cancelled letter's (one written again the same day charged anew), nor reversals."""
    t = fee_bookings
    q = (
        select(t)
        .where(and_(t.c.client_id == client_id, t.c.status != VOID, t.c.kind.in_(CHARGES_KINDS), _letter_counts()))
        .order_by(t.c.sent_on, t.c.invoice_number)
    )
    yield from mapped(checked_rows(conn, q, CHARGES, skipped), _charge, CHARGES, skipped)


def _charge(r: Any) -> LetterCharge:
    return LetterCharge(r.client_id, r.invoice_number, Action(r.step), r.sent_on, r.kind, r.amount, r.currency)


def interest_charged(conn: Connection, client_id: str, invoice_number: str) -> Decimal:
    """Late interest earlier letters of the invoice charged (and that is booked or to be): a later
    letter shows the interest from the due date, so only what it adds is booked again. A cancelled
    letter's step is taken back and its booking reversed: it counts for nothing (also when the step is taken
    again the same day, by a letter that charges anew)."""
    t, s = fee_bookings, schema.dunning_steps
    standing = (
        select(s.c.invoice_number)
        .where(
            and_(
                s.c.client_id == t.c.client_id,
                s.c.invoice_number == t.c.invoice_number,
                s.c.step == t.c.step,
                s.c.sent_on == t.c.sent_on,
            )
        )
        .exists()
    )
    q = select(t.c.amount).where(
        and_(
            t.c.client_id == client_id,
            t.c.invoice_number == invoice_number,
            t.c.kind == INTEREST,
            t.c.status != VOID,
            standing,
            _letter_counts(),
        )
    )
    return sum((r.amount for r in conn.execute(q)), start=ZERO)


def of_letter(conn: Connection, letter: LetterRecord) -> list[FeeBooking]:
    """The charges the letter made (a row from before v20, of no letter, is the charge of its key's letter) and
    their reversals."""
    t = fee_bookings
    q = select(t).where(
        and_(
            t.c.client_id == letter.client_id,
            t.c.invoice_number.in_(letter.invoices),
            t.c.step == letter.kind,
            t.c.sent_on == letter.sent_on,
            t.c.letter_id.in_((letter.letter_id, "")),
        )
    )
    return [_booking(r) for r in conn.execute(q.order_by(t.c.invoice_number, t.c.kind))]


def take_back(conn: Connection, letter: LetterRecord, *, on: date, at: datetime) -> None:
    """The cancelled letter's charges, in the cancellation's transaction: one still ``planned`` is void (a
    compare-and-set: a run claims it first, or never); one booked or being booked into the booking file gets
    its reversal, planned, booked on ``on`` once the charge itself is booked (``actions.bookings``). A booking
    in a ledger is left as it is: the accountant reverses it there."""
    for b in of_letter(conn, letter):
        if b.reversal:
            continue
        if b.status == PLANNED:
            if settle(conn, b, VOID, at=at, error=f"letter {letter.letter_id} cancelled"):
                continue
            b = next(x for x in of_letter(conn, letter) if x.key == b.key)  # a run claimed it first
        if b.status in (PENDING, BOOKED) and b.target == "file":
            plan(conn, [b.reversed_by(on)], at=at)


def _as_read(b: FeeBooking) -> ColumnElement[bool]:
    """The row is still as ``b`` was read: same state, attempts and claim."""
    t = fee_bookings
    claim = t.c.claimed_by.is_(None) if b.claimed_by is None else t.c.claimed_by == b.claimed_by
    return and_(_key(b), t.c.status == b.status, t.c.attempts == b.attempts, claim)


def claim(conn: Connection, b: FeeBooking, *, owner: str, at: datetime) -> FeeBooking | None:
    """Move a ``planned`` charge to ``pending`` for ``owner`` before it is booked (commit it first); None
    when it is no longer as read (another run claimed it, or it was settled)."""
    if b.status != PLANNED:
        return None
    attempts = b.attempts + 1
    claimed = conn.execute(
        update(fee_bookings)
        .where(_as_read(b))
        .values(status=PENDING, attempts=attempts, claimed_by=owner, updated_at=at)
    )
    if claimed.rowcount != 1:
        return None
    return replace(b, status=PENDING, attempts=attempts, claimed_by=owner)


def take_over(conn: Connection, b: FeeBooking, *, owner: str, at: datetime) -> FeeBooking | None:
    """Claim a ``pending`` charge a stopped run left (the caller judged it stopped: ``Store.may_resolve``),
    to look for it and settle it; None when it is no longer as read."""
    if b.status != PENDING:
        return None
    taken = conn.execute(update(fee_bookings).where(_as_read(b)).values(claimed_by=owner, updated_at=at))
    return replace(b, claimed_by=owner) if taken.rowcount == 1 else None


def settle(
    conn: Connection, b: FeeBooking, status: str, *, at: datetime, ref: str = "", error: str | None = None
) -> FeeBooking | None:
    """Move a charge from the state it was read in to ``status`` (``booked`` with the ledger's id or the
    file's name, ``void``, or back to ``planned`` after a definite refusal); None when it is no longer as
    read (another run settled it)."""
    done = conn.execute(
        update(fee_bookings).where(_as_read(b)).values(status=status, ref=ref or b.ref, last_error=error, updated_at=at)
    )
    if done.rowcount != 1:
        return None
    return replace(b, status=status, ref=ref or b.ref, last_error=error)
