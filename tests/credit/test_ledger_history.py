"""The ledger part of a credit check, from a small history run through the real reconciliation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connector.credit.facts import LedgerHistory
from connector.credit.history import ledger_history
from connector.model import Action, Dispute, DocKind, DunningStep, Invoice, Payment
from connector.reconcile.matching import reconcile

TODAY = date(2026, 2, 2)


def invoice(
    number: str,
    due: date,
    amount: str,
    customer: str = "C1",
    currency: str = "NOK",
    kind: DocKind = DocKind.INVOICE,
    credits: tuple[str, ...] = (),
) -> Invoice:
    issued = date(due.year, due.month, 1)
    return Invoice("acme", number, kind, customer, issued, due, currency, Decimal(amount), "tripletex", credits=credits)


def paid(number: str, on: date, amount: str, currency: str = "NOK") -> Payment:
    """A payment the ledger already booked against the invoice."""
    return Payment("acme", "tripletex", "", f"p-{number}-{on}", 0, on, Decimal(amount), currency, invoice_number=number)


def step(number: str, action: Action, on: date) -> DunningStep:
    return DunningStep("acme", number, action, on, "email")


INVOICES = [
    invoice("1001", date(2025, 3, 3), "1000.00"),  # paid two days early
    invoice("1002", date(2025, 5, 5), "2000.00"),  # 20 days late
    invoice("1003", date(2025, 8, 1), "3000.00"),  # 30 days late, after a reminder and a notice
    invoice("1004", date(2025, 12, 1), "8000.00"),  # part-paid, 5000 overdue, disputed
    invoice("1005", date(2026, 2, 14), "900.00"),  # not yet due
    invoice("1006", date(2023, 1, 10), "700.00"),  # paid late long ago: outside the 24 months
    invoice("1007", date(2025, 6, 2), "500.00"),  # cancelled by a credit note, never paid
    invoice("CN1", date(2025, 6, 2), "500.00", kind=DocKind.CREDIT_NOTE, credits=("1007",)),
    invoice("1008", date(2025, 10, 4), "1500.00"),  # due on a Saturday, paid on the Monday: on time
    invoice("1009", date(2026, 1, 15), "300.00", currency="EUR"),  # overdue, in euros
    invoice("2001", date(2025, 9, 1), "9999.00", customer="C2"),  # another customer's
]
PAYMENTS = [
    paid("1001", date(2025, 3, 1), "1000.00"),
    paid("1002", date(2025, 5, 25), "2000.00"),
    paid("1003", date(2025, 8, 31), "3000.00"),
    paid("1004", date(2025, 12, 20), "3000.00"),
    paid("1006", date(2023, 4, 1), "700.00"),
    paid("1008", date(2025, 10, 6), "1500.00"),
]
STEPS = [
    step("1003", Action.REMINDER, date(2025, 8, 15)),
    step("1003", Action.COLLECTION_NOTICE, date(2025, 8, 29)),
    step("1004", Action.REMINDER, date(2025, 12, 15)),
    step("1006", Action.REMINDER, date(2023, 1, 24)),  # outside the window
    step("2001", Action.COLLECTION_CASE, date(2025, 10, 1)),  # another customer's
]
DISPUTES = [
    Dispute("acme", "1004", "d1", date(2025, 12, 10), "wrong quantity", "manual"),
    Dispute("acme", "1002", "d0", date(2025, 5, 6), "late delivery", "manual", resolved_on=date(2025, 5, 20)),
    Dispute("acme", "2001", "d2", date(2025, 9, 5), "other customer", "manual"),
]


def history(months: int = 24) -> LedgerHistory:
    recon = reconcile(INVOICES, PAYMENTS)
    return ledger_history("C1", INVOICES, recon, STEPS, DISPUTES, TODAY, months=months)


def test_days_paid_after_due_reminders_disputes_and_overdue() -> None:
    h = history()
    assert h.since == date(2024, 2, 2)
    # 1001, 1002, 1003, 1004, 1008, 1009: due in the window; 1005 not due, 1006 too old, 1007 credited away
    assert h.invoices == 6
    assert h.paid == 4
    # early counts as 0, the Saturday due date moves to Monday: (0 + 20 + 30 + 0) / 4
    assert h.avg_days_late == Decimal("12.5")
    assert (h.max_days_late, h.paid_late) == (30, 2)
    assert (h.reminded, h.collection_steps) == (2, 1)
    assert h.open_disputes == 1
    assert h.overdue == (("EUR", Decimal("300.00")), ("NOK", Decimal("5000.00")))
    assert h.overdue_invoices == 2
    assert h.overdue_in("NOK") == Decimal("5000.00")


def test_a_longer_window_takes_the_old_invoice_in() -> None:
    h = history(months=48)
    assert h.invoices == 7 and h.reminded == 3
    # 1006: due Tue 2023-01-10, paid 2023-04-01 → 81 days late
    assert h.max_days_late == 81


def test_a_customer_without_history_has_nothing_to_average() -> None:
    recon = reconcile(INVOICES, PAYMENTS)
    h = ledger_history("C9", INVOICES, recon, STEPS, DISPUTES, TODAY)
    assert (h.invoices, h.paid, h.avg_days_late, h.overdue) == (0, 0, None, ())
