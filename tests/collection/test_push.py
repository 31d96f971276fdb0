"""Pushing approved cases to Kravia and Debitura (local fakes): exactly once, re-checked, errors surfaced."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from collection_env import CASE, DEBITURA_KEY, KRAVIA_TOKEN, nightly, setup_client, statuses

from connector.store import cases as case_store
from tests.builders import Entry, Workspace, kid
from tests.fakes import Failure, FakeDebitura, FakeKravia


def approve(ws: Workspace, *case_ids: str) -> None:
    result = ws.cli("cases", "approve", *case_ids, "--as-of", CASE.isoformat())
    assert result.exit_code == 0, result.output


def test_kravia_push_carries_the_claim_and_happens_once(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        setup_client(ws, monkeypatch, "kravia", fake.base_url)
        assert nightly(ws, CASE).exit_code == 0
        approve(ws, "acme-1001")
        for _ in range(3):  # cron runs again and again: still one case
            result = nightly(ws, CASE)
            assert result.exit_code == 0, result.output
        [register] = fake.calls("POST", "/api/v2/invoice/register")
        body = register.body
        assert register.headers["Authorization"] == KRAVIA_TOKEN
        assert body["claimType"] == "CollectionCase" and body["creditorId"] == 10759
        assert body["accountingInvoiceId"] == "acme-1001" and body["invoiceNo"] == "1001"
        assert body["organizationNumber"] == "934567897" and body["isPrivateIndividual"] == "false"
        assert str(body["originalAmount"]) in ("1000", "1000.0") and body["currencyCode"] == "NOK"
        assert body["postalAddress"]["addressPostalCode"] == "0155"
        assert "collection_notice 2026-07-13" in body["description"]  # the notices sent, with dates
        assert statuses(ws) == {"1001": "pushed"}
        [case] = ws.store.read(case_store.load_cases, ["acme"])
        assert case.provider_ref == str(next(iter(fake.invoices)))
        shown = ws.cli("cases", "show", "acme-1001").output
        assert "submit 1000.00 NOK at kravia: done" in shown
        [debtor] = [line for line in shown.splitlines() if line.startswith("Debtor:")]
        assert debtor.count("934567897") == 1, debtor  # the customer id is the org no: said once
        assert KRAVIA_TOKEN not in result.output + shown  # the secret never reaches output


def test_debitura_push_sends_an_idempotency_key_and_the_creditor_reference(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeDebitura(api_key=DEBITURA_KEY) as fake:
        setup_client(ws, monkeypatch, "debitura", fake.base_url)
        nightly(ws, CASE)
        approve(ws, "acme-1001")
        assert nightly(ws, CASE).exit_code == 0
        [create] = fake.calls("POST", "/cases")
        assert create.headers["XApiKey"] == DEBITURA_KEY
        assert create.headers["Idempotency-Key"].startswith("arsync-")
        assert create.body["creditorReference"] == "1001"
        assert create.body["debtor"]["type"] == "Company"
        assert create.body["debtor"]["companyRegistrationNumber"] == "934567897"
        assert "KID 0010017" in create.body["comments"]
        assert len(fake.cases) == 1 and statuses(ws) == {"1001": "pushed"}


def test_a_dropped_connection_after_kravia_created_the_case_is_resolved_by_lookup(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        setup_client(ws, monkeypatch, "kravia", fake.base_url)
        nightly(ws, CASE)
        approve(ws, "acme-1001")
        fake.fail(Failure("drop_after", route="/api/v2/invoice/register"))
        result = nightly(ws, CASE)
        assert result.exit_code == 0, result.output
        assert len(fake.calls("POST", "/api/v2/invoice/register")) == 1  # never re-posted blindly
        assert len(fake.invoices) == 1
        assert statuses(ws) == {"1001": "pushed"}  # found by our accountingInvoiceId
        assert "found at the provider after the answer was lost" in ws.cli("cases", "show", "acme-1001").output


def test_a_lost_kravia_answer_is_found_past_a_short_first_page(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """The creditor has other cases at Kravia, the search gives 20 a page whatever is asked, and the
    answers come as Kravia's own clients read them ({"data": [...]}, each with an ``id``): the case
    whose create answer was lost is still found by paging on, not posted a second time."""
    with FakeKravia(token=KRAVIA_TOKEN, max_top=20) as fake:
        others = {"claimType": "CollectionCase", "creditorId": 10759, "isPrivateIndividual": "true"}
        address = {"addressPostalCode": "0150", "addressCity": "Oslo"}
        for n in range(25):
            body = {**others, "debtorName": f"Debtor {n}", "invoiceNo": f"9{n:03}", "invoiceDate": "2026-05-01"}
            body |= {"dueDate": "2026-05-15", "currencyCode": "NOK", "originalAmount": 100, "postalAddress": address}
            created = requests.post(
                fake.base_url + "/invoice/register", json=body, headers={"Authorization": KRAVIA_TOKEN}, timeout=5
            )
            assert created.status_code == 200, created.text
        setup_client(ws, monkeypatch, "kravia", fake.base_url)
        nightly(ws, CASE)
        approve(ws, "acme-1001")
        fake.fail(Failure("drop_after", route="/api/v2/invoice/register"))
        assert nightly(ws, CASE).exit_code == 0
        assert len(fake.calls("POST", "/api/v2/invoice/register")) == 26  # ours once, never re-posted
        assert statuses(ws) == {"1001": "pushed"}
        [ours] = fake.by_accounting_id()["acme-1001"]
        assert ws.store.read(case_store.load_cases, ["acme"])[0].provider_ref == str(ours.invoice_id)


def test_an_unresolvable_kravia_push_stays_pending_and_is_asked_about_before_resending(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        setup_client(ws, monkeypatch, "kravia", fake.base_url)
        nightly(ws, CASE)
        approve(ws, "acme-1001")
        # The create is dropped before processing and the lookup fails too: outcome unknown.
        fake.fail(Failure("drop_before", route="/api/v2/invoice/register"))
        fake.fail(Failure("status", route="/api/v2/invoice/search", status=503, times=3))
        result = nightly(ws, CASE)
        assert "push outcome unknown" in result.output
        assert statuses(ws) == {"1001": "approved"}
        [op] = ws.store.read(case_store.ops, "acme")
        assert op.pending
        assert nightly(ws, CASE).exit_code == 0
        searches = fake.calls("GET", "/api/v2/invoice/search")
        registers = fake.calls("POST", "/api/v2/invoice/register")
        assert len(registers) == 2 and len(fake.invoices) == 1
        first, second = (fake.requests.index(r) for r in registers)
        assert any(first < fake.requests.index(q) < second for q in searches)  # asked before resending
        assert statuses(ws) == {"1001": "pushed"}


def test_a_resend_after_an_unfound_earlier_push_that_fails_for_sure_is_failed_sent_once_and_can_be_withdrawn(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An earlier push left pending, not found by the lookup (so not at the provider), resent, and refused by a
    definite, non-business answer (403): the push is failed, not pending (``_record``), the cases stay approved
    and the run says so; the next run pushes one of them once, and the other can be withdrawn."""
    with FakeKravia(token=KRAVIA_TOKEN) as fake:  # no idempotency key: a resend would make a second case
        setup_client(ws, monkeypatch, "kravia", fake.base_url, invoices=("1001", "1002"))
        nightly(ws, CASE)
        approve(ws, "acme-1001", "acme-1002")
        # The creates are dropped before processing and the lookups fail: both pushes unresolved.
        fake.fail(Failure("drop_before", route="/api/v2/invoice/register", times=2))
        fake.fail(Failure("status", route="/api/v2/invoice/search", status=503, times=6))
        nightly(ws, CASE)
        assert {op.case_id: op.state for op in ws.store.read(case_store.ops, "acme")} == {
            "acme-1001": case_store.PENDING,
            "acme-1002": case_store.PENDING,
        }
        forbidden = {"message": "The token may not register claims for this creditor"}
        fake.fail(Failure("status", route="/api/v2/invoice/register", status=403, body=forbidden, times=2))
        before = len(fake.requests)
        result = nightly(ws, CASE)  # looked up (not found), resent, refused for sure
        assert result.exit_code == 1
        asked = [(r.path.rsplit("/", 1)[-1], r.status) for r in fake.requests[before:]]
        assert asked[:3] == [("search", 200), ("search", 200), ("register", 403)]  # asked before resending
        for case_id in ("acme-1001", "acme-1002"):
            assert f"case {case_id}: push failed (stays approved): kravia POST /invoice/register: 403" in result.output
        assert not fake.invoices and statuses(ws) == {"1001": "approved", "1002": "approved"}
        assert {op.state for op in ws.store.read(case_store.ops, "acme")} == {case_store.FAILED}

        withdrawn = ws.cli("cases", "withdraw", "acme-1002", "--note", "the client settles it himself")
        assert withdrawn.exit_code == 0, withdrawn.output  # a pending push would refuse this
        assert withdrawn.stdout == "acme-1002: withdrawn (it was never sent to a provider)\n"
        assert nightly(ws, CASE).exit_code == 0  # the token fixed: pushed, once
        assert {case: len(v) for case, v in fake.by_accounting_id().items()} == {"acme-1001": 1}
        assert statuses(ws) == {"1001": "pushed", "1002": "withdrawn"}
        assert len(fake.calls("POST", "/api/v2/invoice/register")) == 5  # 2 dropped, 2 refused, 1 created


def test_an_unresolved_push_is_never_cancelled_when_it_cannot_be_looked_up(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        setup_client(ws, monkeypatch, "kravia", fake.base_url)
        nightly(ws, CASE)
        approve(ws, "acme-1001")
        fake.fail(Failure("drop_after", route="/api/v2/invoice/register"))  # created, answer lost …
        fake.fail(Failure("status", route="/api/v2/invoice/search", status=503, times=3))  # … lookup down
        nightly(ws, CASE)
        [op] = ws.store.read(case_store.ops, "acme")
        assert op.pending and len(fake.invoices) == 1
        # The debtor pays the client directly; months later the invoice is settled long ago (no decision).
        paid = CASE + timedelta(days=1)
        ws.add_bank_file("camt054-paid.xml", [Entry("PAY-1", "1000.00", paid, kid("1001"))], created=paid)
        later = CASE + timedelta(days=90)
        result = nightly(ws, later)
        assert "cannot be looked up" in result.output  # the accountant is told to check the provider
        [op] = ws.store.read(case_store.ops, "acme")
        assert op.pending  # not cancelled: the case may be live at the provider
        assert statuses(ws) == {"1001": "approved"}
        assert len(fake.calls("POST", "/api/v2/invoice/register")) == 1  # and never sent again


def test_debitura_5xx_is_retried_with_the_same_key_and_makes_one_case(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeDebitura(api_key=DEBITURA_KEY) as fake:
        setup_client(ws, monkeypatch, "debitura", fake.base_url)
        nightly(ws, CASE)
        approve(ws, "acme-1001")
        fake.fail(Failure("drop_after", route="/cases", method="POST"))  # created, answer lost
        fake.fail(Failure("status", route="/cases", method="POST", status=503, headers={"Retry-After": "0"}))
        assert nightly(ws, CASE).exit_code == 0
        creates = fake.calls("POST", "/cases")
        assert len(creates) == 3 and len({c.headers["Idempotency-Key"] for c in creates}) == 1
        assert len(fake.cases) == 1 and statuses(ws) == {"1001": "pushed"}


def test_a_typed_business_error_is_surfaced_and_the_case_goes_back_to_review(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeDebitura(api_key=DEBITURA_KEY) as fake:
        setup_client(ws, monkeypatch, "debitura", fake.base_url)
        nightly(ws, CASE)
        approve(ws, "acme-1001")
        url = "https://app.debitura.com/sign/abc"
        fake.next_business_errors.append(("MissingDebtCollectionContract", "Sign the agreement first", url))
        result = nightly(ws, CASE)
        assert result.exit_code == 0
        assert "MissingDebtCollectionContract: Sign the agreement first" in result.output
        assert url in result.output
        assert statuses(ws) == {"1001": "proposed"} and not fake.cases
        # Signed; the accountant approves again: a new key (the old one replays the refusal).
        approve(ws, "acme-1001")
        assert nightly(ws, CASE).exit_code == 0
        keys = [c.headers["Idempotency-Key"] for c in fake.calls("POST", "/cases")]
        assert len(keys) == 2 and keys[0] != keys[1]
        assert len(fake.cases) == 1 and statuses(ws) == {"1001": "pushed"}


def test_a_kravia_validation_error_names_the_field(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeKravia(token=KRAVIA_TOKEN, creditor_id=1) as fake:  # our config says 10759: refused
        setup_client(ws, monkeypatch, "kravia", fake.base_url)
        nightly(ws, CASE)
        approve(ws, "acme-1001")
        result = nightly(ws, CASE)
        assert "kravia refused the case" in result.output and "creditorId: Unknown creditor." in result.output
        assert statuses(ws) == {"1001": "proposed"}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("paid", "paid or credited since approval"),
        ("credited", "open amount changed since approval: 1000.00 → 400.00"),
        ("disputed", "disputed: manual: the goods never arrived"),
        ("agreed", "agreement: "),
    ],
)
def test_an_approval_is_rechecked_at_push_time(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, change: str, reason: str
) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        setup_client(ws, monkeypatch, "kravia", fake.base_url)
        nightly(ws, CASE)
        approve(ws, "acme-1001")
        day = CASE + timedelta(days=1)
        if change == "paid":
            ws.add_bank_file("camt054-paid.xml", [Entry("PAY-1", "1000.00", day, kid("1001"))], created=day)
        elif change == "credited":
            ws.add_credit_note("5001", "1001", issue=day, amount="600.00")
        elif change == "disputed":
            reason_args = ("--reason", "the goods never arrived", "--as-of", day.isoformat())
            opened = ws.cli("disputes", "open", "--client", "acme", "1001", *reason_args)
            assert opened.exit_code == 0, opened.output
        else:
            when = (day + timedelta(days=20)).isoformat()
            added = ws.cli(
                "agreements", "add", "--client", "acme", "1001", "--promise-date", when, "--as-of", day.isoformat()
            )
            assert added.exit_code == 0, added.output
        result = nightly(ws, day)
        assert result.exit_code == 0, result.output
        assert fake.calls("POST", "/api/v2/invoice/register") == []
        assert statuses(ws) == {"1001": "proposed"}
        assert reason in result.output
        [case] = ws.store.read(case_store.load_cases, ["acme"])
        assert reason in case.note


def test_stale_bank_data_makes_the_push_wait_without_losing_the_approval(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        setup_client(ws, monkeypatch, "kravia", fake.base_url)
        nightly(ws, CASE)
        approve(ws, "acme-1001")
        later = CASE + timedelta(days=10)  # no bank file since CASE
        result = ws.cli("run", "--as-of", later.isoformat())
        assert "push waits (stays approved)" in result.output and "bank_data_stale" in result.output
        assert statuses(ws) == {"1001": "approved"} and not fake.invoices
        assert nightly(ws, later).exit_code == 0
        assert statuses(ws) == {"1001": "pushed"} and len(fake.invoices) == 1


def test_auto_approve_rule_b2b_below_the_limit(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        policy = {"auto_approve": True, "auto_approve_b2b_only": True, "auto_approve_max_amount": "5000"}
        setup_client(ws, monkeypatch, "kravia", fake.base_url, policy=policy)
        result = nightly(ws, CASE)
        assert result.exit_code == 0, result.output
        assert statuses(ws) == {"1001": "pushed"}
        [case] = ws.store.read(case_store.load_cases, ["acme"])
        approved = next(e for e in case.events if str(e.status) == "approved")
        assert approved.note == "auto-approved by client rule: B2B debtor (org no 934567897), open 1000.00 ≤ 5000 NOK"


def test_auto_approve_rule_above_the_limit_waits_for_the_accountant(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        policy = {"auto_approve": True, "auto_approve_max_amount": "999.99"}
        setup_client(ws, monkeypatch, "kravia", fake.base_url, policy=policy)
        assert nightly(ws, CASE).exit_code == 0
        assert statuses(ws) == {"1001": "proposed"} and not fake.invoices


def test_a_batch_is_pushed_concurrently_once_each(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    numbers = tuple(str(1001 + i) for i in range(12))
    with FakeDebitura(api_key=DEBITURA_KEY, latency=0.01) as fake:
        setup_client(ws, monkeypatch, "debitura", fake.base_url, invoices=numbers, collection={"concurrency": 6})
        nightly(ws, CASE)
        approve(ws, *(f"acme-{n}" for n in numbers))
        assert nightly(ws, CASE).exit_code == 0
        assert sorted(fake.by_creditor_reference()) == sorted(numbers)
        assert all(len(v) == 1 for v in fake.by_creditor_reference().values())
        assert set(statuses(ws).values()) == {"pushed"}
