"""The nightly job end to end on files: letters, steps and cases, never twice, never for paid money."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from click.testing import Result

from connector.model import Action, DunningStep
from connector.store.facts import load_facts
from connector.store.sends import record_steps
from tests.builders import Entry, Workspace, client_table, kid, pdf_bytes

ISSUE = date(2026, 6, 1)
DUE = date(2026, 6, 15)  # Monday
REMIND = DUE + timedelta(days=14)  # default ladder: reminder 14 days after due
NOTICE = REMIND + timedelta(days=14)
# The notice states Monday 27 July as its deadline: the debtor owns that day, and a payment made on it
# reaches the bank files within policy.settle_days (2) business days after the next: a case from Thursday.
CASE = date(2026, 7, 30)
PDF = pdf_bytes("Faktura 1001")


def nightly(ws: Workspace, day: date, *extra: str) -> Result:
    """The bank's file of the day arrives, then cron runs arsync."""
    ws.bank_heartbeat(day)
    return ws.cli("run", "--as-of", day.isoformat(), *extra)


def letters(ws: Workspace, client_id: str = "acme") -> list[str]:
    """The reminders and notices written, one per (client, invoice, step, day), whatever files make one up."""
    return ws.letters(client_id)


def steps(ws: Workspace) -> list[tuple[str, str, date]]:
    return [(s.invoice_number, str(s.step), s.sent_on) for s in ws.store.read(load_facts, "acme").steps]


def cases(ws: Workspace) -> list[dict[str, Any]]:
    result = ws.cli("cases", "list", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["items"]


def overdue_invoice(ws: Workspace, **policy: Any) -> None:
    ws.write_config(client_table("acme", policy=policy) if policy else client_table("acme"))
    ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="1000.00", pdf=PDF)


def ready_for_collection(ws: Workspace, **policy: Any) -> None:
    """Reminder and inkassovarsel already sent: the case may be proposed on CASE."""
    overdue_invoice(ws, **policy)
    with ws.store.transaction() as conn:
        record_steps(
            conn,
            [
                DunningStep("acme", "1001", Action.REMINDER, REMIND, "outbox", currency="NOK"),
                DunningStep("acme", "1001", Action.COLLECTION_NOTICE, NOTICE, "outbox", currency="NOK"),
            ],
        )


def test_run_twice_on_the_same_day_sends_one_reminder(ws: Workspace) -> None:
    overdue_invoice(ws)
    first = nightly(ws, REMIND)
    assert first.exit_code == 0, first.output
    assert "reminder for invoice 1001" in first.stdout
    assert letters(ws) == [f"acme--1001--reminder--{REMIND.isoformat()}"]
    files = ws.outbox_files(ws.reminders_dir())
    assert "Faktura 1001 01.06.2026 15.06.2026 1 000,00" in ws.letter_text("1001", "reminder", REMIND)
    xmls = [(ws.reminders_dir() / f).read_text(encoding="utf-8") for f in files if f.endswith(".xml")]
    assert any("<cbc:ID>1001</cbc:ID>" in t and ">1000.00<" in t for t in xmls)

    second = nightly(ws, REMIND)
    assert second.exit_code == 0, second.output
    assert "reminder for invoice" not in second.stdout
    assert ws.outbox_files(ws.reminders_dir()) == files
    assert steps(ws) == [("1001", "reminder", REMIND)]


def test_the_ladder_walks_up_over_nightly_runs(ws: Workspace) -> None:
    overdue_invoice(ws)
    assert nightly(ws, REMIND - timedelta(days=1)).exit_code == 0
    assert steps(ws) == []  # not yet 14 days after due

    assert nightly(ws, REMIND).exit_code == 0
    # the reminder asks for payment by Monday 13 July: the notice waits for the next business day and the
    # 2 settle days, so a payment made on the 13th is seen first
    notice, case_day = date(2026, 7, 16), date(2026, 8, 4)
    assert nightly(ws, notice - timedelta(days=1)).exit_code == 0
    assert steps(ws) == [("1001", "reminder", REMIND)]  # the interval after the reminder holds

    assert nightly(ws, notice).exit_code == 0
    assert steps(ws) == [("1001", "reminder", REMIND), ("1001", "collection_notice", notice)]
    assert letters(ws) == [
        f"acme--1001--collection_notice--{notice.isoformat()}",
        f"acme--1001--reminder--{REMIND.isoformat()}",
    ]

    ws.post_letters()  # (a case only follows a notice the debtor was sent)
    assert nightly(ws, case_day - timedelta(days=1)).exit_code == 0
    assert cases(ws) == []  # the inkassovarsel's deadline (30 July) and the settle days have not passed

    result = nightly(ws, case_day)
    assert result.exit_code == 0, result.output
    [case] = cases(ws)
    assert (case["case_id"], case["invoice"], case["status"]) == ("acme-1001", "1001", "proposed")
    assert ws.outbox_files(ws.cases_dir()) == []  # nothing leaves before the accountant approves
    item = ws.items(case_day, "--no-sync")["1001"]
    assert (item["action"], item["holds"]) == ("hold", ["awaiting_approval"])


def test_a_proposed_case_is_not_duplicated_and_an_approved_one_is_pushed_once(ws: Workspace) -> None:
    ready_for_collection(ws)
    assert nightly(ws, CASE).exit_code == 0
    assert nightly(ws, CASE).exit_code == 0
    assert [(c["case_id"], c["status"]) for c in cases(ws)] == [("acme-1001", "proposed")]
    assert len(ws.store.read(load_facts, "acme").cases[0].events) == 1

    approve = ws.cli("cases", "approve", "acme-1001", "--as-of", CASE.isoformat())
    assert approve.exit_code == 0, approve.output
    for _ in range(2):
        push = ws.cli("cases", "push", "--as-of", CASE.isoformat())
        assert push.exit_code == 0, push.output
    assert nightly(ws, CASE).exit_code == 0

    files = ws.outbox_files(ws.cases_dir())
    assert files == ["acme-1001--faktura-1001.pdf", "acme-1001.json"]
    assert (ws.cases_dir() / "acme-1001--faktura-1001.pdf").read_bytes() == PDF
    body = json.loads((ws.cases_dir() / "acme-1001.json").read_text(encoding="utf-8"))
    assert body["case_id"] == "acme-1001"
    assert body["invoice"]["remaining_amount"] == "1000.00"
    assert body["invoice"]["kid"] == kid("1001")
    assert [s["step"] for s in body["steps"]] == ["reminder", "collection_notice"]
    assert [c["status"] for c in cases(ws)] == ["pushed"]
    item = ws.items(CASE, "--no-sync")["1001"]
    assert (item["state"], item["action"], item["holds"]) == ("in_collection", "hold", ["in_collection"])


def test_a_case_is_not_pushed_when_the_invoice_was_paid_after_approval(ws: Workspace) -> None:
    ready_for_collection(ws)
    assert nightly(ws, CASE).exit_code == 0
    assert ws.cli("cases", "approve", "acme-1001", "--as-of", CASE.isoformat()).exit_code == 0

    paid_on = CASE + timedelta(days=1)
    ws.add_bank_file("camt054-paid.xml", [Entry("PAY-1", "1000.00", paid_on, kid("1001"))], created=paid_on)
    result = ws.cli("run", "--as-of", paid_on.isoformat())
    assert result.exit_code == 0, result.output
    assert ws.cli("cases", "push", "--as-of", paid_on.isoformat()).exit_code == 0

    assert ws.outbox_files(ws.cases_dir()) == []
    [case] = cases(ws)
    assert case["status"] not in ("approved", "pushed")  # never left standing to go out later
    assert ws.items(paid_on, "--no-sync")["1001"]["state"] == "settled"


def test_a_part_payment_after_approval_sends_the_case_back_for_review(ws: Workspace) -> None:
    ready_for_collection(ws)
    assert nightly(ws, CASE).exit_code == 0
    assert ws.cli("cases", "approve", "acme-1001", "--as-of", CASE.isoformat()).exit_code == 0
    day = CASE + timedelta(days=1)
    ws.add_bank_file("camt054-part.xml", [Entry("PAY-2", "400.00", day, kid("1001"))], created=day)
    assert ws.cli("run", "--as-of", day.isoformat()).exit_code == 0
    assert ws.outbox_files(ws.cases_dir()) == []
    assert [c["status"] for c in cases(ws)] == ["proposed"]


def test_auto_approve_pushes_the_case_in_the_same_run(ws: Workspace) -> None:
    ready_for_collection(ws, auto_approve=True)
    result = nightly(ws, CASE)
    assert result.exit_code == 0, result.output
    assert ws.outbox_files(ws.cases_dir()) == ["acme-1001--faktura-1001.pdf", "acme-1001.json"]
    assert [c["status"] for c in cases(ws)] == ["pushed"]


def test_without_auto_approve_nothing_is_pushed(ws: Workspace) -> None:
    ready_for_collection(ws)
    assert nightly(ws, CASE).exit_code == 0
    assert ws.cli("cases", "push", "--as-of", CASE.isoformat()).exit_code == 0
    assert ws.outbox_files(ws.cases_dir()) == []


def test_a_rejected_case_is_never_proposed_again(ws: Workspace) -> None:
    ready_for_collection(ws)
    assert nightly(ws, CASE).exit_code == 0
    rejected = ws.cli("cases", "reject", "acme-1001", "--note", "customer is a friend", "--as-of", CASE.isoformat())
    assert rejected.exit_code == 0, rejected.output
    assert nightly(ws, CASE + timedelta(days=1)).exit_code == 0
    assert [c["status"] for c in cases(ws)] == ["rejected"]
    assert ws.outbox_files(ws.cases_dir()) == []
    # … unless the accountant reopens it: the way out the excluded hold names
    day = CASE + timedelta(days=1)
    held = ws.items(day, "--no-sync")["1001"]
    assert held["holds"] == ["excluded"]
    assert any("cases reopen acme-1001" in e["detail"] for e in held["evidence"] if e["kind"] == "hold")
    reopened = ws.cli("cases", "reopen", "acme-1001", "--note", "not a friend after all", "--as-of", day.isoformat())
    assert reopened.exit_code == 0, reopened.output
    assert ws.cli("cases", "approve", "acme-1001", "--as-of", day.isoformat()).exit_code == 0
    assert nightly(ws, day).exit_code == 0
    assert len(ws.outbox_files(ws.cases_dir())) > 0  # pushed to the outbox provider


def test_approving_several_cases_records_all_or_none(ws: Workspace) -> None:
    ready_for_collection(ws)
    assert nightly(ws, CASE).exit_code == 0
    typo = ws.cli("cases", "approve", "acme-1001", "acme-1002", "--as-of", CASE.isoformat())
    assert typo.exit_code == 2 and "no case 'acme-1002'" in typo.stderr
    assert [c["status"] for c in cases(ws)] == ["proposed"]  # the good one was not approved either
    assert ws.cli("cases", "approve", "acme-1001", "--as-of", CASE.isoformat()).exit_code == 0
    again = ws.cli("cases", "reject", "acme-1001", "--note", "changed my mind", "--as-of", CASE.isoformat())
    assert again.exit_code == 2
    assert "case 'acme-1001' is approved; only proposed cases can be rejected" in again.stderr
    assert [c["status"] for c in cases(ws)] == ["approved"]


# ---- money that does not (yet) settle --------------------------------------------------------------


def test_a_pending_camt052_payment_holds_and_never_settles(ws: Workspace) -> None:
    overdue_invoice(ws)
    ws.add_bank_file(
        "camt052-intraday.xml",
        [Entry("INTRA-1", "1000.00", REMIND, kid("1001"), status="PDNG")],
        created=REMIND,
        message="camt.052",
    )
    result = ws.cli("run", "--as-of", REMIND.isoformat())
    assert result.exit_code == 0, result.output
    assert ws.outbox_files(ws.reminders_dir()) == []  # the money is on its way: no reminder
    item = ws.items(REMIND, "--no-sync")["1001"]
    assert (item["state"], item["open_amount"], item["action"]) == ("overdue", "1000.00", "hold")
    assert item["holds"] == ["payment_pending"]

    # the booked camt.054 the next morning settles it
    booked = REMIND + timedelta(days=1)
    ws.add_bank_file("camt054-booked.xml", [Entry("BOOK-1", "1000.00", booked, kid("1001"))], created=booked)
    item = ws.items(booked)["1001"]
    assert (item["state"], item["open_amount"], item["action"]) == ("settled", "0.00", "none")


def test_a_pdng_entry_in_a_notification_holds_too(ws: Workspace) -> None:
    overdue_invoice(ws)
    ws.add_bank_file("camt054.xml", [Entry("P-1", "1000.00", REMIND, kid("1001"), status="PDNG")], created=REMIND)
    item = ws.items(REMIND)["1001"]
    assert item["open_amount"] == "1000.00"
    assert item["holds"] == ["payment_pending"]


def test_a_partly_paid_invoice_gets_a_review_not_a_letter_when_the_policy_says_review(ws: Workspace) -> None:
    overdue_invoice(ws, partial_payment="review")
    ws.add_bank_file("camt054.xml", [Entry("P-1", "600.00", DUE, kid("1001"))], created=REMIND)
    result = ws.cli("run", "--as-of", REMIND.isoformat())
    assert result.exit_code == 0, result.output
    assert ws.outbox_files(ws.reminders_dir()) == []
    item = ws.items(REMIND, "--no-sync")["1001"]
    assert (item["open_amount"], item["action"], item["holds"]) == ("400.00", "review", ["partly_paid"])


def test_stale_bank_data_stops_the_reminder(ws: Workspace) -> None:
    overdue_invoice(ws)
    ws.bank_heartbeat(REMIND - timedelta(days=4))  # policy allows 3 days
    result = ws.cli("run", "--as-of", REMIND.isoformat())
    assert result.exit_code == 0, result.output
    assert ws.outbox_files(ws.reminders_dir()) == []
    assert ws.items(REMIND, "--no-sync")["1001"]["holds"] == ["bank_data_stale"]


def test_one_failing_client_does_not_stop_the_others(ws: Workspace) -> None:
    ws.write_config(client_table("acme"), client_table("beta"))
    ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="1000.00")
    ws.add_invoice("2001", client_id="beta", issue=ISSUE, due=DUE, amount="500.00")
    ws.bank_heartbeat(REMIND, client_id="beta")
    for f in ws.ehf_dir("acme").iterdir():
        f.unlink()
    ws.ehf_dir("acme").rmdir()

    result = nightly(ws, REMIND)
    assert result.exit_code == 1
    assert "error: client acme: " in result.stderr
    assert ws.outbox_files(ws.reminders_dir("acme")) == []
    assert letters(ws, "beta") == [f"beta--2001--reminder--{REMIND.isoformat()}"]


def test_an_unreadable_bank_or_ledger_file_holds_dunning_until_it_reads(ws: Workspace) -> None:
    overdue_invoice(ws)
    # Yesterday's notification arrived truncated: it may carry the payment for 1001.
    broken = ws.bank_dir() / "camt054-truncated.xml"
    broken.write_text('<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"><Bk')
    result = nightly(ws, REMIND)
    assert "camt054-truncated.xml" in result.output  # named as a warning
    assert letters(ws) == []  # nothing sent on incomplete bank data
    item = ws.items(REMIND, "--no-sync")["1001"]
    assert item["action"] == "hold" and "bank_data_stale" in item["holds"]
    assert any("camt054-truncated.xml" in e["detail"] for e in item["evidence"])
    broken.unlink()  # the accountant removed (or the bank re-sent) the file
    assert nightly(ws, REMIND).exit_code == 0
    assert letters(ws) == [f"acme--1001--reminder--{REMIND.isoformat()}"]
    bad_invoice = ws.ehf_dir() / "9999-broken.xml"
    bad_invoice.write_text("<Invoice")  # an unreadable document in the ledger folder: maybe a credit note
    later = NOTICE
    nightly(ws, later)
    # nothing in it says what it is or whom it concerns: it holds every invoice of the client (issue 14)
    assert "unreadable_document" in ws.items(later, "--no-sync")["1001"]["holds"]
    assert letters(ws) == [f"acme--1001--reminder--{REMIND.isoformat()}"]  # no notice went out
