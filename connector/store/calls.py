"""Calls to customers (table ``calls``, append-only) and the checks of promised dates (``agreement_checks``).

Functions take the caller's connection: a call is logged in one transaction with what it made (an agreement,
disputes, the call step), and a check is noted in the transaction that reports it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, select

from connector.model import Call, CallOutcome
from connector.store import schema
from connector.store.rows import RowSpec, Skipped, checked_rows, mapped

KEPT, BROKEN = "kept", "broken"

# A call that cannot be read names its customer: what it could have changed (a retry, a wrong number, the
# call step) is held for that customer until the row is fixed.
CALLS = RowSpec.of(
    schema.calls,
    ["call_id", "customer_id"],
    checks={
        "outcome": CallOutcome,
        "instalment_dates": lambda v: [date.fromisoformat(d) for d in json.loads(v or "[]")],
        "invoices": lambda v: list(json.loads(v or "[]")),
    },
    invoice=None,
    customer="customer_id",
)


def record_call(conn: Connection, call: Call, *, at: datetime) -> None:
    conn.execute(
        schema.calls.insert().values(
            client_id=call.client_id,
            call_id=call.call_id,
            customer_id=call.customer_id,
            called_on=call.called_on,
            outcome=str(call.outcome),
            phone=call.phone,
            contact=call.contact,
            promise_date=call.promise_date,
            instalment_dates=json.dumps([d.isoformat() for d in call.instalment_dates]),
            reason=call.reason,
            notes=call.notes,
            invoices=json.dumps(list(call.invoices), ensure_ascii=False),
            agreement_id=call.agreement_id,
            actor=call.by,
            recorded_at=at,
        )
    )


def load_calls(
    conn: Connection, client_id: str, customer_id: str | None = None, skipped: Skipped | None = None
) -> Iterator[Call]:
    """The client's calls (of one customer), in the order they were made; ``skipped``: where rows that cannot
    be read go (``connector.store.rows``), logged only when None."""
    t = schema.calls
    where = [t.c.client_id == client_id]
    if customer_id is not None:
        where.append(t.c.customer_id == customer_id)
    q = select(t).where(and_(*where)).order_by(t.c.called_on, t.c.id)
    yield from mapped(checked_rows(conn, q, CALLS, skipped), _call, CALLS, skipped)


def _call(r: Any) -> Call:
    return Call(
        client_id=r.client_id,
        call_id=r.call_id,
        customer_id=r.customer_id,
        called_on=r.called_on,
        outcome=CallOutcome(r.outcome),
        phone=r.phone or "",
        contact=r.contact or "",
        promise_date=r.promise_date,
        instalment_dates=tuple(date.fromisoformat(d) for d in json.loads(r.instalment_dates or "[]")),
        reason=r.reason or "",
        notes=r.notes or "",
        invoices=tuple(json.loads(r.invoices or "[]")),
        agreement_id=r.agreement_id,
        by=r.actor,
    )


# ---- promised dates checked ------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementCheck:
    client_id: str
    agreement_id: str  # the plan id, or the agreement's own id
    due_on: date
    outcome: str  # kept / broken
    noted_on: date
    detail: str


def note_check(conn: Connection, check: AgreementCheck, *, at: datetime) -> bool:
    """Note a promised date's outcome once; False when it was noted already (by an earlier run)."""
    t = schema.agreement_checks
    where = and_(t.c.client_id == check.client_id, t.c.agreement_id == check.agreement_id, t.c.due_on == check.due_on)
    if conn.execute(select(t.c.outcome).where(where)).first() is not None:
        return False
    conn.execute(
        t.insert().values(
            client_id=check.client_id,
            agreement_id=check.agreement_id,
            due_on=check.due_on,
            outcome=check.outcome,
            noted_on=check.noted_on,
            detail=check.detail,
            recorded_at=at,
        )
    )
    return True


def load_checks(conn: Connection, client_id: str) -> list[AgreementCheck]:
    t = schema.agreement_checks
    q = select(t).where(t.c.client_id == client_id).order_by(t.c.due_on, t.c.agreement_id)
    return [
        AgreementCheck(r.client_id, r.agreement_id, r.due_on, r.outcome, r.noted_on, r.detail) for r in conn.execute(q)
    ]
