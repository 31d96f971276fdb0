"""``arsync report advice`` through the CLI: the same figures as table, CSV and HTML; the Peppol Directory
asked (once a day, through the cache) only with ``[clients.registry] enabled``; the period checked."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from advice_ledger import small_ledger, tripletex_client, write_config, write_facts

from tests.builders import Workspace
from tests.fakes.peppol import FakePeppolDirectory
from tests.fakes.registers import quick_http

HALF_YEAR = ("--from", "2025-07-01", "--to", "2025-12-31")


@pytest.fixture
def directory(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePeppolDirectory]:
    fake = FakePeppolDirectory()
    fake.add("0192:945678909", "HAVN AS")  # Havn gets paper today
    with quick_http(monkeypatch), fake.running():
        yield fake


def scene(ws: Workspace, directory: FakePeppolDirectory | None) -> None:
    registry = {"enabled": True, "peppol_directory_url": directory.url} if directory else {}
    write_config(ws, tripletex_client("acme", "Acme AS", "NO", "NOK", registry=registry))
    write_facts(ws.store, small_ledger())


def advice(ws: Workspace, fmt: str, *extra: str) -> str:
    result = ws.cli("report", "advice", *HALF_YEAR, "--format", fmt, *extra)
    assert result.exit_code == 0, result.output
    return result.stdout


def rows(text: str, client: str = "acme") -> dict[tuple[str, str], list[str]]:
    found = csv.DictReader(io.StringIO(text))
    return {(r["figure"], r["key"]): [r["value"], r["unit"], r["currency"]] for r in found if r["client"] == client}


def test_csv_holds_every_figure_as_a_plain_number(ws: Workspace, directory: FakePeppolDirectory) -> None:
    scene(ws, directory)
    found = rows(advice(ws, "csv"))
    assert found[("invoiced", "")] == ["56000.00", "amount", "NOK"]
    assert found[("dso", "2025-12-31")] == ["229.1", "days", ""]
    assert found[("dso_trend", "2025-08-31")] == ["45.0", "days", ""]
    assert found[("payment_terms", "14 days")] == ["4", "count", ""]
    assert found[("delivery_to_invoice", "average")] == ["13.7", "days", ""]
    assert found[("einvoice_share", "")] == ["0.1429", "share", ""]
    assert found[("einvoice_candidates", "C4 Havn AS")] == ["3000.00", "amount", "NOK"]
    assert found[("paid_after_first_reminder", "")] == ["0.5000", "share", ""]
    assert found[("disputes", "average days to resolve")] == ["10.0", "days", ""]
    assert found[("inkasso", "recovered")] == ["5000.00", "amount", "NOK"]
    assert found[("riskiest_customers", "C2 Kyst AS")] == ["watch", "level", ""]
    portfolio = rows(advice(ws, "csv"), "portfolio")
    assert portfolio[("dso", "2025-12-31")] == ["229.1", "days", "NOK"]


def test_the_directory_is_asked_once_a_day_for_customers_without_e_invoices(
    ws: Workspace, directory: FakePeppolDirectory
) -> None:
    scene(ws, directory)
    advice(ws, "table")
    # Kyst and Havn got no e-invoice; Fjord did (a Peppol envelope), Ola is a person
    assert sorted(directory.requests) == [
        "/search/1.0/json?participant=iso6523-actorid-upis::0192:934567897",
        "/search/1.0/json?participant=iso6523-actorid-upis::0192:945678909",
    ]
    table = advice(ws, "table")
    assert len(directory.requests) == 2  # today's answers come from the cache
    assert re.search(r"can receive EHF, got none\s+Havn AS", table)


def test_an_outage_of_the_directory_says_so_and_the_report_goes_on(
    ws: Workspace, directory: FakePeppolDirectory
) -> None:
    scene(ws, directory)
    directory.fail(503, times=100)
    html = advice(ws, "html")
    assert "Peppol Directory: asked; 2 could not be looked up." in html  # Kyst and Havn
    assert len(directory.requests) == 6  # each tried three times (the retry policy), the report still made


def test_without_registry_nothing_is_asked(ws: Workspace, directory: FakePeppolDirectory) -> None:
    scene(ws, None)
    table = advice(ws, "table")
    assert directory.requests == []
    assert "not looked up ([clients.registry] enabled = false)" in table
    assert re.search(r"DSO\s+229\.1 days \(\+229\.1 over the period\)", table)


def test_one_case_and_one_client_are_counted_in_the_singular(ws: Workspace) -> None:
    scene(ws, None)  # one client; one case handed to inkasso in the half year
    assert re.search(r"inkasso\s+1 case, 20000\.00 NOK; recovered 5000\.00 NOK\n", advice(ws, "table"))
    assert ">1 case; " in advice(ws, "html")
    assert {r[1] for r in csv.reader(io.StringIO(advice(ws, "csv"))) if r[0] == "portfolio"} == {"1 client"}


def test_the_html_is_self_contained_and_explains_every_figure(ws: Workspace, directory: FakePeppolDirectory) -> None:
    scene(ws, directory)
    html = advice(ws, "html")
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html and "<link" not in html
    for figure in (
        "dso",
        "delivery_to_invoice",
        "payment_terms",
        "einvoice_share",
        "einvoice_candidates",
        "paid_after_first_reminder",
        "disputes",
        "inkasso",
        "riskiest_customers",
    ):
        assert f'data-figure="{figure}"' in html
    assert "229,1\u00a0days" in html and "56\u00a0000\u00a0NOK" in html  # bokmål for a Norwegian client


def test_as_of_a_day_the_year_up_to_that_day_is_advised_on(ws: Workspace) -> None:
    scene(ws, None)
    as_of = ws.cli("report", "advice", "--as-of", "2025-12-31", "--format", "csv")
    assert as_of.exit_code == 0, as_of.output
    # the default period is the year up to --as-of, as it is up to today without it
    year = ws.cli("report", "advice", "--from", "2025-01-01", "--to", "2025-12-31", "--format", "csv")
    assert year.exit_code == 0 and as_of.stdout == year.stdout
    assert rows(as_of.stdout)[("dso", "2025-12-31")] == ["229.1", "days", ""]
    today = ws.cli("report", "advice", "--format", "csv")
    assert today.exit_code == 0 and ("dso", "2025-12-31") not in rows(today.stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-01-01", "--to", "2025-12-31"], "--from 2026-01-01 is after --to 2025-12-31"),
        (["--from", "01.01.2026"], "'01.01.2026' is not a date (YYYY-MM-DD)"),
        (["--client", "nobody"], "no client with id 'nobody'"),
    ],
)
def test_bad_options_exit_2(ws: Workspace, args: list[str], message: str) -> None:
    scene(ws, None)
    result = ws.cli("report", "advice", *args)
    assert result.exit_code == 2 and message in result.output
