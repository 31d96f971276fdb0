"""Dialect upserts: the one place that knows how SQLite and PostgreSQL say "insert, or update / ignore"."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Date, Table
from sqlalchemy.dialects import postgresql, sqlite

from connector.store.rows import Converted


def _insert(conn: Connection, table: Table) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT (primary key) DO UPDATE every other column, for SQLite and PostgreSQL alike."""
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    stmt = _insert(conn, table)
    updates = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    stmt = (
        stmt.on_conflict_do_update(index_elements=keys, set_=updates)
        if updates
        else stmt.on_conflict_do_nothing(index_elements=keys)
    )
    conn.execute(stmt, list(rows))


CHUNK_ROWS = 5000  # rows per executemany: a batch's rows are converted and sent a chunk at a time


def upsert_many(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """``upsert`` for big batches (bank files, e-invoice folders): on SQLite one compiled statement,
    executemany with plain rows converted by each column's own bind processor; elsewhere the ordinary
    path. Same rows, same SQL.

    ``rows`` is taken ``CHUNK_ROWS`` at a time (give a generator: the rows of a 100,000-invoice folder then
    never sit in memory whole, nor twice over as dicts and as parameters); every chunk goes into the caller's
    transaction, so a failure in any chunk still leaves nothing of the batch once the caller rolls back."""
    _chunked(conn, table, rows, upsert, replace=True)


def upsert_values(conn: Connection, table: Table, values: Iterable[tuple[Any, ...]]) -> None:
    """``upsert_many`` for rows given as tuples of every column's value in the table's column order: no dict
    is built per row (a bank file's payments are stored a hundred thousand at a time). Same SQL, same
    conversions (each column's own bind processor); other databases get the dicts of the ordinary path."""
    names = [c.name for c in table.columns]
    it = iter(values)
    compiled: _Compiled | None = None
    while chunk := list(islice(it, CHUNK_ROWS)):
        if conn.dialect.name != "sqlite":
            upsert(conn, table, [dict(zip(names, row, strict=True)) for row in chunk])
            continue
        if compiled is None:
            compiled = _Compiled(conn, table, upsert, replace=True)
            if compiled.names != names:  # the VALUES list is the table's columns, in order
                raise AssertionError(f"{table.name}: compiled columns {compiled.names} are not the table's")
        compiled.execute_values(conn, table, chunk)


def insert_many(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """A plain INSERT of many new rows, as ``upsert_many`` writes them (a chunk at a time, on SQLite by
    executemany of plain converted rows)."""
    _chunked(conn, table, rows, _insert_plain, replace=False)


def _insert_plain(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    conn.execute(table.insert(), list(rows))


def _chunked(
    conn: Connection,
    table: Table,
    rows: Iterable[dict[str, Any]],
    ordinary: Callable[[Connection, Table, Sequence[dict[str, Any]]], None],
    *,
    replace: bool,
) -> None:
    it = iter(rows)
    compiled: _Compiled | None = None
    while chunk := list(islice(it, CHUNK_ROWS)):
        if conn.dialect.name != "sqlite":
            ordinary(conn, table, chunk)
            continue
        if compiled is None:
            compiled = _Compiled(conn, table, ordinary, replace)
        compiled.execute(conn, table, chunk)


class _Compiled:
    """One SQLite statement for ``table`` (an upsert, or with ``replace`` False a plain insert), compiled once
    per batch, with its columns' converters; ``ordinary``: the SQLAlchemy path for rows it cannot take."""

    def __init__(
        self,
        conn: Connection,
        table: Table,
        ordinary: Callable[[Connection, Table, Sequence[dict[str, Any]]], None],
        replace: bool,
    ):
        self.ordinary = ordinary
        keys = [c.name for c in table.primary_key.columns]
        stmt = sqlite.insert(table)
        updates = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
        if replace:
            compiled = stmt.on_conflict_do_update(index_elements=keys, set_=updates).compile(dialect=conn.dialect)
        else:
            compiled = stmt.compile(dialect=conn.dialect)
        self.sql = str(compiled)
        self.names = names = list(compiled.positiontup or ())
        self.get = itemgetter(*names)
        processors = [
            (i, f) for i, n in enumerate(names) if (f := table.c[n].type._cached_bind_processor(conn.dialect))
        ]
        # a batch has few distinct dates: each is formatted once
        self.convert: list[tuple[int, Callable[[Any], Any]]] = [
            (i, Converted(f).__getitem__ if isinstance(table.c[names[i]].type, Date) else f) for i, f in processors
        ]

    def execute(self, conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        if set(self.names) - rows[0].keys():
            self.ordinary(conn, table, rows)  # rows that rely on column defaults take the ordinary path
            return
        self.execute_values(conn, table, [self.get(row) for row in rows])

    def execute_values(self, conn: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
        """``execute`` for tuples already in ``names`` order."""
        convert = self.convert
        params: list[tuple[Any, ...]] = []
        try:
            for row in rows:
                values = list(row)
                for i, to_db in convert:
                    if values[i] is not None:
                        values[i] = to_db(values[i])
                params.append(tuple(values))
        except Exception:  # nothing of this chunk written yet: the ordinary path reports it (a StatementError)
            self.ordinary(conn, table, [dict(zip(self.names, row, strict=True)) for row in rows])
            return
        conn.exec_driver_sql(self.sql, params)


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> int:
    """INSERT … ON CONFLICT (``keys``) DO NOTHING; returns how many rows were new."""
    if not rows:
        return 0
    result = conn.execute(_insert(conn, table).on_conflict_do_nothing(index_elements=list(keys)), list(rows))
    return result.rowcount or 0
