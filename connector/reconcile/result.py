"""What reconciling a client yields (``connector.reconcile.matching.reconcile``), read by decide, flag, the
collection workflow, reports and the slice engine. Built once by the matcher; readers never change it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TypeAlias

from connector.model import Allocation, Invoice, Payment

InvoiceNumber: TypeAlias = str
CustomerId: TypeAlias = str
PaymentKey: TypeAlias = str  # ``Payment.key``


class CreditKind(StrEnum):
    """Why money of a customer's is not on any invoice (each holds that customer's reminders)."""

    UNEXPLAINED = "unexplained"  # from the customer's payer, or of an amount only they have open: no match
    OVERPAYMENT = "overpayment"  # more than the invoice it paid, or an invoice already paid
    CREDIT_NOTE = "credit_note"  # a credit note (or what is left of it) not applied to any invoice
    AMBIGUOUS = "ambiguous"  # several customers' payer, or several combinations of open items


@dataclass(frozen=True, slots=True)
class Credit:
    """Money a customer may have paid that is not on any invoice: it holds that customer's reminders."""

    customer_id: CustomerId
    kind: CreditKind
    amount: Decimal
    currency: str
    ref: str  # payment key or credit note number
    on: date
    detail: str


@dataclass
class Reconciliation:
    """Allocations, open amounts and every doubt that must hold a reminder. Every receivable has an
    ``open_amount`` and an ``allocations`` entry (invoices without allocations share one empty list: never
    append to it); the other maps list only what has something to say."""

    open_amount: dict[InvoiceNumber, Decimal] = field(default_factory=dict)
    allocations: dict[InvoiceNumber, list[Allocation]] = field(default_factory=dict)
    # invoice → payments that may pay it but were not allocated (pending, several candidates, amount off)
    pending: dict[InvoiceNumber, list[Payment]] = field(default_factory=dict)
    unexplained: list[Payment] = field(default_factory=list)  # booked credits nothing could be tied to
    overpaid: dict[CustomerId, Decimal] = field(default_factory=dict)  # credit left over after settling
    unapplied_credits: dict[CustomerId, list[Invoice]] = field(default_factory=dict)  # credit notes left
    last_settled_on: dict[InvoiceNumber, date] = field(default_factory=dict)  # booking date of the last allocation
    unallocated_credit: dict[CustomerId, list[Credit]] = field(default_factory=dict)  # credits to review
    pending_reason: dict[PaymentKey, str] = field(default_factory=dict)  # why a payment is only a candidate
    with_difference: dict[InvoiceNumber, Decimal] = field(default_factory=dict)  # short-paid within tolerance
    paid_on_time: dict[InvoiceNumber, bool] = field(default_factory=dict)  # settled: value date ≤ due date
    ledger_twins: dict[PaymentKey, PaymentKey] = field(default_factory=dict)  # bank payment → its ledger booking
    inkasso_payouts: list[Payment] = field(default_factory=list)  # a collector's payouts: collected money
    unexplained_reversals: list[Payment] = field(default_factory=list)  # money taken back from nothing we know
    # invoice → what payments paid beyond it of the fees and interest its letters charged: (payment, amount, day)
    charges_paid: dict[InvoiceNumber, list[tuple[PaymentKey, Decimal, date]]] = field(default_factory=dict)
