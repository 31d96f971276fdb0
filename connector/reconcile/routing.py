"""Which customers' books a payment can touch while it is matched (pure).

A client with a million invoices is matched one slice of customers at a time (``connector.engine.slices``)
so memory stays bounded; the result must be exactly that of matching everything at once. That holds when
every payment is matched in the slice holding every customer it can touch. The router asks the matcher's own
candidate index (``connector.reconcile.index``) — references, invoice numbers in the text, inkasso payers,
payer → customer look-ups do not depend on what earlier payments settled — and answers, per payment, with
the customers of its candidates:

- a set of customers (joined into one slice by ``Components``);
- ``ANYWHERE``: it touches no customer's book (an inkasso payout, a 0.00 notice, a ledger payment of an
  unknown invoice): any one slice matches it;
- ``EVERYWHERE``: a booked or pending credit with no reference and no known payer holds whoever has an
  open item of its amount at that moment, in any customer: every slice sees it and holds its own items.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

from connector.model import PaymentView
from connector.reconcile.index import PAYER, REVERSAL, CandidateIndex, Originals
from connector.references import KID_SCHEMES

ANYWHERE: frozenset[str] = frozenset()
EVERYWHERE = "*"  # also the value written to the store for such payments
NEEDS_PAYER = "payer"  # decided once every payment has been learned from: ``route_by_payer``
NEEDS_ORIGINAL = "original"  # a reversal: goes where the payment it takes back went (``Originals``)
# (``Originals`` lives in the index, which the matcher asks too; the slice engine finds it here)
__all__ = ["ANYWHERE", "EVERYWHERE", "NEEDS_ORIGINAL", "NEEDS_PAYER", "Components", "Originals", "Route", "Router"]

Route = frozenset[str] | str  # customers, or EVERYWHERE (or, from ``Router.route``, NEEDS_PAYER / NEEDS_ORIGINAL)


class Router:
    """Built from the client's invoices (number, customer, currency, reference) and customers' org ids, fed
    to its ``index`` as the matcher feeds its own; then every payment is learned from and routed."""

    def __init__(
        self,
        kid_schemes: Collection[str] = KID_SCHEMES,
        inkasso_payers: Collection[str] = (),
        payer_accounts: Mapping[str, Collection[str]] | None = None,
    ):
        self.index = CandidateIndex(kid_schemes, inkasso_payers, payer_accounts)

    # -- building: the index's ------------------------------------------------------------------

    def add_invoice(self, number: str, customer_id: str, currency: str, kid: str | None) -> None:
        """One receivable (kind invoice), fed in document order (issue date, number) as the matcher reads them."""
        self.index.add_invoice(number, customer_id, currency, kid)

    def add_customer(self, customer_id: str, org_no: str | None) -> None:
        self.index.add_customer(customer_id, org_no)

    def learn(self, p: PaymentView) -> None:
        self.index.learn(p)

    @property
    def owner(self) -> dict[str, str]:
        """Invoice number → customer."""
        return self.index.owner

    @property
    def by_number(self) -> dict[str, str]:
        """Non-empty when invoice numbers differ only in case or spaces: then the document order counts."""
        return self.index.by_number

    @property
    def together(self) -> list[tuple[str, str]]:
        """Pairs of customers a shared reference or number key joins into one slice."""
        return self.index.together

    def payer_accounts(self) -> Iterator[tuple[str, Collection[str]]]:
        return self.index.payer_accounts()

    # -- routing ------------------------------------------------------------------------------

    def customers(self, numbers: Iterable[str]) -> frozenset[str]:
        owner = self.index.owner
        return frozenset(owner[n] for n in numbers)

    def tier2(self, p: PaymentView) -> Sequence[str]:
        """The invoices ``p``'s free text names (of any currency)."""
        return self.index.in_text(p.free_text)[0]

    def route(self, p: PaymentView) -> Route:
        """The customers of ``p``'s candidates, as the matcher would find them (``CandidateIndex.candidates``)."""
        found, numbers, named, _ = self.index.candidates(p)
        if found is PAYER:
            return NEEDS_PAYER
        if found is REVERSAL and not numbers:
            return NEEDS_ORIGINAL
        # a text's evidence names every invoice it names, of any currency: all their customers
        return self.customers(named) if named else ANYWHERE

    def route_by_payer(self, payer_account: str | None, payer_org_id: str | None) -> Route:
        payers = self.index.payers(payer_account, payer_org_id)
        return frozenset(payers) if payers else EVERYWHERE


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
