"""The workbench's security rules, through Starlette's TestClient (no browser): log-in, sessions, CSRF,
roles, per-client access, throttling, headers, the local mode and where `serve` may listen."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import text
from starlette.routing import Route
from workbench_builders import NOON, PASSWORD, AppFactory, csrf_of, default_users, log_in, user

from connector.config import WebConfig
from connector.model import CaseStatus
from connector.store import audit
from connector.store.cases import find_case
from connector.store.facts import load_facts
from connector.web.app import ROUTES
from connector.web.serve import ServeRefused, check_bind, open_store
from tests.builders import Workspace


def case_status(ws: Workspace, case_id: str) -> CaseStatus:
    case = ws.store.read(find_case, case_id)
    assert case is not None
    return case.status


def approve_form(client: object, case_id: str, page: str = "/") -> dict[str, str]:
    html = client.get(page).text  # type: ignore[attr-defined]
    return {"csrf_token": csrf_of(html), "case_id": case_id, "back": page}


# ---- log-in and sessions --------------------------------------------------------------------------


def test_every_page_needs_a_log_in(app_for: AppFactory) -> None:
    client = app_for()
    for path in (
        "/",
        "/clients/acme",
        "/clients/acme/customers/934567897",
        "/reports/aging",
        "/reports/aging.csv",
        "/reports/aging/acme",
        "/activity",
    ):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")


def test_log_in_with_the_right_password_only_and_both_are_audited(app_for: AppFactory, scene: Workspace) -> None:
    client = app_for()
    wrong = log_in(client, "kari", "not the password")
    assert wrong.status_code == 401
    assert "Wrong user name or password" in wrong.text
    unknown = log_in(client, "nobody", PASSWORD)
    assert unknown.status_code == 401 and "Wrong user name or password" in unknown.text  # same answer

    right = log_in(client, "kari")
    assert right.status_code == 303 and right.headers["location"] == "/"
    cookie = right.headers["set-cookie"]
    assert cookie.startswith("arsync_session=")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # plain http on the loopback
    assert client.get("/").status_code == 200
    actions = [(e.actor, e.action) for e in scene.store.read(audit.entries)]
    assert actions == [("kari", "login"), ("nobody", "login_refused"), ("kari", "login_refused")]


def test_a_log_in_gets_a_new_session_id_and_log_out_ends_it(app_for: AppFactory) -> None:
    client = app_for()
    client.get("/login")
    before = client.cookies["arsync_session"]
    log_in(client, "kari")
    after = client.cookies["arsync_session"]
    assert before != after  # no session fixation
    logout = client.post("/logout", data={"csrf_token": csrf_of(client.get("/").text)})
    assert logout.status_code == 303
    client.cookies.set("arsync_session", after)  # the old cookie, replayed
    assert client.get("/").status_code == 303


def test_the_next_parameter_never_leads_off_site(app_for: AppFactory) -> None:
    client = app_for()
    page = client.get("/login")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = client.post(
            "/login", data={"csrf_token": csrf_of(page.text), "name": "kari", "password": PASSWORD, "next": target}
        )
        assert response.headers["location"] == "/"
        client.cookies.clear()
        page = client.get("/login")


def test_cookies_are_secure_behind_tls_only_when_a_trusted_proxy_says_so(app_for: AppFactory) -> None:
    web = {"users": default_users(), "trusted_proxies": ["10.0.0.1"]}
    proxied = app_for(web=web, client=("10.0.0.1", 40000))
    page = proxied.get("/login", headers={"x-forwarded-proto": "https", "x-forwarded-for": "192.0.2.7"})
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("__Host-arsync_session=") and "secure" in cookie.lower()

    stranger = app_for(web=web, client=("10.0.0.9", 40000))  # not the proxy: its headers are not believed
    page = stranger.get("/login", headers={"x-forwarded-proto": "https"})
    assert page.headers["set-cookie"].startswith("arsync_session=") and "secure" not in page.headers["set-cookie"]

    forced = app_for(web={"users": default_users(), "secure_cookies": True})
    assert "secure" in forced.get("/login").headers["set-cookie"].lower()


def test_failed_log_ins_are_limited_per_user_and_per_address(app_for: AppFactory) -> None:
    client = app_for(client=("192.0.2.1", 1000))
    for _ in range(5):
        assert log_in(client, "kari", "guess").status_code == 401
    refused = log_in(client, "kari")  # the right password, too late
    assert refused.status_code == 429 and "Too many failed log-ins" in refused.text
    assert log_in(client, "vera").status_code == 303  # another user from the same address still may

    other = app_for(client=("192.0.2.2", 1000))
    for i in range(20):
        log_in(other, f"user{i}", "guess")
    assert log_in(other, "vera").status_code == 429  # this address has guessed too often


# ---- CSRF -------------------------------------------------------------------------------------------


POSTS = [
    "/login",
    "/logout",
    "/cases/approve",
    "/cases/reject",
    "/cases/undo",
    "/disputes/open",
    "/disputes/resolve",
    "/agreements/add",
    "/agreements/remove",
    "/exclusions/add",
    "/exclusions/remove",
    "/files/quarantine",
    "/files/release",
    "/calls/log",
    "/letters/void",
]


def test_every_post_route_checks_the_csrf_token() -> None:
    posts = [r for r in ROUTES if isinstance(r, Route) and r.methods and "POST" in r.methods]
    assert {r.path for r in posts} == set(POSTS)
    assert all(getattr(r.endpoint, "csrf_checked", False) for r in posts)


@pytest.mark.parametrize("path", POSTS)
def test_a_form_without_its_token_is_refused(app_for: AppFactory, scene: Workspace, path: str) -> None:
    client = app_for("kari")
    form = {
        "case_id": "acme-1001", "note": "x", "client_id": "acme", "invoice": "1002", "reason": "wrong goods",
        "kind": "promise", "promise_date": "2026-08-15", "customer": "934567897",
    }  # fmt: skip
    for data in (form, {**form, "csrf_token": "forged"}):
        response = client.post(path, data=data)
        assert response.status_code == 403
        assert "did not come from this workbench" in response.text
    assert case_status(scene, "acme-1001") is CaseStatus.PROPOSED
    facts = scene.store.read(load_facts, "acme")
    assert (facts.disputes, facts.agreements, facts.exclusions) == ((), (), ())
    assert client.get("/").status_code == 200  # still logged in


def test_a_form_sent_from_another_site_is_refused_even_with_a_token(app_for: AppFactory, scene: Workspace) -> None:
    client = app_for("kari")
    data = approve_form(client, "acme-1001")
    assert client.post("/cases/approve", data=data, headers={"origin": "http://evil.example"}).status_code == 403
    assert client.post("/cases/approve", data=data, headers={"sec-fetch-site": "cross-site"}).status_code == 403
    assert case_status(scene, "acme-1001") is CaseStatus.PROPOSED


# ---- roles and clients ------------------------------------------------------------------------------


def test_a_viewer_sees_no_approve_button_and_cannot_approve(app_for: AppFactory, scene: Workspace) -> None:
    client = app_for("vera")
    today = client.get("/").text
    assert "acme-1001" in today and "/cases/approve" not in today and "/cases/reject" not in today
    response = client.post("/cases/approve", data=approve_form(client, "acme-1001"))
    assert response.status_code == 403
    assert "Only an approver" in response.text
    assert case_status(scene, "acme-1001") is CaseStatus.PROPOSED
    assert not [e for e in scene.store.read(audit.entries) if e.action.startswith("case.")]


def test_a_user_limited_to_one_client_gets_403_for_another(app_for: AppFactory, scene: Workspace) -> None:
    client = app_for("anna")
    for path in (
        "/clients/beta",
        "/clients/beta/customers/912345674",
        "/reports/aging/beta",
        "/reports/aging/beta/912345674",
        "/reports/aging.csv?client=beta",
        "/clients/nosuchclient",  # an unknown id answers the same: ids of other clients cannot be probed
    ):
        assert client.get(path).status_code == 403, path
    assert client.get("/clients/acme").status_code == 200
    today = client.get("/").text
    assert "Acme AS" in today and "Beta AS" not in today and "beta-2001" not in today
    aging = client.get("/reports/aging").text
    assert "Acme AS" in aging and "Beta AS" not in aging
    assert "beta," not in client.get("/reports/aging.csv").text
    response = client.post("/cases/approve", data=approve_form(client, "beta-2001"))
    assert response.status_code == 403
    assert case_status(scene, "beta-2001") is CaseStatus.PROPOSED


def test_an_unknown_client_is_404_for_a_user_who_sees_every_client(app_for: AppFactory) -> None:
    assert app_for("kari").get("/clients/nosuchclient").status_code == 404


# ---- what is never shown, what every response carries ------------------------------------------------


def test_no_hash_session_id_or_secret_is_ever_rendered(app_for: AppFactory, scene: Workspace) -> None:
    client = app_for("kari")
    settings = scene.settings()
    hashes = [u.password_hash for u in settings.web.users]
    sid = client.cookies["arsync_session"]
    for path in (
        "/",
        "/clients/acme?show=all",
        "/clients/acme/customers/934567897",
        "/reports/aging",
        "/reports/aging/acme",
        "/activity",
        "/login",
    ):
        html = client.get(path).text
        assert sid not in html, path
        assert not any(h in html or h.split("$")[-1] in html for h in hashes), path


def test_security_headers_on_every_page(app_for: AppFactory) -> None:
    client = app_for("kari")
    for path in ("/", "/login", "/clients/beta", "/nowhere"):
        headers = client.get(path).headers
        assert "default-src 'none'" in headers["content-security-policy"]
        assert "script-src" not in headers["content-security-policy"]  # no script at all
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "no-store"


# ---- approve, reject, undo --------------------------------------------------------------------------


def test_approve_records_the_user_the_time_and_the_undo_window(app_for: AppFactory, scene: Workspace) -> None:
    client = app_for("kari")
    response = client.post("/cases/approve", data=approve_form(client, "acme-1001"))
    assert response.status_code == 303 and response.headers["location"] == "/"
    case = scene.store.read(find_case, "acme-1001")
    assert case is not None and case.status is CaseStatus.APPROVED
    assert case.events[-1].push_after == NOON + timedelta(minutes=10)
    assert case.events[-1].note == "approved in the workbench by kari"
    [entry] = [e for e in scene.store.read(audit.entries) if e.action == "case.approve"]
    assert (entry.actor, entry.at, entry.client_id, entry.subject) == ("kari", NOON, "acme", "acme-1001")
    page = client.get("/").text
    assert "Case acme-1001 approved" in page and "undo until then" in page
    assert "Undo the approval of case acme-1001" in page
    again = client.post("/cases/approve", data=approve_form(client, "acme-1001"))  # approved twice: refused
    assert again.status_code == 303
    assert "only proposed cases can be approved" in client.get("/").text
    assert [e.status for e in scene.store.read(find_case, "acme-1001").events].count(CaseStatus.APPROVED) == 1  # type: ignore[union-attr]


def test_undo_inside_the_window_only(app_for: AppFactory, scene: Workspace) -> None:
    now = [NOON]
    client = app_for("kari", clock=lambda: now[0])
    client.post("/cases/approve", data=approve_form(client, "acme-1001"))
    client.post("/cases/approve", data=approve_form(client, "beta-2001"))
    now[0] = NOON + timedelta(minutes=9)
    assert client.post("/cases/undo", data=approve_form(client, "acme-1001")).status_code == 303
    assert case_status(scene, "acme-1001") is CaseStatus.PROPOSED
    now[0] = NOON + timedelta(minutes=10)
    client.post("/cases/undo", data=approve_form(client, "beta-2001", "/clients/beta"))
    assert "undo window of case &#39;beta-2001&#39; closed" in client.get("/clients/beta").text
    assert case_status(scene, "beta-2001") is CaseStatus.APPROVED
    assert [e.action for e in scene.store.read(audit.entries) if e.action.startswith("case.")] == [
        "case.undo",
        "case.approve",
        "case.approve",
    ]


def test_reject_needs_a_reason(app_for: AppFactory, scene: Workspace) -> None:
    client = app_for("kari")
    client.post("/cases/reject", data={**approve_form(client, "acme-1001"), "note": "  "})
    assert "A rejection needs a reason" in client.get("/").text
    assert case_status(scene, "acme-1001") is CaseStatus.PROPOSED
    client.post("/cases/reject", data={**approve_form(client, "acme-1001"), "note": "customer paid in cash"})
    case = scene.store.read(find_case, "acme-1001")
    assert case is not None and case.status is CaseStatus.REJECTED
    assert case.events[-1].note == "customer paid in cash (rejected in the workbench by kari)"
    assert case.events[-1].push_after is None


# ---- the local mode and where `serve` listens ----------------------------------------------------------


def test_without_users_the_local_user_comes_in_through_the_printed_link_only(app_for: AppFactory) -> None:
    client = app_for(web={}, token="s3cret-link-token")
    page = client.get("/login")
    assert "arsync serve" in page.text and 'name="password"' not in page.text
    assert client.get("/login?token=wrong").status_code == 403
    response = client.get("/login?token=s3cret-link-token")
    assert response.status_code == 303 and response.headers["location"] == "/"
    today = client.get("/")
    assert today.status_code == 200 and "local" in today.text and "/cases/approve" in today.text
    assert "s3cret-link-token" not in today.text


def test_listening_beyond_the_loopback_needs_users() -> None:
    without = WebConfig()
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        check_bind(host, without)
    for host in ("0.0.0.0", "::", "192.168.1.10", "workbench.example"):
        with pytest.raises(ServeRefused, match=re.escape("no [[web.users]]")):
            check_bind(host, without)
    check_bind("0.0.0.0", WebConfig(users=[user("kari", "approver")]))  # type: ignore[list-item]


def test_serve_refuses_a_store_that_does_not_exist(tmp_path: object) -> None:
    with pytest.raises(ServeRefused, match=r"no store at .*missing\.db: run `arsync sync`"):
        open_store(f"sqlite:///{tmp_path}/missing.db")


def test_an_approved_case_past_its_window_stays_on_today_with_what_it_waits_for(
    app_for: AppFactory, scene: Workspace
) -> None:
    """Found trying the workbench: an approved case left Today when its window closed, though its push waited."""
    now = [NOON]
    client = app_for("kari", clock=lambda: now[0])
    client.post("/cases/approve", data=approve_form(client, "acme-1001"))
    assert "Approved, not yet with the provider" not in client.get("/").text  # still inside the window
    now[0] = NOON + timedelta(minutes=30)
    page = client.get("/").text
    waiting = page.split("Approved, not yet with the provider")[1].split("</section>")[0]
    assert "acme-1001" in waiting and "the next run (or <code>arsync cases push</code>)" in waiting
    with scene.store.transaction() as conn:  # last night's decision of the invoice holds it
        conn.execute(text("UPDATE decisions SET holds = '[\"disputed\"]' WHERE invoice_number = '1001'"))
    waiting = client.get("/").text.split("Approved, not yet with the provider")[1].split("</section>")[0]
    assert "held: disputed" in waiting
