"""What stops or reschedules dunning by someone's word: disputes (a person, the ledger, a buyer's Invoice
Response, a provider), payment agreements and exclusions."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, select, update

from connector.model import Agreement, Dispute, DisputeSource, DocKind, Exclusion
from connector.store import schema
from connector.store.rows import RowSpec, Skipped, checked_rows, mapped
from connector.store.upsert import insert_ignore

DISPUTES = RowSpec.of(schema.disputes, ["dispute_id", "invoice_number"], checks={"source": DisputeSource})
AGREEMENTS = RowSpec.of(
    schema.agreements,
    ["agreement_id", "invoice_number"],
    checks={
        "due_dates": lambda v: [date.fromisoformat(d) for d in json.loads(v)],
        "amounts": lambda v: [Decimal(a) for a in json.loads(v)] if v else [],
    },
)
EXCLUSIONS = RowSpec.of(schema.exclusions, ["exclusion_id", "invoice_number", "customer_id"], customer="customer_id")

# ---- disputes ------------------------------------------------------------------------------------


def add_dispute(conn: Connection, dispute: Dispute) -> None:
    """Open a dispute once; re-reading the same source never re-opens a resolved one."""
    insert_ignore(
        conn,
        schema.disputes,
        [
            {
                "client_id": dispute.client_id,
                "dispute_id": dispute.dispute_id,
                "invoice_number": dispute.invoice_number,
                "opened_on": dispute.opened_on,
                "reason": dispute.reason,
                "source": dispute.source,
                "resolved_on": dispute.resolved_on,
                "resolution": dispute.resolution,
            }
        ],
        ["client_id", "dispute_id"],
    )


def resolve_dispute(conn: Connection, client_id: str, dispute_id: str, on: date, resolution: str) -> bool:
    """True when an open dispute was resolved."""
    t = schema.disputes
    res = conn.execute(
        update(t)
        .where(and_(t.c.client_id == client_id, t.c.dispute_id == dispute_id, t.c.resolved_on.is_(None)))
        .values(resolved_on=on, resolution=resolution)
    )
    return bool(res.rowcount)


def load_disputes(conn: Connection, client_id: str, skipped: Skipped | None = None) -> Iterator[Dispute]:
    """``skipped``: where rows that cannot be read go (``connector.store.rows``); logged only when None."""
    t = schema.disputes
    q = select(t).where(t.c.client_id == client_id).order_by(t.c.opened_on, t.c.dispute_id)
    yield from mapped(checked_rows(conn, q, DISPUTES, skipped), _dispute, DISPUTES, skipped)


def clients_with_open_dispute(conn: Connection, dispute_id: str, client_ids: Iterable[str]) -> list[str]:
    """The clients (of ``client_ids``) with an open dispute of this id, in id order."""
    t = schema.disputes
    q = (
        select(t.c.client_id)
        .where(t.c.dispute_id == dispute_id, t.c.resolved_on.is_(None), t.c.client_id.in_(list(client_ids)))
        .order_by(t.c.client_id)
    )
    return list(conn.execute(q).scalars())


def open_disputes(conn: Connection, client_ids: Iterable[str]) -> list[tuple[Dispute, str | None]]:
    """The open disputes of these clients, oldest first, each with its invoice's customer id (None when
    the invoice is not in the store): the workbench's queue."""
    t, i = schema.disputes, schema.invoices
    joined = t.outerjoin(
        i, and_(i.c.client_id == t.c.client_id, i.c.number == t.c.invoice_number, i.c.kind == str(DocKind.INVOICE))
    )
    q = (
        select(t, i.c.customer_id)
        .select_from(joined)
        .where(t.c.client_id.in_(list(client_ids)), t.c.resolved_on.is_(None))
        .order_by(t.c.opened_on, t.c.client_id, t.c.dispute_id)
    )
    return list(mapped(checked_rows(conn, q, DISPUTES, None), lambda r: (_dispute(r), r.customer_id), DISPUTES, None))


def _dispute(r: Any) -> Dispute:
    return Dispute(
        client_id=r.client_id,
        invoice_number=r.invoice_number,
        dispute_id=r.dispute_id,
        opened_on=r.opened_on,
        reason=r.reason,
        source=DisputeSource(r.source),
        resolved_on=r.resolved_on,
        resolution=r.resolution,
    )


# ---- payment agreements --------------------------------------------------------------------------


def add_agreement(conn: Connection, agreement: Agreement) -> None:
    insert_ignore(
        conn,
        schema.agreements,
        [
            {
                "client_id": agreement.client_id,
                "agreement_id": agreement.agreement_id,
                "invoice_number": agreement.invoice_number,
                "created_on": agreement.created_on,
                "due_dates": json.dumps([d.isoformat() for d in agreement.due_dates]),
                "note": agreement.note,
                "cancelled_on": agreement.cancelled_on,
                "plan_id": agreement.plan_id,
                "amounts": json.dumps([str(a) for a in agreement.amounts]) if agreement.amounts else None,
            }
        ],
        ["client_id", "agreement_id"],
    )


def cancel_agreement(conn: Connection, client_id: str, agreement_id: str, on: date, note: str = "") -> bool:
    """Mark the agreement cancelled from ``on`` (its hold lifts that day; kept, with the day it ended); False
    when there is none open."""
    t = schema.agreements
    values: dict[str, object] = {"cancelled_on": on}
    if note:
        values["note"] = t.c.note + f" [cancelled {on.isoformat()}: {note}]"
    res = conn.execute(
        update(t)
        .where(and_(t.c.client_id == client_id, t.c.agreement_id == agreement_id, t.c.cancelled_on.is_(None)))
        .values(**values)
    )
    return bool(res.rowcount)


def load_agreements(conn: Connection, client_id: str, skipped: Skipped | None = None) -> Iterator[Agreement]:
    t = schema.agreements
    q = select(t).where(t.c.client_id == client_id).order_by(t.c.created_on)
    yield from mapped(checked_rows(conn, q, AGREEMENTS, skipped), _agreement, AGREEMENTS, skipped)


def _agreement(r: Any) -> Agreement:
    return Agreement(
        client_id=r.client_id,
        invoice_number=r.invoice_number,
        agreement_id=r.agreement_id,
        created_on=r.created_on,
        due_dates=tuple(date.fromisoformat(d) for d in json.loads(r.due_dates)),
        note=r.note or "",
        cancelled_on=r.cancelled_on,
        plan_id=r.plan_id,
        amounts=tuple(Decimal(a) for a in json.loads(r.amounts)) if r.amounts else (),
    )


# ---- exclusions ----------------------------------------------------------------------------------


def add_exclusion(conn: Connection, exclusion: Exclusion) -> None:
    conn.execute(
        schema.exclusions.insert().values(
            client_id=exclusion.client_id,
            exclusion_id=exclusion.exclusion_id,
            invoice_number=exclusion.invoice_number,
            customer_id=exclusion.customer_id,
            created_on=exclusion.created_on,
            until=exclusion.until,
            reason=exclusion.reason,
            ended_on=exclusion.ended_on,
        )
    )


def end_exclusion(conn: Connection, client_id: str, exclusion_id: str, ended_on: date) -> bool:
    """Mark the exclusion ended on ``ended_on`` (dunning resumes that day); False when it was ended already."""
    t = schema.exclusions
    res = conn.execute(
        update(t)
        .where(and_(t.c.client_id == client_id, t.c.exclusion_id == exclusion_id, t.c.ended_on.is_(None)))
        .values(ended_on=ended_on)
    )
    return bool(res.rowcount)


def load_exclusions(conn: Connection, client_id: str, skipped: Skipped | None = None) -> Iterator[Exclusion]:
    t = schema.exclusions
    q = select(t).where(t.c.client_id == client_id).order_by(t.c.created_on, t.c.exclusion_id)
    for r in checked_rows(conn, q, EXCLUSIONS, skipped):
        yield Exclusion(
            client_id=r.client_id,
            exclusion_id=r.exclusion_id,
            invoice_number=r.invoice_number,
            customer_id=r.customer_id,
            created_on=r.created_on,
            until=r.until,
            reason=r.reason,
            ended_on=r.ended_on,
        )
