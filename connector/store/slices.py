"""Reading a very large client one slice of customers at a time (``connector.engine.slices``).

Routing reads the invoices' references and every payment once, with the payment's row id (SQLite's rowid,
else its key); a slice is then read by those row ids (payments, in storage order) and by customer ids
(invoices, through the ``ix_invoices_customer`` index). Nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from itertools import count, groupby
from typing import Any, NamedTuple

from sqlalchemy import Connection

from connector.model import Customer, DocKind, Invoice, Payment, PaymentStatus
from connector.store.ledger import CUSTOMER_COLUMNS, INVOICE_COLUMNS, customers_from_rows, invoices_from_rows
from connector.store.payments import PAYMENT_COLUMNS, payments_from_rows
from connector.store.rows import Converted, RowSpec, Shared, Skipped, sqlite_date, sqlite_money

_CHUNK = 5000
_IDS = 500  # ids per IN (…) list: well under every database's limit on parameters
_NAMES = count()


class RoutingRow(NamedTuple):
    """What routing and deduplication read of a payment: cheaper to build than a ``Payment`` (a million of
    them are read once for routing), with the same attribute names."""

    key: str
    source: str
    account: str
    bank_ref: str
    ordinal: int
    booking_date: date
    amount: Decimal
    currency: str
    status: PaymentStatus
    structured_ref: str | None
    free_text: str
    payer_name: str | None
    payer_account: str | None
    payer_org_id: str | None
    reversal: bool
    invoice_number: str | None
    row_id: Any  # how ``SliceReader.payments_at`` finds the row again


_ROUTING_COLUMNS = ", ".join(("payment_key", *RoutingRow._fields[1:-1]))
_ROUTING = RowSpec(
    "payments",
    ("payment_key", *RoutingRow._fields[1:-1], "row_id"),
    ["source", "account", "bank_ref", "ordinal"],  # as the whole client's read names it
    {"booking_date": sqlite_date, "amount": sqlite_money, "status": PaymentStatus},
)


class SliceReader:
    def __init__(self, conn: Connection, client_id: str):
        self.conn = conn
        self.client_id = client_id
        self.skipped = Skipped()  # rows no type could read, in the order met (connector.store.rows)
        self.raw = conn.connection
        self.postgres = conn.dialect.name == "postgresql"

    # -- plumbing ------------------------------------------------------------------------------

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def _rows(self, sql: str, params: Sequence[Any]) -> Iterator[Sequence[Any]]:
        # PostgreSQL: a named (server-side) cursor, or the client would hold the whole result at once
        cursor = self.raw.cursor(name=f"arsync_rows_{next(_NAMES)}") if self.postgres else self.raw.cursor()
        try:
            cursor.execute(self._sql(sql), params)
            while rows := cursor.fetchmany(_CHUNK):
                yield from rows
        finally:
            cursor.close()

    # -- what routing reads -----------------------------------------------------------------------

    def receivables(self, in_document_order: bool) -> Iterator[tuple[str, str, str, str | None]]:
        """(number, customer, currency, kid) of every invoice; in document order (issue date, number) if
        asked, which costs a sort of them all."""
        sql = "SELECT issue_date, number, customer_id, currency, kid FROM invoices WHERE client_id = ? AND kind = ?"
        rows = self._rows(sql + (" ORDER BY issue_date" if in_document_order else ""), (self.client_id, "invoice"))
        if not in_document_order:
            for _issued, number, customer_id, currency, kid in rows:
                yield number, customer_id, currency, kid
            return
        # numbers sorted here, not by the database, whose collation may not be Python's
        for _day, same_day in groupby(rows, key=lambda r: r[0]):
            for _issued, number, customer_id, currency, kid in sorted(same_day, key=lambda r: r[1]):
                yield number, customer_id, currency, kid

    def doubtful_entries(self) -> set[tuple[str, str, str]]:
        """(source, account, bank ref) of bank entries deduplication may drop a report of: reported more than
        once, with a pending report or one without transaction details among them (``dedup.keep_of_group``)."""
        rows = self._rows(
            "SELECT source, account, bank_ref FROM payments WHERE client_id = ? GROUP BY source, account, bank_ref"
            " HAVING COUNT(*) > 1 AND (SUM(CASE WHEN status = ? THEN 0 ELSE 1 END) > 0 OR MIN(ordinal) < 0)",
            (self.client_id, str(PaymentStatus.BOOKED)),
        )
        return {(source, account, bank_ref) for source, account, bank_ref in rows}

    def credit_notes(self) -> Iterator[tuple[str, str | None]]:
        """(customer, credits JSON) of every credit note."""
        yield from self._rows(  # type: ignore[misc]
            "SELECT customer_id, credits FROM invoices WHERE client_id = ? AND kind = ?",
            (self.client_id, str(DocKind.CREDIT_NOTE)),
        )

    def documents_per_customer(self) -> dict[str, int]:
        return dict(
            self._rows(  # type: ignore[arg-type]
                "SELECT customer_id, COUNT(*) FROM invoices WHERE client_id = ? GROUP BY customer_id",
                (self.client_id,),
            )
        )

    def customer_orgs(self) -> Iterator[tuple[str, str | None]]:
        yield from self._rows(  # type: ignore[misc]
            "SELECT customer_id, org_no FROM customers WHERE client_id = ?", (self.client_id,)
        )

    def has_payments_from(self, source: str) -> bool:
        return any(
            self._rows("SELECT 1 FROM payments WHERE client_id = ? AND source = ? LIMIT 1", (self.client_id, source))
        )

    def routing_rows(self, order: str | None = None) -> Iterator[RoutingRow]:
        """Every payment of the client, ordered by ``order`` (column names) if given; a row that cannot be
        read is skipped into ``self.skipped`` (and so held: ``Facts.unreadable``)."""
        dates, amounts, statuses = Converted(sqlite_date), Converted(sqlite_money), Converted(PaymentStatus)
        for row in self._rows(
            f"SELECT {_ROUTING_COLUMNS}, {'payment_key' if self.postgres else 'rowid'} FROM payments"
            f" WHERE client_id = ?{f' ORDER BY {order}' if order else ''}",
            (self.client_id,),
        ):
            try:
                (
                    key,
                    source,
                    account,
                    bank_ref,
                    ordinal,
                    booked,
                    amount,
                    currency,
                    status,
                    structured_ref,
                    free_text,
                    payer_name,
                    payer_account,
                    payer_org_id,
                    reversal,
                    number,
                    rid,
                ) = row
                routed = RoutingRow(
                    key,
                    source,
                    account,
                    bank_ref,
                    ordinal,
                    dates[booked],
                    amounts[amount],
                    currency,
                    statuses[status],
                    structured_ref,
                    free_text or "",
                    payer_name,
                    payer_account,
                    payer_org_id,
                    bool(reversal),
                    number,
                    rid,
                )
            except Exception as exc:
                self.skipped.add(_ROUTING, row, exc)
                continue
            yield routed

    # -- one slice -------------------------------------------------------------------------------

    def _chunked(self, sql: str, ids: Sequence[Any]) -> Iterator[Sequence[Any]]:
        """``sql`` with ``{ids}`` standing for a list of up to ``_IDS`` placeholders, over all of ``ids``."""
        for start in range(0, len(ids), _IDS):
            chunk = list(ids[start : start + _IDS])
            yield from self._rows(sql.format(ids=", ".join("?" * len(chunk))), (self.client_id, *chunk))

    def customers_of(self, customer_ids: Sequence[str]) -> dict[str, Customer]:
        rows = self._chunked(
            f"SELECT {', '.join(CUSTOMER_COLUMNS)} FROM customers WHERE client_id = ? AND customer_id IN ({{ids}})",
            sorted(customer_ids),
        )
        return {c.customer_id: c for c in customers_from_rows(rows, self.skipped)}

    def invoices_of(self, customer_ids: Sequence[str], shared: Shared) -> Iterator[Invoice]:
        sql = f"SELECT {', '.join(INVOICE_COLUMNS)} FROM invoices WHERE client_id = ? AND customer_id IN ({{ids}})"
        yield from invoices_from_rows(self._chunked(sql, sorted(customer_ids)), shared, self.skipped)

    def payments_at(self, row_ids: Sequence[Any], shared: Shared) -> Iterator[Payment]:
        """The payments with these row ids (``RoutingRow.row_id``), read in storage order."""
        # ``+client_id``: the rowid look-up, not a scan of the client's index, answers each list (SQLite)
        where = "client_id = ? AND payment_key" if self.postgres else "+client_id = ? AND rowid"
        sql = f"SELECT {', '.join(PAYMENT_COLUMNS)} FROM payments WHERE {where} IN ({{ids}})"
        yield from payments_from_rows(self._chunked(sql, sorted(row_ids)), shared, self.skipped)
