"""Storing and reading e-invoice document events, and linking them to invoices.

Linking happens here, not in the source, because the referenced invoice (or the envelope that
carried it) may have been stored in an earlier run, or may arrive in a later one: every store call
re-tries the events still unlinked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, and_, select, update

from connector.model import ENVELOPE, INVOICE_RESPONSE, QUERY_CLOSED_BY, DocumentEvent, DocumentEventKind
from connector.store import schema
from connector.store.rows import RowSpec, Skipped, checked_rows, mapped
from connector.store.upsert import insert_ignore

CREDIT_TYPE_CODES = frozenset({"381", "396", "81", "83", "532"})


def _row(e: DocumentEvent) -> dict[str, Any]:
    return {
        "client_id": e.client_id,
        "event_key": e.event_key,
        "kind": e.kind,
        "code": e.code,
        "issued_on": e.issued_on,
        "issue_time": e.issue_time,
        "ref_id": e.ref_id,
        "ref_type_code": e.ref_type_code,
        "invoice_number": e.invoice_number,
        "effective_date": e.effective_date,
        "reason_codes": json.dumps(list(e.reason_codes)),
        "action_codes": json.dumps(list(e.action_codes)),
        "text": e.text,
        "conditions": json.dumps([list(c) for c in e.conditions], ensure_ascii=False),
        "source_ref": e.source_ref,
        "detail": e.detail,
    }


def store_events(conn: Connection, client_id: str, events: Iterable[DocumentEvent], *, link: bool = True) -> None:
    """Insert new events (a re-read file changes nothing), then (``link``) settle what they change
    (``settle_events``). A sync storing its batches in one transaction settles once, after the last: an event
    and the document it answers may come in different batches."""
    rows = {e.event_key: _row(e) for e in events if e.client_id == client_id}
    insert_ignore(conn, schema.document_events, list(rows.values()), ["client_id", "event_key"])
    if link:
        settle_events(conn, client_id)


def settle_events(conn: Connection, client_id: str) -> None:
    """Link the waiting events that can be linked now, then close the queries a buyer has since answered."""
    link_events(conn, client_id)
    close_answered_queries(conn, client_id)


_IDS = 500  # values per IN (…): well inside every database's limit on bound parameters


def link_events(conn: Connection, client_id: str) -> int:
    """Resolve unlinked events: T111 by invoice number (+ type), MLR/MLS by the envelope instance id.

    The waiting events are found by their index, each is resolved by its own reference (the invoices' key,
    the envelopes' ``ref_id`` index), and only a changed one is written: the cost is the waiting events',
    never the client's invoices or events."""
    t = schema.document_events
    columns = (t.c.event_key, t.c.kind, t.c.ref_id, t.c.ref_type_code, t.c.detail)
    pending = conn.execute(select(*columns).where(t.c.client_id == client_id, t.c.invoice_number.is_(None))).all()
    if not pending:  # the usual sync: nothing waits
        return 0
    known = _known_documents(conn, client_id, pending)
    envelopes = _envelopes(conn, client_id, {r.ref_id for r in pending if r.ref_id and r.kind != INVOICE_RESPONSE})
    linked = 0
    for r in pending:
        number, detail = _resolve(r.kind, r.ref_id, r.ref_type_code, known, envelopes)
        if number is None and detail == r.detail:
            continue  # still waiting, for the reason already given
        values: dict[str, Any] = {"detail": detail}
        if number is not None:
            values["invoice_number"] = number
            linked += 1
        conn.execute(update(t).where(and_(t.c.client_id == client_id, t.c.event_key == r.event_key)).values(**values))
    return linked


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), _IDS):
        yield ordered[start : start + _IDS]


def _doc_kind(type_code: str | None) -> str:
    return "credit_note" if type_code in CREDIT_TYPE_CODES else "invoice"


def _known_documents(conn: Connection, client_id: str, pending: Iterable[Any]) -> set[tuple[str, str]]:
    """The (number, kind) of the stored invoices and credit notes the waiting Invoice Responses quote, looked
    up by the invoices' whole key (client, kind, number)."""
    inv = schema.invoices
    wanted: dict[str, set[str]] = {}
    for r in pending:
        if r.kind == INVOICE_RESPONSE and r.ref_id:
            wanted.setdefault(_doc_kind(r.ref_type_code), set()).add(r.ref_id)
    known: set[tuple[str, str]] = set()
    for kind, numbers in sorted(wanted.items()):
        for chunk in _chunks(numbers):
            where = and_(inv.c.client_id == client_id, inv.c.kind == kind, inv.c.number.in_(chunk))
            known.update((number, kind) for (number,) in conn.execute(select(inv.c.number).where(where)))
    return known


def _envelopes(conn: Connection, client_id: str, ids: set[str]) -> dict[str, str | None]:
    """Envelope instance id → the document it carried, for the ids the waiting MLR/MLS quote."""
    t = schema.document_events
    out: dict[str, str | None] = {}
    for chunk in _chunks(ids):
        where = and_(t.c.client_id == client_id, t.c.ref_id.in_(chunk), t.c.kind == ENVELOPE)
        out.update(
            (r.ref_id, r.invoice_number) for r in conn.execute(select(t.c.ref_id, t.c.invoice_number).where(where))
        )
    return out


def _resolve(
    kind: str,
    ref_id: str | None,
    type_code: str | None,
    known: set[tuple[str, str]],
    envelopes: dict[str, str | None],
) -> tuple[str | None, str]:
    if not ref_id:
        return None, "the response names no referenced document"
    if kind == ENVELOPE:
        return None, "an envelope without its document"  # envelopes are stored already linked
    if kind == INVOICE_RESPONSE:
        doc_kind = _doc_kind(type_code)
        if (ref_id, doc_kind) in known:
            return ref_id, ""
        return None, f"referenced {doc_kind.replace('_', ' ')} {ref_id} is unknown"
    number = envelopes.get(ref_id)
    if number:
        return number, ""
    return None, f"no sent document with SBDH InstanceIdentifier {ref_id} is known"


def close_answered_queries(conn: Connection, client_id: str) -> int:
    """A UQ dispute from an Invoice Response ends when the buyer later answers CA, AP or PD."""
    d, t = schema.disputes, schema.document_events
    open_rows = conn.execute(
        select(d.c.dispute_id, d.c.invoice_number, d.c.opened_on, d.c.reason).where(
            and_(d.c.client_id == client_id, d.c.source == "invoice_response", d.c.resolved_on.is_(None))
        )
    ).all()
    closed = 0
    for row in open_rows:
        if not row.reason.startswith("UQ"):
            continue  # RE is final; a person resolves it
        later = conn.execute(
            select(t.c.code, t.c.issued_on)
            .where(
                and_(
                    t.c.client_id == client_id,
                    t.c.kind == INVOICE_RESPONSE,
                    t.c.invoice_number == row.invoice_number,
                    t.c.code.in_(sorted(QUERY_CLOSED_BY)),
                    t.c.issued_on >= row.opened_on,
                )
            )
            .order_by(t.c.issued_on)
        ).first()
        if later is not None:
            conn.execute(
                update(d)
                .where(and_(d.c.client_id == client_id, d.c.dispute_id == row.dispute_id))
                .values(resolved_on=later.issued_on, resolution=f"buyer answered Invoice Response {later.code}")
            )
            closed += 1
    return closed


EVENTS = RowSpec.of(
    schema.document_events,
    ["event_key", "kind", "invoice_number"],
    checks={
        "kind": DocumentEventKind,
        **{c: lambda v: json.loads(v or "[]") for c in ("reason_codes", "action_codes", "conditions")},
    },
)


def load_events(conn: Connection, client_id: str, skipped: Skipped | None = None) -> Iterator[DocumentEvent]:
    """``skipped``: where rows that cannot be read go (``connector.store.rows``); logged only when None."""
    t = schema.document_events
    q = select(t).where(t.c.client_id == client_id).order_by(t.c.issued_on, t.c.issue_time, t.c.event_key)
    yield from mapped(checked_rows(conn, q, EVENTS, skipped), _event, EVENTS, skipped)


def _event(r: Any) -> DocumentEvent:
    return DocumentEvent(
        client_id=r.client_id,
        event_key=r.event_key,
        kind=DocumentEventKind(r.kind),
        code=r.code,
        issued_on=r.issued_on,
        ref_id=r.ref_id,
        ref_type_code=r.ref_type_code,
        invoice_number=r.invoice_number,
        issue_time=r.issue_time,
        effective_date=r.effective_date,
        reason_codes=tuple(json.loads(r.reason_codes or "[]")),
        action_codes=tuple(json.loads(r.action_codes or "[]")),
        text=r.text or "",
        conditions=tuple((str(a), str(b)) for a, b in json.loads(r.conditions or "[]")),
        source_ref=r.source_ref,
        detail=r.detail or "",
    )


def unlinked_events(conn: Connection, client_id: str) -> list[DocumentEvent]:
    """Responses whose referenced invoice is unknown: listed for the accountant, never dropped."""
    return [e for e in load_events(conn, client_id) if e.invoice_number is None and e.kind != ENVELOPE]
