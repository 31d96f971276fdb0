"""Payments as the bank files (and ledgers) reported them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection

from connector.model import Payment, PaymentSource, PaymentStatus
from connector.store import schema
from connector.store.rows import Converted, RowSpec, Shared, Skipped, client_rows, optional, sqlite_date, sqlite_money
from connector.store.upsert import upsert_values

PAYMENT_COLUMNS = (
    "client_id",
    "source",
    "account",
    "bank_ref",
    "ordinal",
    "booking_date",
    "value_date",
    "amount",
    "currency",
    "status",
    "structured_ref",
    "ref_type",
    "free_text",
    "payer_name",
    "payer_account",
    "payer_org_id",
    "reversal",
    "invoice_number",
    "end_to_end_id",
    "return_reason",
)

PAYMENTS = RowSpec(
    "payments",
    PAYMENT_COLUMNS,
    ["source", "account", "bank_ref", "ordinal"],
    {
        "source": PaymentSource,
        "booking_date": sqlite_date,
        "value_date": optional(sqlite_date),
        "amount": sqlite_money,
        "status": PaymentStatus,
    },
)


def upsert_payments(conn: Connection, payments: Iterable[Payment]) -> None:
    last = {p.key: p for p in payments}  # one file may repeat an entry: its last report counts
    upsert_values(conn, schema.payments, (payment_values(p) for p in last.values()))


def load_payments(
    conn: Connection, client_id: str, shared: Shared | None = None, skipped: Skipped | None = None
) -> Iterator[Payment]:
    """The client's payments, by payment key (``shared``, ``skipped``: as for ``ledger.load_invoices``)."""
    rows = client_rows(conn, schema.payments, PAYMENT_COLUMNS, client_id, "payment_key")
    yield from payments_from_rows(rows, Shared() if shared is None else shared, skipped)


def payment_values(p: Payment) -> tuple[Any, ...]:
    """A payment as its row's values, in the table's column order (bank files store a hundred thousand at a
    time: no dict per row)."""
    return (
        p.client_id,
        p.key,
        p.source,
        p.account,
        p.bank_ref,
        p.ordinal,
        p.booking_date,
        p.value_date,
        p.amount,
        p.currency,
        str(p.status),
        p.structured_ref,
        p.ref_type,
        p.free_text,
        p.payer_name,
        p.payer_account,
        p.payer_org_id,
        p.reversal,
        p.invoice_number,
        p.end_to_end_id,
        p.return_reason,
    )


def payments_from_rows(
    rows: Iterable[Sequence[Any]], shared: Shared, skipped: Skipped | None = None
) -> Iterator[Payment]:
    """Payments from ``PAYMENT_COLUMNS`` tuples (SQLite text or typed values alike); a row that cannot be
    read goes to ``skipped``."""
    dates, statuses, sources = Converted(sqlite_date), Converted(PaymentStatus), Converted(PaymentSource)
    amounts = shared.amounts if shared.amounts is not None else Converted(sqlite_money)
    for row in rows:
        try:
            (
                client,
                source,
                account,
                bank_ref,
                ordinal,
                booking_date,
                value_date,
                amount,
                currency,
                status,
                structured_ref,
                ref_type,
                free_text,
                payer_name,
                payer_account,
                payer_org_id,
                reversal,
                invoice_number,
                end_to_end_id,
                return_reason,
            ) = row
            payment = Payment(
                shared[client],
                sources[source],
                shared[account],
                shared[bank_ref],
                ordinal,
                dates[booking_date],
                amounts[amount],
                shared[currency],
                statuses[status],
                dates[value_date],
                shared[structured_ref],
                shared[ref_type],
                shared[free_text or ""],
                shared[payer_name],
                shared[payer_account],
                shared[payer_org_id],
                bool(reversal),
                shared[invoice_number],
                end_to_end_id,
                return_reason,
            )
        except Exception as exc:
            (Skipped() if skipped is None else skipped).add(PAYMENTS, row, exc)
            continue
        yield payment
