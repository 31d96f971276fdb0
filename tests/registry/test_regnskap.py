"""Regnskapsregisteret: the latest accounts from spec-shaped answers; a 404 means none filed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
import responses

from connector.credit.facts import AnswerStatus
from connector.registry.regnskap import RegnskapsregisteretClient, parse_accounts
from tests.fakes.registers import quick_http

BASE = "https://data.brreg.no/regnskapsregisteret"
TODAY = date(2026, 2, 2)

# The shape of the service's own fixture (brreg/regnskapsregister-api,
# src/test/resources/regnskap/OrgnrResponseDefault.json): an array; values here are invented.
RECORDED = [
    {
        "id": 10,
        "journalnr": "2025123456",
        "regnskapstype": "SELSKAP",
        "virksomhet": {"organisasjonsnummer": "923456791", "organisasjonsform": "AS", "morselskap": False},
        "regnskapsperiode": {"fraDato": "2024-01-01", "tilDato": "2024-12-31"},
        "valuta": "NOK",
        "avviklingsregnskap": False,
        "oppstillingsplan": "store",
        "revisjon": {"ikkeRevidertAarsregnskap": True, "fravalgRevisjon": True},
        "regnkapsprinsipper": {"smaaForetak": True, "regnskapsregler": "regnskapslovenAlminneligRegler"},
        "egenkapitalGjeld": {
            "sumEgenkapitalGjeld": 1310000.00,
            "egenkapital": {
                "sumEgenkapital": -190000.50,
                "opptjentEgenkapital": {"sumOpptjentEgenkapital": -220000},
                "innskuttEgenkapital": {"sumInnskuttEgenkaptial": 30000},
            },
            "gjeldOversikt": {
                "sumGjeld": 1500000,
                "kortsiktigGjeld": {"sumKortsiktigGjeld": 1200000},
                "langsiktigGjeld": {"sumLangsiktigGjeld": 300000},
            },
        },
        "eiendeler": {
            "sumEiendeler": 1310000,
            "omloepsmidler": {"sumOmloepsmidler": 780000},
            "anleggsmidler": {"sumAnleggsmidler": 530000},
        },
        "resultatregnskapResultat": {
            "ordinaertResultatFoerSkattekostnad": -260000,
            "aarsresultat": -250000,
            "totalresultat": -250000,
            "finansresultat": {"nettoFinans": -12000},
            "driftsresultat": {"driftsresultat": -248000, "driftsinntekter": {"sumDriftsinntekter": 4100000}},
        },
    }
]


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    with quick_http(monkeypatch), responses.RequestsMock() as mock:
        yield mock


def client() -> RegnskapsregisteretClient:
    return RegnskapsregisteretClient(BASE, today=lambda: TODAY)


def test_the_latest_accounts_figures_are_read_exactly(api: responses.RequestsMock) -> None:
    api.get(f"{BASE}/regnskap/923456791", json=RECORDED)
    answer = client().latest_accounts("923456791")
    assert answer.status is AnswerStatus.FOUND and answer.fetched_on == TODAY
    a = answer.facts
    assert a is not None
    assert (a.period_start, a.period_end, a.currency) == (date(2024, 1, 1), date(2024, 12, 31), "NOK")
    assert a.equity == Decimal("-190000.50") and isinstance(a.equity, Decimal)
    assert (a.annual_result, a.result_before_tax) == (Decimal("-250000"), Decimal("-260000"))
    assert (a.current_assets, a.current_liabilities) == (Decimal("780000"), Decimal("1200000"))
    assert a.current_ratio == Decimal("0.65")
    assert (a.auditor_report_missing, a.audit_opted_out, a.liquidation_accounts) == (True, True, False)
    assert api.calls[0].request.headers["Accept"] == "application/json"


def test_404_means_no_accounts_filed_not_an_error(api: responses.RequestsMock) -> None:
    api.get(f"{BASE}/regnskap/912345678", status=404, body=b"")
    answer = client().latest_accounts("912345678")
    assert answer.status is AnswerStatus.NOT_FOUND and answer.answered
    assert answer.detail == "no annual accounts filed" and len(api.calls) == 1  # a definite answer: no retry


def test_server_error_is_unavailable(api: responses.RequestsMock) -> None:
    error = {"status": "500", "error": "Internal Server Error", "message": "Internal Server Error"}
    api.get(f"{BASE}/regnskap/923456791", status=500, json=error)
    answer = client().latest_accounts("923456791")
    assert answer.status is AnswerStatus.UNAVAILABLE and answer.facts is None and not answer.answered


def test_the_newest_company_period_wins_over_group_and_older_accounts() -> None:
    older = {**RECORDED[0], "regnskapsperiode": {"fraDato": "2023-01-01", "tilDato": "2023-12-31"}}
    group = {
        **RECORDED[0],
        "regnskapstype": "KONSERN",
        "regnskapsperiode": {"fraDato": "2025-01-01", "tilDato": "2025-12-31"},
    }
    facts = parse_accounts("923456791", [older, group, RECORDED[0]])
    assert facts is not None and facts.period_end == date(2024, 12, 31) and facts.accounts_type == "SELSKAP"


def test_missing_sections_are_unknown_not_zero() -> None:
    """A holding company files without some lines; the parser never invents a 0."""
    body = [{"regnskapstype": "SELSKAP", "regnskapsperiode": {"tilDato": "2024-12-31"}, "egenkapitalGjeld": {}}]
    facts = parse_accounts("923456791", body)
    assert facts is not None and facts.equity is None and facts.current_ratio is None
    assert facts.auditor_report_missing is None


def test_an_empty_answer_holds_no_accounts() -> None:
    assert parse_accounts("923456791", []) is None
    assert parse_accounts("923456791", "not accounts") is None
