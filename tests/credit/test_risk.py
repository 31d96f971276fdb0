"""Risk levels with reasons: each reason one sentence with its figure; thresholds from data."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from connector.credit.facts import (
    ENHETSREGISTERET,
    REGNSKAPSREGISTERET,
    AccountsFacts,
    AnswerStatus,
    CompanyFacts,
    CreditFacts,
    LedgerHistory,
    RegisterAnswer,
)
from connector.credit.risk import RiskAssessment, RiskLevel, evaluate
from connector.credit.thresholds import Thresholds, default_thresholds, load_thresholds
from connector.registry.registers import registers_for

TODAY = date(2026, 2, 2)
ASKED = date(2026, 2, 1)
ORG = "923456791"

SOUND = CompanyFacts(
    ORG,
    name="FJORD BYGG AS",
    organisation_form="AS",
    registered_on=date(2015, 3, 2),
    founded_on=date(2015, 2, 20),
    vat_registered=True,
    business_registered=True,
    employees=12,
    has_registered_employees=True,
)
HEALTHY = AccountsFacts(
    ORG,
    period_start=date(2024, 1, 1),
    period_end=date(2024, 12, 31),
    currency="NOK",
    equity=Decimal("2500000"),
    annual_result=Decimal("400000"),
    current_assets=Decimal("1800000"),
    current_liabilities=Decimal("900000"),
    auditor_report_missing=False,
    audit_opted_out=False,
    liquidation_accounts=False,
)
GOOD_PAYER = LedgerHistory(
    "C1",
    date(2024, 2, 2),
    invoices=10,
    paid=10,
    avg_days_late=Decimal("1.5"),
    max_days_late=6,
    paid_late=3,
    reminded=1,
    collection_steps=0,
    open_disputes=0,
)


def company(
    facts: CompanyFacts | None = SOUND, status: AnswerStatus = AnswerStatus.FOUND, **kw: str
) -> RegisterAnswer[CompanyFacts]:
    return RegisterAnswer(ENHETSREGISTERET, ORG, status, ASKED, facts, **kw)


def accounts(
    facts: AccountsFacts | None = HEALTHY, status: AnswerStatus = AnswerStatus.FOUND, **kw: str
) -> RegisterAnswer[AccountsFacts]:
    return RegisterAnswer(REGNSKAPSREGISTERET, ORG, status, ASKED, facts, **kw)


def check(
    c: RegisterAnswer[CompanyFacts] | None = None,
    a: RegisterAnswer[AccountsFacts] | None = None,
    ledger: LedgerHistory | None = GOOD_PAYER,
    org: str | None = ORG,
    country: str = "NO",
    thresholds: Thresholds | None = None,
) -> RiskAssessment:
    facts = CreditFacts(
        "C1", org, country, c if c is not None else company(), a if a is not None else accounts(), ledger
    )
    return evaluate(facts, thresholds or default_thresholds(), TODAY)


def codes(result: RiskAssessment) -> list[str]:
    return [r.code for r in result.reasons]


def text(result: RiskAssessment, code: str) -> str:
    return next(r.text for r in result.reasons if r.code == code)


def test_a_sound_company_that_pays_on_time_is_low() -> None:
    result = check()
    assert result.level is RiskLevel.LOW and result.reasons == () and result.notes == ()
    assert result.as_json()["level"] == "low" and result.as_json()["evaluated_on"] == "2026-02-02"


def test_bankruptcy_is_high_with_its_date_and_the_answer_date() -> None:
    result = check(company(replace(SOUND, bankrupt=True, bankrupt_on=date(2026, 1, 12))))
    assert result.level is RiskLevel.HIGH and codes(result) == ["bankrupt"]
    assert result.reasons[0].text == "Bankrupt (konkurs) since 2026-01-12."
    assert (result.reasons[0].source, result.reasons[0].as_of) == (ENHETSREGISTERET, ASKED)


def test_liquidation_forced_dissolution_and_reconstruction_are_high() -> None:
    facts = replace(
        SOUND,
        under_liquidation=True,
        forced_dissolution=True,
        forced_dissolution_dates=("tvangsopplostPgaManglendeRevisorDato 2025-09-01",),
        reconstruction_on=date(2025, 11, 3),
    )
    result = check(company(facts))
    assert result.level is RiskLevel.HIGH
    assert codes(result) == ["under_liquidation", "forced_dissolution", "reconstruction"]
    assert "tvangsopplostPgaManglendeRevisorDato 2025-09-01" in text(result, "forced_dissolution")


def test_a_deleted_company_is_high_and_nothing_else_is_said_about_the_going_concern() -> None:
    facts = replace(SOUND, deleted_on=date(2025, 11, 30), vat_registered=False, founded_on=date(2025, 10, 1))
    result = check(company(facts))
    assert codes(result) == ["deleted"] and result.level is RiskLevel.HIGH
    assert text(result, "deleted") == "FJORD BYGG AS was deleted from Enhetsregisteret on 2025-11-30."


def test_an_org_no_unknown_to_the_register_is_watch() -> None:
    result = check(company(None, AnswerStatus.NOT_FOUND), accounts(None, AnswerStatus.NOT_FOUND))
    assert result.level is RiskLevel.WATCH and codes(result) == ["not_found"]
    assert ORG in text(result, "not_found")


def test_a_young_company_outside_the_vat_register_is_watch() -> None:
    facts = replace(SOUND, founded_on=date(2025, 9, 15), registered_on=date(2025, 9, 20), vat_registered=False)
    result = check(company(facts), accounts(None, AnswerStatus.NOT_FOUND))
    assert result.level is RiskLevel.WATCH
    assert codes(result) == ["young_company", "not_vat_registered"]  # too young to have filed: not a reason
    assert text(result, "young_company") == "Founded 2025-09-15: 4 months old (less than 12)."


def test_no_accounts_filed_counts_only_for_forms_that_must_file() -> None:
    none_filed = accounts(None, AnswerStatus.NOT_FOUND)
    assert codes(check(company(SOUND), none_filed)) == ["no_accounts_filed"]
    sole_trader = replace(SOUND, organisation_form="ENK", business_registered=False)
    assert check(company(sole_trader), none_filed).level is RiskLevel.LOW


def test_weak_accounts_give_each_figure() -> None:
    weak = replace(
        HEALTHY,
        equity=Decimal("-350000"),
        annual_result=Decimal("-120500.50"),
        current_assets=Decimal("310000"),
        current_liabilities=Decimal("500000"),
    )
    result = check(a=accounts(weak))
    assert result.level is RiskLevel.HIGH
    assert codes(result) == ["negative_equity", "loss", "current_ratio"]
    assert text(result, "negative_equity") == (
        "Negative equity of -350 000 NOK in the accounts for the period ending 2024-12-31."
    )
    assert text(result, "loss") == "A loss of 120 500.50 NOK in the accounts for the period ending 2024-12-31."
    assert text(result, "current_ratio") == (
        "Current ratio 0.62 (current assets 310 000 NOK / current liabilities 500 000 NOK), below 1.0."
    )


def test_outdated_and_liquidation_accounts() -> None:
    old = replace(HEALTHY, period_start=date(2023, 1, 1), period_end=date(2023, 12, 31), liquidation_accounts=True)
    result = check(a=accounts(old))
    assert codes(result) == ["liquidation_accounts", "accounts_outdated"] and result.level is RiskLevel.HIGH
    assert text(result, "accounts_outdated") == (
        "The latest annual accounts end 2023-12-31: 25 months ago (more than 18)."
    )


def test_opting_out_of_audit_is_not_a_reason_but_a_missing_required_audit_is() -> None:
    opted_out = replace(HEALTHY, auditor_report_missing=True, audit_opted_out=True)
    assert check(a=accounts(opted_out)).level is RiskLevel.LOW
    unaudited = replace(HEALTHY, auditor_report_missing=True, audit_opted_out=False)
    result = check(a=accounts(unaudited))
    assert codes(result) == ["unaudited"] and result.level is RiskLevel.WATCH


def test_a_slow_payer_is_watch_and_a_very_slow_one_high() -> None:
    slow = replace(GOOD_PAYER, avg_days_late=Decimal("21.5"), max_days_late=60)
    result = check(ledger=slow)
    assert result.level is RiskLevel.WATCH and codes(result) == ["days_paid_after_due"]
    assert text(result, "days_paid_after_due") == (
        "Paid on average 21.5 days after the due date (10 invoices paid since 2024-02-02; the slowest 60 days)."
    )
    assert check(ledger=replace(slow, avg_days_late=Decimal("45.1"))).level is RiskLevel.HIGH
    assert check(ledger=replace(slow, avg_days_late=Decimal("14"))).level is RiskLevel.LOW  # "above" is strict


def test_reminders_collection_disputes_and_overdue_from_the_ledger() -> None:
    history = replace(
        GOOD_PAYER,
        invoices=10,
        reminded=7,
        collection_steps=3,
        open_disputes=1,
        overdue=(("EUR", Decimal("900.00")), ("NOK", Decimal("25000.00"))),
        overdue_invoices=4,
    )
    result = check(ledger=history)
    assert result.level is RiskLevel.HIGH
    assert codes(result) == ["collection_steps", "reminders_needed", "open_disputes", "overdue_amount"]
    assert text(result, "reminders_needed") == (
        "7 of 10 invoices since 2024-02-02 needed a reminder (70%, more than 50%)."
    )
    assert text(result, "collection_steps") == "3 invoices since 2024-02-02 needed a collection notice or case."
    assert text(result, "overdue_amount") == "25 000 NOK overdue today."  # EUR 900 is below its threshold


def test_too_few_invoices_say_nothing_about_reminders() -> None:
    history = replace(GOOD_PAYER, invoices=2, paid=2, reminded=2)
    assert check(ledger=history).level is RiskLevel.LOW


def test_an_unavailable_register_is_watch_and_says_why() -> None:
    down = company(None, AnswerStatus.UNAVAILABLE, detail="enhetsregisteret GET /enheter/923456791: server error 503")
    result = check(down)
    assert codes(result) == ["register_unavailable"] and result.level is RiskLevel.WATCH
    assert "Enhetsregisteret could not be asked (enhetsregisteret GET" in result.reasons[0].text


def test_a_stale_answer_is_used_and_the_note_says_so() -> None:
    stale = company(replace(SOUND, bankrupt=True)).as_stale(
        "Enhetsregisteret could not be reached on 2026-02-02; its answer of 2026-02-01 is used."
    )
    result = check(stale)
    assert codes(result) == ["bankrupt"] and result.reasons[0].as_of == ASKED
    assert result.notes == ("Enhetsregisteret could not be reached on 2026-02-02; its answer of 2026-02-01 is used.",)


def test_a_sub_unit_lookup_is_noted() -> None:
    result = check(company(replace(SOUND, looked_up_as="973000004")))
    assert result.notes == ("Org no 973000004 is a sub-unit of 923456791 (FJORD BYGG AS): its facts are used.",)


def test_denmark_is_not_covered_and_the_ledger_still_counts() -> None:
    dk = registers_for("DK", today=lambda: TODAY).company.company("12345678")
    slow = replace(GOOD_PAYER, avg_days_late=Decimal("30"))
    facts = CreditFacts("C1", "12345678", "DK", dk, None, slow)
    result = evaluate(facts, default_thresholds(), TODAY)
    assert result.level is RiskLevel.WATCH and codes(result) == ["days_paid_after_due"]
    assert result.notes and result.notes[0].startswith("DK credit data is not covered")


def test_a_person_without_org_no_is_judged_on_the_ledger_alone() -> None:
    facts = CreditFacts("C1", None, "NO", None, None, GOOD_PAYER)
    result = evaluate(facts, default_thresholds(), TODAY)
    assert result.level is RiskLevel.LOW
    assert result.notes == ("No organisation number in the ledger: the public registers were not asked.",)


def test_the_accountants_thresholds_change_the_level_not_the_code(tmp_path: Path) -> None:
    mine = tmp_path / "credit.toml"
    mine.write_text('[loss]\nlevel = "off"\n\n[days_paid_after_due]\nwatch_above = 1\n')
    small_loss = accounts(replace(HEALTHY, annual_result=Decimal("-1000")))
    assert check(a=small_loss).level is RiskLevel.WATCH
    result = check(a=small_loss, thresholds=load_thresholds(mine))
    assert codes(result) == ["days_paid_after_due"]  # the loss is off; 1.5 days now counts


def test_the_same_facts_give_the_same_answer() -> None:
    weak = accounts(replace(HEALTHY, equity=Decimal("-1")))
    assert check(a=weak) == check(a=weak)
