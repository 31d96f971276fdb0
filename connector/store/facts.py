"""A client's facts (``model.Facts``), the core's one input, read from every record kind in one snapshot."""

from __future__ import annotations

from sqlalchemy import Connection

from connector.engine.gc import gc_paused
from connector.model import Customer, Facts, Invoice, Payment
from connector.store import documents
from connector.store.cases import load_cases
from connector.store.disputes import load_agreements, load_disputes, load_exclusions
from connector.store.ledger import load_customers, load_invoices
from connector.store.payments import load_payments
from connector.store.registry import load_registry
from connector.store.rows import Shared
from connector.store.sends import load_steps
from connector.store.sync import sync_status


def load_facts(conn: Connection, client_id: str) -> Facts:
    """Everything the core needs to decide the client."""
    with gc_paused():
        shared = Shared()  # across invoices and payments: a KID and its payment's reference, amounts, dates
        return facts_around(
            conn,
            client_id,
            customers={c.customer_id: c for c in load_customers(conn, client_id)},
            invoices=tuple(load_invoices(conn, client_id, shared)),
            payments=tuple(load_payments(conn, client_id, shared)),
        )


def facts_around(
    conn: Connection,
    client_id: str,
    customers: dict[str, Customer],
    invoices: tuple[Invoice, ...],
    payments: tuple[Payment, ...],
) -> Facts:
    """The client's facts around the given customers, invoices and payments (all of them, or one slice's)."""
    return Facts(
        client_id=client_id,
        customers=customers,
        invoices=invoices,
        payments=payments,
        disputes=tuple(load_disputes(conn, client_id)),
        agreements=tuple(load_agreements(conn, client_id)),
        steps=tuple(load_steps(conn, client_id)),
        cases=tuple(load_cases(conn, [client_id])),
        sync=sync_status(conn, client_id),
        document_events=tuple(documents.load_events(conn, client_id)),
        exclusions=tuple(load_exclusions(conn, client_id)),
        registry=load_registry(conn),
    )
