"""Reading rows: the one place where the two read paths part, and the conversions they share.

A nightly run reads every invoice and payment of a client (a million rows each at the top end). On
SQLite these are read with a plain DB-API cursor — tuples, no per-row Row objects or type processors —
and converted by each record kind's one row mapper (``ledger.invoices_from_rows``,
``payments.payments_from_rows``) exactly as the column types would (``Date``: ISO text; ``Money``: text
quantized to cents; ``Boolean``: 0/1). Other databases read the same columns, in the same order, through
SQLAlchemy and hand the typed tuples to the same mapper (which accepts text and typed values alike).
Repeated values (dates, amounts, codes, a KID and the payment reference that quotes it) are converted
once and shared.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, overload

from sqlalchemy import Connection, Table, select, text

from connector.model import CENT


class Converted(dict[Any, Any]):
    """Raw column value → converted value, computed once per distinct value."""

    def __init__(self, convert: Any):
        super().__init__()
        self.convert = convert

    def __missing__(self, key: Any) -> Any:
        value = self[key] = None if key is None else self.convert(key)
        return value


class Shared(dict[Any, Any]):
    """Low-cardinality column values (dates, codes, ids) handed out as one shared object each."""

    amounts: Converted | None = None  # money text → Decimal, shared by a client's invoices and payments

    def __missing__(self, key: Any) -> Any:
        self[key] = key
        return key


def sqlite_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def sqlite_money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)  # as ``schema.Money`` reads it


@overload
def aware(ts: datetime) -> datetime: ...
@overload
def aware(ts: datetime | None) -> datetime | None: ...
def aware(ts: datetime | None) -> datetime | None:
    """SQLite hands timestamps back naive; they were written in UTC."""
    if ts is not None and ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    return ts


def client_rows(conn: Connection, t: Table, columns: Sequence[str], client_id: str, order: str) -> Iterator[Any]:
    """``columns`` of the client's rows of ``t`` as plain tuples, ordered by ``order`` (column names)."""
    if conn.dialect.name != "sqlite":
        q = select(*(t.c[c] for c in columns)).where(t.c.client_id == client_id).order_by(text(order))
        yield from conn.execute(q)
        return
    cursor = conn.connection.cursor()
    try:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {t.name} WHERE client_id = ? ORDER BY {order}", (client_id,))
        while rows := cursor.fetchmany(5000):
            yield from rows
    finally:
        cursor.close()
