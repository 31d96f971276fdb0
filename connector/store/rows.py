"""Reading rows: the one place where the two read paths part, and the conversions they share.

A nightly run reads every invoice and payment of a client (a million rows each at the top end). On
SQLite these are read with a plain DB-API cursor — tuples, no per-row Row objects or type processors —
and converted by each record kind's one row mapper (``ledger.invoices_from_rows``,
``payments.payments_from_rows``) exactly as the column types would (``Date``: ISO text; ``Money``: text
quantized to cents; ``Boolean``: 0/1). Other databases read the same columns, in the same order, through
SQLAlchemy and hand the typed tuples to the same mapper (which accepts text and typed values alike).
Repeated values (dates, amounts, codes, a KID and the payment reference that quotes it) are converted
once and shared.

Reading never dies on a stored value: a row a mapper cannot convert (an amount no Decimal quantizes,
a date that is not one, JSON that does not parse, a code no enum has) is skipped and named — table, key,
column, problem — in ``Skipped`` (logged, and given to the core as ``Facts.unreadable``, which holds what
the row could have changed). The check costs nothing per good row: the mappers' loops run inside ``try``.
"""

from __future__ import annotations

import logging
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, overload

from sqlalchemy import Connection, Select, Table, select, text, type_coerce
from sqlalchemy.types import NullType

from connector.model import CENT, UnreadableRow

log = logging.getLogger("arsync.store")


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
    """As ``schema.Money`` reads it: quantized to cents; NaN and infinities are no amount."""
    amount = Decimal(str(value)).quantize(CENT)
    if not amount.is_finite():
        raise ValueError("not a finite amount")
    return amount


def optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert`` for a column that may be NULL."""
    return lambda value: None if value is None else convert(value)


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


def sqlite_datetime(value: Any) -> datetime | None:
    """A stored timestamp (SQLite: ISO text, written in UTC) as an aware datetime."""
    if value is None or isinstance(value, datetime):
        return aware(value)
    return aware(datetime.fromisoformat(str(value)))


# ---- defensive reads -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RowSpec:
    """How to name a row of ``table`` that cannot be read, and how to find the column at fault."""

    table: str
    columns: Sequence[str]  # as the rows come
    keys: Sequence[str]  # the columns that name the row
    checks: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)  # column → converter
    invoice: str | None = "invoice_number"  # the column naming the invoice the row concerns, if any
    customer: str | None = None
    invoice_if: tuple[str, str] | None = None  # (column, value): ``invoice`` names an invoice only then

    @classmethod
    def of(cls, table: Table, keys: Sequence[str], **kw: Any) -> RowSpec:
        """For ``select(table)``: every column, in the table's order."""
        return cls(table.name, [c.name for c in table.columns], keys, **kw)

    def unreadable(self, row: Sequence[Any], exc: BaseException, column: str | None = None) -> UnreadableRow:
        """``column``: the column at fault when the caller knows it; else the first of ``checks`` that fails."""
        values = dict(zip(self.columns, row, strict=False))
        if column is not None:
            return self._named(values, column, f"{_show(values.get(column))}: {_problem(exc)}")
        column, problem = "?", _problem(exc)
        for name, check in self.checks.items():
            try:
                check(values.get(name))
            except Exception as bad:  # the first column whose value does not convert is the one at fault
                column, problem = name, f"{_show(values.get(name))}: {_problem(bad)}"
                break
        return self._named(values, column, problem)

    def _named(self, values: dict[str, Any], column: str, problem: str) -> UnreadableRow:
        key = ", ".join(f"{k}={values.get(k)}" for k in self.keys if k != "client_id")
        invoice = values.get(self.invoice) if self.invoice else None
        if self.invoice_if is not None and values.get(self.invoice_if[0]) != self.invoice_if[1]:
            invoice = None
        customer = values.get(self.customer) if self.customer else None
        return UnreadableRow(
            self.table,
            key,
            column,
            problem,
            invoice if isinstance(invoice, str) else None,
            customer if isinstance(customer, str) else None,
        )


class Skipped(list[UnreadableRow]):
    """The rows a read skipped; each is logged once, with its table, key, column and problem."""

    def add(self, spec: RowSpec, row: Sequence[Any], exc: BaseException, column: str | None = None) -> None:
        bad = spec.unreadable(row, exc, column)
        log.warning("%s; skipped", bad.describe())
        self.append(bad)


def _problem(exc: BaseException) -> str:
    if isinstance(exc, ArithmeticError):  # decimal's own message is a list of signal classes
        return "not an amount (not a number, or too large to hold to the cent)"
    return str(exc) or exc.__class__.__name__


def _show(value: Any) -> str:
    text_ = repr(value)
    return text_ if len(text_) <= 60 else text_[:57] + "..."


def checked_rows(conn: Connection, stmt: Select[Any], spec: RowSpec, skipped: Skipped | None) -> Iterator[Any]:
    """The rows of ``stmt`` with its columns' types applied one row at a time: on SQLite (whose columns take
    any text) a value its type cannot read skips the row into ``skipped`` (logged only, when None) instead
    of ending the read. The rows have the columns as attributes, as SQLAlchemy rows do."""
    if conn.dialect.name != "sqlite":  # typed columns (NUMERIC, DATE …) hold no value their type cannot read
        yield from conn.execute(stmt)
        return
    skipped = Skipped() if skipped is None else skipped
    columns = list(stmt.selected_columns)
    names = [str(c.key) for c in columns]
    Row = namedtuple("Row", names)  # type: ignore[misc]
    processors = [c.type._cached_result_processor(conn.dialect, None) for c in columns]
    raw = stmt.with_only_columns(*(type_coerce(c, NullType()).label(c.key) for c in columns))
    for values in conn.execute(raw):
        out = list(values)
        for i, proc in enumerate(processors):
            if proc is None or out[i] is None:
                continue
            try:
                out[i] = proc(out[i])
            except Exception as exc:
                skipped.add(spec, tuple(values), exc, column=names[i])
                break
        else:
            yield Row(*out)


def mapped(rows: Iterable[Any], convert: Callable[[Any], Any], spec: RowSpec, skipped: Skipped | None) -> Iterator[Any]:
    """``convert(row)`` for every row; a row it cannot convert is skipped into ``skipped``."""
    skipped = Skipped() if skipped is None else skipped
    for row in rows:
        try:
            value = convert(row)
        except Exception as exc:
            skipped.add(spec, tuple(row), exc)
            continue
        yield value
