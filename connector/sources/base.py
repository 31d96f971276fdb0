"""The two source interfaces every ledger system and bank format implements.

A source reads its wire format and returns canonical records; it knows nothing about dunning and
never writes to the store (the pipeline stores a batch in one transaction, so a failing source
leaves the previous good state). Problems with single records go into ``errors`` (file or record
named) and the rest of the batch still counts; an exception means the whole source failed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from connector.config import ClientConfig
from connector.model import Attachment, Customer, Dispute, DocumentEvent, DunningStep, Invoice, Payment, Salvaged
from connector.sources.known import FileStat, KnownStats


@dataclass(frozen=True)
class SyncContext:
    client: ClientConfig
    as_of: date
    now: datetime
    seen_files: frozenset[str] = frozenset()  # content hashes already read (folder inboxes)
    known_stats: KnownStats = frozenset()  # their stats when read: unchanged ones are not opened (sources.known)
    cursor: dict[str, Any] | None = None  # bookmark from the last successful sync (API sources)


@dataclass(frozen=True)
class FileResult:
    """What became of one file in an inbox folder."""

    name: str
    file_hash: str
    status: str  # "ok", "failed", "ignored"
    detail: str = ""
    salvaged: Salvaged | None = None  # a failed ledger file: what a recovery parse still read of it
    stat: FileStat | None = None  # its stat when read, if it can be trusted the next night (sources.known)


@dataclass(frozen=True)
class KnownAgain:
    """A file read again whose content was already known (its stat had changed, e.g. touched, renamed, or
    copied back): nothing new, only its name and current stat are recorded, so the next night skips it."""

    name: str
    file_hash: str
    stat: FileStat


@dataclass(frozen=True)
class Snapshot:
    """A batch that lists every document of ``source`` issued on or after ``since`` (None: ever)."""

    source: str
    since: date | None = None


@dataclass
class LedgerBatch:
    customers: list[Customer] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)  # payments booked in the ledger
    attachments: list[Attachment] = field(default_factory=list)
    steps: list[DunningStep] = field(default_factory=list)  # reminders already sent, found in the source
    disputes: list[Dispute] = field(default_factory=list)  # e.g. from Invoice Responses
    files: list[FileResult] = field(default_factory=list)
    known_again: list[KnownAgain] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cursor: dict[str, Any] | None = None
    document_events: list[DocumentEvent] = field(default_factory=list)  # e-invoice responses/envelopes
    # Set by a full re-sync of an API ledger: stored invoices of that source and window missing from
    # ``invoices`` disappeared upstream (deleted, reversed) and are closed (ledger_open_amount = 0).
    complete_snapshot: Snapshot | None = None


def merged(parts: Iterable[LedgerBatch]) -> LedgerBatch:
    """Batches read part by part (``InParts``) as one: lists joined in order, one customer per id (the
    last part's, in first-seen order)."""
    out = LedgerBatch()
    customers: dict[str, Customer] = {}
    for part in parts:
        for c in part.customers:
            customers[c.customer_id] = c
        out.invoices += part.invoices
        out.payments += part.payments
        out.attachments += part.attachments
        out.steps += part.steps
        out.disputes += part.disputes
        out.files += part.files
        out.known_again += part.known_again
        out.errors += part.errors
        out.document_events += part.document_events
        out.cursor = part.cursor if part.cursor is not None else out.cursor
        out.complete_snapshot = part.complete_snapshot or out.complete_snapshot
    out.customers = list(customers.values())
    return out


@runtime_checkable
class InParts(Protocol):
    """A source whose data can be stored while it is read (a drop folder of documents or bank files): the
    sync takes one part at a time inside its transaction instead of holding the whole source (issue 18)."""

    name: str

    def parts(self, ctx: SyncContext) -> Iterable[LedgerBatch] | Iterable[PaymentBatch]: ...


@dataclass
class Parts:
    """A source's parts, not read yet: read one at a time by the sync, in its transaction. Parts given as
    ``Jobs`` (independent of each other) may be read by helper processes side by side (connector.forked)."""

    parts: Iterable[LedgerBatch] | Iterable[PaymentBatch]


@dataclass
class PaymentBatch:
    payments: list[Payment] = field(default_factory=list)
    data_through: date | None = None  # newest date the bank data covers (statement/notification date)
    accounts_through: dict[str, date] = field(default_factory=dict)  # the same, per creditor account
    files: list[FileResult] = field(default_factory=list)
    known_again: list[KnownAgain] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LedgerBooking:
    """A reminder fee or late interest a letter charged, to be booked into the client's ledger."""

    reference: str  # unique per charge: the ledger's duplicate check, and how it is found again
    on: date
    customer_id: str  # the customer as the ledger source names it
    invoice_number: str
    account: str  # the income account (number in the client's chart)
    amount: Decimal
    currency: str
    text: str


class LedgerBooker(Protocol):
    """A ledger whose API can book a charge exactly once (issue 16): it finds a booking again by its
    reference, so an interrupted booking is looked for before it is ever made again."""

    def book(self, booking: LedgerBooking) -> str:
        """Book it; returns the ledger's id for the booking."""
        ...

    def find_booking(self, booking: LedgerBooking) -> str | None:
        """The ledger's id of the booking with this reference, or None."""
        ...


class LedgerSource(Protocol):
    name: str  # key in sync_state, e.g. "ledger"

    def fetch(self, ctx: SyncContext) -> LedgerBatch: ...


class PaymentFeed(Protocol):
    name: str  # key in sync_state, e.g. "bank:camt:/path"

    def fetch(self, ctx: SyncContext) -> PaymentBatch: ...


MAX_FILE_BYTES = 50 * 1024 * 1024  # hostile-input bound for one inbox file


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def already_read(
    ctx: SyncContext, known_again: list[KnownAgain], name: str, digest: str, stat: FileStat | None
) -> bool:
    """Whether a file just read (and hashed) has content read before: then it is skipped, as ever, and its
    trusted stat (``connector.sources.known.settled``) is kept so that the next night need not open it."""
    if digest not in ctx.seen_files:
        return False
    if stat is not None:
        known_again.append(KnownAgain(name, digest, stat))
    return True


def inbox_files(folder: Path, suffixes: tuple[str, ...]) -> Iterator[Path]:
    """Files of a drop folder in a stable order (by name), skipping hidden and partial files."""
    for name in inbox_names(folder, suffixes):
        yield folder / name


def inbox_names(folder: Path, suffixes: tuple[str, ...]) -> list[str]:
    """The names of ``inbox_files``, in the same order (no Path object per file)."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: folder not found")
    # scandir knows each entry's type without a stat per file; normcase orders names as Paths sort.
    with os.scandir(folder) as entries:
        names = [
            e.name
            for e in entries
            if not e.name.startswith(".") and os.path.splitext(e.name)[1].lower() in suffixes and e.is_file()
        ]
    return sorted(names, key=os.path.normcase)
