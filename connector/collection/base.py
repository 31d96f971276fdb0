"""The collection-provider interface, the case payload every provider receives, and its errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from connector.model import ZERO, Attachment, Case, Customer, DunningStep, Invoice


@dataclass(frozen=True)
class CasePayload:
    """Everything an inkasso provider needs about one claim, gathered from the store.

    Deterministic for a given case and facts (no run date in it), so a resend after a crash carries
    the same body and an idempotency key replays instead of conflicting.
    """

    case: Case
    creditor_name: str
    creditor_org_no: str
    debtor: Customer
    invoice: Invoice
    remaining: Decimal
    steps: tuple[DunningStep, ...]
    attachments: tuple[Attachment, ...]
    pushed_on: date
    interest: Decimal = ZERO  # late interest claimed; computed by the rule packs (dunning issue)

    @property
    def fees(self) -> Decimal:
        return sum((s.fee for s in self.steps), ZERO)

    def as_json(self) -> dict[str, object]:
        d, inv = self.debtor, self.invoice
        return {
            "case_id": self.case.case_id,
            "creditor": {"name": self.creditor_name, "org_no": self.creditor_org_no},
            "debtor": {
                "customer_id": d.customer_id,
                "name": d.name,
                "org_no": d.org_no,
                "is_person": d.is_person,
                "address": list(d.address),
                "postal_code": d.postal_code,
                "city": d.city,
                "country": d.country,
                "email": d.email,
            },
            "invoice": {
                "number": inv.number,
                "issue_date": inv.issue_date.isoformat(),
                "due_date": inv.due_date.isoformat() if inv.due_date else None,
                "currency": inv.currency,
                "original_amount": str(inv.amount),
                "remaining_amount": str(self.remaining),
                "kid": inv.kid,
            },
            "steps": [
                {"step": str(s.step), "sent_on": s.sent_on.isoformat(), "channel": s.channel, "fee": str(s.fee)}
                for s in self.steps
            ],
            "fees": str(self.fees),
            "interest": str(self.interest),
            "attachments": [a.filename for a in self.attachments],
            "pushed_on": self.pushed_on.isoformat(),
        }


@dataclass(frozen=True)
class PushResult:
    provider_ref: str
    created: bool  # False when the provider already had it (an idempotent re-push or a found case)


class ProviderStatus(StrEnum):
    """Provider lifecycle, normalised across providers."""

    PENDING_PROVIDER = "pending_provider"  # contract signing, verification, … (not yet collecting)
    ACTIVE = "active"
    PAUSED = "paused"
    CLOSED = "closed"


@dataclass(frozen=True)
class ProviderCase:
    """One case as the provider reports it."""

    provider_ref: str
    our_ref: str | None  # our invoice id / creditor reference, when the provider echoes it
    status: ProviderStatus
    raw_status: str
    close_code: str | None = None
    remaining: Decimal | None = None
    updated_at: str | None = None  # provider's own timestamp text, used as the pull cursor
    payment_refs: frozenset[str] = frozenset()  # our payment / credit ids the provider has registered


@dataclass(frozen=True)
class Transfer:
    """A direct payment or a credit to report on a pushed case."""

    ref: str  # our id for it (sent as AccountingPaymentId / reference, used to dedupe)
    amount: Decimal  # positive
    currency: str
    on: date
    description: str


class ProviderError(Exception):
    """A provider call failed. ``ambiguous`` means it may have taken effect (resolve by lookup)."""

    def __init__(self, message: str, *, ambiguous: bool = False, status: int | None = None):
        super().__init__(message)
        self.ambiguous = ambiguous
        self.status = status


class BusinessError(ProviderError):
    """The provider refused on business grounds (a 4xx with a reason); retrying will not help."""

    def __init__(self, code: str, message: str, solution_url: str | None = None, status: int | None = None):
        text = f"{code}: {message}" + (f" (fix: {solution_url})" if solution_url else "")
        super().__init__(text, status=status)
        self.code = code
        self.detail = message
        self.solution_url = solution_url


class Unsupported(ProviderError):
    """The provider has no API for this; a person has to do it in the provider's portal."""


class CollectionProvider(Protocol):
    name: str

    def submit(self, payload: CasePayload, idem_key: str) -> PushResult: ...

    def find(self, payload: CasePayload, since: datetime | None) -> PushResult | None:
        """The case for this claim if the provider already has it (resolves a pending push)."""
        ...

    def get(self, provider_ref: str) -> ProviderCase | None: ...

    def changes(self, cursor: str | None) -> tuple[list[ProviderCase], str | None]:
        """Cases changed since ``cursor``, and the cursor to store for next time."""
        ...

    def register_payment(self, provider_ref: str, payment: Transfer, idem_key: str) -> None: ...

    def credit(self, provider_ref: str, credit: Transfer, idem_key: str) -> None: ...

    def withdraw(self, provider_ref: str, reason: str, idem_key: str) -> None: ...
