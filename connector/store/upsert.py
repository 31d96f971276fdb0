"""Dialect upserts: the one place that knows how SQLite and PostgreSQL say "insert, or update / ignore"."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


def upsert_many(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """``upsert`` for big batches (bank files, e-invoice folders): on SQLite one compiled statement,
    executemany with plain rows converted by each column's own bind processor; elsewhere the ordinary
    path. Same rows, same SQL."""
    if not rows or conn.dialect.name != "sqlite":
        upsert(conn, table, rows)
        return
    keys = [c.name for c in table.primary_key.columns]
    stmt = sqlite.insert(table)
    updates = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    compiled = stmt.on_conflict_do_update(index_elements=keys, set_=updates).compile(dialect=conn.dialect)
    names = list(compiled.positiontup or ())
    if any(set(names) - row.keys() for row in rows[:1]):
        upsert(conn, table, rows)  # rows that rely on column defaults take the ordinary path
        return
    get = itemgetter(*names)
    processors = [(i, f) for i, n in enumerate(names) if (f := table.c[n].type._cached_bind_processor(conn.dialect))]
    # a batch has few distinct dates: each is formatted once
    convert: list[tuple[int, Callable[[Any], Any]]] = [
        (i, Converted(f).__getitem__ if isinstance(table.c[names[i]].type, Date) else f) for i, f in processors
    ]
    params: list[tuple[Any, ...]] = []
    try:
        for row in rows:
            values = list(get(row))
            for i, to_db in convert:
                if values[i] is not None:
                    values[i] = to_db(values[i])
            params.append(tuple(values))
    except Exception:  # nothing written yet: the ordinary path reports it as usual (a StatementError)
        upsert(conn, table, rows)
        return
    conn.exec_driver_sql(str(compiled), params)


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> int:
    """INSERT … ON CONFLICT (``keys``) DO NOTHING; returns how many rows were new."""
    if not rows:
        return 0
    result = conn.execute(_insert(conn, table).on_conflict_do_nothing(index_elements=list(keys)), list(rows))
    return result.rowcount or 0
