"""The call list, logged calls, letters sent and the statement of account in the workbench (through Starlette's
TestClient): the same lists as `arsync calls list` / `arsync letters list`, a call logged and a letter voided
through the command's service (``actions.calls``, ``actions.letter_service``) with the user, the time and the
address in the audit trail, PDFs served only to users who may see the client; a viewer logs and voids
nothing, a user limited to acme gets 403 on beta's letters, and the forms carry the CSRF token."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from workbench_builders import (
    CALL_DAY,
    CALL_NOON,
    CASE,
    KUNDE,
    KUNDE_PHONE,
    AppFactory,
    csrf_of,
    night,
)

from connector.actions import letter_service
from connector.store import audit
from connector.store.facts import load_facts
from tests.builders import Workspace, pdf_text

KUNDE_PAGE = f"/clients/acme/customers/{KUNDE}"
FJORD = "987654325"  # the main scene's acme customer with last night's reminder (invoice 1002)
FJORD_PAGE = f"/clients/acme/customers/{FJORD}"
FJORD_LETTER = "R-20260727-987654325"


def section(page: str, heading_id: str) -> str:
    found = page.split(f'id="{heading_id}"', 1)
    return html.unescape(found[1].split("</section>", 1)[0]) if len(found) == 2 else ""


def text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).replace("\u00a0", " ")


def flash(client: TestClient, page: str) -> str:
    found = re.findall(r'<p class="flash (?:ok|error)"[^>]*>(.*?)</p>', client.get(page).text, re.S)
    return html.unescape(" ".join(found))


def post(client: TestClient, action: str, page: str, **fields: str) -> Any:
    """A form as the page renders it: the session's CSRF token, the page to come back to, the fields."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf_token": token, "back": page, **fields})


def trail(ws: Workspace, prefix: str) -> list[tuple[str, str, str | None, str | None, str | None]]:
    return [
        (e.actor, e.action, e.client_id, e.subject, e.address)
        for e in ws.store.read(audit.entries)
        if e.action.startswith(prefix)
    ]


def calls_list(ws: Workspace) -> list[dict[str, Any]]:
    result = ws.cli("calls", "list", "--json", "--as-of", CALL_DAY.isoformat())
    assert result.exit_code == 0, result.output
    items: list[dict[str, Any]] = json.loads(result.stdout)["items"]
    return items


def letters_list(ws: Workspace, customer: str) -> dict[str, dict[str, Any]]:
    result = ws.cli("letters", "list", "--json", "--customer", customer)
    assert result.exit_code == 0, result.output
    return {v["letter"]: v for v in json.loads(result.stdout)["items"]}


# ---- calls -------------------------------------------------------------------------------------------


def test_today_and_the_client_page_list_the_calls_due_as_calls_list_does(
    call_app_for: AppFactory, call_scene: Workspace
) -> None:
    [entry] = calls_list(call_scene)
    assert (entry["customer"], entry["phone"], entry["owed"]) == (
        KUNDE, KUNDE_PHONE, [{"currency": "NOK", "amount": "5037.50", "invoices": "5000.00", "fees": "37.50"}],
    )  # fmt: skip
    kari = call_app_for("kari")
    today = kari.get("/").text
    assert "1</strong> call due" in today.split('class="queue"', 1)[1].split("</nav>", 1)[0]
    for page in (today, kari.get("/clients/acme").text):
        due = text_of(section(page, "h-calls"))
        assert "Kunde AS" in due and KUNDE_PHONE in due and "Kari Kunde" in due
        assert "5 037,50 NOK (incl. fees 37,50 NOK)" in due  # what the reminder asked for, its fee said
        assert "7001, 7002" in due and entry["next_step"] in due
    assert f'href="{KUNDE_PAGE}#h-call"' in today
    page = kari.get(KUNDE_PAGE).text
    assert '<h2 id="h-call">Call due</h2>' in page
    card = text_of(section(page, "h-call"))
    assert KUNDE_PHONE in card and "Kari Kunde" in card and entry["guidance"][0] in card
    assert "Owes 5 037,50 NOK (incl. fees 37,50 NOK)" in card
    assert "2 needed a reminder" in card


def test_today_names_a_letter_left_in_the_outbox_past_its_pay_by_date_until_it_is_posted(
    call_app_for: AppFactory, call_scene: Workspace
) -> None:
    [reminder] = [v for v in letters_list(call_scene, KUNDE).values() if v["kind"] == "reminder"]
    assert reminder["state"] == "written" and reminder["pay_by"] < CALL_DAY.isoformat()
    kari = call_app_for("kari")
    today = kari.get("/").text
    assert "1</strong> letter not posted" in today.split('class="queue"', 1)[1].split("</nav>", 1)[0]
    shown = text_of(section(today, "h-unposted"))
    assert reminder["letter"] in shown and "Kunde AS" in shown and "reminder" in shown
    assert "19.01.2026" in shown and "02.02.2026" in shown  # written, pay by
    assert f'href="{KUNDE_PAGE}#h-letters"' in today  # where it is voided

    posted = call_scene.reminders_dir() / "posted"
    posted.mkdir()
    pdf = call_scene.reminders_dir() / Path(reminder["file"]).name
    pdf.rename(posted / pdf.name)
    assert section(kari.get("/").text, "h-unposted") == ""


def test_a_promise_logged_holds_the_invoices_takes_them_off_the_list_and_is_confirmed_by_the_next_run(
    call_app_for: AppFactory, call_scene: Workspace
) -> None:
    kari = call_app_for("kari")
    promised = CALL_DAY + timedelta(days=10)
    response = post(
        kari, "/calls/log", KUNDE_PAGE, client_id="acme", customer=KUNDE, outcome="promise",
        promise_date=promised.isoformat(), notes="pays when the big order is in", reason="ignored: not a dispute",
    )  # fmt: skip
    assert response.status_code == 303 and response.headers["location"] == KUNDE_PAGE
    said = flash(kari, KUNDE_PAGE)
    assert re.search(r"Call call-\w+ to Kunde AS \(934567897\) logged: promise\.", said)
    assert "5037.50 NOK by 2026-02-15 (5000.00 + fees 37.50); the written follow-up goes out tonight." in said
    [call] = call_scene.store.read(load_facts, "acme").calls
    assert (call.outcome, call.promise_date, call.by, call.notes, call.reason) == (
        "promise", promised, "kari", "pays when the big order is in", "",
    )  # fmt: skip
    assert trail(call_scene, "call.") == [("kari", "call.log", "acme", KUNDE, "testclient")]
    assert {e.at for e in call_scene.store.read(audit.entries) if e.action == "call.log"} == {CALL_NOON}

    page = kari.get(KUNDE_PAGE).text
    logged = text_of(section(page, "h-call"))
    assert "promise" in logged and "pays on 15.02.2026; pays when the big order is in" in logged
    assert section(kari.get("/").text, "h-calls") == ""  # the call step is taken: nobody left to call
    assert calls_list(call_scene) == []

    night(call_scene, CALL_DAY)  # the night writes the confirmation
    letters = letters_list(call_scene, KUNDE)
    [follow_up] = [v for v in letters.values() if v["kind"] == "follow_up"]
    shown = text_of(section(kari.get(KUNDE_PAGE).text, "h-letters"))
    assert follow_up["letter"] in shown and "follow up" in shown and "WRITTEN" in shown
    pdf = kari.get(f"/clients/acme/letters/{follow_up['letter']}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    client = call_scene.client("acme")
    assert pdf.content == letter_service.letter_pdf(call_scene.store, client, follow_up["letter"])
    assert "Bekreftelse av betalingsavtale" in pdf_text(pdf.content) and "15.02.2026" in pdf_text(pdf.content)


def test_each_outcome_asks_for_what_it_needs_and_records_nothing_without_it(
    call_app_for: AppFactory, call_scene: Workspace
) -> None:
    kari = call_app_for("kari")
    base = {"client_id": "acme", "customer": KUNDE}
    for fields, says in (
        ({"outcome": "promise"}, "The day the debtor promised to pay is missing"),
        ({"outcome": "promise", "promise_date": "2026-02-01"}, "the promised day 2026-02-01 must be after 2026-02-05"),
        ({"outcome": "instalments", "instalments": "3", "every": "30"}, "The first instalment's day is missing"),
        (
            {"outcome": "instalments", "instalments": "3", "every": "30", "first": "2062-03-01"},
            "the first instalment 2062-03-01 is more than a year after 2026-02-05: check the year",
        ),
        ({"outcome": "dispute"}, "What the debtor disputes is missing"),
        ({"outcome": "call them back"}, "choose how the call ended"),
        ({"outcome": "no_answer", "customer": "nobody"}, "client 'acme' has no customer 'nobody'"),
    ):
        post(kari, "/calls/log", KUNDE_PAGE, **{**base, **fields})
        said = flash(kari, KUNDE_PAGE)
        assert f"Nothing was recorded: {says}" in said and " --" not in said, fields  # no command-line options
    assert call_scene.store.read(load_facts, "acme").calls == () and trail(call_scene, "call.") == []

    # a plan: the fields of the other outcomes are not passed on
    post(
        kari, "/calls/log", KUNDE_PAGE, **base, outcome="instalments", instalments="2", first="2026-02-16",
        every="14", promise_date="2026-02-20",
    )  # fmt: skip
    assert "2518.75 NOK by 2026-02-16, 2518.75 NOK by 2026-03-02" in flash(kari, KUNDE_PAGE)
    [call] = call_scene.store.read(load_facts, "acme").calls
    assert call.promise_date is None and [d.isoformat() for d in call.instalment_dates] == ["2026-02-16", "2026-03-02"]


def test_no_answer_puts_the_customer_back_on_the_list_later(call_app_for: AppFactory, call_scene: Workspace) -> None:
    kari = call_app_for("kari")
    post(kari, "/calls/log", KUNDE_PAGE, client_id="acme", customer=KUNDE, outcome="no_answer", notes="voicemail")
    assert "No answer (1 of 3): back on the call list from 2026-02-09." in flash(kari, KUNDE_PAGE)
    assert "no answer" in text_of(section(kari.get(KUNDE_PAGE).text, "h-call"))


# ---- letters and the statement -------------------------------------------------------------------------


def test_letters_sent_are_listed_with_their_pdf_and_the_statement_is_served(
    app_for: AppFactory, scene: Workspace
) -> None:
    kari = app_for("kari")
    letters = letters_list(scene, FJORD)
    assert list(letters) == [FJORD_LETTER] and letters[FJORD_LETTER]["state"] == "written"
    shown = text_of(section(kari.get(FJORD_PAGE).text, "h-letters"))
    assert FJORD_LETTER in shown and "reminder" in shown and "outbox" in shown and "WRITTEN" in shown
    assert "12 383,00 NOK" in shown and "10.08.2026" in shown  # the total with its fee, the pay-by day

    pdf = kari.get(f"/clients/acme/letters/{FJORD_LETTER}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == f'inline; filename="{FJORD_LETTER}.pdf"'
    assert pdf.content == (scene.reminders_dir() / letters[FJORD_LETTER]["file"].rsplit("/", 1)[1]).read_bytes()
    assert kari.get("/clients/acme/letters/R-nosuch.pdf").status_code == 404

    statement = kari.get(f"/clients/acme/statements/{FJORD}")
    assert statement.status_code == 200 and statement.headers["content-type"] == "application/pdf"
    assert "1002" in pdf_text(statement.content) and "12 345,50" in pdf_text(statement.content)
    made = scene.root / "statement.pdf"
    cli = scene.cli("statement", "acme", FJORD, "--format", "pdf", "--output", str(made), "--as-of", CASE.isoformat())
    assert cli.exit_code == 0, cli.output
    assert statement.content == made.read_bytes()  # the command's statement, byte for byte
    assert f'href="/clients/acme/statements/{FJORD}"' in kari.get(FJORD_PAGE).text
    assert kari.get("/clients/acme/statements/nobody").status_code == 404


def test_void_an_unposted_letter_and_not_a_posted_one(app_for: AppFactory, scene: Workspace) -> None:
    kari = app_for("kari")
    page = kari.get(FJORD_PAGE).text
    assert f'aria-label="Void letter {FJORD_LETTER}"' in page
    response = post(kari, "/letters/void", FJORD_PAGE, client_id="acme", letter_id=FJORD_LETTER, note="wrong address")
    assert response.status_code == 303 and response.headers["location"] == FJORD_PAGE
    said = flash(kari, FJORD_PAGE)
    assert f"Letter {FJORD_LETTER} voided: its files are in cancelled/" in said and "Invoice(s) 1002" in said
    listed = letters_list(scene, FJORD)[FJORD_LETTER]
    assert listed["state"] == "cancelled" and listed["cancelled"]["by"] == "kari"
    assert listed["cancelled"]["note"] == "wrong address" and "/cancelled/" in listed["file"]
    shown = text_of(section(kari.get(FJORD_PAGE).text, "h-letters"))
    assert "CANCELLED" in shown and "by kari: wrong address" in shown
    assert f'aria-label="Void letter {FJORD_LETTER}"' not in kari.get(FJORD_PAGE).text
    assert trail(scene, "letter.") == [("kari", "letter.cancel", "acme", FJORD_LETTER, "testclient")]
    assert kari.get(f"/clients/acme/letters/{FJORD_LETTER}.pdf").status_code == 200  # still readable

    post(kari, "/letters/void", FJORD_PAGE, client_id="acme", letter_id=FJORD_LETTER, note="again")
    assert "Nothing was recorded: letter R-20260727-987654325 was cancelled on 2026-07-27 already" in flash(
        kari, FJORD_PAGE
    )


def test_a_posted_letter_has_no_void_button_and_cannot_be_voided(app_for: AppFactory, scene: Workspace) -> None:
    stem = scene.letter_record("1002", "reminder", CASE).stem
    posted = scene.reminders_dir() / "posted"
    posted.mkdir(exist_ok=True)
    (scene.reminders_dir() / f"{stem}.pdf").rename(posted / f"{stem}.pdf")  # the print service took it
    kari = app_for("kari")
    shown = section(kari.get(FJORD_PAGE).text, "h-letters")
    assert "POSTED" in shown and "/letters/void" not in shown
    missing = post(kari, "/letters/void", FJORD_PAGE, client_id="acme", letter_id=FJORD_LETTER)
    assert missing.status_code == 303 and "Why the letter is voided is missing" in flash(kari, FJORD_PAGE)
    post(kari, "/letters/void", FJORD_PAGE, client_id="acme", letter_id=FJORD_LETTER, note="printed twice")
    assert f"Nothing was recorded: letter {FJORD_LETTER} was posted (its PDF is in posted/)" in flash(kari, FJORD_PAGE)
    assert trail(scene, "letter.") == []


# ---- who may ------------------------------------------------------------------------------------------


def test_a_viewer_reads_calls_letters_and_pdfs_but_logs_and_voids_nothing(
    call_app_for: AppFactory, call_scene: Workspace
) -> None:
    vera = call_app_for("vera")
    page = vera.get(KUNDE_PAGE).text
    assert KUNDE_PHONE in page and "/calls/log" not in page and "/letters/void" not in page
    [reminder] = letters_list(call_scene, KUNDE)
    assert vera.get(f"/clients/acme/letters/{reminder}.pdf").status_code == 200
    assert vera.get(f"/clients/acme/statements/{KUNDE}").status_code == 200
    logged = post(vera, "/calls/log", KUNDE_PAGE, client_id="acme", customer=KUNDE, outcome="no_answer")
    voided = post(vera, "/letters/void", KUNDE_PAGE, client_id="acme", letter_id=reminder)
    for response in (logged, voided):
        assert response.status_code == 403 and "Only an approver" in response.text
    assert call_scene.store.read(load_facts, "acme").calls == ()
    assert letters_list(call_scene, KUNDE)[reminder]["state"] == "written"
    assert trail(call_scene, "call.") == trail(call_scene, "letter.") == []


def beta_letter(ws: Workspace) -> str:
    """A reminder to beta's customer Havbris AS: invoice 2002, overdue, reminded in beta's night."""
    ws.add_invoice(
        "2002", client_id="beta", customer="Havbris AS", org="912345674",
        issue=CASE - timedelta(days=40), due=CASE - timedelta(days=20), amount="800.00",
    )  # fmt: skip
    result = ws.cli("run", "--client", "beta", "--as-of", CASE.isoformat())
    assert result.exit_code == 0, result.output
    [record] = [r for r in ws.letter_records("beta") if r.kind == "reminder"]
    return str(record.letter_id)


def test_a_user_limited_to_acme_gets_403_on_beta_s_letters_statement_calls_and_voids(
    app_for: AppFactory, scene: Workspace
) -> None:
    letter = beta_letter(scene)
    assert app_for("kari").get(f"/clients/beta/letters/{letter}.pdf").status_code == 200
    anna = app_for("anna")
    assert anna.get(f"/clients/beta/letters/{letter}.pdf").status_code == 403
    assert anna.get("/clients/beta/statements/912345674").status_code == 403
    for action, fields in (
        ("/letters/void", {"letter_id": letter}),
        ("/calls/log", {"customer": "912345674", "outcome": "no_answer"}),
    ):
        response = post(anna, action, FJORD_PAGE, client_id="beta", **fields)
        assert response.status_code == 403 and "You may not see client beta" in response.text
    assert letters_list(scene, "912345674")[letter]["state"] == "written"
    assert scene.store.read(load_facts, "beta").calls == ()
    assert anna.get(f"/clients/acme/letters/{FJORD_LETTER}.pdf").status_code == 200  # her own client's


@pytest.mark.parametrize("action", ["/calls/log", "/letters/void"])
def test_the_call_and_void_forms_are_refused_without_their_csrf_token(
    app_for: AppFactory, scene: Workspace, action: str
) -> None:
    kari = app_for("kari")
    assert f'action="{action}"' in kari.get(FJORD_PAGE).text  # the form is there, with its token
    form = {"client_id": "acme", "customer": FJORD, "outcome": "no_answer", "letter_id": FJORD_LETTER, "back": "/"}
    for data in (form, {**form, "csrf_token": "forged"}):
        response = kari.post(action, data=data)
        assert response.status_code == 403 and "did not come from this workbench" in response.text
    assert scene.store.read(load_facts, "acme").calls == ()
    assert letters_list(scene, FJORD)[FJORD_LETTER]["state"] == "written"
    assert trail(scene, "call.") == trail(scene, "letter.") == []


def test_a_call_logged_on_the_command_line_is_in_the_audit_trail_too(
    call_app_for: AppFactory, call_scene: Workspace
) -> None:
    result = call_scene.cli(
        "calls", "log", "acme", KUNDE, "--outcome", "no_answer", "--notes", "voicemail", "--as-of", CALL_DAY.isoformat()
    )
    assert result.exit_code == 0, result.output
    [(actor, action, client, subject, address)] = trail(call_scene, "call.")
    assert actor.startswith("cli:") and (action, client, subject, address) == ("call.log", "acme", KUNDE, None)
    activity = html.unescape(call_app_for("kari").get("/activity").text)
    assert "call.log" in activity and "voicemail" in activity
