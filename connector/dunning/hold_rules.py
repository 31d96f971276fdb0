"""The hold rules, one small pure function each, listed in one ordered table (``RULES``). Pure.

As beancount's ``ops/validation.py`` runs a list of validators over the entries, ``connector.dunning.decide``
folds this table over every open invoice: each rule reads the invoice's facts (``Subject``) and the holds
found so far, and returns what it found (``Found``): holds with their evidence, evidence alone, and whether
the invoice's state changes or a person has to look.

A new hold rule is one function here and one line in ``RULES``, with the hold codes it can give and the way
out of them (the README's hold table says the same). The order of ``RULES`` is the order evidence is listed
in; holds are listed in the order of ``Hold``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from connector.config import ClientConfig
from connector.dunning import holds as extra_holds
from connector.dunning.calendar import effective_due_date
from connector.dunning.charges import charge_evidence
from connector.dunning.deadlines import after_deadline
from connector.dunning.deductions import deduction_word
from connector.dunning.documents import DocumentHold
from connector.dunning.holds import DunningContext
from connector.dunning.ladder import NextStep, last_deadline_letter, stated_deadline
from connector.dunning.rules import RulePackError, pack_on
from connector.frozen import fast_init
from connector.model import (
    ZERO,
    Action,
    Agreement,
    Allocation,
    Call,
    CallOutcome,
    Case,
    CaseStatus,
    Dispute,
    DunningStep,
    Evidence,
    Hold,
    Invoice,
    InvoiceCheck,
    State,
)
from connector.reconcile import Reconciliation

# The channels whose letters arsync writes itself (Tripletex writes its own).
LETTER_CHANNELS = ("outbox", "email")
# Days after the due date by which a direct-debit or card collection has landed in the bank; with
# nothing booked by then (and fresh bank data) the collection failed and ordinary dunning resumes.
COLLECTION_SETTLE_DAYS = 10


@fast_init
@dataclass(frozen=True, slots=True)
class Subject:
    """One open invoice and every fact its rules read."""

    inv: Invoice
    client: ClientConfig
    as_of: date
    recon: Reconciliation
    open_amount: Decimal
    allocations: Sequence[Allocation]
    disputes: Sequence[Dispute]
    agreements: Sequence[Agreement]
    steps: Sequence[DunningStep]
    case: Case | None
    client_holds: Sequence[tuple[Hold, Evidence]]  # from the freshness of the client's data (decide.client_holds)
    doc_holds: Sequence[DocumentHold]  # from Invoice Responses, MLR and MLS (connector.dunning.documents)
    ctx: DunningContext
    effective: date | None  # the due date moved off weekends and public holidays; None: no due date
    nxt: NextStep | None  # the next ladder step with the legal intervals applied

    def step_due(self, held: Sequence[Hold]) -> bool:
        """The next ladder step's day has come and nothing said the invoice is not due."""
        nxt = self.nxt
        return nxt is not None and self.effective is not None and self.as_of >= nxt.due_on and Hold.NOT_DUE not in held


@fast_init
@dataclass(frozen=True, slots=True)
class Found:
    """What one rule found. ``items``: in order, each a hold with its evidence, or evidence alone (hold None)."""

    items: tuple[tuple[Hold | None, Evidence], ...] = ()
    state: State | None = None  # the invoice's state from here on, when the rule decides it
    needs_person: bool = False  # the held action is a review, whatever the holds
    unverified: bool = False  # the business register has not answered: a wait, not a review


NOTHING = Found()
Check = Callable[[Subject, Sequence[Hold]], Found]


@dataclass(frozen=True, slots=True)
class HoldRule:
    name: str
    check: Check
    codes: tuple[Hold, ...]  # the holds it can give ()
    way_out: str  # how each of them is lifted: by itself (a fact changes) or by the accountant's command


def hold(code: Hold, detail: str, ref: str | None = None, on: date | None = None) -> tuple[Hold, Evidence]:
    """A hold with its evidence line, which always names the code first."""
    return code, Evidence("hold", f"{code}: {detail}", ref, on=on)


# ---- the rules, in the order they are folded ---------------------------------------------------------


def due(s: Subject, held: Sequence[Hold]) -> Found:
    """Due-ness. Without a due date there is nothing to enforce yet."""
    if s.inv.due_date is None or s.effective is None:
        return Found((hold(Hold.NOT_DUE, "the invoice states no due date"),), State.NOT_DUE)
    effective, grace = s.effective, s.client.policy.grace_days
    state = State.NOT_DUE if s.as_of <= effective else State.OVERDUE
    if s.as_of > effective + timedelta(days=grace):
        return Found(state=state)
    moved = f" (moved from {s.inv.due_date.isoformat()})" if effective != s.inv.due_date else ""
    return Found((hold(Hold.NOT_DUE, f"due {effective.isoformat()}{moved} + {grace} grace days", on=effective),), state)


def invoice_check(s: Subject, held: Sequence[Hold]) -> Found:
    """Step 1 of the playbook: before the first reminder, is the invoice itself fit to remind on? Lifts when
    the ledger shows the fix, or when the accountant marks the invoice checked. Later steps skip the check."""
    inv = s.inv
    check = s.ctx.checks.get(inv.number)
    if check is not None and check.checked_on > s.as_of:
        check = None
    if s.steps or (inv.due_date is not None and Hold.NOT_DUE in held):
        return Found(((None, _checked(check)),)) if check is not None else NOTHING
    items: list[tuple[Hold | None, Evidence]] = []
    problems = invoice_problems(s)
    if problems and check is None:
        detail = (
            f"{'; '.join(problems)}. Lifts when the ledger shows the fix, or when the accountant marks the invoice "
            f"checked: arsync invoices confirm {inv.client_id} {inv.number} --note TEXT"
        )
        items.append(hold(Hold.INVOICE_DEFECT, detail))
    if check is not None:
        items.append((None, _checked(check)))
    note = long_terms_note(s)
    if note is not None:
        items.append((None, note))
    return Found(tuple(items), needs_person=bool(problems) and check is None) if items else NOTHING


def invoice_problems(s: Subject) -> list[str]:
    """What is wrong with the invoice itself, each with what to fix."""
    inv, client = s.inv, s.client
    out = []
    if inv.due_date is None:
        out.append(
            "the invoice states no due date: set it in the ledger (a confirmation cannot give it one; until then "
            "the invoice stays not_due)"
        )
    elif inv.due_date < inv.issue_date:
        out.append(
            f"the due date {inv.due_date.isoformat()} is before the issue date {inv.issue_date.isoformat()}: "
            "correct the due date in the ledger"
        )
    if inv.amount <= ZERO:
        out.append(
            f"the invoice amount is {inv.amount} {inv.currency}: correct it in the ledger, or credit the invoice"
        )
    channel = s.nxt.step.channel if s.nxt is not None else "outbox"
    account = client.creditor.bank_account or inv.payee_account or any(b.account for b in client.bank)
    if inv.source == "ehf" and not inv.kid and not account:
        out.append(
            "the e-invoice gives no way to pay: no payee account (BT-84) and no payment reference (KID, BT-83), "
            "and the client's config names no account: send a corrected invoice, or set the client's account "
            "([clients.creditor] bank_account)"
        )
    elif channel in LETTER_CHANNELS and not account:  # a letter must say where to pay, or it is no lawful demand
        out.append(
            "a letter must say where to pay and no account is known: the invoice names none and the config has "
            "no [clients.creditor] bank_account (nor a [[clients.bank]] account): set it"
        )
    customer = s.ctx.customers.get(inv.customer_id)
    if customer is not None:
        channel = s.nxt.step.channel if s.nxt is not None else "outbox"
        postal = bool(customer.address) or bool(customer.postal_code and customer.city)
        if channel == "email" and not customer.email:
            out.append(
                f"the first reminder goes by e-mail and customer {customer.name} has no e-mail address: add it in "
                "the ledger"
            )
        elif not (customer.email or postal or inv.source == "ehf"):  # an EHF invoice reached a PEPPOL endpoint
            out.append(
                f"customer {customer.name} cannot be reached: no e-mail, no postal address and no PEPPOL endpoint: "
                "add one in the ledger"
            )
    return out


def long_terms_note(s: Subject) -> Evidence | None:
    """Payment terms longer than the country's B2B limit need an express agreement: noted, never held (the
    agreement is not in the ledger)."""
    inv = s.inv
    customer = s.ctx.customers.get(inv.customer_id)
    if inv.due_date is None or customer is None or customer.is_person:
        return None
    try:
        pack = pack_on(s.client.country, inv.issue_date)
    except RulePackError:
        return None
    days = (inv.due_date - inv.issue_date).days
    limit = pack.b2b_max_payment_days
    if limit is None or days <= limit:
        return None
    law = pack.cites("payment_terms") or f"the {s.client.country} rule pack"
    detail = (
        f"payment terms of {days} days are longer than the {limit} days {law} allows between businesses unless "
        "expressly agreed: check the agreement (a note, not a hold)"
    )
    return Evidence("note", detail, on=inv.due_date)


def disputed(s: Subject, held: Sequence[Hold]) -> Found:
    open_disputes = [d for d in s.disputes if d.is_open and d.opened_on <= s.as_of]
    if not open_disputes:
        return NOTHING
    items = tuple(hold(Hold.DISPUTED, f"{d.source}: {d.reason}", d.dispute_id, d.opened_on) for d in open_disputes)
    return Found(items, State.DISPUTED)


def part_payment(s: Subject, held: Sequence[Hold]) -> Found:
    """A partly paid (or partly credited) invoice: its remainder is what is owed. With the default policy
    (``partial_payment = "remind"``) the remainder walks the ladder; ``"review"`` asks a person first; a
    payment whose text names a deduction or a complaint always does (``partly_paid``). Every payment is
    shown with its date and amount, and the amount still owed, for the letters."""
    inv, open_amount = s.inv, s.open_amount
    paid = credited = ZERO
    for a in s.allocations:
        if a.tier == "credit_note":
            credited += a.amount
        else:
            paid += a.amount
    if paid <= ZERO and credited <= ZERO:
        return NOTHING
    items: list[tuple[Hold | None, Evidence]] = [
        (
            None,
            Evidence(
                "owed",
                f"invoice {inv.amount} {inv.currency}; received {paid}; credited {credited}; "
                f"still owed {open_amount} {inv.currency}",
                amount=open_amount,
            ),
        )
    ]
    if paid <= ZERO:
        return Found(tuple(items))
    check = s.ctx.checks.get(inv.number)
    confirmed_on = check.checked_on if check is not None and check.checked_on <= s.as_of else None
    way_out = (
        f"Lifts when the rest is paid or credited, or when the accountant confirms the rest is owed: "
        f"arsync invoices confirm {inv.client_id} {inv.number} --note TEXT (a dispute: arsync disputes open)"
    )
    for a in s.allocations:
        p = s.ctx.payments.get(a.source_key) if a.tier != "credit_note" and a.amount > ZERO else None
        word = deduction_word(p.free_text) if p is not None else None
        if p is None or word is None or (confirmed_on is not None and confirmed_on >= p.booking_date):
            continue
        text = " ".join(p.free_text.split())
        text = text if len(text) <= 140 else text[:139] + "…"
        detail = (
            f'the payment of {a.amount} {inv.currency} on {p.booking_date.isoformat()} says "{text}": '
            f"'{word}' names a deduction or a complaint, so a person decides whether the remaining "
            f"{open_amount} {inv.currency} is owed. {way_out}"
        )
        items.append(hold(Hold.PARTLY_PAID, detail, a.source_key, p.booking_date))
    deducted = len(items) > 1
    if not deducted and s.client.policy.partial_payment == "review":
        outside = _paid_outside_agreements(s)
        if outside is not None and (confirmed_on is None or confirmed_on < outside):
            detail = (
                f'{paid} of {inv.amount} {inv.currency} received (policy partial_payment = "review"): a person '
                f"decides whether the remaining {open_amount} {inv.currency} is owed. {way_out}"
            )
            items.append(hold(Hold.PARTLY_PAID, detail, on=outside))
    if confirmed_on is not None and check is not None:
        items.append((None, _checked(check)))
    return Found(tuple(items), needs_person=any(code is not None for code, _ in items))


def _paid_outside_agreements(s: Subject) -> date | None:
    """The last day the debtor paid something that no promise or instalment plan asked for (None: every
    payment is an instalment of an agreement, which the agreement rule follows)."""
    grace = timedelta(days=s.client.policy.grace_days)
    starts = [a.created_on - grace for a in s.agreements if a.created_on <= s.as_of]
    last: date | None = None
    for a in s.allocations:
        if a.tier == "credit_note" or a.amount <= ZERO:
            continue
        p = s.ctx.payments.get(a.source_key)
        day = p.booking_date if p is not None else s.as_of
        if any(day >= start for start in starts):
            continue
        last = day if last is None or day > last else last
    return last


def _checked(check: InvoiceCheck) -> Evidence:
    detail = f"checked by hand by {check.by} on {check.checked_on.isoformat()}: {check.note}"
    return Evidence("check", detail, on=check.checked_on)


def collected_by_creditor(s: Subject, held: Sequence[Hold]) -> Found:
    """Direct debit / card: the creditor collects the money itself. Nothing to dun until that collection
    visibly failed (money returned) or had ample time to arrive and did not."""
    method = s.inv.collection_method
    if not method or s.effective is None:
        return NOTHING
    returned = any(a.tier == "reversal" for a in s.allocations)
    settles_by = s.effective + timedelta(days=COLLECTION_SETTLE_DAYS)
    if returned or s.as_of > settles_by:
        return NOTHING
    detail = (
        f"collected by {method.replace('_', ' ')}: not dunned unless the collection "
        f"fails (returned, or nothing booked by {settles_by.isoformat()})"
    )
    return Found((hold(Hold.PAYMENT_PENDING, detail, on=settles_by),))


def paid_with_difference(s: Subject, held: Sequence[Hold]) -> Found:
    """Short within the payment tolerance (bank fees, rounding): recorded, never written off by itself,
    and never reminded for — the accountant settles it."""
    difference = s.recon.with_difference.get(s.inv.number)
    if difference is None or not ZERO < s.open_amount <= difference:
        return NOTHING
    detail = (
        f"paid with difference: {s.open_amount} {s.inv.currency} short within the payment tolerance; "
        "not written off and never reminded — settle it in the ledger"
    )
    return Found((hold(Hold.PAYMENT_PENDING, detail),), needs_person=True)


def pending_payment(s: Subject, held: Sequence[Hold]) -> Found:
    pending = s.recon.pending.get(s.inv.number)
    if not pending:
        return NOTHING
    items = []
    for p in pending:
        why = s.recon.pending_reason.get(p.key)
        detail = f"pending payment of {p.amount} {p.currency} ({p.source})" + (f": {why}" if why else "")
        items.append(hold(Hold.PAYMENT_PENDING, detail, p.key, p.booking_date))
    return Found(tuple(items))


def unallocated_credit(s: Subject, held: Sequence[Hold]) -> Found:
    credits = s.recon.unallocated_credit.get(s.inv.customer_id)
    if not credits:
        return NOTHING
    return Found(tuple(hold(Hold.UNALLOCATED_CREDIT, f"{c.kind}: {c.detail}", c.ref, c.on) for c in credits))


def document_status(s: Subject, held: Sequence[Hold]) -> Found:
    """E-invoice statuses: Invoice Response PD / CA due date, MLR/MLS rejection."""
    if not s.doc_holds:
        return NOTHING
    return Found(tuple(hold(dh.hold, dh.detail, dh.ref, dh.on) for dh in s.doc_holds))


def unreadable_document(s: Subject, held: Sequence[Hold]) -> Found:
    """A ledger file that does not read and could change this invoice (``connector.dunning.unreadable``)."""
    if not s.ctx.unreadable:
        return NOTHING
    inv = s.inv
    found = s.ctx.unreadable.holds_for(inv.number, inv.customer_id, s.ctx.customers.get(inv.customer_id))
    return Found(tuple(found)) if found else NOTHING


def unreadable_row(s: Subject, held: Sequence[Hold]) -> Found:
    """A stored row that cannot be read and could change this invoice (``connector.dunning.stored``)."""
    if not s.ctx.unreadable_rows:
        return NOTHING
    found = s.ctx.unreadable_rows.holds_for(s.inv.number, s.inv.customer_id)
    return Found(tuple(found)) if found else NOTHING


def conflicting_document(s: Subject, held: Sequence[Hold]) -> Found:
    """Two documents carry this invoice's number (or a credit note's that credits it) with different content:
    a person decides which is right (``connector.dunning.stored``)."""
    found = s.ctx.conflicts.get(s.inv.number) if s.ctx.conflicts else None
    return Found(found, needs_person=True) if found else NOTHING


def data_freshness(s: Subject, held: Sequence[Hold]) -> Found:
    """The client's bank and ledger data (decided once per client by ``decide.client_holds``)."""
    return Found(tuple(s.client_holds)) if s.client_holds else NOTHING


def below_minimum(s: Subject, held: Sequence[Hold]) -> Found:
    minimum = s.client.policy.min_amount
    if s.open_amount >= minimum:
        return NOTHING
    return Found((hold(Hold.BELOW_MINIMUM, f"open {s.open_amount} is below the minimum {minimum}"),))


def factored(s: Subject, held: Sequence[Hold]) -> Found:
    if not s.inv.factored:
        return NOTHING
    return Found((hold(Hold.FACTORED, "payable to a factoring company (type code or payee)"),))


def excluded(s: Subject, held: Sequence[Hold]) -> Found:
    found = extra_holds.exclusion_holds(s.ctx.exclusions, s.inv, s.as_of)
    return Found(tuple(found)) if found else NOTHING


def agreement(s: Subject, held: Sequence[Hold]) -> Found:
    """An active promise or plan holds; a broken one lifts its hold and is shown (the pipeline logs it)."""
    if not s.agreements:
        return NOTHING
    holds, notes = extra_holds.agreement_holds(
        s.agreements, s.allocations, s.ctx.payment_dates, s.as_of, s.client.policy.grace_days, s.ctx.plan_paid
    )
    broken = [ev for ev in notes if ev.kind == "agreement_broken"]
    if broken and not holds and s.nxt is not None:  # say where dunning goes on (true on every later night too)
        resumes = f"; dunning of the {s.open_amount} {s.inv.currency} still owed goes on: next step {s.nxt.action}"
        broken = [replace(ev, detail=ev.detail + resumes) for ev in broken]
    kept = [ev for ev in notes if ev.kind != "agreement_broken"]
    items: list[tuple[Hold | None, Evidence]] = [(None, ev) for ev in (*kept, *broken)]
    items.extend(holds)
    return Found(tuple(items)) if items else NOTHING


def call_step(s: Subject, held: Sequence[Hold]) -> Found:
    """The call step (playbook step 3). Every call to the customer since the invoice fell due is shown. At a
    ``call`` rung that is due: after a call nobody answered, the customer is back on the call list only
    ``call_retry_days`` later (the ladder goes on once ``call_attempts`` calls went unanswered: the log records
    the step then); after a wrong number a person finds the right one (``invoice_defect``, step 1's code for
    "no address for the channel") — it lifts when the ledger's number changes or the invoice is confirmed."""
    due = s.inv.due_date
    calls = [c for c in s.ctx.calls.get(s.inv.customer_id, ()) if c.called_on <= s.as_of]
    shown = [c for c in calls if due is None or c.called_on >= due]
    if not shown:
        return NOTHING
    items: list[tuple[Hold | None, Evidence]] = [(None, call_evidence(c)) for c in shown]
    nxt, policy = s.nxt, s.client.policy
    needs_person = False
    if nxt is not None and nxt.action is Action.CALL and s.step_due(held):
        since = max((st.sent_on for st in s.steps), default=s.effective or date.min)
        at_rung = [c for c in shown if c.called_on >= since]
        last = at_rung[-1] if at_rung else None
        if last is not None and last.outcome is CallOutcome.WRONG_NUMBER:
            customer = s.ctx.customers.get(s.inv.customer_id)
            now = _digits(customer.phone if customer else None)
            check = s.ctx.checks.get(s.inv.number)
            confirmed = check is not None and last.called_on <= check.checked_on <= s.as_of
            if now == _digits(last.phone) and not confirmed:
                detail = (
                    f"the number {last.phone or '(none)'} was wrong (call {last.call_id} of "
                    f"{last.called_on.isoformat()}): correct the customer's phone number in the ledger (lifts when "
                    f"it changes), or once reached another way: arsync invoices confirm {s.inv.client_id} "
                    f"{s.inv.number} --note TEXT"
                )
                items.append(hold(Hold.INVOICE_DEFECT, detail, last.call_id, last.called_on))
                needs_person = True
        elif last is not None and last.outcome is CallOutcome.NO_ANSWER:
            tries = sum(1 for c in at_rung if c.outcome is CallOutcome.NO_ANSWER)
            again = call_retry_on(last.called_on, s.client)
            if tries < policy.call_attempts and s.as_of < again:
                detail = (
                    f"no answer on {last.called_on.isoformat()} (call {tries} of {policy.call_attempts}): back on "
                    f"the call list from {again.isoformat()} (policy call_retry_days)"
                )
                items.append(hold(Hold.WAIT_INTERVAL, detail, last.call_id, again))
    return Found(tuple(items), needs_person=needs_person)


def call_retry_on(called_on: date, client: ClientConfig) -> date:
    """The day an unanswered customer is back on the call list: ``call_retry_days`` later, moved to the next
    business day of the client's country (nobody calls a business on a Saturday)."""
    return effective_due_date(called_on + timedelta(days=client.policy.call_retry_days), client.country)


def call_evidence(c: Call) -> Evidence:
    """One call as evidence: when, to which number, and how it ended."""
    what = {
        CallOutcome.PROMISE: f"promised to pay by {c.promise_date.isoformat() if c.promise_date else '?'}",
        CallOutcome.INSTALMENTS: f"agreed {len(c.instalment_dates)} instalments"
        + (f" from {c.instalment_dates[0].isoformat()}" if c.instalment_dates else ""),
        CallOutcome.DISPUTE: f"disputes: {c.reason}",
        CallOutcome.NO_ANSWER: "no answer",
        CallOutcome.WRONG_NUMBER: "wrong number",
    }[c.outcome]
    who = f" ({c.contact})" if c.contact else ""
    notes = f"; notes: {c.notes}" if c.notes else ""
    agreed = f"; agreement {c.agreement_id}" if c.agreement_id else ""
    detail = f"call to {c.phone or 'no number'}{who}: {what}{agreed}{notes}"
    return Evidence("call", detail, c.call_id, on=c.called_on)


def _digits(phone: str | None) -> str:
    return "".join(ch for ch in phone or "" if ch.isdigit())


_REOPEN = "to collect it after all: `arsync cases reopen {} --note …`"


def collection_case(s: Subject, held: Sequence[Hold]) -> Found:
    case = s.case
    if case is None:
        return NOTHING
    state = None
    items: list[tuple[Hold | None, Evidence]] = []
    if case.status in (CaseStatus.PUSHED, CaseStatus.CLOSED):
        state = State.IN_COLLECTION if case.status is CaseStatus.PUSHED else None
        detail = f"case {case.case_id} is with the provider"
        items.append(hold(Hold.IN_COLLECTION, detail, case.case_id, case.created_on))
    elif case.status is CaseStatus.PROPOSED:
        detail = f"case {case.case_id} waits for the accountant"
        items.append(hold(Hold.AWAITING_APPROVAL, detail, case.case_id, case.created_on))
    elif case.status is CaseStatus.REJECTED:
        detail = f"the accountant rejected case {case.case_id}: {case.note}; {_REOPEN.format(case.case_id)}"
        items.append(hold(Hold.EXCLUDED, detail, case.case_id))
    elif case.status is CaseStatus.WITHDRAWN:  # withdrawn from collection: never back into dunning by itself
        again = (
            "it had reached the provider, and arsync never sends a case twice: to collect it after all, register "
            "the claim again in the provider's portal"
            if case.provider_ref
            else _REOPEN.format(case.case_id)
        )
        items.append(hold(Hold.EXCLUDED, f"case {case.case_id} was withdrawn: {case.note}; {again}", case.case_id))
    items.append((None, Evidence("case", f"collection case {case.status}", case.case_id, case.open_amount)))
    return Found(tuple(items), state)


def letter_deadline(s: Subject, held: Sequence[Hold]) -> Found:
    """Evidence for the next step after a letter that stated a deadline: the letter, its deadline and the
    first day the step may be taken (``connector.dunning.ladder``)."""
    nxt = s.nxt
    last = last_deadline_letter(s.steps) if nxt is not None and s.steps else None
    if nxt is None or last is None:
        return NOTHING
    deadline = stated_deadline(s.client, last.step, last.sent_on, s.steps)
    if deadline is None:
        return NOTHING
    settle = s.client.policy.settle_days
    earliest = after_deadline(deadline, s.client.country, settle)
    detail = (
        f"the {last.step} of {last.sent_on.isoformat()} gave the debtor until {deadline.isoformat()}; the "
        f"{nxt.action} not before {earliest.isoformat()} (the first business day after the deadline + {settle} "
        "business days for a payment made on it to reach the bank files)"
    )
    return Found(((None, Evidence("deadline", detail, on=deadline)),))


def ladder_interval(s: Subject, held: Sequence[Hold]) -> Found:
    """The next rung's day (policy days, legal minimum intervals) has not come."""
    nxt = s.nxt
    if nxt is None or s.effective is None or s.as_of >= nxt.due_on or Hold.NOT_DUE in held:
        return NOTHING
    return Found((hold(Hold.WAIT_INTERVAL, f"{nxt.action} not before {nxt.due_on.isoformat()}", on=nxt.due_on),))


def customer_interval(s: Subject, held: Sequence[Hold]) -> Found:
    """Per customer: one step at a time, with the policy's minimum interval between letters to them."""
    nxt = s.nxt
    if nxt is None or nxt.action is Action.COLLECTION_CASE or not s.step_due(held):
        return NOTHING
    number = s.inv.number
    others = [st for st in s.ctx.customer_steps.get(s.inv.customer_id, ()) if st.invoice_number != number]
    found = extra_holds.customer_interval_hold(others, number, s.as_of, s.client.policy.customer_interval_days)
    return Found(tuple(found)) if found else NOTHING


def business_register(s: Subject, held: Sequence[Hold]) -> Found:
    """Before a notice or case: an insolvent debtor is a review; no fresh register answer is a wait."""
    customer = s.ctx.customers.get(s.inv.customer_id)
    case = s.case
    registry_next = Action.COLLECTION_CASE if case is not None and case.status is CaseStatus.APPROVED else None
    holds, unverified = extra_holds.registry_holds(
        customer,
        s.ctx,
        registry_next or (s.nxt.action if s.nxt else None),
        s.step_due(held) or registry_next is not None,
        s.as_of,
    )
    shown = extra_holds.registry_evidence(customer, s.ctx)
    if not holds and not shown:
        return NOTHING
    items: list[tuple[Hold | None, Evidence]] = list(holds)
    items.extend((None, ev) for ev in shown)
    return Found(tuple(items), unverified=unverified)


def charges(s: Subject, held: Sequence[Hold]) -> Found:
    """Fee, late interest and B2B compensation of an overdue invoice, shown as evidence."""
    effective = s.effective
    if effective is None or s.as_of <= effective:
        return NOTHING
    nxt = s.nxt
    shown = charge_evidence(
        s.inv,
        s.client.country,
        s.open_amount,
        effective,
        s.as_of,
        nxt.action if nxt else None,
        bool(nxt and nxt.step.fee),
        s.steps,
        s.client.policy.fee_agreed,
        s.ctx.customers.get(s.inv.customer_id),
    )
    return Found(tuple((None, ev) for ev in shown)) if shown else NOTHING


RULES: tuple[HoldRule, ...] = (
    HoldRule("due", due, (Hold.NOT_DUE,), "lifts on the due date + grace days"),
    HoldRule(
        "invoice_check",
        invoice_check,
        (Hold.INVOICE_DEFECT,),
        "lifts when the ledger shows the fix, or by `arsync invoices confirm`",
    ),
    HoldRule("disputed", disputed, (Hold.DISPUTED,), "`arsync disputes resolve`"),
    HoldRule(
        "part_payment",
        part_payment,
        (Hold.PARTLY_PAID,),
        "lifts when the rest is paid or credited, or by `arsync invoices confirm`; policy partial_payment",
    ),
    HoldRule(
        "collected_by_creditor",
        collected_by_creditor,
        (Hold.PAYMENT_PENDING,),
        "lifts when the collection is returned or has had its settle days",
    ),
    HoldRule("paid_with_difference", paid_with_difference, (Hold.PAYMENT_PENDING,), "settle it in the ledger"),
    HoldRule("pending_payment", pending_payment, (Hold.PAYMENT_PENDING,), "lifts when the bank books or drops it"),
    HoldRule(
        "unallocated_credit",
        unallocated_credit,
        (Hold.UNALLOCATED_CREDIT,),
        "lifts when the credit is allocated in the ledger",
    ),
    HoldRule(
        "document_status",
        document_status,
        (Hold.BUYER_REPORTS_PAID, Hold.NOT_DUE, Hold.NOT_DELIVERED),
        "lifts when the money is seen, the new due date passes, or delivery is confirmed",
    ),
    HoldRule(
        "unreadable_document",
        unreadable_document,
        (Hold.UNREADABLE_DOCUMENT,),
        "lifts when the file reads, or by `arsync files quarantine`",
    ),
    HoldRule(
        "unreadable_row",
        unreadable_row,
        (Hold.UNREADABLE_DOCUMENT,),
        "lifts when the stored row reads again: the document delivered again rewrites it, or the value is corrected",
    ),
    HoldRule(
        "conflicting_document",
        conflicting_document,
        (Hold.CONFLICTING_DOCUMENT,),
        "lifts when the refused document leaves the folder or the ledger agrees again, or by "
        "`arsync files quarantine` (of either document)",
    ),
    HoldRule(
        "data_freshness",
        data_freshness,
        (Hold.BANK_DATA_STALE, Hold.LEDGER_STALE),
        "lifts when bank and ledger data are fresh; a bank file that does not read: when it reads, or by "
        "`arsync files quarantine`; a stored payment that does not read: when it reads again",
    ),
    HoldRule("below_minimum", below_minimum, (Hold.BELOW_MINIMUM,), "policy.min_amount"),
    HoldRule("factored", factored, (Hold.FACTORED,), "the factoring company collects; none in arsync"),
    HoldRule("excluded", excluded, (Hold.EXCLUDED,), "the exclusion ends or is lifted"),
    HoldRule("agreement", agreement, (Hold.AGREEMENT,), "lifts when the agreement ends, is kept or broken"),
    HoldRule(
        "call",
        call_step,
        (Hold.WAIT_INTERVAL, Hold.INVOICE_DEFECT),
        "no answer: back on the call list after policy.call_retry_days; wrong number: lifts when the ledger's "
        "number changes, or by `arsync invoices confirm`",
    ),
    HoldRule(
        "collection_case",
        collection_case,
        (Hold.IN_COLLECTION, Hold.AWAITING_APPROVAL, Hold.EXCLUDED),
        "`arsync cases approve/reject/withdraw`; a rejected case, or one withdrawn before it reached the provider: "
        "`arsync cases reopen`",
    ),
    HoldRule("letter_deadline", letter_deadline, (), "evidence only: the case timing"),
    HoldRule(
        "ladder_interval",
        ladder_interval,
        (Hold.WAIT_INTERVAL,),
        "lifts on the step's day (after a letter's deadline: + policy.settle_days business days)",
    ),
    HoldRule("customer_interval", customer_interval, (Hold.WAIT_INTERVAL,), "policy.customer_interval_days"),
    HoldRule(
        "business_register",
        business_register,
        (Hold.DEBTOR_INSOLVENT,),
        "lifts when the register answers 'active'; an estate is a review",
    ),
    HoldRule("charges", charges, (), "evidence only"),
)
