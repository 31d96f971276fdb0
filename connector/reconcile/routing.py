"""Which customers' books a payment can touch while it is matched (pure).

A client with a million invoices is matched one slice of customers at a time (``connector.reconcile.slices``)
so memory stays bounded; the result must be exactly that of matching everything at once. That holds when
every payment is matched in the slice holding every customer it can touch. This module follows the path of
``matching._Matcher`` statically — references, invoice numbers in the text, inkasso payers, payer →
customer look-ups and the payment a reversal takes back do not depend on what earlier payments settled —
and answers, per payment, with its customers:

- a set of customers (joined into one slice by ``Components``);
- ``ANYWHERE``: it touches no customer's book (an inkasso payout, a 0.00 notice, a ledger payment of an
  unknown invoice): any one slice matches it;
- ``EVERYWHERE``: a booked or pending credit with no reference and no known payer holds whoever has an
  open item of its amount at that moment, in any customer: every slice sees it and holds its own items.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Protocol

from connector.model import ZERO, PaymentStatus
from connector.reconcile.book import cents
from connector.reconcile.matching import BANK_SOURCES, is_inkasso, org_digits, plain_account
from connector.reconcile.text import invoice_key, tokens
from connector.references import KID_SCHEMES, classify, kids_in_text, normalise

ANYWHERE: frozenset[str] = frozenset()
EVERYWHERE = "*"  # also the value written to the store for such payments
NEEDS_PAYER = "payer"  # decided once every payment has been learned from: ``route_by_payer``
NEEDS_ORIGINAL = "original"  # a reversal: goes where the payment it takes back went (``Originals``)


class PaymentView(Protocol):
    """The attributes of a payment routing reads (a ``Payment``, or the store's lighter ``RoutingRow``)."""

    @property
    def key(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def account(self) -> str: ...
    @property
    def booking_date(self) -> date: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...
    @property
    def status(self) -> PaymentStatus: ...
    @property
    def structured_ref(self) -> str | None: ...
    @property
    def free_text(self) -> str: ...
    @property
    def payer_name(self) -> str | None: ...
    @property
    def payer_account(self) -> str | None: ...
    @property
    def payer_org_id(self) -> str | None: ...
    @property
    def reversal(self) -> bool: ...
    @property
    def invoice_number(self) -> str | None: ...


Route = frozenset[str] | str  # customers, or EVERYWHERE (or, from ``Router.route``, NEEDS_PAYER / NEEDS_ORIGINAL)


class Router:
    """Built from the client's invoices (number, customer, currency, reference) and customers' org ids."""

    def __init__(
        self,
        kid_schemes: Collection[str] = KID_SCHEMES,
        inkasso_payers: Collection[str] = (),
        payer_accounts: Mapping[str, Collection[str]] | None = None,
    ):
        self.kid_schemes = kid_schemes
        self.inkasso_payers = {plain_account(x) for x in inkasso_payers}
        self.owner: dict[str, str] = {}  # invoice number → customer
        self.currency: dict[str, str] = {}  # invoice number → currency, only where not the client's usual one
        self.usual_currency = ""
        self.by_ref: dict[str, str | list[str]] = {}
        self.by_number: dict[str, str] = {}
        self.by_org: dict[str, set[str]] = {}
        self.by_payer: dict[str, set[str]] = {}
        # pairs of customers whose invoices share a reference or a number's key (INV-1 / inv-1): a slice
        # holding one of them alone would answer that reference or text token differently (another
        # currency, a single owner to learn from or re-open): they are matched in one slice
        self.together: list[tuple[str, str]] = []
        self._tier1_of: str | None = None
        self._tier1: list[str] = []
        for account, owners in (payer_accounts or {}).items():
            self.by_payer.setdefault(plain_account(account), set()).update(owners)

    # -- building -------------------------------------------------------------------------------

    def add_invoice(self, number: str, customer_id: str, currency: str, kid: str | None) -> None:
        """One receivable (kind invoice), fed in document order (issue date, number) as the matcher reads them:
        for numbers that differ only in case or spaces, the last one in that order answers a text token."""
        self.owner[number] = customer_id
        if not self.usual_currency:
            self.usual_currency = currency
        if currency != self.usual_currency:
            self.currency[number] = currency
        ref = normalise(kid)
        if ref:
            seen = self.by_ref.get(ref)
            if seen is None:
                self.by_ref[ref] = number
            elif isinstance(seen, str):
                self._together(seen, customer_id)
                self.by_ref[ref] = [seen, number]
            else:
                self._together(seen[-1], customer_id)
                seen.append(number)
        key = invoice_key(number)
        if key != number or key in self.by_number:
            before = self.by_number.get(key) or (key if key != number and key in self.owner else None)
            if before is not None:
                self._together(before, customer_id)
            self.by_number[key] = number

    def _together(self, number: str, customer_id: str) -> None:
        if self.owner[number] != customer_id:
            self.together.append((self.owner[number], customer_id))

    def add_customer(self, customer_id: str, org_no: str | None) -> None:
        if org_no:
            self.by_org.setdefault(org_digits(org_no), set()).add(customer_id)

    def currency_of(self, number: str) -> str:
        return self.currency.get(number, self.usual_currency)

    # -- the matcher's look-ups, without their evidence -----------------------------------------

    def refs(self, value: str) -> list[str]:
        found = self.by_ref.get(value)
        if found is None:
            return []
        return [found] if isinstance(found, str) else found

    def tier1(self, p: PaymentView) -> list[str]:
        value = p.structured_ref
        if value == self._tier1_of:  # learn and route ask for the same payment in a row
            return self._tier1
        ref = classify(value, self.kid_schemes)
        self._tier1_of, self._tier1 = value, (self.refs(ref.value) if ref is not None else [])
        return self._tier1

    def tier2(self, p: PaymentView) -> list[str]:
        found: set[str] = set()
        for kid in kids_in_text(p.free_text):
            ref = classify(kid, self.kid_schemes)
            if ref is not None:
                found.update(self.refs(ref.value))
        for token in tokens(p.free_text):
            number = self.by_number.get(token) or (token if token in self.owner else None)
            if number is not None:
                found.add(number)
        return sorted(found)

    def learn(self, p: PaymentView) -> None:
        """As ``_Matcher.learn``: a payer account whose reference proves the customer."""
        if not p.payer_account or not p.structured_ref or p.reversal or p.status is not PaymentStatus.BOOKED:
            return
        if p.source not in BANK_SOURCES and p.invoice_number:
            return
        owners = {self.owner[n] for n in self.tier1(p)}
        if len(owners) == 1:
            self.by_payer.setdefault(plain_account(p.payer_account), set()).update(owners)

    def payers(self, payer_account: str | None, payer_org_id: str | None) -> set[str]:
        out: set[str] = set()
        if payer_account:
            out |= self.by_payer.get(plain_account(payer_account), set())
        if payer_org_id:
            out |= self.by_org.get(org_digits(payer_org_id), set())
        return out

    def customers(self, numbers: Iterable[str]) -> frozenset[str]:
        return frozenset(self.owner[n] for n in numbers)

    # -- routing ------------------------------------------------------------------------------

    def route(self, p: PaymentView) -> Route:
        """Where ``p`` is matched, as ``_Matcher.bank_payment`` / ``ledger_payment`` / ``reverse`` would take it."""
        if p.source not in BANK_SOURCES and p.invoice_number:  # a ledger payment
            owner = self.owner.get(p.invoice_number)
            return frozenset((owner,)) if owner is not None else ANYWHERE
        if p.amount <= ZERO:
            return ANYWHERE
        if p.reversal:
            numbers = self.tier1(p)
            if len(numbers) != 1:
                numbers = self.tier2(p)
            return self.customers(numbers) if len(numbers) == 1 else NEEDS_ORIGINAL
        numbers = [n for n in self.tier1(p) if self.currency_of(n) == p.currency]
        if numbers:
            return self.customers(numbers)
        if is_inkasso(p, self.inkasso_payers):  # type: ignore[arg-type]
            return ANYWHERE
        named = self.tier2(p)
        if any(self.currency_of(n) == p.currency for n in named):
            # the evidence names every invoice the text names, of any currency: all their customers
            return self.customers(named)
        return NEEDS_PAYER

    def route_by_payer(self, payer_account: str | None, payer_org_id: str | None) -> Route:
        payers = self.payers(payer_account, payer_org_id)
        return frozenset(payers) if payers else EVERYWHERE


class Originals:
    """The payment a reversal without a usable reference takes back, as ``_Matcher.find_original`` picks
    it: the first booked credit on the same account, from the same payer account, of the same amount, on or
    before the reversal's day, not already taken back. Fed every payment in matching order."""

    def __init__(self, wanted: set[tuple[str, str, int]]):
        self.wanted = wanted  # only the (account, payer account, øre) keys some reversal asks for
        self.candidates: dict[tuple[str, str, int], list[PaymentView]] = {}
        self.reversed: set[str] = set()

    @staticmethod
    def key(p: PaymentView) -> tuple[str, str, int]:
        return (p.account, p.payer_account or "", cents(p.amount))

    def see(self, p: PaymentView) -> PaymentView | None:
        """Feed ``p``; for a reversal in question, returns the payment it takes back (or None)."""
        k = self.key(p)
        if k not in self.wanted:
            return None
        if not p.reversal:
            if p.status is PaymentStatus.BOOKED:
                self.candidates.setdefault(k, []).append(p)
            return None
        for q in self.candidates.get(k, ()):
            if q.booking_date <= p.booking_date and q.key not in self.reversed:
                self.reversed.add(q.key)
                return q
        return None


class Components:
    """Union-find over customers: payments that touch several customers join them into one slice."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.size: dict[str, int] = {}  # root → invoices in its component

    def add(self, customer_id: str, invoices: int = 0) -> None:
        if customer_id not in self.parent:
            self.parent[customer_id] = customer_id
            self.size[customer_id] = 0
        self.size[self.find(customer_id)] += invoices

    def find(self, customer_id: str) -> str:
        parent = self.parent
        root = customer_id
        while parent[root] != root:
            root = parent[root]
        while parent[customer_id] != root:  # path compression
            parent[customer_id], customer_id = root, parent[customer_id]
        return root

    def join(self, customers: Iterable[str]) -> None:
        it = iter(customers)
        first = next(it, None)
        if first is None:
            return
        self.add(first)
        a = self.find(first)
        for other in it:
            self.add(other)
            b = self.find(other)
            if a == b:
                continue
            if self.size[a] < self.size[b]:
                a, b = b, a
            self.parent[b] = a
            self.size[a] += self.size.pop(b)

    def slices(self, max_invoices: int) -> dict[str, int]:
        """customer → slice number: whole components packed in customer order, about ``max_invoices`` each."""
        out: dict[str, int] = {}
        slice_of_root: dict[str, int] = {}
        current, filled = 0, 0
        for customer_id in sorted(self.parent):
            root = self.find(customer_id)
            n = slice_of_root.get(root)
            if n is None:
                size = self.size[root]
                if filled and filled + size > max_invoices:
                    current, filled = current + 1, 0
                n = slice_of_root[root] = current
                filled += size
            out[customer_id] = n
        return out
