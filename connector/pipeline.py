"""The nightly job, per client: sync → resolve interrupted sends → decide once → act. Only this module
knows the order.

One client's failure is logged and isolated; the others still run. Sync reads every source first
and writes everything in one transaction, so a crash or a bad source never leaves a half-written
ledger. Actions are facts recorded with the day they happened, so a second run the same day finds
them and sends nothing twice.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from connector import interrupt
from connector.actions.act import act_client
from connector.actions.collection import Afresh, run_collection
from connector.actions.credit import CreditLookups, ReadMatched, check_credit
from connector.actions.follow_up import tell_broken_agreements
from connector.actions.registry import refresh as refresh_registry
from connector.actions.resolve import resolve_pending
from connector.bank.feed import CamtFolderFeed, OcrFolderFeed, add_cover
from connector.channels.base import Channel
from connector.concurrency import ReadAhead, read_ahead
from connector.config import ClientConfig, ConfigError, Settings, missing_secrets, missing_secrets_message
from connector.engine.afresh import invoices_afresh
from connector.engine.decisions import decide_night
from connector.engine.slices import Slice, SlicedRun
from connector.errors import ClientLocked
from connector.forked import HelperFailed, Jobs, in_helpers, processes_now
from connector.http import Timeouts, client_budget, redact
from connector.model import Decision, FileRole, Hold, InvoiceAfresh, RegistryFact, UnreadableFile
from connector.reports.run import ClientReport, log_broken_agreements
from connector.sources.base import (
    FileResult,
    InParts,
    LedgerBatch,
    LedgerSource,
    Parts,
    PaymentBatch,
    PaymentFeed,
    SyncContext,
)
from connector.sources.ehf import EhfFolderSource
from connector.sources.known import stat_key
from connector.sources.systems import API_LEDGERS, api_ledger, end_api_sessions
from connector.store import Store
from connector.store import files as files_store
from connector.store.conflicts import resolve_removed, store_invoices
from connector.store.decisions import save_decisions
from connector.store.disputes import add_dispute
from connector.store.documents import settle_events
from connector.store.documents import store_events as store_document_events
from connector.store.ledger import (
    StoredCustomers,
    close_missing_invoices,
    load_customers,
    upsert_attachments,
    upsert_customers,
)
from connector.store.payments import upsert_payments
from connector.store.sends import record_steps
from connector.store.sync import files_read, mark_files, mark_known_again, record_sync, sync_status

log = logging.getLogger("arsync")

# Told where each client is: (client id, stage) with stage "sync", "decide", "act" or "done".
Progress = Callable[[str, str], None]


# ---- before anything runs ----------------------------------------------------------------------


# ---- sources ------------------------------------------------------------------------------------


def ledger_source(client: ClientConfig) -> LedgerSource:
    if client.ledger.kind == "ehf":
        assert client.ledger.path is not None
        return EhfFolderSource(client.ledger.path)
    if client.ledger.kind in API_LEDGERS:  # tripletex, fiken, poweroffice, economic
        return api_ledger(client)
    raise ConfigError([f"client '{client.id}': ledger kind '{client.ledger.kind}' is not supported yet"])


def _feeds(client: ClientConfig) -> list[PaymentFeed]:
    feeds: list[PaymentFeed] = []
    for bank in client.bank:
        if bank.kind == "camt":
            feeds.append(CamtFolderFeed(bank.path, bank.account))
        elif bank.kind == "ocr":
            feeds.append(OcrFolderFeed(bank.path, bank.account))
        else:
            raise ConfigError([f"client '{client.id}': bank kind '{bank.kind}' is not supported yet"])
    return feeds


@dataclass
class Fetched:
    """What one client's sources returned, not yet stored: the batches, and the sources that failed."""

    batches: list[tuple[Any, LedgerBatch | PaymentBatch | Parts]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source name, why)


def sync_client(store: Store, client: ClientConfig, as_of: date, report: ClientReport) -> None:
    """Read every source, then store all of it in one transaction (or nothing at all)."""
    store_fetched(store, client, as_of, fetch_client(store, client, as_of, report), report)


def fetch_client(store: Store, client: ClientConfig, as_of: date, report: ClientReport) -> Fetched:
    """Read every source of one client; only reads the store, so many clients may fetch at once."""
    # Every API session made for this client shares its [http] timeouts and one deadline.
    http = client.http
    with client_budget(Timeouts(http.connect_timeout, http.read_timeout, http.client_deadline)):
        return _fetch_client(store, client, as_of, report)


def _fetch_client(store: Store, client: ClientConfig, as_of: date, report: ClientReport) -> Fetched:
    now = store.now()  # the run's one clock (connector.clock), as for everything the store stamps
    out = Fetched()
    sources: list[tuple[Any, str]] = [(f, "bank") for f in _feeds(client)]
    try:
        missing = missing_secrets(client, "ledger.")
        if missing:  # name every one, not the first the source happens to read
            raise ConfigError([missing_secrets_message(missing)])
        sources.insert(0, (ledger_source(client), "ledger"))
    except Exception as exc:  # a secret not set, a bad setting: this client's ledger fails, the run goes on
        out.failed.append(("ledger", _describe(exc)))
        report.fail(f"ledger: {_describe(exc)}")
    quarantined = _quarantined(store.read(files_store.quarantined_now, client.id))
    for source, _role in sources:
        status = store.read(sync_status, client.id).get(source.name)
        read_before = store.read(files_read, client.id, source.name, stat_key)
        ctx = SyncContext(
            client=client,
            as_of=as_of,
            now=now,
            seen_files=read_before.hashes,
            known_stats=read_before.stats,
            cursor=status.cursor if status else None,
        )
        try:
            if isinstance(source, InParts):  # read while it is stored (store_fetched), never held whole
                out.batches.append((source, Parts(source.parts(ctx))))
                continue
            batch = source.fetch(ctx)
        except Exception as exc:  # a source failing fails this client, never the run
            out.failed.append((source.name, _describe(exc)))
            report.fail(f"{source.name}: {_describe(exc)}")
            continue
        _note_errors(report, source, batch, quarantined)
        out.batches.append((source, batch))
    return out


class SyncStopped(Exception):
    """The operator asked to stop while a sync was being stored part by part: its transaction is undone."""


_STOPPED = "a stop was asked for before the sync was stored whole"


def _quarantined(decisions: Iterable[files_store.FileDecision]) -> set[tuple[str, str]]:
    return {(d.path, d.file_hash) for d in decisions}


def _note_errors(
    report: ClientReport, source: Any, batch: LedgerBatch | PaymentBatch, quarantined: set[tuple[str, str]]
) -> None:
    """A source's bad files and records: one warning line each in the report and the log. A file the
    accountant quarantined is still read (it may be fixed) but no longer warned about every night."""
    quiet = {f.detail for f in batch.files if f.status == "failed" and (_path(source, f), f.file_hash) in quarantined}
    for e in batch.errors:
        if e in quiet:
            log.info("client %s: %s: %s (quarantined)", report.client_id, source.name, e)
            continue
        report.warnings.append(f"{source.name}: {e}")
        log.warning("client %s: %s: %s", report.client_id, source.name, e)


def fetch_ahead(
    store: Store, clients: Iterable[ClientConfig], as_of: date, workers: int = 1
) -> ReadAhead[ClientConfig, tuple[ClientReport, Fetched]]:
    """Each client with its fetch, in the clients' order, while up to ``workers`` clients fetch at once.

    Fetching is I/O-bound (HTTP latency, rate-limit waits), so threads overlap it; the caller stores
    each result itself, one client after another (SQLite has one writer, and each client's sync stays
    one transaction). A fetch's error is re-raised by ``future.result()``, so it fails only its client.
    """

    def step(client: ClientConfig) -> tuple[ClientReport, Fetched]:
        report = ClientReport(client.id)
        return report, fetch_client(store, client, as_of, report)

    return read_ahead(step, clients, workers)


def store_fetched(
    store: Store,
    client: ClientConfig,
    as_of: date,
    fetched: Fetched,
    report: ClientReport,
    quiesce: Callable[[], bool] | None = None,
) -> None:
    """Store one client's fetch in one transaction; on any error nothing of it is kept. A source read in
    independent parts is read by helper processes side by side if no other thread is busy (``quiesce``
    idles the run's fetch threads), while this process stores each part in order."""
    failed = fetched.failed
    fetched_batches = fetched.batches
    at = store.now()  # one stamp for the one transaction
    try:
        with store.transaction() as conn:
            for source, batch in fetched_batches:
                # A file that could not be read may hold the payment or credit note that settles an
                # invoice: it is kept as unreadable (with what a recovery parse still read of it) and holds
                # what it could change until it reads or is quarantined (connector.dunning.unreadable); the
                # rest of the source's data counts. Every sync replaces the source's list.
                if isinstance(batch, Parts):
                    unread, cover = _store_parts(conn, client, source, batch, as_of, at, report, quiesce)
                    files_store.replace_unreadable(conn, client.id, source.name, unread, at=at)
                    if cover is None:  # a ledger
                        _ledger_stored(conn, client, None, at)
                        record_sync(conn, client.id, source.name, ok=True, data_through=as_of, at=at)
                    else:
                        _bank_stored(conn, client.id, source.name, cover, at)
                    continue
                role = FileRole.LEDGER if isinstance(batch, LedgerBatch) else FileRole.BANK
                unread = _unreadable(client.id, source, role, batch.files, as_of)
                files_store.replace_unreadable(conn, client.id, source.name, unread, at=at)
                if isinstance(batch, LedgerBatch):
                    _store_ledger(conn, client, batch, at, report)
                    _ledger_stored(conn, client, batch, at)
                    # The ledger is fresh as of the run's day (--as-of backfills and scenario runs included).
                    record_sync(conn, client.id, source.name, ok=True, cursor=batch.cursor, data_through=as_of, at=at)
                else:
                    upsert_payments(conn, batch.payments)
                    _bank_stored(conn, client.id, source.name, batch, at)
                mark_files(conn, client.id, source.name, batch.files, at=at)
                mark_known_again(conn, client.id, source.name, batch.known_again)
            for name, error in failed:
                record_sync(conn, client.id, name, ok=False, error=error, at=at)
            # Document events are linked once the whole sync is stored (its batches share this transaction):
            # a response and the invoice it answers may come in different batches or syncs.
            settle_events(conn, client.id)
    except Exception as exc:
        report.fail(f"storing the sync failed, previous state kept: {_describe(exc)}")
        for source, _batch in fetched_batches:
            store.write(record_sync, client.id, source.name, ok=False, error=_describe(exc), at=at)


def sync_clients(
    store: Store,
    clients: Iterable[ClientConfig],
    as_of: date,
    *,
    workers: int = 1,
    progress: Progress | None = None,
) -> Iterator[ClientReport]:
    """The sync stage alone (``arsync sync``): each client's report once its fetch is stored, in client order.

    A config error stops the command (it is the accountant's to fix); any other error fails its client only.
    """
    step = progress or _no_progress
    fetching = fetch_ahead(store, clients, as_of, workers)
    for client, fetch in fetching:
        if interrupt.requested():
            break
        step(client.id, "sync")
        report = ClientReport(client.id)
        try:
            report, fetched = fetch.result()
            with client_locked(store, client.id, "sync", report):
                store_fetched(store, client, as_of, fetched, report, fetching.settle)
        except ConfigError:
            raise
        except ClientLocked as exc:  # another run works on this client: its one line says who and since when
            report.fail(str(exc))
        except Exception as exc:
            log.info("client %s: sync failed", client.id, exc_info=True)  # the traceback, with -v
            report.fail(_describe(exc))
        step(client.id, "done")
        yield report
    end_sessions()


def end_sessions() -> None:
    """The API sessions a run (or a queue worker, when it stops) created do not outlive it (Tripletex
    session tokens are deleted)."""
    for line in end_api_sessions():
        log.warning(line)


def _unreadable(
    client_id: str, source: Any, role: FileRole, files: list[FileResult], as_of: date
) -> list[UnreadableFile]:
    """The files of a batch that could not be read, as the store keeps them (first seen today)."""
    return [
        UnreadableFile(
            client_id=client_id,
            source=source.name,
            role=role,
            path=_path(source, f),
            name=f.name,
            file_hash=f.file_hash,
            error=f.detail,
            first_seen=as_of,
            salvaged=f.salvaged,
        )
        for f in files
        if f.status == "failed"
    ]


def _path(source: Any, f: FileResult) -> str:
    """Where a source's file is (as quarantines name it): in its folder, if it reads one."""
    folder = getattr(source, "folder", None)
    return os.path.join(os.fspath(folder), f.name) if folder is not None else f.name


def _store_ledger(
    conn: Connection,
    client: ClientConfig,
    batch: LedgerBatch,
    at: datetime,
    report: ClientReport,
    customers: StoredCustomers | None = None,
) -> None:
    """``customers``: for a source stored in parts, the customers its earlier parts stored."""
    client_id = client.id
    upsert_customers(conn, batch.customers, customers)
    # a second document with a stored number and other content is refused and held, never a silent overwrite
    stored = store_invoices(conn, client_id, batch.invoices, at=at)
    for conflict in stored.conflicts:
        report.warnings.append(f"conflicting document: {conflict.describe()}; held ({Hold.CONFLICTING_DOCUMENT})")
    # a refused document's attachments (its own invoice copy) never join the kept invoice's
    upsert_attachments(conn, [a for a in batch.attachments if (a.invoice_number, a.source_ref) not in stored.refused])
    upsert_payments(conn, [replace(p, client_id=client_id) for p in batch.payments])
    record_steps(conn, batch.steps)
    for dispute in batch.disputes:
        add_dispute(conn, dispute)
    store_document_events(conn, client_id, batch.document_events, link=False)  # linked after the last batch


def _store_parts(
    conn: Connection,
    client: ClientConfig,
    source: Any,
    parts: Parts,
    as_of: date,
    at: datetime,
    report: ClientReport,
    quiesce: Callable[[], bool] | None = None,
) -> tuple[list[UnreadableFile], PaymentBatch | None]:
    """Store a source read part by part, each part as it is read; returns the files that did not read and,
    for a bank feed, what its files cover (None for a ledger).

    Stored in order, the parts end as one batch would (connector.store.conflicts: a number's first document
    is kept, a later one with other content is refused, whichever part it is in)."""
    quarantined = _quarantined(files_store.quarantined_now(conn, client.id))
    taken: Iterable[LedgerBatch | PaymentBatch] = parts.parts
    if isinstance(taken, Jobs) and len(taken.items) > 1:
        taken = in_helpers(taken, processes_now(quiesce=quiesce))
    reading: Iterator[LedgerBatch | PaymentBatch] = iter(taken)
    try:
        return _store_each(conn, client, source, reading, as_of, at, report, quarantined)
    except HelperFailed:
        if interrupt.requested():  # the stop reached the helpers too (systemd signals the whole unit)
            report.interrupted = True
            raise SyncStopped(_STOPPED) from None
        raise
    finally:  # a sync that failed or stopped: helpers reading ahead stop with it, open files close
        close = getattr(reading, "close", None)
        if close is not None:
            close()


def _store_each(
    conn: Connection,
    client: ClientConfig,
    source: Any,
    parts: Iterator[LedgerBatch | PaymentBatch],
    as_of: date,
    at: datetime,
    report: ClientReport,
    quarantined: set[tuple[str, str]],
) -> tuple[list[UnreadableFile], PaymentBatch | None]:
    unread: list[UnreadableFile] = []
    cover: PaymentBatch | None = None
    customers = StoredCustomers()
    for part in parts:
        if interrupt.requested():  # a first sync of a huge folder takes minutes: a stop need not wait for it
            report.interrupted = True
            raise SyncStopped(_STOPPED)
        _note_errors(report, source, part, quarantined)
        if isinstance(part, LedgerBatch):
            _store_ledger(conn, client, part, at, report, customers)
            role = FileRole.LEDGER
        else:
            upsert_payments(conn, part.payments)
            cover = cover or PaymentBatch()
            add_cover(cover, part.data_through, part.accounts_through)
            role = FileRole.BANK
        mark_files(conn, client.id, source.name, part.files, at=at)
        mark_known_again(conn, client.id, source.name, part.known_again)
        unread += _unreadable(client.id, source, role, part.files, as_of)
    return unread, cover


def _bank_stored(conn: Connection, client_id: str, source_name: str, cover: PaymentBatch, at: datetime) -> None:
    """A bank feed is fresh as of what its files cover, per account too."""
    record_sync(conn, client_id, source_name, ok=True, data_through=cover.data_through, at=at)
    for account, through in sorted(cover.accounts_through.items()):
        record_sync(conn, client_id, f"bank-account:{account}", ok=True, data_through=through, at=at)


def _ledger_stored(conn: Connection, client: ClientConfig, batch: LedgerBatch | None, at: datetime) -> None:
    """Once the whole ledger is stored: conflicts whose refused file is gone resolve, and a full re-sync of
    an API ledger closes what vanished upstream."""
    client_id = client.id
    if client.ledger.kind == "ehf" and client.ledger.path is not None:
        folder = client.ledger.path
        for line in resolve_removed(conn, client_id, lambda name: (folder / name).exists(), at=at):
            log.info("client %s: %s", client_id, line)
    if batch is not None and batch.complete_snapshot:  # a full re-sync: what vanished upstream is closed
        snap = batch.complete_snapshot
        present = {(str(i.kind), i.number) for i in batch.invoices}
        close_missing_invoices(conn, client_id, snap.source, present, snap.since)


def _describe(exc: BaseException) -> str:
    """The error text kept in sync_state and printed: never with a registered secret in it."""
    text = str(exc) or exc.__class__.__name__
    return redact(text.splitlines()[0] if isinstance(exc, ConfigError) else text)


# ---- resolve, decide once, act ------------------------------------------------------------------


def resolve(store: Store, client: ClientConfig, as_of: date, report: ClientReport) -> dict[str, Channel]:
    """Settle the sends a stopped run left (connector.actions.resolve) before deciding, so the steps found
    sent are decided with; returns the channels opened meanwhile, for the act stage to reuse."""
    channels: dict[str, Channel] = {}
    report.warnings.extend(resolve_pending(store, client, as_of, channels).warnings)
    return channels


def decide_once(
    store: Store,
    client: ClientConfig,
    as_of: date,
    report: ClientReport,
    quiesce: Callable[[], bool] | None = None,
) -> Collection[Decision]:
    """The night's one decision per invoice (connector.engine.decisions.decide_night): short payments after
    a complaint become disputes and the register is asked about debtors about to escalate, both added in
    memory; both are stored too, so later reads and runs see them."""

    def lookup(orgs: set[str]) -> list[RegistryFact]:
        return refresh_registry(client, store, orgs, as_of)  # stores what it fetched

    night = decide_night(store, client, as_of, lookup=lookup if client.registry.enabled else None, quiesce=quiesce)
    report.warnings.extend(f"{row.describe()}; skipped" for row in night.unreadable_rows)
    if night.flagged:
        with store.transaction() as conn:
            for dispute in night.flagged:
                add_dispute(conn, dispute)
    log_broken_agreements(client.id, night.decisions)
    return night.decisions


def push_approved(store: Store, client: ClientConfig, as_of: date, report: ClientReport) -> None:
    """``arsync cases push``: the collection step alone (connector.actions.collection): re-checked,
    crash-safe pushes of approved cases, then the provider status pull and the follow-up of direct
    payments, credits and closing."""
    run_collection(store, client, as_of, report, _afresh(store, client, as_of))


def _afresh(store: Store, client: ClientConfig, as_of: date) -> Afresh:
    """Invoices matched and decided afresh from the store: the collection push re-checks against them."""

    def afresh(numbers: Collection[str], *, decided: bool = True) -> dict[str, InvoiceAfresh]:
        return invoices_afresh(store, client, as_of, numbers, decided=decided)

    return afresh


def _matched(store: Store, client: ClientConfig) -> ReadMatched:
    """The client's facts matched, only the slices holding the customers asked for (the credit checks)."""

    def matched(customers: frozenset[str]) -> Iterator[Slice]:
        return iter(SlicedRun(store, client, customers=customers))

    return matched


def push_clients(store: Store, clients: Iterable[ClientConfig], as_of: date) -> Iterator[ClientReport]:
    """The collection step alone (``arsync cases push``), client by client; a config error stops the command,
    any other error fails its client only."""
    for client in clients:
        if interrupt.requested():
            break
        report = ClientReport(client.id)
        try:
            with client_locked(store, client.id, "cases push", report):
                push_approved(store, client, as_of, report)
        except ConfigError:
            raise
        except ClientLocked as exc:
            report.fail(str(exc))
        except Exception as exc:
            log.info("client %s: push failed", client.id, exc_info=True)  # the traceback, with -v
            report.fail(_describe(exc))
        yield report


# ---- the job -----------------------------------------------------------------------------------


@contextmanager
def client_locked(store: Store, client_id: str, command: str, report: ClientReport) -> Iterator[None]:
    """One arsync run per client (``connector.store.locks``): the client's lock held inside, so two runs (a
    cron ``run`` and a ``cases push`` by hand, two queue workers) never both send or push for one client.
    Raises ``ClientLocked`` (one line: who holds it, since when); a stale lock taken over is a warning."""
    with store.lock(client_id, command) as note:
        if note:
            report.warnings.append(note)
        yield


def run_client(
    store: Store,
    client: ClientConfig,
    as_of: date,
    *,
    sync: bool = True,
    act: bool = True,
    fetched: Future[tuple[ClientReport, Fetched]] | None = None,
    quiesce: Callable[[], bool] | None = None,
    lookups: CreditLookups | None = None,
    progress: Progress | None = None,
    locked: bool = False,
) -> ClientReport:
    """One client's whole night: sync → resolve interrupted sends → decide once → act (→ credit advice).

    ``arsync run`` calls it client after client (``fetched``: the fetch that ran ahead on a thread); a queue
    worker calls it once per job (``connector.queue``). From storing what was fetched to the last send it
    holds the client's lock (:func:`client_locked`), unless ``locked``: the caller holds it already (the
    queue job, which waits for it). Any error fails this client only: it is in the report (one line; the
    traceback with -v), never raised.
    """
    step = progress or _no_progress
    lookups = lookups if lookups is not None else CreditLookups()
    report = ClientReport(client.id)
    try:
        got = None
        if fetched is not None:
            step(client.id, "sync")
            report, got = fetched.result()  # a fetch that raised fails this client here
        with nullcontext() if locked else client_locked(store, client.id, "run" if act else "reconcile", report):
            if got is not None:
                store_fetched(store, client, as_of, got, report, quiesce)
                # stored: the parsed records are not kept (the future still holds ``got``) through decide and act
                got.batches.clear()
            elif sync:
                step(client.id, "sync")
                sync_client(store, client, as_of, report)
            acting = act and report.ok
            channels = resolve(store, client, as_of, report) if acting else {}
            step(client.id, "decide")
            report.decisions = decide_once(store, client, as_of, report, quiesce)
            report.customer_names = {c.customer_id: c.name for c in store.read(load_customers, client.id)}
            store.write(save_decisions, client.id, as_of, report.decisions)
            report.saved_decisions = len(report.decisions)
            if acting:
                step(client.id, "act")
                act_client(store, client, as_of, report.decisions, report, _afresh(store, client, as_of), channels)
                check_credit(
                    store, client, as_of, report, lookups, _matched(store, client)
                )  # advice only: never holds or sends
            else:  # reconcile: what an acting run would tell once, told without noting it
                tell_broken_agreements(store, client, report.decisions, report)
    except ClientLocked as exc:  # another run works on this client: one line, no traceback
        report.fail(str(exc))
    except Exception as exc:  # isolate: mark failed (one line), go on with the next client
        log.info("client %s failed", client.id, exc_info=True)  # the traceback, with -v
        report.fail(_describe(exc))
    step(client.id, "done")
    return report


def run(
    settings: Settings,
    store: Store,
    clients: Iterable[ClientConfig],
    as_of: date,
    *,
    sync: bool = True,
    act: bool = True,
    progress: Progress | None = None,
    workers: int = 1,
) -> list[ClientReport]:
    """Every client in order; with ``workers`` > 1 the next clients' sources are fetched meanwhile.

    Only the fetch runs ahead on threads: storing, deciding and acting stay here, one client after
    another, so output order, store writes and sends are exactly those of a sequential run. A stop asked
    for (``connector.interrupt``) lets the client in hand finish its current send and starts no other.
    """
    reports = []
    clients = list(clients)
    lookups = CreditLookups()  # register answers of this run: one lookup per org no, across clients
    fetching = fetch_ahead(store, clients, as_of, workers) if sync else None
    ahead: Iterable[tuple[ClientConfig, Future[tuple[ClientReport, Fetched]] | None]] = (
        fetching if fetching is not None else ((c, None) for c in clients)
    )
    # a very large client's slices may fork: the fetches running ahead finish first
    quiesce = fetching.settle if fetching is not None else None
    for client, fetch in ahead:
        if interrupt.requested():
            break
        reports.append(
            run_client(
                store,
                client,
                as_of,
                sync=False,
                act=act,
                fetched=fetch,
                quiesce=quiesce,
                lookups=lookups,
                progress=progress,
            )
        )
    end_sessions()
    return reports


def _no_progress(_client_id: str, _stage: str) -> None:
    return None
