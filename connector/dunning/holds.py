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
    conflicts: Mapping[str, tuple[HoldEvidence, ...]] = field(default_factory=dict)  # invoice → conflicting docs
    unreadable_rows: RowHolds = field(default_factory=RowHolds)  # stored rows that cannot be read


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
) -> tuple[list[HoldEvidence], list[Evidence]]:
    """An active agreement holds; one whose k-th date (+ grace) passed with fewer than k payments is broken.

    Broken agreements lift the hold and come back as evidence (``agreement_broken``) to be logged.
    """
    holds: list[HoldEvidence] = []
    broken: list[Evidence] = []
    for a in agreements:
        if a.cancelled_on is not None and a.cancelled_on <= as_of:
            continue
        if a.created_on > as_of:
            continue
        paid_on = sorted(
            payment_dates[al.source_key]
            for al in allocations
            if al.tier is not AllocationTier.CREDIT_NOTE and al.amount > ZERO and al.source_key in payment_dates
        )
        paid_on = [d for d in paid_on if d >= a.created_on - timedelta(days=grace_days)]
        missed = None
        for k, day in enumerate(sorted(a.due_dates), start=1):
            deadline = day + timedelta(days=grace_days)
            if as_of > deadline and sum(1 for d in paid_on if d <= deadline) < k:
                missed = day
                break
        if missed is not None:
            broken.append(
                Evidence(
                    "agreement_broken",
                    f"agreement {a.agreement_id} broken: no payment by {missed.isoformat()} + {grace_days} grace days",
                    a.agreement_id,
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
                    Evidence("hold", f"agreement: {plan} until {last.isoformat()}", a.agreement_id, on=a.created_on),
                )
            )
    return holds, broken


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
