"""The hold rules one by one (connector.dunning.hold_rules), each through ``decide`` on hand-built facts, and
the table that lists them: every hold code has a rule, and every rule says the way out of its holds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connector.config import ClientConfig
from connector.dunning.calendar import effective_due_date
from connector.dunning.decide import client_holds, decide
from connector.dunning.deductions import deduction_word, deduction_words
from connector.dunning.hold_rules import RULES
from connector.model import (
    Action,
    Agreement,
    Customer,
    Decision,
    DocKind,
    DunningStep,
    Facts,
    FileRole,
    Hold,
    Invoice,
    InvoiceCheck,
    Payment,
    State,
    SyncStatus,
    UnreadableFile,
)
from connector.reconcile import reconcile
from tests.builders import client_table, kid

CLIENT = "acme"
CUSTOMER = "934567897"
ISSUE = date(2026, 6, 1)
DUE = date(2026, 6, 15)  # a Monday
REMIND = date(2026, 6, 29)  # due + 14: the default ladder's reminder day
CONFIGURED_BANK = "clients/acme/bank"  # client_table's bank folder, as the unresolved config names it


def cfg(country: str = "NO", bank: list[dict[str, Any]] | None = None, **policy: Any) -> ClientConfig:
    extra: dict[str, Any] = {"policy": policy} if policy else {}
    if bank is not None:
        extra["bank"] = bank
    return ClientConfig.model_validate(client_table(CLIENT, country=country, **extra))


def cfg_without_account() -> ClientConfig:
    """A client whose config names no account to pay to (no [clients.creditor] bank_account)."""
    table = client_table(CLIENT)
    table["creditor"] = {**table["creditor"], "bank_account": ""}
    return ClientConfig.model_validate(table)


def invoice(number: str = "1001", amount: str = "1000.00", **kw: Any) -> Invoice:
    values: dict[str, Any] = {
        "client_id": CLIENT,
        "number": number,
        "kind": DocKind.INVOICE,
        "customer_id": CUSTOMER,
        "issue_date": ISSUE,
        "due_date": DUE,
        "currency": "NOK",
        "amount": Decimal(amount),
        "source": "ehf",
        "kid": kid(number),
    }
    values.update(kw)
    return Invoice(**values)


def pay(number: str, amount: str, on: date, text: str = "", ref: str = "") -> Payment:
    return Payment(
        client_id=CLIENT,
        source="camt",  # type: ignore[arg-type]  # the store hands back a PaymentSource; equal as text
        account="15032080119",
        bank_ref=ref or f"B-{number}-{amount}-{on.isoformat()}",
        ordinal=0,
        booking_date=on,
        amount=Decimal(amount),
        currency="NOK",
        structured_ref=kid(number),
        free_text=text,
    )


def customer(**kw: Any) -> Customer:
    values: dict[str, Any] = {
        "client_id": CLIENT,
        "customer_id": CUSTOMER,
        "name": "Kunde AS",
        "org_no": CUSTOMER,
        "address": ("Storgata 1",),
        "postal_code": "0155",
        "city": "Oslo",
    }
    values.update(kw)
    return Customer(**values)


def synced(as_of: date) -> dict[str, SyncStatus]:
    at = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC)
    bank = f"bank:camt:{CONFIGURED_BANK}"
    return {
        "ledger": SyncStatus("ledger", at, at, None, as_of, None),
        bank: SyncStatus(bank, at, at, None, as_of, None),
    }


def decide_one(
    inv: Invoice | None = None,
    payments: Sequence[Payment] = (),
    *,
    as_of: date = REMIND,
    client: ClientConfig | None = None,
    extra: Sequence[Invoice] = (),
    **facts: Any,
) -> Decision:
    inv = inv or invoice()
    f = Facts(
        client_id=CLIENT,
        customers=facts.pop("customers", {CUSTOMER: customer()}),
        invoices=(inv, *extra),
        payments=tuple(payments),
        disputes=(),
        agreements=tuple(facts.pop("agreements", ())),
        steps=tuple(facts.pop("steps", ())),
        cases=(),
        sync=facts.pop("sync", synced(as_of)),
        **facts,
    )
    recon = reconcile(f.invoices, f.payments)
    return next(d for d in decide(f, client or cfg(), as_of, recon) if d.invoice_number == inv.number)


def hold_texts(d: Decision, code: Hold) -> list[str]:
    return [e.detail for e in d.evidence if e.kind == "hold" and e.detail.startswith(f"{code}:")]


# ---- the table ------------------------------------------------------------------------------------


def test_every_hold_code_has_a_rule_and_every_rule_a_way_out() -> None:
    given = {code for rule in RULES for code in rule.codes}
    assert given == set(Hold)
    assert all(rule.way_out.strip() for rule in RULES)
    assert len({rule.name for rule in RULES}) == len(RULES)


# ---- part payments -----------------------------------------------------------------------------------


def test_a_part_payment_leaves_the_rest_to_the_ladder_with_each_payment_dated() -> None:
    d = decide_one(payments=[pay("1001", "300.00", date(2026, 6, 20)), pay("1001", "100.00", date(2026, 6, 24))])
    assert (d.open_amount, d.action, d.holds) == (Decimal("600.00"), Action.REMINDER, ())
    paid = [(e.amount, e.on) for e in d.evidence if e.kind == "kid"]
    assert paid == [(Decimal("300.00"), date(2026, 6, 20)), (Decimal("100.00"), date(2026, 6, 24))]
    [owed] = [e for e in d.evidence if e.kind == "owed"]
    assert owed.amount == Decimal("600.00")
    assert owed.detail == "invoice 1000.00 NOK; received 400.00; credited 0.00; still owed 600.00 NOK"


def test_a_credit_note_shows_in_what_is_still_owed() -> None:
    credit = replace(
        invoice("5001", "250.00"), kind=DocKind.CREDIT_NOTE, credits=("1001",), issue_date=date(2026, 6, 10)
    )
    d = decide_one(extra=[credit])
    [owed] = [e for e in d.evidence if e.kind == "owed"]
    assert "credited 250.00; still owed 750.00 NOK" in owed.detail
    assert [e.on for e in d.evidence if e.kind == "credit_note"] == [date(2026, 6, 10)]


def test_the_review_policy_holds_a_part_paid_invoice_for_a_person() -> None:
    d = decide_one(payments=[pay("1001", "400.00", date(2026, 6, 20))], client=cfg(partial_payment="review"))
    assert (d.action, d.holds) == (Action.REVIEW, (Hold.PARTLY_PAID,))
    [text] = hold_texts(d, Hold.PARTLY_PAID)
    assert 'partial_payment = "review"' in text and "arsync invoices confirm acme 1001" in text


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Faktura 1001 - trekk for skadet vare", "trekk"),  # bokmål
        ("Fradrag jf. reklamasjon", "Fradrag"),
        ("Betaling minus reklamation", "reklamation"),  # Danish
        ("Avdrag för fel leverans", "Avdrag"),  # Swedish
        ("Kreditnota 55 motregnet", "Kreditnota"),
    ],
)
def test_a_deduction_in_the_payment_text_is_a_review_whatever_the_policy(text: str, word: str) -> None:
    d = decide_one(payments=[pay("1001", "800.00", date(2026, 6, 20), text)])
    assert (d.action, d.holds) == (Action.REVIEW, (Hold.PARTLY_PAID,))
    [detail] = hold_texts(d, Hold.PARTLY_PAID)
    assert f"'{word}'" in detail and "2026-06-20" in detail and "arsync invoices confirm" in detail


def test_ordinary_payment_texts_name_no_deduction() -> None:
    for text in ("Faktura 1001", "Betaling 1001 takk", "Innbetaling", "", None):
        assert deduction_word(text) is None
    assert set(deduction_words()) == {"nb", "da", "sv"}


def test_confirming_lifts_partly_paid_until_another_deduction_arrives() -> None:
    first = pay("1001", "500.00", date(2026, 6, 20), "trekk for frakt")
    check = InvoiceCheck(CLIENT, "1001", date(2026, 6, 22), "cli:kari", "called them: the rest is owed")
    confirmed = decide_one(payments=[first], checks=(check,))
    assert (confirmed.action, confirmed.holds) == (Action.REMINDER, ())
    assert any(e.kind == "check" and "the rest is owed" in e.detail for e in confirmed.evidence)
    second = pay("1001", "100.00", date(2026, 6, 25), "fradrag rabatt")
    again = decide_one(payments=[first, second], checks=(check,))
    assert again.holds == (Hold.PARTLY_PAID,)
    assert len(hold_texts(again, Hold.PARTLY_PAID)) == 1  # only the payment after the check


def test_instalments_of_an_agreement_are_not_a_part_payment_to_review() -> None:
    plan = Agreement(CLIENT, "1001", "plan-1", date(2026, 6, 18), (date(2026, 6, 20), date(2026, 7, 20)))
    kept = decide_one(
        payments=[pay("1001", "500.00", date(2026, 6, 20))], agreements=[plan], client=cfg(partial_payment="review")
    )
    assert kept.holds == (Hold.AGREEMENT,)


def test_a_plan_broken_after_one_instalment_resumes_at_the_step_it_interrupted() -> None:
    reminded = [DunningStep(CLIENT, "1001", Action.REMINDER, REMIND, "outbox", currency="NOK")]
    plan = Agreement(CLIENT, "1001", "plan-1", date(2026, 7, 1), (date(2026, 7, 5), date(2026, 8, 5)))
    broken_on = date(2026, 8, 9)  # the second instalment + 3 grace days passed unpaid
    d = decide_one(
        payments=[pay("1001", "500.00", date(2026, 7, 5))],
        agreements=[plan],
        steps=reminded,
        as_of=broken_on,
        client=cfg(partial_payment="review"),
    )
    assert (d.action, d.holds, d.open_amount) == (Action.COLLECTION_NOTICE, (), Decimal("500.00"))
    resumed = [e.detail for e in d.evidence if e.kind == "agreement_broken"]
    assert any("goes on: next step collection_notice" in text and "500.00 NOK still owed" in text for text in resumed)


# ---- step 1 of the playbook: the invoice itself ---------------------------------------------------------


@pytest.mark.parametrize(
    ("inv", "says"),
    [
        (invoice(due_date=None), "states no due date"),
        (invoice(due_date=date(2026, 5, 20)), "before the issue date"),
        (invoice(kid=None), "gives no way to pay"),
    ],
)
def test_an_invoice_not_fit_to_remind_on_is_held_with_what_to_fix(inv: Invoice, says: str) -> None:
    d = decide_one(inv, as_of=REMIND + timedelta(days=60), client=cfg_without_account())
    assert Hold.INVOICE_DEFECT in d.holds and d.action is Action.REVIEW
    [detail] = hold_texts(d, Hold.INVOICE_DEFECT)
    assert says in detail and "arsync invoices confirm acme 1001 --note" in detail


def test_a_customer_who_cannot_be_reached_is_a_defect_of_the_invoice() -> None:
    nowhere = customer(address=(), postal_code=None, city=None, email=None)
    d = decide_one(invoice(source="tripletex"), customers={CUSTOMER: nowhere})
    assert d.holds == (Hold.INVOICE_DEFECT,)
    assert "cannot be reached" in hold_texts(d, Hold.INVOICE_DEFECT)[0]
    by_peppol = decide_one(invoice(source="ehf"), customers={CUSTOMER: nowhere})  # it reached a PEPPOL endpoint
    assert by_peppol.holds == () and by_peppol.action is Action.REMINDER


def test_an_account_in_the_invoice_or_the_config_is_a_way_to_pay() -> None:
    none = cfg_without_account()
    assert decide_one(invoice(kid=None, payee_account="15032080119"), client=none).holds == ()
    table = client_table(CLIENT, bank=[{"kind": "camt", "path": CONFIGURED_BANK, "account": "1503 20 80119"}])
    table["creditor"] = {**table["creditor"], "bank_account": ""}
    with_feed_account = ClientConfig.model_validate(table)
    assert Hold.INVOICE_DEFECT not in decide_one(invoice(kid=None), client=with_feed_account).holds
    assert decide_one(invoice(kid=None)).holds == ()  # [clients.creditor] bank_account (issue 15)


def test_a_letter_that_cannot_say_where_to_pay_is_held_before_the_first_reminder() -> None:
    """Issue 15: a letter must say where to pay; with no account anywhere the invoice is not fit to remind on
    (an e-invoice with a KID included: the KID alone pays nowhere)."""
    for source in ("tripletex", "ehf"):
        d = decide_one(invoice(source=source), client=cfg_without_account())
        assert (d.action, d.holds) == (Action.REVIEW, (Hold.INVOICE_DEFECT,))
        assert "[clients.creditor] bank_account" in hold_texts(d, Hold.INVOICE_DEFECT)[0]


def test_a_confirmed_invoice_is_reminded_and_the_check_is_shown() -> None:
    check = InvoiceCheck(CLIENT, "1001", date(2026, 6, 25), "cli:kari", "paid to the factoring account by agreement")
    d = decide_one(invoice(kid=None), checks=(check,))
    assert (d.action, d.holds) == (Action.REMINDER, ())
    assert [e.detail for e in d.evidence if e.kind == "check"] == [
        "checked by hand by cli:kari on 2026-06-25: paid to the factoring account by agreement"
    ]


def test_later_steps_skip_the_check_and_a_not_yet_due_invoice_is_not_checked() -> None:
    reminded = [DunningStep(CLIENT, "1001", Action.REMINDER, REMIND, "outbox", currency="NOK")]
    # the reminder's pay-by date (13 July), the first business day after it and 2 settle days: 16 July
    later = decide_one(invoice(kid=None), steps=reminded, as_of=date(2026, 7, 16), client=cfg_without_account())
    assert later.action is Action.COLLECTION_NOTICE
    early = decide_one(invoice(kid=None), as_of=DUE, client=cfg_without_account())
    assert early.holds == (Hold.NOT_DUE,)


def test_long_b2b_terms_are_noted_never_held() -> None:
    long_terms = invoice(due_date=ISSUE + timedelta(days=90))
    d = decide_one(long_terms, as_of=ISSUE + timedelta(days=105))
    assert (d.action, d.holds) == (Action.REMINDER, ())
    [note] = [e.detail for e in d.evidence if e.kind == "note"]
    assert "90 days are longer than the 60 days" in note and "forsinkelsesrenteloven" in note
    person = decide_one(long_terms, as_of=ISSUE + timedelta(days=105), customers={CUSTOMER: customer(is_person=True)})
    assert not [e for e in person.evidence if e.kind == "note"]


# ---- unreadable files ------------------------------------------------------------------------------------


def unreadable(name: str, salvaged: Any = None, role: FileRole = FileRole.LEDGER, **kw: Any) -> UnreadableFile:
    folder = "clients/acme/ehf" if role is FileRole.LEDGER else CONFIGURED_BANK
    values: dict[str, Any] = {
        "client_id": CLIENT,
        "source": "ledger" if role is FileRole.LEDGER else f"bank:camt:{CONFIGURED_BANK}",
        "role": role,
        "path": f"{folder}/{name}",
        "name": name,
        "file_hash": f"h-{name}",
        "error": f"{name}: not well-formed XML",
        "first_seen": date(2026, 6, 28),
        "salvaged": salvaged,
    }
    values.update(kw)
    return UnreadableFile(**values)


def test_an_unreadable_file_holds_by_what_it_could_change() -> None:
    from connector.model import Salvaged

    others = [invoice("1002"), invoice("2001", customer_id="987654325")]
    cases = {
        "invoice.xml": (Salvaged(kind="invoice", type_code="380", number="9999"), set()),
        "own.xml": (Salvaged(kind="invoice", type_code="380", number="1002"), {"1002"}),
        "credit.xml": (Salvaged(kind="credit_note", refs=("1001",), buyer_ids=(CUSTOMER,)), {"1001"}),
        "buyer.xml": (Salvaged(kind="credit_note", buyer_ids=("NO987654325MVA",)), {"2001"}),
        "named.xml": (Salvaged(kind="invoice_response", buyer_name="Kunde  as"), {"1001", "1002"}),
        "nothing.xml": (None, {"1001", "1002", "2001"}),
    }
    customers = {CUSTOMER: customer(), "987654325": customer(customer_id="987654325", org_no="987654325", name="B AS")}
    for name, (salvaged, held) in cases.items():
        f = unreadable(name, salvaged)
        got = set()
        for inv in (invoice("1001"), *others):
            d = decide_one(
                inv,
                extra=[i for i in (invoice("1001"), *others) if i.number != inv.number],
                customers=customers,
                unreadable=(f,),
            )
            if Hold.UNREADABLE_DOCUMENT in d.holds:
                got.add(inv.number)
                assert d.action is Action.HOLD
                [detail] = hold_texts(d, Hold.UNREADABLE_DOCUMENT)
                assert name in detail and "not well-formed XML" in detail
                assert f"arsync files quarantine acme {f.path} --reason" in detail
        assert got == held, name


def test_a_quarantined_file_or_one_outside_the_configured_folder_holds_nothing() -> None:
    quarantined = unreadable("x.xml", quarantined="quarantined by cli:kari on 2026-06-28: junk from the scanner")
    elsewhere = unreadable("y.xml", path="old-folder/y.xml")
    assert decide_one(unreadable=(quarantined, elsewhere)).holds == ()


def test_an_unreadable_bank_file_holds_the_client_until_it_reads_or_is_quarantined() -> None:
    bank = unreadable("camt054.xml", role=FileRole.BANK)
    d = decide_one(unreadable=(bank,))
    assert (d.action, d.holds) == (Action.HOLD, (Hold.BANK_DATA_STALE,))
    [detail] = hold_texts(d, Hold.BANK_DATA_STALE)
    assert "camt054.xml" in detail and "arsync files quarantine acme" in detail
    assert decide_one(unreadable=(replace(bank, quarantined="quarantined by cli:kari"),)).holds == ()
    gone = replace(bank, source="bank:camt:/typo/bank", path="/typo/bank/camt054.xml")
    assert decide_one(unreadable=(gone,)).holds == ()


def test_a_failed_feed_no_longer_in_the_config_holds_nothing() -> None:
    at = datetime.combine(REMIND, datetime.min.time(), tzinfo=UTC)
    sync = synced(REMIND)
    sync["bank:camt:/typo"] = SyncStatus("bank:camt:/typo", at, None, "/typo: folder not found", None, None)
    facts = Facts(CLIENT, {}, (), (), (), (), (), (), sync=sync)
    assert client_holds(facts, cfg(), REMIND) == []
    sync[f"bank:camt:{CONFIGURED_BANK}"] = replace(sync[f"bank:camt:{CONFIGURED_BANK}"], last_error="boom")
    assert [h for h, _ in client_holds(replace(facts, sync=sync), cfg(), REMIND)] == [Hold.BANK_DATA_STALE]


# ---- case timing -----------------------------------------------------------------------------------------


def noticed(on: date) -> list[DunningStep]:
    return [
        DunningStep(CLIENT, "1001", Action.REMINDER, on - timedelta(days=14), "outbox", currency="NOK"),
        DunningStep(CLIENT, "1001", Action.COLLECTION_NOTICE, on, "outbox", currency="NOK"),
    ]


@pytest.mark.parametrize(
    ("notice", "deadline", "first_case_day", "settle_days"),
    [
        (date(2026, 7, 13), date(2026, 7, 27), date(2026, 7, 30), 2),  # Monday deadline: Tue, Wed, Thu
        (date(2026, 7, 17), date(2026, 7, 31), date(2026, 8, 5), 2),  # Friday deadline: over the weekend
        (date(2026, 4, 30), date(2026, 5, 15), date(2026, 5, 20), 2),  # +14 is Ascension Day: the deadline moves
        (date(2026, 12, 10), date(2026, 12, 24), date(2026, 12, 30), 2),  # after it Christmas and a weekend
        (date(2026, 12, 10), date(2026, 12, 24), date(2026, 12, 28), 0),  # no settle days: the next business day
    ],
)
def test_a_case_waits_for_the_notice_deadline_and_the_settle_days(
    notice: date, deadline: date, first_case_day: date, settle_days: int
) -> None:
    client = cfg(settle_days=settle_days)
    inv = invoice(issue_date=notice - timedelta(days=60), due_date=notice - timedelta(days=40))
    before = decide_one(inv, steps=noticed(notice), as_of=first_case_day - timedelta(days=1), client=client)
    assert before.holds == (Hold.WAIT_INTERVAL,) and before.next_step is Action.COLLECTION_CASE
    [shown] = [e for e in before.evidence if e.kind == "deadline"]
    assert shown.on == deadline and first_case_day.isoformat() in shown.detail
    ready = decide_one(inv, steps=noticed(notice), as_of=first_case_day, client=client)
    assert ready.action is Action.COLLECTION_CASE and ready.state is State.OVERDUE


@pytest.mark.parametrize(
    ("country", "day", "moved_to"),
    [
        # SE: lag (1930:173) 2 § moves a deadline off these days as off a holiday; Bankgirot is closed
        ("SE", date(2026, 6, 19), date(2026, 6, 22)),  # midsommarafton (a Friday)
        ("SE", date(2026, 12, 24), date(2026, 12, 28)),  # julafton, then Christmas and a Sunday
        ("SE", date(2026, 12, 31), date(2027, 1, 4)),  # nyårsafton, then New Year's Day and a weekend
        # DK: Nationalbanken's banklukkedage
        ("DK", date(2026, 5, 15), date(2026, 5, 18)),  # the Friday after Kristi himmelfartsdag
        ("DK", date(2026, 6, 5), date(2026, 6, 8)),  # grundlovsdag
        ("DK", date(2026, 12, 24), date(2026, 12, 28)),
        ("DK", date(2026, 12, 31), date(2027, 1, 4)),
        # Norway's calendar as it was
        ("NO", date(2026, 12, 24), date(2026, 12, 24)),
        ("NO", date(2026, 6, 5), date(2026, 6, 5)),
    ],
)
def test_a_day_the_banks_of_the_clients_country_are_closed_is_no_business_day(
    country: str, day: date, moved_to: date
) -> None:
    # found trying DK and SE clients: only public holidays counted, so a Swedish invoice due on midsummer eve
    # was overdue the next day, and a deadline on 24 December left a settle day short (no bank books that day)
    assert effective_due_date(day, country) == moved_to
    client = cfg(country, grace_days=0)
    inv = invoice(issue_date=day - timedelta(days=30), due_date=day)
    d = decide_one(inv, as_of=moved_to, client=client)
    assert Hold.NOT_DUE in d.holds
    [ev] = [e for e in d.evidence if e.detail.startswith("not_due")]
    assert moved_to.isoformat() in ev.detail


def test_the_letter_states_the_deadline_the_case_waits_for() -> None:
    from connector.dunning.ladder import stated_deadline

    client = cfg()
    assert stated_deadline(client, Action.COLLECTION_NOTICE, date(2026, 7, 17)) == date(2026, 7, 31)
    # a reminder states one too (issue 15): at least 14 days in Norway, so a later fee is lawful
    assert stated_deadline(client, Action.REMINDER, date(2026, 7, 17)) == date(2026, 7, 31)
