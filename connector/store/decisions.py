"""The decisions the last run made: one row per invoice and client, replaced as a whole each run, with its
``as_of``; read back joined with the invoice they are about.

What the workbench shows as a client's open items: what the nightly run decided and acted on, not a
fresh computation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from connector.model import Decision, DocKind
from connector.store import schema
from connector.store.upsert import insert_many


def save_decisions(conn: Connection, client_id: str, as_of: date, decisions: Iterable[Decision]) -> None:
    """Replace the client's stored decisions with these."""
    t = schema.decisions
    rows = (  # written a chunk at a time: a large client's rows never sit in memory whole
        {
            "client_id": client_id,
            "invoice_number": d.invoice_number,
            "as_of": as_of,
            "state": str(d.state),
            "action": str(d.action),
            "open_amount": d.open_amount,
            "holds": json.dumps([str(h) for h in d.holds]),
            "evidence": json.dumps([e.as_json() for e in d.evidence], ensure_ascii=False),
        }
        for d in decisions
    )
    conn.execute(t.delete().where(t.c.client_id == client_id))
    insert_many(conn, t, rows)


@dataclass(frozen=True)
class SavedDecision:
    invoice_number: str
    customer_id: str | None  # None: the invoice is no longer in the store
    due_date: date | None
    currency: str | None
    amount: Decimal | None
    open_amount: Decimal
    state: str
    action: str
    holds: tuple[str, ...]
    evidence: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class SavedPage:
    as_of: date | None  # the day the stored decisions were made; None: never decided
    total: int  # rows matching the filter, all pages
    rows: list[SavedDecision]


def _attention(t: Any) -> Any:
    """Rows a person may want to look at: something will happen, or something holds it."""
    return or_(t.c.action != "none", t.c.holds != "[]")


def load(
    conn: Connection,
    client_id: str,
    *,
    attention_only: bool = False,
    customer_id: str | None = None,
    action: str | None = None,
    evidence_kind: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> SavedPage:
    """One page of a client's stored decisions, oldest due date first; only those calling for ``action``,
    or resting on a piece of evidence of ``evidence_kind`` (e.g. ``agreement_broken``), when given."""
    d, i = schema.decisions, schema.invoices
    joined = d.outerjoin(
        i, and_(i.c.client_id == d.c.client_id, i.c.number == d.c.invoice_number, i.c.kind == str(DocKind.INVOICE))
    )
    where = [d.c.client_id == client_id]
    if attention_only:
        where.append(_attention(d))
    if customer_id is not None:
        where.append(i.c.customer_id == customer_id)
    if action is not None:
        where.append(d.c.action == action)
    if evidence_kind is not None:  # the evidence column holds Evidence.as_json() items, "kind" first
        pattern = f'%{{"kind": {json.dumps(evidence_kind)},%'.replace("_", "\\_")  # "_" is LIKE's any-character
        where.append(d.c.evidence.like(pattern, escape="\\"))
    as_of = conn.execute(select(func.max(d.c.as_of)).where(d.c.client_id == client_id)).scalar_one()
    total = conn.execute(select(func.count()).select_from(joined).where(*where)).scalar_one()
    q = (
        select(d, i.c.customer_id, i.c.due_date, i.c.currency, i.c.amount)
        .select_from(joined)
        .where(*where)
        .order_by(i.c.due_date, d.c.invoice_number)
        .limit(limit)
        .offset(offset)
    )
    rows = [
        SavedDecision(
            invoice_number=r.invoice_number,
            customer_id=r.customer_id,
            due_date=r.due_date,
            currency=r.currency,
            amount=r.amount,
            open_amount=r.open_amount,
            state=r.state,
            action=r.action,
            holds=tuple(json.loads(r.holds)),
            evidence=tuple(json.loads(r.evidence)),
        )
        for r in conn.execute(q)
    ]
    return SavedPage(as_of, total, rows)


def action_counts(conn: Connection, client_id: str) -> dict[str, int]:
    """How many stored decisions of the client call for each action (``none`` left out)."""
    d = schema.decisions
    q = select(d.c.action, func.count()).where(d.c.client_id == client_id, d.c.action != "none").group_by(d.c.action)
    return {action: n for action, n in conn.execute(q)}
