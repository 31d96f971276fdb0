"""A credit check as it is kept: the assessment, the day it was made, why it was made, and which of the
customer's invoices it had seen (so the next night knows which invoices are new).

Pure: the type, its JSON, and the two questions the nightly stage and the other views ask of it —
which invoices are new since the check, and the one line that shows the level wherever a customer or
an invoice is listed (:func:`credit_line`, :func:`credit_evidence`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from connector.credit.risk import RiskAssessment, RiskLevel, RiskReason
from connector.model import DocKind, Evidence, Invoice

MANUAL = "manual"  # `arsync credit check`
NEW_CUSTOMER = "new customer"
HIGH_WITH_NEW_INVOICES = "high risk, new invoices"


@dataclass(frozen=True, slots=True)
class CreditCheck:
    client_id: str
    customer_id: str
    assessment: RiskAssessment
    trigger: str  # NEW_CUSTOMER, "invoice 1042 (60000.00 NOK)", HIGH_WITH_NEW_INVOICES or MANUAL
    # The newest issue date among the customer's invoices when checked, and the numbers issued that day:
    # an invoice is new to the next check when issued later, or that day under another number.
    invoices_through: date | None = None
    seen_last_day: tuple[str, ...] = ()

    @property
    def checked_on(self) -> date:
        return self.assessment.evaluated_on

    @property
    def level(self) -> RiskLevel:
        return self.assessment.level

    def new_invoices(self, invoices: Iterable[Invoice]) -> list[Invoice]:
        """This customer's invoices (credit notes left out) the check had not seen."""
        through, seen = self.invoices_through, set(self.seen_last_day)
        return [
            i
            for i in invoices
            if i.kind is DocKind.INVOICE
            and (through is None or i.issue_date > through or (i.issue_date == through and i.number not in seen))
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "client": self.client_id,
            "customer": self.customer_id,
            "trigger": self.trigger,
            **self.assessment.as_json(),
        }


def watermark(invoices: Iterable[Invoice]) -> tuple[date | None, tuple[str, ...]]:
    """(newest issue date, the invoice numbers issued that day) over a customer's invoices."""
    mine = [i for i in invoices if i.kind is DocKind.INVOICE]
    if not mine:
        return None, ()
    through = max(i.issue_date for i in mine)
    return through, tuple(sorted(i.number for i in mine if i.issue_date == through))


def assessment_from_json(data: dict[str, Any]) -> RiskAssessment:
    """The inverse of :meth:`RiskAssessment.as_json` (the stored form)."""
    reasons = tuple(
        RiskReason(
            code=r["code"],
            level=RiskLevel(r["level"]),
            text=r["text"],
            source=r["source"],
            as_of=date.fromisoformat(r["as_of"]) if r.get("as_of") else None,
        )
        for r in data.get("reasons", [])
    )
    return RiskAssessment(
        customer_id=data.get("customer"),
        org_no=data.get("org_no"),
        level=RiskLevel(data["level"]),
        reasons=reasons,
        notes=tuple(data.get("notes", [])),
        evaluated_on=date.fromisoformat(data["evaluated_on"]),
    )


# ---- how the level shows elsewhere (decision evidence, calls list, workbench, reports) -------------


def credit_line(check: CreditCheck) -> str:
    """ "credit risk high (2026-02-02): Bankrupt (konkurs) since 2026-01-12. (+2 more)" — one line."""
    a = check.assessment
    head = f"credit risk {a.level} ({a.evaluated_on.isoformat()})"
    if not a.reasons:
        return f"{head}: no warning signs found"
    more = f" (+{len(a.reasons) - 1} more)" if len(a.reasons) > 1 else ""
    return f"{head}: {a.reasons[0].text}{more}"


def credit_evidence(check: CreditCheck) -> Evidence:
    """The check as one piece of decision evidence (kind ``credit``); advice only — no hold follows."""
    return Evidence("credit", credit_line(check), ref=check.assessment.org_no, on=check.checked_on)
