"""A credit check end to end: real HTTP to local fakes of both registers, the dated cache, the evaluation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from connector.credit.facts import AnswerStatus, CreditFacts, LedgerHistory
from connector.credit.risk import RiskAssessment, RiskLevel, evaluate
from connector.credit.thresholds import default_thresholds
from connector.registry.credit_lookup import RegisterFacts, lookup_register_facts
from connector.registry.registers import registers_for
from connector.store import Store
from tests.fakes.registers import FakeRegisters, accounts, deleted_unit, quick_http, sub_unit, unit

SOUND, BANKRUPT, BRANCH, DELETED, REMOVED, SHELL, UNKNOWN = (
    "923456791",
    "934567897",
    "973000004",
    "945678909",
    "956789012",
    "967890123",
    "989012347",
)
MON, TUE = date(2026, 2, 2), date(2026, 2, 3)
PAYS_OK = LedgerHistory("C1", date(2024, 2, 2), 8, 8, Decimal("2.0"), 5, 2, 0, 0, 0)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRegisters]:
    registers = FakeRegisters()
    registers.units[SOUND] = unit(SOUND, "FJORD BYGG AS")
    registers.sub_units[BRANCH] = sub_unit(BRANCH, "FJORD BYGG AS AVD BERGEN", SOUND)
    registers.sub_units["973000012"] = sub_unit("973000012", "FJORD BYGG AS AVD TROMSØ", SOUND, employees=None)
    registers.accounts[SOUND] = [accounts(SOUND)]
    registers.units[BANKRUPT] = unit(BANKRUPT, "KYST KONKURS AS", konkurs=True, konkursdato="2026-01-12")
    registers.accounts[BANKRUPT] = [accounts(BANKRUPT, equity=-350_000, result=-900_000)]
    registers.units[DELETED] = deleted_unit(DELETED, "GAMLE DAGER AS", "2025-11-30")
    registers.removed[REMOVED] = "2019-01-31"
    # an AS founded years ago that has filed no accounts (the register's 404)
    registers.units[SHELL] = unit(SHELL, "STILLE AS", stiftelsesdato="2018-06-01", sisteInnsendteAarsregnskap=None)
    with quick_http(monkeypatch), registers.running():
        yield registers


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'arsync.db'}")
    yield s
    s.close()


def check(fake: FakeRegisters, store: Store, org: str, today: date) -> tuple[RegisterFacts, RiskAssessment]:
    registers = registers_for(
        "NO",
        enhetsregisteret_url=fake.enhetsregisteret_url,
        regnskapsregisteret_url=fake.regnskapsregisteret_url,
        today=lambda: today,
    )
    found = lookup_register_facts(store, registers, org, today)
    facts = CreditFacts("C1", org, "NO", found.company, found.accounts, PAYS_OK)
    return found, evaluate(facts, default_thresholds(), today)


def test_a_sound_company_is_low_and_is_not_asked_twice_a_day(fake: FakeRegisters, store: Store) -> None:
    found, result = check(fake, store, SOUND, MON)
    assert result.level is RiskLevel.LOW and result.reasons == ()
    assert found.company.facts is not None and found.company.facts.sub_units == 2
    assert found.accounts is not None and found.accounts.facts is not None
    assert found.accounts.facts.current_ratio == Decimal("2.00")
    asked = len(fake.requests)
    assert asked == 3  # the unit, its sub-unit count, its accounts
    again, same = check(fake, store, SOUND, MON)
    assert len(fake.requests) == asked and same == result and again == found
    check(fake, store, SOUND, TUE)
    assert len(fake.requests) == asked + 3  # a new day asks again


def test_a_bankrupt_company_with_negative_equity_is_high(fake: FakeRegisters, store: Store) -> None:
    _, result = check(fake, store, BANKRUPT, MON)
    assert result.level is RiskLevel.HIGH
    assert [r.code for r in result.reasons] == ["bankrupt", "negative_equity", "loss"]
    assert result.reasons[0].text == "Bankrupt (konkurs) since 2026-01-12."
    assert result.reasons[1].as_of == MON and result.reasons[1].source == "regnskapsregisteret"


def test_a_sub_unit_number_is_checked_as_its_main_unit(fake: FakeRegisters, store: Store) -> None:
    found, result = check(fake, store, BRANCH, MON)
    assert found.company.facts is not None and found.company.facts.org_no == SOUND
    assert fake.asked(f"/regnskap/{SOUND}") == 1 and fake.asked(f"/regnskap/{BRANCH}") == 0
    assert result.level is RiskLevel.LOW
    assert result.notes == (f"Org no {BRANCH} is a sub-unit of {SOUND} (FJORD BYGG AS): its facts are used.",)


@pytest.mark.parametrize(("org", "expected"), [(DELETED, "on 2025-11-30"), (REMOVED, "removed from")])
def test_deleted_companies_are_high_and_their_accounts_not_asked(
    fake: FakeRegisters, store: Store, org: str, expected: str
) -> None:
    found, result = check(fake, store, org, MON)
    assert result.level is RiskLevel.HIGH and [r.code for r in result.reasons] == ["deleted"]
    assert expected in result.reasons[0].text
    assert found.accounts is None and fake.asked("/regnskap/") == 0


def test_no_accounts_filed_is_an_answer(fake: FakeRegisters, store: Store) -> None:
    found, result = check(fake, store, SHELL, MON)
    assert found.accounts is not None and found.accounts.status is AnswerStatus.NOT_FOUND
    assert [r.code for r in result.reasons] == ["no_accounts_filed"] and result.level is RiskLevel.WATCH
    check(fake, store, SHELL, MON)
    assert fake.asked(f"/regnskap/{SHELL}") == 1  # "none filed" is cached like any answer


def test_an_unknown_org_no_is_watch(fake: FakeRegisters, store: Store) -> None:
    found, result = check(fake, store, UNKNOWN, MON)
    assert found.company.status is AnswerStatus.NOT_FOUND and found.accounts is None
    assert [r.code for r in result.reasons] == ["not_found"] and result.level is RiskLevel.WATCH


def test_an_outage_keeps_yesterdays_answer_and_says_so(fake: FakeRegisters, store: Store) -> None:
    check(fake, store, BANKRUPT, MON)
    fake.fail(f"/enheter/{BANKRUPT}", 503, times=3)  # every attempt of the retry policy
    found, tuesday = check(fake, store, BANKRUPT, TUE)
    assert found.company.fetched_on == MON and found.company.status is AnswerStatus.FOUND
    assert tuesday.level is RiskLevel.HIGH and tuesday.reasons[0].code == "bankrupt"
    assert tuesday.reasons[0].as_of == MON and tuesday.reasons[1].as_of == TUE  # accounts were fresh
    assert len(tuesday.notes) == 1 and tuesday.notes[0].startswith(
        "Enhetsregisteret could not be reached on 2026-02-03"
    )
    assert tuesday.notes[0].endswith("its answer of 2026-02-02 is used.")


def test_an_outage_with_nothing_known_is_watch(fake: FakeRegisters, store: Store) -> None:
    fake.fail(f"/enheter/{SOUND}", 500, times=3)
    found, result = check(fake, store, SOUND, MON)
    assert found.company.status is AnswerStatus.UNAVAILABLE
    assert result.level is RiskLevel.WATCH and result.reasons[0].code == "register_unavailable"
    assert found.accounts is not None and found.accounts.status is AnswerStatus.FOUND


def test_retry_after_then_the_answer(fake: FakeRegisters, store: Store) -> None:
    fake.fail(f"/enheter/{SOUND}", 429, retry_after="1")
    found, result = check(fake, store, SOUND, MON)
    assert found.company.status is AnswerStatus.FOUND and result.level is RiskLevel.LOW
    assert fake.asked(f"/enheter/{SOUND}") == 2
