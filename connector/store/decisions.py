"""The decisions the last run made: one row per invoice and client, replaced as a whole each run, with its
``as_of``; read back joined with the invoice they are about.

What the workbench shows as a client's open items: what the nightly run decided and acted on, not a
fresh computation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from connector.model import Action, Decision, DocKind, Evidence, Hold, State
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
            "holds": _holds_json(d.holds),
            "evidence": _json([e.as_json() for e in d.evidence]),
        }
        for d in decisions
    )
    conn.execute(t.delete().where(t.c.client_id == client_id))
    insert_many(conn, t, rows)


# One encoder for every row: ``json.dumps`` with an option builds a new one per call. The text is the same.
_json = json.JSONEncoder(ensure_ascii=False).encode


@lru_cache(maxsize=1024)
def _holds_json(holds: tuple[Hold, ...]) -> str:
    """A decision's holds as stored: a client's decisions share a few combinations (most have none)."""
    return json.dumps([str(h) for h in holds])


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
    invoice_number: str | None = None,
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
    if invoice_number is not None:
        where.append(d.c.invoice_number == invoice_number)
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


# ---- the night's decisions as the run made them (``arsync run --queue --wait`` prints them) -------------

STREAM_CHUNK = 2_000  # rows fetched at a time: a million decisions are never in memory at once


def _decided(t: Any) -> Any:
    """The stored decisions joined with the invoice each is about (every decision is about an invoice)."""
    i = schema.invoices
    return t.join(
        i, and_(i.c.client_id == t.c.client_id, i.c.number == t.c.invoice_number, i.c.kind == str(DocKind.INVOICE))
    )


def saved_night(conn: Connection, client_id: str) -> tuple[date | None, int]:
    """The day the client's stored decisions were made and how many there are (None, 0: none stored)."""
    d = schema.decisions
    as_of, count = conn.execute(
        select(func.max(d.c.as_of), func.count()).select_from(_decided(d)).where(d.c.client_id == client_id)
    ).one()
    return as_of, int(count)


def night_decisions(conn: Connection, client_id: str, as_of: date) -> Iterator[Decision]:
    """The client's stored decisions of the night ``as_of``, rebuilt as the run made them (``next_step``
    aside: it is not stored) and in ``sort_decisions``' order — due date (none first), then invoice number
    by code point — streamed a chunk at a time."""
    d, i = schema.decisions, schema.invoices
    number = d.c.invoice_number.collate("C") if conn.dialect.name == "postgresql" else d.c.invoice_number
    q = (
        select(
            d.c.invoice_number,
            i.c.customer_id,
            i.c.currency,
            i.c.amount,
            d.c.open_amount,
            i.c.due_date,
            d.c.state,
            d.c.action,
            d.c.holds,
            d.c.evidence,
        )
        .select_from(_decided(d))
        .where(d.c.client_id == client_id, d.c.as_of == as_of)
        .order_by(i.c.due_date.nulls_first(), number)
    )
    rows = conn.execution_options(stream_results=True, yield_per=STREAM_CHUNK).execute(q)
    for r in rows:
        yield Decision(
            client_id,
            r.invoice_number,
            r.customer_id,
            r.currency,
            r.amount,
            r.open_amount,
            r.due_date,
            State(r.state),
            Action(r.action),
            tuple(Hold(h) for h in json.loads(r.holds)),
            tuple(evidence_from_json(e) for e in json.loads(r.evidence)),
        )


def evidence_from_json(e: dict[str, str]) -> Evidence:
    """``Evidence.as_json()`` read back."""
    return Evidence(
        kind=e["kind"],
        detail=e["detail"],
        ref=e.get("ref"),
        amount=Decimal(e["amount"]) if "amount" in e else None,
        on=date.fromisoformat(e["date"]) if "date" in e else None,
    )
