"""First-slice matching and decisions on hand-built facts: ``reconcile()`` and ``decide()`` are pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connector.config import ClientConfig
from connector.dunning.decide import decide
from connector.model import (
    Action,
    Case,
    CaseStatus,
    Decision,
    Dispute,
    DocKind,
    DunningStep,
    Facts,
    Hold,
    Invoice,
    Payment,
    PaymentStatus,
    State,
    SyncStatus,
)
from connector.reconcile import reconcile
from tests.builders import bad_kid, client_table, kid

CLIENT = "acme"
DUE = date(2026, 6, 15)  # a Monday, no holiday
TODAY = date(2026, 6, 29)  # due + 14: the default ladder's reminder day


def client(country: str = "NO", **policy: Any) -> ClientConfig:
    return ClientConfig.model_validate(client_table(CLIENT, country=country, policy=policy))


def invoice(number: str, amount: str = "1000.00", due: date | None = DUE, **kw: Any) -> Invoice:
    values: dict[str, Any] = {
        "client_id": CLIENT,
        "number": number,
        "kind": DocKind.INVOICE,
        "customer_id": "934567897",
        "issue_date": date(2026, 6, 1),
        "due_date": due,
        "currency": "NOK",
        "amount": Decimal(amount),
        "source": "ehf",
        "kid": kid(number),
    }
    values.update(kw)
    return Invoice(**values)


def credit_note(number: str, credits: str, amount: str, currency: str = "NOK") -> Invoice:
    return Invoice(
        client_id=CLIENT,
        number=number,
        kind=DocKind.CREDIT_NOTE,
        customer_id="934567897",
        issue_date=date(2026, 6, 10),
        due_date=None,
        currency=currency,
        amount=Decimal(amount),
        source="ehf",
        credits=(credits,),
    )


def payment(ref: str | None, amount: str, booked: date = date(2026, 6, 20), **kw: Any) -> Payment:
    values: dict[str, Any] = {
        "client_id": CLIENT,
        "source": "camt",
        "account": "15032080119",
        "bank_ref": f"BANK-{ref}-{amount}",
        "ordinal": 0,
        "booking_date": booked,
        "amount": Decimal(amount),
        "currency": "NOK",
        "structured_ref": ref,
    }
    values.update(kw)
    return Payment(**values)


def fresh_sync(as_of: date, bank_through: date | None = None, ledger_error: str | None = None) -> dict[str, SyncStatus]:
    synced = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC)
    return {
        "ledger": SyncStatus("ledger", synced, synced, ledger_error, None, None),
        "bank:camt:/bank": SyncStatus("bank:camt:/bank", synced, synced, None, bank_through or as_of, None),
    }


def decide_all(
    invoices: list[Invoice],
    payments: Sequence[Payment] = (),
    *,
    as_of: date = TODAY,
    cfg: ClientConfig | None = None,
    sync: dict[str, SyncStatus] | None = None,
    **facts: Any,
) -> dict[str, Decision]:
    f = Facts(
        client_id=CLIENT,
        customers={},
        invoices=tuple(invoices),
        payments=tuple(payments),
        disputes=tuple(facts.get("disputes", ())),
        agreements=(),
        steps=tuple(facts.get("steps", ())),
        cases=tuple(facts.get("cases", ())),
        sync=fresh_sync(as_of) if sync is None else sync,
    )
    recon = reconcile(f.invoices, f.payments)
    return {d.invoice_number: d for d in decide(f, cfg or client(), as_of, recon)}


def step(number: str, action: Action, on: date) -> DunningStep:
    return DunningStep(CLIENT, number, action, on, "outbox", currency="NOK")


# ---- matching ----------------------------------------------------------------------------------


def test_a_valid_kid_settles_its_invoice_with_evidence() -> None:
    d = decide_all([invoice("1001"), invoice("1002")], [payment(kid("1001"), "1000.00")])
    assert d["1001"].state is State.SETTLED
    assert d["1001"].action is Action.NONE
    assert d["1001"].open_amount == Decimal("0.00")
    assert [e.kind for e in d["1001"].evidence] == ["invoice", "kid"]
    # the other invoice is untouched and goes up the ladder
    assert d["1002"].action is Action.REMINDER


def test_kid_with_spaces_in_the_bank_file_still_settles() -> None:
    ref = kid("1001")
    spaced = " ".join(ref[i : i + 3] for i in range(0, len(ref), 3))
    recon = reconcile([invoice("1001")], [payment(spaced, "1000.00")])
    assert recon.open_amount["1001"] == Decimal("0.00")


def test_a_kid_with_a_wrong_check_digit_does_not_settle() -> None:
    wrong = bad_kid("1001")
    inv = invoice("1001", kid=wrong)  # even when the invoice carries the same (bad) KID
    recon = reconcile([inv], [payment(wrong, "1000.00")])
    assert recon.open_amount["1001"] == Decimal("1000.00")
    assert recon.allocations["1001"] == []
    d = decide_all([inv], [payment(wrong, "1000.00")])["1001"]
    assert d.state is not State.SETTLED
    # money with the invoice's (mistyped) reference arrived: that is no ground for a reminder
    assert d.action is not Action.REMINDER


def test_a_kid_shared_by_two_invoices_settles_neither() -> None:
    shared = kid("1001")
    invs = [invoice("1001"), invoice("1002", kid=shared)]
    recon = reconcile(invs, [payment(shared, "1000.00")])
    assert recon.open_amount == {"1001": Decimal("1000.00"), "1002": Decimal("1000.00")}
    assert recon.allocations == {"1001": [], "1002": []}
    assert all(d.action is not Action.REMINDER for d in decide_all(invs, [payment(shared, "1000.00")]).values())


def test_payment_in_another_currency_does_not_settle() -> None:
    recon = reconcile([invoice("1001")], [payment(kid("1001"), "1000.00", currency="EUR")])
    assert recon.open_amount["1001"] == Decimal("1000.00")


def test_credit_note_applies_to_the_invoice_its_billing_reference_names() -> None:
    d = decide_all([invoice("1001"), invoice("1002"), credit_note("5001", "1002", "1000.00")])
    assert d["1002"].state is State.SETTLED
    assert [(e.kind, e.ref) for e in d["1002"].evidence if e.kind == "credit_note"] == [("credit_note", "5001")]
    assert d["1001"].open_amount == Decimal("1000.00")


def test_partial_credit_note_leaves_the_rest_open_and_dunnable() -> None:
    d = decide_all([invoice("1001"), credit_note("5001", "1001", "400.00")])
    assert d["1001"].open_amount == Decimal("600.00")
    # a credit note is the client's own document: the rest is still owed, no review needed
    assert d["1001"].action is Action.REMINDER


def test_credit_note_in_another_currency_is_left_unapplied() -> None:
    recon = reconcile([invoice("1001"), credit_note("5001", "1001", "1000.00", currency="EUR")], [])
    assert recon.open_amount["1001"] == Decimal("1000.00")
    assert [c.number for c in recon.unapplied_credits["934567897"]] == ["5001"]


def test_credit_note_for_an_unknown_invoice_is_left_unapplied() -> None:
    recon = reconcile([invoice("1001"), credit_note("5001", "9999", "100.00")], [])
    assert recon.open_amount["1001"] == Decimal("1000.00")
    assert "934567897" in recon.unapplied_credits


# ---- partial payment, pending money --------------------------------------------------------------


def test_partial_payment_leaves_the_rest_open_and_the_rest_is_reminded() -> None:
    d = decide_all([invoice("1001")], [payment(kid("1001"), "400.00")], as_of=TODAY + timedelta(days=60))
    one = d["1001"]
    assert one.open_amount == Decimal("600.00")
    assert one.state is State.OVERDUE
    assert one.action is Action.REMINDER  # policy partial_payment = "remind" (the default): the rest is dunned
    assert one.holds == ()


def test_partial_payment_with_the_review_policy_asks_a_person() -> None:
    cfg = client(partial_payment="review")
    d = decide_all([invoice("1001")], [payment(kid("1001"), "400.00")], as_of=TODAY + timedelta(days=60), cfg=cfg)
    assert d["1001"].action is Action.REVIEW
    assert d["1001"].holds == (Hold.PARTLY_PAID,)


def test_pending_payment_never_settles_and_holds() -> None:
    pending = payment(kid("1001"), "1000.00", status=PaymentStatus.PENDING)
    d = decide_all([invoice("1001")], [pending])["1001"]
    assert d.open_amount == Decimal("1000.00")
    assert d.state is State.OVERDUE
    assert d.action is Action.HOLD
    assert d.holds == (Hold.PAYMENT_PENDING,)
    assert any(e.ref == pending.key for e in d.evidence)


def test_overpayment_settles_and_is_remembered_as_credit() -> None:
    recon = reconcile([invoice("1001")], [payment(kid("1001"), "1200.00")])
    assert recon.open_amount["1001"] == Decimal("0.00")
    assert recon.overpaid == {"934567897": Decimal("200.00")}


# ---- not due, grace days, business days ----------------------------------------------------------


def test_grace_days_hold_until_the_last_grace_day() -> None:
    cfg = client(grace_days=3, steps=[{"action": "reminder", "days": 0}])
    last_grace = DUE + timedelta(days=3)
    held = decide_all([invoice("1001")], as_of=last_grace, cfg=cfg)["1001"]
    assert held.holds == (Hold.NOT_DUE,)
    assert held.state is State.OVERDUE  # past due, but inside the grace days
    assert held.action is Action.HOLD
    due = decide_all([invoice("1001")], as_of=last_grace + timedelta(days=1), cfg=cfg)["1001"]
    assert due.action is Action.REMINDER
    assert due.holds == ()


def test_before_the_due_date_the_state_is_not_due() -> None:
    d = decide_all([invoice("1001")], as_of=DUE - timedelta(days=1))["1001"]
    assert d.state is State.NOT_DUE
    assert d.holds == (Hold.NOT_DUE,)


@pytest.mark.parametrize(
    ("due", "country", "effective"),
    [
        (date(2026, 3, 14), "NO", date(2026, 3, 16)),  # Saturday → Monday
        (date(2026, 4, 2), "NO", date(2026, 4, 7)),  # Maundy Thursday → past Easter Monday
        (date(2026, 5, 16), "NO", date(2026, 5, 18)),  # Saturday, then Sunday 17 May
        (date(2026, 4, 2), "SE", date(2026, 4, 2)),  # Maundy Thursday is a business day in Sweden
    ],
)
def test_due_date_on_a_weekend_or_holiday_moves_to_the_next_business_day(
    due: date, country: str, effective: date
) -> None:
    cfg = client(country=country, grace_days=0, steps=[{"action": "reminder", "days": 0}])
    inv = invoice("1001", due=due, issue_date=due - timedelta(days=14))
    on_effective = decide_all([inv], as_of=effective, cfg=cfg)["1001"]
    assert on_effective.holds == (Hold.NOT_DUE,)
    day_after = decide_all([inv], as_of=effective + timedelta(days=1), cfg=cfg)["1001"]
    assert day_after.action is Action.REMINDER
    if effective != due:
        assert any(f"moved from {due.isoformat()}" in e.detail for e in on_effective.evidence)


def test_invoice_without_due_date_is_never_dunned() -> None:
    d = decide_all([invoice("1001", due=None)], as_of=TODAY + timedelta(days=365))["1001"]
    assert d.holds == (Hold.NOT_DUE, Hold.INVOICE_DEFECT)  # step 1 of the playbook: fix the invoice (issue 14)
    assert d.action is Action.REVIEW


# ---- below minimum, stale data -------------------------------------------------------------------


def test_below_minimum_holds_and_the_minimum_itself_does_not() -> None:
    cfg = client(min_amount=200)
    d = decide_all([invoice("1001", "199.99"), invoice("1002", "200.00")], cfg=cfg)
    assert d["1001"].holds == (Hold.BELOW_MINIMUM,)
    assert d["1001"].action is Action.HOLD
    assert d["1002"].action is Action.REMINDER


def test_below_minimum_counts_the_open_rest_not_the_invoice_amount() -> None:
    cfg = client(min_amount=200)
    d = decide_all([invoice("1001")], [], cfg=cfg, as_of=TODAY)
    assert Hold.BELOW_MINIMUM not in d["1001"].holds
    d = decide_all([invoice("1001"), credit_note("5001", "1001", "900.00")], cfg=cfg)
    assert d["1001"].open_amount == Decimal("100.00")
    assert Hold.BELOW_MINIMUM in d["1001"].holds


def test_bank_data_older_than_the_policy_allows_holds() -> None:
    cfg = client(bank_max_age_days=3)
    at_limit = decide_all([invoice("1001")], cfg=cfg, sync=fresh_sync(TODAY, bank_through=TODAY - timedelta(days=3)))
    assert at_limit["1001"].action is Action.REMINDER
    too_old = decide_all([invoice("1001")], cfg=cfg, sync=fresh_sync(TODAY, bank_through=TODAY - timedelta(days=4)))
    assert too_old["1001"].holds == (Hold.BANK_DATA_STALE,)
    assert too_old["1001"].action is Action.HOLD


def test_no_bank_data_at_all_holds() -> None:
    ledger_only = {"ledger": fresh_sync(TODAY)["ledger"]}
    d = decide_all([invoice("1001")], sync=ledger_only)["1001"]
    assert d.holds == (Hold.BANK_DATA_STALE,)
    assert any(e.detail == "no bank file has been read yet: unpaid cannot be proven" for e in d.evidence)


def test_no_bank_feed_configured_holds() -> None:
    cfg = ClientConfig.model_validate(client_table(CLIENT, bank=[]))
    d = decide_all([invoice("1001")], cfg=cfg)["1001"]
    assert d.holds == (Hold.BANK_DATA_STALE,)
    assert any("no bank feed" in e.detail for e in d.evidence)


def test_failed_or_missing_ledger_sync_holds() -> None:
    failed = decide_all([invoice("1001")], sync=fresh_sync(TODAY, ledger_error="HTTP 500"))["1001"]
    assert failed.holds == (Hold.LEDGER_STALE,)
    assert any("HTTP 500" in e.detail for e in failed.evidence)
    never = decide_all([invoice("1001")], sync={"bank:camt:/bank": fresh_sync(TODAY)["bank:camt:/bank"]})["1001"]
    assert never.holds == (Hold.LEDGER_STALE,)


def test_ledger_synced_too_long_ago_holds() -> None:
    old = fresh_sync(TODAY - timedelta(days=3))  # ledger max_age_days defaults to 2
    old["bank:camt:/bank"] = fresh_sync(TODAY)["bank:camt:/bank"]
    assert decide_all([invoice("1001")], sync=old)["1001"].holds == (Hold.LEDGER_STALE,)


# ---- disputes ------------------------------------------------------------------------------------


def test_open_dispute_holds_and_resolved_or_future_ones_do_not() -> None:
    open_ = Dispute(CLIENT, "1001", "d1", date(2026, 6, 20), "wrong hours", "manual")
    resolved = Dispute(CLIENT, "1002", "d2", date(2026, 6, 20), "wrong hours", "manual", date(2026, 6, 25), "ok")
    later = Dispute(CLIENT, "1003", "d3", TODAY + timedelta(days=1), "later", "manual")
    d = decide_all([invoice("1001"), invoice("1002"), invoice("1003")], disputes=[open_, resolved, later])
    assert d["1001"].state is State.DISPUTED
    assert d["1001"].holds == (Hold.DISPUTED,)
    assert d["1001"].action is Action.HOLD
    assert any(e.ref == "d1" for e in d["1001"].evidence)
    assert d["1002"].action is Action.REMINDER
    assert d["1003"].action is Action.REMINDER


# ---- the ladder ----------------------------------------------------------------------------------


def test_first_step_waits_for_its_days_after_due() -> None:
    early = decide_all([invoice("1001")], as_of=TODAY - timedelta(days=1))["1001"]
    assert early.state is State.OVERDUE
    assert early.holds == (Hold.WAIT_INTERVAL,)
    assert early.action is Action.HOLD
    assert decide_all([invoice("1001")], as_of=TODAY)["1001"].action is Action.REMINDER


def test_ladder_reminder_then_notice_then_case_with_intervals() -> None:
    reminded = [step("1001", Action.REMINDER, TODAY)]
    # the reminder's pay-by date (14 days, a Monday), the first business day after it and 2 settle days (issue 15)
    notice_day = TODAY + timedelta(days=17)
    wait = decide_all([invoice("1001")], steps=reminded, as_of=notice_day - timedelta(days=1))["1001"]
    assert wait.holds == (Hold.WAIT_INTERVAL,)
    assert wait.action is Action.HOLD
    assert decide_all([invoice("1001")], steps=reminded, as_of=notice_day)["1001"].action is Action.COLLECTION_NOTICE

    noticed = [*reminded, step("1001", Action.COLLECTION_NOTICE, notice_day)]
    # the notice's deadline is Thursday 30 July: the case waits for the first business day after it and the
    # policy's 2 settle days (issue 14)
    case_day = date(2026, 8, 4)
    wait = decide_all([invoice("1001")], steps=noticed, as_of=case_day - timedelta(days=1))["1001"]
    assert wait.holds == (Hold.WAIT_INTERVAL,)
    ready = decide_all([invoice("1001")], steps=noticed, as_of=case_day)["1001"]
    assert ready.action is Action.COLLECTION_CASE
    assert [e.kind for e in ready.evidence].count("step") == 2


def test_a_notice_sent_outside_arsync_moves_the_invoice_up_the_ladder() -> None:
    noticed = [step("1001", Action.COLLECTION_NOTICE, TODAY)]
    d = decide_all([invoice("1001")], steps=noticed, as_of=TODAY + timedelta(days=17))["1001"]  # deadline + settle
    assert d.action is Action.COLLECTION_CASE


def _case(status: CaseStatus) -> Case:
    return Case("acme-1001", CLIENT, "1001", "934567897", "NOK", Decimal("1000.00"), Decimal("1000.00"), status, TODAY)


@pytest.mark.parametrize(
    ("status", "state", "action", "holds"),
    [
        (CaseStatus.PROPOSED, State.OVERDUE, Action.HOLD, (Hold.AWAITING_APPROVAL,)),
        (CaseStatus.APPROVED, State.OVERDUE, Action.COLLECTION_CASE, ()),
        (CaseStatus.PUSHED, State.IN_COLLECTION, Action.HOLD, (Hold.IN_COLLECTION,)),
    ],
)
def test_a_case_on_the_invoice_decides_what_happens_next(
    status: CaseStatus, state: State, action: Action, holds: tuple[Hold, ...]
) -> None:
    noticed = [step("1001", Action.REMINDER, TODAY), step("1001", Action.COLLECTION_NOTICE, TODAY + timedelta(days=14))]
    as_of = TODAY + timedelta(days=31)  # the notice's deadline (+ 14 days, a Monday) + 1 + 2 settle business days
    d = decide_all([invoice("1001")], steps=noticed, cases=[_case(status)], as_of=as_of)["1001"]
    assert (d.state, d.action, d.holds) == (state, action, holds)


def test_an_approved_case_is_held_again_when_a_dispute_arrives() -> None:
    dispute = Dispute(CLIENT, "1001", "d1", TODAY, "never received the goods", "manual")
    d = decide_all([invoice("1001")], cases=[_case(CaseStatus.APPROVED)], disputes=[dispute])["1001"]
    assert d.action is Action.HOLD
    assert Hold.DISPUTED in d.holds


def test_settled_long_ago_drops_out_and_recently_settled_stays_listed() -> None:
    old = invoice("1001", issue_date=date(2026, 1, 1), due=date(2026, 1, 15))
    paid_old = payment(kid("1001"), "1000.00", booked=date(2026, 1, 10))
    recent = invoice("1002")
    paid_recent = payment(kid("1002"), "1000.00", booked=TODAY - timedelta(days=5))
    d = decide_all([old, recent], [paid_old, paid_recent])
    assert "1001" not in d
    assert d["1002"].state is State.SETTLED


# ---- direct debit / card -------------------------------------------------------------------------


def test_direct_debit_invoice_is_not_dunned_while_the_collection_can_still_land() -> None:
    quick = client(grace_days=0, steps=[{"action": "reminder", "days": 3}])  # a fee-less nudge 3 days after due
    on = DUE + timedelta(days=5)
    dd = invoice("1001", collection_method="direct_debit")
    held = decide_all([dd], as_of=on, cfg=quick)["1001"]
    assert held.action is Action.HOLD
    assert held.holds == (Hold.PAYMENT_PENDING,)
    assert any("direct debit" in e.detail for e in held.evidence)
    ordinary = decide_all([invoice("1002")], as_of=on, cfg=quick)["1002"]
    assert ordinary.action is Action.REMINDER  # the same invoice without a mandate is reminded


def test_direct_debit_that_never_arrived_or_came_back_is_dunned_again() -> None:
    dd = invoice("1001", collection_method="direct_debit")
    later = decide_all([dd], as_of=DUE + timedelta(days=20))["1001"]  # nothing booked 10 days after due
    assert later.action is Action.REMINDER
    paid = payment(kid("1001"), "1000.00", booked=DUE)
    returned = payment(kid("1001"), "1000.00", booked=DUE + timedelta(days=3), reversal=True, bank_ref="RET-1")
    bounced = decide_all([dd], [paid, returned], as_of=TODAY)["1001"]  # returned: the collection failed
    assert bounced.open_amount == Decimal("1000.00")
    assert Hold.PAYMENT_PENDING not in bounced.holds
