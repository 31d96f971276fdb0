"""Invariants of matching, whatever the invoices and payments (hypothesis)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from recon_helpers import inv, pay

from connector.model import ZERO, DocKind
from connector.reconcile import reconcile
from connector.references import kid_mod10

amounts = st.integers(min_value=1, max_value=50_000).map(lambda c: Decimal(c) / 100)


@st.composite
def books(draw):
    n = draw(st.integers(1, 8))
    invoices = [
        inv(str(1000 + i), f"C{draw(st.integers(0, 2))}", str(draw(amounts)), kid=kid_mod10(str(1000 + i)))
        for i in range(n)
    ]
    if draw(st.booleans()):
        target = draw(st.sampled_from(invoices))
        invoices.append(
            inv("CN1", target.customer_id, str(draw(amounts)), kind=DocKind.CREDIT_NOTE, credits=(target.number,))
        )
    payments = []
    for j in range(draw(st.integers(0, 10))):
        target = draw(st.sampled_from(invoices))
        how = draw(st.sampled_from(["kid", "text", "payer", "none", "reversal"]))
        kw = {}
        if how == "kid" or how == "reversal":
            kw["structured_ref"] = target.kid
        elif how == "text":
            kw["free_text"] = f"faktura {target.number}"
        elif how == "payer":
            kw["payer_account"] = f"9999{target.customer_id}"
            kw["structured_ref"] = target.kid if draw(st.booleans()) else None
        amount = target.amount if draw(st.booleans()) else draw(amounts)
        payments.append(
            pay(f"R{j}", str(amount), on=date(2024, 3, 1) + timedelta(days=j % 4), reversal=how == "reversal", **kw)
        )
    return invoices, payments


@settings(max_examples=150, deadline=None)
@given(books())
def test_allocations_bounded_and_balanced(book):
    invoices, payments = book
    r = reconcile(invoices, payments)
    by_payment: dict[str, Decimal] = defaultdict(lambda: ZERO)
    amounts_by_key = {p.key: p.amount for p in payments}
    amounts_by_key.update({i.number: i.amount for i in invoices if i.kind is DocKind.CREDIT_NOTE})
    for i in invoices:
        if i.kind is not DocKind.INVOICE:
            continue
        allocated = sum((a.amount for a in r.allocations[i.number]), ZERO)
        assert r.open_amount[i.number] + allocated == i.amount  # open + allocations = invoiced
        assert ZERO <= r.open_amount[i.number] <= i.amount  # never more allocated than invoiced
        for a in r.allocations[i.number]:
            if a.amount > 0:
                by_payment[a.source_key] += a.amount
    for key, total in by_payment.items():
        assert total <= amounts_by_key[key]  # never more allocated than the payment


@settings(max_examples=100, deadline=None)
@given(books(), st.randoms())
def test_independent_of_input_order(book, rnd):
    invoices, payments = book
    first = reconcile(invoices, payments)
    rnd.shuffle(invoices)
    rnd.shuffle(payments)
    second = reconcile(invoices, payments)
    assert first.open_amount == second.open_amount
    assert first.allocations == second.allocations
    assert first.unallocated_credit == second.unallocated_credit
