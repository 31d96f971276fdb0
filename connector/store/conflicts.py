"""Documents that contradict each other: a second document with a stored invoice number and other content.

Storing a ledger batch goes through :func:`store_invoices`, never a blind upsert, because the upsert let
the last file (by name) silently replace an invoice — another amount or customer — and a false reminder
followed. The rules:
- the first document of a number is kept; a later one with other content (customer, currency, amount,
  issue or due date, KID, credits, payee or its account, collection method) is refused and recorded here as a conflict,
  both documents named; the invoice is held (``conflicting_document``) while the conflict is open;
- an identical re-delivery changes nothing;
- the same document in a newer version — an API ledger's object (same source and id) the system itself
  changed — is an update, except when its customer changed: that is a conflict too;
- a conflict is resolved when the refused document is removed (:func:`resolve_removed`) or quarantined
  (:func:`quarantine_document`), when the ledger's object agrees with the kept version again, or when the
  kept document is removed or quarantined instead — then the other version becomes the invoice, and the
  quarantined one is kept as a refused version, so that :func:`release_document` (``arsync files
  release``) opens its conflict again.
A stored row that cannot be read is simply replaced by the incoming version (that repairs it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, delete, select, type_coerce, update
from sqlalchemy.types import NullType

from connector.accounts import account_key
from connector.model import DocKind, DocumentConflict, Invoice
from connector.store import schema
from connector.store.ledger import INVOICE_COLUMNS, invoice_row, invoices_from_rows, upsert_invoices
from connector.store.rows import RowSpec, Shared, Skipped, checked_rows, mapped
from connector.store.upsert import insert_ignore

# What makes two documents of one number different claims (not: the ledger's open amount, order ref).
CONTENT = (
    ("customer_id", "customer"),
    ("currency", "currency"),
    ("amount", "amount"),
    ("issue_date", "issue date"),
    ("due_date", "due date"),
    ("kid", "KID"),
    ("credits", "credits"),
    ("factored", "payee (factored)"),
    ("payee_account", "payee account"),
    ("collection_method", "collection method"),
)
_IDS = 500  # numbers per IN (…) list


@dataclass
class Stored:
    """What storing a batch's invoices found."""

    conflicts: list[DocumentConflict] = field(default_factory=list)  # opened now
    refused: set[tuple[str, str | None]] = field(default_factory=set)  # (number, source_ref) of refused versions
    resolved: list[str] = field(default_factory=list)  # what resolved itself (the ledger agrees again)


def differences(kept: Invoice, other: Invoice) -> list[str]:
    """The content fields in which ``other`` differs from ``kept``, as "amount 1000.00 / 1200.00"."""
    out = []
    for name, label in CONTENT:
        a, b = getattr(kept, name), getattr(other, name)
        if a != b and not (name == "payee_account" and a and b and account_key(a) == account_key(b)):
            out.append(f"{label} {_show(a)} / {_show(b)}")  # (one account as IBAN and as BBAN is one account)
    return out


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return ",".join(value) or "none"
    if isinstance(value, date | Decimal):
        return str(value)
    return str(value)


def _same_document(kept: Invoice, other: Invoice) -> bool:
    """The same object of an API ledger (same system, same id): a newer version is an update."""
    return kept.source == other.source and kept.source_ref is not None and kept.source_ref == other.source_ref


def store_invoices(conn: Connection, client_id: str, invoices: Sequence[Invoice], *, at: datetime) -> Stored:
    """Store a ledger batch's invoices and credit notes by the rules above, inside the caller's transaction."""
    out = Stored()
    first: dict[tuple[str, str], Invoice] = {}
    later: list[Invoice] = []
    for inv in invoices:
        key = (str(inv.kind), inv.number)
        if key in first:
            later.append(inv)  # a second document of the number in the same batch
        else:
            first[key] = inv
    stored = _stored(conn, client_id, set(first))
    accepted: list[Invoice] = []
    kept_now: dict[tuple[str, str], Invoice] = {}  # the version each number has after this batch
    for key, inv in first.items():
        kept = stored.get(key)
        if kept is None:  # new, or a stored row that cannot be read (replaced: that repairs it)
            accepted.append(inv)
            kept_now[key] = inv
            continue
        diff = differences(kept, inv)
        if not diff or (_same_document(kept, inv) and kept.customer_id == inv.customer_id):
            accepted.append(inv)  # an identical re-delivery, or the ledger's own newer version
            kept_now[key] = inv
            if not diff and inv.source_ref:
                out.resolved.extend(_agrees_again(conn, client_id, inv, at))
            continue
        kept_now[key] = kept
        _conflict(conn, out, kept, inv, diff, at)
    for inv in later:
        kept = kept_now[(str(inv.kind), inv.number)]
        diff = differences(kept, inv)
        if diff:
            _conflict(conn, out, kept, inv, diff, at)
    upsert_invoices(conn, accepted)
    return out


def _stored(conn: Connection, client_id: str, keys: set[tuple[str, str]]) -> dict[tuple[str, str], Invoice]:
    """The stored invoices with these (kind, number) keys (rows that cannot be read are left out: they get
    replaced)."""
    if not keys:
        return {}
    t = schema.invoices
    if conn.execute(select(t.c.number).where(t.c.client_id == client_id).limit(1)).first() is None:
        return {}  # a client's first sync: nothing to compare with
    out: dict[tuple[str, str], Invoice] = {}
    # the stored values as they are (no column types applied): the row mapper converts them, and a row it
    # cannot read is left out (then replaced) instead of ending the sync
    columns = [type_coerce(t.c[name], NullType()).label(name) for name in INVOICE_COLUMNS]
    for kind in sorted({kind for kind, _number in keys}):
        ordered = sorted(number for k, number in keys if k == kind)
        for start in range(0, len(ordered), _IDS):
            # by the whole primary key (client, kind, number): without the kind the database scans every
            # invoice of the client for each chunk, and a folder stored in parts costs the square of its size
            where = and_(t.c.client_id == client_id, t.c.kind == kind, t.c.number.in_(ordered[start : start + _IDS]))
            rows = conn.execute(select(*columns).where(where))
            for inv in invoices_from_rows((tuple(r) for r in rows), Shared(), Skipped()):
                out[(str(inv.kind), inv.number)] = inv
    return out


def _conflict(conn: Connection, out: Stored, kept: Invoice, other: Invoice, diff: list[str], at: datetime) -> None:
    other_ref = other.source_ref or f"{other.source} document"
    row = {
        "client_id": other.client_id,
        "kind": str(other.kind),
        "number": other.number,
        "other_ref": other_ref,
        "kept_ref": kept.source_ref,
        "source": other.source,
        "differences": "; ".join(diff),
        "other": json.dumps(invoice_row(other), default=str, sort_keys=True),
        "found_at": at,
        "resolved_at": None,
        "resolution": None,
    }
    out.refused.add((other.number, other.source_ref))
    t = schema.document_conflicts
    if insert_ignore(conn, t, [row], ["client_id", "kind", "number", "other_ref"]):
        out.conflicts.append(_conflict_of(row, kept.credits + other.credits))
        return
    # Known already. A removed file that comes back opens it again; a quarantined one stays decided.
    where = _where(t, other.client_id, str(other.kind), other.number, other_ref)
    reopened = conn.execute(
        update(t)
        .where(and_(where, t.c.resolved_at.is_not(None), t.c.resolution.like("removed%")))
        .values(resolved_at=None, resolution=None, found_at=at, differences=row["differences"], other=row["other"])
    )
    if reopened.rowcount:
        out.conflicts.append(_conflict_of(row, kept.credits + other.credits))


def _where(t: Any, client_id: str, kind: str, number: str, other_ref: str) -> Any:
    return and_(t.c.client_id == client_id, t.c.kind == kind, t.c.number == number, t.c.other_ref == other_ref)


def _conflict_of(row: dict[str, Any], credits: tuple[str, ...] = ()) -> DocumentConflict:
    found = row["found_at"]
    return DocumentConflict(
        client_id=row["client_id"],
        kind=DocKind(row["kind"]),
        number=row["number"],
        kept_ref=row["kept_ref"],
        other_ref=row["other_ref"],
        differences=row["differences"],
        found_on=found.date() if isinstance(found, datetime) else date.fromisoformat(str(found)[:10]),
        credits=tuple(dict.fromkeys(credits)),
    )


def _agrees_again(conn: Connection, client_id: str, inv: Invoice, at: datetime) -> list[str]:
    """An API object that now agrees with the kept version again resolves its own conflict."""
    t = schema.document_conflicts
    where = and_(_where(t, client_id, str(inv.kind), inv.number, inv.source_ref or ""), t.c.resolved_at.is_(None))
    done = conn.execute(update(t).where(where).values(resolved_at=at, resolution="agrees with the kept version again"))
    return [f"{inv.kind.value.replace('_', ' ')} {inv.number}: {inv.source_ref} agrees again"] if done.rowcount else []


# ---- reading and resolving -----------------------------------------------------------------------


# A conflict that cannot be read holds its invoice (or the whole client), as any unreadable row does.
CONFLICTS = RowSpec.of(
    schema.document_conflicts,
    ["kind", "number", "other_ref"],
    checks={"kind": DocKind},
    invoice="number",
    invoice_if=("kind", "invoice"),
)


def open_conflicts(conn: Connection, client_id: str, skipped: Skipped | None = None) -> list[DocumentConflict]:
    """The client's open conflicts, by kind, number and refused document (``skipped``: where rows that
    cannot be read go, ``connector.store.rows``)."""
    return list(_open_conflicts(conn, client_id, skipped))


def _open_conflicts(conn: Connection, client_id: str, skipped: Skipped | None) -> Iterator[DocumentConflict]:
    t = schema.document_conflicts
    q = (
        select(t)
        .where(and_(t.c.client_id == client_id, t.c.resolved_at.is_(None)))
        .order_by(t.c.kind, t.c.number, t.c.other_ref)
    )
    yield from mapped(checked_rows(conn, q, CONFLICTS, skipped), _open_conflict, CONFLICTS, skipped)


def _open_conflict(r: Any) -> DocumentConflict:
    row = r._asdict()  # a SQLAlchemy row or the namedtuple of rows.checked_rows
    try:
        other_credits = tuple(json.loads(json.loads(row["other"]).get("credits") or "[]"))
    except (ValueError, TypeError, AttributeError):
        other_credits = ()
    return _conflict_of(row, other_credits)


def resolve_removed(conn: Connection, client_id: str, exists: Callable[[str], bool], *, at: datetime) -> list[str]:
    """Resolve the open conflicts of a document folder whose files are gone (``exists(name)``: the file is
    still in the folder): the refused file removed → the kept one stays; the kept file removed while the
    other remains → the other becomes the invoice. Returns a line per conflict resolved."""
    lines: list[str] = []
    for c in open_conflicts(conn, client_id):
        what = f"{c.kind.value.replace('_', ' ')} {c.number}"
        if c.kept_ref == c.other_ref:
            continue  # one ledger object in two versions: no file to remove
        if not exists(c.other_ref):
            _resolve(conn, c, f"removed: {c.other_ref} is no longer in the folder", at)
            lines.append(f"{what}: {c.other_ref} was removed; the conflict is over")
        elif c.kept_ref and not exists(c.kept_ref):
            _adopt(conn, c, f"removed: the kept {c.kept_ref} is no longer in the folder", at)
            lines.append(f"{what}: {c.kept_ref} was removed; {c.other_ref} is the invoice now")
    return lines


QUARANTINED = "quarantined by "  # how the resolution of a quarantined document begins


def quarantine_document(
    conn: Connection, client_id: str, ref: str, reason: str, *, by: str, on: date, at: datetime
) -> int:
    """The accountant (``by``, on the command's day ``on``) takes a document (file name or ledger id) out of
    consideration: a conflict it was refused in is over (the kept version stays); one where it was the kept
    version makes the other version the invoice, and this one a quarantined refused version. Returns how
    many conflicts were resolved. For ``arsync files quarantine``."""
    why = f"{QUARANTINED}{by} on {on.isoformat()}: {reason}"
    n = 0
    for c in open_conflicts(conn, client_id):
        if c.other_ref == ref:
            _resolve(conn, c, why, at)
            n += 1
        elif c.kept_ref == ref:
            kept = _invoice_json(conn, c)
            _adopt(conn, c, f"the kept {ref} was {why}; {c.other_ref} is the invoice now", at)
            if kept is not None:  # the quarantined version, refused now, so a release can bring it back
                _keep_refused(conn, c, kept, why, at)
            n += 1
    return n


def quarantined_conflicts(conn: Connection, client_id: str) -> list[tuple[DocumentConflict, str]]:
    """The client's documents quarantined out of a conflict (``arsync files list``), each with who, when and
    why; newest first per document."""
    t = schema.document_conflicts
    q = (
        select(t)
        .where(and_(t.c.client_id == client_id, t.c.resolution.like(f"{QUARANTINED}%")))
        .order_by(t.c.kind, t.c.number, t.c.other_ref)
    )
    return list(mapped(checked_rows(conn, q, CONFLICTS, None), _quarantined, CONFLICTS, None))


def _quarantined(r: Any) -> tuple[DocumentConflict, str]:
    return _open_conflict(r), str(r.resolution)


def release_document(conn: Connection, client_id: str, ref: str, *, at: datetime) -> int:
    """Undo the quarantine of a document (``arsync files release``): its conflicts are open again, with the
    version now kept (held again at the next decision). Returns how many were opened."""
    t = schema.document_conflicts
    where = and_(t.c.client_id == client_id, t.c.other_ref == ref, t.c.resolution.like(f"{QUARANTINED}%"))
    done = conn.execute(update(t).where(where).values(resolved_at=None, resolution=None, found_at=at))
    return done.rowcount or 0


def _invoice_json(conn: Connection, c: DocumentConflict) -> dict[str, Any] | None:
    """The stored version of the conflict's document, as a refused version is kept (JSON-ready)."""
    i = schema.invoices
    q = select(*(i.c[name] for name in INVOICE_COLUMNS)).where(
        and_(i.c.client_id == c.client_id, i.c.kind == c.kind.value, i.c.number == c.number)
    )
    row = conn.execute(q).first()
    return dict(zip(INVOICE_COLUMNS, row, strict=True)) if row is not None else None


def _keep_refused(conn: Connection, c: DocumentConflict, kept: dict[str, Any], why: str, at: datetime) -> None:
    """Keep the quarantined kept version as a refused one of the conflict, resolved by the quarantine."""
    t = schema.document_conflicts
    quarantined = c.kept_ref or ""
    row = {
        "client_id": c.client_id,
        "kind": c.kind.value,
        "number": c.number,
        "other_ref": quarantined,
        "kept_ref": c.other_ref,
        "source": str(kept.get("source") or ""),
        "differences": c.differences,
        "other": json.dumps(kept, default=str, sort_keys=True),
        "found_at": at,
        "resolved_at": at,
        "resolution": why,
    }
    conn.execute(delete(t).where(_where(t, c.client_id, c.kind.value, c.number, quarantined)))
    conn.execute(t.insert().values(**row))


def _resolve(conn: Connection, c: DocumentConflict, resolution: str, at: datetime) -> None:
    t = schema.document_conflicts
    where = and_(_where(t, c.client_id, c.kind.value, c.number, c.other_ref), t.c.resolved_at.is_(None))
    conn.execute(update(t).where(where).values(resolved_at=at, resolution=resolution))


def _adopt(conn: Connection, c: DocumentConflict, resolution: str, at: datetime) -> None:
    """The refused version becomes the invoice; the other open conflicts of the number now compare with it."""
    t = schema.document_conflicts
    where = _where(t, c.client_id, c.kind.value, c.number, c.other_ref)
    other = conn.execute(select(t.c.other).where(where)).scalar_one()
    row = json.loads(other)
    conn.execute(
        schema.invoices.update()
        .where(
            and_(
                schema.invoices.c.client_id == c.client_id,
                schema.invoices.c.kind == c.kind.value,
                schema.invoices.c.number == c.number,
            )
        )
        .values(**_typed(row))
    )
    _resolve(conn, c, resolution, at)
    conn.execute(
        update(t)
        .where(and_(t.c.client_id == c.client_id, t.c.kind == c.kind.value, t.c.number == c.number))
        .where(t.c.resolved_at.is_(None))
        .values(kept_ref=c.other_ref)
    )


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    """An invoice row read back from JSON, with its dates and amounts typed again."""
    out = dict(row)
    for name in ("issue_date", "due_date", "delivery_date"):
        out[name] = date.fromisoformat(out[name]) if out.get(name) else None
    for name in ("amount", "ledger_open_amount"):
        out[name] = Decimal(out[name]) if out.get(name) is not None else None
    for key in ("client_id", "kind", "number"):
        out.pop(key, None)
    return out
