"""The one candidate index (``connector.reconcile.index``): what a payment may pay, with tier and reason; the
matcher and the router both ask it, so they cannot disagree about a payment's candidates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from slice_books import DAY0, credit_note, customer, invoice, payment

from connector.model import AllocationTier, Customer, DocKind, Invoice, Payment, PaymentStatus
from connector.reconcile.index import CandidateIndex, Candidates, Found
from connector.reconcile.matching import Reconciliation, reconcile
from connector.reconcile.routing import EVERYWHERE, NEEDS_ORIGINAL, NEEDS_PAYER, Route, Router
from connector.references import KID_SCHEMES, kid_mod10, make_rf

K1, K2, K5 = kid_mod10("1001"), kid_mod10("2002"), kid_mod10("5005")
ORG = "923456783"
PAYER = "12345678903"
COLLECTOR = "55556666777"


def tricky_book() -> tuple[list[Customer], list[Invoice]]:
    """Numbers that differ only by case (another customer's, in EUR), a KID two customers share, a customer
    known by org id, a credit note, and an EUR invoice with its own KID."""
    customers = [customer("C0"), customer("C1"), customer("C2"), customer("C3", ORG)]
    invoices = [
        invoice("INV-1", "C0", "100.00", K1),
        invoice("INV-2", "C0", "250.00"),
        invoice("inv-1", "C1", "100.00", currency="EUR", issued=DAY0 - timedelta(days=20)),
        invoice("2002", "C1", "500.00", K2),
        invoice("3003", "C2", "500.00", K2),
        invoice("4004", "C2", "750.00"),
        invoice("5005", "C3", "1000.00", K5, currency="EUR"),
        invoice("6006", "C3", "300.00"),
        credit_note("CN-1", "C3", "50.00", ["6006"]),
    ]
    return customers, invoices


def tricky_payments() -> list[Payment]:
    day = iter(DAY0 + timedelta(days=d) for d in range(30))
    return [
        payment("P01", "100.00", next(day), structured_ref=K1, payer_account=PAYER),  # KID; teaches PAYER → C0
        payment("P02", "250.00", next(day), payer_account="1234.56.78903"),  # the learned payer: C0's 250
        payment("P03", "100.00", next(day), free_text="Faktura INV-1"),  # the token names C1's EUR inv-1
        payment("P04", "500.00", next(day), structured_ref=K2),  # a KID two customers share
        payment("P05", "250.00", next(day), payer_org_id=f"NO {ORG[:3]} {ORG[3:6]} {ORG[6:]} MVA"),  # C3 by org id
        payment("P06", "300.00", next(day), payer_name="Kredinor AS", structured_ref=kid_mod10("9999")),  # collector
        payment("P07", "500.00", next(day), free_text="Retur 2002", reversal=True),  # re-opens 2002
        payment("P08", "750.00", next(day), source="tripletex", invoice_number="4004"),  # the ledger's booking
        payment("P09", "0.00", next(day), structured_ref=K1),  # a notice: nothing to place
        payment("P10", "1000.00", next(day), structured_ref=K5),  # EUR invoice's KID, NOK money: no reference
        payment("P11", "750.00", next(day), free_text=f"KID: {K2} og 4004"),  # KID and number in the text
        payment("P12", "999.00", next(day)),  # nothing at all
        payment("P13", "100.00", next(day), payer_account=COLLECTOR),  # the configured collector
        payment("P14", "300.00", next(day), structured_ref=make_rf("6006")),  # an RF reference no invoice has
        payment("P15", "250.00", next(day), reversal=True, payer_account="1234.56.78903"),  # takes back P02
        payment("P16", "100.00", next(day), source="tripletex", invoice_number="INV-999"),  # unknown invoice
        payment("P17", "300.00", next(day), free_text="6006", status=PaymentStatus.PENDING),  # pending, by number
    ]


def _index(invoices: Sequence[Invoice], customers: Sequence[Customer], **kw: Any) -> CandidateIndex:
    idx = CandidateIndex(**kw)
    for inv in sorted(invoices, key=lambda i: (i.issue_date, i.number)):
        if inv.kind is DocKind.INVOICE:
            idx.add_invoice(inv.number, inv.customer_id, inv.currency, inv.kid)
    for c in customers:
        idx.add_customer(c.customer_id, c.org_no)
    return idx


def _found(c: Candidates) -> tuple[Found, tuple[str, ...], tuple[str, ...], str, AllocationTier | None]:
    return (c.found, tuple(c.numbers), tuple(c.named), c.reason, c.tier)


# -- what the index answers ------------------------------------------------------------------------


def test_candidates_with_tier_and_reason() -> None:
    customers, invoices = tricky_book()
    idx = _index(invoices, customers, inkasso_payers=[COLLECTOR])
    payments = tricky_payments()
    for p in payments:
        idx.learn(p)
    got = {p.bank_ref: _found(idx.candidates(p)) for p in payments}
    ledger = AllocationTier.LEDGER
    assert got == {
        "P01": (Found.REFERENCE, ("INV-1",), ("INV-1",), f"mod10 reference {K1}", AllocationTier.KID),
        "P02": (Found.PAYER, (), (), "", None),
        "P03": (Found.PAYER, (), (), "", None),  # inv-1 is C1's (the last INV-1 in document order), in EUR
        "P04": (Found.REFERENCE, ("2002", "3003"), ("2002", "3003"), f"mod10 reference {K2}", AllocationTier.KID),
        "P05": (Found.PAYER, (), (), "", None),
        "P06": (Found.INKASSO, (), (), "", None),
        "P07": (Found.REVERSAL, ("2002",), ("2002",), "", AllocationTier.REVERSAL),
        "P08": (Found.LEDGER, ("4004",), ("4004",), "booked in the ledger against invoice 4004", ledger),
        "P09": (Found.NOTHING, (), (), "", None),
        "P10": (Found.PAYER, (), (), "", None),
        "P11": (
            Found.TEXT,
            ("2002", "3003", "4004"),
            ("2002", "3003", "4004"),
            f"KID {K2} in the text; invoice number 4004 in the text",
            AllocationTier.REFERENCE_TEXT,
        ),
        "P12": (Found.PAYER, (), (), "", None),
        "P13": (Found.INKASSO, (), (), "", None),
        "P14": (Found.PAYER, (), (), "", None),
        "P15": (Found.REVERSAL, (), (), "", AllocationTier.REVERSAL),  # no reference: the matcher finds P02
        "P16": (Found.LEDGER, (), (), "", AllocationTier.LEDGER),
        "P17": (Found.TEXT, ("6006",), ("6006",), "invoice number 6006 in the text", AllocationTier.INVOICE_NUMBER),
    }
    by_key = {p.bank_ref: p for p in payments}
    assert idx.payers(by_key["P02"].payer_account, None) == ("C0",)  # learned from P01, compared plain
    assert idx.payers(None, by_key["P05"].payer_org_id) == ("C3",)
    assert set(idx.payers(PAYER, ORG)) == {"C0", "C3"}
    assert dict(idx.payer_accounts()) == {PAYER: ("C0",)}
    assert idx.together == [("C1", "C2"), ("C0", "C1")]  # K2, and INV-1 / inv-1


def test_a_text_naming_invoices_in_another_currency_too_names_them_all_in_its_evidence() -> None:
    idx = _index([invoice("INV-1", "C0", "100.00"), invoice("101", "C1", "100.00", currency="EUR")], [])
    c = idx.candidates(payment("B0", "100.00", free_text="Faktura INV-1, faktura 101"))
    assert (c.found, list(c.numbers), list(c.named)) == (Found.TEXT, ["INV-1"], ["101", "INV-1"])
    assert c.reason == "invoice number 101 in the text; invoice number INV-1 in the text"


def test_a_reference_two_customers_share_teaches_no_payer_account() -> None:
    idx = _index([invoice("2002", "C1", "500.00", K2), invoice("3003", "C2", "500.00", K2)], [])
    idx.learn(payment("B0", "500.00", structured_ref=K2, payer_account=PAYER))
    idx.learn(payment("B1", "500.00", structured_ref=K1, payer_account=PAYER))  # no invoice has K1
    idx.learn(payment("B2", "500.00", structured_ref=K2, payer_account=PAYER, status=PaymentStatus.PENDING))
    assert idx.payers(PAYER, None) == ()


def test_payments_routing_placed_nowhere_are_not_looked_up_again() -> None:
    p = payment("B0", "100.00", structured_ref=K1)
    idx = _index([invoice("INV-1", "C0", "100.00", K1)], [], unplaced={p.key})
    assert idx.candidates(p).found is Found.UNPLACED
    assert idx.candidates(payment("B1", "100.00", structured_ref=K1)).found is Found.REFERENCE


# -- the matcher and the router ask the same index -------------------------------------------------


def _both(
    customers: Sequence[Customer],
    invoices: Sequence[Invoice],
    payments: Sequence[Payment],
    **kw: Any,
) -> tuple[Reconciliation, Router, dict[str, Route]]:
    """Reconcile the client whole, and route its payments as a sliced run does (learn all, then route; a
    payment placed by its payer is routed by the payers learned from all)."""
    recon = reconcile(invoices, payments, customers={c.customer_id: c for c in customers}, **kw)
    router = Router(kw.get("kid_schemes", KID_SCHEMES), kw.get("inkasso_payers", ()), kw.get("payer_accounts"))
    for inv in sorted(invoices, key=lambda i: (i.issue_date, i.number)):
        if inv.kind is DocKind.INVOICE:
            router.add_invoice(inv.number, inv.customer_id, inv.currency, inv.kid)
    for c in customers:
        router.add_customer(c.customer_id, c.org_no)
    for p in payments:
        router.learn(p)
    routes = {}
    for p in payments:
        route = router.route(p)
        if route == NEEDS_PAYER:
            route = router.route_by_payer(p.payer_account, p.payer_org_id)
        routes[p.key] = route
    return recon, router, routes


def _touched(recon: Reconciliation, owner: dict[str, str]) -> dict[str, set[str]]:
    """payment key → the customers the match allocated it to, held an item for, or listed a credit for."""
    out: dict[str, set[str]] = {}
    for number, allocations in recon.allocations.items():
        for a in allocations:
            out.setdefault(a.source_key, set()).add(owner[number])
    for number, held in recon.pending.items():
        for p in held:
            out.setdefault(p.key, set()).add(owner[number])
    for customer_id, credits in recon.unallocated_credit.items():
        for credit in credits:
            out.setdefault(credit.ref, set()).add(customer_id)
    return out


def test_the_matcher_and_the_router_ask_one_index_and_get_the_same_candidates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    customers, invoices = tricky_book()
    payments = tricky_payments()
    asked: list[tuple[CandidateIndex, str, Candidates]] = []
    candidates = CandidateIndex.candidates

    def spy(self: CandidateIndex, p: Any) -> Candidates:
        found = candidates(self, p)
        asked.append((self, p.key, found))
        return found

    monkeypatch.setattr(CandidateIndex, "candidates", spy)
    recon, router, routes = _both(customers, invoices, payments, inkasso_payers=[COLLECTOR])

    by_router = {key: _found(c) for idx, key, c in asked if idx is router.index}
    by_matcher = {key: _found(c) for idx, key, c in asked if idx is not router.index}
    assert len({id(idx) for idx, _, _ in asked}) == 2  # the matcher's index and the router's: nothing else asks
    assert by_matcher == by_router
    assert set(by_router) == {p.key for p in payments}

    # … and where the router sends a payment is where the match used it
    owner = router.owner
    for key, customers_touched in _touched(recon, owner).items():
        if key.startswith("CN-"):
            continue  # a credit note is a document, not a payment: it stays with its customer
        route = routes[key]
        if route == NEEDS_ORIGINAL:  # a reversal without a reference goes where its original went
            continue
        assert route == EVERYWHERE or customers_touched <= route, key
    assert {key.split("|")[2]: route for key, route in routes.items() if route != NEEDS_ORIGINAL} == {
        "P01": {"C0"},
        "P02": {"C0"},
        "P03": EVERYWHERE,
        "P04": {"C1", "C2"},
        "P05": {"C3"},
        "P06": frozenset(),
        "P07": {"C1"},
        "P08": {"C2"},
        "P09": frozenset(),
        "P10": EVERYWHERE,
        "P11": {"C1", "C2"},
        "P12": EVERYWHERE,
        "P13": frozenset(),
        "P14": EVERYWHERE,
        "P16": frozenset(),
        "P17": {"C3"},
    }
    assert routes[payments[14].key] == NEEDS_ORIGINAL


def _switch_off(monkeypatch: pytest.MonkeyPatch, lookup: str) -> None:
    nothing: dict[str, Any] = {"by_reference": (None, ()), "in_text": ((), ""), "payers": ()}
    monkeypatch.setattr(CandidateIndex, lookup, lambda self, *args: nothing[lookup])


@pytest.mark.parametrize(
    ("lookup", "paid", "tier"),
    [
        ("by_reference", payment("B0", "100.00", structured_ref=K1), "kid"),
        ("in_text", payment("B0", "100.00", free_text="Faktura INV-1"), "invoice_number"),
        ("payers", payment("B0", "250.00", payer_account="1234 56 78903"), "payer_amount"),
    ],
)
def test_each_lookup_exists_once_switching_it_off_changes_the_match_and_the_route_alike(
    monkeypatch: pytest.MonkeyPatch, lookup: str, paid: Payment, tier: str
) -> None:
    customers = [customer("C0"), customer("C1")]
    invoices = [invoice("INV-1", "C0", "100.00", K1), invoice("INV-2", "C0", "250.00"), invoice("9", "C1", "9.00")]
    known = {"payer_accounts": {PAYER: {"C0"}}}

    def run() -> tuple[list[str], Route, bool]:
        recon, _router, routes = _both(customers, invoices, [paid], **known)
        tiers = [str(a.tier) for v in recon.allocations.values() for a in v]
        return tiers, routes[paid.key], paid in recon.unexplained

    assert run() == ([tier], {"C0"}, False)
    _switch_off(monkeypatch, lookup)
    assert run() == ([], EVERYWHERE, True)
