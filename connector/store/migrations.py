"""Schema versions. A fresh database gets the current schema and the newest version number; an
older one is brought forward by running each later step in order, inside one transaction.

To change the schema: edit ``schema.py`` and append a step here that alters an existing database
the same way (e.g. ``ALTER TABLE … ADD COLUMN …``). Never edit or reorder a published step.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, MetaData, inspect, select, text

from connector.store import schema
from connector.store.bookings_table import fee_bookings

Step = Callable[[Connection], None]


def _v1_initial(conn: Connection) -> None:
    schema.metadata.create_all(conn)


def _v2_document_events(conn: Connection) -> None:
    schema.document_events.create(conn, checkfirst=True)


def _v3_collection(conn: Connection) -> None:
    for table in (schema.collection_ops, schema.case_provider_states, schema.collection_cursors):
        table.create(conn, checkfirst=True)


def _v4_dunning(conn: Connection) -> None:
    for table in (schema.exclusions, schema.registry_cache):
        table.create(conn, checkfirst=True)


def _v5_columns(conn: Connection) -> None:
    """Columns added after v1: payment references for evidence, and how an invoice is collected."""
    added = {
        "payments": (("end_to_end_id", "VARCHAR(255)"), ("return_reason", "TEXT")),
        "invoices": (("collection_method", "VARCHAR(16)"),),
    }
    inspector = inspect(conn)
    for table, columns in added.items():
        have = {c["name"] for c in inspector.get_columns(table)}
        for name, sql_type in columns:
            if name not in have:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}"))


def _v6_dunning_sends(conn: Connection) -> None:
    """The write-ahead log of reminder sends (a crash between sending and recording never re-sends)."""
    schema.dunning_sends.create(conn, checkfirst=True)


def _v7_text_keys(conn: Connection) -> None:
    """Keys built from folder paths and other keys outgrew their VARCHAR limits; only PostgreSQL enforces them."""
    if conn.dialect.name != "postgresql":
        return
    for table, column in (
        ("payments", "payment_key"),
        ("sync_state", "source"),
        ("seen_files", "source"),
        ("document_events", "event_key"),
        ("collection_ops", "op_key"),
    ):
        conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE TEXT"))


def _v8_invoice_customer_index(conn: Connection) -> None:
    """Invoices looked up by customer: a sliced client is read one slice of customers at a time."""
    for index in schema.invoices.indexes:
        index.create(conn, checkfirst=True)


def _v9_credit_facts(conn: Connection) -> None:
    """Dated register answers for the credit check (issue 21)."""
    schema.credit_facts.create(conn, checkfirst=True)


def _v10_workbench(conn: Connection) -> None:
    """The workbench: an append-only audit trail, and the undo window of an approval (case_events.push_after)."""
    schema.audit_log.create(conn, checkfirst=True)
    if "push_after" not in {c["name"] for c in inspect(conn).get_columns("case_events")}:
        kind = "TIMESTAMP WITH TIME ZONE" if conn.dialect.name == "postgresql" else "DATETIME"
        conn.execute(text(f"ALTER TABLE case_events ADD COLUMN push_after {kind}"))


def _v11_credit_checks(conn: Connection) -> None:
    """Credit checks of customers, and each invoice's delivery date (issue 21: the advice report)."""
    schema.credit_checks.create(conn, checkfirst=True)
    if "delivery_date" not in {c["name"] for c in inspect(conn).get_columns("invoices")}:
        conn.execute(text("ALTER TABLE invoices ADD COLUMN delivery_date DATE"))


def _v12_files_and_invoice_checks(conn: Connection) -> None:
    """Issue 14 (decide): unreadable files and the accountant's quarantines, invoices checked by hand, and the
    payee account an invoice names."""
    for table in (schema.unreadable_files, schema.file_decisions, schema.invoice_checks):
        table.create(conn, checkfirst=True)
    if "payee_account" not in {c["name"] for c in inspect(conn).get_columns("invoices")}:
        conn.execute(text("ALTER TABLE invoices ADD COLUMN payee_account VARCHAR(64)"))


def _v13_fee_bookings(conn: Connection) -> None:
    """Fees and interest a letter charged, booked back into the ledger or a booking file once (issue 16)."""
    fee_bookings.create(conn, checkfirst=True)


def _v14_locks_and_claims(conn: Connection) -> None:
    """One run per client (``client_locks``), and the run that claimed each pending intent — sends, pushes,
    fee bookings (issue 13)."""
    schema.client_locks.create(conn, checkfirst=True)
    inspector = inspect(conn)
    for table in ("collection_ops", "dunning_sends", "fee_bookings"):
        if "claimed_by" not in {c["name"] for c in inspector.get_columns(table)}:
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN claimed_by TEXT"))


def _v15_document_conflicts(conn: Connection) -> None:
    """Documents that carry a stored invoice number with other content (issue 13): kept as facts."""
    schema.document_conflicts.create(conn, checkfirst=True)


def _v16_letters_and_calls(conn: Connection) -> None:
    """Issue 15: the letters written (with their invoices and content), calls to customers, the checks of
    promised dates; each customer's phone and contact; an agreement's plan (made on a call) and amounts."""
    for new in (schema.letters, schema.calls, schema.agreement_checks):
        new.create(conn, checkfirst=True)
    added = {
        "customers": (("phone", "VARCHAR(64)"), ("contact", "TEXT")),
        "agreements": (("plan_id", "VARCHAR(128)"), ("amounts", "TEXT")),
    }
    inspector = inspect(conn)
    for table, columns in added.items():
        have = {c["name"] for c in inspector.get_columns(table)}
        for name, sql_type in columns:
            if name not in have:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}"))


def _v17_seen_file_stats(conn: Connection) -> None:
    """Issue 18: each read file's stat, so an unchanged drop-folder file is not opened again. Rows from before
    have none: those files are read and hashed once more, then recorded with their stat."""
    have = {c["name"] for c in inspect(conn).get_columns("seen_files")}
    for name in ("st_size", "st_mtime_ns", "st_ino"):
        if name not in have:
            conn.execute(text(f"ALTER TABLE seen_files ADD COLUMN {name} BIGINT"))


def _v18_exclusion_ended_on(conn: Connection) -> None:
    """The day an exclusion was ended by hand, apart from its last day as given. Before, ending one set its last
    day to the day before, so one ended on its first day was stored ending before it began: such a row reads
    as ended on its first day (never in force, as before); its last day as given was overwritten and is gone."""
    if "ended_on" not in {c["name"] for c in inspect(conn).get_columns("exclusions")}:
        conn.execute(text("ALTER TABLE exclusions ADD COLUMN ended_on DATE"))
    conn.execute(text("UPDATE exclusions SET ended_on = created_on, until = NULL WHERE until < created_on"))


def _v19_document_event_refs(conn: Connection) -> None:
    """Document events found by whether they wait for their document, and by the reference they quote: linking
    after each stored batch reads only the waiting events and looks each up by key, instead of reading every
    invoice and event of the client per batch."""
    for index in schema.document_events.indexes:
        index.create(conn, checkfirst=True)


def _v20_fee_bookings_per_letter(conn: Connection) -> None:
    """A charge is its letter's (``fee_bookings.letter_id`` joins the key): a letter cancelled and written again
    the same day charges its fee anew instead of finding the cancelled one's booking under the same key, and a
    cancelled letter's booking gets a reversal row (kinds ``fee_reversal`` / ``interest_reversal``, booked on
    ``booked_on``). Rows from before keep letter_id "" (their references unchanged)."""
    if "letter_id" in {c["name"] for c in inspect(conn).get_columns("fee_bookings")}:
        return
    if conn.dialect.name == "postgresql":
        for sql in (
            "ALTER TABLE fee_bookings ADD COLUMN letter_id VARCHAR(200) NOT NULL DEFAULT ''",
            "ALTER TABLE fee_bookings ADD COLUMN booked_on DATE",
            "ALTER TABLE fee_bookings ALTER COLUMN kind TYPE VARCHAR(32)",
            "ALTER TABLE fee_bookings DROP CONSTRAINT fee_bookings_pkey",
            "ALTER TABLE fee_bookings ADD PRIMARY KEY (client_id, invoice_number, step, sent_on, kind, letter_id)",
        ):
            conn.execute(text(sql))
        return
    # SQLite cannot change a primary key: the table is made anew and the rows copied (its documented way)
    old = [c["name"] for c in inspect(conn).get_columns("fee_bookings")]
    fee_bookings.to_metadata(MetaData(), name="fee_bookings_v20").create(conn)
    columns = ", ".join(old)
    conn.execute(text(f"INSERT INTO fee_bookings_v20 ({columns}) SELECT {columns} FROM fee_bookings"))
    conn.execute(text("DROP TABLE fee_bookings"))
    conn.execute(text("ALTER TABLE fee_bookings_v20 RENAME TO fee_bookings"))


MIGRATIONS: tuple[Step, ...] = (
    _v1_initial,
    _v2_document_events,
    _v3_collection,
    _v4_dunning,
    _v5_columns,
    _v6_dunning_sends,
    _v7_text_keys,
    _v8_invoice_customer_index,
    _v9_credit_facts,
    _v10_workbench,
    _v11_credit_checks,
    _v12_files_and_invoice_checks,
    _v13_fee_bookings,
    _v14_locks_and_claims,
    _v15_document_conflicts,
    _v16_letters_and_calls,
    _v17_seen_file_stats,
    _v18_exclusion_ended_on,
    _v19_document_event_refs,
    _v20_fee_bookings_per_letter,
)
CURRENT = len(MIGRATIONS)


class SchemaTooNew(RuntimeError):
    pass


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("schema_version"):
        return 0
    row = conn.execute(select(schema.schema_version.c.version)).first()
    return int(row[0]) if row else 0


def upgrade(conn: Connection) -> int:
    """Bring the database to ``CURRENT``; returns the version it started at."""
    start = current_version(conn)
    if start > CURRENT:
        raise SchemaTooNew(f"database schema v{start} is newer than this arsync (v{CURRENT}); upgrade arsync")
    if start == 0:
        schema.metadata.create_all(conn)
    else:
        for step in MIGRATIONS[start:]:
            step(conn)
    if start != CURRENT:
        conn.execute(schema.schema_version.delete())
        conn.execute(schema.schema_version.insert().values(version=CURRENT))
    return start
