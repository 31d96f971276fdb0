"""Files arsync cannot go by, in the workbench (through Starlette's TestClient): Today and the client page list
them as `arsync files list` does, and an approver quarantines and releases them through the same service
(``connector.actions.files``), recorded in the audit trail with the user, the time and the address; a
viewer cannot, a user limited to acme gets 403 on beta's files, and the forms carry the CSRF token."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from starlette.testclient import TestClient
from workbench_builders import CASE, NOON, AppFactory, csrf_of

from connector.store import audit
from connector.store import files as files_store
from tests.builders import Workspace

FJORD = "987654325"  # acme's customer Fjord Handel AS (invoice 1002)
FJORD_PAGE = f"/clients/acme/customers/{FJORD}"
HAVBRIS_PAGE = "/clients/beta/customers/912345674"


def listed(ws: Workspace) -> dict[str, dict[str, Any]]:
    """`arsync files list --json`, by file name."""
    result = ws.cli("files", "list", "--json")
    assert result.exit_code == 0, result.output
    return {f["name"]: f for f in json.loads(result.stdout)["files"]}


def section(page: str, heading_id: str) -> str:
    found = page.split(f'id="{heading_id}"', 1)
    return html.unescape(found[1].split("</section>", 1)[0]) if len(found) == 2 else ""


def flash(client: TestClient, page: str) -> str:
    found = re.findall(r'<p class="flash (?:ok|error)"[^>]*>(.*?)</p>', client.get(page).text, re.S)
    return html.unescape(" ".join(found))


def post(client: TestClient, action: str, page: str = "/", **fields: str) -> Any:
    """A form as the page renders it: the session's CSRF token, the page to come back to, the fields."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf_token": token, "back": page, **fields})


def holds(client: TestClient, page: str, invoice: str) -> str:
    """The holds the customer page shows for an invoice, decided afresh."""
    block = client.get(page).text.split(f'id="invoice-{invoice}"', 1)[1].split("</article>", 1)[0]
    return html.unescape(block.split("<dt>Holds</dt>", 1)[1].split("</dd>", 1)[0])


def file_trail(ws: Workspace) -> list[tuple[str, str, str | None, str | None, str, str | None]]:
    return [
        (e.actor, e.action, e.client_id, e.subject, e.detail, e.address)
        for e in ws.store.read(audit.entries)
        if e.action.startswith("file.")
    ]


def test_today_and_the_client_page_list_the_files_as_files_list_does(app_for: AppFactory, troubled: Workspace) -> None:
    files = listed(troubled)
    today = app_for("kari").get("/").text
    assert "2</strong> files to decide" in today.split('class="queue"', 1)[1].split("</nav>", 1)[0]
    shown = section(today, "h-files")
    for name in ("5001-credit.xml", "b-2001.xml"):
        assert name in shown and files[name]["holds"] in shown and files[name]["error"] in shown
    assert "UNREADABLE" in shown and "CONFLICTING" in shown and "credit note 5001" in shown
    assert "Acme AS" in shown and "Beta AS" in shown
    assert shown.count('action="/files/quarantine"') == 2

    client_page = section(app_for("kari").get("/clients/acme").text, "h-files")
    assert "5001-credit.xml" in client_page and "b-2001.xml" not in client_page  # beta's is on beta's page
    limited = section(app_for("anna").get("/").text, "h-files")  # anna sees acme only
    assert "5001-credit.xml" in limited and "b-2001.xml" not in limited


def test_quarantine_lifts_the_hold_and_release_brings_it_back_each_in_the_audit_trail(
    app_for: AppFactory, troubled: Workspace
) -> None:
    path = listed(troubled)["5001-credit.xml"]["path"]
    kari = app_for("kari")
    assert "unreadable_document" in holds(kari, FJORD_PAGE, "1002")

    response = post(kari, "/files/quarantine", client_id="acme", path=path, reason="a draft the scanner made")
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert f"Quarantined {path} for client acme: its holds lift" in flash(kari, "/")
    assert "unreadable_document" not in holds(kari, FJORD_PAGE, "1002")  # decided afresh: the hold is gone
    assert "5001-credit.xml" not in section(kari.get("/").text, "h-files")  # nothing left to decide
    entry = listed(troubled)["5001-credit.xml"]
    assert entry["status"] == "quarantined" and entry["quarantined"].startswith("quarantined by kari on 2026-07-27")
    client_page = section(kari.get("/clients/acme").text, "h-files")
    assert "QUARANTINED" in client_page and "a draft the scanner made" in client_page
    assert 'action="/files/release"' in client_page

    post(kari, "/files/release", page="/clients/acme", client_id="acme", path=path, reason="it was the real one")
    assert f"Released {path} for client acme: it holds again" in flash(kari, "/clients/acme")
    assert "unreadable_document" in holds(kari, FJORD_PAGE, "1002")
    assert listed(troubled)["5001-credit.xml"]["status"] == "unreadable"
    assert file_trail(troubled) == [
        ("kari", "file.release", "acme", path, "it was the real one", "testclient"),
        ("kari", "file.quarantine", "acme", path, "a draft the scanner made", "testclient"),
    ]
    [q, r] = troubled.store.read(files_store.decisions, ["acme"])
    assert (q.action, q.actor, q.on, r.action) == ("quarantine", "kari", CASE, "release")
    assert {e.at for e in troubled.store.read(audit.entries) if e.action.startswith("file.")} == {NOON}


def test_quarantining_the_refused_one_of_two_conflicting_documents_ends_the_conflict(
    app_for: AppFactory, troubled: Workspace
) -> None:
    path = listed(troubled)["b-2001.xml"]["path"]
    kari = app_for("kari")
    assert "conflicting_document" in holds(kari, HAVBRIS_PAGE, "2001")
    post(kari, "/files/quarantine", client_id="beta", path=path, reason="a copy with a typo; 2001.xml is right")
    assert "the conflict is over (2001.xml stays)" in flash(kari, "/")
    assert "conflicting_document" not in holds(kari, HAVBRIS_PAGE, "2001")
    assert listed(troubled)["b-2001.xml"]["status"] == "quarantined"


def test_a_quarantine_needs_a_reason_and_an_unknown_file_records_nothing(
    app_for: AppFactory, troubled: Workspace
) -> None:
    path = listed(troubled)["5001-credit.xml"]["path"]
    kari = app_for("kari")
    post(kari, "/files/quarantine", client_id="acme", path=path, reason="   ")
    assert "Nothing was recorded: Why the file is taken out of consideration is missing" in flash(kari, "/")
    post(kari, "/files/quarantine", client_id="acme", path="/etc/passwd", reason="curious")
    assert "Nothing was recorded: client 'acme' has no unreadable, refused or conflicting file" in flash(kari, "/")
    post(kari, "/files/release", client_id="acme", path=path, reason="not quarantined")
    assert f"Nothing was recorded: {path} is not quarantined" in flash(kari, "/")
    assert file_trail(troubled) == [] and listed(troubled)["5001-credit.xml"]["status"] == "unreadable"


@pytest.mark.parametrize("action", ["/files/quarantine", "/files/release"])
def test_a_viewer_can_neither_quarantine_nor_release(app_for: AppFactory, troubled: Workspace, action: str) -> None:
    path = listed(troubled)["5001-credit.xml"]["path"]
    if action == "/files/release":
        post(app_for("kari"), "/files/quarantine", client_id="acme", path=path, reason="a draft")
    before = file_trail(troubled)
    vera = app_for("vera")
    assert "5001-credit.xml" in vera.get("/clients/acme").text  # she sees the file
    assert "/files/" not in vera.get("/clients/acme").text and "/files/" not in vera.get("/").text  # no form
    response = post(vera, action, client_id="acme", path=path, reason="I think so")
    assert response.status_code == 403 and "Only an approver" in response.text
    assert file_trail(troubled) == before


def test_a_user_limited_to_acme_gets_403_on_beta_s_file(app_for: AppFactory, troubled: Workspace) -> None:
    files = listed(troubled)
    anna = app_for("anna")
    response = post(anna, "/files/quarantine", client_id="beta", path=files["b-2001.xml"]["path"], reason="x")
    assert response.status_code == 403 and "You may not see client beta" in response.text
    assert listed(troubled)["b-2001.xml"]["status"] == "conflicting" and file_trail(troubled) == []
    own = post(anna, "/files/quarantine", client_id="acme", path=files["5001-credit.xml"]["path"], reason="a draft")
    assert own.status_code == 303 and listed(troubled)["5001-credit.xml"]["status"] == "quarantined"


def test_the_file_forms_are_refused_without_their_csrf_token(app_for: AppFactory, troubled: Workspace) -> None:
    path = listed(troubled)["5001-credit.xml"]["path"]
    kari = app_for("kari")
    assert 'name="csrf_token"' in section(kari.get("/").text, "h-files")  # each form carries it
    form = {"client_id": "acme", "path": path, "reason": "a draft", "back": "/"}
    for action in ("/files/quarantine", "/files/release"):
        for data in (form, {**form, "csrf_token": "forged"}):
            response = kari.post(action, data=data)
            assert response.status_code == 403 and "did not come from this workbench" in response.text
    assert file_trail(troubled) == [] and listed(troubled)["5001-credit.xml"]["status"] == "unreadable"
