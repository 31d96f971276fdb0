"""Holds that rest on the accountant's records, the business register and the customer's history. Pure.

Each function returns ``(hold, evidence)`` pairs (or plain evidence for facts that lift a hold), so
``decide`` only has to collect them. A hold releases by itself when its fact goes away: an exclusion
ends, an agreement is kept or broken, the register answers "active".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from stdnum.no import orgnr

from connector.config import RegistrySettings
from connector.dunning.stored import RowHolds
from connector.dunning.unreadable import UnreadableHolds
from connector.model import (
    ZERO,
    Action,
    Agreement,
    Allocation,
    AllocationTier,
    Call,
    Customer,
    DocKind,
    DunningStep,
    Evidence,
    Exclusion,
    Hold,
    Invoice,
    InvoiceCheck,
    Payment,
    RegistryFact,
)

HoldEvidence = tuple[Hold, Evidence]
REGISTRY_STEPS = (Action.COLLECTION_NOTICE, Action.COLLECTION_CASE)


class PaymentIndex(Mapping[str, Payment]):
    """Payments by key, indexed on first use: most invoices never ask (nothing paid, or settled)."""

    def __init__(self, payments: Sequence[Payment] = ()):
        self._payments = payments
        self._by_key: dict[str, Payment] | None = None

    def _index(self) -> dict[str, Payment]:
        if self._by_key is None:
            self._by_key = {p.key: p for p in self._payments}
        return self._by_key

    def __getitem__(self, key: str) -> Payment:
        return self._index()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index())

    def __len__(self) -> int:
        return len(self._index())


class CreditDates(Mapping[str, date]):
    """Credit note number → issue date, indexed on first use (only part-credited open invoices ask)."""

    def __init__(self, documents: Sequence[Invoice] = ()):
        self._documents = documents
        self._by_number: dict[str, date] | None = None

    def _index(self) -> dict[str, date]:
        if self._by_number is None:
            credit = DocKind.CREDIT_NOTE
            self._by_number = {i.number: i.issue_date for i in self._documents if i.kind is credit}
        return self._by_number

    def __getitem__(self, number: str) -> date:
        return self._index()[number]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index())

    def __len__(self) -> int:
        return len(self._index())


class BookingDates(Mapping[str, date]):
    """Payment key → booking date, read through a ``PaymentIndex``."""

    def __init__(self, payments: Mapping[str, Payment]):
        self._payments = payments

    def __getitem__(self, key: str) -> date:
        return self._payments[key].booking_date

    def __iter__(self) -> Iterator[str]:
        return iter(self._payments)

    def __len__(self) -> int:
        return len(self._payments)


@dataclass(frozen=True)
class DunningContext:
    """What ``decide`` needs beyond one invoice's own facts."""

    exclusions: tuple[Exclusion, ...] = ()
    registry: Mapping[str, RegistryFact] = field(default_factory=dict)
    registry_settings: RegistrySettings = field(default_factory=RegistrySettings)
    customers: Mapping[str, Customer] = field(default_factory=dict)
    payment_dates: Mapping[str, date] = field(default_factory=dict)  # payment key → booking date
    customer_steps: Mapping[str, tuple[DunningStep, ...]] = field(default_factory=dict)
    payments: Mapping[str, Payment] = field(default_factory=dict)  # payment key → payment (texts, dates)
    credit_dates: Mapping[str, date] = field(default_factory=dict)  # credit note number → issue date
    unreadable: UnreadableHolds = field(default_factory=UnreadableHolds)  # unreadable ledger files' holds
    checks: Mapping[str, InvoiceCheck] = field(default_factory=dict)  # invoice → the accountant's last check
    calls: Mapping[str, tuple[Call, ...]] = field(default_factory=dict)  # customer → calls to them, in order
    # plan id → (day, amount) of every payment, reversal and credit note applied to the plan's invoices, and of
    # what paid their letters' fees beyond them
    plan_paid: Mapping[str, tuple[tuple[date, Decimal], ...]] = field(default_factory=dict)
    conflicts: Mapping[str, tuple[HoldEvidence, ...]] = field(default_factory=dict)  # invoice → conflicting docs
    unreadable_rows: RowHolds = field(default_factory=RowHolds)  # stored rows that cannot be read


def plan_payments(
    agreements: Iterable[Agreement],
    allocations: Mapping[str, Sequence[Allocation]],
    payment_dates: Mapping[str, date],
    credit_dates: Mapping[str, date],
    charges_paid: Mapping[str, Sequence[tuple[str, Decimal, date]]] | None = None,
) -> dict[str, tuple[tuple[date, Decimal], ...]]:
    """For each plan made on a call (``Agreement.plan_id``): the money applied to any of its invoices, dated
    (a payment by its booking day, a credit note by its issue day), and what paid beyond them the fees their
    letters charged (a plan is for the fees too: ``connector.actions.calls``), oldest first."""
    plans: dict[str, set[str]] = {}
    for a in agreements:
        if a.plan_id:
            plans.setdefault(a.plan_id, set()).add(a.invoice_number)
    out: dict[str, tuple[tuple[date, Decimal], ...]] = {}
    for plan, numbers in plans.items():
        money: list[tuple[date, Decimal]] = []
        for number in sorted(numbers):
            for al in allocations.get(number, ()):
                dates = credit_dates if al.tier is AllocationTier.CREDIT_NOTE else payment_dates
                day = dates.get(al.source_key)
                if day is not None:
                    money.append((day, al.amount))
            money.extend((day, amount) for _key, amount, day in (charges_paid or {}).get(number, ()))
        out[plan] = tuple(sorted(money))
    return out


def exclusion_holds(exclusions: Iterable[Exclusion], inv: Invoice, as_of: date) -> list[HoldEvidence]:
    out = []
    for x in exclusions:
        if x.covers(inv.number, inv.customer_id, as_of):
            scope = f"invoice {inv.number}" if x.invoice_number else f"customer {inv.customer_id}"
            until = f" until {x.until.isoformat()}" if x.until else ""
            out.append((Hold.EXCLUDED, Evidence("hold", f"excluded: {scope}{until}: {x.reason}", x.exclusion_id)))
    return out


def agreement_holds(
    agreements: Iterable[Agreement],
    allocations: Sequence[Allocation],
    payment_dates: Mapping[str, date],
    as_of: date,
    grace_days: int,
    plan_paid: Mapping[str, tuple[tuple[date, Decimal], ...]] | None = None,
) -> tuple[list[HoldEvidence], list[Evidence]]:
    """An active agreement holds; one whose k-th date (+ grace) passed unpaid is broken.

    Per invoice: fewer than k payments by the k-th date. A plan made on a call (``plan_id``): less money
    applied to all its invoices than its first k amounts. Broken agreements lift the hold and come back as
    evidence (``agreement_broken``) to be logged; a plan's instalments paid come back as ``agreement_kept``
    from the day after their date."""
    holds: list[HoldEvidence] = []
    notes: list[Evidence] = []
    for a in agreements:
        if a.cancelled_on is not None and a.cancelled_on <= as_of:
            continue
        if a.created_on > as_of:
            continue
        if a.plan_id and a.amounts:
            missed, kept = _plan_progress(a, (plan_paid or {}).get(a.plan_id, ()), as_of, grace_days)
        else:
            missed, kept = _missed_date(a, allocations, payment_dates, as_of, grace_days)
        notes.extend(kept)
        if missed is not None:
            notes.append(
                Evidence(
                    "agreement_broken",
                    f"agreement {a.key} broken: no payment by {missed.isoformat()} + {grace_days} grace days",
                    a.key,
                    on=missed,
                )
            )
            continue
        last = max(a.due_dates) if a.due_dates else a.created_on
        if as_of <= last + timedelta(days=grace_days):
            plan = f"{len(a.due_dates)} instalments" if len(a.due_dates) > 1 else "promise to pay"
            holds.append(
                (
                    Hold.AGREEMENT,
                    Evidence("hold", f"agreement: {plan} until {last.isoformat()}", a.key, on=a.created_on),
                )
            )
    return holds, notes


def _missed_date(
    a: Agreement, allocations: Sequence[Allocation], payment_dates: Mapping[str, date], as_of: date, grace_days: int
) -> tuple[date | None, list[Evidence]]:
    """(the first date of a per-invoice agreement that passed (+ grace) with fewer payments than dates by then,
    evidence of each date kept: as many payments as dates by it, from the day after it)."""
    paid_on = sorted(
        payment_dates[al.source_key]
        for al in allocations
        if al.tier is not AllocationTier.CREDIT_NOTE and al.amount > ZERO and al.source_key in payment_dates
    )
    paid_on = [d for d in paid_on if d >= a.created_on - timedelta(days=grace_days)]
    kept: list[Evidence] = []
    dates = sorted(a.due_dates)
    for k, day in enumerate(dates, start=1):
        deadline = day + timedelta(days=grace_days)
        paid = sum(1 for d in paid_on if d <= min(as_of, deadline))
        if paid >= k:
            if as_of > day:
                detail = f"agreement {a.key}: payment {k} of {len(dates)} (by {day.isoformat()}) kept"
                kept.append(Evidence("agreement_kept", detail, a.key, on=day))
            continue
        if as_of > deadline:
            return day, kept
        break
    return None, kept


def _plan_progress(
    a: Agreement, money: Sequence[tuple[date, Decimal]], as_of: date, grace_days: int
) -> tuple[date | None, list[Evidence]]:
    """(the first date missed, evidence of each instalment kept): the k-th date is kept when the money applied
    to the plan's invoices since it was made reaches its first k amounts by that date + grace."""
    grace = timedelta(days=grace_days)
    counted = [(d, amount) for d, amount in money if d >= a.created_on - grace]
    kept: list[Evidence] = []
    required = ZERO
    plan = sorted(zip(a.due_dates, a.amounts, strict=False))
    for k, (day, amount) in enumerate(plan, start=1):
        required += amount
        by = min(as_of, day + grace)
        paid = sum((x for d, x in counted if d <= by), start=ZERO)
        if paid >= required:
            if as_of > day:
                detail = f"agreement {a.key}: payment {k} of {len(plan)} ({amount} by {day.isoformat()}) kept"
                kept.append(Evidence("agreement_kept", detail, a.key, amount, on=day))
            continue
        if as_of > day + grace:
            return day, kept
        break  # not due yet: later dates are not judged
    return None, kept


def needs_registry(customer: Customer | None) -> str | None:
    """The Norwegian org no to look up, or None (a person, a foreign or unknown debtor)."""
    if customer is None or customer.is_person or not customer.org_no:
        return None
    if customer.country not in (None, "", "NO"):
        return None
    # Ledgers write it as "974 760 673", "NO974760673MVA" (the VAT form) or plain digits.
    number = orgnr.compact(re.sub(r"(?i)^NO|MVA$", "", customer.org_no.strip()))
    return number if orgnr.is_valid(number) else None


def registry_holds(
    customer: Customer | None,
    ctx: DunningContext,
    next_action: Action | None,
    step_due: bool,
    as_of: date,
) -> tuple[list[HoldEvidence], bool]:
    """(holds, unverified): an insolvent debtor is a review; no fresh answer before a notice/case is a hold."""
    settings = ctx.registry_settings
    org = needs_registry(customer)
    if not settings.enabled or org is None:
        return [], False
    fact = ctx.registry.get(org)
    if fact is not None and fact.ok and fact.insolvent:
        fetched = fact.fetched_at.date().isoformat()
        detail = f"brreg {fact.status}: {fact.detail} (fetched {fetched}); lodge the claim with the estate"
        return [(Hold.DEBTOR_INSOLVENT, Evidence("registry", detail, org, on=fact.fetched_at.date()))], False
    if next_action not in REGISTRY_STEPS or not step_due:
        return [], False
    if fact is None:
        why = "no registry answer yet"
    elif not fact.ok:
        why = f"registry lookup failed ({fact.detail}) at {fact.fetched_at.isoformat(timespec='seconds')}"
    elif (as_of - fact.fetched_at.date()).days > settings.max_age_days:
        why = f"registry answer from {fact.fetched_at.date().isoformat()} is older than {settings.max_age_days} days"
    elif fact.status == "not_found":
        why = f"org no {org} is not in Enhetsregisteret, as a unit or a sub-unit; correct the customer's org no"
    else:
        return [], False  # a fresh "active" answer: shown by registry_evidence
    ev = Evidence("hold", f"debtor_insolvent: not ruled out — {why}; escalation waits for the register", org)
    return [(Hold.DEBTOR_INSOLVENT, ev)], True


def registry_evidence(customer: Customer | None, ctx: DunningContext) -> list[Evidence]:
    org = needs_registry(customer)
    fact = ctx.registry.get(org) if org else None
    if not ctx.registry_settings.enabled or fact is None or not fact.ok or fact.insolvent:
        return []
    return [Evidence("registry", f"brreg: {fact.status} (fetched {fact.fetched_at.date().isoformat()})", org)]


def customer_interval_hold(
    steps: Iterable[DunningStep], invoice_number: str, as_of: date, days: int
) -> list[HoldEvidence]:
    """No new step to a customer within ``days`` of the last step to them (same-day steps go together)."""
    if days <= 0:
        return []
    recent = [s for s in steps if s.sent_on < as_of and (as_of - s.sent_on).days < days]
    if not recent:
        return []
    last = max(recent, key=lambda s: s.sent_on)
    until = last.sent_on + timedelta(days=days)
    detail = (
        f"wait_interval: the customer got a {last.step} on {last.sent_on.isoformat()} (invoice "
        f"{last.invoice_number}); next step to them not before {until.isoformat()}"
    )
    return [(Hold.WAIT_INTERVAL, Evidence("hold", detail, on=until))]
