"""The dated cache of register answers: asked once a day, an outage keeps the previous answer and says so."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from connector.credit.facts import (
    CVR,
    ENHETSREGISTERET,
    REGNSKAPSREGISTERET,
    AccountsFacts,
    AnswerStatus,
    CompanyFacts,
    RegisterAnswer,
)
from connector.registry.credit_lookup import cached_lookup
from connector.store import Store, migrations, schema
from connector.store.credit import load_answer

ORG = "923456791"
MON, TUE = date(2026, 2, 2), date(2026, 2, 3)
BEFORE_CREDIT = migrations.MIGRATIONS.index(migrations._v9_credit_facts)  # the schema version without the table
FACTS = CompanyFacts(
    ORG,
    name="FJORD BYGG AS",
    organisation_form="AS",
    founded_on=date(2019, 4, 30),
    bankrupt=True,
    bankrupt_on=date(2026, 1, 12),
    forced_dissolution_dates=("tvangsopplostPgaManglendeRevisorDato 2025-09-01",),
    employees=7,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'arsync.db'}")
    yield s
    s.close()


class Register:
    """A register answering from a script, counting how often it was asked."""

    def __init__(self, *answers: RegisterAnswer[CompanyFacts]):
        self.answers = list(answers)
        self.asked = 0

    def __call__(self) -> RegisterAnswer[CompanyFacts]:
        self.asked += 1
        return self.answers.pop(0)


def found(on: date, facts: CompanyFacts = FACTS) -> RegisterAnswer[CompanyFacts]:
    return RegisterAnswer(ENHETSREGISTERET, ORG, AnswerStatus.FOUND, on, facts)


def down(on: date) -> RegisterAnswer[CompanyFacts]:
    return RegisterAnswer(ENHETSREGISTERET, ORG, AnswerStatus.UNAVAILABLE, on, None, "server error 503")


def lookup(
    store: Store, today: date, fetch: Callable[[], RegisterAnswer[CompanyFacts]]
) -> RegisterAnswer[CompanyFacts]:
    return cached_lookup(store, ENHETSREGISTERET, ORG, today, fetch, now=lambda: datetime(2026, 2, 2, 6, 0, tzinfo=UTC))


def test_the_register_is_asked_once_a_day_and_the_facts_come_back_whole(store: Store) -> None:
    register = Register(found(MON))
    first = lookup(store, MON, register)
    again = lookup(store, MON, register)
    assert register.asked == 1
    assert again == first and again.facts == FACTS and again.fetched_on == MON and not again.stale_reason


def test_the_next_day_asks_again(store: Store) -> None:
    register = Register(found(MON), found(TUE, CompanyFacts(ORG, name="FJORD BYGG AS")))
    lookup(store, MON, register)
    fresh = lookup(store, TUE, register)
    assert register.asked == 2 and fresh.fetched_on == TUE and fresh.facts is not None and not fresh.facts.bankrupt


def test_an_answer_from_after_a_backfill_day_counts_as_fresh(store: Store) -> None:
    register = Register(found(TUE))
    lookup(store, TUE, register)
    assert lookup(store, MON, register).fetched_on == TUE and register.asked == 1


def test_an_outage_keeps_the_previous_answer_and_says_so(store: Store) -> None:
    register = Register(found(MON), down(TUE), found(TUE))
    lookup(store, MON, register)
    kept = lookup(store, TUE, register)
    assert kept.status is AnswerStatus.FOUND and kept.facts == FACTS and kept.fetched_on == MON
    assert kept.stale_reason == (
        "Enhetsregisteret could not be reached on 2026-02-03 (server error 503); its answer of 2026-02-02 is used."
    )
    with store.connect() as conn:
        row = conn.execute(select(schema.credit_facts)).one()
    assert (row.failed_on, row.failure, row.answered_on) == (TUE, "server error 503", MON)
    # the outage was not an answer: the same day asks again, and a success clears the failure note
    recovered = lookup(store, TUE, register)
    assert register.asked == 3 and recovered.fetched_on == TUE and not recovered.stale_reason
    with store.connect() as conn:
        assert conn.execute(select(schema.credit_facts.c.failed_on)).scalar_one() is None


def test_an_outage_with_nothing_known_is_the_answer_and_nothing_is_stored(store: Store) -> None:
    register = Register(down(MON), found(MON))
    answer = lookup(store, MON, register)
    assert answer.status is AnswerStatus.UNAVAILABLE and answer.detail == "server error 503"
    with store.connect() as conn:
        assert load_answer(conn, ENHETSREGISTERET, ORG) is None
    assert lookup(store, MON, register).status is AnswerStatus.FOUND and register.asked == 2


def test_no_accounts_filed_is_an_answer_and_is_cached(store: Store) -> None:
    none_filed: RegisterAnswer[AccountsFacts] = RegisterAnswer(
        REGNSKAPSREGISTERET, ORG, AnswerStatus.NOT_FOUND, MON, None, "no annual accounts filed"
    )
    asked: list[int] = []

    def fetch() -> RegisterAnswer[AccountsFacts]:
        asked.append(1)
        return none_filed

    for _ in range(2):
        answer = cached_lookup(store, REGNSKAPSREGISTERET, ORG, MON, fetch)
        assert answer.status is AnswerStatus.NOT_FOUND and answer.detail == "no annual accounts filed"
    assert len(asked) == 1


def test_accounts_figures_survive_the_cache_exactly(store: Store) -> None:
    facts = AccountsFacts(ORG, period_end=date(2024, 12, 31), equity=Decimal("-190000.50"), audit_opted_out=True)
    answer = RegisterAnswer(REGNSKAPSREGISTERET, ORG, AnswerStatus.FOUND, MON, facts)
    cached_lookup(store, REGNSKAPSREGISTERET, ORG, MON, lambda: answer)
    with store.connect() as conn:
        back = load_answer(conn, REGNSKAPSREGISTERET, ORG)
    assert back is not None and back.facts == facts and back.facts.equity == Decimal("-190000.50")


def test_one_company_whatever_the_org_no_spelling(store: Store) -> None:
    register = Register(found(MON))
    lookup(store, MON, register)
    again = cached_lookup(store, ENHETSREGISTERET, "NO 923 456 791 MVA", MON, register)
    assert register.asked == 1 and again.facts == FACTS


def test_not_covered_is_passed_through_and_not_stored(store: Store) -> None:
    answer = RegisterAnswer(CVR, "12345678", AnswerStatus.NOT_COVERED, MON, None, "DK credit data is not covered")
    assert cached_lookup(store, CVR, "12345678", MON, lambda: answer) is answer
    with store.connect() as conn:
        assert conn.execute(select(schema.credit_facts)).first() is None


def test_an_older_database_gains_the_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    Store(url).close()
    engine = create_engine(url)  # bring the file back to the version before: no credit_facts table
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE credit_facts"))
        conn.execute(schema.schema_version.update().values(version=BEFORE_CREDIT))
    engine.dispose()
    reopened = Store(url)
    with reopened.connect() as conn:
        assert inspect(conn).has_table("credit_facts")
        assert conn.execute(select(schema.schema_version.c.version)).scalar_one() == migrations.CURRENT
    reopened.close()
