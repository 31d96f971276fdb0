"""The decision per invoice: its state, the next ladder step, and every hold that blocks it. Pure.

Holding is always safe; escalation has to be earned. A step is proposed only when the invoice is
provably unpaid (fresh bank and ledger data), undisputed, due, and the ladder's interval has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from connector.config import ClientConfig, StepConfig
from connector.dunning.calendar import effective_due_date
from connector.einvoice.status import DocumentHold, document_holds
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
    Hold,
    Invoice,
    State,
)
from connector.reconcile import Reconciliation
from connector.store import Facts

RECENTLY_SETTLED_DAYS = 30
LEDGER_SOURCE = "ledger"
BANK_SOURCE_PREFIX = "bank:"
# Holds a person has to look at: the next step is a review, not a wait.
REVIEW_HOLDS = frozenset({Hold.UNALLOCATED_CREDIT, Hold.NOT_DELIVERED, Hold.DEBTOR_INSOLVENT})


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
    client_holds = _client_holds(facts, client, as_of)
    doc_holds = document_holds(facts.document_events, as_of)
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
            client_holds,
            doc_holds.get(inv.number),
        )
        if decision is not None:
            out.append(decision)
    return sorted(out, key=lambda d: (d.due_date or date.min, d.invoice_number))


_T = TypeVar("_T", Dispute, Agreement, DunningStep)


def _by_invoice(items: tuple[_T, ...]) -> dict[str, list[_T]]:
    out: dict[str, list[_T]] = {}
    for item in items:
        out.setdefault(item.invoice_number, []).append(item)
    return out


def _client_holds(facts: Facts, client: ClientConfig, as_of: date) -> list[tuple[Hold, Evidence]]:
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
    ledger = facts.sync.get(LEDGER_SOURCE)
    ledger_limit = datetime.combine(as_of - timedelta(days=client.ledger.max_age_days), time.min).date()
    if ledger is None or ledger.last_success_at is None:
        holds.append((Hold.LEDGER_STALE, Evidence("hold", "the ledger has never been synced successfully")))
    elif ledger.last_error:
        holds.append((Hold.LEDGER_STALE, Evidence("hold", f"the last ledger sync failed: {ledger.last_error}")))
    elif ledger.last_success_at.date() < ledger_limit:
        holds.append(
            (
                Hold.LEDGER_STALE,
                Evidence("hold", "the last successful ledger sync is too old", on=ledger.last_success_at.date()),
            )
        )
    return holds


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
) -> Decision | None:
    open_amount = recon.open_amount.get(inv.number, inv.amount)
    evidence: list[Evidence] = [
        Evidence(
            "invoice",
            f"{inv.source} invoice issued {inv.issue_date.isoformat()}",
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
            holds=tuple(sorted(set(holds), key=list(Hold).index)),
            evidence=tuple(evidence),
            next_step=next_step,
        )

    if open_amount <= ZERO:
        settled_on = recon.last_settled_on.get(inv.number)
        recent = as_of - timedelta(days=RECENTLY_SETTLED_DAYS)
        if isinstance(settled_on, date) and settled_on < recent and inv.issue_date < recent:
            return None
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

    for p in recon.pending.get(inv.number, []):
        hold(Hold.PAYMENT_PENDING, f"pending payment of {p.amount} {p.currency} ({p.source})", p.key, p.booking_date)

    for dh in doc_holds or ():  # e-invoice statuses: Invoice Response PD / CA due date, MLR/MLS rejection
        hold(dh.hold, dh.detail, dh.ref, dh.on)

    for code, ev in client_holds:
        holds.append(code)
        evidence.append(ev)

    if open_amount < client.policy.min_amount:
        hold(Hold.BELOW_MINIMUM, f"open {open_amount} is below the minimum {client.policy.min_amount}")

    if inv.factored:
        hold(Hold.FACTORED, "payable to a factoring company (type code or payee)")

    for a in agreements:
        if a.cancelled_on is None and a.created_on <= as_of:
            last = max(a.due_dates) if a.due_dates else a.created_on
            if as_of <= last + timedelta(days=client.policy.grace_days):
                hold(Hold.AGREEMENT, f"payment agreed until {last.isoformat()}", a.agreement_id, a.created_on)

    if case is not None:
        if case.status in (CaseStatus.PUSHED, CaseStatus.CLOSED):
            state = State.IN_COLLECTION if case.status is CaseStatus.PUSHED else state
            hold(Hold.IN_COLLECTION, f"case {case.case_id} is with the provider", case.case_id, case.created_on)
        elif case.status is CaseStatus.PROPOSED:
            hold(Hold.AWAITING_APPROVAL, f"case {case.case_id} waits for the accountant", case.case_id, case.created_on)
        elif case.status is CaseStatus.REJECTED:
            hold(Hold.EXCLUDED, f"the accountant rejected case {case.case_id}: {case.note}", case.case_id)
        evidence.append(Evidence("case", f"collection case {case.status}", case.case_id, case.open_amount))

    nxt = next_step(client.policy.steps, steps, effective)
    if nxt is not None and effective is not None and as_of < nxt.due_on and Hold.NOT_DUE not in holds:
        hold(Hold.WAIT_INTERVAL, f"{nxt.action} not before {nxt.due_on.isoformat()}", on=nxt.due_on)

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
    return decision(state, _held_action(holds, partly_paid), holds, nxt.action if nxt else None)


def _held_action(holds: list[Hold], needs_person: bool = False) -> Action:
    return Action.REVIEW if needs_person or any(h in REVIEW_HOLDS for h in holds) else Action.HOLD


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
