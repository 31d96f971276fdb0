"""The workbench in a real browser: headless Chromium (Debian's chromium + chromium-driver) driven by
Selenium, against uvicorn serving the app on 127.0.0.1. Each test saves a screenshot of every page it
visits under its tmp folder (``shots/``), to be looked at.

Skips, with the reason, only where chromium or chromedriver cannot be found.
"""

from __future__ import annotations

import base64
import csv
import io
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait
from workbench_builders import CASE, NOON, PASSWORD

from connector.model import CaseStatus
from connector.store.cases import find_case
from connector.web.app import create_app
from tests.builders import Workspace

CHROME_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,900",
)


def _chromium() -> tuple[str, str]:
    binary = next((p for n in ("chromium", "chromium-browser") if (p := shutil.which(n))), None)
    driver = shutil.which("chromedriver") or next(
        (p for p in ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver") if os.access(p, os.X_OK)), None
    )
    if binary is None or driver is None:
        missing = " and ".join(n for n, p in (("chromium", binary), ("chromedriver", driver)) if p is None)
        pytest.skip(f"browser tests need {missing} (Debian: apt-get install chromium chromium-driver); not found")
    return binary, driver


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    binary, driver_path = _chromium()
    options = Options()
    options.binary_location = binary
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")  # a fresh profile each test
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def served(scene: Workspace) -> Iterator[str]:
    """uvicorn serving the workbench over the scene's store, in a thread, on a free loopback port."""
    app = create_app(scene.settings(), scene.store, clock=lambda: NOON)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


def shot(driver: WebDriver, tmp_path: Path, name: str) -> Path:
    """A screenshot of the whole page, beyond the 1280 x 900 window (Chromium's DevTools capture)."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": max(1280, size["width"]), "height": min(size["height"], 6000), "scale": 1}
    png = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    folder = tmp_path / "shots"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.png"
    path.write_bytes(base64.b64decode(png["data"]))
    return path


def click(driver: WebDriver, by: str, selector: str) -> None:
    """Click what leads to another page, and wait until that page has replaced this one."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(by, selector).click()
    WebDriverWait(driver, 15).until(staleness_of(old))


def log_in(driver: WebDriver, base: str, name: str) -> None:
    driver.get(f"{base}/")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    click(driver, By.CSS_SELECTOR, "form[action='/login'] button[type=submit]")
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith("Today")


def heading(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "h1").text)


def nb_number(value: Decimal) -> str:
    """How a Norwegian reader writes an amount: 12 345,50 (space-grouped, decimal comma)."""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",")


def visible_text(element: object) -> str:
    return str(element.text).replace("\u00a0", " ")  # type: ignore[attr-defined]


def test_log_in_and_every_page_shows_what_the_store_holds(
    browser: WebDriver, served: str, scene: Workspace, tmp_path: Path
) -> None:
    browser.get(f"{served}/")
    assert "/login" in browser.current_url
    shot(browser, tmp_path, "login")
    log_in(browser, served, "kari")

    # Today: the failed client first, flagged with its error; the proposed cases with their buttons
    first = browser.find_element(By.CSS_SELECTOR, "table.clients tbody tr")
    assert "Gamma AS" in first.text and "FAILED" in first.text and "folder not found" in first.text
    cases = browser.find_element(By.CSS_SELECTOR, "table.cases").text
    assert (
        "acme-1001" in cases
        and "beta-2001" in cases
        and "1 000,00 NOK" in visible_text(browser.find_element(By.CSS_SELECTOR, "table.cases"))
    )
    shot(browser, tmp_path, "today")

    # a client's open items from the stored decisions, with the evidence behind each
    click(browser, By.LINK_TEXT, "Acme AS")
    assert heading(browser).startswith("Acme AS")
    items = browser.find_element(By.CSS_SELECTOR, "table.items")
    assert "1002" in items.text and "reminder" in items.text and "Fjord Handel AS" in items.text
    browser.find_element(By.CSS_SELECTOR, "table.items details summary").click()  # opens in place
    shot(browser, tmp_path, "client")

    # the aging report: its totals are those of `arsync report aging`
    click(browser, By.LINK_TEXT, "Aging report")
    browser.find_element(By.ID, "as_of").send_keys(CASE.strftime("%m%d%Y"))  # the date input, typed as a person would
    click(browser, By.CSS_SELECTOR, "form.as-of button")
    assert f"as_of={CASE.isoformat()}" in browser.current_url
    cli = scene.cli("report", "aging", "--format", "csv", "--as-of", CASE.isoformat())
    assert cli.exit_code == 0, cli.output
    totals: dict[str, Decimal] = {}
    for row in csv.DictReader(io.StringIO(cli.stdout)):
        totals[row["client"]] = totals.get(row["client"], Decimal(0)) + Decimal(row["total"])
    assert set(totals) == {"acme", "beta"}  # gamma's ledger never synced: nothing to age
    table = browser.find_element(By.CSS_SELECTOR, "table.aging")
    shown = {}
    for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr"):
        client_id = tr.find_element(By.CSS_SELECTOR, "th .id").text
        total = tr.find_elements(By.CSS_SELECTOR, "td.total")
        shown[client_id] = visible_text(total[0]) if total else tr.text
    assert {c: v for c, v in shown.items() if c != "gamma"} == {c: nb_number(t) for c, t in totals.items()}
    assert "FAILED" in shown["gamma"] and "NO DATA" in shown["gamma"]  # a failed client never looks clean
    overall = visible_text(table.find_element(By.CSS_SELECTOR, "tfoot td.total"))
    assert overall == nb_number(sum(totals.values(), Decimal(0)))
    assert len(table.find_elements(By.CSS_SELECTOR, "svg.bar rect")) >= 2
    shot(browser, tmp_path, "aging")

    click(browser, By.LINK_TEXT, "Acme AS")
    assert "Fjord Handel AS" in browser.find_element(By.CSS_SELECTOR, "table.aging").text
    shot(browser, tmp_path, "aging_client")
    csv_link = browser.find_element(By.PARTIAL_LINK_TEXT, "Download as CSV").get_attribute("href")
    cookie = browser.get_cookie("arsync_session")
    assert cookie is not None and cookie["httpOnly"] and cookie.get("sameSite") == "Lax"
    download = requests.get(str(csv_link), cookies={"arsync_session": cookie["value"]}, timeout=10)
    acme_cli = scene.cli("report", "aging", "--format", "csv", "--client", "acme", "--as-of", CASE.isoformat())
    assert download.status_code == 200 and download.text == acme_cli.stdout

    click(browser, By.LINK_TEXT, "Fjord Handel AS")
    drill = browser.find_element(By.CSS_SELECTOR, "table.items")
    assert "1002" in drill.text and "12 345,50 NOK" in visible_text(drill) and "1–30 days" in drill.text
    shot(browser, tmp_path, "aging_customer")

    click(browser, By.LINK_TEXT, "Activity")
    assert "login" in browser.find_element(By.CSS_SELECTOR, "table.activity").text
    shot(browser, tmp_path, "activity")


def test_approve_a_case_and_see_it_approved_with_its_undo_window(
    browser: WebDriver, served: str, scene: Workspace, tmp_path: Path
) -> None:
    log_in(browser, served, "kari")
    click(browser, By.CSS_SELECTOR, "button[aria-label='Approve case acme-1001']")
    status = browser.find_element(By.CSS_SELECTOR, "p.flash.ok[role=status]").text
    assert "Case acme-1001 approved" in status and "undo until then" in status
    window = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=h-undo] table").text
    assert "acme-1001" in window and "APPROVED" in window
    proposed = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=h-cases]").text
    assert "acme-1001" not in proposed and "beta-2001" in proposed
    case = scene.store.read(find_case, "acme-1001")
    assert case is not None and case.status is CaseStatus.APPROVED
    assert case.events[-1].push_after is not None and case.events[-1].push_after > NOON
    shot(browser, tmp_path, "approved")

    click(browser, By.CSS_SELECTOR, "button[aria-label='Undo the approval of case acme-1001']")
    assert "awaits approval again" in browser.find_element(By.CSS_SELECTOR, "p.flash.ok").text
    assert "acme-1001" in browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=h-cases]").text
    assert scene.store.read(find_case, "acme-1001").status is CaseStatus.PROPOSED  # type: ignore[union-attr]
    shot(browser, tmp_path, "undone")


def test_a_viewer_has_no_approve_button_and_a_forged_approval_is_refused(
    browser: WebDriver, served: str, scene: Workspace, tmp_path: Path
) -> None:
    log_in(browser, served, "vera")
    assert "acme-1001" in browser.find_element(By.CSS_SELECTOR, "table.cases").text
    assert browser.find_elements(By.CSS_SELECTOR, "form[action='/cases/approve']") == []
    shot(browser, tmp_path, "today_viewer")
    # the viewer writes the form herself, with her own valid session token
    old = browser.find_element(By.TAG_NAME, "html")
    browser.execute_script(
        """
        const token = document.querySelector("input[name=csrf_token]").value;
        const form = document.createElement("form");
        form.method = "post"; form.action = "/cases/approve";
        for (const [k, v] of [["csrf_token", token], ["case_id", "acme-1001"]]) {
          const input = document.createElement("input"); input.type = "hidden"; input.name = k; input.value = v;
          form.appendChild(input);
        }
        document.body.appendChild(form); form.submit();
        """
    )
    WebDriverWait(browser, 15).until(staleness_of(old))
    assert heading(browser) == "Not allowed"
    assert "Only an approver" in browser.find_element(By.TAG_NAME, "main").text
    assert scene.store.read(find_case, "acme-1001").status is CaseStatus.PROPOSED  # type: ignore[union-attr]
    shot(browser, tmp_path, "forbidden_viewer")


def test_a_user_limited_to_acme_gets_403_on_beta(browser: WebDriver, served: str, tmp_path: Path) -> None:
    log_in(browser, served, "anna")
    assert "Beta AS" not in browser.find_element(By.TAG_NAME, "main").text
    browser.get(f"{served}/clients/beta")
    assert heading(browser) == "Not allowed"
    shot(browser, tmp_path, "forbidden_client")
    cookie = browser.get_cookie("arsync_session")
    assert cookie is not None
    jar = {"arsync_session": cookie["value"]}
    for path in ("/clients/beta", "/reports/aging/beta", "/reports/aging.csv?client=beta"):
        assert requests.get(f"{served}{path}", cookies=jar, timeout=10).status_code == 403, path
    assert requests.get(f"{served}/clients/acme", cookies=jar, timeout=10).status_code == 200


def test_a_form_without_its_csrf_token_is_refused(
    browser: WebDriver, served: str, scene: Workspace, tmp_path: Path
) -> None:
    log_in(browser, served, "kari")
    browser.execute_script(
        "document.querySelectorAll(\"form[action='/cases/approve'] input[name=csrf_token]\").forEach(e => e.remove());"
    )
    click(browser, By.CSS_SELECTOR, "button[aria-label='Approve case acme-1001']")
    assert heading(browser) == "Not allowed"
    assert "did not come from this workbench" in browser.find_element(By.TAG_NAME, "main").text
    assert scene.store.read(find_case, "acme-1001").status is CaseStatus.PROPOSED  # type: ignore[union-attr]
    shot(browser, tmp_path, "forbidden_csrf")
