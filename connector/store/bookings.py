"""The write-ahead log of fee and interest bookings (table ``fee_bookings``, issue 16).

When a letter is about to charge a reminder fee or late interest through a channel other than the
ledger's own reminder function, its charges are *planned* here before the letter goes out (the
send's own intent is already committed, :mod:`connector.store.sends`). Once the send is settled:
``sent``/``unconfirmed`` → the charges are booked (``pending`` is committed before the ledger or the
booking file is written, ``booked`` after, with the ledger's id or the file's name); ``failed`` → the
letter never went, so its charges are ``void``. A ``pending`` row found by a later run means the
process stopped while booking: it is resolved by looking for the booking (its reference is unique),
never booked blindly again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, select, update

from connector.model import ZERO, Action
from connector.store.bookings_table import fee_bookings
from connector.store.repository import Store

PLANNED, PENDING, BOOKED, VOID = "planned", "pending", "booked", "void"
FEE, INTEREST = "fee", "interest"


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

    @property
    def reference(self) -> str:
        """Unique per charge and stable across runs: the ledger's duplicate check and the file's key."""
        key = f"{self.client_id}\x00{self.invoice_number}\x00{self.step}\x00{self.sent_on}\x00{self.kind}"
        return f"arsync-{hashlib.sha256(key.encode()).hexdigest()[:24]}"


def _key(b: FeeBooking) -> ColumnElement[bool]:
    t = fee_bookings
    return and_(
        t.c.client_id == b.client_id,
        t.c.invoice_number == b.invoice_number,
        t.c.step == str(b.step),
        t.c.sent_on == b.sent_on,
        t.c.kind == b.kind,
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
    )


def plan(store: Store, charges: list[FeeBooking]) -> None:
    """Commit the charges of a letter about to be sent as ``planned``, in one transaction. A charge
    already logged stays as it is, unless it was ``void`` (its letter failed and is being sent again)."""
    now = store.now()
    with store.transaction() as conn:
        for b in charges:
            row = conn.execute(select(fee_bookings.c.status).where(_key(b))).first()
            values = {
                "amount": b.amount,
                "currency": b.currency,
                "customer_id": b.customer_id,
                "account": b.account,
                "text": b.text,
                "target": b.target,
                "status": PLANNED,
                "updated_at": now,
            }
            if row is None:
                conn.execute(
                    fee_bookings.insert().values(
                        client_id=b.client_id,
                        invoice_number=b.invoice_number,
                        step=str(b.step),
                        sent_on=b.sent_on,
                        kind=b.kind,
                        ref="",
                        attempts=0,
                        created_at=now,
                        **values,
                    )
                )
            elif row.status == VOID:
                conn.execute(update(fee_bookings).where(_key(b)).values(last_error=None, **values))


def bookings(store: Store, client_id: str, *, status: str | None = None) -> list[FeeBooking]:
    t = fee_bookings
    q = select(t).where(t.c.client_id == client_id).order_by(t.c.sent_on, t.c.invoice_number, t.c.step, t.c.kind)
    if status is not None:
        q = q.where(t.c.status == status)
    with store.engine.connect() as conn:
        return [_booking(r) for r in conn.execute(q)]


def interest_charged(store: Store, client_id: str, invoice_number: str) -> Decimal:
    """Late interest earlier letters of the invoice charged (and that is booked or to be): a later
    letter shows the interest from the due date, so only what it adds is booked again."""
    t = fee_bookings
    q = select(t.c.amount).where(
        and_(
            t.c.client_id == client_id,
            t.c.invoice_number == invoice_number,
            t.c.kind == INTEREST,
            t.c.status != VOID,
        )
    )
    with store.engine.connect() as conn:
        return sum((r.amount for r in conn.execute(q)), start=ZERO)


def settle(store: Store, b: FeeBooking, status: str, *, ref: str = "", error: str | None = None) -> FeeBooking:
    """Move a booking to ``status`` in its own transaction (``pending`` counts an attempt)."""
    attempts = b.attempts + (1 if status == PENDING else 0)
    with store.transaction() as conn:
        conn.execute(
            update(fee_bookings)
            .where(_key(b))
            .values(status=status, ref=ref or b.ref, last_error=error, attempts=attempts, updated_at=store.now())
        )
    return replace(b, status=status, ref=ref or b.ref, last_error=error, attempts=attempts)
