"""The open items while matching runs: open amounts plus hash indexes that follow every allocation."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from connector.model import Invoice


def cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


class OpenBook:
    """Open amount per invoice, indexed by (customer, øre) and by øre so amount look-ups never scan."""

    def __init__(self, receivables: dict[str, Invoice]):
        self.invoices = receivables
        self.open: dict[str, Decimal] = {n: i.amount for n, i in receivables.items()}
        self.by_customer: dict[str, set[str]] = defaultdict(set)
        self.by_customer_amount: dict[tuple[str, int], set[str]] = defaultdict(set)
        self.by_amount: dict[int, set[str]] = defaultdict(set)
        for number, inv in receivables.items():
            self._index(number, inv, self.open[number])

    def _index(self, number: str, inv: Invoice, amount: Decimal) -> None:
        if amount > 0:
            c = cents(amount)
            self.by_customer[inv.customer_id].add(number)
            self.by_customer_amount[(inv.customer_id, c)].add(number)
            self.by_amount[c].add(number)

    def _unindex(self, number: str, inv: Invoice, amount: Decimal) -> None:
        if amount > 0:
            c = cents(amount)
            self.by_customer[inv.customer_id].discard(number)
            self.by_customer_amount[(inv.customer_id, c)].discard(number)
            self.by_amount[c].discard(number)

    def change(self, number: str, delta: Decimal) -> None:
        """Add ``delta`` (negative to settle, positive to re-open) to an invoice's open amount."""
        inv = self.invoices[number]
        self._unindex(number, inv, self.open[number])
        self.open[number] += delta
        self._index(number, inv, self.open[number])

    def open_items(self, customer_id: str) -> list[str]:
        """The customer's open invoices, oldest first (stable order for the subset search)."""
        return sorted(self.by_customer.get(customer_id, ()), key=lambda n: (self.invoices[n].issue_date, n))
