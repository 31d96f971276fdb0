"""The store's database: one engine, one clock, its schema brought up to date, and transactions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from connector.clock import Clock, utc_now
from connector.errors import StoreUnavailable
from connector.store import migrations
from connector.store.locks import RunId, client_lock, may_resolve

P = ParamSpec("P")
R = TypeVar("R")


class Store:
    """The engine, the clock, transactions and the run's identity and client locks; every operation is a
    function of a ``Connection`` in the module of its record kind (see the package docstring)."""

    def __init__(self, url: str, clock: Clock = utc_now, run: RunId | None = None):
        """``clock``: where every timestamp this store writes comes from (one per run; tests pin it).
        ``run``: who this run is, written on the locks and intents it takes (default: this process)."""
        self.url = url
        self.clock = clock
        self.run = run or RunId.current()
        self.held: dict[str, int] = {}  # clients whose lock this store holds now → the thread holding it
        try:
            self.engine: Engine = create_engine(url, future=True)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise StoreUnavailable(f"the store URL cannot be used: {_first_line(exc)}") from None
        where = self.engine.url.render_as_string(hide_password=True)
        database = self.engine.url.database
        if self.engine.dialect.name == "sqlite" and database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            with self.engine.connect() as conn:
                _migrate(conn)
        except OperationalError as exc:  # a server that is down, refuses, or a path that cannot be opened
            self.engine.dispose()
            raise StoreUnavailable(f"store {where} cannot be opened: {_first_line(exc.orig or exc)}") from None

    def close(self) -> None:
        self.engine.dispose()

    def now(self) -> datetime:
        """The time to stamp a write with (aware, UTC): passed as ``at`` to the functions that stamp."""
        return self.clock()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """All writes inside commit together or not at all (a client's sync is one transaction)."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection to read with (several reads on it see one snapshot of the database)."""
        with self.engine.connect() as conn:
            yield conn

    def lock(self, client_id: str, command: str, *, wait: bool = False) -> AbstractContextManager[str | None]:
        """Hold the client's lock (``connector.store.locks``) inside; it yields a note when it took over a
        stale lock. Raises ``connector.errors.ClientLocked`` when another run holds it, or with ``wait``
        waits until it is free (a queue job: ``connector.queue.worker``)."""
        return client_lock(self, client_id, command, wait=wait)

    def may_resolve(self, client_id: str, owner: str | None) -> bool:
        """Whether a pending intent claimed by ``owner`` is this run's to resolve (``locks.may_resolve``)."""
        return may_resolve(self, client_id, owner)

    def read(self, operation: Callable[Concatenate[Connection, P], R], *args: P.args, **kwargs: P.kwargs) -> R:
        """``operation(conn, …)`` on a connection of its own (an operation that returns a lazy iterator is
        refused: it would read after the connection closed; read those inside ``connect()``)."""
        with self.connect() as conn:
            return _eager(operation(conn, *args, **kwargs), operation)

    def write(self, operation: Callable[Concatenate[Connection, P], R], *args: P.args, **kwargs: P.kwargs) -> R:
        """``operation(conn, …)`` in a transaction of its own, committed when it returns."""
        with self.transaction() as conn:
            return _eager(operation(conn, *args, **kwargs), operation)


def _eager(result: R, operation: Any) -> R:
    if isinstance(result, Iterator):
        raise TypeError(f"{operation.__name__} returns a lazy iterator: call it inside store.connect()")
    return result


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0].strip()


def _migrate(conn: Connection) -> None:
    """Bring the schema forward in one transaction: all of it or none of it.

    Python's sqlite3 runs DDL (CREATE, ALTER) outside any transaction unless one was begun explicitly, so
    on SQLite one is: BEGIN IMMEDIATE, which also makes two processes opening one store migrate in turn."""
    raw = conn.connection.dbapi_connection if conn.dialect.name == "sqlite" else None
    previous = getattr(raw, "isolation_level", None)
    if raw is not None:
        raw.isolation_level = None  # the driver begins nothing itself; BEGIN below is the transaction
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        migrations.upgrade(conn)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        if raw is not None:
            raw.isolation_level = previous


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()
