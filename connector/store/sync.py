"""Sync bookkeeping: per source, when it last ran and succeeded, how far its data goes, its bookmark; and the
files a folder source has read (by hash), so a file is read once."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, and_, select

from connector.model import SyncStatus
from connector.store import schema
from connector.store.rows import aware
from connector.store.upsert import upsert, upsert_many


class SeenFile(Protocol):
    """What ``mark_files`` keeps of a file a source read (``connector.sources.base.FileResult``)."""

    @property
    def file_hash(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def detail(self) -> str: ...


def record_sync(
    conn: Connection,
    client_id: str,
    source: str,
    *,
    ok: bool,
    at: datetime,
    error: str | None = None,
    data_through: date | None = None,
    cursor: dict[str, Any] | None = None,
) -> None:
    """One attempt of ``source`` at ``at``: a success moves ``data_through`` (never back) and the bookmark;
    a failure keeps both and says why."""
    t = schema.sync_state
    row = conn.execute(select(t).where(and_(t.c.client_id == client_id, t.c.source == source))).first()
    previous = dict(row._mapping) if row else None
    upsert(
        conn,
        t,
        [
            {
                "client_id": client_id,
                "source": source,
                "last_attempt_at": at,
                "last_success_at": at if ok else (previous["last_success_at"] if previous else None),
                "last_error": None if ok else error,
                "data_through": _newest(data_through, previous["data_through"] if previous else None),
                "cursor": json.dumps(cursor) if cursor is not None else (previous["cursor"] if previous else None),
            }
        ],
    )


def sync_status(conn: Connection, client_id: str) -> dict[str, SyncStatus]:
    """The client's sources by name."""
    t = schema.sync_state
    out = {}
    for r in conn.execute(select(t).where(t.c.client_id == client_id)):
        out[r.source] = SyncStatus(
            source=r.source,
            last_attempt_at=aware(r.last_attempt_at),
            last_success_at=aware(r.last_success_at),
            last_error=r.last_error,
            data_through=r.data_through,
            cursor=json.loads(r.cursor) if r.cursor else None,
        )
    return out


def seen_hashes(conn: Connection, client_id: str, source: str) -> set[str]:
    """Hashes of the files ``source`` has read; failed files are not "seen": they are retried (and reported)
    until they read, e.g. after a fix."""
    t = schema.seen_files
    rows = conn.execute(
        select(t.c.file_hash).where(and_(t.c.client_id == client_id, t.c.source == source, t.c.status != "failed"))
    )
    return {r[0] for r in rows}


def mark_files(conn: Connection, client_id: str, source: str, files: Iterable[SeenFile], *, at: datetime) -> None:
    upsert_many(
        conn,
        schema.seen_files,
        [
            {
                "client_id": client_id,
                "source": source,
                "file_hash": f.file_hash,
                "filename": f.name,
                "status": f.status,
                "detail": f.detail,
                "seen_at": at,
            }
            for f in files
        ],
    )


def _newest(a: date | None, b: date | None) -> date | None:
    return max((d for d in (a, b) if d is not None), default=None)
