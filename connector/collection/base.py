"""The collection-provider interface and the case payload every provider receives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from connector.model import Attachment, Case, Customer, DunningStep, Invoice


@dataclass(frozen=True)
class CasePayload:
    """Everything an inkasso provider needs about one claim, gathered from the store."""

    case: Case
    creditor_name: str
    creditor_org_no: str
    debtor: Customer
    invoice: Invoice
    remaining: Decimal
    steps: tuple[DunningStep, ...]
    attachments: tuple[Attachment, ...]
    pushed_on: date

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
            "attachments": [a.filename for a in self.attachments],
            "pushed_on": self.pushed_on.isoformat(),
        }


@dataclass(frozen=True)
class PushResult:
    provider_ref: str
    created: bool  # False when the provider already had it (an idempotent re-push)


class CollectionProvider(Protocol):
    name: str

    def submit(self, payload: CasePayload) -> PushResult: ...
