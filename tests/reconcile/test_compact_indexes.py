"""The compact structures matching keeps for a million invoices behave as the plain ones did."""

from __future__ import annotations

from datetime import date

from recon_helpers import D, inv, pay

from connector.reconcile import matching, reconcile
from connector.references import kid_mod10

K1 = kid_mod10("1001")


def test_the_shared_empty_allocation_list_is_never_written_to():
    invoices = [
        inv("1001", "A", "500.00", K1),
        inv("1002", "A", "300.00", ledger_open_amount=D("100.00"), source_ref="ledger.csv"),
        inv("1003", "B", "200.00"),
    ]
    payments = [
        pay("R1", "500.00", structured_ref=K1),
        pay("R2", "500.00", structured_ref=K1, reversal=True, on=date(2024, 3, 6)),
    ]
    r = reconcile(invoices, payments)
    assert matching._NO_ALLOCATIONS == []
    assert [a.tier for a in r.allocations["1001"]] == ["kid", "reversal"]
    assert [a.tier for a in r.allocations["1002"]] == ["ledger_balance"]
    assert r.allocations["1003"] == [] and r.open_amount["1003"] == D("200.00")
    assert r.allocations["1003"] is not r.allocations["1001"]


def test_invoice_numbers_in_text_match_whatever_their_case():
    invoices = [inv("inv-2001", "A", "100.00"), inv("INV-2002", "A", "200.00"), inv("3003", "B", "300.00")]
    payments = [
        pay("R1", "100.00", free_text="Faktura INV-2001"),
        pay("R2", "200.00", free_text="inv-2002 takk"),
        pay("R3", "300.00", free_text="3003"),
    ]
    r = reconcile(invoices, payments)
    assert {n: r.open_amount[n] for n in ("inv-2001", "INV-2002", "3003")} == {
        "inv-2001": D("0.00"),
        "INV-2002": D("0.00"),
        "3003": D("0.00"),
    }
    assert r.allocations["inv-2001"][0].evidence.startswith("invoice number inv-2001 in the text")


def test_payer_amount_lookups_follow_allocations_made_before_the_first_lookup():
    # 4001 is settled by KID before the payer's reference-less payment asks for an open item of 100.00
    k = kid_mod10("4001")
    invoices = [inv("4001", "A", "100.00", k), inv("4002", "A", "100.00"), inv("4003", "A", "250.00")]
    payments = [
        pay("R1", "100.00", structured_ref=k, payer_account="12345678903"),
        pay("R2", "100.00", payer_account="12345678903", on=date(2024, 3, 5)),
        pay("R3", "250.00", payer_account="12345678903", on=date(2024, 3, 6)),
    ]
    r = reconcile(invoices, payments)
    assert [(a.tier, a.source_key.split("|")[2]) for n in ("4001", "4002", "4003") for a in r.allocations[n]] == [
        ("kid", "R1"),
        ("payer_amount", "R2"),
        ("payer_amount", "R3"),
    ]
    assert r.paid_on_time == {"4001": False, "4002": False, "4003": False}
