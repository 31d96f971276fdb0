"""The advice report's HTML in a real browser (headless Chromium, the ``browser`` fixture): three clients
(NO, DK, SE) with a generated year each and the Peppol Directory faked. Checks what a reader sees —
charts drawn, nothing fetched, nothing wider than the window, numbers in each client's own format —
and saves a full-page screenshot under the test's tmp folder (``shots/advice.png``) to be looked at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from advice_ledger import COMPANIES, portfolio_scene
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser import shot
from tests.builders import Workspace
from tests.fakes.peppol import FakePeppolDirectory
from tests.fakes.registers import quick_http

SCHEMES = {"NO": "0192", "DK": "0184", "SE": "0007"}


@pytest.fixture
def directory(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePeppolDirectory]:
    fake = FakePeppolDirectory()
    for country, companies in COMPANIES.items():
        for n, (name, org) in enumerate(companies):
            if n % 2 == 1:  # the customers that get paper today (advice_ledger: even ones get Peppol)
                fake.add(f"{SCHEMES[country]}:{org}", name.upper(), country=country)
    with quick_http(monkeypatch), fake.running():
        yield fake


def text_of(element: object) -> str:
    return str(element.text).replace("\u00a0", " ")  # type: ignore[attr-defined]


def test_the_advice_report_reads_well_in_a_browser(
    ws: Workspace, directory: FakePeppolDirectory, browser: WebDriver, tmp_path: Path
) -> None:
    portfolio_scene(ws, enabled=True, peppol_directory_url=directory.url)
    result = ws.cli("report", "advice", "--to", "2026-01-31", "--format", "html")
    assert result.exit_code == 0, result.output
    page = tmp_path / "advice.html"
    page.write_text(result.stdout, encoding="utf-8")

    browser.get(page.as_uri())
    saved = shot(browser, tmp_path, "advice")
    assert saved.stat().st_size > 50_000

    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0  # nothing fetched
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= browser.execute_script("return window.innerWidth")  # no sideways scrolling

    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) >= 3 * 6 + 1  # six or seven per client, and the portfolio's DSO per client
    assert all(c.size["width"] > 100 and c.size["height"] > 20 for c in charts)
    lines = browser.find_elements(By.CSS_SELECTOR, "#client-acme [data-figure='dso'] polyline")
    assert lines and len(str(lines[0].get_attribute("points")).split()) == 12  # a point at each month's end

    cards = browser.find_elements(By.CSS_SELECTOR, ".card")
    assert all(c.find_element(By.CSS_SELECTOR, ".why").text.strip() for c in cards)  # each figure explained

    norwegian = text_of(browser.find_element(By.ID, "client-acme"))
    danish = text_of(browser.find_element(By.ID, "client-dansk"))
    swedish = text_of(browser.find_element(By.ID, "client-svensk"))
    assert re.search(r"\d{1,3}( \d{3})+ NOK", norwegian) and re.search(r"\d+,\d days", norwegian)
    assert re.search(r"\d{1,3}(\.\d{3})+ DKK", danish) and not re.search(r"\d \d{3} DKK", danish)
    assert re.search(r"\d{1,3}( \d{3})+ SEK", swedish) and "25-02" in swedish  # ISO-ordered months

    candidates = browser.find_element(By.CSS_SELECTOR, "#client-acme [data-figure='einvoice_candidates']")
    assert "Kyst Transport AS" in candidates.text and "934567897" in candidates.text
    assert "Fjord Bygg AS" not in candidates.text  # it gets Peppol invoices already
    assert browser.find_element(By.ID, "portfolio").is_displayed()
