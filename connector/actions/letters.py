"""What a letter says, built from the night's decisions and the client's facts: everything the letters package
(``connector.letters``) leaves to the send path.

- the creditor from ``[clients.creditor]`` (name and org no from ``[[clients]]``); the account to pay to is
  ``bank_account``, else the account the invoice names, else the bank feed's: a letter that cannot say where
  to pay is refused (:class:`LetterError`; the invoice is held ``invoice_defect`` before its first letter);
- the debtor from the ledger's customer, its contact as "Att.";
- each invoice with the payments and credit notes applied to it, dated, from the decision's evidence (so what
  the letter says is owed is what the decision proved: checked to the øre);
- the fee (per letter or per claim, as the rule pack says) and the late interest, each with the legal basis
  the pack cites; the pay-by date from the rule pack and the ladder (``connector.dunning.ladder``); the next
  step named; how to pay (account, each invoice's KID).

:func:`groups` puts the night's letters together: with ``group_by_customer`` (the default) all of one
customer's invoices due for the same step on the same day, by the same channel, in the same currency and with
the same pay-by date, go in one letter; a held invoice has no letter decision and is simply not in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from connector.config import ClientConfig, StepConfig
from connector.dunning.calendar import effective_due_date, next_business_day
from connector.dunning.deadlines import pay_by_date
from connector.dunning.fees import fee_for
from connector.dunning.interest import late_interest, rates_applied
from connector.dunning.ladder import next_step, stated_deadline
from connector.dunning.rules import RulePack, RulePackError, pack_on
from connector.files import safe_name
from connector.letters import (
    Charge,
    ChargeKind,
    CreditApplied,
    Creditor,
    Debtor,
    FollowUp,
    Handover,
    Instalment,
    InvoiceLine,
    Letter,
    LetterKind,
    Money,
    NextAction,
    NextStep,
    PaymentDetails,
    PaymentReceived,
    PostalAddress,
)
from connector.model import (
    ZERO,
    Action,
    Agreement,
    AllocationTier,
    Call,
    Case,
    Customer,
    Decision,
    DocKind,
    DunningStep,
    Facts,
    Invoice,
)

LETTER_ACTIONS = (Action.REMINDER, Action.COLLECTION_NOTICE)
_TIERS = frozenset(t.value for t in AllocationTier)
# The reference printed on a letter ("Vår ref.") starts with its kind: language-neutral letters.
KIND_CODE = {
    LetterKind.REMINDER: "R",
    LetterKind.COLLECTION_NOTICE: "N",
    LetterKind.COLLECTION_CASE: "C",
    LetterKind.FOLLOW_UP: "F",
    LetterKind.STATEMENT: "S",
}
_NEXT = {
    Action.REMINDER: NextAction.REMINDER,
    Action.CALL: NextAction.CALL,
    Action.COLLECTION_NOTICE: NextAction.COLLECTION_NOTICE,
    Action.COLLECTION_CASE: NextAction.COLLECTION_CASE,
}
# What the collection providers call themselves to a debtor, when [clients.collection] agency is unset.
PROVIDER_AGENCY = {"kravia": "Kravia AS", "debitura": "Debitura"}


class LetterError(ValueError):
    """A letter cannot be made lawful or correct (no account to pay to, amounts that do not add up): it is not
    sent, and the message says what to fix."""


# ---- grouping ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """The invoices one ladder letter names: one customer, one step, one channel, currency and pay-by date."""

    step: Action
    customer_id: str
    channel: str
    currency: str
    pay_by: date | None
    decisions: tuple[Decision, ...]

    @property
    def numbers(self) -> tuple[str, ...]:
        return tuple(d.invoice_number for d in self.decisions)


def groups(client: ClientConfig, facts: Facts, decisions: Iterable[Decision], as_of: date) -> list[Group]:
    """The night's letters: each decision to send a reminder or a notice, put together by customer (one letter
    per invoice without ``group_by_customer``). Order: by the first invoice's place in ``decisions``."""
    invoices = {i.number: i for i in facts.invoices if i.kind is DocKind.INVOICE}
    done = steps_by_invoice(facts.steps)
    keyed: dict[tuple[object, ...], Group] = {}
    for d in decisions:
        if d.action not in LETTER_ACTIONS or d.invoice_number not in invoices:
            continue
        inv = invoices[d.invoice_number]
        rung = _rung(client, inv, done.get(inv.number, []))
        channel = rung.channel if rung is not None else client.reminders.channel
        pay_by = stated_deadline(client, d.action, as_of, done.get(inv.number, []))
        key: tuple[object, ...] = (d.customer_id, d.action, channel, d.currency, pay_by)
        if not client.policy.group_by_customer or channel == "tripletex":  # Tripletex writes one per invoice
            key = (*key, d.invoice_number)
        group = keyed.get(key) or Group(d.action, d.customer_id, channel, d.currency, pay_by, ())
        keyed[key] = replace(group, decisions=(*group.decisions, d))
    return list(keyed.values())


def steps_by_invoice(steps: Iterable[DunningStep]) -> dict[str, list[DunningStep]]:
    out: dict[str, list[DunningStep]] = {}
    for s in steps:
        out.setdefault(s.invoice_number, []).append(s)
    return out


def _effective(inv: Invoice, country: str) -> date:
    return effective_due_date(inv.due_date or inv.issue_date, country)


def _rung(client: ClientConfig, inv: Invoice, done: Sequence[DunningStep]) -> StepConfig | None:
    nxt = next_step(client.policy.steps, done, _effective(inv, client.country))
    return nxt.step if nxt is not None else None


# ---- fees ----------------------------------------------------------------------------------------------


def fee_history(
    number: str, steps: Sequence[DunningStep], fee_letters: Iterable[tuple[date, Decimal]]
) -> list[DunningStep]:
    """An invoice's steps as the fee limits count them: a letter that named it and carried a fee counts as a
    fee-bearing notice for it too, whichever invoice's step recorded the fee (the stricter reading)."""
    out = list(steps)
    for sent_on, fee in fee_letters:
        for i, s in enumerate(out):
            if s.sent_on == sent_on and s.fee <= ZERO and fee > ZERO:
                out[i] = DunningStep(s.client_id, number, s.step, s.sent_on, s.channel, fee, s.currency, s.detail)
    return out


def letter_fees(
    client: ClientConfig,
    step: Action,
    invoices: Sequence[Invoice],
    history: Mapping[str, Sequence[DunningStep]],
    as_of: date,
) -> tuple[dict[str, Decimal], str]:
    """The fee each invoice's step records, and why. Each claim's limits count per claim (days after due, how
    many fee-bearing notices, the interval between them). Per letter (the rule pack's ``fee_per``, and the
    default): one fee, and only when every invoice named may carry one (the stricter reading); it is recorded
    on the first invoice. Per claim: each invoice its own."""
    fees: dict[str, Decimal] = {}
    reasons: list[str] = []
    for inv in invoices:
        done = list(history.get(inv.number, ()))
        rung = _rung(client, inv, [s for s in done if s.sent_on < as_of])
        fee = fee_for(
            step,
            bool(rung and rung.fee),
            country=client.country,
            currency=inv.currency,
            due=_effective(inv, client.country),
            sent_on=as_of,
            previous=done,
            fee_agreed=client.policy.fee_agreed,
        )
        fees[inv.number] = fee.amount
        reasons.append(f"{inv.number}: {fee.reason}")
    try:
        per = pack_on(client.country, as_of).fee_per
    except RulePackError:
        per = "letter"
    if per == "claim" or len(invoices) == 1:
        return fees, "; ".join(reasons)
    first = invoices[0].number
    if all(fees[i.number] > ZERO for i in invoices):
        return {i.number: (fees[first] if i.number == first else ZERO) for i in invoices}, "one fee per letter"
    return {
        i.number: ZERO for i in invoices
    }, "no fee: per letter, and not every invoice in it may carry one: " + "; ".join(reasons)


# ---- the parts ------------------------------------------------------------------------------------------


def account_of(client: ClientConfig, invoices: Sequence[Invoice]) -> str:
    """Where the debtor pays: the config's account; else, with only an IBAN configured, that IBAN's account
    (the national part in Norway and Denmark, else the IBAN itself) — never another account beside it; else
    the one the invoice names, else the bank feed's."""
    c = client.creditor
    account = c.bank_account or (_iban_account(c.iban) if c.iban else "")
    account = account or next((i.payee_account for i in invoices if i.payee_account), "") or ""
    account = account or next((b.account for b in client.bank if b.account), "") or ""
    if not account:
        raise LetterError(
            f"client '{client.id}': a letter must say where to pay and no account is known: set "
            "[clients.creditor] bank_account"
        )
    return account


def _iban_account(iban: str) -> str:
    """The account an IBAN names, as a debtor of its country writes it (NO: the 11 digits; DK: reg. no. and
    account); elsewhere the IBAN itself."""
    if iban.startswith("NO") and len(iban) == 15:
        return iban[4:]
    if iban.startswith("DK") and len(iban) == 18:
        return f"{iban[4:8]} {iban[8:]}"
    return iban


def _shown_iban(client: ClientConfig, account: str) -> str:
    """The IBAN beside the account, unless the account is the IBAN already."""
    iban = client.creditor.iban
    return "" if iban == account else iban


def creditor(client: ClientConfig, invoices: Sequence[Invoice]) -> Creditor:
    c = client.creditor
    account = account_of(client, invoices)
    return Creditor(
        name=client.name,
        org_no=client.org_no,
        address=PostalAddress(tuple(c.address_lines), c.postal_code, c.city, client.country),
        bank_account=account,
        iban=_shown_iban(client, account),
        bic=c.bic,
        email=c.contact_email,
        phone=c.contact_phone,
        contact_person=c.contact_person,
    )


def customer_of(client: ClientConfig, facts: Facts, customer_id: str) -> Customer:
    return facts.customers.get(customer_id) or Customer(client.id, customer_id, customer_id)


def debtor(client: ClientConfig, customer: Customer) -> Debtor:
    address = PostalAddress(
        tuple(line for line in customer.address if line.strip()),
        customer.postal_code or "",
        customer.city or "",
        customer.country or client.country,
    )
    return Debtor(
        name=customer.name,
        address=address,
        customer_no=customer.customer_id,
        org_no=customer.org_no or "",
        attention=customer.contact or "",
    )


def payment(client: ClientConfig, invoices: Sequence[Invoice]) -> PaymentDetails:
    account = account_of(client, invoices)
    return PaymentDetails(account=account, iban=_shown_iban(client, account), bic=client.creditor.bic)


def invoice_line(inv: Invoice, d: Decision, as_of: date) -> InvoiceLine:
    """The invoice with every payment and credit note the decision applied to it, dated. What it leaves owed
    must be the decision's open amount, or the letter is refused."""
    cur = inv.currency
    payments: list[PaymentReceived] = []
    credits: list[CreditApplied] = []
    for e in d.evidence:
        if e.kind not in _TIERS or e.amount is None:
            continue
        if e.kind == AllocationTier.CREDIT_NOTE:
            credits.append(CreditApplied(e.ref or "", e.on or as_of, Money(e.amount, cur)))
        else:
            payments.append(PaymentReceived(e.on or as_of, Money(e.amount, cur)))
    line = InvoiceLine(
        number=inv.number,
        issue_date=inv.issue_date,
        due_date=inv.due_date or inv.issue_date,
        amount=Money(inv.amount, cur),
        payments=tuple(payments),
        credits=tuple(credits),
        payment_reference=inv.kid or "",
    )
    if line.owed.amount != d.open_amount:
        raise LetterError(
            f"invoice {inv.number}: the payments and credits shown leave {line.owed.amount} owed, the decision "
            f"{d.open_amount}: not sent (run `arsync explain` on it)"
        )
    return line


def interest_charge(
    client: ClientConfig, inv: Invoice, owed: Decimal, pack: RulePack | None, as_of: date
) -> Charge | None:
    """Late interest accrued on what is owed, from the day after the due date, with its legal basis."""
    basis = pack.cites("late_interest") if pack is not None else ""
    interest = late_interest(owed, _effective(inv, client.country), as_of, client.country, inv.currency)
    if not basis or interest.amount is None or interest.amount <= ZERO:
        return None
    rates = rates_applied(client.country, interest.start, interest.through)
    return Charge(
        ChargeKind.LATE_INTEREST,
        Money(interest.amount, inv.currency),
        basis,
        invoice_number=inv.number,
        rate=rates[0] if len(rates) == 1 else None,
        period_from=interest.start,
        period_to=interest.through,
    )


def agency_of(client: ClientConfig) -> tuple[str, str]:
    """The inkasso agency as named to the debtor, and how to reach it ("" when unknown)."""
    cfg = client.collection
    return cfg.agency or PROVIDER_AGENCY.get(cfg.provider, ""), cfg.agency_contact


def following(client: ClientConfig, inv: Invoice, done: Sequence[DunningStep], step: Action, as_of: date) -> NextStep:
    """The ladder step after ``step`` sent today (or after the steps ``done``, when ``step`` is NONE), named.
    At the ladder's end the letter says a new reminder follows (the accountant can always send one)."""
    taken = [*done, DunningStep(client.id, inv.number, step, as_of, "")] if step is not Action.NONE else list(done)
    nxt = next_step(client.policy.steps, taken, _effective(inv, client.country))
    action = _NEXT.get(nxt.action, NextAction.REMINDER) if nxt is not None else NextAction.REMINDER
    agency = agency_of(client)[0] if action is NextAction.COLLECTION_CASE else ""
    return NextStep(action, agency)


def reference(kind: LetterKind, customer_id: str, sent_on: date) -> str:
    """The letter's reference before it is made unique: kind, day, customer."""
    return f"{reference_prefix(kind, sent_on)}{safe_name(customer_id)}"


def reference_prefix(kind: LetterKind, sent_on: date) -> str:
    """What the references of one kind's letters of a day start with."""
    return f"{KIND_CODE[kind]}-{sent_on:%Y%m%d}-"


def stem(client_id: str, customer_id: str, kind: LetterKind, sent_on: date, letter_id: str) -> str:
    """The start of the outbox file names: who, to whom, what, when (and ``--n`` for a second letter)."""
    base = f"{safe_name(client_id)}--{safe_name(customer_id)}--{kind.value}--{sent_on.isoformat()}"
    suffix = letter_id.rsplit("-", 1)[-1] if letter_id != reference(kind, customer_id, sent_on) else ""
    return f"{base}--{suffix}" if suffix else base


def _pack(client: ClientConfig, as_of: date) -> RulePack | None:
    try:
        return pack_on(client.country, as_of)
    except RulePackError:
        return None


# ---- the letters --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Demand:
    """A reminder or collection notice ready to render: its content and what each invoice's step records."""

    letter: Letter
    fees: dict[str, Decimal]  # invoice → fee recorded on its step
    interest: dict[str, Decimal]  # invoice → late interest the letter charges for it
    fee_reason: str


def demand_letter(
    client: ClientConfig,
    facts: Facts,
    group: Group,
    as_of: date,
    letter_id: str,
    *,
    fee_letters: Mapping[str, Sequence[tuple[date, Decimal]]] | None = None,
    copies_attached: bool = False,
    invoices: Mapping[str, Invoice] | None = None,
    done: Mapping[str, Sequence[DunningStep]] | None = None,
) -> Demand:
    """A reminder or collection notice naming the group's invoices. ``invoices`` (by number) and ``done``
    (:func:`steps_by_invoice`): the facts indexed once by a caller writing many letters (else here)."""
    kind = LetterKind(group.step.value)
    if invoices is None:
        invoices = {i.number: i for i in facts.invoices if i.kind is DocKind.INVOICE}
    mine = [invoices[n] for n in group.numbers]
    if done is None:
        done = steps_by_invoice(facts.steps)
    history = {
        inv.number: fee_history(inv.number, done.get(inv.number, []), (fee_letters or {}).get(inv.number, ()))
        for inv in mine
    }
    fees, reason = letter_fees(client, group.step, mine, history, as_of)
    pack = _pack(client, as_of)
    lines = [invoice_line(inv, d, as_of) for inv, d in zip(mine, group.decisions, strict=True)]
    charges: list[Charge] = []
    fee_total = sum(fees.values(), start=ZERO)
    if fee_total > ZERO:
        basis = pack.cites("reminder_fee") if pack is not None else ""
        if not basis:
            raise LetterError(f"the {client.country} rule pack cites no legal basis for a reminder fee")
        per_claim = pack is not None and pack.fee_per == "claim" and len(mine) > 1
        for inv in mine:
            if fees[inv.number] > ZERO:
                charges.append(
                    Charge(
                        ChargeKind.REMINDER_FEE,
                        Money(fees[inv.number], inv.currency),
                        basis,
                        inv.number if per_claim else "",
                    )
                )
    # the fees earlier letters charged on these invoices are still owed: the total is what the statement says
    charges[:0] = fees_charged(client, facts, mine, as_of, earlier_only=True)
    interest: dict[str, Decimal] = {}
    for inv, line in zip(mine, lines, strict=True):
        charge = interest_charge(client, inv, line.owed.amount, pack, as_of)
        if charge is not None:
            charges.append(charge)
            interest[inv.number] = charge.amount.amount
    first = mine[0]
    pay_by = group.pay_by or pay_by_date(client.country, as_of, notice=group.step is Action.COLLECTION_NOTICE)
    notice_basis = ""
    if group.step is Action.COLLECTION_NOTICE:
        notice_basis = pack.cites("collection_notice") if pack is not None else ""
        if not notice_basis:
            raise LetterError(f"the {client.country} rule pack cites no act for the collection notice")
    customer = customer_of(client, facts, group.customer_id)
    letter = Letter(
        kind=kind,
        language=client.language,
        sent_on=as_of,
        reference=letter_id,
        creditor=creditor(client, mine),
        debtor=debtor(client, customer),
        currency=group.currency,
        invoices=tuple(lines),
        charges=tuple(charges),
        pay_by=pay_by,
        next_step=following(client, first, done.get(first.number, []), group.step, as_of),
        payment=payment(client, mine),
        notice_basis=notice_basis,
        invoice_copy_attached=copies_attached,
    )
    return Demand(letter, fees, interest, reason)


def follow_up_letter(
    client: ClientConfig,
    facts: Facts,
    agreement: Sequence[Agreement],
    decisions: Mapping[str, Decision],
    as_of: date,
    letter_id: str,
    *,
    call: Call | None = None,
) -> Letter | None:
    """The written confirmation of an agreement (playbook step 4): what the customer will pay and by when, what
    the creditor will do, when it follows up, what happens if it is broken, and a request to confirm in writing.
    None when there is nothing left to confirm (every invoice settled, or the first date passed)."""
    invoices = {i.number: i for i in facts.invoices if i.kind is DocKind.INVOICE}
    rows = [a for a in agreement if a.invoice_number in invoices and a.invoice_number in decisions]
    rows = [a for a in rows if decisions[a.invoice_number].open_amount > ZERO]
    if not rows:
        return None
    mine = [invoices[a.invoice_number] for a in rows]
    currency = mine[0].currency
    if any(i.currency != currency for i in mine):
        return None  # one letter per currency: a plan across currencies is confirmed by hand
    lines = [invoice_line(inv, decisions[inv.number], as_of) for inv in mine]
    # what the debtor owes under the plan is what the statement says: the invoices and the fees already charged
    charges = fees_charged(client, facts, mine, as_of)
    owed = sum((line.owed.amount for line in lines), start=ZERO) + sum((c.amount.amount for c in charges), start=ZERO)
    head = rows[0]
    dates = tuple(sorted(head.due_dates))
    if not dates or dates[0] <= as_of:
        return None
    agreed = head.plan_id and len(head.amounts) == len(dates) and sum(head.amounts, start=ZERO) == owed
    # the amounts agreed on the call, while they still add up to what is owed (not when money came in since, or
    # the plan was logged without the fees): the plan's instalments always sum to the letter's total
    amounts = head.amounts if agreed else _split(owed, len(dates))
    plan = tuple(Instalment(d, Money(a, currency)) for d, a in zip(dates, amounts, strict=True))
    customer = customer_of(client, facts, mine[0].customer_id)
    agreed_on = call.called_on if call is not None else head.created_on
    agreed_with = (call.contact if call is not None else "") or customer.contact or ""  # a person, or "Hei,"
    done = steps_by_invoice(facts.steps)
    confirm_by = min(as_of + timedelta(days=7), dates[0])
    return Letter(
        kind=LetterKind.FOLLOW_UP,
        language=client.language,
        sent_on=as_of,
        reference=letter_id,
        creditor=creditor(client, mine),
        debtor=debtor(client, customer),
        currency=currency,
        invoices=tuple(lines),
        charges=charges,
        pay_by=dates[0],
        next_step=following(client, mine[0], done.get(mine[0].number, []), Action.NONE, as_of),
        payment=payment(client, mine),
        follow_up=FollowUp(
            agreed_on=agreed_on,
            agreed_with=agreed_with,
            plan=plan,
            follow_up_on=next_business_day(dates[0], client.country),  # the bank files of the day after it
            confirm_by=confirm_by,
        ),
    )


def _split(total: Decimal, parts: int) -> tuple[Decimal, ...]:
    """``total`` in ``parts`` instalments of whole øre, the last taking the rest."""
    each = (total / parts).quantize(Decimal("0.01"))
    return (*([each] * (parts - 1)), total - each * (parts - 1))


def plan_amounts(total: Decimal, parts: int) -> tuple[Decimal, ...]:
    return _split(total, parts)


def case_letter(
    client: ClientConfig, facts: Facts, case: Case, decision: Decision, as_of: date, letter_id: str
) -> Letter | None:
    """The letter telling the debtor the claim was handed to the inkasso agency and whom to talk to now; None
    when the agency is not known ([clients.collection] agency)."""
    agency, contact = agency_of(client)
    inv = next((i for i in facts.invoices if i.number == case.invoice_number and i.kind is DocKind.INVOICE), None)
    if not agency or inv is None:
        return None
    customer = customer_of(client, facts, case.customer_id)
    return Letter(
        kind=LetterKind.COLLECTION_CASE,
        language=client.language,
        sent_on=as_of,
        reference=letter_id,
        creditor=creditor(client, [inv]),
        debtor=debtor(client, customer),
        currency=inv.currency,
        invoices=(invoice_line(inv, decision, as_of),),
        # the agency's own case number; the outbox provider's reference is a file name, not for the debtor
        handover=Handover(agency, contact, case.provider_ref or "" if client.collection.provider != "outbox" else ""),
    )


def statement_letter(
    client: ClientConfig, facts: Facts, decisions: Iterable[Decision], customer_id: str, as_of: date, letter_id: str
) -> Letter | None:
    """The customer's statement of account (kontoutskrift): every open invoice with the payments and credit
    notes applied to it, and the balance. None when nothing is open."""
    invoices = {i.number: i for i in facts.invoices if i.kind is DocKind.INVOICE}
    open_ones = [
        d for d in decisions if d.customer_id == customer_id and d.open_amount > ZERO and d.invoice_number in invoices
    ]
    if not open_ones:
        return None
    currency = open_ones[0].currency
    open_ones = [d for d in open_ones if d.currency == currency]
    open_ones.sort(key=lambda d: (d.due_date or date.min, d.invoice_number))
    mine = [invoices[d.invoice_number] for d in open_ones]
    customer = customer_of(client, facts, customer_id)
    try:
        pay: PaymentDetails | None = payment(client, mine)
        who = creditor(client, mine)
    except LetterError:
        pay = None
        c = client.creditor
        who = Creditor(
            client.name,
            client.org_no,
            PostalAddress(tuple(c.address_lines), c.postal_code, c.city, client.country),
            "",
            c.iban,
            c.bic,
            c.contact_email,
            c.contact_phone,
            c.contact_person,
        )
    return Letter(
        kind=LetterKind.STATEMENT,
        language=client.language,
        sent_on=as_of,
        reference=letter_id,
        creditor=who,
        debtor=debtor(client, customer),
        currency=currency,
        invoices=tuple(invoice_line(inv, d, as_of) for inv, d in zip(mine, open_ones, strict=True)),
        charges=fees_charged(client, facts, mine, as_of),
        payment=pay,
        ask_questions=False,
    )


def fees_charged(
    client: ClientConfig, facts: Facts, invoices: Sequence[Invoice], as_of: date, *, earlier_only: bool = False
) -> tuple[Charge, ...]:
    """The reminder fees letters up to ``as_of`` (``earlier_only``: before it) charged on these open invoices,
    each dated by its letter, so a statement, the reminder beside it and every later letter agree on what is
    owed (a cancelled letter is no step, and charged nothing). A reminder sent through Tripletex's own
    function booked its fee in the ledger: not added again."""
    pack = _pack(client, as_of)
    basis = pack.cites("reminder_fee") if pack is not None else ""
    numbers = {i.number: i.currency for i in invoices}
    return tuple(
        Charge(
            ChargeKind.REMINDER_FEE,
            Money(s.fee, numbers[s.invoice_number]),
            basis,
            s.invoice_number,
            charged_on=s.sent_on,
        )
        for s in sorted(facts.steps, key=lambda s: (s.sent_on, s.invoice_number))
        if s.invoice_number in numbers
        and s.fee > ZERO
        and (s.sent_on < as_of if earlier_only else s.sent_on <= as_of)
        and s.channel != "tripletex"
    )


def fees_owed(client: ClientConfig, facts: Facts, invoices: Sequence[Invoice], as_of: date) -> dict[str, Decimal]:
    """Invoice → the reminder fees its letters charged up to ``as_of`` (:func:`fees_charged`): what the
    statement and the collection notice add to the open amount, so the call list, a plan agreed on the phone and
    its written confirmation name the same total."""
    out: dict[str, Decimal] = {}
    for c in fees_charged(client, facts, invoices, as_of):
        out[c.invoice_number] = out.get(c.invoice_number, ZERO) + c.amount.amount
    return out
