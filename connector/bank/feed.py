"""Payment feeds over drop folders: the bank (or the client's bank integration) writes files there."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from connector.amounts import DEFAULT_MAX_AMOUNT
from connector.bank.camt import CamtError, CamtHeader, iter_camt
from connector.bank.ocr import OcrError, read_ocr
from connector.files import LinkLeavesFolder, resolve_in_folder
from connector.gcpause import gc_paused
from connector.model import Payment
from connector.sources.base import (
    MAX_FILE_BYTES,
    FileResult,
    PaymentBatch,
    SyncContext,
    already_read,
    inbox_files,
)
from connector.sources.known import settled, stat_of, unchanged

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
        self.account = account.replace(" ", "") if account else None
        self.name = f"bank:{self.kind}:{folder}"

    def read(self, path: Path, name: str, client_id: str = "", max_amount: Decimal = DEFAULT_MAX_AMOUNT) -> FileRead:
        raise NotImplementedError

    def fetch(self, ctx: SyncContext) -> PaymentBatch:
        with gc_paused():  # a big file is a million small acyclic objects (connector.gcpause)
            return self._fetch(ctx)

    def _fetch(self, ctx: SyncContext) -> PaymentBatch:
        batch = PaymentBatch()
        folder = os.fspath(self.folder)
        for entry in inbox_files(self.folder, self.suffixes):
            name = entry.name  # what the messages and the store call the file, even behind a link
            stat = stat_of(folder, name)
            if unchanged(ctx.known_stats, name, stat):
                continue  # read before and untouched since: not opened (connector.sources.known)
            try:
                path = Path(resolve_in_folder(self.folder, name))
            except LinkLeavesFolder as exc:
                # Never read (it could be any file on the machine), and held as an unreadable bank
                # file is: it might be the statement that settles an invoice.
                batch.errors.append(str(exc))
                batch.files.append(FileResult(name, f"link:{name}", "failed", str(exc)))
                continue
            size = path.stat().st_size
            if size > self.limit:
                # Not read, and held as an unreadable bank file is: it might hold the payment of an invoice.
                reason = f"{name}: larger than {self.limit} bytes, skipped"
                batch.errors.append(reason)
                batch.files.append(FileResult(name, f"size:{size}:{name}", "failed", reason))
                continue
            digest = _hash_file(path)
            stat = settled(stat)
            if already_read(ctx, batch.known_again, name, digest, stat):
                continue
            try:
                payments, detail, dates, accounts, refused = self.read(
                    path, name, ctx.client.id, ctx.client.limits.max_amount
                )
            except (CamtError, OcrError) as exc:
                batch.errors.append(str(exc))
                batch.files.append(FileResult(name, digest, "failed", str(exc), stat=stat))
                continue
            except Exception as exc:  # a reader bug on one file must not stop the folder, nor go unnamed
                reason = f"{name}: could not be read ({exc.__class__.__name__}: {exc})"
                batch.errors.append(reason)
                batch.files.append(FileResult(name, digest, "failed", reason, stat=stat))
                continue
            for p in payments:
                account = p.account.replace(" ", "")
                if self.account and account != self.account:
                    continue
                if p.client_id != ctx.client.id:
                    p = dataclasses.replace(p, client_id=ctx.client.id)
                batch.payments.append(p)
                dates.append(p.booking_date)
                if account:
                    accounts[account] = max(accounts.get(account, p.booking_date), p.booking_date)
            for account, through in accounts.items():
                if self.account and account != self.account:
                    continue
                seen = batch.accounts_through.get(account)
                batch.accounts_through[account] = through if seen is None else max(seen, through)
            if dates:
                newest = max(dates)
                batch.data_through = max(batch.data_through, newest) if batch.data_through else newest
            if refused:
                # The refused record may be the payment that settles an invoice: the file counts as
                # unread (bank_data_stale, naming it) until it is corrected or removed; its other
                # records are kept.
                batch.errors.extend(refused)
                more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
                batch.files.append(FileResult(name, digest, "failed", f"{refused[0]}{more}", stat=stat))
                continue
            batch.files.append(FileResult(name, digest, "ok", detail, stat=stat))
        _only_live_accounts(batch, ctx)
        return batch


def _only_live_accounts(batch: PaymentBatch, ctx: SyncContext) -> None:
    """Per-account coverage (→ a per-account bank_data_stale hold once it ages) is recorded for the
    client's configured accounts, and for any other account only when its data was fresh as of the run:
    an old statement of an account nobody configured (a closed account, a savings account, another
    company's file) proves no account is in use and must not hold the client's dunning for ever.
    An account in use whose files stop coming was recorded while they came, so it still holds."""
    configured = {b.account.replace(" ", "") for b in ctx.client.bank if b.account}
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
        payments = list(iter_camt(path, name, head, client_id, max_amount))
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
