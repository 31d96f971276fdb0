"""Invoices the accountant checked by hand (``arsync invoices confirm``): appended with who, when and why,
never changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from connector.model import InvoiceCheck
from connector.store import schema
from connector.store.rows import RowSpec, Skipped, checked_rows, mapped

# A check that cannot be read is one the invoice does not have: its holds stay (nothing more to hold).
CHECKS = RowSpec.of(schema.invoice_checks, ["id", "invoice_number"])


def add_check(conn: Connection, check: InvoiceCheck, *, at: datetime) -> None:
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


def load_checks(conn: Connection, client_id: str, skipped: Skipped | None = None) -> Iterator[InvoiceCheck]:
    t = schema.invoice_checks
    q = select(t).where(t.c.client_id == client_id).order_by(t.c.id)
    yield from mapped(checked_rows(conn, q, CHECKS, skipped), _check, CHECKS, skipped)


def _check(r: Any) -> InvoiceCheck:
    return InvoiceCheck(r.client_id, r.invoice_number, r.checked_on, r.actor, r.note)
