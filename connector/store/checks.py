"""Invoices the accountant checked by hand (``arsync invoices confirm``): appended with who, when and why,
never changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection, select

from connector.model import InvoiceCheck
from connector.store import schema


def add_check(conn: Connection, check: InvoiceCheck, at: datetime) -> None:
    conn.execute(
        schema.invoice_checks.insert().values(
            client_id=check.client_id,
            invoice_number=check.invoice_number,
            checked_on=check.checked_on,
            actor=check.by,
            note=check.note,
            recorded_at=at,
        )
    )


def load_checks(conn: Connection, client_id: str) -> Iterator[InvoiceCheck]:
    t = schema.invoice_checks
    for r in conn.execute(select(t).where(t.c.client_id == client_id).order_by(t.c.id)):
        yield InvoiceCheck(r.client_id, r.invoice_number, r.checked_on, r.actor, r.note)
