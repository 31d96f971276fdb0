"""Enhetsregisteret for credit checks: parsing spec-shaped answers, and every status the API gives."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import responses

from connector.config import RegistrySettings
from connector.credit.facts import AnswerStatus
from connector.registry.brreg import BrregClient
from connector.registry.enhetsregisteret import EnhetsregisteretClient, parse_unit
from tests.fakes.registers import quick_http

BASE = "https://data.brreg.no/enhetsregisteret/api"
TODAY = date(2026, 2, 2)

# The shape of a live answer (fields as in the public documentation's example and recorded answers;
# values invented). Fields that are not registered are absent, not null.
LIVE = {
    "organisasjonsnummer": "923456791",
    "navn": "FJORD BYGG AS",
    "organisasjonsform": {
        "kode": "AS",
        "beskrivelse": "Aksjeselskap",
        "_links": {"self": {"href": f"{BASE}/organisasjonsformer/AS"}},
    },
    "registreringsdatoEnhetsregisteret": "2019-05-06",
    "registrertIMvaregisteret": True,
    "naeringskode1": {"kode": "41.200", "beskrivelse": "Oppføring av bygninger"},
    "antallAnsatte": 7,
    "harRegistrertAntallAnsatte": True,
    "stiftelsesdato": "2019-04-30",
    "registrertIForetaksregisteret": True,
    "registrertIStiftelsesregisteret": False,
    "registrertIFrivillighetsregisteret": False,
    "sisteInnsendteAarsregnskap": "2024",
    "konkurs": True,
    "konkursdato": "2026-01-12",
    "underAvvikling": False,
    "underTvangsavviklingEllerTvangsopplosning": False,
    "maalform": "Bokmål",
    "respons_klasse": "Enhet",
    "_links": {"self": {"href": f"{BASE}/enheter/923456791"}},
}


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    with quick_http(monkeypatch) as recorded:
        yield recorded


@pytest.fixture
def api(waits: list[float]) -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def client() -> EnhetsregisteretClient:
    return EnhetsregisteretClient(BASE, today=lambda: TODAY)


def no_sub_units(api: responses.RequestsMock, parent: str) -> None:
    api.get(
        f"{BASE}/underenheter",
        match=[responses.matchers.query_param_matcher({"overordnetEnhet": parent, "size": "1"})],
        json={"_links": {}, "page": {"size": 1, "totalElements": 0, "totalPages": 0, "number": 0}},
    )


def test_every_credit_fact_is_read_from_a_live_answer() -> None:
    facts = parse_unit("923456791", LIVE)
    assert facts.name == "FJORD BYGG AS" and facts.organisation_form == "AS"
    assert (facts.registered_on, facts.founded_on) == (date(2019, 5, 6), date(2019, 4, 30))
    assert (facts.vat_registered, facts.business_registered) == (True, True)
    assert (facts.employees, facts.has_registered_employees) == (7, True)
    assert facts.last_accounts_year == 2024
    assert (facts.bankrupt, facts.bankrupt_on) == (True, date(2026, 1, 12))
    assert not facts.under_liquidation and not facts.forced_dissolution and facts.deleted_on is None


def test_absent_fields_are_unknown_not_false() -> None:
    """A sole proprietor without employees: the register leaves the fields out."""
    body = {"organisasjonsnummer": "912345678", "navn": "OLA HANSEN", "organisasjonsform": {"kode": "ENK"}}
    facts = parse_unit("912345678", body)
    assert facts.employees is None and facts.vat_registered is None and facts.founded_on is None
    assert facts.bankrupt is False and facts.age_from is None


def test_a_forced_dissolution_date_counts_even_without_the_flag() -> None:
    body = {**LIVE, "konkurs": False, "tvangsopplostPgaManglendeRevisorDato": "2025-09-01"}
    facts = parse_unit("923456791", body)
    assert facts.forced_dissolution and facts.forced_dissolution_dates == (
        "tvangsopplostPgaManglendeRevisorDato 2025-09-01",
    )


def test_found_company_with_its_sub_unit_count(api: responses.RequestsMock) -> None:
    api.get(f"{BASE}/enheter/923456791", json=LIVE)
    api.get(
        f"{BASE}/underenheter",
        json={
            "_embedded": {"underenheter": [{"organisasjonsnummer": "973000004", "overordnetEnhet": "923456791"}]},
            "page": {"size": 1, "totalElements": 3, "totalPages": 3, "number": 0},
        },
    )
    answer = client().company("NO 923 456 791 MVA")
    assert answer.status is AnswerStatus.FOUND and answer.fetched_on == TODAY and answer.org_no == "923456791"
    assert answer.facts is not None and answer.facts.bankrupt and answer.facts.sub_units == 3
    assert str(api.calls[0].request.headers["Accept"]).startswith(
        "application/vnd.brreg.enhetsregisteret.enhet.v2+json"
    )


def test_a_deleted_unit_answers_200_with_a_reduced_body(api: responses.RequestsMock) -> None:
    api.get(
        f"{BASE}/enheter/945678909",
        json={
            "respons_klasse": "SlettetEnhet",
            "organisasjonsnummer": "945678909",
            "navn": "GAMLE DAGER AS",
            "organisasjonsform": {"kode": "AS", "beskrivelse": "Aksjeselskap"},
            "slettedato": "2025-11-30",
        },
    )
    answer = client().company("945678909")
    assert answer.status is AnswerStatus.FOUND and answer.facts is not None
    assert answer.facts.deleted_on == date(2025, 11, 30) and answer.facts.name == "GAMLE DAGER AS"
    assert len(api.calls) == 1  # no sub-unit count for a deleted company


def test_410_is_removed_from_the_register_with_its_date(api: responses.RequestsMock) -> None:
    api.get(
        f"{BASE}/enheter/945678909", status=410, json={"organisasjonsnummer": "945678909", "slettedato": "2019-01-31"}
    )
    answer = client().company("945678909")
    assert answer.status is AnswerStatus.FOUND and answer.facts is not None
    assert answer.facts.removed and answer.facts.deleted_on == date(2019, 1, 31)


def test_a_sub_unit_number_gives_its_main_units_facts(api: responses.RequestsMock) -> None:
    api.get(f"{BASE}/enheter/973000004", status=404, body=b"")
    api.get(f"{BASE}/underenheter/973000004", json={"organisasjonsnummer": "973000004", "overordnetEnhet": "923456791"})
    api.get(f"{BASE}/enheter/923456791", json=LIVE)
    no_sub_units(api, "923456791")
    answer = client().company("973000004")
    assert answer.status is AnswerStatus.FOUND and answer.org_no == "973000004"
    assert answer.facts is not None and answer.facts.org_no == "923456791"
    assert answer.facts.looked_up_as == "973000004" and answer.facts.bankrupt


def test_unknown_as_unit_and_as_sub_unit_is_not_found(api: responses.RequestsMock) -> None:
    api.get(f"{BASE}/enheter/989012347", status=404, body=b"")
    api.get(f"{BASE}/underenheter/989012347", status=404, body=b"")
    answer = client().company("989012347")
    assert answer.status is AnswerStatus.NOT_FOUND and answer.facts is None and answer.answered


def test_not_an_org_no_is_not_asked(api: responses.RequestsMock) -> None:
    answer = client().company("12345")
    assert answer.status is AnswerStatus.NOT_FOUND and "not a Norwegian org no" in answer.detail
    assert len(api.calls) == 0


def test_retry_after_is_honoured_then_the_answer_is_read(api: responses.RequestsMock, waits: list[float]) -> None:
    api.get(f"{BASE}/enheter/923456791", status=503, headers={"Retry-After": "2"})
    api.get(f"{BASE}/enheter/923456791", json=LIVE)
    no_sub_units(api, "923456791")
    answer = client().company("923456791")
    assert answer.status is AnswerStatus.FOUND and waits == [2.0]


def test_an_outage_is_unavailable_never_a_guess(api: responses.RequestsMock) -> None:
    api.get(f"{BASE}/enheter/923456791", status=500, json={"status": 500, "error": "Internal Server Error"})
    answer = client().company("923456791")
    assert answer.status is AnswerStatus.UNAVAILABLE and answer.facts is None and not answer.answered
    assert "500" in answer.detail and len(api.calls) == 3  # the policy's attempts, then it gives up


def test_a_failing_sub_unit_count_does_not_make_the_company_unknown(api: responses.RequestsMock) -> None:
    api.get(f"{BASE}/enheter/923456791", json=LIVE)
    api.get(f"{BASE}/underenheter", status=500)
    answer = client().company("923456791")
    assert answer.status is AnswerStatus.FOUND and answer.facts is not None and answer.facts.sub_units is None


def test_an_html_page_instead_of_json_is_an_outage(api: responses.RequestsMock) -> None:
    api.get(f"{BASE}/enheter/923456791", body=b"<html>maintenance</html>", content_type="text/html")
    answer = client().company("923456791")
    assert answer.status is AnswerStatus.UNAVAILABLE and "HTML" in answer.detail


def test_a_sub_unit_whose_main_unit_is_unknown_is_not_followed_further(api: responses.RequestsMock) -> None:
    api.get(f"{BASE}/enheter/973000004", status=404, body=b"")
    api.get(f"{BASE}/underenheter/973000004", json={"organisasjonsnummer": "973000004", "overordnetEnhet": "911111111"})
    api.get(f"{BASE}/enheter/911111111", status=404, body=b"")
    answer = client().company("973000004")
    assert answer.status is AnswerStatus.NOT_FOUND and answer.detail == "sub-unit of 911111111: not in Enhetsregisteret"
    assert len(api.calls) == 3  # the main unit's number is not tried as a sub-unit again


# A deleted sub-unit answers 200 with a stub that names no main unit (respons_klasse
# "SlettetUnderEnhet", as several public clients record it); a removed one answers 410 ("Underenhet er
# fjernet", brreg/openAPI specs/enhetsregisteret.json). Either is a closed branch, not the company.
def test_a_deleted_sub_unit_is_not_found_not_the_company_deleted(api: responses.RequestsMock) -> None:
    api.get(f"{BASE}/enheter/973000004", status=404, body=b"")
    stub = {"respons_klasse": "SlettetUnderEnhet", "organisasjonsnummer": "973000004", "slettedato": "2025-06-30"}
    api.get(f"{BASE}/underenheter/973000004", json={**stub, "navn": "FJORD BYGG AS AVD BERGEN"})
    answer = client().company("973000004")
    assert answer.status is AnswerStatus.NOT_FOUND and answer.facts is None and answer.answered
    assert answer.detail is not None and "deleted from Enhetsregisteret on 2025-06-30" in answer.detail
    assert "org no should be the company's" in answer.detail


def test_a_removed_sub_unit_is_not_found_not_the_company_removed(api: responses.RequestsMock) -> None:
    api.get(f"{BASE}/enheter/973000004", status=404, body=b"")
    gone = {"organisasjonsnummer": "973000004", "slettedato": "2018-03-01"}
    api.get(f"{BASE}/underenheter/973000004", status=410, json=gone)
    answer = client().company("973000004")
    assert answer.status is AnswerStatus.NOT_FOUND and answer.facts is None
    assert answer.detail is not None and "removed from Enhetsregisteret on 2018-03-01" in answer.detail


def test_the_gate_and_the_credit_check_agree_on_a_deleted_sub_unit(api: responses.RequestsMock) -> None:
    stub = {"respons_klasse": "SlettetUnderEnhet", "organisasjonsnummer": "973000004", "slettedato": "2025-06-30"}
    for _ in range(2):
        api.get(f"{BASE}/enheter/973000004", status=404, body=b"")
        api.get(f"{BASE}/underenheter/973000004", json=stub)
    credit = client().company("973000004")
    gate = BrregClient(RegistrySettings(base_url=BASE)).lookup("973000004")
    assert credit.status is AnswerStatus.NOT_FOUND
    assert gate.ok and gate.status == "not_found" and not gate.insolvent
