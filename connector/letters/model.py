"""What one letter to a debtor says, as pure data: no wording, no layout, no I/O.

The wording is in the templates (one per language and kind), the layout in ``templates/letter.typ``.
Everything a template may state is here, filled by the send path from decisions and facts. A letter is
checked when it is built: one currency throughout, the amount owed per invoice is computed from the
invoice amount, the payments and the credits (never the original amount alone: issue 14), and each
kind carries what the law or the playbook requires of it (a pay-by date and the next step for a
demand, the plan and the confirmation request for a follow-up, the agency for a handover).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal

Language = Literal["nb", "da", "sv"]
LANGUAGES: tuple[Language, ...] = ("nb", "da", "sv")


class LetterKind(StrEnum):
    """Which letter; each kind has one template per language (``templates/<lang>/<kind>.j2``)."""

    REMINDER = "reminder"  # purring / rykker / betalningspåminnelse (playbook step 2)
    COLLECTION_NOTICE = "collection_notice"  # inkassovarsel (NO inkassoloven § 9, DK § 10, SE inkassokrav)
    COLLECTION_CASE = "collection_case"  # the claim was handed to the inkasso agency: whom to talk to now
    FOLLOW_UP = "follow_up"  # written confirmation of what was agreed on the call (playbook step 4)
    STATEMENT = "statement"  # statement of account (kontoutskrift): open items and balance


class NextAction(StrEnum):
    """The ladder step that follows when the pay-by date passes unpaid (named in the letter)."""

    REMINDER = "reminder"
    CALL = "call"
    COLLECTION_NOTICE = "collection_notice"
    COLLECTION_CASE = "collection_case"


class ChargeKind(StrEnum):
    REMINDER_FEE = "reminder_fee"  # purregebyr / rykkergebyr / påminnelseavgift
    LATE_INTEREST = "late_interest"  # forsinkelsesrente / morarente / dröjsmålsränta
    COMPENSATION = "compensation"  # B2B standardkompensasjon / kompensationsbeløb / förseningsersättning


@dataclass(frozen=True, slots=True)
class Money:
    """An amount with its currency; amounts on a letter are never bare numbers."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money.amount must be a Decimal, got {type(self.amount).__name__}")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise ValueError(f"'{self.currency}' is not an ISO 4217 currency code")

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other).amount, self.currency)

    def _same(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return other


def total(amounts: Iterable[Money], currency: str) -> Money:
    result = Money(Decimal("0.00"), currency)
    for m in amounts:
        result += m
    return result


@dataclass(frozen=True, slots=True)
class PostalAddress:
    lines: tuple[str, ...]  # street, c/o, PO box — without postal code and city
    postal_code: str
    city: str
    country: str  # ISO 3166 alpha-2; printed only when it is not the creditor's country


@dataclass(frozen=True, slots=True)
class Creditor:
    """The client company, printed as letterhead and as the payee."""

    name: str
    org_no: str
    address: PostalAddress
    bank_account: str  # domestic account number as the debtor types it (NO 11 digits, DK reg + konto, SE bankgiro)
    iban: str = ""
    bic: str = ""
    email: str = ""
    phone: str = ""
    contact_person: str = ""  # who signs and answers questions


@dataclass(frozen=True, slots=True)
class Debtor:
    name: str
    address: PostalAddress
    customer_no: str = ""
    org_no: str = ""
    attention: str = ""  # "Att.: …" line in the address block (the contact at the customer)


@dataclass(frozen=True, slots=True)
class PaymentReceived:
    on: date
    amount: Money
    reference: str = ""  # bank reference or payer text, when it helps the debtor recognise it


@dataclass(frozen=True, slots=True)
class CreditApplied:
    number: str  # the credit note's number
    on: date
    amount: Money


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    number: str
    issue_date: date
    due_date: date
    amount: Money  # the invoice's amount at issue
    payments: tuple[PaymentReceived, ...] = ()
    credits: tuple[CreditApplied, ...] = ()
    payment_reference: str = ""  # the invoice's KID / OCR / FIK, when it has one

    @property
    def owed(self) -> Money:
        """What is still owed on this invoice: the amount less every payment and credit listed."""
        paid = total((p.amount for p in self.payments), self.amount.currency)
        credited = total((c.amount for c in self.credits), self.amount.currency)
        return self.amount - paid - credited


@dataclass(frozen=True, slots=True)
class Charge:
    """A fee, interest or compensation added to what is owed, with the law it rests on."""

    kind: ChargeKind
    amount: Money
    legal_basis: str  # as the letter cites it, e.g. "inkassoforskriften § 1-2" (rule pack: legal_basis)
    invoice_number: str = ""  # the claim it belongs to; "" for a fee per letter
    rate: Decimal | None = None  # interest: percent per year
    period_from: date | None = None  # interest: first day counted
    period_to: date | None = None  # interest: last day counted
    charged_on: date | None = None  # a fee an earlier letter charged: that letter's date (None: this letter's)


@dataclass(frozen=True, slots=True)
class PaymentDetails:
    """How to pay: the account and which reference to give."""

    account: str
    iban: str = ""
    bic: str = ""
    # one reference for the whole payment; "" → each invoice's own payment_reference (or its number)
    reference: str = ""


@dataclass(frozen=True, slots=True)
class NextStep:
    """What happens when the pay-by date passes unpaid: the next ladder step, named."""

    action: NextAction
    agency: str = ""  # the inkasso agency, when the next step hands the claim over and it is known


@dataclass(frozen=True, slots=True)
class Instalment:
    due: date
    amount: Money


@dataclass(frozen=True, slots=True)
class FollowUp:
    """The written confirmation of an agreement made on the call (playbook step 4)."""

    agreed_on: date  # the day of the call
    agreed_with: str  # the person at the customer who agreed ("" when not known: the greeting names nobody)
    plan: tuple[Instalment, ...]  # one entry: a promise to pay by a date; several: an instalment plan
    follow_up_on: date  # when the creditor checks that the (first) payment arrived
    confirm_by: date  # the customer is asked to confirm in writing by this day
    creditor_will: str = ""  # extra undertaking in the debtor's language; the template states the standard one

    @property
    def is_instalment_plan(self) -> bool:
        return len(self.plan) > 1


@dataclass(frozen=True, slots=True)
class Handover:
    """The claim was handed to an inkasso agency (``collection_case``)."""

    agency: str
    agency_contact: str = ""  # phone / e-mail / web address of the agency for the debtor
    case_reference: str = ""


@dataclass(frozen=True, slots=True)
class Letter:
    kind: LetterKind
    language: Language
    sent_on: date
    reference: str  # our letter number, printed as "Vår ref." and used in the file name
    creditor: Creditor
    debtor: Debtor
    currency: str
    invoices: tuple[InvoiceLine, ...]
    charges: tuple[Charge, ...] = ()
    pay_by: date | None = None  # reminder, collection_notice, follow_up (the first promised date)
    next_step: NextStep | None = None  # reminder, collection_notice, follow_up (if the agreement is broken)
    payment: PaymentDetails | None = None  # every kind that asks for money
    notice_basis: str = ""  # collection_notice: the act the notice is given under (rule pack: legal_basis)
    invoice_copy_attached: bool = False  # the invoice PDF follows the letter
    invoice_copy_hint: str = ""  # where to find the invoice when no copy is attached ("" → ask us)
    follow_up: FollowUp | None = None
    handover: Handover | None = None
    ask_questions: bool = True  # the playbook's questions (when can we expect payment? questions welcome)
    extra: dict[str, str] = field(default_factory=dict, compare=False)  # free values for a client's own templates

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise ValueError(f"letter {self.reference or '(no reference)'}: " + "; ".join(problems))

    def _problems(self) -> Iterable[str]:
        if self.language not in LANGUAGES:
            yield f"language '{self.language}' is not one of {', '.join(LANGUAGES)}"
        if not self.invoices:
            yield "no invoice lines"
        amounts = [i.amount for i in self.invoices] + [c.amount for c in self.charges]
        amounts += [p.amount for i in self.invoices for p in i.payments]
        amounts += [c.amount for i in self.invoices for c in i.credits]
        if self.follow_up:
            amounts += [i.amount for i in self.follow_up.plan]
        if any(m.currency != self.currency for m in amounts):
            yield f"every amount must be in the letter's currency {self.currency} (one letter per currency)"
            return
        demand = self.kind in (LetterKind.REMINDER, LetterKind.COLLECTION_NOTICE, LetterKind.FOLLOW_UP)
        if demand:
            if self.pay_by is None:
                yield f"a {self.kind} states a pay-by date"
            elif self.pay_by <= self.sent_on:
                yield f"pay-by date {self.pay_by.isoformat()} is not after the sending date {self.sent_on.isoformat()}"
            if self.next_step is None:
                yield f"a {self.kind} names the next step"
            if self.payment is None:
                yield f"a {self.kind} says how to pay"
        if self.kind is LetterKind.COLLECTION_NOTICE and not self.notice_basis:
            yield "a collection notice cites the act it is given under (notice_basis)"
        if self.kind is LetterKind.FOLLOW_UP:
            if self.follow_up is None or not self.follow_up.plan:
                yield "a follow-up states the agreed plan"
            elif self.pay_by is not None and self.pay_by != self.follow_up.plan[0].due:
                yield "a follow-up's pay-by date is the first promised date"
        if self.kind is LetterKind.COLLECTION_CASE and self.handover is None:
            yield "a collection_case letter names the agency (handover)"
        for inv in self.invoices:
            if inv.owed.amount < 0:
                yield f"invoice {inv.number}: payments and credits exceed its amount"
        for c in self.charges:
            if not c.legal_basis.strip():
                yield f"{c.kind} of {c.amount.amount} {c.amount.currency} has no legal basis"

    @property
    def owed_on_invoices(self) -> Money:
        return total((i.owed for i in self.invoices), self.currency)

    @property
    def total_owed(self) -> Money:
        """Everything owed now: each invoice's remainder plus the charges."""
        return self.owed_on_invoices + total((c.amount for c in self.charges), self.currency)

    def reference_for(self, invoice: InvoiceLine) -> str:
        """The payment reference the debtor gives for ``invoice``."""
        if self.payment is not None and self.payment.reference:
            return self.payment.reference
        return invoice.payment_reference or invoice.number
