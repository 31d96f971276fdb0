"""The workbench in a real browser: headless Chromium (Debian's chromium + chromium-driver) driven by
Selenium (the ``browser`` fixture, tests/conftest.py), against uvicorn serving the app on 127.0.0.1. Each
test saves a screenshot of every page it visits under its tmp folder (``shots/``), to be looked at.

Skips, with the reason, only where chromium or chromedriver cannot be found.
"""

from __future__ import annotations

import csv
import io
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import uvicorn
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait
from workbench_builders import CALL_DAY, CALL_NOON, CASE, KUNDE, KUNDE_PHONE, NOON, PASSWORD, night

from connector import pipeline
from connector.model import CaseStatus
from connector.store import Store, audit
from connector.store.cases import find_case
from connector.store.facts import load_facts
from connector.web.app import create_app
from tests.browser import shot
from tests.builders import Workspace, pdf_text


class Clock:
    """The workbench's clock, moved by the test (never by sleeping): it starts at NOON of the run's day."""

    def __init__(self, at: datetime = NOON) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock()


@contextmanager
def serving(ws: Workspace, clock: Clock) -> Iterator[str]:
    """uvicorn serving the workbench over ``ws``'s store, in a thread, on a free loopback port."""
    app = create_app(ws.settings(), ws.store, clock=clock)
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


@pytest.fixture
def served(scene: Workspace, clock: Clock) -> Iterator[str]:
    """The workbench over the scene, at NOON of the run's day."""
    with serving(scene, clock) as base:
        yield base


@pytest.fixture
def served_calls(call_scene: Workspace) -> Iterator[str]:
    """The workbench over the call scene, at noon of CALL_DAY."""
    with serving(call_scene, Clock(CALL_NOON)) as base:
        yield base


def click(driver: WebDriver, by: str, selector: str) -> None:
    """Click what leads to another page, and wait until that page has replaced this one."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(by, selector).click()
    # While the page is replaced, chromedriver may answer about the old element with another error than "stale"
    # ("Node with given id does not belong to the document"): asked again until it says stale.
    WebDriverWait(driver, 15, ignored_exceptions=(WebDriverException,)).until(staleness_of(old))
    # the new page's document may still be parsing (a loaded machine): its elements are there once it is complete
    WebDriverWait(driver, 15, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


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


def fits(driver: WebDriver) -> bool:
    """Nothing scrolls sideways at 1280 px: neither the page nor any table in its scrolling box."""
    return bool(
        driver.execute_script(
            "return document.documentElement.scrollWidth <= 1280 && "
            "[...document.querySelectorAll('.wrap')].every(w => w.scrollWidth <= w.clientWidth)"
        )
    )


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

    # a client's open items, decided afresh: last night's reminder went out, so 1002 now waits
    click(browser, By.LINK_TEXT, "Acme AS")
    assert heading(browser).startswith("Acme AS")
    items = browser.find_element(By.CSS_SELECTOR, "table.items")
    assert "1002" in items.text and "wait_interval" in items.text and "Fjord Handel AS" in items.text
    shot(browser, tmp_path, "client")

    # the invoice leads to its customer's page, where the evidence is told in prose (explain's text)
    click(browser, By.CSS_SELECTOR, "table.items a[aria-label^='Invoice 1002']")
    assert heading(browser).startswith("Fjord Handel AS")
    assert browser.current_url.endswith("#invoice-1002")
    prose = browser.find_element(By.CSS_SELECTOR, "#invoice-1002 pre.explain").text
    assert prose.startswith("Invoice 1002 to Fjord Handel AS (987654325) — client acme (Acme AS)")
    assert "Letters and steps taken:" in prose and "reminder" in prose
    shot(browser, tmp_path, "customer")
    browser.back()

    # the aging report: its totals are those of `arsync report aging`
    click(browser, By.LINK_TEXT, "Aging report")
    browser.find_element(By.ID, "as_of").send_keys(CASE.strftime("%m%d%Y"))  # the date input, typed as a person would
    click(browser, By.CSS_SELECTOR, "form.as-of button")
    assert f"as_of={CASE.isoformat()}" in browser.current_url
    cli = scene.cli("report", "aging", "--format", "csv", "--as-of", CASE.isoformat())
    assert cli.exit_code == 0, cli.output
    totals: dict[str, Decimal] = {}
    no_data = {}
    for row in csv.DictReader(io.StringIO(cli.stdout)):
        if row["data"] != "ok":  # a client that could not be read: a row of its own, amounts empty
            no_data[row["client"]] = row
            continue
        totals[row["client"]] = totals.get(row["client"], Decimal(0)) + Decimal(row["total"])
    assert set(totals) == {"acme", "beta"}  # gamma's ledger never synced: nothing to age
    assert set(no_data) == {"gamma"} and no_data["gamma"]["total"] == ""
    assert no_data["gamma"]["data"].startswith("NO DATA — ledger sync failed: ")
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
    assert fits(browser)  # twelve columns and the bars, at 1280 px, with a failed client's long error

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
    browser.get(f"{served}/clients/acme/customers/987654325")
    assert "Invoice 1002" in browser.find_element(By.ID, "invoice-1002").text  # she reads the evidence
    assert browser.find_elements(By.CSS_SELECTOR, "main form") == []  # and has nothing to submit
    shot(browser, tmp_path, "customer_viewer")
    browser.get(f"{served}/")
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
    for path in (
        "/clients/beta",
        "/clients/beta/customers/912345674",
        "/reports/aging/beta",
        "/reports/aging.csv?client=beta",
    ):
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


def test_open_a_dispute_and_see_the_invoice_held(
    browser: WebDriver, served: str, scene: Workspace, tmp_path: Path
) -> None:
    log_in(browser, served, "kari")
    browser.get(f"{served}/clients/acme/customers/987654325")
    block = browser.find_element(By.ID, "invoice-1002")
    assert "overdue" in block.text and "disputed" not in block.text
    block.find_element(By.CSS_SELECTOR, "details.record summary").click()
    shot(browser, tmp_path, "customer_record_forms")
    reason = block.find_element(By.CSS_SELECTOR, "form[action='/disputes/open'] input[name=reason]")
    reason.send_keys("the pipes delivered were the wrong size")
    click(browser, By.CSS_SELECTOR, "button[aria-label='Open a dispute on invoice 1002']")

    assert "Dispute manual-" in browser.find_element(By.CSS_SELECTOR, "p.flash.ok[role=status]").text
    assert browser.current_url.endswith("#invoice-1002")  # back at the invoice
    block = browser.find_element(By.ID, "invoice-1002")
    facts = block.find_element(By.CSS_SELECTOR, "dl.facts").text
    assert "disputed" in facts and "hold" in facts  # state disputed, action hold, hold code disputed
    prose = block.find_element(By.CSS_SELECTOR, "pre.explain").text
    assert "Decision as of 2026-07-27: disputed → hold." in prose and "the pipes delivered were the wrong size" in prose
    listed = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=h-disputes]").text
    assert "1002" in listed and "0 days" in listed
    shot(browser, tmp_path, "customer_disputed")

    click(browser, By.LINK_TEXT, "Today")
    queued = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=h-disputes]").text
    assert "1002" in queued and "Fjord Handel AS" in queued and "0 days" in queued
    assert "1 dispute open" in browser.find_element(By.CSS_SELECTOR, "nav.queue").text
    shot(browser, tmp_path, "today_dispute")
    [dispute] = scene.store.read(load_facts, "acme").disputes
    assert dispute.invoice_number == "1002" and dispute.is_open

    # resolve it where it is listed: the hold lifts
    browser.get(f"{served}/clients/acme")
    browser.find_element(By.ID, f"resolve-{dispute.dispute_id}").send_keys("credit note 5002 sent")  # required
    click(browser, By.CSS_SELECTOR, "button[aria-label='Resolve the dispute on invoice 1002']")
    assert "resolved: dunning of the invoice resumes" in browser.find_element(By.CSS_SELECTOR, "p.flash.ok").text
    assert browser.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=h-disputes]") == []
    actions = [e.action for e in scene.store.read(audit.entries) if e.actor == "kari"]
    assert actions[:2] == ["dispute.resolve", "dispute.open"]


def test_approve_with_an_undo_window_and_see_it_pushed_after_it(
    browser: WebDriver, served: str, scene: Workspace, clock: Clock, tmp_path: Path
) -> None:
    log_in(browser, served, "kari")
    click(browser, By.CSS_SELECTOR, "button[aria-label='Approve case acme-1001']")
    assert "undo until then" in browser.find_element(By.CSS_SELECTOR, "p.flash.ok").text

    def push_at(when: datetime) -> list[str]:
        """`arsync cases push` at ``when``: the store stamps and reads the window with the same moved clock."""
        clock.at = when
        store = Store(scene.settings().store.url, clock=clock)
        try:
            [report] = list(pipeline.push_clients(store, [scene.client("acme")], CASE))
        finally:
            store.close()
        return list(report.warnings)

    waits = push_at(NOON + timedelta(minutes=5))
    assert waits and "push waits (stays approved)" in waits[0]
    browser.refresh()
    assert "acme-1001" in browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=h-undo]").text
    assert scene.outbox_files(scene.cases_dir("acme")) == []
    shot(browser, tmp_path, "today_undo_window")

    assert push_at(NOON + timedelta(minutes=11)) == []  # the window (10 minutes) and the settle minute passed
    browser.refresh()
    assert browser.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=h-undo]") == []
    click(browser, By.LINK_TEXT, "Acme AS")
    cases = browser.find_element(By.CSS_SELECTOR, "table.cases").text
    assert "acme-1001" in cases and "PUSHED" in cases
    assert scene.outbox_files(scene.cases_dir("acme")) != []
    assert browser.find_elements(By.CSS_SELECTOR, "button[aria-label='Undo the approval of case acme-1001']") == []
    shot(browser, tmp_path, "client_pushed")


def test_keyboard_reaches_the_content_and_shows_where_it_is(browser: WebDriver, served: str, tmp_path: Path) -> None:
    log_in(browser, served, "kari")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    skip = browser.switch_to.active_element
    assert skip.text == "Skip to content" and skip.is_displayed()
    outline = browser.execute_script("return getComputedStyle(arguments[0]).outlineStyle", skip)
    assert outline == "solid"  # the focus ring is drawn
    shot(browser, tmp_path, "focus_skip_link")
    skip.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "main"
    # the page fits the 1280 px window: nothing scrolls sideways
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 1280
    browser.get(f"{served}/clients/acme/customers/934567897")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 1280


def test_quarantine_a_file_and_see_its_hold_lift(
    browser: WebDriver, served: str, troubled: Workspace, tmp_path: Path
) -> None:
    log_in(browser, served, "kari")
    assert "2 files to decide" in browser.find_element(By.CSS_SELECTOR, "nav.queue").text
    files = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=h-files]")
    assert "5001-credit.xml" in files.text and "UNREADABLE" in files.text and "holds invoice(s) 1002" in files.text
    assert "b-2001.xml" in files.text and "CONFLICTING" in files.text
    assert fits(browser)
    shot(browser, tmp_path, "today_files")

    browser.get(f"{served}/clients/acme/customers/987654325")
    held = browser.find_element(By.CSS_SELECTOR, "#invoice-1002 dl.facts").text
    assert "unreadable_document" in held
    browser.get(f"{served}/")

    files = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=h-files]")
    files.find_element(By.CSS_SELECTOR, "form[action='/files/quarantine'] input[name=reason]").send_keys(
        "a draft the scanner made; the real credit note came by post"
    )
    click(browser, By.CSS_SELECTOR, "button[aria-label='Quarantine 5001-credit.xml']")
    status = browser.find_element(By.CSS_SELECTOR, "p.flash.ok[role=status]").text
    assert status.startswith("Quarantined ") and "5001-credit.xml for client acme: its holds lift" in status
    left = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=h-files]").text
    assert "5001-credit.xml" not in left and "b-2001.xml" in left  # only beta's conflict waits now
    shot(browser, tmp_path, "today_quarantined")

    # the invoice it held, decided afresh: the hold has lifted (the reminder interval still runs)
    browser.get(f"{served}/clients/acme/customers/987654325")
    block = browser.find_element(By.ID, "invoice-1002")
    assert "unreadable_document" not in block.find_element(By.CSS_SELECTOR, "dl.facts").text
    assert "unreadable_document" not in block.find_element(By.CSS_SELECTOR, "pre.explain").text
    shot(browser, tmp_path, "customer_hold_lifted")

    # the client's page keeps it, quarantined, with who and why, and a Release form
    click(browser, By.LINK_TEXT, "Acme AS")
    listed = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=h-files]").text
    assert "QUARANTINED" in listed and "quarantined by kari on 2026-07-27: a draft the scanner made" in listed
    assert browser.find_elements(By.CSS_SELECTOR, "button[aria-label='Release 5001-credit.xml']")
    assert fits(browser)
    shot(browser, tmp_path, "client_files")
    entries = [(e.actor, e.action) for e in troubled.store.read(audit.entries) if e.action.startswith("file.")]
    assert entries == [("kari", "file.quarantine")]


def test_log_a_call_with_a_promise_and_see_the_confirmation_letter(
    browser: WebDriver, served_calls: str, call_scene: Workspace, tmp_path: Path
) -> None:
    log_in(browser, served_calls, "kari")
    assert "1 call due" in browser.find_element(By.CSS_SELECTOR, "nav.queue").text
    due = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=h-calls]")
    assert "Kunde AS" in due.text and KUNDE_PHONE in due.text and "5 037,50 NOK" in visible_text(due)
    assert fits(browser)
    shot(browser, tmp_path, "today_calls")

    click(browser, By.CSS_SELECTOR, "section[aria-labelledby=h-calls] a[href*='/customers/']")
    assert heading(browser).startswith("Kunde AS") and browser.current_url.endswith("#h-call")
    card = browser.find_element(By.CSS_SELECTOR, ".call-card").text
    assert KUNDE_PHONE in card and "Kari Kunde" in card and "collection_notice" in card
    assert fits(browser)
    shot(browser, tmp_path, "customer_call_due")

    form = browser.find_element(By.CSS_SELECTOR, "form[action='/calls/log']")
    form.find_element(By.CSS_SELECTOR, "input[name=outcome][value=promise]").click()
    promised = CALL_DAY + timedelta(days=10)
    form.find_element(By.ID, "call-promise").send_keys(promised.strftime("%m%d%Y"))  # typed as a person would
    form.find_element(By.ID, "call-notes").send_keys("pays when the big order is in")
    click(browser, By.CSS_SELECTOR, "form[action='/calls/log'] button[type=submit]")
    said = browser.find_element(By.CSS_SELECTOR, "p.flash.ok[role=status]").text
    assert "to Kunde AS (934567897) logged: promise" in said and "the written follow-up goes out tonight" in said
    assert browser.current_url.endswith("#h-call")
    calls = browser.find_element(By.CSS_SELECTOR, "table.calls-logged").text
    assert "promise" in calls and "pays on 15.02.2026; pays when the big order is in" in calls and "kari" in calls
    held = browser.find_element(By.CSS_SELECTOR, "#invoice-7001 dl.facts").text
    assert "agreement" in held  # decided afresh: the promise holds the invoice
    shot(browser, tmp_path, "customer_call_logged")

    night(call_scene, CALL_DAY)  # tonight's run writes the written confirmation
    browser.refresh()
    letters = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=h-letters]")
    rows = {r.find_element(By.CSS_SELECTOR, "td").text: r for r in letters.find_elements(By.CSS_SELECTOR, "tbody tr")}
    assert set(rows) == {"reminder", "follow up"}
    assert "WRITTEN" in rows["follow up"].text and "outbox" in rows["follow up"].text
    assert fits(browser)
    shot(browser, tmp_path, "customer_letters")
    link = rows["follow up"].find_element(By.CSS_SELECTOR, "a[aria-label$='as PDF']").get_attribute("href")
    cookie = browser.get_cookie("arsync_session")
    assert cookie is not None
    pdf = requests.get(str(link), cookies={"arsync_session": cookie["value"]}, timeout=30)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    # the plan is for what is owed: the invoices and the reminder fee their letter charged
    assert "Bekreftelse av betalingsavtale" in text and "Å betale i alt 5 037,50" in text and "15.02.2026" in text
    browser.get(str(link))  # and the browser shows it with its own PDF viewer
    assert browser.execute_script("return document.contentType") == "application/pdf"
    browser.back()
    statement = browser.find_element(By.PARTIAL_LINK_TEXT, "Statement of account").get_attribute("href")
    assert statement is not None and statement.endswith(f"/clients/acme/statements/{KUNDE}")
    assert requests.get(statement, cookies={"arsync_session": cookie["value"]}, timeout=30).content.startswith(b"%PDF")

    click(browser, By.LINK_TEXT, "Today")
    assert browser.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=h-calls]") == []  # nobody left to call
