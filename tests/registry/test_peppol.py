"""The Peppol Directory adapter against a local fake shaped like the directory's documented answers:
who can receive e-invoices, what "not there" means, outages, and the dated cache."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from connector.credit.facts import AnswerStatus
from connector.registry.credit_lookup import cached_lookup
from connector.registry.peppol import PeppolDirectoryClient, participant_id
from connector.store import Store
from tests.fakes.peppol import ORDER_ONLY, FakePeppolDirectory
from tests.fakes.registers import quick_http

MON, TUE = date(2026, 2, 2), date(2026, 2, 3)
PID = "0192:923456791"


@pytest.fixture
def directory(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePeppolDirectory]:
    fake = FakePeppolDirectory()
    fake.add("0192:923456791", "FJORD BYGG AS")
    fake.add("0192:934567897", "ORDRE AS", doc_types=(ORDER_ONLY,))
    fake.add("0184:12345678", "Havn ApS", country="DK")
    with quick_http(monkeypatch), fake.running():
        yield fake


def client(fake: FakePeppolDirectory, today: date = MON) -> PeppolDirectoryClient:
    return PeppolDirectoryClient(fake.url, today=lambda: today)


@pytest.mark.parametrize(
    ("org", "country", "expected"),
    [
        ("NO 923 456 791 MVA", "NO", "0192:923456791"),
        ("12345678", "DK", "0184:12345678"),
        ("556036-0793", "SE", "0007:5560360793"),
        ("92345679", "NO", None),  # eight digits are not a Norwegian org no
        ("923456791", "FI", None),
    ],
)
def test_participant_ids_follow_the_country_scheme(org: str, country: str, expected: str | None) -> None:
    assert participant_id(org, country) == expected


def test_a_registered_invoice_receiver_is_found(directory: FakePeppolDirectory) -> None:
    answer = client(directory).receiver("923456791", "NO")
    assert answer.status is AnswerStatus.FOUND and answer.facts is not None
    assert answer.facts.invoices and answer.facts.name == "FJORD BYGG AS"
    assert directory.requests == ["/search/1.0/json?participant=iso6523-actorid-upis::0192:923456791"]


def test_a_participant_registered_for_orders_only_cannot_receive_invoices(directory: FakePeppolDirectory) -> None:
    answer = client(directory).receiver("934567897", "NO")
    assert answer.status is AnswerStatus.FOUND and answer.facts is not None
    assert not answer.facts.invoices and answer.facts.document_types == (ORDER_ONLY,)


def test_no_business_card_is_an_answer(directory: FakePeppolDirectory) -> None:
    answer = client(directory).receiver("945678909", "NO")
    assert answer.status is AnswerStatus.NOT_FOUND and answer.detail == "not in the Peppol Directory"


def test_no_business_card_answered_with_an_empty_body_is_an_answer(directory: FakePeppolDirectory) -> None:
    directory.empty_when_none = True  # the docs page: "HTTP status code 200 with an empty result body"
    answer = client(directory).receiver("945678909", "NO")
    assert answer.status is AnswerStatus.NOT_FOUND and answer.detail == "not in the Peppol Directory"


def test_a_name_given_in_several_languages_reads_the_first(directory: FakePeppolDirectory) -> None:
    directory.add("0192:956789015", "NORDLYS AS", language="no")
    card = directory.cards["0192:956789015"]
    card["entities"][0]["name"].append({"name": "NORTHERN LIGHTS LTD", "language": "en"})
    answer = client(directory).receiver("956789015", "NO")
    assert answer.facts is not None and answer.facts.name == "NORDLYS AS" and answer.facts.country == "NO"


def test_a_danish_cvr_is_looked_up_under_0184(directory: FakePeppolDirectory) -> None:
    answer = client(directory).receiver("DK12345678", "DK")
    assert answer.status is AnswerStatus.FOUND and answer.facts is not None and answer.facts.country == "DK"


def test_a_number_of_the_wrong_shape_is_not_sent(directory: FakePeppolDirectory) -> None:
    answer = client(directory).receiver("1234", "NO")
    assert answer.status is AnswerStatus.NOT_COVERED and directory.requests == []


def test_rate_limited_then_answered(directory: FakePeppolDirectory) -> None:
    directory.fail(429)
    answer = client(directory).receiver("923456791", "NO")
    assert answer.status is AnswerStatus.FOUND and len(directory.requests) == 2


def test_an_outage_keeps_yesterdays_answer_and_asks_once_a_day(directory: FakePeppolDirectory, tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    try:

        def ask(today: date) -> AnswerStatus:
            api = client(directory, today)
            answer = cached_lookup(store, api.register, PID, today, lambda: api.receiver("923456791", "NO"))
            assert answer.facts is not None and answer.facts.invoices
            return answer.status

        assert ask(MON) is AnswerStatus.FOUND
        assert ask(MON) is AnswerStatus.FOUND and len(directory.requests) == 1  # the cache, not the directory
        directory.fail(503, times=3)
        api = client(directory, TUE)
        stale = cached_lookup(store, api.register, PID, TUE, lambda: api.receiver("923456791", "NO"))
        assert stale.fetched_on == MON and "could not be reached on 2026-02-03" in stale.stale_reason
    finally:
        store.close()
