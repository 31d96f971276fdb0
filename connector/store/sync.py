"""Sync bookkeeping: per source, when it last ran and succeeded, how far its data goes, its bookmark; and the
files a folder source has read (by hash, with their stat), so a file is read once."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, datetime
from itertools import islice
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Connection, and_, bindparam, select

from connector.model import SyncStatus
from connector.store import schema
from connector.store.rows import RowSpec, Skipped, aware, checked_rows, mapped
from connector.store.upsert import CHUNK_ROWS, upsert, upsert_many


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
    @property
    def stat(self) -> tuple[int, int, int] | None: ...  # size, mtime_ns, inode, when trusted


class KnownAgain(Protocol):
    """A file read again whose content was already seen: its name and stat now
    (``connector.sources.base.KnownAgain``)."""

    @property
    def file_hash(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def stat(self) -> tuple[int, int, int]: ...


class FilesRead(NamedTuple):
    """What a folder source has read before (failed files excluded: they are retried until they read)."""

    hashes: frozenset[str]  # content hashes
    stats: frozenset[str]  # the key (name, size, mtime_ns, inode) of those recorded with a stat


StatKey = Callable[[str, int, int, int], str]  # connector.sources.known.stat_key


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
    q = select(t).where(and_(t.c.client_id == client_id, t.c.source == source))
    row = next(iter(checked_rows(conn, q, SYNC, Skipped())), None)  # an unreadable row is started afresh
    previous = row._asdict() if row is not None else None
    if previous is not None and not _json_or_none(previous["cursor"]):
        previous["cursor"] = None  # a bookmark that cannot be read is dropped: the next sync reads in full
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


SYNC = RowSpec.of(schema.sync_state, ["source"], invoice=None, checks={"cursor": lambda v: v and json.loads(v)})


def sync_status(conn: Connection, client_id: str, skipped: Skipped | None = None) -> dict[str, SyncStatus]:
    """The client's sources by name (a row that cannot be read is left out: that source counts as never
    synced, which holds what it covers)."""
    t = schema.sync_state
    q = select(t).where(t.c.client_id == client_id)
    return {s.source: s for s in mapped(checked_rows(conn, q, SYNC, skipped), _status, SYNC, skipped)}


def _status(r: Any) -> SyncStatus:
    return SyncStatus(
        source=r.source,
        last_attempt_at=aware(r.last_attempt_at),
        last_success_at=aware(r.last_success_at),
        last_error=r.last_error,
        data_through=r.data_through,
        cursor=json.loads(r.cursor) if r.cursor else None,
    )


def files_read(conn: Connection, client_id: str, source: str, key: StatKey) -> FilesRead:
    """The hashes of the files ``source`` has read, and the stats they were read with (one query), each as
    ``key`` makes it of the name and the stat. Failed files are in neither: they are retried (and reported)
    until they read, e.g. after a fix."""
    t = schema.seen_files
    rows = conn.execute(
        select(t.c.file_hash, t.c.filename, t.c.st_size, t.c.st_mtime_ns, t.c.st_ino).where(
            and_(t.c.client_id == client_id, t.c.source == source, t.c.status != "failed")
        )
    )
    hashes: set[str] = set()
    stats: set[str] = set()
    for file_hash, name, size, mtime_ns, ino in rows:
        hashes.add(file_hash)
        if size is not None and mtime_ns is not None and ino is not None:
            stats.add(key(name, size, mtime_ns, ino))
    return FilesRead(frozenset(hashes), frozenset(stats))


def mark_files(conn: Connection, client_id: str, source: str, files: Iterable[SeenFile], *, at: datetime) -> None:
    upsert_many(
        conn,
        schema.seen_files,
        (
            {
                "client_id": client_id,
                "source": source,
                "file_hash": f.file_hash,
                "filename": f.name,
                "status": f.status,
                "detail": f.detail,
                "seen_at": at,
                **_stat_columns(f.stat),
            }
            for f in files
        ),
    )


def mark_known_again(conn: Connection, client_id: str, source: str, files: Iterable[KnownAgain]) -> None:
    """Record the name and stat a file already read has now (its status, detail and when it was first read
    stay): the next night it is known by its stat and not opened."""
    t = schema.seen_files
    stmt = (
        t.update()
        .where(
            and_(
                t.c.client_id == client_id,
                t.c.source == source,
                t.c.file_hash == bindparam("hash"),
                t.c.status != "failed",
            )
        )
        .values(
            filename=bindparam("name"),
            st_size=bindparam("size"),
            st_mtime_ns=bindparam("mtime_ns"),
            st_ino=bindparam("ino"),
        )
    )
    it = iter(files)
    while chunk := list(islice(it, CHUNK_ROWS)):
        conn.execute(stmt, [{"hash": f.file_hash, "name": f.name, **_stat_params(f.stat)} for f in chunk])


def _stat_columns(stat: tuple[int, int, int] | None) -> dict[str, int | None]:
    size, mtime_ns, ino = stat if stat is not None else (None, None, None)
    return {"st_size": size, "st_mtime_ns": mtime_ns, "st_ino": ino}


def _stat_params(stat: tuple[int, int, int]) -> dict[str, int]:
    size, mtime_ns, ino = stat
    return {"size": size, "mtime_ns": mtime_ns, "ino": ino}


def _json_or_none(text: str | None) -> bool:
    """Whether a stored bookmark is absent or readable JSON."""
    if text is None:
        return True
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _newest(a: date | None, b: date | None) -> date | None:
    return max((d for d in (a, b) if d is not None), default=None)
