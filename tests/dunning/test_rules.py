"""Rule packs, fees and late interest: dated data, the pack in force on the sending day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connector.dunning.fees import fee_for
from connector.dunning.interest import late_interest
from connector.dunning.rules import pack_on
from connector.model import Action, DunningStep


def test_fee_caps_by_country_and_year() -> None:
    assert pack_on("NO", date(2025, 6, 1)).reminder_fee_cap == Decimal("35.00")  # 1/20 of 700
    assert pack_on("NO", date(2026, 1, 1)).reminder_fee_cap == Decimal("37.50")  # 1/20 of 750 ⚠
    assert pack_on("DK", date(2026, 1, 1)).reminder_fee_cap == Decimal("100.00")
    se = pack_on("SE", date(2026, 1, 1))
    assert se.reminder_fee_cap == Decimal("60.00") and se.fee_requires_agreement


def _fee(step: Action, sent: date, previous: list[DunningStep] = (), country: str = "NO", cur: str = "NOK", **kw):  # type: ignore[assignment]
    return fee_for(
        step, True, country=country, currency=cur, due=date(2025, 12, 1), sent_on=sent, previous=list(previous), **kw
    )


def _step(on: date, fee: str) -> DunningStep:
    return DunningStep("c", "1", Action.REMINDER, on, "outbox", Decimal(fee), "NOK")


def test_no_fee_rules() -> None:
    assert _fee(Action.REMINDER, date(2025, 12, 14)).amount == 0  # 13 days after due
    assert _fee(Action.REMINDER, date(2025, 12, 15)).amount == Decimal("35.00")  # 14 days, 2025 pack
    assert _fee(Action.REMINDER, date(2026, 1, 2)).amount == Decimal("37.50")  # sending date decides the pack
    first = _step(date(2025, 12, 15), "35.00")
    assert _fee(Action.REMINDER, date(2025, 12, 20), [first]).amount == 0  # < 14 days since the first fee
    assert _fee(Action.COLLECTION_NOTICE, date(2025, 12, 29), [first]).amount == Decimal("35.00")
    second = _step(date(2025, 12, 29), "35.00")
    third = _fee(Action.REMINDER, date(2026, 2, 1), [first, second])
    assert third.amount == 0 and "allows 2" in third.reason
    assert _fee(Action.REMINDER, date(2026, 1, 2), cur="EUR").amount == 0  # never convert currencies


def test_dk_and_se_fee_rules() -> None:
    prev = [_step(date(2025, 12, 2), "100"), _step(date(2025, 12, 12), "100"), _step(date(2025, 12, 22), "100")]
    assert _fee(Action.REMINDER, date(2025, 12, 2), country="DK", cur="DKK").amount == Decimal("100.00")
    assert _fee(Action.REMINDER, date(2026, 1, 5), prev, country="DK", cur="DKK").amount == 0  # a fourth fee
    assert _fee(Action.REMINDER, date(2025, 12, 2), country="SE", cur="SEK").amount == 0  # not agreed
    assert _fee(Action.REMINDER, date(2025, 12, 2), country="SE", cur="SEK", fee_agreed=True).amount == Decimal("60.00")


def test_late_interest_per_half_year() -> None:
    # 2025-06-20 .. 2025-07-10: 10 days at 12.50 % + 10 days at 12.25 % on 10 000
    i = late_interest(Decimal("10000"), date(2025, 6, 20), date(2025, 7, 10), "NO", "NOK")
    expected = (Decimal(10000) * Decimal("12.50") / 100 * 10 / 365) + (
        Decimal(10000) * Decimal("12.25") / 100 * 10 / 365
    )
    assert i.amount == expected.quantize(Decimal("0.01"))
    assert "10 d at 12.50 %" in i.detail and "10 d at 12.25 %" in i.detail


def test_interest_is_never_guessed() -> None:
    i = late_interest(Decimal("10000"), date(2026, 6, 1), date(2026, 8, 1), "NO", "NOK")
    assert i.amount is None and "no published rate" in i.detail
    assert late_interest(Decimal("100"), date(2026, 1, 1), date(2026, 2, 1), "SE", "SEK").amount is None


def test_interest_rounds_half_an_ore_up() -> None:
    # 1.00 NOK for 73 days at 12.50 % is exactly 0.025: rounded up to 0.03, as on invoices, not to even (0.02)
    i = late_interest(Decimal("1.00"), date(2025, 1, 10), date(2025, 3, 24), "NO", "NOK")
    assert "73 d at 12.50 %" in i.detail
    assert i.amount == Decimal("0.03")


def test_a_fee_cap_from_a_fraction_is_never_rounded_up() -> None:
    from connector.dunning.rules import _cap

    cap, _why = _cap("NO", {"inkassosats": "750.10", "reminder_fee_fraction": "1/20"})  # exactly 37.505
    assert cap == Decimal("37.50")
