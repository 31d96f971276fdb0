"""The ledger part of a credit check: how this customer has paid the client (pure; ``as_of`` passed in).

Read from the model and the reconciliation the core already computes:
- an invoice counts when it is due in the window (``months`` before ``as_of`` up to ``as_of``);
  credit notes, and invoices settled by credit notes alone (cancelled, not paid), do not;
- days paid after due: the day of the last allocation that settled it (``Reconciliation.last_settled_on``)
  minus the effective due date (moved past weekends and holidays, as for ``paid_on_time``); paying
  early counts as 0, so early payers do not hide late ones;
- reminders and collection steps needed: the dunning steps taken on those invoices;
- open disputes and the overdue amount: over every open invoice of the customer, whatever its age.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from connector.credit.facts import LedgerHistory
from connector.credit.months import months_before
from connector.dunning.calendar import effective_due_date
from connector.model import ZERO, Action, Dispute, DocKind, DunningStep, Invoice
from connector.reconcile.matching import Reconciliation

COLLECTION = (Action.COLLECTION_NOTICE, Action.COLLECTION_CASE)


def ledger_history(
    customer_id: str,
    invoices: Iterable[Invoice],
    recon: Reconciliation,
    steps: Iterable[DunningStep],
    disputes: Iterable[Dispute],
    as_of: date,
    *,
    months: int = 24,
    country: str = "NO",
) -> LedgerHistory:
    since = months_before(as_of, months)
    mine = [i for i in invoices if i.customer_id == customer_id and i.kind is DocKind.INVOICE]
    numbers = {i.number for i in mine}
    in_window: list[Invoice] = []
    paid = paid_late = 0
    days_late: list[int] = []
    overdue: dict[str, Decimal] = defaultdict(lambda: ZERO)
    overdue_invoices = 0
    for inv in mine:
        if inv.due_date is None:
            continue
        due = effective_due_date(inv.due_date, country)
        open_amount = recon.open_amount.get(inv.number, inv.amount)
        if open_amount > ZERO and due < as_of:
            overdue[inv.currency] += open_amount
            overdue_invoices += 1
        if not since <= inv.due_date <= as_of or _credited_away(inv.number, recon):
            continue
        in_window.append(inv)
        if open_amount > ZERO:
            continue
        paid += 1
        settled_on = recon.last_settled_on.get(inv.number)
        if isinstance(settled_on, date):
            late = max(0, (settled_on - due).days)
            days_late.append(late)
            paid_late += late > 0
    window = {i.number for i in in_window}
    reminded: set[str] = set()
    collected: set[str] = set()
    for step in steps:
        if step.invoice_number in window:
            if step.step is Action.REMINDER:
                reminded.add(step.invoice_number)
            elif step.step in COLLECTION:
                collected.add(step.invoice_number)
    open_disputes = {d.invoice_number for d in disputes if d.is_open and d.invoice_number in numbers}
    avg = (Decimal(sum(days_late)) / len(days_late)).quantize(Decimal("0.1")) if days_late else None
    return LedgerHistory(
        customer_id=customer_id,
        since=since,
        invoices=len(in_window),
        paid=paid,
        avg_days_late=avg,
        max_days_late=max(days_late) if days_late else None,
        paid_late=paid_late,
        reminded=len(reminded),
        collection_steps=len(collected),
        open_disputes=len(open_disputes),
        overdue=tuple(sorted((cur, amount) for cur, amount in overdue.items() if amount > ZERO)),
        overdue_invoices=overdue_invoices,
    )


def _credited_away(number: str, recon: Reconciliation) -> bool:
    """Settled by credit notes only: the client cancelled it; it says nothing about paying."""
    allocations = recon.allocations.get(number) or []
    return (
        bool(allocations)
        and all(a.tier == "credit_note" for a in allocations)
        and recon.open_amount.get(number, ZERO) <= ZERO
    )
