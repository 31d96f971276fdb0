"""The customer ledger as synced: customers, invoices and credit notes, their attachments."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import fields
from datetime import date
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, and_, select, update

from connector.model import Attachment, Customer, DocKind, Invoice
from connector.store import schema
from connector.store.rows import Converted, RowSpec, Shared, Skipped, client_rows, optional, sqlite_date, sqlite_money
from connector.store.upsert import upsert_many

CUSTOMER_COLUMNS = (
    "client_id",
    "customer_id",
    "name",
    "org_no",
    "country",
    "email",
    "address",
    "postal_code",
    "city",
    "is_person",
    "phone",  # for the call list (issue 15)
    "contact",
)

INVOICE_COLUMNS = (
    "client_id",
    "kind",
    "number",
    "customer_id",
    "issue_date",
    "due_date",
    "currency",
    "amount",
    "source",
    "kid",
    "credits",
    "order_ref",
    "type_code",
    "factored",
    "collection_method",
    "ledger_open_amount",
    "source_ref",
    "delivery_date",
    "payee_account",
)

CUSTOMERS = RowSpec(
    "customers", CUSTOMER_COLUMNS, ["customer_id"], {"address": json.loads}, invoice=None, customer="customer_id"
)
INVOICES = RowSpec(
    "invoices",
    INVOICE_COLUMNS,
    ["kind", "number"],
    {
        "kind": DocKind,
        "issue_date": sqlite_date,
        "due_date": optional(sqlite_date),
        "amount": sqlite_money,
        "ledger_open_amount": optional(sqlite_money),
        "credits": optional(json.loads),
        "delivery_date": optional(sqlite_date),
    },
    invoice="number",
    invoice_if=("kind", "invoice"),  # a credit note's own number names no invoice
    customer="customer_id",
)


# ---- writes --------------------------------------------------------------------------------------


def upsert_customers(conn: Connection, customers: Iterable[Customer], stored: StoredCustomers | None = None) -> None:
    """``stored``: what this sync has stored so far, for a source stored in parts (a folder read in parts
    names most of its customers in every part): a customer stored earlier in the sync exactly as it is
    now is not written again. The last record naming a customer still wins, as without it."""
    if stored is not None:
        customers = stored.changed(customers)
    upsert_many(conn, schema.customers, (customer_row(c) for c in customers))


_CUSTOMER_FIELDS = attrgetter(*(f.name for f in fields(Customer)))


class StoredCustomers:
    """Per customer, a digest of the record one sync stored for it last (16 bytes, not the record: a
    million-invoice folder names a few hundred thousand customers)."""

    def __init__(self) -> None:
        self._digests: dict[str, bytes] = {}

    def changed(self, customers: Iterable[Customer]) -> Iterator[Customer]:
        """The customers not stored in this sync as they are now; each counts as stored once taken."""
        digests = self._digests
        for c in customers:
            digest = hashlib.blake2b(repr(_CUSTOMER_FIELDS(c)).encode(), digest_size=16).digest()
            if digests.get(c.customer_id) != digest:
                digests[c.customer_id] = digest
                yield c


def upsert_invoices(conn: Connection, invoices: Iterable[Invoice]) -> None:
    upsert_many(conn, schema.invoices, (invoice_row(i) for i in invoices))


def close_missing_invoices(
    conn: Connection, client_id: str, source: str, present: set[tuple[str, str]], since: date | None
) -> int:
    """Documents of ``source`` (issued on/after ``since``) not in ``present`` are closed upstream."""
    t = schema.invoices
    where = [t.c.client_id == client_id, t.c.source == source]
    if since is not None:
        where.append(t.c.issue_date >= since)
    rows = conn.execute(select(t.c.kind, t.c.number, t.c.ledger_open_amount).where(and_(*where))).all()
    gone = [(r.kind, r.number) for r in rows if (r.kind, r.number) not in present and r.ledger_open_amount != 0]
    for kind, number in gone:
        conn.execute(
            update(t)
            .where(and_(t.c.client_id == client_id, t.c.kind == kind, t.c.number == number))
            .values(ledger_open_amount=0)
        )
    return len(gone)


def upsert_attachments(conn: Connection, attachments: Iterable[Attachment]) -> None:
    upsert_many(
        conn,
        schema.attachments,
        (
            {
                "client_id": a.client_id,
                "invoice_number": a.invoice_number,
                "filename": a.filename,
                "mime_type": a.mime_type,
                "content": a.content,
            }
            for a in attachments
        ),
    )


# ---- reads ---------------------------------------------------------------------------------------


def load_customers(conn: Connection, client_id: str, skipped: Skipped | None = None) -> list[Customer]:
    """The client's customers, by customer id. ``skipped``: where rows that cannot be read go
    (``connector.store.rows``); logged only when None."""
    rows = client_rows(conn, schema.customers, CUSTOMER_COLUMNS, client_id, "customer_id")
    return list(customers_from_rows(rows, skipped))


def load_invoices(
    conn: Connection, client_id: str, shared: Shared | None = None, skipped: Skipped | None = None
) -> Iterator[Invoice]:
    """The client's invoices and credit notes, by kind and number; ``shared``: one object per repeated value
    (a client's facts share one across invoices and payments)."""
    rows = client_rows(conn, schema.invoices, INVOICE_COLUMNS, client_id, "kind, number")
    yield from invoices_from_rows(rows, Shared() if shared is None else shared, skipped)


def has_document(conn: Connection, client_id: str, number: str) -> bool:
    """Whether the client has an invoice or credit note of this number (a record a person names by it)."""
    t = schema.invoices
    q = select(t.c.number).where(and_(t.c.client_id == client_id, t.c.number == number)).limit(1)
    return conn.execute(q).first() is not None


def load_attachments(conn: Connection, client_id: str, invoice_number: str) -> list[Attachment]:
    t = schema.attachments
    rows = conn.execute(select(t).where(and_(t.c.client_id == client_id, t.c.invoice_number == invoice_number)))
    return [Attachment(r.client_id, r.invoice_number, r.filename, r.mime_type, bytes(r.content)) for r in rows]


# ---- row mapping (the one mapper per kind, both read paths) ---------------------------------------


def customer_row(c: Customer) -> dict[str, Any]:
    return {
        "client_id": c.client_id,
        "customer_id": c.customer_id,
        "name": c.name,
        "org_no": c.org_no,
        "country": c.country,
        "email": c.email,
        "address": json.dumps(list(c.address), ensure_ascii=False),
        "postal_code": c.postal_code,
        "city": c.city,
        "is_person": c.is_person,
        "phone": c.phone,
        "contact": c.contact,
    }


def customers_from_rows(rows: Iterable[Sequence[Any]], skipped: Skipped | None = None) -> Iterator[Customer]:
    """Customers from ``CUSTOMER_COLUMNS`` tuples; a row that cannot be read goes to ``skipped``."""
    for row in rows:
        try:
            client_id, customer_id, name, org_no, country, email, address, postal_code, city, is_person, *contact = row
            phone, contact_name = contact
            customer = Customer(
                client_id=client_id,
                customer_id=customer_id,
                name=name,
                org_no=org_no,
                country=country,
                email=email,
                address=tuple(json.loads(address or "[]")),
                postal_code=postal_code,
                city=city,
                is_person=bool(is_person),
                phone=phone,
                contact=contact_name,
            )
        except Exception as exc:
            (Skipped() if skipped is None else skipped).add(CUSTOMERS, row, exc)
            continue
        yield customer


def invoice_row(i: Invoice) -> dict[str, Any]:
    return {
        "client_id": i.client_id,
        "kind": str(i.kind),
        "number": i.number,
        "customer_id": i.customer_id,
        "issue_date": i.issue_date,
        "due_date": i.due_date,
        "currency": i.currency,
        "amount": i.amount,
        "source": i.source,
        "kid": i.kid,
        "credits": json.dumps(list(i.credits)) if i.credits else "[]",  # most invoices credit nothing
        "order_ref": i.order_ref,
        "type_code": i.type_code,
        "factored": i.factored,
        "collection_method": i.collection_method,
        "ledger_open_amount": i.ledger_open_amount,
        "source_ref": i.source_ref,
        "delivery_date": i.delivery_date,
        "payee_account": i.payee_account,
    }


def invoices_from_rows(
    rows: Iterable[Sequence[Any]], shared: Shared, skipped: Skipped | None = None
) -> Iterator[Invoice]:
    """Invoices from ``INVOICE_COLUMNS`` tuples (SQLite text or typed values alike); a row that cannot be
    read goes to ``skipped`` (the ``try`` costs nothing per good row)."""
    dates, amounts, kinds = Converted(sqlite_date), Converted(sqlite_money), Converted(DocKind)
    shared.amounts = amounts  # payments mostly pay invoice amounts: share those Decimals too
    for row in rows:
        try:
            (
                client,
                kind,
                number,
                customer_id,
                issue_date,
                due_date,
                currency,
                amount,
                source,
                kid,
                credits,
                order_ref,
                type_code,
                factored,
                collection_method,
                ledger_open_amount,
                source_ref,
                delivery_date,
                payee_account,
            ) = row
            invoice = Invoice(
                shared[client],
                number,
                kinds[kind],
                shared[customer_id],
                dates[issue_date],
                dates[due_date],
                shared[currency],
                amounts[amount],
                shared[source],
                shared[kid],
                tuple(json.loads(credits)) if credits and credits != "[]" else (),
                order_ref,
                shared[type_code],
                bool(factored),
                shared[collection_method],
                amounts[ledger_open_amount],
                source_ref,
                dates[delivery_date],
                payee_account,
            )
        except Exception as exc:
            (Skipped() if skipped is None else skipped).add(INVOICES, row, exc)
            continue
        yield invoice
