"""A sliced run (``connector.engine.slices``) gives exactly what reconciling the whole client gives.

Random small clients are written to a real SQLite store and reconciled twice: whole (``reconcile_facts`` on
``store.facts``) and one slice of customers at a time (``SlicedRun`` with a tiny ``slice_documents``). The
generator aims at what routing has to get right: KIDs and invoice numbers shared across customers, numbers
that differ only by case, payer accounts learned from KID payments, org ids, inkasso payers, pending and
booked credits nobody can place (every slice sees them), reversals with and without references, ledger
payments and their bank twins, credit notes across customers, twins that deduplication drops.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from slice_books import (
    DAY0,
    INKASSO_ACCOUNT,
    PAYER_KINDS,
    Book,
    D,
    assert_same,
    books,
    check,
    client_config,
    credit_note,
    customer,
    invoice,
    labels,
    load,
    payment,
    sliced,
    whole,
)

from connector.model import PaymentStatus
from connector.references import kid_mod10
from connector.store import Store

# -- properties ----------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_sliced_run_equals_whole_client(drawn: tuple[Book, int]) -> None:
    book, k = drawn
    got = check(book, k)
    assert (got.slices > 1) == (book.documents > k)  # the isolated customer always splits a client too big
    event(f"slices: {min(got.slices, 5)}{'+' if got.slices >= 5 else ''}")
    for label in labels(got):
        event(label)


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(books(PAYER_KINDS))
def test_sliced_run_equals_whole_client_placing_by_payer(drawn: tuple[Book, int]) -> None:
    book, k = drawn
    got = check(book, k)
    assert (got.slices > 1) == (book.documents > k)
    for label in labels(got):
        event(label)


# -- examples: cases the properties found (regressions), then what routing must get right -----------


def test_a_number_written_differently_by_two_customers_is_read_as_the_whole_client_reads_it():
    """Regression: the text token INV-100 names the last of INV-100 / inv-100 in document order (C1's, in
    EUR), so a NOK payment naming it matches no invoice; C0's slice alone must not read it as C0's INV-100."""
    book = Book(
        [customer("C0"), customer("C1"), customer("C2")],
        [
            invoice("INV-100", "C0", "100.00"),
            invoice("inv-100", "C1", "100.00", currency="EUR"),
            invoice("INV-300", "C2", "100.00"),
        ],
        [payment("B0", "100.00", free_text="Faktura INV-100")],
    )
    got = check(book, 1)
    assert got.slices == 2  # C0 and C1 share a number's key: one slice; C2 another
    assert got.open_amount == {"INV-100": D("100.00"), "INV-300": D("100.00"), "inv-100": D("100.00")}
    assert got.unexplained == ["camt|15030012345|B0|0|2024-03-01"]


def test_a_number_another_customer_also_uses_in_another_case_is_no_evidence_for_the_payer():
    """Regression: INV-100 in the text names C1's inv-100 (the last of the two in document order), whose
    currency is EUR, so the whole-client match ignores it and places the NOK payment by its payer (C0) on
    INV-200; C0's slice alone must not read the token as its own INV-100."""
    k = kid_mod10("1001")
    book = Book(
        [customer("C0"), customer("C1")],
        [
            invoice("INV-100", "C0", "100.00", k),
            invoice("INV-200", "C0", "100.00"),
            invoice("inv-100", "C1", "100.00", currency="EUR"),
        ],
        [
            payment("B0", "100.00", structured_ref=k, payer_account="12345678903"),
            payment("B1", "100.00", DAY0 + timedelta(days=1), payer_account="12345678903", free_text="INV-100"),
        ],
    )
    got = check(book, 2)
    assert got.open_amount == {"INV-100": D("0.00"), "INV-200": D("0.00"), "inv-100": D("100.00")}
    assert [a[3] for a in got.allocations["INV-200"]] == ["payer_amount"]


def test_a_reversal_with_a_kid_two_customers_share_looks_for_the_payment_it_takes_back():
    """Regression: the KID names two invoices (two customers), so the reversal takes back by the original
    payment (none here): C0's slice alone must not re-open INV-1 by the reference."""
    k = kid_mod10("1001")
    book = Book(
        [customer("C0"), customer("C1")],
        [invoice("INV-1", "C0", "100.00", k), invoice("INV-3", "C1", "100.00", k, currency="EUR")],
        [
            payment("B0", "100.00", structured_ref=k, payer_account="12345678903"),
            payment("B1", "100.00", DAY0 + timedelta(days=1), structured_ref=k, reversal=True),
        ],
    )
    got = check(book, 1)
    assert got.unexplained_reversals == {"camt|15030012345|B1|0|2024-03-02"}


def test_a_reversal_naming_invoices_of_two_customers_takes_back_the_payment_as_the_whole_client_does():
    """Regression: the reversal's text names INV-1 (C0) and INV-2 (C1), so the whole-client match takes back
    the payment it returns (found by account, payer account and amount), not an invoice named in the text;
    C0's slice alone must not read the text as naming INV-1 only."""
    book = Book(
        [customer("C0"), customer("C1"), customer("C2")],
        [
            invoice("INV-1", "C0", "100.00", kid_mod10("1001")),
            invoice("INV-2", "C1", "100.00"),
            invoice("INV-3", "C2", "250.00"),
        ],
        [
            payment("B0", "100.00", structured_ref=kid_mod10("1001"), payer_account="12345678903"),
            payment("B1", "250.00", payer_account="11112222333"),
            payment("B2", "250.00", DAY0 + timedelta(days=2), free_text="Retur INV-1 INV-2", reversal=True),
        ],
    )
    got = check(book, 1)
    assert got.slices == 2
    assert got.open_amount == {"INV-1": D("0.00"), "INV-2": D("100.00"), "INV-3": D("250.00")}
    assert got.unexplained_reversals == {"camt|15030012345|B2|0|2024-03-03"}


def test_the_evidence_of_a_text_match_names_every_invoice_the_text_names_whatever_its_currency():
    """Regression: the text names INV-1 (C0, NOK) and 101 (C1, EUR); the NOK payment can only pay INV-1, but
    the whole-client evidence names both, so C1's invoice must be in the slice that matches it."""
    book = Book(
        [customer("C0"), customer("C1")],
        [invoice("INV-1", "C0", "100.00"), invoice("101", "C1", "100.00", currency="EUR")],
        [payment("B0", "100.00", free_text="Faktura INV-1, faktura 101", status=PaymentStatus.PENDING)],
    )
    got = check(book, 1)
    (why,) = got.pending_reason.values()  # (the order of the two depends on string hashing: not asserted)
    assert "invoice number INV-1 in the text" in why and "invoice number 101 in the text" in why


def test_a_kid_two_customers_share_teaches_no_payer_account_in_either_slice():
    """C0's NOK invoice and C1's EUR invoice share a KID, so the KID payment from account X proves no one
    customer and X stays unknown; C0's slice alone must not learn X → C0 and then place X's next payment
    (which every slice sees) on C0's other invoice. (Slices now learn nothing themselves: ``learned=True``.)"""
    k = kid_mod10("1001")
    book = Book(
        [customer("C0"), customer("C1")],
        [
            invoice("INV-1", "C0", "100.00", k),
            invoice("INV-2", "C0", "250.00"),
            invoice("INV-3", "C1", "100.00", k, currency="EUR"),
        ],
        [
            payment("B0", "100.00", structured_ref=k, payer_account="12345678903"),
            payment("B1", "250.00", DAY0 + timedelta(days=1), payer_account="12345678903"),
        ],
    )
    got = check(book, 2)
    assert got.open_amount == {"INV-1": D("0.00"), "INV-2": D("250.00"), "INV-3": D("100.00")}
    assert got.unexplained == ["camt|15030012345|B1|0|2024-03-02"]
    assert [c[1] for c in got.unallocated_credit["C0"]] == ["unexplained"]


# -- examples: scenarios -------------------------------------------------------------------------


def test_credits_no_one_can_place_are_seen_by_every_slice_and_counted_once():
    """A booked credit with no reference and no known payer holds every customer with an item of its amount,
    in every slice, and is unexplained once; its plain reversal (same account, payer account and amount)
    withdraws those holds everywhere. A pending credit of an amount no one owes is unexplained once too."""
    book = Book(
        [customer("C0"), customer("C1"), customer("C2")],
        [invoice("INV-1", "C0", "500.00"), invoice("INV-2", "C1", "500.00"), invoice("INV-3", "C2", "250.00")],
        [
            payment("B0", "500.00"),  # held on INV-1 and INV-2 (two slices)
            payment("B1", "250.00", DAY0 + timedelta(days=1), payer_account="98765432109"),  # held on INV-3 …
            payment("B2", "250.00", DAY0 + timedelta(days=2), payer_account="98765432109", reversal=True),  # … no more
            payment("B3", "500.00", DAY0 + timedelta(days=3), status=PaymentStatus.PENDING),
            payment("B4", "999.00", DAY0 + timedelta(days=3), status=PaymentStatus.PENDING),
        ],
    )
    got = check(book, 1)
    assert got.slices == 3 and got.everywhere == 3
    assert got.unexplained == sorted(
        ["camt|15030012345|B0|0|2024-03-01", "camt|15030012345|B1|0|2024-03-02", "camt|15030012345|B4|0|2024-03-04"]
    )
    assert {c: [x[4].split("|")[2] for x in v] for c, v in got.unallocated_credit.items()} == {
        "C0": ["B0"],
        "C1": ["B0"],
    }
    assert sorted(got.pending) == ["INV-1", "INV-2"]


def test_twins_the_bank_reports_twice_count_once_in_every_slice():
    """OCR giro and camt report one KID payment (different bank references); the pending and the booked report
    of one entry; the ledger booking the money the bank received: each counted once, as whole."""
    k0, k1, k3 = kid_mod10("1001"), kid_mod10("1002"), kid_mod10("1003")
    camt = payment("B0", "500.00", structured_ref=k0, payer_account="12345678903")
    booked = payment("B1", "250.00", DAY0 + timedelta(days=2), payer_org_id="934567897")
    book = Book(
        [customer("C0"), customer("C1", "934567897"), customer("C2")],
        [
            invoice("INV-1", "C0", "500.00", k0),
            invoice("INV-2", "C1", "250.00", k1),
            invoice("INV-3", "C2", "750.00", k3),
            invoice("INV-4", "C0", "100.00"),
        ],
        [
            camt,
            replace(camt, source="ocr", account="", bank_ref="OCR1", booking_date=DAY0 + timedelta(days=1)),
            booked,
            replace(booked, status=PaymentStatus.PENDING, booking_date=DAY0),
            payment("B2", "750.00", DAY0 + timedelta(days=3), structured_ref=k3),
            payment("L0", "750.00", DAY0 + timedelta(days=5), source="tripletex", invoice_number="INV-3"),
            payment("B3", "100.00", DAY0 + timedelta(days=4), payer_account="1234.56.78903"),  # learned from B0
        ],
    )
    got = check(book, 1)
    assert got.slices == 3
    assert got.open_amount == {"INV-1": D("0.00"), "INV-2": D("0.00"), "INV-3": D("0.00"), "INV-4": D("0.00")}
    assert [a[3] for a in got.allocations["INV-3"]] == ["ledger"] and len(got.ledger_twins) == 1
    assert [a[3] for a in got.allocations["INV-4"]] == ["payer_amount"]
    assert got.unexplained == [] and got.pending == {}


def test_what_joins_customers_into_one_slice():
    """A credit note naming another customer's invoice, an org id two customers share, and a KID payment's
    payer account both pay from: each pair is matched in one slice. Inkasso payouts (by the configured
    account or by the payer's name) touch no customer's book."""
    k2, k3 = kid_mod10("1002"), kid_mod10("1003")
    book = Book(
        [customer("C0"), customer("C1"), customer("C2", "912345670"), customer("C3", "912345670"), customer("C4")],
        [
            invoice("INV-1", "C0", "500.00"),
            credit_note("CN-1", "C1", "200.00", ["INV-1"]),
            invoice("INV-2", "C2", "250.00", k2),
            invoice("INV-3", "C3", "250.00", k3),
            invoice("INV-4", "C4", "100.00"),
        ],
        [
            payment("B0", "250.00", payer_org_id="NO 912 345 670 MVA"),  # C2 or C3: ambiguous
            payment("B1", "100.00", payer_account=INKASSO_ACCOUNT),
            payment("B2", "100.00", payer_name="Lindorff Inkasso AS", structured_ref=kid_mod10("1004")),
        ],
        policy={"inkasso_payers": [INKASSO_ACCOUNT]},
    )
    got = check(book, 1)
    assert got.slices == 3  # C0 + C1, C2 + C3, C4
    assert got.open_amount["INV-1"] == D("300.00")
    assert {c: [x[1] for x in v] for c, v in got.unallocated_credit.items()} == {
        "C2": ["ambiguous"],
        "C3": ["ambiguous"],
    }
    assert len(got.inkasso_payouts) == 2


def test_payments_placed_by_a_learned_payer_account_in_its_customers_slice():
    """X pays C0's KID, so X is C0's account: X's payment of 650 is the one combination of C0's open items
    (500 + 250 less credit note 100). Y pays C1's KID, so Y's earlier 100 could be either of C1's two items
    of 100 (held on both)."""
    k0, k4 = kid_mod10("1001"), kid_mod10("1004")
    book = Book(
        [customer("C0"), customer("C1"), customer("C2")],
        [
            invoice("INV-1", "C0", "1000.00", k0),
            invoice("INV-2", "C0", "500.00"),
            invoice("INV-3", "C0", "250.00"),
            credit_note("CN-1", "C0", "100.00", []),
            invoice("INV-4", "C1", "100.00", k4),
            invoice("INV-5", "C1", "100.00"),
            invoice("INV-6", "C2", "650.00"),
        ],
        [
            payment("B0", "1000.00", structured_ref=k0, payer_account="12345678903"),
            payment("B1", "650.00", DAY0 + timedelta(days=1), payer_account="1234 56 78903"),
            payment("B2", "100.00", DAY0 + timedelta(days=2), payer_account="98765432109"),
            payment("B3", "100.00", DAY0 + timedelta(days=2), payer_account="98765432109", structured_ref=k4),
        ],
    )
    got = check(book, 2)
    assert got.slices == 3
    assert [a[3] for a in got.allocations["INV-2"]] == ["credit_note", "subset_sum"]
    assert got.open_amount["INV-2"] == D("0.00") and got.open_amount["INV-3"] == D("0.00")
    assert sorted(got.pending) == ["INV-4", "INV-5"]
    assert got.pending_reason == {"camt|15030012345|B2|0|2024-03-03": "payer is customer C1; 2 open items of 100.00"}


def test_a_small_client_is_one_slice_read_the_ordinary_way():
    book = Book([customer("C0")], [invoice("INV-1", "C0", "500.00")], [payment("B0", "500.00", free_text="INV-1")])
    got = check(book, 6)
    assert got.slices == 1 and got.open_amount == {"INV-1": D("0.00")}


def test_unreadable_stored_rows_are_skipped_and_held_as_in_one_piece(tmp_path: Path) -> None:
    """A payment and a credit note no type can read (issue 13, item 3): whole or sliced, neither dies, both
    skip the same rows, and every slice holds what they could change."""
    book = Book(
        [customer("C0"), customer("C1"), customer("C2")],
        [
            invoice("INV-1", "C0", "500.00", kid_mod10("1")),
            invoice("INV-2", "C1", "250.00"),
            invoice("INV-3", "C2", "750.00"),
            credit_note("CN-1", "C1", "100.00", ["INV-2"]),
        ],
        [payment("B0", "500.00", structured_ref=kid_mod10("1")), payment("B1", "750.00")],
    )
    client = client_config()
    store = Store(f"sqlite:///{tmp_path / 'arsync.db'}")
    load(store, book)
    with store.transaction() as conn:
        conn.exec_driver_sql("UPDATE payments SET amount = '1E+30' WHERE bank_ref = 'B1'")
        conn.exec_driver_sql("UPDATE invoices SET credits = '[oops' WHERE number = 'CN-1'")
    expected, got = whole(store, client), sliced(store, client, 1)
    store.close()
    assert got.slices == 3
    assert_same(expected, got)
    decided = {json.loads(d)["invoice"]: json.loads(d) for d in got.decisions}
    assert all("bank_data_stale" in d["holds"] for d in decided.values())  # B1 could have paid any of them
    assert "unreadable_document" in decided["INV-2"]["holds"]  # CN-1 (its customer's) could have credited it
