"""One arsync run per client at a time, and who owns a pending intent.

Every command that syncs or acts holds its client's lock for as long as it works on the client, so two
overlapping runs (a cron ``run`` and a hand-started ``cases push``) never both push a case or send a
reminder. A blocked run fails that client with one line: "another arsync run holds client X since …".

- SQLite: a row in ``client_locks`` (owner, pid, host, command, since), inserted if absent
  (``INSERT … ON CONFLICT DO NOTHING``: of two processes exactly one inserts) and deleted on release.
  A row whose process is gone (same host, pid not running or reused) is taken over with a
  compare-and-set on its owner, so of two runs finding it stale only one gets it. A row of another
  host cannot be judged: it stays until that run ends (or a person removes it).
- PostgreSQL: ``pg_try_advisory_lock`` on a connection kept open for the lock's lifetime (the server
  releases it when that session ends, so a crashed run leaves nothing behind); the same row is written
  beside it only to say who holds the lock and since when. The key is one 64-bit number per client
  (:func:`advisory_key`): PostgreSQL keeps single-key locks apart from the two-key locks the queue takes
  (``connector.queue.db``), so the two never collide.

A queue job waits for its client's lock (``wait=True``: ``pg_advisory_lock``) instead of failing: a worker
taken for dead that was only late still finishes first. Commands fail at once.

A run's identity (``RunId``: host, pid, process start, a random token) is also written on every intent
it claims (``collection_ops`` / ``dunning_sends``), so another run can tell a live owner's send in
flight (left alone) from the leftover of a run that stopped (resolved).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, and_, delete, func, select, update
from sqlalchemy.exc import DBAPIError

from connector.errors import ClientLocked
from connector.store import schema
from connector.store.rows import aware
from connector.store.upsert import insert_ignore, upsert


class Store(Protocol):
    """What the locks need of ``connector.store.database.Store`` (a protocol: that module imports this one)."""

    run: RunId
    held: dict[str, int]
    engine: Engine

    def now(self) -> datetime: ...

    def transaction(self) -> AbstractContextManager[Connection]: ...


@dataclass(frozen=True)
class RunId:
    """Who a process is: enough to tell, on the same host, whether it still runs."""

    host: str
    pid: int
    started: str  # the process's start time in clock ticks since boot (Linux), "" where unknown
    token: str

    @property
    def key(self) -> str:
        return f"{self.pid}@{self.host}#{self.started}#{self.token}"

    @classmethod
    def parse(cls, key: str | None) -> RunId | None:
        if not key or "@" not in key:
            return None
        pid, _, rest = key.partition("@")
        host, _, rest = rest.partition("#")
        started, _, token = rest.partition("#")
        try:
            return cls(host, int(pid), started, token)
        except ValueError:
            return None

    @classmethod
    def current(cls) -> RunId:
        """This process (one identity per process; a forked child gets its own)."""
        global _current
        pid = os.getpid()
        if _current is None or _current.pid != pid:
            _current = cls(socket.gethostname(), pid, _process_start(pid) or "", secrets.token_hex(4))
        return _current

    def alive(self) -> bool | None:
        """Whether that process still runs; None when it ran on another host (cannot tell from here)."""
        if self.host != socket.gethostname():
            return None
        if self.pid == os.getpid():
            return self.started == (_process_start(self.pid) or "")
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # it exists, run by someone else
        started = _process_start(self.pid)
        if started is None:  # on Linux: a zombie (it has ended); without /proc: it exists, assume it runs
            return not os.path.isdir("/proc/self")
        return started == self.started

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}"


_current: RunId | None = None


def _process_start(pid: int) -> str | None:
    """Field 22 of /proc/<pid>/stat (start time after boot); None without /proc or for a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # the command name may hold spaces and parentheses
    if len(fields) < 20 or fields[0] in ("Z", "X"):  # a zombie has ended: only its exit status is left
        return None
    return fields[19]


# ---- the lock ------------------------------------------------------------------------------------


def _lock_row(client_id: str, run: RunId, command: str, since: datetime) -> dict[str, object]:
    return {
        "client_id": client_id,
        "owner": run.key,
        "pid": run.pid,
        "host": run.host,
        "command": command,
        "since": since,
    }


def _holder(conn: Connection, client_id: str) -> dict[str, Any] | None:
    t = schema.client_locks
    row = conn.execute(select(t).where(t.c.client_id == client_id)).first()
    return dict(row._mapping) if row else None


def _refusal(client_id: str, row: dict[str, Any] | None) -> ClientLocked:
    if row is None:
        return ClientLocked(client_id)
    return ClientLocked(client_id, aware(row["since"]), f"{row['command']}, pid {row['pid']} on {row['host']}")


def _take_sqlite(store: Store, client_id: str, command: str, wait: bool) -> str | None:
    """Take the lock row; returns a note when a stale lock was taken over. Raises ClientLocked, or with
    ``wait`` looks again every ``WAIT_POLL`` seconds until the row is free."""
    while True:
        try:
            return _try_sqlite(store, client_id, command)
        except ClientLocked:
            if not wait:
                raise
        time.sleep(WAIT_POLL)


WAIT_POLL = 0.5  # seconds between looks at a SQLite lock row a waiting run wants


def _try_sqlite(store: Store, client_id: str, command: str) -> str | None:
    run = store.run
    for _ in range(3):  # a stale row another run takes over at the same moment: look again
        with store.transaction() as conn:
            row = _lock_row(client_id, run, command, store.now())
            if insert_ignore(conn, schema.client_locks, [row], ["client_id"]):
                return None
            held = _holder(conn, client_id)
            if held is None:
                continue  # released in between
            holder = RunId.parse(str(held["owner"]))
            if holder is None or holder.key == run.key or holder.alive() is not False:
                raise _refusal(client_id, held)
            t = schema.client_locks
            taken = conn.execute(
                update(t).where(and_(t.c.client_id == client_id, t.c.owner == held["owner"])).values(**row)
            )
            if taken.rowcount == 1:
                since = aware(held["since"])
                return (
                    f"took over the lock of client {client_id} left by {holder.describe()} "
                    f"({held['command']}, since {since:%Y-%m-%d %H:%M:%S} UTC), which is no longer running"
                )
    raise _refusal(client_id, None)


def _release_sqlite(store: Store, client_id: str) -> None:
    t = schema.client_locks
    with store.transaction() as conn:
        conn.execute(delete(t).where(and_(t.c.client_id == client_id, t.c.owner == store.run.key)))


def advisory_key(client_id: str) -> int:
    """A signed 64-bit key per client (``pg_advisory_lock(bigint)``)."""
    digest = hashlib.sha256(f"arsync client lock|{client_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def _held_postgresql(store: Store, client_id: str, command: str, wait: bool) -> Iterator[None]:
    key = advisory_key(client_id)
    # A connection of its own, outside any transaction, for as long as the lock is held.
    conn = store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        if wait:
            conn.execute(select(func.pg_advisory_lock(key)))
        elif not conn.execute(select(func.pg_try_advisory_lock(key))).scalar_one():
            raise _refusal(client_id, _holder(conn, client_id))
        try:
            upsert(conn, schema.client_locks, [_lock_row(client_id, store.run, command, store.now())])
            yield
        finally:
            try:
                t = schema.client_locks
                conn.execute(delete(t).where(and_(t.c.client_id == client_id, t.c.owner == store.run.key)))
                conn.execute(select(func.pg_advisory_unlock(key)))
            except DBAPIError:
                conn.invalidate()  # the session is gone, and the server let its lock go with it
    except BaseException:
        conn.invalidate()  # whatever went wrong, the session ends: the server lets the lock go
        raise
    finally:
        conn.close()


@contextmanager
def client_lock(store: Store, client_id: str, command: str, *, wait: bool = False) -> Iterator[str | None]:
    """Hold the client's lock inside; yields a note when a stale lock was taken over. Raises ClientLocked
    when another run holds it, or with ``wait`` waits for it. Another thread of this process is one more
    run (a queue worker's jobs share one store): refused or waited for like any; a thread taking a lock it
    holds already is a mistake (RuntimeError)."""
    me = threading.get_ident()
    holder = store.held.get(client_id)
    if holder == me:
        raise RuntimeError(f"client {client_id}: this thread holds its lock already (a nested take)")
    if holder is not None and not wait:
        raise ClientLocked(client_id, holder=f"another thread of this process, pid {os.getpid()}")
    if store.engine.dialect.name == "postgresql":
        with _held_postgresql(store, client_id, command, wait):
            store.held[client_id] = me
            try:
                yield None
            finally:
                store.held.pop(client_id, None)
        return
    note = _take_sqlite(store, client_id, command, wait)
    store.held[client_id] = me
    try:
        yield note
    finally:
        store.held.pop(client_id, None)
        _release_sqlite(store, client_id)


def may_resolve(store: Store, client_id: str, owner: str | None) -> bool:
    """Whether this run may resolve (or take over) a pending intent claimed by ``owner``: its own, one of a
    run that no longer runs, or — while this run holds the client's lock — any (every run that acts holds
    it, so the owner has stopped). A live other run's send in flight is left alone."""
    if owner is None or owner == store.run.key or client_id in store.held:
        return True
    holder = RunId.parse(owner)
    return holder is None or holder.alive() is False
