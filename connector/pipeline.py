"""The nightly job, per client: sync → reconcile → decide → act. Only this module knows the order.

One client's failure is logged and isolated; the others still run. Sync reads every source first
and writes everything in one transaction, so a crash or a bad source never leaves a half-written
ledger. Actions are facts recorded with the day they happened, so a second run the same day finds
them and sends nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from operator import attrgetter
from typing import Any

from connector.bank.feed import CamtFolderFeed, OcrFolderFeed
from connector.channels.base import ChannelError
from connector.collection import providers as collection_providers
from connector.collection import workflow as collection_workflow
from connector.collection.base import CollectionProvider
from connector.concurrency import ReadAhead, read_ahead
from connector.config import ClientConfig, ConfigError, Settings
from connector.dunning import act as dunning_act
from connector.dunning import resolve as dunning_resolve
from connector.dunning.decide import decide, sort_decisions
from connector.dunning.flag import short_payment_disputes
from connector.http import Timeouts, client_budget, redact
from connector.model import Action, Case, CaseStatus, Decision, Dispute, DocKind, DunningStep
from connector.reconcile.slices import Slice, SlicedRun
from connector.registry import check as registry_check
from connector.sources.base import FileResult, LedgerBatch, LedgerSource, PaymentBatch, PaymentFeed, SyncContext
from connector.sources.ehf import EhfFolderSource
from connector.sources.systems import API_LEDGERS, api_ledger
from connector.store import Store
from connector.store.documents import store_events as store_document_events

log = logging.getLogger("arsync")


@dataclass
class ClientReport:
    client_id: str
    ok: bool = True
    errors: list[str] = field(default_factory=list)  # the client failed (a source, or a stage)
    warnings: list[str] = field(default_factory=list)  # single bad files/records; the run went on
    decisions: list[Decision] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)  # what the act stage did, one line each
    customer_names: dict[str, str] = field(default_factory=dict)

    def fail(self, message: str) -> None:
        self.ok = False
        self.errors.append(message)
        log.error("client %s: %s", self.client_id, message)


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

    batches: list[tuple[Any, LedgerBatch | PaymentBatch]] = field(default_factory=list)
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
    now = datetime.now(UTC)
    sources: list[tuple[Any, str]] = [(ledger_source(client), "ledger"), *((f, "bank") for f in _feeds(client))]
    out = Fetched()
    for source, _role in sources:
        status = store.sync_status(client.id).get(source.name)
        ctx = SyncContext(
            client=client,
            as_of=as_of,
            now=now,
            seen_files=frozenset(store.seen_hashes(client.id, source.name)),
            cursor=status.cursor if status else None,
        )
        try:
            batch = source.fetch(ctx)
        except Exception as exc:  # a source failing fails this client, never the run
            out.failed.append((source.name, _describe(exc)))
            report.fail(f"{source.name}: {_describe(exc)}")
            continue
        report.warnings.extend(f"{source.name}: {e}" for e in batch.errors)
        for e in batch.errors:
            log.warning("client %s: %s: %s", client.id, source.name, e)
        out.batches.append((source, batch))
    return out


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


def store_fetched(store: Store, client: ClientConfig, as_of: date, fetched: Fetched, report: ClientReport) -> None:
    """Store one client's fetch in one transaction; on any error nothing of it is kept."""
    failed = fetched.failed
    fetched_batches = fetched.batches
    try:
        with store.transaction() as conn:
            for source, batch in fetched_batches:
                # A file that could not be read may hold the payment or credit note that settles an
                # invoice: the source counts as failed (→ ledger_stale / bank_data_stale) until it reads.
                unread = _unread_files(batch.files)
                ok = unread is None
                if isinstance(batch, LedgerBatch):
                    _store_ledger(store, conn, client.id, batch)
                    # The ledger is fresh as of the run's day (--as-of backfills and scenario runs included).
                    store.record_sync(
                        conn, client.id, source.name, ok=ok, error=unread, cursor=batch.cursor, data_through=as_of
                    )
                else:
                    store.upsert_payments(conn, batch.payments)
                    store.record_sync(
                        conn, client.id, source.name, ok=ok, error=unread, data_through=batch.data_through
                    )
                    for account, through in sorted(batch.accounts_through.items()):
                        store.record_sync(conn, client.id, f"bank-account:{account}", ok=True, data_through=through)
                store.mark_files(conn, client.id, source.name, batch.files)
            for name, error in failed:
                store.record_sync(conn, client.id, name, ok=False, error=error)
    except Exception as exc:
        report.fail(f"storing the sync failed, previous state kept: {_describe(exc)}")
        for source, _batch in fetched_batches:
            store.record_sync_failure(client.id, source.name, _describe(exc))


def _unread_files(files: list[FileResult]) -> str | None:
    failed = [f for f in files if f.status == "failed"]
    if not failed:
        return None
    names = "; ".join(f"{f.name} ({f.detail})" for f in failed[:5]) + (" …" if len(failed) > 5 else "")
    return f"{len(failed)} file(s) could not be read: {names}"


def _store_ledger(store: Store, conn: Any, client_id: str, batch: LedgerBatch) -> None:
    store.upsert_customers(conn, batch.customers)
    store.upsert_invoices(conn, batch.invoices)
    if batch.complete_snapshot:  # a full re-sync: what vanished upstream is closed, not kept open
        snap = batch.complete_snapshot
        present = {(str(i.kind), i.number) for i in batch.invoices}
        store.close_missing_invoices(conn, client_id, snap.source, present, snap.since)
    store.upsert_attachments(conn, batch.attachments)
    store.upsert_payments(conn, [replace(p, client_id=client_id) for p in batch.payments])
    store.record_steps(conn, batch.steps)
    for dispute in batch.disputes:
        store.add_dispute_in(conn, dispute)
    store_document_events(conn, client_id, batch.document_events)


def _describe(exc: BaseException) -> str:
    """The error text kept in sync_state and printed: never with a registered secret in it."""
    text = str(exc) or exc.__class__.__name__
    return redact(text.splitlines()[0] if isinstance(exc, ConfigError) else text)


# ---- reconcile + decide (pure core, stored with reasons) ------------------------------------------


def decide_client(
    store: Store, client: ClientConfig, as_of: date, quiesce: Callable[[], bool] | None = None
) -> list[Decision]:
    """Every invoice's decision. A very large client is matched and decided one slice of customers at a time
    (connector.reconcile.slices), with the same result as in one piece; ``quiesce`` idles other threads so
    slices may run in two processes."""

    def work(part: Slice) -> list[Decision]:
        return decide(part.facts, client, as_of, part.recon)

    decisions: list[Decision] = []
    for decided in SlicedRun(store, client, quiesce=quiesce).map(work):
        decisions.extend(decided)
    return sort_decisions(decisions)


def decide_and_flag(
    store: Store,
    client: ClientConfig,
    as_of: date,
    report: ClientReport,
    quiesce: Callable[[], bool] | None = None,
) -> list[Decision]:
    """Flag (short payments after a complaint → disputes), decide, check the register, decide again."""

    def work(part: Slice) -> tuple[list[Dispute], list[Decision]]:  # one read and match serves both
        return short_payment_disputes(part.facts, part.recon, as_of), decide(part.facts, client, as_of, part.recon)

    flagged: list[Dispute] = []
    decisions: list[Decision] = []
    for found, decided in SlicedRun(store, client, quiesce=quiesce).map(work):
        flagged.extend(found)
        decisions.extend(decided)
    flagged.sort(key=attrgetter("invoice_number"))  # slices arrive in no particular order
    if flagged:  # the new disputes hold their invoices: decide again with them
        with store.transaction() as conn:
            for dispute in flagged:
                store.add_dispute_in(conn, dispute)
        decisions = decide_client(store, client, as_of, quiesce)
    else:
        sort_decisions(decisions)
    if client.registry.enabled:
        orgs = registry_check.debtors_to_check(client, store, decisions)
        if orgs and registry_check.refresh(client, store, orgs, as_of):
            decisions = decide_client(store, client, as_of, quiesce)
    report.warnings.extend(dunning_act.log_broken_agreements(client.id, decisions))
    return decisions


# ---- act ---------------------------------------------------------------------------------------


def act_client(
    store: Store, client: ClientConfig, as_of: date, decisions: list[Decision], report: ClientReport
) -> None:
    channels: dict[str, Any] = {}
    resolved = dunning_resolve.resolve_pending(store, client, as_of, channels)  # sends a stopped run left
    report.warnings.extend(resolved.warnings)
    if resolved.recorded:  # steps recorded from an interrupted run: decide again with them
        decisions = report.decisions = decide_client(store, client, as_of)
        store.save_decisions(client.id, as_of, decisions)
    facts = store.facts(client.id)
    invoices = {i.number: i for i in facts.invoices if i.kind is DocKind.INVOICE}
    steps: dict[str, list[DunningStep]] = {}
    for s in facts.steps:
        steps.setdefault(s.invoice_number, []).append(s)
    with_case = {c.invoice_number for c in facts.cases}
    for d in decisions:
        if d.action in (Action.REMINDER, Action.COLLECTION_NOTICE):
            # Fee from the rule pack in force today, interest shown, channel per ladder step (issue 6).
            try:
                line = dunning_act.send_step(
                    store,
                    client,
                    facts,
                    d,
                    as_of,
                    channels,
                    report.warnings,
                    invoice=invoices[d.invoice_number],
                    done=steps.get(d.invoice_number, []),
                )
            except ChannelError as exc:  # not recorded, retried next run; the other invoices go on
                report.fail(f"invoice {d.invoice_number}: {d.action} not sent: {exc}")
                continue
            if line:
                report.sent.append(line)
        elif d.action is Action.COLLECTION_CASE and d.invoice_number not in with_case:
            case = Case(
                case_id=case_id_for(client.id, d.invoice_number),
                client_id=client.id,
                invoice_number=d.invoice_number,
                customer_id=d.customer_id,
                currency=d.currency,
                amount=d.amount,
                open_amount=d.open_amount,
                status=CaseStatus.PROPOSED,
                created_on=as_of,
                note="proposed by the nightly run",
            )
            with store.transaction() as conn:
                created = store.propose_case(conn, case)
                why = collection_workflow.auto_approve_reason(client, case, facts.customers.get(d.customer_id))
                if created and why:
                    store.add_case_event(conn, client.id, case.case_id, CaseStatus.APPROVED, as_of, why)
            if created:
                report.sent.append(f"collection case {case.case_id} proposed")
    push_approved(store, client, as_of, report)


def case_id_for(client_id: str, invoice_number: str) -> str:
    # Deterministic: proposing the same invoice twice finds the same case.
    return f"{client_id}-{invoice_number}"


def provider_for(client: ClientConfig) -> CollectionProvider:
    return collection_providers.provider_for(client)


def push_approved(store: Store, client: ClientConfig, as_of: date, report: ClientReport) -> None:
    """The collection step (connector.collection.workflow): re-checked, crash-safe pushes of approved
    cases, then the provider status pull and the follow-up of direct payments, credits and closing."""
    collection_workflow.run_collection(store, client, as_of, report)


# ---- the job -----------------------------------------------------------------------------------


def run(
    settings: Settings,
    store: Store,
    clients: Iterable[ClientConfig],
    as_of: date,
    *,
    sync: bool = True,
    act: bool = True,
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
) -> list[ClientReport]:
    """Every client in order; with ``workers`` > 1 the next clients' sources are fetched meanwhile.

    Only the fetch runs ahead on threads: storing, deciding and acting stay here, one client after
    another, so output order, store writes and sends are exactly those of a sequential run.
    """
    reports = []
    clients = list(clients)
    fetching = fetch_ahead(store, clients, as_of, workers) if sync else None
    ahead: Iterable[tuple[ClientConfig, Future[tuple[ClientReport, Fetched]] | None]] = (
        fetching if fetching is not None else ((c, None) for c in clients)
    )
    for client, fetch in ahead:
        report = ClientReport(client.id)
        if progress:
            progress(client.id)
        try:
            if fetch is not None:
                report, fetched = fetch.result()  # a fetch that raised fails this client here
                store_fetched(store, client, as_of, fetched, report)
            # a very large client's slices may fork: the fetches running ahead finish first
            quiesce = fetching.settle if fetching is not None else None
            report.decisions = decide_and_flag(store, client, as_of, report, quiesce)
            report.customer_names = {c.customer_id: c.name for c in store.customers(client.id)}
            store.save_decisions(client.id, as_of, report.decisions)
            if act and report.ok:
                act_client(store, client, as_of, report.decisions, report)
        except Exception as exc:  # isolate: log, mark failed, go on with the next client
            log.exception("client %s failed", client.id)
            report.fail(_describe(exc))
        reports.append(report)
    return reports
