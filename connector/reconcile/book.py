"""The open items while matching runs: open amounts plus hash indexes that follow every allocation."""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterator
from decimal import Decimal
from typing import Generic, TypeVar

from connector.model import ZERO, Invoice

_NONE: tuple[str, ...] = ()
_ZERO = ZERO.as_tuple()
_HUNDRED = Decimal(100)
K = TypeVar("K", bound=Hashable)


def cents(amount: Decimal) -> int:
    return int((amount * _HUNDRED).to_integral_value())  # a Decimal factor: no int converted per call


class Multi(Generic[K]):
    """key → strings (invoice numbers, customer ids), compact: almost every key has one, kept as the bare
    string; a set only where a key has several. What ``get`` returns is read-only."""

    __slots__ = ("_d",)

    def __init__(self) -> None:
        self._d: dict[K, str | set[str]] = {}

    def add(self, key: K, number: str) -> None:
        d = self._d
        found = d.get(key)
        if found is None:
            d[key] = number
        elif isinstance(found, str):
            if found != number:
                d[key] = {found, number}
        else:
            found.add(number)

    def discard(self, key: K, number: str) -> None:
        d = self._d
        found = d.get(key)
        if found is None:
            return
        if isinstance(found, str):
            if found == number:
                del d[key]
        else:
            found.discard(number)
            if len(found) == 1:
                d[key] = next(iter(found))

    def get(self, key: K, default: Collection[str] = _NONE) -> Collection[str]:
        found = self._d.get(key)
        if found is None:
            return default
        return (found,) if isinstance(found, str) else found

    def items(self) -> Iterator[tuple[K, Collection[str]]]:
        for key, found in self._d.items():
            yield key, (found,) if isinstance(found, str) else found


class OpenBook:
    """Open amount per invoice, indexed by (customer, øre) and by øre so amount look-ups never scan."""

    def __init__(self, receivables: dict[str, Invoice]):
        self.invoices = receivables
        self.open: dict[str, Decimal] = {n: i.amount for n, i in receivables.items()}
        self.by_customer: dict[str, set[str]] = {}
        # customer → (øre → numbers), built for a customer on its first look-up (only payments whose payer is
        # known ask), then kept in step with every change: no (customer, øre) key per invoice up front
        self._customer_amounts: dict[str, Multi[int]] = {}
        self.by_amount: Multi[int] = Multi()  # øre → numbers
        for number, inv in receivables.items():
            self._index(number, inv, self.open[number])

    def _index(self, number: str, inv: Invoice, amount: Decimal) -> None:
        if amount > 0:
            c = cents(amount)
            owned = self.by_customer.get(inv.customer_id)
            if owned is None:
                owned = self.by_customer[inv.customer_id] = set()
            owned.add(number)
            amounts = self._customer_amounts.get(inv.customer_id) if self._customer_amounts else None
            if amounts is not None:
                amounts.add(c, number)
            self.by_amount.add(c, number)

    def _unindex(self, number: str, inv: Invoice, amount: Decimal) -> None:
        if amount > 0:
            c = cents(amount)
            owned = self.by_customer.get(inv.customer_id)
            if owned is not None:
                owned.discard(number)
            amounts = self._customer_amounts.get(inv.customer_id) if self._customer_amounts else None
            if amounts is not None:
                amounts.discard(c, number)
            self.by_amount.discard(c, number)

    def change(self, number: str, delta: Decimal) -> None:
        """Add ``delta`` (negative to settle, positive to re-open) to an invoice's open amount."""
        inv = self.invoices[number]
        before = self.open[number]
        self._unindex(number, inv, before)
        after = before + delta
        self.open[number] = ZERO if not after and after.as_tuple() == _ZERO else after  # one shared 0.00
        self._index(number, inv, after)

    def by_customer_amount(self, customer_id: str, c: int) -> Collection[str]:
        """The customer's open items of exactly ``c`` øre."""
        amounts = self._customer_amounts.get(customer_id)
        if amounts is None:
            amounts = self._customer_amounts[customer_id] = Multi()
            for number in self.by_customer.get(customer_id, ()):
                amounts.add(cents(self.open[number]), number)
        return amounts.get(c)

    def open_items(self, customer_id: str) -> list[str]:
        """The customer's open invoices, oldest first (stable order for the subset search)."""
        return sorted(self.by_customer.get(customer_id, ()), key=lambda n: (self.invoices[n].issue_date, n))
