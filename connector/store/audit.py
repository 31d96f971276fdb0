"""The audit trail: who did what, when, from where. Append-only: rows are inserted and read, never
changed, so what a person did in the workbench (or a command did on their behalf) stays provable."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from connector.store import schema
from connector.store.rows import aware


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str  # the workbench user, or "cli:<login>"
    action: str  # login, login_refused, logout, case.approve, case.reject, case.undo, …
    client_id: str | None = None
    subject: str | None = None  # a case id, an invoice number, …
    detail: str = ""
    address: str | None = None  # the request's client address (after trusted proxies)


def record(conn: Connection, entry: AuditEntry) -> None:
    """Inside the caller's transaction, so an action and its audit row commit together or not at all (an
    event that changes nothing else, such as a log-in, is written on its own: ``store.write(record, …)``)."""
    conn.execute(
        schema.audit_log.insert().values(
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            client_id=entry.client_id,
            subject=entry.subject,
            detail=entry.detail,
            address=entry.address,
        )
    )


def entries(conn: Connection, client_ids: Iterable[str] | None = None, *, limit: int = 200) -> list[AuditEntry]:
    """Newest first; with ``client_ids`` only entries about those clients."""
    t = schema.audit_log
    q = select(t).order_by(t.c.id.desc()).limit(limit)
    if client_ids is not None:
        q = q.where(t.c.client_id.in_(list(client_ids)))
    return [
        AuditEntry(
            at=aware(r.at),
            actor=r.actor,
            action=r.action,
            client_id=r.client_id,
            subject=r.subject,
            detail=r.detail or "",
            address=r.address,
        )
        for r in conn.execute(q)
    ]
