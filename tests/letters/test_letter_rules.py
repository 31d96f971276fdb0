"""The pay-by date from the rule packs, number formats per language, and what a letter refuses to be."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from connector.dunning.deadlines import pay_by_date
from connector.dunning.rules import COUNTRIES, RulePackError, rules_for
from connector.formats import amount, day
from connector.letters import Charge, ChargeKind, LetterKind, Money, PaymentReceived
from tests.letters.letter_samples import letter, m

TUESDAY = date(2026, 3, 10)


def test_pay_by_is_the_legal_minimum_from_sending() -> None:
    assert pay_by_date("NO", TUESDAY) == date(2026, 3, 24)  # NO: at least 14 days
    assert pay_by_date("DK", TUESDAY) == date(2026, 3, 20)  # DK: at least 10 days
    assert pay_by_date("SE", TUESDAY) == date(2026, 3, 18)  # SE: the pack's 8 days ⚠


def test_pay_by_takes_the_policy_days_when_longer_never_shorter() -> None:
    assert pay_by_date("NO", TUESDAY, policy_days=21) == date(2026, 3, 31)
    assert pay_by_date("NO", TUESDAY, policy_days=7) == date(2026, 3, 24)
    assert pay_by_date("SE", TUESDAY, notice=True, policy_days=3) == date(2026, 3, 18)
    with pytest.raises(ValueError):
        pay_by_date("NO", TUESDAY, policy_days=-1)


def test_pay_by_on_a_weekend_or_holiday_moves_to_the_next_business_day() -> None:
    assert pay_by_date("NO", date(2026, 3, 14)) == date(2026, 3, 30)  # +14 is Saturday 28.03
    # +14 is Maundy Thursday 02.04.2026; Good Friday and Easter Monday are holidays in NO and DK too
    assert pay_by_date("NO", date(2026, 3, 19)) == date(2026, 4, 7)
    assert pay_by_date("DK", date(2026, 3, 23)) == date(2026, 4, 7)


def test_pay_by_before_any_rule_pack_is_refused() -> None:
    with pytest.raises(RulePackError):
        pay_by_date("NO", date(2020, 1, 1))


@pytest.mark.parametrize("country", COUNTRIES)
def test_every_pack_has_a_letter_deadline_and_the_legal_bases_a_letter_cites(country: str) -> None:
    for pack in rules_for(country).packs:
        assert pack.letter_min_deadline_days > 0
        for key in ("reminder_fee", "late_interest", "compensation", "collection_notice"):
            assert pack.cites(key), f"{country} {pack.valid_from}: no legal basis for {key}"


def test_amounts_and_dates_as_each_language_writes_them() -> None:
    nbsp = "\u00a0"
    assert amount(Decimal("1234.5"), "nb") == f"1{nbsp}234,50"
    assert amount(Decimal("1234.5"), "da") == "1.234,50"
    assert amount(Decimal("1234.5"), "sv") == f"1{nbsp}234,50"
    assert amount(Decimal("-1234567.005"), "da") == "\u22121.234.567,01"  # half up, minus sign
    assert amount(Decimal("0.4"), "nb") == "0,40"
    assert amount(Decimal("999"), "nb") == "999,00"
    assert day(TUESDAY, "nb") == day(TUESDAY, "da") == "10.03.2026"
    assert day(TUESDAY, "sv") == "2026-03-10"


def test_money_refuses_floats_and_mixed_currencies() -> None:
    with pytest.raises(TypeError):
        Money(12.5, "NOK")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Money(Decimal("1"), "nok")
    with pytest.raises(ValueError):
        Money(Decimal("1"), "NOK") + Money(Decimal("1"), "SEK")


def test_a_letter_in_one_currency_only() -> None:
    with pytest.raises(ValueError, match="one letter per currency"):
        letter(LetterKind.REMINDER, charges=(Charge(ChargeKind.REMINDER_FEE, Money(Decimal("60"), "SEK"), "x"),))


@pytest.mark.parametrize("kind", [LetterKind.REMINDER, LetterKind.COLLECTION_NOTICE, LetterKind.FOLLOW_UP])
def test_a_demand_needs_a_pay_by_date_after_sending_a_next_step_and_payment_details(kind: LetterKind) -> None:
    with pytest.raises(ValueError, match="pay-by date"):
        letter(kind, pay_by=None)
    with pytest.raises(ValueError, match="not after the sending date"):
        letter(kind, pay_by=date(2026, 3, 10))
    with pytest.raises(ValueError, match="next step"):
        letter(kind, next_step=None)
    with pytest.raises(ValueError, match="how to pay"):
        letter(kind, payment=None)


def test_kind_specific_content_is_required() -> None:
    with pytest.raises(ValueError, match="notice_basis"):
        letter(LetterKind.COLLECTION_NOTICE, notice_basis="")
    with pytest.raises(ValueError, match="handover"):
        letter(LetterKind.COLLECTION_CASE, handover=None)
    with pytest.raises(ValueError, match="first promised date"):
        letter(LetterKind.FOLLOW_UP, pay_by=date(2026, 3, 27))
    with pytest.raises(ValueError, match="no legal basis"):
        letter(LetterKind.REMINDER, charges=(Charge(ChargeKind.REMINDER_FEE, m("35.00"), " "),))
    with pytest.raises(ValueError, match="no invoice lines"):
        letter(LetterKind.STATEMENT, invoices=())


def test_payments_beyond_the_invoice_amount_are_refused() -> None:
    base = letter(LetterKind.REMINDER).invoices[1]
    overpaid = replace(base, payments=(PaymentReceived(date(2026, 2, 20), m("3000.00")),))
    with pytest.raises(ValueError, match="exceed its amount"):
        letter(LetterKind.REMINDER, invoices=(overpaid,))
