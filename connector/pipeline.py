"""The nightly job, per client: sync → reconcile → decide → act. Only this module knows the order.

One client's failure is logged and isolated; the others still run. Sync reads every source first
and writes everything in one transaction, so a crash or a bad source never leaves a half-written
ledger. Actions are facts recorded with the day they happened, so a second run the same day finds
them and sends nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connector.bank.feed import CamtFolderFeed
from connector.channels.letters import Letter
from connector.channels.outbox import OutboxChannel
from connector.collection.base import CasePayload, CollectionProvider
from connector.collection.outbox import OutboxProvider
from connector.config import ClientConfig, ConfigError, Settings
from connector.dunning.decide import decide
from connector.model import ZERO, Action, Case, CaseStatus, Customer, Decision, DunningStep, Hold
from connector.reconcile import reconcile
from connector.sources.base import LedgerBatch, LedgerSource, PaymentBatch, PaymentFeed, SyncContext
from connector.sources.ehf import EhfFolderSource
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
    raise ConfigError([f"client '{client.id}': ledger kind '{client.ledger.kind}' is not supported yet"])


def _feeds(client: ClientConfig) -> list[PaymentFeed]:
    feeds: list[PaymentFeed] = []
    for bank in client.bank:
        if bank.kind == "camt":
            feeds.append(CamtFolderFeed(bank.path, bank.account))
        else:
            raise ConfigError([f"client '{client.id}': bank kind '{bank.kind}' is not supported yet"])
    return feeds


def sync_client(store: Store, client: ClientConfig, as_of: date, report: ClientReport) -> None:
    """Read every source, then store all of it in one transaction (or nothing at all)."""
    now = datetime.now(UTC)
    sources: list[tuple[Any, str]] = [(ledger_source(client), "ledger"), *((f, "bank") for f in _feeds(client))]
    fetched: list[tuple[Any, LedgerBatch | PaymentBatch]] = []
    failed: list[tuple[str, str]] = []
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
            failed.append((source.name, _describe(exc)))
            report.fail(f"{source.name}: {_describe(exc)}")
            continue
        report.warnings.extend(f"{source.name}: {e}" for e in batch.errors)
        for e in batch.errors:
            log.warning("client %s: %s: %s", client.id, source.name, e)
        fetched.append((source, batch))
    try:
        with store.transaction() as conn:
            for source, batch in fetched:
                if isinstance(batch, LedgerBatch):
                    _store_ledger(store, conn, client.id, batch)
                    store.record_sync(conn, client.id, source.name, ok=True, cursor=batch.cursor)
                else:
                    store.upsert_payments(conn, batch.payments)
                    store.record_sync(conn, client.id, source.name, ok=True, data_through=batch.data_through)
                store.mark_files(conn, client.id, source.name, batch.files)
            for name, error in failed:
                store.record_sync(conn, client.id, name, ok=False, error=error)
    except Exception as exc:
        report.fail(f"storing the sync failed, previous state kept: {_describe(exc)}")
        for source, _batch in fetched:
            store.record_sync_failure(client.id, source.name, _describe(exc))


def _store_ledger(store: Store, conn: Any, client_id: str, batch: LedgerBatch) -> None:
    store.upsert_customers(conn, batch.customers)
    store.upsert_invoices(conn, batch.invoices)
    store.upsert_attachments(conn, batch.attachments)
    store.upsert_payments(conn, [replace(p, client_id=client_id) for p in batch.payments])
    store.record_steps(conn, batch.steps)
    for dispute in batch.disputes:
        store.add_dispute_in(conn, dispute)
    store_document_events(conn, client_id, batch.document_events)


def _describe(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return text.splitlines()[0] if isinstance(exc, ConfigError) else text


# ---- reconcile + decide (pure core, stored with reasons) ------------------------------------------


def decide_client(store: Store, client: ClientConfig, as_of: date) -> list[Decision]:
    facts = store.facts(client.id)
    recon = reconcile(facts.invoices, facts.payments)
    return decide(facts, client, as_of, recon)


# ---- act ---------------------------------------------------------------------------------------


def act_client(
    store: Store, client: ClientConfig, as_of: date, decisions: list[Decision], report: ClientReport
) -> None:
    facts = store.facts(client.id)
    invoices = {i.number: i for i in facts.invoices}
    channel = OutboxChannel(client.reminders.path) if client.reminders.path else None
    for d in decisions:
        if d.action in (Action.REMINDER, Action.COLLECTION_NOTICE):
            if channel is None:
                report.fail("no reminder channel path configured")
                return
            inv = invoices[d.invoice_number]
            customer = facts.customers.get(inv.customer_id)
            step = _ladder_step(client, d.action)
            deadline = as_of + timedelta(days=_notice_days(client)) if d.action is Action.COLLECTION_NOTICE else None
            letter = Letter(
                step=d.action,
                language=client.language,
                creditor=client.name,
                creditor_org_no=client.org_no,
                debtor=customer.name if customer else inv.customer_id,
                invoice=inv.number,
                due=inv.due_date or inv.issue_date,
                amount=d.open_amount,
                currency=d.currency,
                fee=ZERO,  # fees come from the legal rule packs (dunning issue); never invented
                kid=inv.kid,
                deadline=deadline,
            )
            path = channel.send(client.id, letter, as_of)
            with store.transaction() as conn:
                store.record_steps(
                    conn,
                    [
                        DunningStep(
                            client_id=client.id,
                            invoice_number=inv.number,
                            step=d.action,
                            sent_on=as_of,
                            channel=step.channel if step else "outbox",
                            currency=d.currency,
                            detail=path.name,
                        )
                    ],
                )
            report.sent.append(f"{d.action} for invoice {inv.number} → {path}")
        elif d.action is Action.COLLECTION_CASE and not any(c.invoice_number == d.invoice_number for c in facts.cases):
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
                if created and client.policy.auto_approve:
                    store.add_case_event(
                        conn, client.id, case.case_id, CaseStatus.APPROVED, as_of, "auto-approved: client policy"
                    )
            if created:
                report.sent.append(f"collection case {case.case_id} proposed")
    push_approved(store, client, as_of, report)


def _ladder_step(client: ClientConfig, action: Action) -> Any:
    return next((s for s in client.policy.steps if s.action == action.value), None)


def _notice_days(client: ClientConfig) -> int:
    case_step = _ladder_step(client, Action.COLLECTION_CASE)
    return case_step.days if case_step else 14


def case_id_for(client_id: str, invoice_number: str) -> str:
    # Deterministic: proposing the same invoice twice finds the same case.
    return f"{client_id}-{invoice_number}"


def provider_for(client: ClientConfig) -> CollectionProvider:
    if client.collection.provider == "outbox":
        assert client.collection.path is not None
        return OutboxProvider(client.collection.path)
    raise ConfigError([f"client '{client.id}': collection provider '{client.collection.provider}' is not supported"])


def push_approved(store: Store, client: ClientConfig, as_of: date, report: ClientReport) -> None:
    """Push approved cases, re-checking each against today's decision first."""
    approved = [c for c in store.cases([client.id]) if c.status is CaseStatus.APPROVED]
    if not approved:
        return
    decisions = {d.invoice_number: d for d in decide_client(store, client, as_of)}
    facts = store.facts(client.id)
    invoices = {i.number: i for i in facts.invoices}
    provider = provider_for(client)
    for case in approved:
        d = decisions.get(case.invoice_number)
        if d is None or d.open_amount <= ZERO:
            _case_event(store, client.id, case.case_id, CaseStatus.CLOSED, as_of, "push refused: invoice is settled")
            report.sent.append(f"case {case.case_id} closed: invoice settled before the push")
            continue
        blocking = [h for h in d.holds if h is not Hold.WAIT_INTERVAL]
        if d.action is not Action.COLLECTION_CASE or blocking:
            why = ", ".join(str(h) for h in blocking) or str(d.action)
            _case_event(store, client.id, case.case_id, CaseStatus.PROPOSED, as_of, f"push refused: {why}")
            report.sent.append(f"case {case.case_id} back to review: {why}")
            continue
        inv = invoices[case.invoice_number]
        customer = facts.customers.get(inv.customer_id) or Customer(client.id, inv.customer_id, inv.customer_id)
        payload = CasePayload(
            case=case,
            creditor_name=client.name,
            creditor_org_no=client.org_no,
            debtor=customer,
            invoice=inv,
            remaining=d.open_amount,
            steps=tuple(s for s in facts.steps if s.invoice_number == inv.number),
            attachments=tuple(store.attachments(client.id, inv.number)),
            pushed_on=as_of,
        )
        result = provider.submit(payload)
        with store.transaction() as conn:
            store.set_provider_ref(conn, client.id, case.case_id, result.provider_ref)
            store.add_case_event(conn, client.id, case.case_id, CaseStatus.PUSHED, as_of, f"{provider.name}")
        report.sent.append(f"case {case.case_id} pushed to {provider.name} ({result.provider_ref})")


def _case_event(store: Store, client_id: str, case_id: str, status: CaseStatus, on: date, note: str) -> None:
    with store.transaction() as conn:
        store.add_case_event(conn, client_id, case_id, status, on, note)


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
) -> list[ClientReport]:
    reports = []
    for client in clients:
        report = ClientReport(client.id)
        if progress:
            progress(client.id)
        try:
            if sync:
                sync_client(store, client, as_of, report)
            report.decisions = decide_client(store, client, as_of)
            report.customer_names = {c.customer_id: c.name for c in store.facts(client.id).customers.values()}
            store.save_decisions(client.id, as_of, report.decisions)
            if act and report.ok:
                act_client(store, client, as_of, report.decisions, report)
        except Exception as exc:  # isolate: log, mark failed, go on with the next client
            log.exception("client %s failed", client.id)
            report.fail(_describe(exc))
        reports.append(report)
    return reports
