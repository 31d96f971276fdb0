"""The flag stage: disputes that open themselves. Pure; the pipeline stores what it returns.

A short payment after the buyer complained (Invoice Response UQ / RE / CA, or a recorded dispute) is
a dispute about the rest: the buyer paid what they accept. The dispute id is deterministic, so a
dispute the accountant resolved is never re-opened by the next run.
"""

from __future__ import annotations

from datetime import date

from connector.model import INVOICE_RESPONSE, ZERO, AllocationTier, Dispute, DisputeSource, DocKind, Facts
from connector.reconcile import Reconciliation

COMPLAINT_CODES = frozenset({"UQ", "RE", "CA"})


def short_payment_disputes(facts: Facts, recon: Reconciliation, as_of: date) -> list[Dispute]:
    paid_on = {p.key: p.booking_date for p in facts.payments}
    complaints: dict[str, tuple[date, str]] = {}
    for e in facts.document_events:
        if e.kind == INVOICE_RESPONSE and e.code in COMPLAINT_CODES and e.invoice_number and e.issued_on <= as_of:
            prev = complaints.get(e.invoice_number)
            if prev is None or e.issued_on < prev[0]:
                complaints[e.invoice_number] = (e.issued_on, f"Invoice Response {e.code} {e.text}".strip())
    for d in facts.disputes:
        if d.source != DisputeSource.SHORT_PAYMENT and d.opened_on <= as_of:
            prev = complaints.get(d.invoice_number)
            if prev is None or d.opened_on < prev[0]:
                complaints[d.invoice_number] = (d.opened_on, f"{d.source} dispute: {d.reason}")
    out = []
    for inv in facts.invoices:
        if inv.kind is not DocKind.INVOICE or inv.number not in complaints:
            continue
        open_amount = recon.open_amount.get(inv.number, inv.amount)
        if open_amount <= ZERO:
            continue
        since, what = complaints[inv.number]
        paid_after = [
            a
            for a in recon.allocations.get(inv.number, [])
            if a.tier is not AllocationTier.CREDIT_NOTE
            and a.amount > ZERO
            and since <= paid_on.get(a.source_key, date.min) <= as_of
        ]
        if not paid_after:
            continue
        paid = sum((a.amount for a in paid_after), ZERO)
        out.append(
            Dispute(
                client_id=inv.client_id,
                invoice_number=inv.number,
                dispute_id=f"short-payment-{inv.number}",
                opened_on=as_of,
                reason=f"short payment of {paid} {inv.currency} after the buyer's complaint ({what}); "
                f"{open_amount} {inv.currency} left unpaid",
                source=DisputeSource.SHORT_PAYMENT,
            )
        )
    return out
