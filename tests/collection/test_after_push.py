"""After the push: status pull, direct payments and credits reported once, payouts never, withdrawal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from collection_env import CASE, DEBITURA_KEY, KRAVIA_TOKEN, nightly, setup_client, statuses

from connector.engine import afresh, slices
from connector.store import audit
from connector.store import cases as case_store
from connector.store.facts import load_facts
from tests.builders import Entry, Workspace, kid
from tests.fakes import FakeDebitura, FakeKravia
from tests.fakes.server import Failure

DAY = CASE + timedelta(days=3)


def pushed(ws: Workspace, monkeypatch: pytest.MonkeyPatch, provider: str, base_url: str) -> str:
    setup_client(ws, monkeypatch, provider, base_url)
    nightly(ws, CASE)
    assert ws.cli("cases", "approve", "acme-1001", "--as-of", CASE.isoformat()).exit_code == 0
    assert nightly(ws, CASE).exit_code == 0
    [case] = ws.store.read(case_store.load_cases, ["acme"])
    assert case.provider_ref is not None
    return case.provider_ref


def test_a_direct_payment_is_reported_to_kravia_once(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        ref = pushed(ws, monkeypatch, "kravia", fake.base_url)
        ws.add_bank_file("camt054-direct.xml", [Entry("PAY-9", "300.00", DAY, kid("1001"))], created=DAY)
        first = nightly(ws, DAY)
        assert first.exit_code == 0, first.output
        assert "reported direct payment 300.00 NOK to kravia" in first.stdout
        assert nightly(ws, DAY + timedelta(days=1)).exit_code == 0  # the next night: nothing again
        [call] = fake.calls("POST", "/api/v2/invoice/payment")
        assert call.body["invoices"] == [{"invoiceId": int(ref), "amount": 300}]
        assert call.body["AccountingPaymentId"].startswith("pay-") and call.body["date"] == DAY.isoformat()
        assert fake.invoices[int(ref)].outstanding == 700
        assert statuses(ws) == {"1001": "pushed"}


def test_a_provider_payout_is_never_reported_as_a_debtor_payment(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        pushed(ws, monkeypatch, "kravia", fake.base_url)
        # Kravia collected and pays the client, using the invoice's own KID.
        payout = Entry("PAYOUT-1", "1000.00", DAY, kid("1001"), payer="Kravia AS")
        ws.add_bank_file("camt054-payout.xml", [payout], created=DAY)
        assert nightly(ws, DAY).exit_code == 0
        assert fake.calls("POST", "/api/v2/invoice/payment") == []
        assert fake.calls("POST", "/api/v2/invoice/creditnote") == []


def test_a_full_credit_note_is_reported_and_the_closed_case_is_recorded(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        ref = pushed(ws, monkeypatch, "kravia", fake.base_url)
        ws.add_credit_note("5001", "1001", issue=DAY, amount="1000.00")
        result = nightly(ws, DAY)
        assert result.exit_code == 0, result.output
        [call] = fake.calls("POST", "/api/v2/invoice/creditnote")
        assert call.body["Amount"] == -1000 and call.body["Invoices"] == [{"InvoiceId": int(ref), "Amount": -1000}]
        assert "settled in full; kravia closed it (Credited)" in result.stdout
        assert statuses(ws) == {"1001": "closed"}
        assert nightly(ws, DAY + timedelta(days=1)).exit_code == 0
        assert len(fake.calls("POST", "/api/v2/invoice/creditnote")) == 1


def test_status_pull_records_paused_then_closed(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        ref = int(pushed(ws, monkeypatch, "kravia", fake.base_url))
        fake.set_status(ref, "Paused")
        assert "kravia reports paused" in nightly(ws, DAY).stdout
        assert nightly(ws, DAY).stdout.count("kravia reports") == 0  # unchanged: nothing new recorded
        fake.set_status(ref, "Closed", "Paid")
        assert "kravia reports closed (Paid)" in nightly(ws, DAY + timedelta(days=1)).stdout
        assert statuses(ws) == {"1001": "closed"}
        states = [s.status for s in ws.store.read(case_store.provider_history, "acme", "acme-1001")]
        assert states == ["active", "paused", "closed"]
        # the delta search carried the cursor: later pulls ask only for what changed since
        last = fake.calls("GET", "/api/v2/invoice/search")[-1]
        assert "lastUpdatedTime" in last.query


def test_a_dispute_reported_by_debitura_opens_a_dispute(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeDebitura(api_key=DEBITURA_KEY) as fake:
        ref = pushed(ws, monkeypatch, "debitura", fake.base_url)
        fake.set_lifecycle(ref, "Closed", "DisputedLegalActionDeclinedByClient")
        assert nightly(ws, DAY).exit_code == 0
        assert statuses(ws) == {"1001": "closed"}
        [dispute] = ws.store.read(load_facts, "acme").disputes
        assert dispute.source == "provider" and "DisputedLegalActionDeclinedByClient" in dispute.reason


def test_a_direct_payment_in_full_is_reported_to_debitura_which_closes_the_case(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeDebitura(api_key=DEBITURA_KEY) as fake:
        ref = pushed(ws, monkeypatch, "debitura", fake.base_url)
        ws.add_bank_file("camt054-direct.xml", [Entry("PAY-9", "1000.00", DAY, kid("1001"))], created=DAY)
        result = nightly(ws, DAY)
        assert result.exit_code == 0, result.output
        [call] = fake.calls("POST", f"/cases/{ref}/payments")
        assert call.body["paymentRecipient"] == "Creditor" and call.headers["Idempotency-Key"].startswith("arsync-")
        assert statuses(ws) == {"1001": "closed"}
        assert fake.cases[ref].close_code == "Paid"


def test_withdraw_at_debitura(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeDebitura(api_key=DEBITURA_KEY) as fake:
        ref = pushed(ws, monkeypatch, "debitura", fake.base_url)
        result = ws.cli("cases", "withdraw", "acme-1001", "--note", "settled by phone", "--as-of", DAY.isoformat())
        assert result.exit_code == 0, result.output
        [call] = fake.calls("POST", f"/cases/{ref}/close")
        assert call.body == {"closeCode": "WithdrawnByClient", "comment": "settled by phone"}
        assert statuses(ws) == {"1001": "withdrawn"}
        item = ws.items(DAY, "--no-sync")["1001"]
        assert item["action"] != "collection_case" and "excluded" in item["holds"]  # never back by itself
        again = ws.cli("cases", "withdraw", "acme-1001", "--note", "twice", "--as-of", DAY.isoformat())
        assert again.exit_code == 2 and "withdrawn" in again.output


def test_a_withdrawal_is_in_the_audit_trail_and_the_case_history_with_who_made_it(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the provider, recorded as done in its portal, or before the push: each is ``case.withdraw`` by
    ``cli:<login>``, as approvals are, and the case's history says who."""
    monkeypatch.setattr("getpass.getuser", lambda: "kari")
    with FakeDebitura(api_key=DEBITURA_KEY) as fake:
        setup_client(ws, monkeypatch, "debitura", fake.base_url, invoices=("1001", "1002", "1003"))
        nightly(ws, CASE)
        approve = ("cases", "approve", "acme-1001", "acme-1002", "--note", "ok", "--as-of", CASE.isoformat())
        assert ws.cli(*approve).exit_code == 0
        assert nightly(ws, CASE).exit_code == 0
        day = ("--as-of", DAY.isoformat())
        for args in (
            ("acme-1001", "--note", "tvist"),
            ("acme-1002", "--note", "paid in the portal", "--done-at-provider"),
            ("acme-1003", "--note", "tvist"),  # never pushed
        ):
            withdrawn = ws.cli("cases", "withdraw", *args, *day)
            assert withdrawn.exit_code == 0, withdrawn.output
        [close] = fake.calls("POST", f"/cases/{_provider_ref(ws, '1001')}/close")
    assert close.body["comment"] == "tvist"  # the provider gets the note as written
    trail = [(e.actor, e.action, e.subject, e.detail) for e in reversed(ws.store.read(audit.entries))]
    assert trail[2:] == [
        ("cli:kari", "case.withdraw", "acme-1001", "tvist (withdrawn at debitura)"),
        ("cli:kari", "case.withdraw", "acme-1002", "paid in the portal (done at the provider by hand)"),
        ("cli:kari", "case.withdraw", "acme-1003", "tvist (withdrawn here)"),
    ]
    assert [a for _, a, _, _ in trail[:2]] == ["case.approve", "case.approve"]
    history = {c.invoice_number: c.events[-1].note for c in ws.store.read(case_store.load_cases, ["acme"])}
    assert history == {
        "1001": "tvist (withdrawn at debitura, by cli:kari)",
        "1002": "paid in the portal (done at the provider by hand, by cli:kari)",
        "1003": "tvist (withdrawn here, by cli:kari)",
    }


def _provider_ref(ws: Workspace, number: str) -> str:
    [ref] = [c.provider_ref for c in ws.store.read(case_store.load_cases, ["acme"]) if c.invoice_number == number]
    assert ref is not None
    return ref


def test_a_case_withdrawn_at_the_provider_is_never_reopened_and_the_hold_says_what_to_do(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """arsync never sends a case twice: a reopened case that the provider had could be a second claim (the
    withdrawal may not have reached it), and the provider's lookups by reference would find the old one."""
    with FakeDebitura(api_key=DEBITURA_KEY) as fake:
        pushed(ws, monkeypatch, "debitura", fake.base_url)
        note = ("cases", "withdraw", "acme-1001", "--note", "paid directly?", "--as-of", DAY.isoformat())
        assert ws.cli(*note).exit_code == 0
        item = ws.items(DAY, "--no-sync")["1001"]
        assert "excluded" in item["holds"]
        held = [e["detail"] for e in item["evidence"] if e["kind"] == "hold" and "withdrawn" in e["detail"]]
        assert held and all("register the claim again" in h and "cases reopen" not in h for h in held)
        refused = ws.cli("cases", "reopen", "acme-1001", "--note", "no payment came", "--as-of", DAY.isoformat())
        assert refused.exit_code == 2 and "arsync never sends a case twice" in refused.stderr
        assert statuses(ws) == {"1001": "withdrawn"}
        before = " ".join(
            ws.cli("explain", "acme", "1001", "--as-of", (CASE - timedelta(days=1)).isoformat()).stdout.split()
        )
        assert f"also what came after {(CASE - timedelta(days=1)).isoformat()}:" in before
        assert f"case acme-1001 withdrawn on {DAY.isoformat()}" in before  # a past day, with today's facts named
        assert nightly(ws, DAY + timedelta(days=1)).exit_code == 0
        assert [c for c in fake.calls("POST", "/cases") if c.path == "/cases"][1:] == []  # one create, ever


def test_a_part_payment_after_the_proposal_sends_the_case_back_once_for_the_new_amount(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The push refuses a case whose amount changed since it was proposed; approved again, it goes for the
    amount open now (it used to be refused for the same reason on every push)."""
    with FakeDebitura(api_key=DEBITURA_KEY) as fake:
        setup_client(ws, monkeypatch, "debitura", fake.base_url)
        nightly(ws, CASE)
        ws.add_bank_file("camt054-part.xml", [Entry("PAY-1", "400.00", CASE, kid("1001"))], created=CASE)
        assert ws.cli("cases", "approve", "acme-1001", "--as-of", CASE.isoformat()).exit_code == 0
        first = nightly(ws, CASE)
        assert "open amount changed since approval: 1000.00 → 600.00" in first.output
        assert statuses(ws) == {"1001": "proposed"}
        assert ws.cli("cases", "approve", "acme-1001", "--as-of", CASE.isoformat()).exit_code == 0
        assert nightly(ws, CASE).exit_code == 0
        assert statuses(ws) == {"1001": "pushed"}
        [create] = [c for c in fake.calls("POST", "/cases") if c.path == "/cases"]
        assert str(create.body["amountToRecover"]) in ("600", "600.0", "600.00")


def test_withdraw_at_kravia_needs_the_portal_and_is_then_recorded(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        pushed(ws, monkeypatch, "kravia", fake.base_url)
        result = ws.cli("cases", "withdraw", "acme-1001", "--note", "goodwill", "--as-of", DAY.isoformat())
        assert result.exit_code == 1 and "no API to withdraw" in result.output
        assert statuses(ws) == {"1001": "pushed"}
        done = ws.cli("cases", "withdraw", "acme-1001", "--note", "goodwill", "--done-at-provider")
        assert done.exit_code == 0, done.output
        assert statuses(ws) == {"1001": "withdrawn"}


def test_a_withdrawal_done_in_the_portal_settles_the_one_whose_answer_was_lost(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The withdrawal reached Debitura but its answer never came back, so its outcome is unknown (pending).
    The accountant checks the portal and records it as done there: the pending withdrawal is settled with
    it, nothing is sent to the provider again, and nothing is left for the provider to be asked about."""
    with FakeDebitura(api_key=DEBITURA_KEY) as fake:
        ref = pushed(ws, monkeypatch, "debitura", fake.base_url)
        fake.fail(Failure("drop_after", route=f"/cases/{ref}/close", times=10))
        lost = ws.cli("cases", "withdraw", "acme-1001", "--note", "goodwill", "--as-of", DAY.isoformat())
        assert lost.exit_code == 1 and "did not withdraw" in lost.output
        assert statuses(ws) == {"1001": "pushed"} and fake.cases[ref].close_code == "WithdrawnByClient"
        sent = len(fake.calls())

        done = ws.cli("cases", "withdraw", "acme-1001", "--note", "seen closed in the portal", "--done-at-provider")
        assert done.exit_code == 0, done.output
        assert statuses(ws) == {"1001": "withdrawn"}
        shown = ws.cli("cases", "show", "acme-1001").stdout
        assert "withdraw at debitura: done" in shown and "pending" not in shown
        monkeypatch.delenv("DEBITURA_KEY")  # nothing left to ask the provider: the night does not open it
        night = nightly(ws, DAY + timedelta(days=1))
        assert night.exit_code == 0, night.output
        assert len(fake.calls()) == sent  # never sent again
        assert statuses(ws) == {"1001": "withdrawn"}


def test_withdraw_before_the_push_is_local(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        setup_client(ws, monkeypatch, "kravia", fake.base_url)
        nightly(ws, CASE)
        assert ws.cli("cases", "approve", "acme-1001", "--as-of", CASE.isoformat()).exit_code == 0
        assert ws.cli("cases", "withdraw", "acme-1001", "--note", "changed my mind").exit_code == 0
        assert nightly(ws, CASE).exit_code == 0
        assert statuses(ws) == {"1001": "withdrawn"} and not fake.invoices


def test_a_client_decided_in_slices_pushes_and_reports_as_in_one_piece(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The push re-check and the follow-up read the cases' invoices slice by slice (connector.engine.afresh):
    a very large client is never read whole for them, and they find what a client read in one piece finds."""
    monkeypatch.setattr(slices, "SLICE_DOCUMENTS", 1)  # every customer its own slice
    monkeypatch.setattr(slices, "PARALLEL_SLICES", 1)
    runs: list[slices.SlicedRun] = []

    class Counted(slices.SlicedRun):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            runs.append(self)

    monkeypatch.setattr(afresh, "SlicedRun", Counted)
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        setup_client(ws, monkeypatch, "kravia", fake.base_url)
        for i, org in enumerate(("923456791", "987654325")):  # other customers: other slices
            ws.add_invoice(
                f"200{i}", customer=f"Kunde {org}", org=org, issue=CASE, due=CASE + timedelta(days=14), amount="50.00"
            )
        nightly(ws, CASE)
        assert ws.cli("cases", "approve", "acme-1001", "--as-of", CASE.isoformat()).exit_code == 0
        assert nightly(ws, CASE).exit_code == 0
        [case] = ws.store.read(case_store.load_cases, ["acme"])
        assert case.provider_ref is not None  # pushed after its re-check

        ws.add_bank_file("camt054-direct.xml", [Entry("PAY-9", "300.00", DAY, kid("1001"))], created=DAY)
        first = nightly(ws, DAY)
        assert "reported direct payment 300.00 NOK to kravia" in first.stdout
        [call] = fake.calls("POST", "/api/v2/invoice/payment")
        assert call.body["invoices"] == [{"invoiceId": int(case.provider_ref), "amount": 300}]
    assert len(runs) >= 2 and all(r.slices == 3 for r in runs)  # the push and the follow-up, each in 3 slices
