"""Reading and writing facts. The only shared state; every write is keyed by client and idempotent."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Date, Engine, Table, and_, create_engine, event, select, update
from sqlalchemy.dialects import postgresql, sqlite

from connector.clock import Clock, utc_now
from connector.gcpause import gc_paused
from connector.model import (
    CENT,
    Action,
    Agreement,
    Attachment,
    Case,
    CaseEvent,
    CaseStatus,
    Customer,
    Decision,
    Dispute,
    DisputeSource,
    DocKind,
    DunningStep,
    Facts,
    Invoice,
    Payment,
    PaymentSource,
    PaymentStatus,
    SyncStatus,
)
from connector.store import checks as checks_store
from connector.store import documents, migrations, schema
from connector.store import dunning as dunning_store
from connector.store import files as files_store


def _upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT (primary key) DO UPDATE, for SQLite and PostgreSQL alike."""
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    updates = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    stmt = (
        stmt.on_conflict_do_update(index_elements=keys, set_=updates)
        if updates
        else (stmt.on_conflict_do_nothing(index_elements=keys))
    )
    conn.execute(stmt, list(rows))


def _upsert_many(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """``_upsert`` for big batches (bank files, e-invoice folders): on SQLite one compiled statement,
    executemany with plain rows converted by each column's own bind processor; elsewhere the ordinary
    path. Same rows, same SQL."""
    if not rows or conn.dialect.name != "sqlite":
        _upsert(conn, table, rows)
        return
    keys = [c.name for c in table.primary_key.columns]
    stmt = sqlite.insert(table)
    updates = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    compiled = stmt.on_conflict_do_update(index_elements=keys, set_=updates).compile(dialect=conn.dialect)
    names = list(compiled.positiontup or ())
    if any(set(names) - row.keys() for row in rows[:1]):
        _upsert(conn, table, rows)  # rows that rely on column defaults take the ordinary path
        return
    get = itemgetter(*names)
    convert: list[tuple[int, Callable[[Any], Any]]] = [
        (i, f) for i, n in enumerate(names) if (f := table.c[n].type._cached_bind_processor(conn.dialect))
    ]
    # a batch has few distinct dates: each is formatted once
    convert = [(i, Converted(c).__getitem__ if isinstance(table.c[names[i]].type, Date) else c) for i, c in convert]
    params: list[tuple[Any, ...]] = []
    try:
        for row in rows:
            values = list(get(row))
            for i, to_db in convert:
                if values[i] is not None:
                    values[i] = to_db(values[i])
            params.append(tuple(values))
    except Exception:  # nothing written yet: the ordinary path reports it as usual (a StatementError)
        _upsert(conn, table, rows)
        return
    conn.exec_driver_sql(str(compiled), params)


def _insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: list[str]) -> int:
    if not rows:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    result = conn.execute(dialect.insert(table).on_conflict_do_nothing(index_elements=keys), list(rows))
    return result.rowcount or 0


class Store:
    def __init__(self, url: str, clock: Clock = utc_now):
        """``clock``: where every timestamp this store writes comes from (one per run; tests pin it)."""
        self.url = url
        self.clock = clock
        self.engine: Engine = create_engine(url, future=True)
        database = self.engine.url.database
        if self.engine.dialect.name == "sqlite" and database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        with self.engine.connect() as conn:
            _migrate(conn)

    def close(self) -> None:
        self.engine.dispose()

    def now(self) -> datetime:
        """The time to stamp a write with (aware, UTC)."""
        return self.clock()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """All writes inside commit together or not at all (a client's sync is one transaction)."""
        with self.engine.begin() as conn:
            yield conn

    # ---- sync writes (inside a transaction) -------------------------------------------------

    def upsert_customers(self, conn: Connection, customers: Iterable[Customer]) -> None:
        _upsert_many(conn, schema.customers, [_customer_row(c) for c in customers])

    def upsert_invoices(self, conn: Connection, invoices: Iterable[Invoice]) -> None:
        _upsert_many(conn, schema.invoices, [_invoice_row(i) for i in invoices])

    def close_missing_invoices(
        self, conn: Connection, client_id: str, source: str, present: set[tuple[str, str]], since: date | None
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

    def upsert_attachments(self, conn: Connection, attachments: Iterable[Attachment]) -> None:
        _upsert_many(
            conn,
            schema.attachments,
            [
                {
                    "client_id": a.client_id,
                    "invoice_number": a.invoice_number,
                    "filename": a.filename,
                    "mime_type": a.mime_type,
                    "content": a.content,
                }
                for a in attachments
            ],
        )

    def upsert_payments(self, conn: Connection, payments: Iterable[Payment]) -> None:
        rows = {p.key: _payment_row(p) for p in payments}  # one file may repeat an entry
        _upsert_many(conn, schema.payments, list(rows.values()))

    def record_steps(self, conn: Connection, steps: Iterable[DunningStep]) -> int:
        """Append steps; a step already recorded (same invoice, step and day) is not added again."""
        rows = [
            {
                "client_id": s.client_id,
                "invoice_number": s.invoice_number,
                "step": str(s.step),
                "sent_on": s.sent_on,
                "channel": s.channel,
                "fee": s.fee,
                "currency": s.currency,
                "detail": s.detail,
            }
            for s in steps
        ]
        return _insert_ignore(conn, schema.dunning_steps, rows, ["client_id", "invoice_number", "step", "sent_on"])

    def seen_hashes(self, client_id: str, source: str) -> set[str]:
        t = schema.seen_files
        with self.engine.connect() as conn:
            # Failed files are not "seen": they are retried (and reported) until they read, e.g. after a fix.
            rows = conn.execute(
                select(t.c.file_hash).where(
                    and_(t.c.client_id == client_id, t.c.source == source, t.c.status != "failed")
                )
            )
            return {r[0] for r in rows}

    def mark_files(self, conn: Connection, client_id: str, source: str, files: Iterable[Any]) -> None:
        now = self.now()
        _upsert_many(
            conn,
            schema.seen_files,
            [
                {
                    "client_id": client_id,
                    "source": source,
                    "file_hash": f.file_hash,
                    "filename": f.name,
                    "status": f.status,
                    "detail": f.detail,
                    "seen_at": now,
                }
                for f in files
            ],
        )

    def record_sync(
        self,
        conn: Connection,
        client_id: str,
        source: str,
        *,
        ok: bool,
        error: str | None = None,
        data_through: date | None = None,
        cursor: dict[str, Any] | None = None,
    ) -> None:
        now = self.now()
        previous = self._sync_row(conn, client_id, source)
        row: dict[str, Any] = {
            "client_id": client_id,
            "source": source,
            "last_attempt_at": now,
            "last_success_at": now if ok else (previous["last_success_at"] if previous else None),
            "last_error": None if ok else error,
            "data_through": _newest(data_through, previous["data_through"] if previous else None),
            "cursor": json.dumps(cursor) if cursor is not None else (previous["cursor"] if previous else None),
        }
        _upsert(conn, schema.sync_state, [row])

    def record_sync_failure(self, client_id: str, source: str, error: str) -> None:
        """Called after a failed sync transaction rolled back: keep the failure visible."""
        with self.transaction() as conn:
            self.record_sync(conn, client_id, source, ok=False, error=error)

    def _sync_row(self, conn: Connection, client_id: str, source: str) -> dict[str, Any] | None:
        t = schema.sync_state
        row = conn.execute(select(t).where(and_(t.c.client_id == client_id, t.c.source == source))).first()
        return dict(row._mapping) if row else None

    # ---- manual facts ------------------------------------------------------------------------

    def add_dispute(self, dispute: Dispute) -> None:
        with self.transaction() as conn:
            self.add_dispute_in(conn, dispute)

    def add_dispute_in(self, conn: Connection, dispute: Dispute) -> None:
        """Open a dispute once; re-reading the same source never re-opens a resolved one."""
        _insert_ignore(conn, schema.disputes, [_dispute_row(dispute)], ["client_id", "dispute_id"])

    def resolve_dispute(self, client_id: str, dispute_id: str, on: date, resolution: str) -> bool:
        with self.transaction() as conn:
            return self.resolve_dispute_in(conn, client_id, dispute_id, on, resolution)

    def resolve_dispute_in(self, conn: Connection, client_id: str, dispute_id: str, on: date, resolution: str) -> bool:
        """False when there is no such open dispute (resolved already, or never opened)."""
        t = schema.disputes
        res = conn.execute(
            update(t)
            .where(and_(t.c.client_id == client_id, t.c.dispute_id == dispute_id, t.c.resolved_on.is_(None)))
            .values(resolved_on=on, resolution=resolution)
        )
        return bool(res.rowcount)

    def add_agreement(self, agreement: Agreement) -> None:
        with self.transaction() as conn:
            self.add_agreement_in(conn, agreement)

    def add_agreement_in(self, conn: Connection, agreement: Agreement) -> None:
        _insert_ignore(
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
                }
            ],
            ["client_id", "agreement_id"],
        )

    def open_disputes(self, client_ids: Iterable[str]) -> list[tuple[Dispute, str | None]]:
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
        with self.engine.connect() as conn:
            return [(_dispute_from_row(r), r.customer_id) for r in conn.execute(q)]

    # ---- cases ---------------------------------------------------------------------------------

    def propose_case(self, conn: Connection, case: Case, at: datetime | None = None) -> bool:
        """Create the case if it does not exist yet; True when it was created."""
        created = _insert_ignore(
            conn,
            schema.cases,
            [
                {
                    "client_id": case.client_id,
                    "case_id": case.case_id,
                    "invoice_number": case.invoice_number,
                    "customer_id": case.customer_id,
                    "currency": case.currency,
                    "amount": case.amount,
                    "open_amount": case.open_amount,
                    "created_on": case.created_on,
                    "provider_ref": None,
                }
            ],
            ["client_id", "case_id"],
        )
        if created:
            self.add_case_event(conn, case.client_id, case.case_id, CaseStatus.PROPOSED, case.created_on, case.note, at)
        return bool(created)

    def add_case_event(
        self,
        conn: Connection,
        client_id: str,
        case_id: str,
        status: CaseStatus,
        on: date,
        note: str = "",
        at: datetime | None = None,
        push_after: datetime | None = None,
    ) -> None:
        conn.execute(
            schema.case_events.insert().values(
                client_id=client_id,
                case_id=case_id,
                status=str(status),
                on_date=on,
                recorded_at=at or self.now(),
                note=note,
                push_after=push_after,
            )
        )

    def set_provider_ref(self, conn: Connection, client_id: str, case_id: str, ref: str) -> None:
        t = schema.cases
        conn.execute(update(t).where(and_(t.c.client_id == client_id, t.c.case_id == case_id)).values(provider_ref=ref))

    def cases(self, client_ids: Iterable[str] | None = None) -> list[Case]:
        with self.engine.connect() as conn:
            return _load_cases(conn, list(client_ids) if client_ids is not None else None)

    def case(self, case_id: str) -> Case | None:
        for c in self.cases():
            if c.case_id == case_id:
                return c
        return None

    # ---- decisions -----------------------------------------------------------------------------

    def save_decisions(self, client_id: str, as_of: date, decisions: Iterable[Decision]) -> None:
        t = schema.decisions
        rows = [
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
        ]
        with self.transaction() as conn:
            conn.execute(t.delete().where(t.c.client_id == client_id))
            if rows:
                conn.execute(t.insert(), rows)

    # ---- reading -------------------------------------------------------------------------------

    def attachments(self, client_id: str, invoice_number: str) -> list[Attachment]:
        t = schema.attachments
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).where(and_(t.c.client_id == client_id, t.c.invoice_number == invoice_number)))
            return [Attachment(r.client_id, r.invoice_number, r.filename, r.mime_type, bytes(r.content)) for r in rows]

    def sync_status(self, client_id: str) -> dict[str, SyncStatus]:
        with self.engine.connect() as conn:
            return _load_sync(conn, client_id)

    def customers(self, client_id: str) -> list[Customer]:
        with self.engine.connect() as conn:
            return list(_load_customers(conn, client_id))

    def facts(self, client_id: str) -> Facts:
        with gc_paused(), self.engine.connect() as conn:
            shared = Shared()  # across invoices and payments: a KID and its payment's reference, amounts, dates
            return facts_around(
                conn,
                client_id,
                customers={c.customer_id: c for c in _load_customers(conn, client_id)},
                invoices=tuple(_load_invoices(conn, client_id, shared)),
                payments=tuple(_load_payments(conn, client_id, shared)),
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
        disputes=tuple(_load_disputes(conn, client_id)),
        agreements=tuple(_load_agreements(conn, client_id)),
        steps=tuple(_load_steps(conn, client_id)),
        cases=tuple(_load_cases(conn, [client_id])),
        sync=_load_sync(conn, client_id),
        document_events=tuple(documents.load_events(conn, client_id)),
        exclusions=tuple(dunning_store.load_exclusions(conn, client_id)),
        registry=dunning_store.load_registry(conn),
        unreadable=tuple(files_store.load_unreadable(conn, client_id)),
        checks=tuple(checks_store.load_checks(conn, client_id)),
    )


def _migrate(conn: Connection) -> None:
    """Bring the schema forward in one transaction: all of it or none of it.

    Python's sqlite3 runs DDL (CREATE, ALTER) outside any transaction unless one was begun explicitly, so
    on SQLite one is: BEGIN IMMEDIATE, which also makes two processes opening one store migrate in turn."""
    raw = conn.connection.dbapi_connection if conn.dialect.name == "sqlite" else None
    previous = getattr(raw, "isolation_level", None)
    if raw is not None:
        raw.isolation_level = None  # the driver begins nothing itself; BEGIN below is the transaction
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        migrations.upgrade(conn)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        if raw is not None:
            raw.isolation_level = previous


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _newest(a: date | None, b: date | None) -> date | None:
    return max((d for d in (a, b) if d is not None), default=None)


# ---- row mapping ---------------------------------------------------------------------------------


def _customer_row(c: Customer) -> dict[str, Any]:
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
    }


def _invoice_row(i: Invoice) -> dict[str, Any]:
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


def _payment_row(p: Payment) -> dict[str, Any]:
    return {
        "client_id": p.client_id,
        "payment_key": p.key,
        "source": p.source,
        "account": p.account,
        "bank_ref": p.bank_ref,
        "ordinal": p.ordinal,
        "booking_date": p.booking_date,
        "value_date": p.value_date,
        "amount": p.amount,
        "currency": p.currency,
        "status": str(p.status),
        "structured_ref": p.structured_ref,
        "ref_type": p.ref_type,
        "free_text": p.free_text,
        "payer_name": p.payer_name,
        "payer_account": p.payer_account,
        "payer_org_id": p.payer_org_id,
        "reversal": p.reversal,
        "invoice_number": p.invoice_number,
        "end_to_end_id": p.end_to_end_id,
        "return_reason": p.return_reason,
    }


def _dispute_row(d: Dispute) -> dict[str, Any]:
    return {
        "client_id": d.client_id,
        "dispute_id": d.dispute_id,
        "invoice_number": d.invoice_number,
        "opened_on": d.opened_on,
        "reason": d.reason,
        "source": d.source,
        "resolved_on": d.resolved_on,
        "resolution": d.resolution,
    }


def _where_client(t: Table, client_id: str) -> Any:
    return t.c.client_id == client_id


def _load_customers(conn: Connection, client_id: str) -> Iterator[Customer]:
    t = schema.customers
    for r in conn.execute(select(t).where(_where_client(t, client_id)).order_by(t.c.customer_id)):
        yield customer_from_row(r)


def customer_from_row(r: Any) -> Customer:
    return Customer(
        client_id=r.client_id,
        customer_id=r.customer_id,
        name=r.name,
        org_no=r.org_no,
        country=r.country,
        email=r.email,
        address=tuple(json.loads(r.address or "[]")),
        postal_code=r.postal_code,
        city=r.city,
        is_person=bool(r.is_person),
    )


def _load_invoices(conn: Connection, client_id: str, shared: Shared | None = None) -> Iterator[Invoice]:
    t = schema.invoices
    shared = Shared() if shared is None else shared  # one object per repeated value: rows share dates and codes
    if conn.dialect.name == "sqlite":
        yield from _load_invoices_sqlite(conn, t, client_id, shared)
        return
    for r in conn.execute(select(t).where(_where_client(t, client_id)).order_by(t.c.kind, t.c.number)):
        yield Invoice(
            client_id=shared[r.client_id],
            number=r.number,
            kind=DocKind(r.kind),
            customer_id=shared[r.customer_id],
            issue_date=shared[r.issue_date],
            due_date=shared[r.due_date],
            currency=shared[r.currency],
            amount=r.amount,
            source=shared[r.source],
            kid=r.kid,
            credits=tuple(json.loads(r.credits)) if r.credits and r.credits != "[]" else (),
            order_ref=r.order_ref,
            type_code=r.type_code,
            factored=bool(r.factored),
            collection_method=r.collection_method,
            ledger_open_amount=r.ledger_open_amount,
            source_ref=r.source_ref,
            delivery_date=r.delivery_date,
            payee_account=r.payee_account,
        )


class Shared(dict[Any, Any]):
    """Low-cardinality column values (dates, codes, ids) handed out as one shared object each."""

    amounts: Converted | None = None  # SQLite fast path: money text → Decimal, shared by invoices and payments

    def __missing__(self, key: Any) -> Any:
        self[key] = key
        return key


# ---- SQLite fast path for the two big tables -------------------------------------------------------
#
# A nightly run reads every invoice and payment of a client (a million rows each at the top end). On
# SQLite these are read with a plain DB-API cursor — tuples, no per-row Row objects or type processors —
# and converted here exactly as the column types would (``Date``: ISO text; ``Money``: text quantized to
# cents; ``Boolean``: 0/1). Repeated values (dates, amounts, codes, a KID and the payment reference that
# quotes it) are converted once and shared. Other databases take the ordinary SQLAlchemy path.


class Converted(dict[Any, Any]):
    """Raw column value → converted value, computed once per distinct value."""

    def __init__(self, convert: Any):
        super().__init__()
        self.convert = convert

    def __missing__(self, key: Any) -> Any:
        value = self[key] = None if key is None else self.convert(key)
        return value


def sqlite_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def sqlite_money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)  # as ``schema.Money`` reads it


def _raw_select(conn: Connection, t: Table, columns: Sequence[str], client_id: str, order: str) -> Iterator[Any]:
    cursor = conn.connection.cursor()
    try:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {t.name} WHERE client_id = ? ORDER BY {order}", (client_id,))
        while rows := cursor.fetchmany(5000):
            yield from rows
    finally:
        cursor.close()


INVOICE_COLUMNS = [
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
]

PAYMENT_COLUMNS = [
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
]


def _load_invoices_sqlite(conn: Connection, t: Table, client_id: str, shared: Shared) -> Iterator[Invoice]:
    yield from invoices_from_rows(_raw_select(conn, t, INVOICE_COLUMNS, client_id, "kind, number"), shared)


def invoices_from_rows(rows: Iterable[Sequence[Any]], shared: Shared) -> Iterator[Invoice]:
    """Invoices from raw ``INVOICE_COLUMNS`` tuples (SQLite text or typed values alike)."""
    dates, amounts, kinds = Converted(sqlite_date), Converted(sqlite_money), Converted(DocKind)
    for (
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
    ) in rows:
        yield Invoice(
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
    shared.amounts = amounts  # payments mostly pay invoice amounts: share those Decimals too


def _load_payments_sqlite(conn: Connection, t: Table, client_id: str, shared: Shared) -> Iterator[Payment]:
    yield from payments_from_rows(_raw_select(conn, t, PAYMENT_COLUMNS, client_id, "payment_key"), shared)


def payments_from_rows(rows: Iterable[Sequence[Any]], shared: Shared) -> Iterator[Payment]:
    """Payments from raw ``PAYMENT_COLUMNS`` tuples (SQLite text or typed values alike)."""
    dates, statuses, sources = Converted(sqlite_date), Converted(PaymentStatus), Converted(PaymentSource)
    amounts = shared.amounts if shared.amounts is not None else Converted(sqlite_money)
    for (
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
    ) in rows:
        yield Payment(
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


def _load_payments(conn: Connection, client_id: str, shared: Shared | None = None) -> Iterator[Payment]:
    t = schema.payments
    shared = Shared() if shared is None else shared
    if conn.dialect.name == "sqlite":
        yield from _load_payments_sqlite(conn, t, client_id, shared)
        return
    for r in conn.execute(select(t).where(_where_client(t, client_id)).order_by(t.c.payment_key)):
        yield Payment(
            client_id=shared[r.client_id],
            source=PaymentSource(r.source),
            account=shared[r.account],
            bank_ref=r.bank_ref,
            ordinal=r.ordinal,
            booking_date=shared[r.booking_date],
            value_date=shared[r.value_date],
            amount=r.amount,
            currency=shared[r.currency],
            status=PaymentStatus(r.status),
            structured_ref=r.structured_ref,
            ref_type=shared[r.ref_type],
            free_text=r.free_text or "",
            payer_name=r.payer_name,
            payer_account=r.payer_account,
            payer_org_id=r.payer_org_id,
            reversal=bool(r.reversal),
            invoice_number=r.invoice_number,
            end_to_end_id=r.end_to_end_id,
            return_reason=r.return_reason,
        )


def _load_disputes(conn: Connection, client_id: str) -> Iterator[Dispute]:
    t = schema.disputes
    for r in conn.execute(select(t).where(_where_client(t, client_id)).order_by(t.c.opened_on, t.c.dispute_id)):
        yield _dispute_from_row(r)


def _dispute_from_row(r: Any) -> Dispute:
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


def _load_agreements(conn: Connection, client_id: str) -> Iterator[Agreement]:
    t = schema.agreements
    for r in conn.execute(select(t).where(_where_client(t, client_id)).order_by(t.c.created_on)):
        yield Agreement(
            client_id=r.client_id,
            invoice_number=r.invoice_number,
            agreement_id=r.agreement_id,
            created_on=r.created_on,
            due_dates=tuple(date.fromisoformat(d) for d in json.loads(r.due_dates)),
            note=r.note or "",
            cancelled_on=r.cancelled_on,
        )


def _load_steps(conn: Connection, client_id: str) -> Iterator[DunningStep]:
    t = schema.dunning_steps
    for r in conn.execute(select(t).where(_where_client(t, client_id)).order_by(t.c.sent_on, t.c.id)):
        yield DunningStep(
            client_id=r.client_id,
            invoice_number=r.invoice_number,
            step=Action(r.step),
            sent_on=r.sent_on,
            channel=r.channel,
            fee=r.fee,
            currency=r.currency,
            detail=r.detail or "",
        )


def _load_cases(conn: Connection, client_ids: list[str] | None) -> list[Case]:
    t, e = schema.cases, schema.case_events
    q = select(t).order_by(t.c.client_id, t.c.created_on, t.c.case_id)
    qe = select(e).order_by(e.c.id)
    if client_ids is not None:
        q = q.where(t.c.client_id.in_(client_ids))
        qe = qe.where(e.c.client_id.in_(client_ids))
    events: dict[tuple[str, str], list[CaseEvent]] = {}
    for r in conn.execute(qe):
        events.setdefault((r.client_id, r.case_id), []).append(
            CaseEvent(
                case_id=r.case_id,
                status=CaseStatus(r.status),
                on=r.on_date,
                note=r.note or "",
                push_after=_aware(r.push_after),
            )
        )
    out = []
    for r in conn.execute(q):
        evs = tuple(events.get((r.client_id, r.case_id), ()))
        status = evs[-1].status if evs else CaseStatus.PROPOSED
        out.append(
            Case(
                case_id=r.case_id,
                client_id=r.client_id,
                invoice_number=r.invoice_number,
                customer_id=r.customer_id,
                currency=r.currency,
                amount=r.amount,
                open_amount=r.open_amount,
                status=status,
                created_on=r.created_on,
                note=evs[-1].note if evs else "",
                provider_ref=r.provider_ref,
                events=evs,
            )
        )
    return out


def _load_sync(conn: Connection, client_id: str) -> dict[str, SyncStatus]:
    t = schema.sync_state
    out = {}
    for r in conn.execute(select(t).where(_where_client(t, client_id))):
        out[r.source] = SyncStatus(
            source=r.source,
            last_attempt_at=_aware(r.last_attempt_at),
            last_success_at=_aware(r.last_success_at),
            last_error=r.last_error,
            data_through=r.data_through,
            cursor=json.loads(r.cursor) if r.cursor else None,
        )
    return out


def _aware(ts: datetime | None) -> datetime | None:
    # SQLite hands timestamps back naive; they were written in UTC.
    if ts is not None and ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    return ts
