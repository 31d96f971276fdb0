"""The letters `arsync run` sends, in each language: real PDFs read back (pypdf) with every element the law and
the playbook require, built from the facts — one letter per customer and step, held invoices left out, the fee
per letter, the pay-by date the ladder then waits for, the EHF Reminder's DueDate, the invoice copy behind."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree
from pypdf import PdfReader

from connector.actions import letter_service
from connector.dunning.deadlines import pay_by_date
from connector.dunning.rules import pack_on
from connector.letters import ChargeKind, Language, Letter, NextAction
from connector.model import Action
from connector.store.facts import load_facts
from tests.builders import ACCOUNT, Entry, Workspace, client_table, kid, real_pdf
from tests.letters.test_letter_content import CHARGE_LABELS, pdf_text, required

COUNTRY: dict[Language, tuple[str, str]] = {"nb": ("NO", "NOK"), "da": ("DK", "DKK"), "sv": ("SE", "SEK")}
LANGUAGES: list[Language] = ["nb", "da", "sv"]
DUE = date(2026, 1, 5)  # a Monday
DAY = date(2026, 1, 19)  # 14 days after: the default ladder's reminder
IBAN = "NO5015032080119"


def client(language: Language, **extra: Any) -> dict[str, Any]:
    country, currency = COUNTRY[language]
    table = client_table("acme", country=country, currency=currency, **extra)
    table["creditor"] = {
        **table["creditor"],
        "iban": IBAN,
        "bic": "DNBANOKK",
        "contact_person": "Åse Ødegård",
    }
    table["collection"] = {**table["collection"], "agency": "Kravia", "agency_contact": "post@kravia.example"}
    if country == "SE":
        table["policy"] = {**table["policy"], "fee_agreed": True}  # a påminnelseavgift needs the agreement
    return table


def setup(ws: Workspace, language: Language, **extra: Any) -> None:
    """Three invoices of one customer: 7001 part paid (and its PDF in the e-invoice), 7002 part credited, 7003
    disputed (held: left out of the letter)."""
    currency = COUNTRY[language][1]
    ws.write_config(client(language, **extra))
    ws.add_invoice("7001", issue=date(2025, 12, 22), due=DUE, amount="5000.00", currency=currency, pdf=real_pdf())
    ws.add_invoice("7002", issue=date(2025, 12, 23), due=DUE, amount="2000.00", currency=currency)
    ws.add_invoice("7003", issue=date(2025, 12, 23), due=DUE, amount="700.00", currency=currency)
    ws.add_credit_note("8001", "7002", issue=date(2026, 1, 7), amount="500.00", currency=currency)
    paid = Entry("B-1", "1000.00", date(2026, 1, 9), kid("7001"), currency=currency)
    ws.add_bank_file("camt054-2026-01-09.xml", [paid], created=date(2026, 1, 9))
    assert ws.cli("sync", "--as-of", DAY.isoformat()).exit_code == 0
    opened = ws.cli(
        "disputes", "open", "--client", "acme", "7003", "--reason", "not delivered", "--as-of", "2026-01-15"
    )
    assert opened.exit_code == 0, opened.output


def run(ws: Workspace, day: date) -> None:
    ws.bank_heartbeat(day)
    result = ws.cli("run", "--as-of", day.isoformat())
    assert result.exit_code == 0, result.output + result.stderr


def content(ws: Workspace, number: str, kind: str, day: date) -> Letter:
    record = ws.letter_record(number, kind, day)
    return letter_service.letter_content(ws.store, ws.client(), record.letter_id)


def check_on_the_page(ws: Workspace, letter: Letter, number: str, kind: str, day: date) -> str:
    """Every element the letter must state is on its PDF page (and in the letter the store keeps)."""
    text = pdf_text(ws.letter_pdf(number, kind, day).read_bytes())
    kinds = (ChargeKind.REMINDER_FEE, ChargeKind.LATE_INTEREST)
    # a charge the letter does not make (no Swedish interest rate, a notice without a fee) is not named
    absent = {
        w
        for k, w in zip(kinds, CHARGE_LABELS[letter.language], strict=True)
        if not any(c.kind is k for c in letter.charges)
    }
    missing = [w for w in required(letter) if w not in text and w not in absent]
    assert not missing, f"{letter.language}/{kind}: not on the page: {missing}"
    return text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_reminder_names_every_invoice_of_the_customer_with_what_the_law_requires(
    ws: Workspace, language: Language
) -> None:
    country, currency = COUNTRY[language]
    setup(ws, language)
    run(ws, DAY)
    record = ws.letter_record("7001", "reminder", DAY)
    assert record.invoices == ("7001", "7002")  # one letter for the customer; the disputed 7003 left out
    assert ws.letters() == ["acme--7001--reminder--2026-01-19", "acme--7002--reminder--2026-01-19"]
    letter = content(ws, "7001", "reminder", DAY)

    # built from the facts: creditor from the config, debtor from the ledger, money from the reconciliation
    assert (letter.creditor.name, letter.creditor.bank_account, letter.creditor.iban) == ("Acme AS", ACCOUNT, IBAN)
    assert letter.creditor.contact_person == "Åse Ødegård" and letter.debtor.name == "Kunde AS"
    first, second = letter.invoices
    assert [(p.on, p.amount.amount) for p in first.payments] == [(date(2026, 1, 9), Decimal("1000.00"))]
    assert [(c.number, c.amount.amount) for c in second.credits] == [("8001", Decimal("500.00"))]
    assert (first.owed.amount, second.owed.amount) == (Decimal("4000.00"), Decimal("1500.00"))
    assert (first.payment_reference, second.payment_reference) == (kid("7001"), kid("7002"))
    # the pay-by date: the law's minimum or the ladder's 14 days to the next step, a business day
    assert letter.pay_by == pay_by_date(country, DAY, policy_days=14) == record.pay_by
    assert letter.next_step is not None and letter.next_step.action is NextAction.COLLECTION_NOTICE
    pack = pack_on(country, DAY)
    fees = [c for c in letter.charges if c.kind is ChargeKind.REMINDER_FEE]
    # one fee for the letter (the rule pack: per letter), with its legal basis
    assert [(c.amount.amount, c.invoice_number, c.legal_basis) for c in fees] == [
        (pack.reminder_fee_cap, "", pack.cites("reminder_fee"))
    ]
    interest = [c for c in letter.charges if c.kind is ChargeKind.LATE_INTEREST]
    if country == "SE":
        assert interest == []  # no verified Swedish rate in the pack: never guessed
    else:
        assert [c.invoice_number for c in interest] == ["7001", "7002"]
        assert all(c.legal_basis == pack.cites("late_interest") and c.period_to == DAY for c in interest)
    owed = first.owed.amount + second.owed.amount + sum(c.amount.amount for c in letter.charges)
    assert letter.total_owed.amount == owed == record.total
    assert letter.language == language and letter.currency == currency
    # steps: the fee recorded once, on the first invoice
    assert {(s.invoice_number, s.fee) for s in ws.store.read(load_facts, "acme").steps} == {
        ("7001", pack.reminder_fee_cap),
        ("7002", Decimal("0.00")),
    }

    text = check_on_the_page(ws, letter, "7001", "reminder", DAY)
    assert "7003" not in text
    pdf = ws.letter_pdf("7001", "reminder", DAY)
    assert len(PdfReader(io.BytesIO(pdf.read_bytes())).pages) == 2  # the letter, then 7001's copy
    # one EHF Reminder per invoice: its DueDate is the letter's pay-by date
    for number in ("7001", "7002"):
        xml = etree.parse(str(ws.reminders_dir() / f"{record.stem}--{number}.xml"))
        ns = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
        assert xml.findtext("cbc:DueDate", namespaces=ns) == letter.pay_by.isoformat()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_collection_notice_cites_its_act_and_names_the_agency(ws: Workspace, language: Language) -> None:
    country, _ = COUNTRY[language]
    setup(ws, language)
    run(ws, DAY)
    notice_day = date(2026, 2, 9)  # after the reminder's pay-by date and the settle days
    run(ws, notice_day)
    letter = content(ws, "7001", "collection_notice", notice_day)
    assert [i.number for i in letter.invoices] == ["7001", "7002"]
    assert letter.notice_basis == pack_on(country, notice_day).cites("collection_notice")
    assert letter.next_step is not None and letter.next_step.action is NextAction.COLLECTION_CASE
    assert letter.next_step.agency == "Kravia"
    assert letter.pay_by == pay_by_date(country, notice_day, notice=True, policy_days=14)
    text = check_on_the_page(ws, letter, "7001", "collection_notice", notice_day)
    assert "Kravia" in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_written_follow_up_of_a_call_states_the_plan_and_asks_for_confirmation(
    ws: Workspace, language: Language
) -> None:
    calls = [{"action": "reminder", "days": 14, "fee": True}, {"action": "call", "days": 7}]
    table_steps = [*calls, {"action": "collection_notice", "days": 7}, {"action": "collection_case", "days": 14}]
    setup(ws, language, policy={"steps": table_steps})
    run(ws, DAY)
    call_day = date(2026, 2, 5)
    run(ws, call_day)
    logged = ws.cli(
        "calls", "log", "acme", "934567897", "--outcome", "instalments", "--instalments", "2", "--first",
        "2026-02-20", "--every", "14d", "--notes", "Ola Nordmann will pay", "--as-of", call_day.isoformat(),
    )  # fmt: skip
    assert logged.exit_code == 0, logged.output
    run(ws, call_day)  # the same night's run (or the next) writes the confirmation, once
    run(ws, call_day)
    assert ws.letters(kinds=("follow_up",)) == [
        f"acme--{n}--follow_up--{call_day.isoformat()}" for n in ("7001", "7002")
    ]
    assert len([r for r in ws.letter_records() if r.kind == "follow_up"]) == 1  # one letter for the plan
    letter = content(ws, "7001", "follow_up", call_day)
    assert letter.follow_up is not None
    plan = letter.follow_up.plan
    assert [i.due for i in plan] == [date(2026, 2, 20), date(2026, 3, 6)]
    # what is owed under the plan: 4000 + 1500 still open and the fee the reminder charged, as the statement says
    charged = sum(s.fee for s in ws.store.read(load_facts, "acme").steps)
    assert [c.amount.amount for c in letter.charges] == ([charged] if charged else [])
    assert sum(i.amount.amount for i in plan) == Decimal("5500.00") + charged == letter.total_owed.amount
    assert letter.pay_by == date(2026, 2, 20) and letter.follow_up.agreed_on == call_day
    assert letter.next_step is not None and letter.next_step.action is NextAction.COLLECTION_NOTICE
    check_on_the_page(ws, letter, "7001", "follow_up", call_day)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_pushed_case_is_followed_by_a_letter_naming_the_agency(ws: Workspace, language: Language) -> None:
    setup(ws, language)
    run(ws, DAY)
    run(ws, date(2026, 2, 9))  # the notice
    ws.post_letters()  # (a case only follows a notice the debtor was sent)
    case_day = date(2026, 3, 2)
    run(ws, case_day)
    assert ws.cli("cases", "approve", "acme-7001", "--as-of", case_day.isoformat()).exit_code == 0
    assert ws.cli("cases", "push", "--as-of", case_day.isoformat()).exit_code == 0
    run(ws, case_day)
    run(ws, case_day)
    assert ws.letters(kinds=("collection_case",)) == [f"acme--7001--collection_case--{case_day.isoformat()}"]
    letter = content(ws, "7001", "collection_case", case_day)
    assert letter.handover is not None and letter.handover.agency == "Kravia"
    check_on_the_page(ws, letter, "7001", "collection_case", case_day)


# ---- grouping -----------------------------------------------------------------------------------------------


def test_without_grouping_each_invoice_gets_its_own_letter_and_fee(ws: Workspace) -> None:
    setup(ws, "nb", policy={"group_by_customer": False})
    run(ws, DAY)
    records = [r for r in ws.letter_records() if r.kind == "reminder"]
    assert sorted(r.invoices for r in records) == [("7001",), ("7002",)]
    assert {s.invoice_number: s.fee for s in ws.store.read(load_facts, "acme").steps} == {
        "7001": Decimal("37.50"),
        "7002": Decimal("37.50"),
    }


def test_a_fee_per_claim_when_the_pack_says_so(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.dunning import rules

    real = rules.pack_on
    monkeypatch.setattr(rules, "pack_on", lambda country, day: replace(real(country, day), fee_per="claim"))
    import connector.actions.letters as letters_mod

    monkeypatch.setattr(letters_mod, "pack_on", rules.pack_on)
    setup(ws, "nb")
    run(ws, DAY)
    letter = content(ws, "7001", "reminder", DAY)
    fees = [(c.invoice_number, c.amount.amount) for c in letter.charges if c.kind is ChargeKind.REMINDER_FEE]
    assert fees == [("7001", Decimal("37.50")), ("7002", Decimal("37.50"))]
    text = ws.letter_text("7001", "reminder", DAY)
    assert "Purregebyr (faktura 7001)" in text and "Purregebyr (faktura 7002)" in text


def test_a_letter_fee_only_when_every_invoice_may_carry_one() -> None:
    """The limits count per claim. 7002 was named ten days ago by a letter whose fee another invoice recorded:
    that counts as a fee-bearing notice for 7002 too (the stricter reading), so 7002 may not carry a fee for
    another four days (inkassoforskriften § 1-3: 14 days) — and a letter naming it carries none at all."""
    from connector.actions.letters import fee_history, letter_fees
    from connector.config import ClientConfig
    from connector.model import DocKind, DunningStep, Invoice

    ladder = [
        {"action": "reminder", "days": 14, "fee": True},
        {"action": "reminder", "days": 7, "fee": True},
        {"action": "collection_notice", "days": 14},
        {"action": "collection_case", "days": 14},
    ]
    cfg = ClientConfig.model_validate(client_table("acme", policy={"steps": ladder}))

    def invoice(number: str) -> Invoice:
        return Invoice("acme", number, DocKind.INVOICE, "934567897", date(2025, 11, 1), date(2025, 12, 1), "NOK",
                       Decimal("1000.00"), "ehf")  # fmt: skip

    earlier = DunningStep("acme", "7002", Action.REMINDER, date(2026, 1, 9), "outbox", Decimal("0.00"), "NOK")
    history = {"7001": [], "7002": fee_history("7002", [earlier], [(date(2026, 1, 9), Decimal("37.50"))])}
    assert history["7002"][0].fee == Decimal("37.50")
    fees, why = letter_fees(cfg, Action.REMINDER, [invoice("7001"), invoice("7002")], history, DAY)
    assert fees == {"7001": Decimal("0.00"), "7002": Decimal("0.00")} and "per letter" in why
    alone, _ = letter_fees(cfg, Action.REMINDER, [invoice("7001")], history, DAY)
    assert alone == {"7001": Decimal("37.50")}
    both_may, _ = letter_fees(cfg, Action.REMINDER, [invoice("7001"), invoice("7002")], {"7001": [], "7002": []}, DAY)
    assert both_may == {"7001": Decimal("37.50"), "7002": Decimal("0.00")}  # one fee, on the first


def test_invoices_in_another_currency_go_in_their_own_letter(ws: Workspace) -> None:
    setup(ws, "nb")
    ws.add_invoice("7010", issue=date(2025, 12, 22), due=DUE, amount="300.00", currency="EUR")
    run(ws, DAY)
    records = sorted((r.invoices, r.currency) for r in ws.letter_records() if r.kind == "reminder")
    assert records == [(("7001", "7002"), "NOK"), (("7010",), "EUR")]


# ---- templates the client overrides ---------------------------------------------------------------------------


def test_a_client_overrides_a_letter_text(ws: Workspace) -> None:
    folder = ws.root / "letters"
    (folder / "nb").mkdir(parents=True)
    (folder / "nb" / "reminder.j2").write_text(
        '{% import "nb/_common.j2" as c with context %}\n'
        "Vennlig påminnelse fra Acme – {{ c.invoices_named(letter) }}\n\n"
        "Hei! Vi savner en betaling.\n\n{{ invoice_table() }}\n\n"
        '{{ strong("Betal " ~ fmt.money(letter.total_owed) ~ " innen " ~ fmt.date(letter.pay_by) ~ ".") }}\n\n'
        "{{ c.next_step(letter) }}\n\n{{ c.how_to_pay(letter) }}\n\n{{ c.questions(letter) }}\n\n"
        "{{ c.closing(letter) }}\n",
        encoding="utf-8",
    )
    setup(ws, "nb", reminders={"letter_templates": "letters"})
    run(ws, DAY)
    text = ws.letter_text("7001", "reminder", DAY)
    assert "Vennlig påminnelse fra Acme – fakturaene 7001, 7002" in text and "Vi savner en betaling." in text
    assert "Betal til kontonummer" in text  # the shared pieces still come from arsync's templates


def test_with_only_an_iban_configured_the_letter_names_that_account_and_no_other(ws: Workspace) -> None:
    """A Danish client that configured its IBAN but no domestic account: the letter's account is the IBAN's
    (reg. no. and account), never the bank feed's account printed beside a different IBAN."""
    table = client("da")
    table["bank"] = [{**table["bank"][0], "account": ACCOUNT}]  # the feed's own account, another bank's
    table["creditor"] = {k: v for k, v in table["creditor"].items() if k != "bank_account"}
    table["creditor"]["iban"] = "DK5000400440116243"
    ws.write_config(table)
    ws.add_invoice("7001", issue=date(2025, 12, 22), due=DUE, amount="5000.00", currency="DKK")
    run(ws, DAY)
    letter = content(ws, "7001", "reminder", DAY)
    assert letter.payment is not None
    assert (letter.payment.account, letter.payment.iban) == ("0040 0440116243", "DK5000400440116243")
    assert letter.creditor.bank_account == "0040 0440116243"
    assert ACCOUNT not in ws.letter_text("7001", "reminder", DAY)
