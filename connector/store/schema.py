"""The state store's tables (SQLAlchemy Core). Every row is keyed by ``client_id`` plus a natural key.

Fact tables (customers, invoices, payments, attachments) are upserted by sync. History tables
(dunning_steps, case_events, sync_runs) are append-only: actions taken are facts, never overwritten.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator, TypeEngine


class Money(TypeDecorator[Decimal]):
    """Exact decimal money: NUMERIC on PostgreSQL, canonical text on SQLite (whose NUMERIC is a float)."""

    impl = String(40)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(20, 4, asdecimal=True))
        return dialect.type_descriptor(String(40))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must not be a float")
        value = Decimal(value)
        return value if dialect.name == "postgresql" else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
        if not amount.is_finite():  # PostgreSQL's NUMERIC holds NaN; money never is
            raise ValueError(f"{value!r} is not a finite amount")
        return amount


metadata = MetaData()


def _client() -> Column[str]:
    return Column("client_id", String(64), primary_key=True)


schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    _client(),
    Column("customer_id", String(128), primary_key=True),
    Column("name", Text, nullable=False),
    Column("org_no", String(32)),
    Column("country", String(2)),
    Column("email", Text),
    Column("address", Text),  # JSON list of lines
    Column("postal_code", String(32)),
    Column("city", Text),
    Column("is_person", Boolean, nullable=False, default=False),
    Column("phone", String(64)),  # for the call list (issue 15, v16)
    Column("contact", Text),  # the person at the customer to ask for (v16)
)

invoices = Table(
    "invoices",
    metadata,
    _client(),
    Column("kind", String(16), primary_key=True),
    Column("number", String(128), primary_key=True),
    Column("customer_id", String(128), nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date),
    Column("currency", String(3), nullable=False),
    Column("amount", Money, nullable=False),
    Column("source", String(32), nullable=False),
    Column("kid", String(64)),
    Column("credits", Text),  # JSON list of invoice numbers
    Column("order_ref", Text),
    Column("type_code", String(8)),
    Column("factored", Boolean, nullable=False, default=False),
    Column("collection_method", String(16)),  # direct_debit / card (v5)
    Column("ledger_open_amount", Money),
    Column("source_ref", Text),
    Column("delivery_date", Date),  # EHF BT-72 / invoice period end, for the advice report (v11)
    Column("payee_account", String(64)),  # BT-84: the account the invoice asks to be paid to (issue 14)
    # a sliced client's invoices are read one slice of customers at a time (connector.engine.slices, v8)
    Index("ix_invoices_customer", "client_id", "customer_id"),
)

attachments = Table(
    "attachments",
    metadata,
    _client(),
    Column("invoice_number", String(128), primary_key=True),
    Column("filename", String(255), primary_key=True),
    Column("mime_type", String(128), nullable=False),
    Column("content", LargeBinary, nullable=False),
)

payments = Table(
    "payments",
    metadata,
    _client(),
    Column("payment_key", Text, primary_key=True),  # built from source, account, bank ref, …
    Column("source", String(32), nullable=False),
    Column("account", String(64), nullable=False),
    Column("bank_ref", String(255), nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("booking_date", Date, nullable=False),
    Column("value_date", Date),
    Column("amount", Money, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("structured_ref", String(64)),
    Column("ref_type", String(32)),
    Column("free_text", Text, nullable=False, default=""),
    Column("payer_name", Text),
    Column("payer_account", String(64)),
    Column("payer_org_id", String(64)),
    Column("reversal", Boolean, nullable=False, default=False),
    Column("invoice_number", String(128)),
    Column("end_to_end_id", String(255)),  # camt Refs/EndToEndId (evidence; unique per initiator only)
    Column("return_reason", Text),  # camt RtrInf/Rsn + AddtlInf of a returned payment
)

disputes = Table(
    "disputes",
    metadata,
    _client(),
    Column("dispute_id", String(128), primary_key=True),
    Column("invoice_number", String(128), nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("reason", Text, nullable=False),
    Column("source", String(32), nullable=False),
    Column("resolved_on", Date),
    Column("resolution", Text),
)

agreements = Table(
    "agreements",
    metadata,
    _client(),
    Column("agreement_id", String(128), primary_key=True),
    Column("invoice_number", String(128), nullable=False),
    Column("created_on", Date, nullable=False),
    Column("due_dates", Text, nullable=False),  # JSON list of ISO dates
    Column("note", Text, nullable=False, default=""),
    Column("cancelled_on", Date),
    # a plan made on a call, judged as a whole over its invoices (issue 15, v16): the plan's id and its
    # amount per due date (JSON list of decimal strings); NULL for an agreement on one invoice
    Column("plan_id", String(128)),
    Column("amounts", Text),
)

dunning_steps = Table(
    "dunning_steps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(64), nullable=False),
    Column("invoice_number", String(128), nullable=False),
    Column("step", String(32), nullable=False),
    Column("sent_on", Date, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("fee", Money, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    # One step of a kind per invoice per day: re-running `run` the same day adds nothing.
    UniqueConstraint("client_id", "invoice_number", "step", "sent_on", name="uq_step_once_a_day"),
)

cases = Table(
    "cases",
    metadata,
    _client(),
    Column("case_id", String(200), primary_key=True),
    Column("invoice_number", String(128), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", Money, nullable=False),
    Column("open_amount", Money, nullable=False),
    Column("created_on", Date, nullable=False),
    Column("provider_ref", String(255)),
)

case_events = Table(
    "case_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(64), nullable=False),
    Column("case_id", String(200), nullable=False),
    Column("status", String(32), nullable=False),
    Column("on_date", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False, default=""),
    # an approval made in the workbench: the push waits until then, so it can be undone (v9)
    Column("push_after", DateTime(timezone=True)),
)

sync_state = Table(
    "sync_state",
    metadata,
    _client(),
    Column("source", Text, primary_key=True),  # "ledger" or "bank:<kind>:<path>" (paths are long)
    Column("last_attempt_at", DateTime(timezone=True)),
    Column("last_success_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("data_through", Date),  # newest date the source's data covers (bank staleness)
    Column("cursor", Text),  # JSON: incremental-sync bookmark of API sources
)

seen_files = Table(
    "seen_files",
    metadata,
    _client(),
    Column("source", Text, primary_key=True),  # the feed's name, which holds its folder path
    Column("file_hash", String(64), primary_key=True),
    Column("filename", Text, nullable=False),
    Column("status", String(16), nullable=False),  # "ok", "failed", "ignored"
    Column("detail", Text, nullable=False, default=""),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    # The file's stat when read (connector.sources.known): the same name and stat the next night means it is
    # not opened. Null when not to be trusted (read within the racy window, a link) or from before v17.
    Column("st_size", BigInteger),
    Column("st_mtime_ns", BigInteger),
    Column("st_ino", BigInteger),  # folded to signed 64 bits
)

decisions = Table(
    "decisions",
    metadata,
    _client(),
    Column("invoice_number", String(128), primary_key=True),
    Column("as_of", Date, nullable=False),
    Column("state", String(32), nullable=False),
    Column("action", String(32), nullable=False),
    Column("open_amount", Money, nullable=False),
    Column("holds", Text, nullable=False),  # JSON list
    Column("evidence", Text, nullable=False),  # JSON list
)


# ---- e-invoice document events (issue 3) ------------------------------------------------------
# Invoice Responses (T111), MLR/MLS and the SBDH envelopes of sent invoices. Upserted by natural key;
# ``invoice_number`` stays NULL (with ``detail`` saying why) until the referenced invoice is known.
document_events = Table(
    "document_events",
    metadata,
    _client(),
    Column("event_key", Text, primary_key=True),
    Column("kind", String(32), nullable=False),  # invoice_response, mlr, mls, envelope
    Column("code", String(8), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("issue_time", String(32)),
    Column("ref_id", String(255)),
    Column("ref_type_code", String(8)),
    Column("invoice_number", String(128)),
    Column("effective_date", Date),
    Column("reason_codes", Text, nullable=False, default="[]"),  # JSON list
    Column("action_codes", Text, nullable=False, default="[]"),  # JSON list
    Column("text", Text, nullable=False, default=""),
    Column("conditions", Text, nullable=False, default="[]"),  # JSON list of [BT id, value]
    Column("source_ref", Text),
    Column("detail", Text, nullable=False, default=""),
    # the events still waiting for their document are found by their index, and envelopes by the instance id
    # an MLR quotes: linking after each stored part never scans the client's events (v19)
    Index("ix_document_events_waiting", "client_id", "invoice_number"),
    Index("ix_document_events_ref", "client_id", "ref_id"),
)


# ---- collection: push intents and provider state (issue 7) ------------------------------------
# ``collection_ops`` is the write-ahead log of every call that changes something at an inkasso
# provider: the row is written (state "pending") before the request and settled after it, so a
# crash in between is resolved on the next run by asking the provider, never by sending blindly.
collection_ops = Table(
    "collection_ops",
    metadata,
    _client(),
    Column("op_key", Text, primary_key=True),  # "<case>|submit", "<case>|payment|<payment key>", …
    Column("case_id", String(200), nullable=False),
    Column("kind", String(16), nullable=False),  # submit, payment, credit, withdraw
    Column("provider", String(32), nullable=False),
    Column("idem_key", String(255), nullable=False),  # sent to the provider; changes only after a refusal
    Column("generation", Integer, nullable=False, default=0),
    Column("state", String(16), nullable=False),  # pending, done, failed, cancelled
    Column("amount", Money),
    Column("currency", String(3)),
    Column("provider_ref", String(255)),
    Column("detail", Text, nullable=False, default=""),  # JSON: what the op covered (e.g. allocations at push)
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # the run that claimed the pending op (connector.store.locks.RunId.key; v11): only it sends, and
    # another run resolves the op only once that run has stopped
    Column("claimed_by", Text),
)

# Provider-side state of a pushed case (active, paused, closed + close code), append-only: one row
# per observed change, so the history of what the provider reported is kept.
case_provider_states = Table(
    "case_provider_states",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(64), nullable=False),
    Column("case_id", String(200), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("status", String(32), nullable=False),  # normalised: pending_provider, active, paused, closed
    Column("close_code", String(64)),
    Column("raw_status", String(64), nullable=False, default=""),
    Column("remaining", Money),
    Column("observed_on", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

# Delta-pull bookmark per client and provider (Kravia lastUpdatedTime, Debitura dateUpdated).
collection_cursors = Table(
    "collection_cursors",
    metadata,
    _client(),
    Column("provider", String(32), primary_key=True),
    Column("cursor", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


# ---- dunning: exclusions and the business-register cache (issue 6) ------------------------------
exclusions = Table(
    "exclusions",
    metadata,
    _client(),
    Column("exclusion_id", String(128), primary_key=True),
    Column("invoice_number", String(128)),  # one of invoice_number / customer_id is set
    Column("customer_id", String(128)),
    Column("created_on", Date, nullable=False),
    Column("until", Date),  # the last day as given, inclusive; NULL: until ended
    Column("reason", Text, nullable=False),
    Column("ended_on", Date),  # ended by hand: dunning resumes that day (>= created_on); NULL: not ended
)

# Public register answers, shared by all clients (keyed by register + org no), with fetch time.
registry_cache = Table(
    "registry_cache",
    metadata,
    Column("register", String(16), primary_key=True),
    Column("org_no", String(32), primary_key=True),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("insolvent", Boolean, nullable=False, default=False),
    Column("status", String(32), nullable=False, default=""),
    Column("detail", Text, nullable=False, default=""),
    Column("name", Text),
)


# ---- dunning: send intents (issue 6, crash window) ----------------------------------------------
# Write-ahead log of every reminder / notice send: committed as ``pending`` before the channel is
# called, settled after (``sent`` together with the dunning step, ``failed`` when the channel refused).
# A ``pending`` row found later means "may have been sent": it is resolved, never blindly re-sent.
dunning_sends = Table(
    "dunning_sends",
    metadata,
    _client(),
    Column("invoice_number", String(128), primary_key=True),
    Column("step", String(32), primary_key=True),
    Column("sent_on", Date, primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # pending, sent, unconfirmed, failed
    Column("fee", Money, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("ref", Text, nullable=False, default=""),  # file name, Message-ID or the system's reminder id
    Column("last_error", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", Text),  # the run that claimed the pending send (as collection_ops.claimed_by; v11)
)


# ---- credit check: dated register answers (issue 21) --------------------------------------------
# The last definite answer (found / not found) of a public register about an org no, shared by all
# clients, with the day it was given; a failed lookup later only notes when and why (the answer stays).
credit_facts = Table(
    "credit_facts",
    metadata,
    Column("register", String(32), primary_key=True),  # enhetsregisteret, regnskapsregisteret
    Column("org_no", String(32), primary_key=True),
    Column("status", String(16), nullable=False),  # found / not_found
    Column("facts", Text),  # JSON (connector.credit.facts.facts_to_json); NULL when not found
    Column("detail", Text, nullable=False, default=""),
    Column("answered_on", Date, nullable=False),  # the day the register gave this answer
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    Column("failed_on", Date),  # the last day a lookup failed after this answer (NULL: none since)
    Column("failure", Text),  # why it failed (redacted by connector.http)
)

# One row per credit check of a client's customer and day (issue 21): the level and reasons as JSON
# (connector.credit.checks), why it was made, and the invoices it had seen. A second check the same
# day replaces the first; older days are kept (the history of a customer's risk).
credit_checks = Table(
    "credit_checks",
    metadata,
    _client(),
    Column("customer_id", String(128), primary_key=True),
    Column("checked_on", Date, primary_key=True),
    Column("org_no", String(32)),
    Column("level", String(8), nullable=False),  # low / watch / high
    Column("assessment", Text, nullable=False),  # JSON: RiskAssessment.as_json()
    Column("trigger", Text, nullable=False),
    Column("invoices_through", Date),
    Column("seen_last_day", Text, nullable=False, default="[]"),  # JSON list of invoice numbers
    Column("checked_at", DateTime(timezone=True), nullable=False),
)

# ---- the workbench's audit trail (issue 20) -------------------------------------------------------
# Append-only: one row per thing a person did (log in, approve, reject, undo), with who, when, from
# where. Nothing updates or deletes a row; connector.store.audit only inserts and reads.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(128), nullable=False),  # the workbench user, or "cli:<login>"
    Column("action", String(64), nullable=False),  # login, login_refused, logout, case.approve, …
    Column("client_id", String(64)),
    Column("subject", Text),  # what it was done to: a case id, an invoice number, …
    Column("detail", Text, nullable=False, default=""),
    Column("address", String(64)),  # the request's client address
    Index("ix_audit_client", "client_id", "at"),
)

# ---- files that do not read, and the accountant's checks (issue 14) -------------------------------
# The files the last sync of each source could not read or refused: replaced per source on every sync
# that reached the folder, so a file that now reads, was removed or belongs to a folder no longer read
# drops out. ``salvaged`` is what a recovery parse still found (JSON, connector.einvoice.salvage).
unreadable_files = Table(
    "unreadable_files",
    metadata,
    _client(),
    Column("source", Text, primary_key=True),  # the sync source: "ledger" or the bank feed's name
    Column("name", Text, primary_key=True),  # the file's name in its folder
    Column("role", String(16), nullable=False),  # ledger / bank
    Column("path", Text, nullable=False),
    Column("file_hash", String(128), nullable=False),
    Column("error", Text, nullable=False),
    Column("first_seen", Date, nullable=False),  # the first run that found this content unreadable
    Column("salvaged", Text),  # JSON; NULL when nothing could be read
    Column("seen_at", DateTime(timezone=True), nullable=False),
)

# Append-only: the accountant's quarantine and release of a file (``arsync files``), with who, when, why.
# A quarantine covers the file's content as it was (path + hash): a changed file is read afresh.
file_decisions = Table(
    "file_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(64), nullable=False),
    Column("path", Text, nullable=False),
    Column("file_hash", String(128), nullable=False),
    Column("action", String(16), nullable=False),  # quarantine / release
    Column("reason", Text, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("on_date", Date, nullable=False),  # the command's day (--as-of)
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

# Append-only: an invoice the accountant checked by hand (``arsync invoices confirm``): lifts invoice_defect,
# and partly_paid for the payments known then.
invoice_checks = Table(
    "invoice_checks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(64), nullable=False),
    Column("invoice_number", String(128), nullable=False),
    Column("checked_on", Date, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)


# ---- one run per client at a time (issue 13) -----------------------------------------------------
# The holder of a client's lock (connector.store.locks): on SQLite the row is the lock; on PostgreSQL an
# advisory lock is, and the row only says who holds it and since when.
client_locks = Table(
    "client_locks",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("owner", Text, nullable=False),  # RunId.key: pid@host#process start#token
    Column("pid", Integer, nullable=False),
    Column("host", Text, nullable=False),
    Column("command", String(64), nullable=False),
    Column("since", DateTime(timezone=True), nullable=False),
)


# ---- documents that contradict each other (issue 13) ---------------------------------------------
# A second document carrying a stored invoice number with other content: the first stays the invoice,
# the other is refused and kept here (its invoice row as JSON, so it can be adopted if the accountant
# quarantines the first). Open while ``resolved_at`` is NULL; the invoice is held meanwhile.
document_conflicts = Table(
    "document_conflicts",
    metadata,
    _client(),
    Column("kind", String(16), primary_key=True),
    Column("number", String(128), primary_key=True),
    Column("other_ref", Text, primary_key=True),  # the refused document: file name or the ledger's id
    Column("kept_ref", Text),  # the document kept (the stored invoice's source_ref)
    Column("source", String(32), nullable=False),
    Column("differences", Text, nullable=False),  # "amount 1000.00 / 1200.00; customer c1 / c2"
    Column("other", Text, nullable=False),  # JSON: the refused version's invoice row
    Column("found_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolution", Text),
)

# ---- letters and calls (issue 15) -------------------------------------------------------------------
# One row per letter arsync wrote to a debtor (reminder, collection notice, handover, follow-up, statement),
# with the invoices it named. Written ahead as ``pending`` before the channel is called and settled after
# (``sent`` / ``unconfirmed`` / ``failed``), like dunning_sends; ``cancelled`` when the accountant voided an
# outbox letter before it was posted. ``content`` is the letter as data (connector.letters.serial), so its
# PDF can be made again after the files left the outbox.
letters = Table(
    "letters",
    metadata,
    _client(),
    Column("letter_id", String(200), primary_key=True),  # our reference ("Vår ref."), unique per client
    Column("kind", String(32), nullable=False),  # reminder, collection_notice, collection_case, follow_up, statement
    Column("customer_id", String(128), nullable=False),
    Column("sent_on", Date, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # pending, sent, unconfirmed, failed, cancelled
    Column("invoices", Text, nullable=False),  # JSON list of invoice numbers
    Column("currency", String(3), nullable=False),
    Column("total", Money, nullable=False),  # what the letter asks for (or the statement's balance)
    Column("fee", Money, nullable=False),  # the fee the letter charged
    Column("pay_by", Date),
    Column("about", String(200)),  # follow_up: the agreement (plan) it confirms; collection_case: the case
    Column("stem", Text, nullable=False),  # the start of the outbox file names (and of the e-mail's Message-ID)
    Column("ref", Text, nullable=False, default=""),  # the PDF's file name or the Message-ID, once sent
    Column("content", Text, nullable=False),  # JSON: the letter's content
    Column("last_error", Text),
    Column("cancelled_on", Date),
    Column("cancelled_by", String(128)),
    Column("cancel_note", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", Text),  # the run writing or resolving it (RunId.key), as on dunning_sends
    Index("ix_letters_sent", "client_id", "sent_on"),
)

# Append-only: every call to a customer as the accountant logged it (``arsync calls log``).
calls = Table(
    "calls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(64), nullable=False),
    Column("call_id", String(64), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("called_on", Date, nullable=False),
    Column("outcome", String(16), nullable=False),  # promise, instalments, dispute, no_answer, wrong_number
    Column("phone", String(64), nullable=False, default=""),
    Column("contact", Text, nullable=False, default=""),
    Column("promise_date", Date),
    Column("instalment_dates", Text, nullable=False, default="[]"),  # JSON list of ISO dates
    Column("reason", Text, nullable=False, default=""),
    Column("notes", Text, nullable=False, default=""),
    Column("invoices", Text, nullable=False, default="[]"),  # JSON list of invoice numbers
    Column("agreement_id", String(128)),
    Column("actor", String(128), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("client_id", "call_id", name="uq_call_id"),
    Index("ix_calls_customer", "client_id", "customer_id"),
)

# Append-only: each promised date of an agreement, checked against the bank the day after (+ grace): kept,
# or broken (dunning resumes; the accountant is told once).
agreement_checks = Table(
    "agreement_checks",
    metadata,
    _client(),
    Column("agreement_id", String(128), primary_key=True),  # the plan id, or the agreement's own id
    Column("due_on", Date, primary_key=True),
    Column("outcome", String(16), nullable=False),  # kept / broken
    Column("noted_on", Date, nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
