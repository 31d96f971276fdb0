"""Which invoices are paid, and by what. Pure: invoices and payments in, allocations out.

First slice of the tiers (issue #5 adds the rest):
- ``ledger``: a payment the accounting system booked against an invoice;
- ``kid``: a valid structured reference that belongs to exactly one invoice;
- ``credit_note``: a credit note applied to the invoices its BillingReference names.
Every allocation carries its tier and evidence. Nothing here is guessed: what cannot be explained
is listed (``unexplained``, ``unapplied_credits``) so the decision can hold instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from connector.bank.references import compact, is_valid_kid
from connector.model import ZERO, Allocation, DocKind, Invoice, Payment, PaymentStatus


@dataclass
class Reconciliation:
    open_amount: dict[str, Decimal] = field(default_factory=dict)  # invoice number → open amount
    allocations: dict[str, list[Allocation]] = field(default_factory=dict)
    pending: dict[str, list[Payment]] = field(default_factory=dict)  # invoice → pending payments naming it
    unexplained: list[Payment] = field(default_factory=list)  # booked credits nothing could be tied to
    overpaid: dict[str, Decimal] = field(default_factory=dict)  # customer id → credit left over
    unapplied_credits: dict[str, list[Invoice]] = field(default_factory=dict)  # customer → credit notes
    last_settled_on: dict[str, object] = field(default_factory=dict)  # invoice → date of last allocation


def reconcile(invoices: Iterable[Invoice], payments: Iterable[Payment]) -> Reconciliation:
    docs = sorted(invoices, key=lambda i: (i.issue_date, i.number))
    receivables = {i.number: i for i in docs if i.kind is DocKind.INVOICE}
    result = Reconciliation(
        open_amount={n: i.amount for n, i in receivables.items()},
        allocations={n: [] for n in receivables},
    )
    by_kid: dict[str, list[Invoice]] = defaultdict(list)
    for inv in receivables.values():
        if inv.kid:
            by_kid[compact(inv.kid)].append(inv)

    def allocate(inv: Invoice, amount: Decimal, tier: str, key: str, evidence: str, on: object) -> Decimal:
        """Apply up to ``amount``; returns what was left over."""
        take = min(amount, result.open_amount[inv.number])
        if take > ZERO:
            result.open_amount[inv.number] -= take
            result.allocations[inv.number].append(Allocation(inv.number, take, inv.currency, tier, key, evidence))
            result.last_settled_on[inv.number] = on
        return amount - take

    # Credit notes first: they are documents the client issued, so they are certain.
    for cn in (d for d in docs if d.kind is DocKind.CREDIT_NOTE):
        left = cn.amount
        for number in cn.credits:
            target = receivables.get(number)
            if target is None or target.currency != cn.currency or left <= ZERO:
                continue
            left = allocate(
                target, left, "credit_note", cn.number, f"credit note {cn.number} credits {number}", cn.issue_date
            )
        if left > ZERO:
            result.unapplied_credits.setdefault(cn.customer_id, []).append(cn)

    ordered = sorted(payments, key=lambda p: (p.booking_date, p.key))
    for p in ordered:
        if p.reversal:
            _reverse(result, receivables, by_kid, p)
            continue
        target = _target(p, receivables, by_kid)
        if p.status is PaymentStatus.PENDING:
            # Pending money only ever holds; it never settles an invoice.
            if target is not None:
                result.pending.setdefault(target.number, []).append(p)
            else:
                result.unexplained.append(p)
            continue
        if target is None or target.currency != p.currency:
            result.unexplained.append(p)
            continue
        tier = "ledger" if p.invoice_number else "kid"
        why = (
            f"booked in the ledger against invoice {target.number}"
            if p.invoice_number
            else f"KID {p.structured_ref} belongs to invoice {target.number}"
        )
        left = allocate(target, p.amount, tier, p.key, why, p.booking_date)
        if left > ZERO:
            result.overpaid[target.customer_id] = result.overpaid.get(target.customer_id, ZERO) + left
    return result


def _target(p: Payment, receivables: dict[str, Invoice], by_kid: dict[str, list[Invoice]]) -> Invoice | None:
    if p.invoice_number:
        return receivables.get(p.invoice_number)
    if p.structured_ref:
        ref = compact(p.structured_ref)
        candidates = by_kid.get(ref, [])
        # Only a valid KID that points at exactly one invoice is proof enough.
        if len(candidates) == 1 and is_valid_kid(ref):
            return candidates[0]
    return None


def _reverse(
    result: Reconciliation, receivables: dict[str, Invoice], by_kid: dict[str, list[Invoice]], p: Payment
) -> None:
    """A reversal or return takes money back: re-open what the original payment settled."""
    target = _target(p, receivables, by_kid)
    if target is None:
        result.unexplained.append(p)
        return
    paid = target.amount - result.open_amount[target.number]
    back = min(p.amount, paid)
    if back > ZERO:
        result.open_amount[target.number] += back
        result.allocations[target.number].append(
            Allocation(
                target.number,
                -back,
                target.currency,
                "reversal",
                p.key,
                f"payment returned/reversed on {p.booking_date.isoformat()}",
            )
        )
