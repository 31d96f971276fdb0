"""Undoing what the accountant recorded by hand: an agreement cancelled (kept, with the day it ended)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, and_, update

from connector.store import schema


def cancel_agreement(conn: Connection, client_id: str, agreement_id: str, on: date, note: str = "") -> bool:
    """Mark the agreement cancelled from ``on`` (its hold lifts that day); False when there is none open."""
    t = schema.agreements
    values: dict[str, object] = {"cancelled_on": on}
    if note:
        values["note"] = t.c.note + f" [cancelled {on.isoformat()}: {note}]"
    res = conn.execute(
        update(t)
        .where(and_(t.c.client_id == client_id, t.c.agreement_id == agreement_id, t.c.cancelled_on.is_(None)))
        .values(**values)
    )
    return bool(res.rowcount)
