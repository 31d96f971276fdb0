"""The decision per invoice: its state, the next ladder step, and every hold that blocks it. Pure.

Holding is always safe; escalation has to be earned. A step is proposed only when the invoice is
provably unpaid (fresh bank and ledger data), undisputed, due, and the ladder's interval has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from operator import attrgetter
from typing import TypeVar

from connector.config import ClientConfig, StepConfig
from connector.dunning import holds as extra_holds
from connector.dunning.calendar import effective_due_date
from connector.dunning.charges import charge_evidence
from connector.dunning.documents import DocumentHold, conflict_holds, document_holds, merged
from connector.dunning.holds import DunningContext
from connector.dunning.rules import RulePackError, pack_on
from connector.dunning.stored import unreadable_holds
from connector.model import (
    ZERO,
    Action,
    Agreement,
    Case,
    CaseStatus,
    Decision,
    Dispute,
    DocKind,
    DunningStep,
    Evidence,
    Facts,
    Hold,
    Invoice,
    State,
)
from connector.reconcile import Reconciliation

RECENTLY_SETTLED_DAYS = 30
# Days after the due date by which a direct-debit or card collection has landed in the bank; with
# nothing booked by then (and fresh bank data) the collection failed and ordinary dunning resumes.
COLLECTION_SETTLE_DAYS = 10
LEDGER_SOURCE = "ledger"
BANK_SOURCE_PREFIX = "bank:"
BANK_ACCOUNT_PREFIX = "bank-account:"  # sync_state per creditor account: newest bank data seen for it
# Holds a person has to look at: the next step is a review, not a wait.
REVIEW_HOLDS = frozenset(
    {Hold.UNALLOCATED_CREDIT, Hold.NOT_DELIVERED, Hold.DEBTOR_INSOLVENT, Hold.CONFLICTING_DOCUMENT}
)
_HOLD_ORDER = {h: i for i, h in enumerate(Hold)}  # holds are listed in the enum's order


@dataclass(frozen=True)
class NextStep:
    action: Action
    due_on: date  # earliest day the step may be taken
    step: StepConfig


def decide(facts: Facts, client: ClientConfig, as_of: date, recon: Reconciliation) -> list[Decision]:
    disputes = _by_invoice(facts.disputes)
    agreements = _by_invoice(facts.agreements)
    steps = _by_invoice(facts.steps)
    cases = {c.invoice_number: c for c in facts.cases}
    unreadable_client, unreadable_invoices = unreadable_holds(facts)
    held_for_client = client_holds(facts, client, as_of) + unreadable_client
    doc_holds = merged(
        document_holds(facts.document_events, as_of), conflict_holds(facts.conflicts), unreadable_invoices
    )
    ctx = dunning_context(facts, client)
    out = []
    for inv in facts.invoices:
        if inv.kind is not DocKind.INVOICE:
            continue
        decision = _decide_one(
            inv,
            client,
            as_of,
            recon,
            disputes.get(inv.number, []),
            agreements.get(inv.number, []),
            steps.get(inv.number, []),
            cases.get(inv.number),
            held_for_client,
            doc_holds.get(inv.number),
            ctx=ctx,
        )
        if decision is not None:
            out.append(decision)
    return sort_decisions(out)


def registry_debtors(facts: Facts, client: ClientConfig, recon: Reconciliation) -> set[str]:
    """The org nos to ask the business register about before deciding: debtors with an open invoice whose
    next ladder step is a collection notice or case, or whose case is approved.

    These are exactly the debtors of the decisions ``decide`` gives an action or next step in
    ``REGISTRY_STEPS``: a register answer changes holds, never the next step or the open amount, so the
    register can be asked first and the invoices decided once, with its answers."""
    steps = _by_invoice(facts.steps)
    cases = {c.invoice_number: c for c in facts.cases}
    out: set[str] = set()
    for inv in facts.invoices:
        if inv.kind is not DocKind.INVOICE or recon.open_amount.get(inv.number, inv.amount) <= ZERO:
            continue
        case = cases.get(inv.number)
        if case is None or case.status is not CaseStatus.APPROVED:
            effective = effective_due_date(inv.due_date, client.country) if inv.due_date is not None else None
            nxt = next_ladder_step(client, steps.get(inv.number, []), effective)
            if nxt is None or nxt.action not in extra_holds.REGISTRY_STEPS:
                continue
        org = extra_holds.needs_registry(facts.customers.get(inv.customer_id))
        if org:
            out.add(org)
    return out


def sort_decisions(decisions: list[Decision]) -> list[Decision]:
    """By (due date, invoice number), in place: two stable passes, so a million decisions need no million
    key tuples at the peak."""
    decisions.sort(key=attrgetter("invoice_number"))
    decisions.sort(key=_due_or_min)
    return decisions


def _due_or_min(d: Decision) -> date:
    return d.due_date or date.min


_T = TypeVar("_T", Dispute, Agreement, DunningStep)


def _by_invoice(items: tuple[_T, ...]) -> dict[str, list[_T]]:
    out: dict[str, list[_T]] = {}
    for item in items:
        out.setdefault(item.invoice_number, []).append(item)
    return out


def dunning_context(facts: Facts, client: ClientConfig) -> DunningContext:
    by_customer: dict[str, list[DunningStep]] = {}
    owner = {i.number: i.customer_id for i in facts.invoices} if facts.steps else {}
    for s in facts.steps:
        by_customer.setdefault(owner.get(s.invoice_number, ""), []).append(s)
    return DunningContext(
        exclusions=facts.exclusions,
        registry=facts.registry,
        registry_settings=client.registry,
        customers=facts.customers,
        # only agreements look payments up by key: without any, a million-entry map is not worth building
        payment_dates={p.key: p.booking_date for p in facts.payments} if facts.agreements else {},
        customer_steps={k: tuple(v) for k, v in by_customer.items()},
    )


def client_holds(facts: Facts, client: ClientConfig, as_of: date) -> list[tuple[Hold, Evidence]]:
    """Holds that follow from the freshness of the client's data, not from one invoice."""
    holds: list[tuple[Hold, Evidence]] = []
    newest_bank = max(
        (s.data_through for k, s in facts.sync.items() if k.startswith(BANK_SOURCE_PREFIX) and s.data_through),
        default=None,
    )
    limit = as_of - timedelta(days=client.policy.bank_max_age_days)
    if not client.bank:
        holds.append((Hold.BANK_DATA_STALE, Evidence("hold", "no bank feed is configured: unpaid cannot be proven")))
    elif newest_bank is None or newest_bank < limit:
        seen = newest_bank.isoformat() if newest_bank else "none"
        holds.append(
            (
                Hold.BANK_DATA_STALE,
                Evidence(
                    "hold",
                    f"newest bank data {seen} is older than {client.policy.bank_max_age_days} days",
                    on=newest_bank,
                ),
            )
        )
    else:
        holds.extend(_stale_accounts(facts, client, limit))
    for name, status in sorted(facts.sync.items()):
        if name.startswith(BANK_SOURCE_PREFIX) and status.last_error:  # a failed bank read proves nothing
            holds.append((Hold.BANK_DATA_STALE, Evidence("hold", f"the last bank sync failed: {status.last_error}")))
    ledger = facts.sync.get(LEDGER_SOURCE)
    ledger_limit = as_of - timedelta(days=client.ledger.max_age_days)
    if ledger is None or ledger.last_success_at is None:
        holds.append((Hold.LEDGER_STALE, Evidence("hold", "the ledger has never been synced successfully")))
    elif ledger.last_error:
        holds.append((Hold.LEDGER_STALE, Evidence("hold", f"the last ledger sync failed: {ledger.last_error}")))
    elif (ledger.data_through or ledger.last_success_at.date()) < ledger_limit:
        # data_through is the --as-of day of the last good sync, so backfills and scenario runs age correctly
        synced = ledger.data_through or ledger.last_success_at.date()
        holds.append((Hold.LEDGER_STALE, Evidence("hold", "the last successful ledger sync is too old", on=synced)))
    return holds


def _stale_accounts(facts: Facts, client: ClientConfig, limit: date) -> list[tuple[Hold, Evidence]]:
    """Per creditor account: money for any customer can land on any account, so one account whose
    newest bank data is older than the policy (or a configured account no file ever covered) holds all.
    When every bank feed names its account, only those accounts count."""
    through: dict[str, date | None] = {
        k[len(BANK_ACCOUNT_PREFIX) :]: s.data_through
        for k, s in facts.sync.items()
        if k.startswith(BANK_ACCOUNT_PREFIX) and s.data_through
    }
    configured = {bank.account.replace(" ", "") for bank in client.bank if bank.account}
    if client.bank and all(bank.account for bank in client.bank):
        # Every feed names its account, so no feed records any other: a row for another account is
        # a leftover (an earlier config, a file since removed) and proves nothing about money now.
        through = {account: newest for account, newest in through.items() if account in configured}
    for account in configured:
        through.setdefault(account, None)
    out: list[tuple[Hold, Evidence]] = []
    for account, newest in sorted(through.items()):
        if newest is None or newest < limit:
            seen = newest.isoformat() if newest else "none"
            detail = (
                f"newest bank data for account {account} is {seen}, older than {client.policy.bank_max_age_days} days"
            )
            out.append((Hold.BANK_DATA_STALE, Evidence("hold", detail, account, on=newest)))
    return out


def _decide_one(
    inv: Invoice,
    client: ClientConfig,
    as_of: date,
    recon: Reconciliation,
    disputes: list[Dispute],
    agreements: list[Agreement],
    steps: list[DunningStep],
    case: Case | None,
    client_holds: list[tuple[Hold, Evidence]],
    doc_holds: list[DocumentHold] | None = None,
    ctx: DunningContext | None = None,
) -> Decision | None:
    ctx = ctx or DunningContext()
    open_amount = recon.open_amount.get(inv.number, inv.amount)
    if open_amount <= ZERO:  # settled long ago: dropped before any evidence is built
        settled_on = recon.last_settled_on.get(inv.number)
        recent = as_of - timedelta(days=RECENTLY_SETTLED_DAYS)
        if isinstance(settled_on, date) and settled_on < recent and inv.issue_date < recent:
            return None
    evidence: list[Evidence] = [
        Evidence(
            "invoice",
            _issued(inv.source, inv.issue_date),
            inv.source_ref,
            inv.amount,
            inv.due_date,
        )
    ]
    for a in recon.allocations.get(inv.number, []):
        evidence.append(Evidence(a.tier, a.evidence, a.source_key, a.amount))
    for s in steps:
        evidence.append(Evidence("step", f"{s.step} sent via {s.channel}", s.detail or None, s.fee or None, s.sent_on))

    def decision(state: State, action: Action, holds: list[Hold], next_step: Action | None = None) -> Decision:
        return Decision(
            client_id=inv.client_id,
            invoice_number=inv.number,
            customer_id=inv.customer_id,
            currency=inv.currency,
            amount=inv.amount,
            open_amount=open_amount,
            due_date=inv.due_date,
            state=state,
            action=action,
            holds=tuple(sorted(set(holds), key=_HOLD_ORDER.__getitem__)),
            evidence=tuple(evidence),
            next_step=next_step,
        )

    if open_amount <= ZERO:
        return decision(State.SETTLED, Action.NONE, [])

    holds: list[Hold] = []

    def hold(code: Hold, detail: str, ref: str | None = None, on: date | None = None) -> None:
        holds.append(code)
        evidence.append(Evidence("hold", f"{code}: {detail}", ref, on=on))

    # Due-ness. Without a due date there is nothing to enforce yet.
    if inv.due_date is None:
        state = State.NOT_DUE
        hold(Hold.NOT_DUE, "the invoice states no due date")
        effective = None
    else:
        effective = effective_due_date(inv.due_date, client.country)
        state = State.NOT_DUE if as_of <= effective else State.OVERDUE
        if as_of <= effective + timedelta(days=client.policy.grace_days):
            moved = f" (moved from {inv.due_date.isoformat()})" if effective != inv.due_date else ""
            hold(
                Hold.NOT_DUE,
                f"due {effective.isoformat()}{moved} + {client.policy.grace_days} grace days",
                on=effective,
            )

    open_disputes = [d for d in disputes if d.is_open and d.opened_on <= as_of]
    if open_disputes:
        state = State.DISPUTED
        for d in open_disputes:
            hold(Hold.DISPUTED, f"{d.source}: {d.reason}", d.dispute_id, d.opened_on)

    # Partly paid: the debtor paid something, so the rest is not provably owed without a look
    # (a short payment is often a silent complaint). A person decides; no reminder goes out.
    paid_by_debtor = sum((a.amount for a in recon.allocations.get(inv.number, []) if a.tier != "credit_note"), ZERO)
    if paid_by_debtor > ZERO:
        hold(
            Hold.PAYMENT_PENDING,
            f"partly paid: {paid_by_debtor} of {inv.amount} {inv.currency} received; "
            f"confirm the remaining {open_amount} is owed before dunning",
        )
        partly_paid = True
    else:
        partly_paid = False

    # Direct debit / card: the creditor collects the money itself. Nothing to dun until that
    # collection visibly failed (money returned) or had ample time to arrive and did not.
    if inv.collection_method and effective is not None:
        returned = any(a.tier == "reversal" for a in recon.allocations.get(inv.number, []))
        settles_by = effective + timedelta(days=COLLECTION_SETTLE_DAYS)
        if not returned and as_of <= settles_by:
            hold(
                Hold.PAYMENT_PENDING,
                f"collected by {inv.collection_method.replace('_', ' ')}: not dunned unless the collection "
                f"fails (returned, or nothing booked by {settles_by.isoformat()})",
                on=settles_by,
            )

    # Paid with difference (short within the payment tolerance: bank fees, rounding): recorded, never
    # written off by itself, and never reminded for — the accountant settles it.
    difference = recon.with_difference.get(inv.number)
    if difference is not None and ZERO < open_amount <= difference:
        hold(
            Hold.PAYMENT_PENDING,
            f"paid with difference: {open_amount} {inv.currency} short within the payment tolerance; "
            "not written off and never reminded — settle it in the ledger",
        )
        partly_paid = True

    for p in recon.pending.get(inv.number, []):
        why = recon.pending_reason.get(p.key)
        detail = f"pending payment of {p.amount} {p.currency} ({p.source})" + (f": {why}" if why else "")
        hold(Hold.PAYMENT_PENDING, detail, p.key, p.booking_date)

    for credit in recon.unallocated_credit.get(inv.customer_id, []):
        hold(Hold.UNALLOCATED_CREDIT, f"{credit.kind}: {credit.detail}", credit.ref, credit.on)

    for dh in doc_holds or ():  # e-invoice statuses: Invoice Response PD / CA due date, MLR/MLS rejection
        hold(dh.hold, dh.detail, dh.ref, dh.on)

    for code, ev in client_holds:
        holds.append(code)
        evidence.append(ev)

    if open_amount < client.policy.min_amount:
        hold(Hold.BELOW_MINIMUM, f"open {open_amount} is below the minimum {client.policy.min_amount}")

    if inv.factored:
        hold(Hold.FACTORED, "payable to a factoring company (type code or payee)")

    for code, ev in extra_holds.exclusion_holds(ctx.exclusions, inv, as_of):
        holds.append(code)
        evidence.append(ev)

    agreement_holds, broken = extra_holds.agreement_holds(
        agreements, recon.allocations.get(inv.number, []), ctx.payment_dates, as_of, client.policy.grace_days
    )
    evidence.extend(broken)  # a broken agreement lifts its hold; the pipeline logs it
    for code, ev in agreement_holds:
        holds.append(code)
        evidence.append(ev)

    if case is not None:
        if case.status in (CaseStatus.PUSHED, CaseStatus.CLOSED):
            state = State.IN_COLLECTION if case.status is CaseStatus.PUSHED else state
            hold(Hold.IN_COLLECTION, f"case {case.case_id} is with the provider", case.case_id, case.created_on)
        elif case.status is CaseStatus.PROPOSED:
            hold(Hold.AWAITING_APPROVAL, f"case {case.case_id} waits for the accountant", case.case_id, case.created_on)
        elif case.status is CaseStatus.REJECTED:
            hold(Hold.EXCLUDED, f"the accountant rejected case {case.case_id}: {case.note}", case.case_id)
        elif case.status is CaseStatus.WITHDRAWN:  # withdrawn from collection: never back into dunning by itself
            hold(Hold.EXCLUDED, f"case {case.case_id} was withdrawn: {case.note}", case.case_id)
        evidence.append(Evidence("case", f"collection case {case.status}", case.case_id, case.open_amount))

    nxt = next_ladder_step(client, steps, effective)
    if nxt is not None and effective is not None and as_of < nxt.due_on and Hold.NOT_DUE not in holds:
        hold(Hold.WAIT_INTERVAL, f"{nxt.action} not before {nxt.due_on.isoformat()}", on=nxt.due_on)

    # Per customer: one step at a time, with the policy's minimum interval between letters to them.
    step_due = nxt is not None and effective is not None and as_of >= nxt.due_on and Hold.NOT_DUE not in holds
    customer_steps = [s for s in ctx.customer_steps.get(inv.customer_id, ()) if s.invoice_number != inv.number]
    if step_due and nxt is not None and nxt.action is not Action.COLLECTION_CASE:
        for code, ev in extra_holds.customer_interval_hold(
            customer_steps, inv.number, as_of, client.policy.customer_interval_days
        ):
            holds.append(code)
            evidence.append(ev)

    # Business register before a notice or case: insolvent → review; no fresh answer → hold.
    customer = ctx.customers.get(inv.customer_id)
    registry_next = Action.COLLECTION_CASE if case is not None and case.status is CaseStatus.APPROVED else None
    registry_holds, registry_unverified = extra_holds.registry_holds(
        customer, ctx, registry_next or (nxt.action if nxt else None), step_due or registry_next is not None, as_of
    )
    for code, ev in registry_holds:
        holds.append(code)
        evidence.append(ev)
    evidence.extend(extra_holds.registry_evidence(customer, ctx))

    if effective is not None and as_of > effective:
        evidence.extend(
            charge_evidence(
                inv,
                client.country,
                open_amount,
                effective,
                as_of,
                nxt.action if nxt else None,
                bool(nxt and nxt.step.fee),
                steps,
                client.policy.fee_agreed,
                customer,
            )
        )
    # A register outage alone is a wait (hold), not a review: nothing is known to be wrong yet.
    review_exempt = (
        registry_unverified and not partly_paid and not any(h in REVIEW_HOLDS - {Hold.DEBTOR_INSOLVENT} for h in holds)
    )

    approved_case = case is not None and case.status is CaseStatus.APPROVED
    if approved_case:
        # Approved cases are pushed by the act stage, after the same holds are re-checked.
        blocking = [h for h in holds if h not in (Hold.WAIT_INTERVAL,)]
        action = Action.COLLECTION_CASE if not blocking else _held_action(blocking, partly_paid)
        return decision(state, action, blocking, Action.COLLECTION_CASE)
    if not holds and nxt is not None:
        return decision(state, nxt.action, [], nxt.action)
    if not holds:
        return decision(state, Action.NONE, [], None)  # ladder finished
    held = Action.HOLD if review_exempt else _held_action(holds, partly_paid)  # register outage: wait
    return decision(state, held, holds, nxt.action if nxt else None)


@lru_cache(maxsize=4096)
def _issued(source: str, issued: date) -> str:
    """The invoice evidence line; one shared string per source and day (a big client has few of each)."""
    return f"{source} invoice issued {issued.isoformat()}"


def _held_action(holds: list[Hold], needs_person: bool = False) -> Action:
    return Action.REVIEW if needs_person or any(h in REVIEW_HOLDS for h in holds) else Action.HOLD


def next_ladder_step(client: ClientConfig, done: list[DunningStep], effective_due: date | None) -> NextStep | None:
    """The invoice's next rung with the legal intervals applied, whatever holds it."""
    return lawful_next_step(next_step(client.policy.steps, done, effective_due), done, client.country)


def lawful_next_step(nxt: NextStep | None, done: list[DunningStep], country: str) -> NextStep | None:
    """Push the step's earliest day out to the legal minimum intervals of the rule pack.

    Between letters (reminders, notices) the pack's minimum interval; a case only once the notice's
    legal deadline has passed, even when steps were taken outside arsync.
    """
    if nxt is None or not done:
        return nxt
    try:
        pack = pack_on(country, nxt.due_on)
    except RulePackError:
        return nxt
    earliest = nxt.due_on
    letters = [s.sent_on for s in done if s.step in (Action.REMINDER, Action.COLLECTION_NOTICE)]
    if nxt.action in (Action.REMINDER, Action.COLLECTION_NOTICE) and letters:
        earliest = max(earliest, max(letters) + timedelta(days=pack.min_days_between_reminders))
    notices = [s.sent_on for s in done if s.step is Action.COLLECTION_NOTICE]
    if nxt.action is Action.COLLECTION_CASE and notices:
        earliest = max(earliest, max(notices) + timedelta(days=pack.notice_min_deadline_days))
    return nxt if earliest == nxt.due_on else NextStep(nxt.action, earliest, nxt.step)


def next_step(ladder: list[StepConfig], done: list[DunningStep], effective_due: date | None) -> NextStep | None:
    """The ladder rung after the steps already taken, and the earliest day it may be taken."""
    position = 0
    last_on: date | None = None
    for taken in sorted(done, key=lambda s: s.sent_on):
        # A step taken further up (e.g. a notice sent outside arsync) moves the invoice up to it.
        for i in range(position, len(ladder)):
            if ladder[i].action == taken.step:
                position = i + 1
                last_on = taken.sent_on
                break
    if position >= len(ladder):
        return None
    step = ladder[position]
    anchor = last_on if last_on is not None else effective_due
    if anchor is None:
        return None
    return NextStep(Action(step.action), anchor + timedelta(days=step.days), step)
