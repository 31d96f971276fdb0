"""Every tier and every doubt, with the evidence an accountant sees."""

from __future__ import annotations

from datetime import date

from recon_helpers import D, inv, pay

from connector.model import Customer, DocKind, PaymentStatus
from connector.reconcile import reconcile
from connector.references import kid_mod10

K1, K2 = kid_mod10("1001"), kid_mod10("1002")


def test_tier1_kid_settles_and_overpayment_becomes_customer_credit():
    r = reconcile([inv("1001", "A", "500.00", K1)], [pay("R1", "600.00", structured_ref=K1)])
    assert r.open_amount["1001"] == D("0.00")
    (a,) = r.allocations["1001"]
    assert (a.tier, a.amount) == ("kid", D("500.00")) and K1 in a.evidence
    (credit,) = r.unallocated_credit["A"]
    assert (credit.kind, credit.amount) == ("overpayment", D("100.00"))


def test_beyond_the_invoice_a_payment_pays_the_fee_and_interest_its_letters_charged_and_no_more():
    charged = {"1001": [(date(2024, 3, 2), D("35.00"), "NOK"), (date(2024, 3, 2), D("4.10"), "NOK")]}
    as_asked = reconcile([inv("1001", "A", "500.00", K1)], [pay("R1", "539.10", structured_ref=K1)], charges=charged)
    assert as_asked.open_amount["1001"] == D("0.00") and as_asked.allocations["1001"][0].amount == D("500.00")
    assert not as_asked.unallocated_credit and not as_asked.overpaid  # nothing to hold the customer's invoices for
    [(key, amount, on)] = as_asked.charges_paid["1001"]
    assert (amount, on) == (D("39.10"), date(2024, 3, 4)) and "|R1|" in key

    more = reconcile([inv("1001", "A", "500.00", K1)], [pay("R1", "600.00", structured_ref=K1)], charges=charged)
    (credit,) = more.unallocated_credit["A"]  # only what is beyond the charges too is a credit
    assert (credit.kind, credit.amount) == ("overpayment", D("60.90"))

    # the fee paid apart, after the invoice: the same; twice: the second is a credit
    apart = [pay("R1", "500.00", structured_ref=K1), pay("R2", "39.10", on=date(2024, 3, 5), structured_ref=K1)]
    twice = [*apart, pay("R3", "39.10", on=date(2024, 3, 6), structured_ref=K1)]
    assert not reconcile([inv("1001", "A", "500.00", K1)], apart, charges=charged).unallocated_credit
    (again,) = reconcile([inv("1001", "A", "500.00", K1)], twice, charges=charged).unallocated_credit["A"]
    assert again.amount == D("39.10")


def test_a_charge_is_paid_only_from_its_letters_day_and_in_its_currency():
    later = {"1001": [(date(2024, 3, 10), D("35.00"), "NOK")]}  # the letter came after the payment
    other = {"1001": [(date(2024, 3, 2), D("35.00"), "EUR")]}
    for charges in (later, other):
        r = reconcile([inv("1001", "A", "500.00", K1)], [pay("R1", "535.00", structured_ref=K1)], charges=charges)
        (credit,) = r.unallocated_credit["A"]
        assert credit.amount == D("35.00") and "1001" not in r.charges_paid


def test_a_payment_naming_the_invoice_by_number_pays_its_charges_as_one_with_a_kid_does():
    # a letter asks an invoice without a KID to be paid with its number: what it asked, with that number
    charged = {"1001": [(date(2024, 3, 2), D("35.00"), "NOK"), (date(2024, 3, 2), D("4.10"), "NOK")]}
    as_asked = reconcile([inv("1001", "A", "500.00")], [pay("R1", "539.10", free_text="Faktura 1001")], charges=charged)
    assert as_asked.open_amount["1001"] == D("0.00") and not as_asked.pending
    assert not as_asked.unallocated_credit and [x[1] for x in as_asked.charges_paid["1001"]] == [D("39.10")]
    # more than the invoice and its charges still does not agree: held, as before
    more = reconcile([inv("1001", "A", "500.00")], [pay("R1", "600.00", free_text="Faktura 1001")], charges=charged)
    assert more.open_amount["1001"] == D("500.00") and more.pending["1001"]
    # the fee paid apart, after the invoice, naming it: no credit; paid twice: the second is
    apart = [
        pay("R1", "500.00", free_text="Faktura 1001"),
        pay("R2", "39.10", on=date(2024, 3, 5), free_text="gebyr faktura 1001"),
    ]
    assert not reconcile([inv("1001", "A", "500.00")], apart, charges=charged).unallocated_credit
    twice = [*apart, pay("R3", "39.10", on=date(2024, 3, 6), free_text="gebyr faktura 1001")]
    (again,) = reconcile([inv("1001", "A", "500.00")], twice, charges=charged).unallocated_credit["A"]
    assert again.amount == D("39.10") and again.ref == twice[-1].key


def test_money_taken_back_leaves_the_invoice_and_its_charges_owed_as_the_money_left_them():
    """Money pays an invoice first, then its letters' charges; taking a payment back keeps that so: no more
    is open on the invoice than the money left unpaid, and no charge stays paid by money returned."""
    charged = {"1001": [(date(2024, 3, 2), D("35.00"), "NOK")]}
    invoice = inv("1001", "A", "500.00", K1)
    back = {"on": date(2024, 3, 6), "reversal": True}

    def owed(payments: list) -> tuple[D, D]:
        r = reconcile([invoice], payments, charges=charged)
        assert not r.unallocated_credit, r.unallocated_credit  # nothing here is the customer's credit
        paid = [a.source_key for a in r.allocations["1001"] if a.amount > 0]
        assert len(paid) == len(set(paid))  # one allocation per payment (a case reports each once, by its key)
        on_charges = sum((x[1] for x in r.charges_paid.get("1001", ())), D("0"))
        return r.open_amount["1001"], D("35.00") - on_charges  # (open on the invoice, charges unpaid)

    part = pay("R0", "300.00", on=date(2024, 3, 1), structured_ref=K1)
    rest = pay("R1", "235.00", structured_ref=K1)  # the 200.00 left and the fee
    assert owed([part, rest]) == (D("0.00"), D("0.00"))
    assert owed([part, rest, pay("R2", "235.00", structured_ref=K1, **back)]) == (D("200.00"), D("35.00"))

    whole = pay("R0", "500.00", on=date(2024, 3, 3), structured_ref=K1, payer_account="12345678903")
    fee = pay("R1", "35.00", structured_ref=K1)  # the fee paid apart
    assert owed([whole, fee, pay("R2", "35.00", structured_ref=K1, **back)]) == (D("0.00"), D("35.00"))
    assert owed([whole, fee, pay("R2", "500.00", structured_ref=K1, **back)]) == (D("465.00"), D("35.00"))
    no_ref = pay("R2", "500.00", payer_account="12345678903", **back)  # the return names only the payer
    assert owed([whole, fee, no_ref]) == (D("465.00"), D("35.00"))

    all_of_it = pay("R1", "535.00", structured_ref=K1, payer_account="12345678903")
    returned = pay("R2", "535.00", payer_account="12345678903", **back)
    assert owed([all_of_it, returned]) == (D("500.00"), D("35.00"))
    assert owed([all_of_it, pay("R2", "535.00", structured_ref=K1, **back)]) == (D("500.00"), D("35.00"))
    # paid again as the letter asked: the fee too, no credit to hold the customer for
    again = pay("R3", "535.00", on=date(2024, 3, 8), structured_ref=K1)
    assert owed([all_of_it, returned, again]) == (D("0.00"), D("0.00"))


def test_a_ledger_payment_taken_back_leaves_its_charges_owed():
    charged = {"1001": [(date(2024, 3, 2), D("35.00"), "NOK")]}
    ledger = {"source": "tripletex", "account": "", "invoice_number": "1001"}
    payments = [
        pay("L0", "300.00", on=date(2024, 3, 1), **ledger),
        pay("L1", "235.00", **ledger),
        pay("L2", "235.00", on=date(2024, 3, 6), reversal=True, **ledger),
    ]
    r = reconcile([inv("1001", "A", "500.00", K1)], payments, charges=charged)
    assert r.open_amount["1001"] == D("200.00") and "1001" not in r.charges_paid and not r.unallocated_credit


def test_partial_payment_leaves_the_rest_open():
    r = reconcile([inv("1001", "A", "500.00", K1)], [pay("R1", "200.00", structured_ref=K1)])
    assert r.open_amount["1001"] == D("300.00") and "1001" not in r.with_difference


def test_tolerance_records_paid_with_difference_without_writing_off():
    r = reconcile([inv("1001", "A", "500.00", K1)], [pay("R1", "497.00", structured_ref=K1)], tolerance=D("5"))
    assert r.open_amount["1001"] == D("3.00") and r.with_difference["1001"] == D("3.00")
    assert "paid with difference" in r.allocations["1001"][0].evidence


def test_kid_of_unaccepted_scheme_is_not_proof():
    kid = "0000531"  # MOD11 only
    r = reconcile([inv("1001", "A", "500.00", kid)], [pay("R1", "500.00", structured_ref=kid)], kid_schemes=["mod10"])
    assert r.open_amount["1001"] == D("500.00") and r.unexplained


def test_tier2_invoice_number_token_with_agreeing_amount():
    invoices = [inv("1005", "A", "200.00"), inv("14", "B", "50.00")]
    r = reconcile(invoices, [pay("R1", "200.00", free_text="Faktura 1005 takk for sist")])
    assert r.allocations["1005"][0].tier == "invoice_number" and r.open_amount["1005"] == D("0.00")
    r = reconcile(invoices, [pay("R1", "50.00", free_text="ref 1814")])
    assert r.open_amount["14"] == D("50.00")  # never a substring match


def test_tier2_amount_disagrees_is_only_a_candidate():
    r = reconcile([inv("1005", "A", "200.00")], [p := pay("R1", "150.00", free_text="faktura 1005")])
    assert r.open_amount["1005"] == D("200.00") and r.pending["1005"] == [p]
    assert "does not agree" in r.pending_reason[p.key]


def test_kid_written_in_free_text():
    r = reconcile([inv("1001", "A", "500.00", K1)], [pay("R1", "500.00", free_text=f"KID: {K1}")])
    assert r.allocations["1001"][0].tier == "reference_text"


def test_tier3_learned_payer_account_then_tier4_single_amount():
    invoices = [inv("1001", "A", "500.00", K1), inv("1002", "A", "300.00"), inv("2001", "B", "300.00")]
    payments = [
        pay("R1", "500.00", structured_ref=K1, payer_account="12345678903"),
        pay("R2", "300.00", payer_account="12345678903"),
    ]
    r = reconcile(invoices, payments)
    assert r.allocations["1002"][0].tier == "payer_amount" and r.open_amount["2001"] == D("300.00")


def test_tier3_org_id_and_two_equal_items_hold_both():
    customers = {"A": Customer("c", "A", "Fjord Bygg AS", org_no="923456783")}
    invoices = [inv("1001", "A", "2500.00"), inv("1002", "A", "2500.00")]
    r = reconcile(invoices, [p := pay("R1", "2500.00", payer_org_id="NO923456783MVA")], customers=customers)
    assert r.open_amount == {"1001": D("2500.00"), "1002": D("2500.00")}
    assert r.pending["1001"] == r.pending["1002"] == [p]


def test_tier4_unique_subset_with_credit_note():
    customers = {"A": Customer("c", "A", "A AS", org_no="923456783")}
    invoices = [
        inv("1001", "A", "100.00"),
        inv("1002", "A", "250.00"),
        inv("1003", "A", "400.00"),
        inv("CN1", "A", "50.00", kind=DocKind.CREDIT_NOTE),
    ]
    r = reconcile(invoices, [pay("R1", "600.00", payer_org_id="923456783")], customers=customers)
    # 250 + 400 - 50 = 600 is the only combination
    assert r.open_amount == {"1001": D("100.00"), "1002": D("0.00"), "1003": D("0.00")}
    tiers = {a.tier for n in ("1002", "1003") for a in r.allocations[n]}
    assert tiers == {"subset_sum", "credit_note"} and "A" not in r.unallocated_credit


def test_tier4_ambiguous_subset_holds():
    customers = {"A": Customer("c", "A", "A AS", org_no="923456783")}
    # no single item of 300, and two combinations: 100 + 200 and 150 + 150
    invoices = [inv("1", "A", "100.00"), inv("2", "A", "200.00"), inv("3", "A", "150.00"), inv("4", "A", "150.00")]
    r = reconcile(invoices, [pay("R1", "300.00", payer_org_id="923456783")], customers=customers)
    assert all(r.open_amount[i.number] == i.amount for i in invoices)
    assert set(r.pending) == {"1", "2", "3", "4"}


def test_tier5_unexplained_credit_holds_plausible_customers():
    invoices = [inv("1", "A", "777.00"), inv("2", "B", "100.00")]
    r = reconcile(invoices, [p := pay("R1", "777.00", payer_name="Someone")])
    assert r.unexplained == [p] and set(r.unallocated_credit) == {"A"}


def test_pending_never_settles():
    r = reconcile(
        [inv("1001", "A", "500.00", K1)], [p := pay("R1", "500.00", structured_ref=K1, status=PaymentStatus.PENDING)]
    )
    assert r.open_amount["1001"] == D("500.00") and r.pending["1001"] == [p]


def test_booked_twin_settles_and_pending_disappears():
    pending = pay("R1", "500.00", structured_ref=K1, status=PaymentStatus.PENDING, on=date(2024, 3, 3))
    booked = pay("R1", "500.00", structured_ref=K1)
    r = reconcile([inv("1001", "A", "500.00", K1)], [pending, booked])
    assert r.open_amount["1001"] == D("0.00") and not r.pending


def test_reversal_by_kid_reopens():
    payments = [pay("R1", "500.00", structured_ref=K1), pay("R2", "500.00", structured_ref=K1, reversal=True)]
    r = reconcile([inv("1001", "A", "500.00", K1)], payments)
    assert r.open_amount["1001"] == D("500.00")
    assert [a.tier for a in r.allocations["1001"]] == ["kid", "reversal"]


def test_return_without_reference_reopens_what_the_original_paid():
    payments = [
        pay("R1", "500.00", structured_ref=K1, payer_account="12345678903"),
        pay("R2", "500.00", payer_account="12345678903", reversal=True, return_reason="AC04", on=date(2024, 3, 6)),
    ]
    r = reconcile([inv("1001", "A", "500.00", K1)], payments)
    assert r.open_amount["1001"] == D("500.00") and "AC04" in r.allocations["1001"][-1].evidence


def test_ledger_and_bank_payment_of_the_same_money_count_once():
    ledger = pay("L1", "500.00", source="tripletex", account="", invoice_number="1001", on=date(2024, 3, 6))
    bank = pay("R1", "500.00", structured_ref=K1)
    r = reconcile([inv("1001", "A", "500.00", K1)], [bank, ledger])
    assert [a.tier for a in r.allocations["1001"]] == ["ledger"]
    assert r.ledger_twins == {bank.key: ledger.key} and not r.unallocated_credit


def test_inkasso_payout_is_not_a_debtor_payment():
    r = reconcile([inv("1", "A", "777.00")], [p := pay("R1", "777.00", payer_name="Kredinor AS")])
    assert r.inkasso_payouts == [p] and not r.unallocated_credit and r.open_amount["1"] == D("777.00")


def test_on_time_uses_value_date_and_next_business_day():
    # due Saturday 2024-03-02 → effective Monday 2024-03-04
    invoices = [inv("1001", "A", "500.00", K1, due=date(2024, 3, 2)), inv("1002", "A", "500.00", K2)]
    payments = [
        pay("R1", "500.00", structured_ref=K1, on=date(2024, 3, 5), value_date=date(2024, 3, 4)),
        pay("R2", "500.00", structured_ref=K2, on=date(2024, 3, 5), value_date=date(2024, 3, 4)),
    ]
    r = reconcile(invoices, payments)
    assert r.paid_on_time == {"1001": True, "1002": False}


def test_unapplied_credit_note_is_unallocated_credit():
    r = reconcile([inv("1", "A", "100.00"), inv("CN", "A", "40.00", kind=DocKind.CREDIT_NOTE)], [])
    (c,) = r.unallocated_credit["A"]
    assert (c.kind, c.amount, c.ref) == ("credit_note", D("40.00"), "CN")
