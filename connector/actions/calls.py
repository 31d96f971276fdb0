"""The call step (playbook step 3): who is on the call list, with what the caller needs to know, and what a
call logged makes happen. The CLI (``arsync calls list/log``) and the workbench call the same functions.

The call list: every customer with an invoice whose ``call`` rung is due (the decision's action is ``call``).
Per customer: the phone and contact from the ledger, every open invoice, what they owe (the open amounts and
the fees their letters charged, as the statement counts them), the letters sent, the payments and
credit notes applied, disputes, agreements, earlier calls, how they have paid before (average days late,
invoices that needed a reminder: ``connector.credit.history``), the credit level when a check was made, the
ladder step that follows when no agreement is made, and the playbook's guidance (``reports/call_guide.toml``).

A call logged (:func:`log_call`) is an append-only fact, written in one transaction with what it makes:

- ``promise`` / ``instalments``: one agreement (a plan over the invoices talked about and the fees their
  letters charged, judged as a whole: ``connector.dunning.holds.agreement_holds``), replacing any open one on
  those invoices (``manual.supersede``), and the call step taken; the written follow-up goes out with the
  night's run (``connector.actions.follow_up``);
- ``dispute``: a dispute on each of those invoices, and the call step taken;
- ``no_answer``: the customer is back on the list after ``call_retry_days``; the call that makes
  ``call_attempts`` unanswered calls takes the call step, and the ladder goes on;
- ``wrong_number``: the invoices are held ``invoice_defect`` (a review) until the ledger's number changes.
"""

from __future__ import annotations

import tomllib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from connector.actions import manual
from connector.actions.letters import fees_owed, following, plan_amounts
from connector.config import ClientConfig
from connector.credit.facts import LedgerHistory
from connector.credit.history import ledger_history
from connector.dunning.hold_rules import call_retry_on
from connector.errors import Refused
from connector.model import (
    ZERO,
    Action,
    Agreement,
    AllocationTier,
    Call,
    CallOutcome,
    Decision,
    Dispute,
    DisputeSource,
    DocKind,
    DunningStep,
    Facts,
    State,
)
from connector.reconcile.for_client import reconcile_facts
from connector.store import Store, audit
from connector.store import calls as calls_store
from connector.store import letters as book
from connector.store.credit_checks import latest_checks
from connector.store.disputes import add_agreement, add_dispute
from connector.store.facts import load_facts
from connector.store.sends import record_steps

CALL_CHANNEL = "phone"  # the channel a call step is recorded with


@cache
def _guide() -> dict[str, Any]:
    text = resources.files("connector.reports").joinpath("call_guide.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@dataclass(frozen=True)
class OpenInvoice:
    number: str
    issue_date: date
    due_date: date | None
    currency: str
    amount: Decimal
    open_amount: Decimal
    action: str
    holds: tuple[str, ...]
    call_due: bool  # its call step is due (why the customer is on the list)

    def as_json(self) -> dict[str, Any]:
        return {
            "invoice": self.number,
            "issue_date": self.issue_date.isoformat(),
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "currency": self.currency,
            "amount": str(self.amount),
            "open_amount": str(self.open_amount),
            "action": self.action,
            "holds": list(self.holds),
            "call_due": self.call_due,
        }


@dataclass(frozen=True)
class CallEntry:
    """One customer on the call list, with everything the caller needs."""

    client_id: str
    customer_id: str
    name: str
    phone: str
    contact: str
    email: str
    invoices: tuple[OpenInvoice, ...]
    owed: tuple[tuple[str, Decimal], ...]  # (currency, what is owed): the open invoices and the fees charged on them
    fees: tuple[tuple[str, Decimal], ...]  # (currency, the fees letters charged on the open invoices), in ``owed``
    letters: tuple[book.LetterRecord, ...]  # the letters sent to the customer, oldest first
    payments: tuple[tuple[date | None, Decimal, str, str], ...]  # (day, amount, currency, invoice) applied
    disputes: tuple[Dispute, ...]
    agreements: tuple[Agreement, ...]
    calls: tuple[Call, ...]  # earlier calls, oldest first
    history: LedgerHistory
    credit_level: str | None  # low / watch / high, when a credit check was made
    next_step: str  # what follows when no agreement is made
    guidance: tuple[str, ...] = field(default=())

    def fees_in(self, currency: str) -> Decimal:
        """The fees charged on the open invoices in ``currency`` (part of what ``owed`` says)."""
        return dict(self.fees).get(currency, ZERO)

    def _owed_json(self, currency: str, amount: Decimal) -> dict[str, str]:
        """What is owed in one currency: in all (``amount``), on the invoices and in fees."""
        fees = self.fees_in(currency)
        return {"currency": currency, "amount": str(amount), "invoices": str(amount - fees), "fees": str(fees)}

    def as_json(self) -> dict[str, Any]:
        h = self.history
        return {
            "client": self.client_id,
            "customer": self.customer_id,
            "name": self.name,
            "phone": self.phone or None,
            "contact": self.contact or None,
            "email": self.email or None,
            "owed": [self._owed_json(c, a) for c, a in self.owed],
            "invoices": [i.as_json() for i in self.invoices],
            "letters": [
                {
                    "letter": r.letter_id,
                    "kind": r.kind,
                    "sent_on": r.sent_on.isoformat(),
                    "invoices": list(r.invoices),
                    "total": str(r.total),
                    "currency": r.currency,
                    "pay_by": r.pay_by.isoformat() if r.pay_by else None,
                    "status": r.status,
                }
                for r in self.letters
            ],
            "payments": [
                {"date": d.isoformat() if d else None, "amount": str(a), "currency": c, "invoice": n}
                for d, a, c, n in self.payments
            ],
            "disputes": [
                {
                    "dispute_id": d.dispute_id,
                    "invoice": d.invoice_number,
                    "opened_on": d.opened_on.isoformat(),
                    "reason": d.reason,
                    "open": d.is_open,
                }
                for d in self.disputes
            ],
            "agreements": [
                {
                    "agreement": a.key,
                    "invoice": a.invoice_number,
                    "created_on": a.created_on.isoformat(),
                    "dates": [x.isoformat() for x in a.due_dates],
                    "removed_on": a.cancelled_on.isoformat() if a.cancelled_on else None,
                }
                for a in self.agreements
            ],
            "calls": [
                {
                    "call": c.call_id,
                    "on": c.called_on.isoformat(),
                    "outcome": str(c.outcome),
                    "phone": c.phone,
                    "notes": c.notes,
                }
                for c in self.calls
            ],
            "history": {
                "since": h.since.isoformat(),
                "invoices": h.invoices,
                "paid": h.paid,
                "avg_days_late": str(h.avg_days_late) if h.avg_days_late is not None else None,
                "max_days_late": h.max_days_late,
                "reminded": h.reminded,
                "collection_steps": h.collection_steps,
            },
            "credit_level": self.credit_level,
            "next_step": self.next_step,
            "guidance": list(self.guidance),
        }


def call_list(store: Store, client: ClientConfig, decisions: Sequence[Decision], as_of: date) -> list[CallEntry]:
    """The customers whose call is due, in the order of their oldest such invoice."""
    due = [d for d in decisions if d.action is Action.CALL]
    if not due:
        return []
    facts = store.read(load_facts, client.id)
    recon = reconcile_facts(facts, client)
    letters = store.read(book.load, client.id)
    checks = store.read(latest_checks, client.id)
    listed = {d.customer_id for d in due}
    fees = _fees(client, facts, [d for d in decisions if d.customer_id in listed and d.open_amount > ZERO], as_of)
    out: list[CallEntry] = []
    seen: set[str] = set()
    for d in due:
        if d.customer_id in seen:
            continue
        seen.add(d.customer_id)
        check = checks.get(d.customer_id)
        level = check.level.value if check else None
        entry = _entry(client, facts, recon, decisions, letters, fees, d.customer_id, as_of, level)
        out.append(entry)
    return out


def _entry(
    client: ClientConfig,
    facts: Facts,
    recon: Any,
    decisions: Sequence[Decision],
    letters: Sequence[book.LetterRecord],
    fees: dict[str, Decimal],
    customer_id: str,
    as_of: date,
    credit_level: str | None,
) -> CallEntry:
    customer = facts.customers.get(customer_id)
    mine = [d for d in decisions if d.customer_id == customer_id and d.open_amount > ZERO]
    invoices = {i.number: i for i in facts.invoices if i.kind is DocKind.INVOICE}
    items = tuple(
        OpenInvoice(
            d.invoice_number,
            invoices[d.invoice_number].issue_date,
            d.due_date,
            d.currency,
            d.amount,
            d.open_amount,
            str(d.action),
            tuple(str(h) for h in d.holds),
            d.action is Action.CALL,
        )
        for d in mine
        if d.invoice_number in invoices
    )
    owed: dict[str, Decimal] = {}
    charged: dict[str, Decimal] = {}
    for i in items:
        fee = fees.get(i.number, ZERO)
        owed[i.currency] = owed.get(i.currency, ZERO) + i.open_amount + fee
        charged[i.currency] = charged.get(i.currency, ZERO) + fee
    numbers = {i.number for i in items}
    payments = []
    for d in mine:
        for e in d.evidence:
            if e.kind in {t.value for t in AllocationTier} and e.amount is not None:
                payments.append((e.on, e.amount, d.currency, d.invoice_number))
    history = ledger_history(
        customer_id, facts.invoices, recon, facts.steps, facts.disputes, as_of, country=client.country
    )
    disputes = tuple(x for x in facts.disputes if x.invoice_number in numbers)
    agreements = tuple(a for a in facts.agreements if a.invoice_number in numbers)
    calls = tuple(c for c in facts.calls if c.customer_id == customer_id)
    first_due = next((d for d in mine if d.action is Action.CALL), mine[0] if mine else None)
    next_step = "none"
    if first_due is not None and first_due.invoice_number in invoices:
        inv = invoices[first_due.invoice_number]
        done = [s for s in facts.steps if s.invoice_number == inv.number]
        next_step = str(following(client, inv, done, Action.CALL, as_of).action)
    guide = _guide()
    lines = list(guide.get("guidance", []))
    situations = guide.get("situations", {})
    phone = (customer.phone if customer else None) or ""
    if not phone:
        lines.append(situations.get("no_phone", ""))
    if any(e.kind == "agreement_broken" for d in mine for e in d.evidence):
        lines.append(situations.get("broken", ""))
    if any(x.is_open for x in disputes):
        lines.append(situations.get("disputed", ""))
    if credit_level == "high":
        lines.append(situations.get("high_risk", ""))
    if any(c.outcome is CallOutcome.NO_ANSWER for c in calls):
        lines.append(situations.get("retry", ""))
    return CallEntry(
        client_id=client.id,
        customer_id=customer_id,
        name=customer.name if customer else customer_id,
        phone=phone,
        contact=(customer.contact if customer else None) or "",
        email=(customer.email if customer else None) or "",
        invoices=items,
        owed=tuple(sorted(owed.items())),
        fees=tuple(sorted((c, x) for c, x in charged.items() if x > ZERO)),
        letters=tuple(r for r in letters if r.customer_id == customer_id and r.status in book.COUNTS),
        payments=tuple(sorted(payments, key=lambda p: (p[0] or date.min, p[3]))),
        disputes=disputes,
        agreements=agreements,
        calls=calls,
        history=history,
        credit_level=credit_level,
        next_step=next_step,
        guidance=tuple(line for line in lines if line),
    )


# ---- logging a call -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Logged:
    call: Call
    agreement_id: str | None
    disputes: tuple[str, ...]
    steps: tuple[str, ...]  # the invoices whose call step the call took
    lines: tuple[str, ...]  # what happened, one line each (the CLI prints them)


def log_call(
    store: Store,
    client: ClientConfig,
    decisions: Sequence[Decision],
    customer_id: str,
    outcome: CallOutcome,
    as_of: date,
    *,
    by: str,
    promise_date: date | None = None,
    instalments: int | None = None,
    first: date | None = None,
    every_days: int = 30,
    reason: str = "",
    notes: str = "",
    now: datetime | None = None,
    address: str | None = None,
) -> Logged:
    """Record one call and what it makes (module docstring), with its audit row (``by`` at ``now``, from
    ``address`` when the workbench logged it). Raises ``Refused`` (nothing written) when the customer is
    unknown, has nothing open, or the options do not fit the outcome."""
    facts = store.read(load_facts, client.id)
    customer = facts.customers.get(customer_id)
    if customer is None:
        raise Refused(f"client '{client.id}' has no customer '{customer_id}' (see `arsync calls list`)")
    dates = _plan_dates(outcome, as_of, promise_date, instalments, first, every_days)
    if outcome is CallOutcome.DISPUTE and not reason.strip():
        raise Refused("--outcome dispute needs --reason (what the customer disputes)")
    mine = [d for d in decisions if d.customer_id == customer_id and d.open_amount > ZERO]
    at_rung = [d for d in mine if d.action is Action.CALL or d.next_step is Action.CALL]
    talked = (
        at_rung
        or [d for d in mine if d.state in (State.OVERDUE, State.DISPUTED) and d.action is not Action.NONE]
        or [d for d in mine if d.state is State.OVERDUE]
    )
    if not talked and outcome in (CallOutcome.PROMISE, CallOutcome.INSTALMENTS, CallOutcome.DISPUTE):
        raise Refused(f"customer '{customer_id}' of client '{client.id}' has no overdue invoice to agree on")
    currencies = {d.currency for d in talked}
    if dates and len(currencies) > 1:
        raise Refused("the invoices talked about are in several currencies: record one agreement per invoice instead")
    call_id = f"call-{uuid.uuid4().hex[:8]}"
    numbers = tuple(d.invoice_number for d in talked)
    agreement_id = call_id if dates else None
    call = Call(
        client.id, call_id, customer_id, as_of, outcome, customer.phone or "", customer.contact or "",
        promise_date, dates if outcome is CallOutcome.INSTALMENTS else (), reason.strip(), notes.strip(), numbers,
        agreement_id, by,
    )  # fmt: skip
    lines = [f"call {call_id} to {customer.name} ({customer_id}) logged: {outcome}"]
    step_for = [d.invoice_number for d in at_rung]
    disputes: list[str] = []
    if outcome is CallOutcome.NO_ANSWER:
        since = _rung_since(facts.steps, at_rung)
        tries = 1 + sum(
            1
            for c in facts.calls
            if c.customer_id == customer_id and c.outcome is CallOutcome.NO_ANSWER and c.called_on >= since
        )
        if tries < client.policy.call_attempts:
            step_for = []
            again = call_retry_on(as_of, client)
            lines.append(
                f"no answer ({tries} of {client.policy.call_attempts}): back on the call list from {again.isoformat()}"
            )
        elif step_for:
            lines.append(f"no answer {tries} times (policy call_attempts): the ladder goes on to its next step")
    elif outcome is CallOutcome.WRONG_NUMBER:
        step_for = []
        lines.append(
            "wrong number: the invoices are held for review (invoice_defect) until the customer's phone number in "
            "the ledger changes"
        )
    # the plan is for what the customer owes: the invoices and the fees their letters charged (as the statement)
    fees = sum(_fees(client, facts, talked, as_of).values(), start=ZERO)
    total = sum((d.open_amount for d in talked), start=ZERO) + fees
    at = now or store.now()
    with store.transaction() as conn:  # the call, what it makes and its audit row commit together
        calls_store.record_call(conn, call, at=at)
        detail = f"{call_id}: {outcome}" + (f"; {call.notes}" if call.notes else "")
        audit.record(conn, audit.AuditEntry(at, by, "call.log", client.id, customer_id, detail, address))
        if dates:
            # one open agreement per invoice: this plan replaces any made before on these invoices
            replaced = manual.supersede(conn, client.id, numbers, call_id, as_of, actor=by, now=at, address=address)
            amounts = plan_amounts(total, len(dates))
            for d in talked:
                add_agreement(
                    conn,
                    Agreement(
                        client.id, d.invoice_number, f"{call_id}-{d.invoice_number}", as_of, dates,
                        f"agreed on the call {call_id}" + (f": {notes.strip()}" if notes.strip() else ""),
                        plan_id=call_id, amounts=amounts,
                    ),
                )  # fmt: skip
            plan = ", ".join(
                f"{a} {talked[0].currency} by {x.isoformat()}" for x, a in zip(dates, amounts, strict=True)
            )
            named = ", ".join(numbers)
            of = ""
            if fees > ZERO:  # what the plan is made of, as the call list said it
                of = f" ({total} {talked[0].currency} in all: " if len(dates) > 1 else " ("
                of += f"{total - fees} + fees {fees})"
            lines.append(
                f"agreement {call_id} over invoice(s) {named}: {plan}{of}; the written follow-up goes out tonight"
            )
            lines.extend(manual.superseded_lines(replaced))
        if outcome is CallOutcome.DISPUTE:
            for d in talked:
                dispute_id = f"{call_id}-{d.invoice_number}"
                add_dispute(
                    conn,
                    Dispute(
                        client.id,
                        d.invoice_number,
                        dispute_id,
                        as_of,
                        f"on the call {call_id}: {reason.strip()}",
                        DisputeSource.MANUAL,
                    ),
                )
                disputes.append(dispute_id)
            lines.append(f"dispute opened on invoice(s) {', '.join(numbers)}: dunning stops until it is resolved")
        if step_for:
            detail = f"call {call_id}: {outcome}"
            record_steps(
                conn,
                [
                    DunningStep(client.id, n, Action.CALL, as_of, CALL_CHANNEL, currency=_cur(talked, n), detail=detail)
                    for n in step_for
                ],
            )
            lines.append(f"call step taken for invoice(s) {', '.join(step_for)}")
    return Logged(call, agreement_id, tuple(disputes), tuple(step_for), tuple(lines))


def _fees(client: ClientConfig, facts: Facts, decisions: Sequence[Decision], as_of: date) -> dict[str, Decimal]:
    """Invoice → the fees its letters charged (``fees_owed``, as the statement counts them)."""
    invoices = {i.number: i for i in facts.invoices if i.kind is DocKind.INVOICE}
    mine = [invoices[d.invoice_number] for d in decisions if d.invoice_number in invoices]
    return fees_owed(client, facts, mine, as_of) if mine else {}


def _cur(decisions: Sequence[Decision], number: str) -> str:
    return next((d.currency for d in decisions if d.invoice_number == number), "")


def _rung_since(steps: Sequence[DunningStep], at_rung: Sequence[Decision]) -> date:
    """The day of the last step before the call rung of these invoices: calls from then on count."""
    numbers = {d.invoice_number for d in at_rung}
    days = [s.sent_on for s in steps if s.invoice_number in numbers]
    return max(days) if days else date.min


def _plan_dates(
    outcome: CallOutcome,
    as_of: date,
    promise_date: date | None,
    instalments: int | None,
    first: date | None,
    every_days: int,
) -> tuple[date, ...]:
    if outcome is CallOutcome.PROMISE:
        if promise_date is None or instalments is not None or first is not None:
            raise Refused("--outcome promise needs --promise-date (and no --instalments/--first)")
        if promise_date <= as_of:
            raise Refused(f"the promised day {promise_date.isoformat()} must be after {as_of.isoformat()}")
        _within_a_year("the promised day", promise_date, as_of)
        return (promise_date,)
    if outcome is CallOutcome.INSTALMENTS:
        if instalments is None or first is None or promise_date is not None:
            raise Refused("--outcome instalments needs --instalments N and --first DATE (and --every, 30d by default)")
        if first <= as_of:
            raise Refused(f"the first instalment {first.isoformat()} must be after {as_of.isoformat()}")
        _within_a_year("the first instalment", first, as_of)
        return tuple(first + timedelta(days=every_days * k) for k in range(instalments))
    if promise_date is not None or instalments is not None or first is not None:
        raise Refused(f"--outcome {outcome} takes no --promise-date, --instalments or --first")
    return ()


def _within_a_year(what: str, day: date, as_of: date) -> None:
    if day > as_of + manual.PROMISE_HORIZON:  # a typo in the year would hold dunning for decades
        raise Refused(f"{what} {day.isoformat()} is more than a year after {as_of.isoformat()}: check the year")
