"""The client and customer pages, Today's queue, and the actions that record what the debtor said (open /
resolve a dispute, add / remove an agreement, add / end an exclusion), through Starlette's TestClient:
the same code path and the same text as the command line, each action in the audit trail with the user,
the time and the address, and the security rules on every one (a viewer cannot act, a user limited to
one client gets 403 on another, the CSRF token is checked — with the other forms in test_security.py)."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient
from workbench_builders import CASE, NOON, AppFactory, csrf_of, write_config

from connector.actions import manual
from connector.credit.checks import CreditCheck, credit_line
from connector.credit.risk import RiskAssessment, RiskLevel, RiskReason
from connector.store import audit
from connector.store.credit_checks import save_check
from connector.store.facts import load_facts
from tests.builders import Entry, Workspace, kid

FJORD = "987654325"  # acme's customer Fjord Handel AS (invoice 1002)
KUNDE = "934567897"  # acme's customer Kunde AS (invoices 1001, 1003)
HAVBRIS = "912345674"  # beta's customer Havbris AS (invoice 2001)
CUSTOMER_PAGE = f"/clients/acme/customers/{FJORD}"


def post(client: TestClient, path: str, page: str = CUSTOMER_PAGE, **fields: str) -> Any:
    """A form as the page renders it: the session's CSRF token, the page to come back to, the fields."""
    token = csrf_of(client.get(page).text)
    return client.post(path, data={"csrf_token": token, "back": page, **fields})


def flash(client: TestClient, page: str = CUSTOMER_PAGE) -> str:
    found = re.findall(r'<p class="flash (?:ok|error)"[^>]*>(.*?)</p>', client.get(page).text, re.S)
    return html.unescape(" ".join(found))


def explained(page: str, invoice: str) -> str:
    """The evidence in prose the page shows for an invoice."""
    block = page.split(f'id="invoice-{invoice}"', 1)[1]
    return html.unescape(block.split('<pre class="explain">', 1)[1].split("</pre>", 1)[0])


def trail(ws: Workspace) -> list[tuple[str, str, str | None, str | None]]:
    return [(e.actor, e.action, e.client_id, e.subject) for e in ws.store.read(audit.entries) if "." in e.action]


# ---- the pages -------------------------------------------------------------------------------------


def test_the_customer_page_shows_explain_s_text_for_each_open_invoice(
    app_for: AppFactory, scene: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = app_for("vera").get(f"/clients/acme/customers/{KUNDE}").text
    monkeypatch.setenv("COLUMNS", "100")  # the page wraps at 100, as a wide terminal does
    for invoice in ("1001", "1003"):
        cli = scene.cli("explain", "--client", "acme", invoice, "--as-of", CASE.isoformat())
        assert cli.exit_code == 0, cli.output
        assert explained(page, invoice) == cli.stdout
    assert "Invoice 1002" not in page  # another customer's
    assert "Kunde AS" in page and "1\u00a0250,00\u00a0NOK" in page  # what is open, in the user's format


def test_the_client_page_lists_the_decisions_and_links_each_invoice_to_its_evidence(app_for: AppFactory) -> None:
    page = app_for("vera").get("/clients/acme").text
    assert f'href="/clients/acme/customers/{FJORD}#invoice-1002"' in page
    assert "wait_interval" in page  # the reminder went out last night: the next step waits
    assert "acme-1001" in page and "PROPOSED" in page  # the case, with no provider status yet
    assert "Disputes open" not in page and "Agreements" not in page  # no empty sections
    every = app_for("vera").get("/clients/acme?show=all").text
    assert "1003" in every


def test_the_credit_level_shows_on_the_client_and_the_customer_page(app_for: AppFactory, scene: Workspace) -> None:
    reason = RiskReason("bankrupt", RiskLevel.HIGH, "Bankrupt (konkurs) since 2026-07-01.", "enhetsregisteret")
    check = CreditCheck(
        "acme", FJORD, RiskAssessment(FJORD, FJORD, RiskLevel.HIGH, (reason,), (), CASE), "new customer"
    )
    with scene.store.transaction() as conn:
        save_check(conn, check, at=NOON)
    customer = html.unescape(app_for("vera").get(CUSTOMER_PAGE).text)
    assert credit_line(check) in customer  # the one line every view shows
    assert "credit risk high (2026-07-27): Bankrupt (konkurs) since 2026-07-01." in customer
    client = app_for("vera").get("/clients/acme").text
    assert '<span class="risk risk-high">high</span>' in client
    assert client.count("risk risk-") == 1  # only the checked customer's invoices


def test_an_unknown_customer_is_404_and_a_hidden_client_403(app_for: AppFactory) -> None:
    kari, anna = app_for("kari"), app_for("anna")
    assert kari.get("/clients/acme/customers/nobody").status_code == 404
    assert anna.get(f"/clients/beta/customers/{HAVBRIS}").status_code == 403
    assert anna.get("/clients/nosuch/customers/x").status_code == 403
    assert anna.get(f"/clients/acme/customers/{FJORD}").status_code == 200


def test_today_queues_disputes_oldest_first_review_items_and_broken_agreements(
    app_for: AppFactory, scene: Workspace
) -> None:
    who = {"actor": "cli:test", "now": NOON}
    manual.open_dispute(scene.store, "beta", "2001", "never ordered", CASE - timedelta(days=9), **who)
    manual.open_dispute(scene.store, "acme", "1003", "wrong price", CASE - timedelta(days=2), **who)
    # a part payment of 1001 (review: acme's policy wants a person to look at part payments) and a promise
    # on 1002 that was not kept (broken), then a night
    acme = next(c for c in scene.clients if c["id"] == "acme")
    acme["policy"] = {**acme["policy"], "partial_payment": "review"}
    write_config(scene)
    scene.add_bank_file(
        "part.xml", [Entry("P1", "300.00", CASE - timedelta(days=3), kid("1001"))], created=CASE - timedelta(days=2)
    )
    manual.add_agreement(scene.store, "acme", "1002", [CASE - timedelta(days=12)], "", CASE - timedelta(days=20), **who)
    scene.bank_heartbeat(CASE)
    assert scene.cli("run", "--client", "acme", "--client", "beta", "--as-of", CASE.isoformat()).exit_code == 0

    page = app_for("kari").get("/").text
    queue = page.split('class="queue"', 1)[1].split("</nav>", 1)[0]
    assert "2</strong> disputes open" in queue and "1</strong> item to review" in queue
    assert "1</strong> broken agreement" in queue and "1</strong> client without fresh data" in queue
    disputes = page.split('id="h-disputes"', 1)[1].split("</section>", 1)[0]
    assert disputes.index("2001") < disputes.index("1003")  # oldest first
    assert "9 days" in disputes and "2 days" in disputes and "never ordered" in disputes
    review = page.split('id="h-review"', 1)[1].split("</section>", 1)[0]
    assert f"/clients/acme/customers/{KUNDE}#invoice-1001" in review and "partly_paid" in review
    broken = page.split('id="h-broken"', 1)[1].split("</section>", 1)[0]
    assert "1002" in broken and "broken: no payment by" in broken

    limited = app_for("anna").get("/").text  # anna sees acme only: beta's dispute is not hers
    assert "never ordered" not in limited and "wrong price" in limited


# ---- the actions -----------------------------------------------------------------------------------


def test_open_a_dispute_holds_the_invoice_and_resolving_it_lifts_the_hold(
    app_for: AppFactory, scene: Workspace
) -> None:
    client = app_for("kari")
    response = post(client, "/disputes/open", client_id="acme", invoice="1002", reason="wrong goods delivered")
    assert response.status_code == 303 and response.headers["location"] == CUSTOMER_PAGE
    [dispute] = scene.store.read(load_facts, "acme").disputes
    assert (dispute.invoice_number, dispute.reason, dispute.source) == ("1002", "wrong goods delivered", "manual")
    [entry] = [e for e in scene.store.read(audit.entries) if e.action == "dispute.open"]
    assert (entry.actor, entry.at, entry.client_id, entry.subject, entry.address) == (
        "kari", NOON, "acme", "1002", "testclient",
    )  # fmt: skip
    page = client.get(CUSTOMER_PAGE).text
    assert "it holds all dunning of the invoice until resolved" in html.unescape(page)
    text = explained(page, "1002")
    assert "→ hold" in text and "- disputed:" in text and "wrong goods delivered" in text
    assert 'id="h-disputes"' in page  # listed, with Resolve

    post(client, "/disputes/resolve", client_id="acme", dispute_id=dispute.dispute_id, note="credit note sent")
    assert not manual.open_disputes(scene.store.read(load_facts, "acme"))
    assert "- disputed:" not in explained(client.get(CUSTOMER_PAGE).text, "1002")
    assert trail(scene)[0] == ("kari", "dispute.resolve", "acme", "1002")


def test_a_promise_and_a_plan_are_recorded_and_removed_and_a_past_promise_is_refused(
    app_for: AppFactory, scene: Workspace
) -> None:
    client = app_for("kari")
    token = csrf_of(client.get(CUSTOMER_PAGE).text)
    form = {"client_id": "acme", "invoice": "1002", "kind": "promise", "promise_date": "2026-07-20"}
    refused = client.post(
        "/agreements/add", data={**form, "csrf_token": token, "back": f"{CUSTOMER_PAGE}#invoice-1002"}
    )
    assert refused.headers["location"] == CUSTOMER_PAGE  # to the top, where the message is
    assert "Nothing was recorded: the promised day 2026-07-20 is before 2026-07-27" in flash(client)
    assert scene.store.read(load_facts, "acme").agreements == ()

    post(client, "/agreements/add", client_id="acme", invoice="1002", kind="promise", promise_date="2026-08-10")
    post(
        client, "/agreements/add", client_id="acme", invoice="1001", kind="plan",
        instalments="3", first="2026-08-01", every="14", note="three parts", page=f"/clients/acme/customers/{KUNDE}",
    )  # fmt: skip
    promise, plan = sorted(
        scene.store.read(load_facts, "acme").agreements, key=lambda a: a.invoice_number, reverse=True
    )
    assert promise.due_dates == (CASE + timedelta(days=14),)
    assert [d.isoformat() for d in plan.due_dates] == ["2026-08-01", "2026-08-15", "2026-08-29"]
    assert plan.note == "three parts"
    assert "- agreement:" in explained(client.get(CUSTOMER_PAGE).text, "1002")

    post(client, "/agreements/remove", client_id="acme", agreement_id=promise.agreement_id, note="typed wrong")
    assert [a.agreement_id for a in manual.active_agreements(scene.store.read(load_facts, "acme"))] == [
        plan.agreement_id
    ]
    assert [t[1] for t in trail(scene)] == ["agreement.remove", "agreement.add", "agreement.add"]


def test_an_exclusion_from_a_later_day_is_not_shown_in_force(app_for: AppFactory, scene: Workspace) -> None:
    """Recorded from a later day (`exclude add --as-of`), it holds nothing yet: the page neither lists it in
    force nor calls the customer excluded while its invoices are dunned."""
    later = manual.add_exclusion(
        scene.store, "acme", "from next week", CASE + timedelta(days=7), customer=FJORD, actor="cli:kari", now=NOON
    )
    page = app_for("kari").get(CUSTOMER_PAGE).text
    assert "- excluded:" not in explained(page, "1002")
    assert "Exclusions in force" not in page and "Take Fjord Handel AS out of dunning" in page
    assert f"- {later.exclusion_id}: customer excluded from {(CASE + timedelta(days=7)).isoformat()}" in page


def test_an_invoice_and_a_customer_are_excluded_and_the_exclusions_ended(app_for: AppFactory, scene: Workspace) -> None:
    client = app_for("kari")
    post(client, "/exclusions/add", client_id="acme", invoice="1002", reason="in talks", until="2026-08-31")
    post(client, "/exclusions/add", client_id="acme", customer=FJORD, reason="key account")
    page = client.get(CUSTOMER_PAGE).text
    assert "- excluded:" in explained(page, "1002")
    assert "Take Fjord Handel AS out of dunning" not in page  # excluded already
    exclusions = {e.invoice_number or e.customer_id: e for e in manual.exclusions(scene.store, "acme")}
    assert exclusions["1002"].until is not None and exclusions["1002"].until.isoformat() == "2026-08-31"
    for ref in ("1002", FJORD):
        post(client, "/exclusions/remove", client_id="acme", exclusion_id=exclusions[ref].exclusion_id)
    assert manual.exclusions_in_force(manual.exclusions(scene.store, "acme"), CASE) == []
    assert "- excluded:" not in explained(client.get(CUSTOMER_PAGE).text, "1002")
    assert [t[1:] for t in trail(scene)] == [
        ("exclusion.remove", "acme", f"customer {FJORD}"),
        ("exclusion.remove", "acme", "invoice 1002"),
        ("exclusion.add", "acme", f"customer {FJORD}"),
        ("exclusion.add", "acme", "invoice 1002"),
    ]


def test_a_dispute_on_an_invoice_with_the_agency_is_recorded_with_a_warning_to_tell_it(
    app_for: AppFactory, scene: Workspace
) -> None:
    assert scene.cli("cases", "approve", "acme-1001", "--as-of", CASE.isoformat()).exit_code == 0
    assert scene.cli("cases", "push", "--client", "acme", "--as-of", CASE.isoformat()).exit_code == 0
    client = app_for("kari")
    page = f"/clients/acme/customers/{KUNDE}"
    post(client, "/disputes/open", page, client_id="acme", invoice="1001", reason="never ordered")
    shown = client.get(page).text
    [warning] = re.findall(r'<p class="flash warning" role="alert">(.*?)</p>', shown, re.S)
    warning = html.unescape(warning)
    assert warning.startswith("Invoice 1001 is in collection: case acme-1001 was pushed to outbox")
    assert "arsync does not pass this dispute on" in warning and "arsync cases withdraw acme-1001" in warning
    [done] = re.findall(r'<p class="flash ok" role="status">(.*?)</p>', shown, re.S)
    assert done.startswith("Dispute manual-") and "opened on invoice 1001" in done  # recorded, and said so
    assert [d.reason for d in scene.store.read(load_facts, "acme").disputes] == ["never ordered"]


# ---- who may act -------------------------------------------------------------------------------------


def forms(scene: Workspace, client_id: str, invoice: str, customer: str) -> dict[str, dict[str, str]]:
    """A valid form for every action on ``client_id`` (records to resolve, remove and end exist)."""
    who = {"actor": "cli:test", "now": NOON}
    # the dispute to resolve is on another number: a second one on ``invoice`` would be refused
    dispute = manual.open_dispute(scene.store, client_id, f"{invoice}-0", "x", CASE, force=True, **who)
    agreement = manual.add_agreement(
        scene.store, client_id, invoice, [CASE + timedelta(days=5)], "", CASE, **who
    ).agreement
    exclusion = manual.add_exclusion(scene.store, client_id, "x", CASE, customer=customer, **who)
    base = {"client_id": client_id}
    return {
        "/disputes/open": {**base, "invoice": invoice, "reason": "wrong goods"},
        "/disputes/resolve": {**base, "dispute_id": dispute.dispute_id, "note": "credited 200"},
        "/agreements/add": {**base, "invoice": invoice, "kind": "promise", "promise_date": "2026-08-20"},
        "/agreements/remove": {**base, "agreement_id": agreement.agreement_id, "note": "broken by phone"},
        "/exclusions/add": {**base, "invoice": invoice, "reason": "in talks"},
        "/exclusions/remove": {**base, "exclusion_id": exclusion.exclusion_id},
    }


def records(scene: Workspace, client_id: str) -> tuple[object, ...]:
    facts = scene.store.read(load_facts, client_id)
    return facts.disputes, facts.agreements, tuple(manual.exclusions(scene.store, client_id))


ACTIONS = [
    "/disputes/open",
    "/disputes/resolve",
    "/agreements/add",
    "/agreements/remove",
    "/exclusions/add",
    "/exclusions/remove",
]


@pytest.mark.parametrize("path", ACTIONS)
def test_a_viewer_cannot_record_anything(app_for: AppFactory, scene: Workspace, path: str) -> None:
    form = forms(scene, "acme", "1002", FJORD)[path]
    before, entries = records(scene, "acme"), trail(scene)
    viewer = app_for("vera")
    assert "/disputes/open" not in viewer.get(CUSTOMER_PAGE).text  # no form to fill
    response = post(viewer, path, **form)
    assert response.status_code == 403 and "Only an approver" in response.text
    assert records(scene, "acme") == before and trail(scene) == entries


@pytest.mark.parametrize("path", ACTIONS)
def test_a_user_limited_to_acme_gets_403_on_beta(app_for: AppFactory, scene: Workspace, path: str) -> None:
    form = forms(scene, "beta", "2001", HAVBRIS)[path]
    before, entries = records(scene, "beta"), trail(scene)
    anna = app_for("anna")  # an approver, for acme only
    response = post(anna, path, page="/clients/acme", **form)
    assert response.status_code == 403 and "You may not see client beta" in response.text
    assert records(scene, "beta") == before and trail(scene) == entries
    # the same form on her own client goes through
    own = forms(scene, "acme", "1002", FJORD)[path]
    assert post(anna, path, page="/clients/acme", **own).status_code == 303
    assert "Nothing was recorded" not in flash(anna, "/clients/acme")
