"""Payment feeds over drop folders: the bank (or the client's bank integration) writes files there."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import os
from collections.abc import Generator, Iterable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, NamedTuple

from connector.accounts import account_key
from connector.amounts import DEFAULT_MAX_AMOUNT
from connector.bank.camt import CamtError, CamtHeader, iter_camt
from connector.bank.ocr import OcrError, read_ocr
from connector.files import LinkLeavesFolder, resolve_in_folder
from connector.gcpause import gc_paused
from connector.model import Payment
from connector.sources.base import (
    MAX_FILE_BYTES,
    FileResult,
    KnownAgain,
    PaymentBatch,
    SyncContext,
    already_read,
    inbox_files,
)
from connector.sources.known import FileStat, settled, stat_of, unchanged

# camt is streamed, so a bigger file is fine; OCR files are read whole (they are small in practice).
MAX_CAMT_BYTES = 2 * 1024 * 1024 * 1024


class FileRead(NamedTuple):
    """What one bank file gave: its payments, a detail line, the dates it covers, per account too,
    and the records it refused (one line each, file and record named)."""

    payments: list[Payment]
    detail: str
    dates: list[date]
    accounts: dict[str, date]  # creditor account → newest date the file covers for it
    refused: tuple[str, ...] = ()


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _FolderFeed:
    suffixes: tuple[str, ...] = ()
    limit = MAX_FILE_BYTES
    kind = ""

    def __init__(self, folder: Path, account: str | None = None):
        self.folder = folder
        self.account = account_key(account) if account else None  # the IBAN and the domestic number are one
        self.name = f"bank:{self.kind}:{folder}"

    def read(self, path: Path, name: str, client_id: str = "", max_amount: Decimal = DEFAULT_MAX_AMOUNT) -> FileRead:
        raise NotImplementedError

    def fetch(self, ctx: SyncContext) -> PaymentBatch:
        """The whole folder as one batch (the sync reads it in ``parts`` instead)."""
        return merged_payments(self.parts(ctx))

    def parts(self, ctx: SyncContext) -> Iterator[PaymentBatch]:
        """The folder's payments a file at a time (a very large file in parts of ``PART_PAYMENTS``): the
        sync stores each part inside its one transaction as it is read, so a folder, or one file, of a
        million payments is never held whole. The last part says what the files cover (``data_through``,
        ``accounts_through``). The folder is listed now (one that is not there fails the feed here)."""
        return self._parts(ctx, list(inbox_files(self.folder, self.suffixes)))

    def _parts(self, ctx: SyncContext, entries: list[Path]) -> Iterator[PaymentBatch]:
        cover = PaymentBatch()  # what the files read cover: dates, per account
        for entry in entries:
            yield from self._file(ctx, entry.name, cover)
        _only_live_accounts(cover, ctx)
        yield cover

    def _file(self, ctx: SyncContext, name: str, cover: PaymentBatch) -> Iterator[PaymentBatch]:
        """One file's parts; ``name`` is what the messages and the store call it, even behind a link."""
        stat = stat_of(os.fspath(self.folder), name)
        if unchanged(ctx.known_stats, name, stat):
            return  # read before and untouched since: not opened (connector.sources.known)
        try:
            path = Path(resolve_in_folder(self.folder, name))
        except LinkLeavesFolder as exc:
            # Never read (it could be any file on the machine), and held as an unreadable bank
            # file is: it might be the statement that settles an invoice.
            yield _failed(name, f"link:{name}", str(exc))
            return
        try:
            size = path.stat().st_size
            if size > self.limit:
                # Not read, and held as an unreadable bank file is: it might hold the payment of an invoice.
                yield _failed(name, f"size:{size}:{name}", f"{name}: larger than {self.limit} bytes, skipped")
                return
            digest = _hash_file(path)
        except FileNotFoundError:
            return  # removed since the folder was listed: as if it had not been there
        except OSError as exc:  # e.g. no permission: held as an unreadable bank file, the others go on
            yield _failed(name, f"unopened:{name}", f"{name}: could not be opened ({exc.strerror or exc})")
            return
        stat = settled(stat)
        known_again: list[KnownAgain] = []
        if already_read(ctx, known_again, name, digest, stat):
            yield PaymentBatch(known_again=known_again)
            return
        try:
            if size > PART_BYTES and isinstance(self, CamtFolderFeed):
                read, paid = yield from self._in_parts(ctx, path, name)
            else:
                with gc_paused():  # a big file is a million small acyclic objects (connector.gcpause)
                    read = self.read(path, name, ctx.client.id, ctx.client.limits.max_amount)
                    payments = self._own(ctx, read.payments)
                paid = _coverage(payments)
                yield PaymentBatch(payments=payments)
        except ChangedWhileRead:
            raise  # its payments read so far are in the sync's transaction: undo it (the next run reads it again)
        except (CamtError, OcrError) as exc:
            yield _failed(name, digest, str(exc), stat)
            return
        except Exception as exc:  # a reader bug on one file must not stop the folder, nor go unnamed
            yield _failed(name, digest, f"{name}: could not be read ({exc.__class__.__name__}: {exc})", stat)
            return
        _cover(cover, read, paid, self.account)
        if read.refused:
            # The refused record may be the payment that settles an invoice: the file counts as unread
            # (bank_data_stale, naming it) until it is corrected or removed; its other records are kept.
            more = f" (and {len(read.refused) - 1} more)" if len(read.refused) > 1 else ""
            failed = FileResult(name, digest, "failed", f"{read.refused[0]}{more}", stat=stat)
            yield PaymentBatch(files=[failed], errors=list(read.refused))
            return
        yield PaymentBatch(files=[FileResult(name, digest, "ok", read.detail, stat=stat)])

    def _mine(self, payments: Iterable[Payment]) -> Iterator[Payment]:
        """The payments to this feed's account (all, without one)."""
        return (p for p in payments if not self.account or account_key(p.account) == self.account)

    def _own(self, ctx: SyncContext, payments: Iterable[Payment]) -> list[Payment]:
        """The payments to this feed's account, as the client's."""
        client_id = ctx.client.id
        return [
            p if p.client_id == client_id else dataclasses.replace(p, client_id=client_id) for p in self._mine(payments)
        ]

    def _in_parts(
        self, ctx: SyncContext, path: Path, name: str
    ) -> Generator[PaymentBatch, None, tuple[FileRead, Coverage]]:
        """A camt file too large to hold, read twice: once to the end to know it reads (a file that breaks
        off keeps none of its payments, as one read whole) and what its payments cover; then again, its
        payments handed on ``PART_PAYMENTS`` at a time. Both passes read one open file (a file replaced
        meanwhile by a rename is read as it was); one rewritten in place between them raises
        ``ChangedWhileRead``. Returns the file's header (no payments) and what its payments cover."""
        client_id, max_amount = ctx.client.id, ctx.client.limits.max_amount
        head = CamtHeader()
        with path.open("rb") as fh:
            before = _version(fh)
            with gc_paused():
                paid = _coverage(self._mine(iter_camt(fh, name, head, client_id, max_amount)))
            fh.seek(0)
            again = iter_camt(fh, name, CamtHeader(), client_id, max_amount)
            try:
                while True:
                    with gc_paused():
                        part = self._own(ctx, itertools.islice(again, PART_PAYMENTS))
                    if not part:
                        break
                    yield PaymentBatch(payments=part)
            except Exception as exc:  # it read to its end a moment ago: it changed
                raise ChangedWhileRead(f"{name}: changed while it was read ({exc}); read again next run") from exc
            if _version(fh) != before:
                raise ChangedWhileRead(f"{name}: changed while it was read; read again next run")
        return camt_read(head, []), paid


class ChangedWhileRead(Exception):
    """A bank file read in parts changed between its two passes: some of its payments are already in the
    sync's transaction, so the sync is undone (not caught per file) and the next run reads it again."""


def _version(fh: IO[bytes]) -> tuple[int, int]:
    st = os.fstat(fh.fileno())
    return st.st_size, st.st_mtime_ns


PART_BYTES = 64 * 1024 * 1024  # a camt file larger than this is read in parts (≈ 180,000 payments)
PART_PAYMENTS = 20_000


def _failed(name: str, digest: str, reason: str, stat: FileStat | None = None) -> PaymentBatch:
    return PaymentBatch(files=[FileResult(name, digest, "failed", reason, stat=stat)], errors=[reason])


# What payments cover: the newest booking date, and per creditor account the newest.
Coverage = tuple[date | None, dict[str, date]]


def _coverage(payments: Iterable[Payment]) -> Coverage:
    newest: date | None = None
    accounts: dict[str, date] = {}
    for p in payments:
        on, account = p.booking_date, account_key(p.account)
        newest = on if newest is None or on > newest else newest
        if account and (account not in accounts or on > accounts[account]):
            accounts[account] = on
    return newest, accounts


def _cover(cover: PaymentBatch, read: FileRead, paid: Coverage, only: str | None) -> None:
    """Add what a file read covers to ``cover``: its header's date (a statement covers its day even with no
    entries) and its payments'; per account, the header's accounts and the payments', to ``only`` if given."""
    newest, accounts = paid
    dates = [*read.dates, *([newest] if newest else [])]
    covered = {account_key(a): d for a, d in read.accounts.items()}
    add_cover(cover, max(dates) if dates else None, {a: d for a, d in covered.items() if not only or a == only})
    add_cover(cover, None, accounts)


def add_cover(cover: PaymentBatch, data_through: date | None, accounts: dict[str, date]) -> None:
    """Widen ``cover`` to a date (and, per account, a date) some data covers: the newest of each counts."""
    if data_through is not None:
        cover.data_through = max(cover.data_through, data_through) if cover.data_through else data_through
    for account, through in accounts.items():
        seen = cover.accounts_through.get(account)
        cover.accounts_through[account] = through if seen is None else max(seen, through)


def merged_payments(parts: Iterable[PaymentBatch]) -> PaymentBatch:
    """A feed's parts as one batch: payments, files and errors in order, the newest coverage."""
    out = PaymentBatch()
    for part in parts:
        out.payments += part.payments
        out.files += part.files
        out.known_again += part.known_again
        out.errors += part.errors
        add_cover(out, part.data_through, part.accounts_through)
    return out


def _only_live_accounts(batch: PaymentBatch, ctx: SyncContext) -> None:
    """Per-account coverage (→ a per-account bank_data_stale hold once it ages) is recorded for the
    client's configured accounts, and for any other account only when its data was fresh as of the run:
    an old statement of an account nobody configured (a closed account, a savings account, another
    company's file) proves no account is in use and must not hold the client's dunning for ever.
    An account in use whose files stop coming was recorded while they came, so it still holds."""
    configured = {account_key(b.account) for b in ctx.client.bank if b.account}
    fresh_from = ctx.as_of - timedelta(days=ctx.client.policy.bank_max_age_days)
    for account in [a for a, through in batch.accounts_through.items() if through < fresh_from]:
        if account not in configured:
            del batch.accounts_through[account]


class CamtFolderFeed(_FolderFeed):
    suffixes = (".xml",)
    limit = MAX_CAMT_BYTES
    kind = "camt"

    def read(self, path: Path, name: str, client_id: str = "", max_amount: Decimal = DEFAULT_MAX_AMOUNT) -> FileRead:
        head = CamtHeader()
        # streamed: only the payments stay in memory
        return camt_read(head, list(iter_camt(path, name, head, client_id, max_amount)))


def camt_read(head: CamtHeader, payments: list[Payment]) -> FileRead:
    """What a camt file read to its end gave, from its header and its payments."""
    dates = [head.created] if head.created else []
    # A statement/notification covers its account up to its creation date, even with no entries.
    accounts = {a: head.created for a in head.accounts if a and head.created}
    return FileRead(payments, f"{head.message}.{head.version}", dates, accounts, tuple(head.refused))


class OcrFolderFeed(_FolderFeed):
    suffixes = (".txt", ".ocr", ".dat")
    kind = "ocr"

    def read(self, path: Path, name: str, client_id: str = "", max_amount: Decimal = DEFAULT_MAX_AMOUNT) -> FileRead:
        ocr = read_ocr(path.read_bytes(), name, max_amount)
        return FileRead(list(ocr.payments), f"OCR giro transmission {ocr.transmission}", [], {}, ocr.refused)
