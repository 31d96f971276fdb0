"""The decision per invoice: its state, the next ladder step, and every hold that blocks it. Pure.

Holding is always safe; escalation has to be earned. A step is proposed only when the invoice is
provably unpaid (fresh bank and ledger data), undisputed, due, and the ladder's interval has passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter
from typing import TypeVar

from connector.accounts import account_key
from connector.config import ClientConfig
from connector.dunning import holds as extra_holds
from connector.dunning.calendar import effective_due_date
from connector.dunning.documents import document_holds
from connector.dunning.hold_rules import NOTHING, RULES, Subject
from connector.dunning.holds import BookingDates, CreditDates, DunningContext, PaymentIndex, plan_payments
from connector.dunning.ladder import NextStep, lawful_next_step, next_ladder_step, next_step
from connector.dunning.stored import conflict_holds, payment_row_holds, row_holds
from connector.dunning.unreadable import bank_file_holds, unreadable_holds
from connector.model import (
    ZERO,
    Action,
    Agreement,
    Allocation,
    Call,
    CaseStatus,
    Decision,
    Dispute,
    DocKind,
    DunningStep,
    Evidence,
    Facts,
    Hold,
    Invoice,
    InvoiceCheck,
    State,
)
from connector.reconcile import Reconciliation

__all__ = [
    "NextStep",
    "client_holds",
    "decide",
    "lawful_next_step",
    "next_ladder_step",
    "next_step",
    "registry_debtors",
    "sort_decisions",
]

RECENTLY_SETTLED_DAYS = 30
LEDGER_SOURCE = "ledger"
BANK_SOURCE_PREFIX = "bank:"
BANK_ACCOUNT_PREFIX = "bank-account:"  # sync_state per creditor account: newest bank data seen for it
# Holds a person has to look at: the next step is a review, not a wait.
REVIEW_HOLDS = frozenset(
    {
        Hold.UNALLOCATED_CREDIT,
        Hold.NOT_DELIVERED,
        Hold.DEBTOR_INSOLVENT,
        Hold.PARTLY_PAID,
        Hold.INVOICE_DEFECT,
        Hold.CONFLICTING_DOCUMENT,
    }
)
_REVIEW_UNLESS_UNVERIFIED = REVIEW_HOLDS - {Hold.DEBTOR_INSOLVENT}
_HOLD_ORDER = {h: i for i, h in enumerate(Hold)}  # holds are listed in the enum's order


def decide(facts: Facts, client: ClientConfig, as_of: date, recon: Reconciliation) -> list[Decision]:
    """Every invoice's decision: settled ones with their evidence (those settled long ago left out), open ones
    through the hold rules (``connector.dunning.hold_rules.RULES``)."""
    disputes = _by_invoice(facts.disputes)
    agreements = _by_invoice(facts.agreements)
    steps = _by_invoice(facts.steps)
    cases = {c.invoice_number: c for c in facts.cases}
    held_for_client = client_holds(facts, client, as_of)
    doc_holds = document_holds(facts.document_events, as_of)
    ctx = dunning_context(facts, client, recon)
    recent = as_of - timedelta(days=RECENTLY_SETTLED_DAYS)
    country = client.country
    open_amounts, allocations, last_settled_on = recon.open_amount, recon.allocations, recon.last_settled_on
    charges_paid = recon.charges_paid
    out = []
    for inv in facts.invoices:
        if inv.kind is not DocKind.INVOICE:
            continue
        number = inv.number
        open_amount = open_amounts.get(number, inv.amount)
        if open_amount <= ZERO:  # settled long ago: dropped before any evidence is built
            settled_on = last_settled_on.get(number)
            if isinstance(settled_on, date) and settled_on < recent and inv.issue_date < recent:
                continue
        paid_by = allocations.get(number, _NONE)
        done = steps.get(number, _NONE)
        # the day of each payment and credit: an open invoice's letters list them (issue 15), and explain
        # shows when a settled one was paid
        evidence = _facts_shown(inv, paid_by, done, ctx)
        if number in charges_paid:
            evidence += _charges_paid(inv, charges_paid[number])
        if open_amount <= ZERO:
            out.append(_decision(inv, open_amount, State.SETTLED, Action.NONE, _NONE, evidence))
            continue
        effective = effective_due_date(inv.due_date, country) if inv.due_date is not None else None
        subject = Subject(
            inv=inv,
            client=client,
            as_of=as_of,
            recon=recon,
            open_amount=open_amount,
            allocations=paid_by,
            disputes=disputes.get(number, _NONE),
            agreements=agreements.get(number, _NONE),
            steps=done,
            case=cases.get(number),
            client_holds=held_for_client,
            doc_holds=doc_holds.get(number, _NONE),
            ctx=ctx,
            effective=effective,
            nxt=next_ladder_step(client, done, effective),
        )
        out.append(_decide_open(subject, evidence))
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


def dunning_context(facts: Facts, client: ClientConfig, recon: Reconciliation | None = None) -> DunningContext:
    """``recon``: the reconciliation, when plans made on calls are judged on what was paid toward them."""
    by_customer: dict[str, list[DunningStep]] = {}
    owner = {i.number: i.customer_id for i in facts.invoices} if facts.steps else {}
    for s in facts.steps:
        by_customer.setdefault(owner.get(s.invoice_number, ""), []).append(s)
    payments = PaymentIndex(facts.payments)  # indexed only if an open invoice was paid something
    checks: dict[str, InvoiceCheck] = {}
    for c in sorted(facts.checks, key=attrgetter("checked_on")):
        checks[c.invoice_number] = c  # the last check counts
    calls: dict[str, list[Call]] = {}
    for call in sorted(facts.calls, key=attrgetter("called_on")):
        calls.setdefault(call.customer_id, []).append(call)
    credit_dates = CreditDates(facts.invoices)
    plans = {}
    if recon is not None and any(a.plan_id for a in facts.agreements):
        plans = plan_payments(
            facts.agreements, recon.allocations, BookingDates(payments), credit_dates, recon.charges_paid
        )
    return DunningContext(
        exclusions=facts.exclusions,
        registry=facts.registry,
        registry_settings=client.registry,
        customers=facts.customers,
        payment_dates=BookingDates(payments),
        customer_steps={k: tuple(v) for k, v in by_customer.items()},
        payments=payments,
        credit_dates=credit_dates,
        unreadable=unreadable_holds(facts.unreadable, client, facts.document_events),
        checks=checks,
        calls={k: tuple(v) for k, v in calls.items()},
        plan_paid=plans,
        conflicts=conflict_holds(facts.conflicts) if facts.conflicts else {},
        unreadable_rows=row_holds(facts.unreadable_rows),
    )


def client_holds(facts: Facts, client: ClientConfig, as_of: date) -> list[tuple[Hold, Evidence]]:
    """Holds that follow from the freshness of the client's data, not from one invoice."""
    holds: list[tuple[Hold, Evidence]] = []
    newest_bank = max(
        (s.data_through for k, s in facts.sync.items() if k.startswith(BANK_SOURCE_PREFIX) and s.data_through),
        default=None,
    )
    limit = as_of - timedelta(days=client.policy.bank_max_age_days)
    too_old = bank_too_old(newest_bank, as_of, client.policy.bank_max_age_days)
    if not client.bank:
        holds.append((Hold.BANK_DATA_STALE, Evidence("hold", "no bank feed is configured: unpaid cannot be proven")))
    elif too_old:
        holds.append((Hold.BANK_DATA_STALE, Evidence("hold", too_old, on=newest_bank)))
    else:
        holds.extend(_stale_accounts(facts, client, limit))
    # A failed bank read proves nothing; a feed no longer in the config (a fixed path) holds nothing.
    configured = {bank.source_name for bank in client.bank}
    for name, status in sorted(facts.sync.items()):
        if name in configured and status.last_error:
            holds.append((Hold.BANK_DATA_STALE, Evidence("hold", f"the last bank sync failed: {status.last_error}")))
    holds.extend(bank_file_holds(facts.unreadable, client))  # a bank file that does not read may hold a payment
    holds.extend(payment_row_holds(facts.unreadable_rows))  # so may a stored payment that does not read
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


def bank_too_old(newest: date | None, as_of: date, max_age_days: int) -> str | None:
    """Why bank data whose newest day is ``newest`` cannot prove "unpaid" on ``as_of`` (None: fresh enough):
    the rule of ``bank_data_stale``, in the words the run and ``arsync check`` print."""
    if newest is None:
        return "no bank file has been read yet: unpaid cannot be proven"
    if newest < as_of - timedelta(days=max_age_days):
        return f"newest bank data {newest.isoformat()} is older than {max_age_days} days"
    return None


def _stale_accounts(facts: Facts, client: ClientConfig, limit: date) -> list[tuple[Hold, Evidence]]:
    """Per creditor account: money for any customer can land on any account, so one account whose
    newest bank data is older than the policy (or a configured account no file ever covered) holds all.
    When every bank feed names its account, only those accounts count."""
    through: dict[str, date | None] = {}
    for k, s in facts.sync.items():
        if k.startswith(BANK_ACCOUNT_PREFIX) and s.data_through:
            # one account however a file wrote it (a store may hold its IBAN and its domestic number apart)
            account = account_key(k[len(BANK_ACCOUNT_PREFIX) :])
            before = through.get(account)
            through[account] = s.data_through if before is None else max(before, s.data_through)
    configured = {account_key(bank.account) for bank in client.bank if bank.account}
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


def _facts_shown(
    inv: Invoice, allocations: Sequence[Allocation], steps: Sequence[DunningStep], dated: DunningContext | None
) -> list[Evidence]:
    """The invoice, what was applied to it (``dated``: with the day of each payment and credit note) and the
    steps taken: the evidence every decision starts with."""
    # the evidence's date is the due date (as in every decision's ``due_date``): its text says both days
    evidence = [
        Evidence("invoice", _issued(inv.source, inv.issue_date, inv.due_date), inv.source_ref, inv.amount, inv.due_date)
    ]
    for a in allocations:
        on = None
        if dated is not None:
            if a.tier == "credit_note":
                on = dated.credit_dates.get(a.source_key)
            else:
                p = dated.payments.get(a.source_key)
                on = p.booking_date if p is not None else None
        evidence.append(Evidence(a.tier, a.evidence, a.source_key, a.amount, on))
    for s in steps:
        how = f"made by {s.channel}" if s.step is Action.CALL else f"sent via {s.channel}"  # a call is not sent
        evidence.append(Evidence("step", f"{s.step} {how}", s.detail or None, s.fee or None, s.sent_on))
    return evidence


def _charges_paid(inv: Invoice, paid: Sequence[tuple[str, Decimal, date]]) -> list[Evidence]:
    """Money paid beyond the invoice that went to the fees and interest its letters charged (not a credit)."""
    return [
        Evidence(
            "charges_paid",
            f"{amount} {inv.currency} beyond the invoice paid the fees and interest its letters charged",
            key,
            amount,
            on,
        )
        for key, amount, on in paid
    ]


def _decide_open(subject: Subject, evidence: list[Evidence]) -> Decision:
    """The fold: every rule of the table, in order, sees the holds found before it and adds what it found."""
    holds: list[Hold] = []
    state = State.OVERDUE
    needs_person = unverified = False
    for rule in RULES:
        found = rule.check(subject, holds)
        if found is NOTHING:
            continue
        for code, ev in found.items:
            if code is not None:
                holds.append(code)
            evidence.append(ev)
        if found.state is not None:
            state = found.state
        needs_person = needs_person or found.needs_person
        unverified = unverified or found.unverified

    inv, open_amount, nxt, case = subject.inv, subject.open_amount, subject.nxt, subject.case
    if case is not None and case.status is CaseStatus.APPROVED:
        # Approved cases are pushed by the act stage, after the same holds are re-checked.
        blocking: list[Hold] = [h for h in holds if h is not Hold.WAIT_INTERVAL]
        action = Action.COLLECTION_CASE if not blocking else _held_action(blocking, needs_person)
        return _decision(inv, open_amount, state, action, blocking, evidence, Action.COLLECTION_CASE)
    if not holds:  # the next step, or none: the ladder is finished
        step = nxt.action if nxt is not None else None
        return _decision(inv, open_amount, state, step or Action.NONE, holds, evidence, step)
    # A register outage alone is a wait (hold), not a review: nothing is known to be wrong yet.
    review_exempt = unverified and not needs_person and not any(h in _REVIEW_UNLESS_UNVERIFIED for h in holds)
    held = Action.HOLD if review_exempt else _held_action(holds, needs_person)
    return _decision(inv, open_amount, state, held, holds, evidence, nxt.action if nxt else None)


_NONE: tuple[()] = ()


def _decision(
    inv: Invoice,
    open_amount: Decimal,
    state: State,
    action: Action,
    holds: Sequence[Hold],
    evidence: list[Evidence],
    next_step: Action | None = None,
) -> Decision:
    listed = tuple(sorted(set(holds), key=_HOLD_ORDER.__getitem__)) if holds else ()
    return Decision(
        inv.client_id,
        inv.number,
        inv.customer_id,
        inv.currency,
        inv.amount,
        open_amount,
        inv.due_date,
        state,
        action,
        listed,
        tuple(evidence),
        next_step,
    )


@lru_cache(maxsize=4096)
def _issued(source: str, issued: date, due: date | None) -> str:
    """The invoice evidence line; one shared string per source and days (a big client has few of each)."""
    return f"{source} invoice issued {issued.isoformat()}" + (f", due {due.isoformat()}" if due else "")


def _held_action(holds: list[Hold], needs_person: bool = False) -> Action:
    return Action.REVIEW if needs_person or any(h in REVIEW_HOLDS for h in holds) else Action.HOLD
