"""A client's facts (``model.Facts``), the core's one input, read from every record kind in one snapshot.

A stored row that cannot be read is skipped, logged and handed to the core in ``Facts.unreadable_rows``,
which holds whatever that row could have changed: reading never dies on a stored value.
"""

from __future__ import annotations

from sqlalchemy import Connection

from connector.gcpause import gc_paused
from connector.model import Customer, Facts, Invoice, Payment
from connector.store import documents
from connector.store.bookings import load_charges
from connector.store.calls import load_calls
from connector.store.cases import load_cases
from connector.store.checks import load_checks
from connector.store.conflicts import open_conflicts
from connector.store.disputes import load_agreements, load_disputes, load_exclusions
from connector.store.files import load_unreadable
from connector.store.ledger import load_customers, load_invoices
from connector.store.payments import load_payments
from connector.store.registry import load_registry
from connector.store.rows import Shared, Skipped
from connector.store.sends import load_steps
from connector.store.sync import sync_status


def load_facts(conn: Connection, client_id: str) -> Facts:
    """Everything the core needs to decide the client."""
    with gc_paused():
        shared = Shared()  # across invoices and payments: a KID and its payment's reference, amounts, dates
        skipped = Skipped()
        customers = {c.customer_id: c for c in load_customers(conn, client_id, skipped)}
        invoices = tuple(load_invoices(conn, client_id, shared, skipped))
        payments = tuple(load_payments(conn, client_id, shared, skipped))
        return facts_around(conn, client_id, customers, invoices, payments, skipped)


def facts_around(
    conn: Connection,
    client_id: str,
    customers: dict[str, Customer],
    invoices: tuple[Invoice, ...],
    payments: tuple[Payment, ...],
    skipped: Skipped | None = None,
) -> Facts:
    """The client's facts around the given customers, invoices and payments (all of them, or one slice's);
    ``skipped``: the rows skipped reading those, to which the other kinds add theirs."""
    skipped = Skipped() if skipped is None else skipped
    return Facts(
        client_id=client_id,
        customers=customers,
        invoices=invoices,
        payments=payments,
        disputes=tuple(load_disputes(conn, client_id, skipped)),
        agreements=tuple(load_agreements(conn, client_id, skipped)),
        steps=tuple(load_steps(conn, client_id, skipped)),
        cases=tuple(load_cases(conn, [client_id], skipped)),
        sync=sync_status(conn, client_id, skipped),
        document_events=tuple(documents.load_events(conn, client_id, skipped)),
        exclusions=tuple(load_exclusions(conn, client_id, skipped)),
        registry=load_registry(conn, None, skipped),
        unreadable=tuple(load_unreadable(conn, client_id, skipped)),
        checks=tuple(load_checks(conn, client_id, skipped)),
        conflicts=tuple(open_conflicts(conn, client_id, skipped)),
        calls=tuple(load_calls(conn, client_id, skipped=skipped)),
        charges=tuple(load_charges(conn, client_id, skipped)),
        unreadable_rows=tuple(skipped),
    )
