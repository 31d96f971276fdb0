"""Small builders for reconcile tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connector.model import DocKind, Invoice, Payment, PaymentStatus

D = Decimal


def inv(number: str, customer: str, amount: str, kid: str | None = None, due: date | None = date(2024, 3, 1), **kw):
    return Invoice(
        client_id="c",
        number=number,
        kind=kw.pop("kind", DocKind.INVOICE),
        customer_id=customer,
        issue_date=kw.pop("issued", date(2024, 2, 1)),
        due_date=due,
        currency="NOK",
        amount=D(amount),
        source="test",
        kid=kid,
        **kw,
    )


def pay(ref: str, amount: str, on: date = date(2024, 3, 4), **kw) -> Payment:
    return Payment(
        client_id="c",
        source=kw.pop("source", "camt"),
        account=kw.pop("account", "15030012345"),
        bank_ref=ref,
        ordinal=kw.pop("ordinal", 0),
        booking_date=on,
        amount=D(amount),
        currency="NOK",
        status=kw.pop("status", PaymentStatus.BOOKED),
        **kw,
    )
