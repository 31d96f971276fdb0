"""Issue 14 end to end: `arsync run` day after day (`--as-of`), the bank's files arriving on the days payments
are made, and every day run twice (cron may): part payments, deductions, broken plans, files that do not read,
quarantine and release, and when a collection case may be proposed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from connector.model import Action, DunningStep
from connector.store import audit
from connector.store.cases import load_cases
from connector.store.facts import load_facts
from connector.store.sends import record_steps
from tests.builders import Entry, Workspace, client_table, kid, ubl_credit_note, ubl_invoice

ISSUE = date(2026, 6, 1)
DUE = date(2026, 6, 15)  # Monday
REMIND = date(2026, 6, 29)  # due + 14: the default ladder's reminder day (Monday)
KUNDE, FJORD, HAVBRIS = "934567897", "987654325", "912345674"


def walk(ws: Workspace, first: date, last: date, paid: Mapping[date, Sequence[Entry]] | None = None) -> None:
    """Each day: the bank's file of the day (with the payments made that day), then the nightly run — twice,
    and the second run of a day sends, records and proposes nothing."""
    day = first
    while day <= last:
        ws.bank_heartbeat(day)
        entries = (paid or {}).get(day)
        if entries:
            ws.add_bank_file(f"camt054-{day.isoformat()}-payments.xml", entries, created=day)
        result = ws.cli("run", "--as-of", day.isoformat())
        assert result.exit_code == 0, result.output
        before = (letters(ws), steps(ws), ws.store.read(load_cases, ["acme"]))
        again = ws.cli("run", "--as-of", day.isoformat())
        assert again.exit_code == 0, again.output
        assert (letters(ws), steps(ws), ws.store.read(load_cases, ["acme"])) == before, f"the second run of {day} acted"
        ws.post_letters()  # the accountant posts the day's letters (a case may only follow a notice sent)
        day += timedelta(days=1)


def letters(ws: Workspace) -> list[str]:
    """One name per invoice a reminder or notice named: client--invoice--step--day."""
    return ws.letters()


def letter_text(ws: Workspace, number: str, step: str, day: date) -> str:
    """The text of the letter's PDF (amounts as the debtor's language writes them: 1 000,00)."""
    return ws.letter_text(number, step, day)


def steps(ws: Workspace) -> list[tuple[str, str, date]]:
    return sorted((s.invoice_number, str(s.step), s.sent_on) for s in ws.store.read(load_facts, "acme").steps)


def item(ws: Workspace, number: str, day: date) -> dict[str, Any]:
    return ws.items(day, "--no-sync")[number]


def pay(ref: str, number: str, amount: str, day: date, text: str = "", payer: str = "Kunde AS") -> Entry:
    return Entry(ref, amount, day, kid(number), payer=payer, text=text)


# ---- part payments --------------------------------------------------------------------------------------


def test_a_part_payment_is_followed_by_a_reminder_for_the_rest(ws: Workspace) -> None:
    ws.write_config(client_table())
    ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="1000.00")
    walk(ws, DUE, REMIND, paid={date(2026, 6, 22): [pay("P-1", "1001", "400.00", date(2026, 6, 22))]})
    assert letters(ws) == [f"acme--1001--reminder--{REMIND.isoformat()}"]
    text = letter_text(ws, "1001", "reminder", REMIND)
    # the payment shown, dated, and what is owed now: the remainder, never the original amount
    assert "Innbetalt 22.06.2026 -400,00" in text and "Rest faktura 1001 600,00" in text
    record = ws.letter_record("1001", "reminder", REMIND)
    assert Decimal("600.00") < record.total < Decimal("1000.00")  # the remainder with the fee and interest
    decision = item(ws, "1001", REMIND)
    [received] = [e for e in decision["evidence"] if e.get("ref", "").startswith("camt|")]
    assert (received["amount"], received["date"]) == ("400.00", "2026-06-22")  # each payment, dated
    assert any(e["kind"] == "owed" and e["amount"] == "600.00" for e in decision["evidence"])
    # the ladder goes on from where it was for what is still owed, once the reminder's pay-by date (13 July)
    # has passed and a payment made on it had two business days to reach the bank files (16 July)
    notice = date(2026, 7, 16)
    walk(ws, REMIND + timedelta(days=1), notice)
    assert f"acme--1001--collection_notice--{notice.isoformat()}" in letters(ws)
    assert "Rest faktura 1001 600,00" in letter_text(ws, "1001", "collection_notice", notice)


def test_a_deduction_in_the_payment_text_goes_to_a_person_who_can_let_the_rest_be_reminded(ws: Workspace) -> None:
    ws.write_config(client_table())
    ws.add_invoice("1002", issue=ISSUE, due=DUE, amount="1000.00", customer="Fjord AS", org=FJORD)
    deduction = pay("P-2", "1002", "700.00", date(2026, 6, 22), "Faktura 1002 trekk 300 for skadet vare", "Fjord AS")
    walk(ws, DUE, REMIND, paid={date(2026, 6, 22): [deduction]})
    assert letters(ws) == []
    decision = item(ws, "1002", REMIND)
    assert (decision["action"], decision["holds"]) == ("review", ["partly_paid"])
    [why] = [e["detail"] for e in decision["evidence"] if e["detail"].startswith("partly_paid")]
    assert "trekk 300 for skadet vare" in why and "arsync invoices confirm acme 1002" in why

    confirmed = ws.cli(
        "invoices", "confirm", "acme", "1002", "--note", "called: the 300 is owed", "--as-of", "2026-06-30"
    )
    assert confirmed.exit_code == 0, confirmed.output
    walk(ws, date(2026, 6, 30), date(2026, 6, 30))
    assert letters(ws) == ["acme--1002--reminder--2026-06-30"]
    assert "Rest faktura 1002 300,00" in letter_text(ws, "1002", "reminder", date(2026, 6, 30))


def test_a_plan_broken_after_one_instalment_resumes_at_the_step_it_interrupted(ws: Workspace) -> None:
    ws.write_config(client_table())
    ws.add_invoice("1003", issue=ISSUE, due=DUE, amount="1000.00", customer="Havbris AS", org=HAVBRIS)
    walk(ws, REMIND, REMIND)
    plan = ws.cli(
        "agreements", "add", "acme", "1003", "--instalments", "2", "--first", "2026-07-06", "--every", "14d",
        "--as-of", "2026-07-01",
    )  # fmt: skip
    assert plan.exit_code == 0, plan.output
    first = {date(2026, 7, 6): [pay("P-3", "1003", "500.00", date(2026, 7, 6), payer="Havbris AS")]}
    walk(ws, date(2026, 7, 1), date(2026, 7, 23), paid=first)  # the second instalment (20 July) + 3 grace days
    assert letters(ws) == [f"acme--1003--reminder--{REMIND.isoformat()}"]
    # the plan is confirmed in writing once (issue 15), the day it was recorded
    assert ws.letters(kinds=("follow_up",)) == ["acme--1003--follow_up--2026-07-01"]
    assert item(ws, "1003", date(2026, 7, 23))["holds"] == ["agreement"]
    walk(ws, date(2026, 7, 24), date(2026, 7, 24))  # broken: nothing came by 20 July + 3 grace days
    assert "acme--1003--collection_notice--2026-07-24" in letters(ws)
    assert "Rest faktura 1003 500,00" in letter_text(ws, "1003", "collection_notice", date(2026, 7, 24))


# ---- files that do not read ------------------------------------------------------------------------------


def _response_from(org: str) -> str:
    """An Invoice Response cut off before it says which invoice it answers: only its sender is known."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ApplicationResponse xmlns="urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:fdc:peppol.eu:poacc:trns:invoice_response:3</cbc:CustomizationID>
  <cbc:ID>IR-77</cbc:ID>
  <cbc:IssueDate>2026-06-26</cbc:IssueDate>
  <cac:SenderParty><cbc:EndpointID schemeID="0192">{org}</cbc:EndpointID>
    <cac:PartyLegalEntity><cbc:RegistrationName>Fjord AS</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:SenderParty>
  <cac:DocumentResponse><cac:Response><cbc:ResponseCode>R"""


def _files(ws: Workspace) -> dict[str, dict[str, Any]]:
    result = ws.cli("files", "list", "--json")
    assert result.exit_code == 0, result.output
    return {f["name"]: f for f in json.loads(result.stdout)["files"]}


def test_each_unreadable_file_holds_only_what_it_could_change_until_quarantined(ws: Workspace) -> None:
    ws.write_config(client_table(policy={"customer_interval_days": 0}))  # one letter a day per customer is fine
    ws.add_invoice("2001", issue=ISSUE, due=DUE, amount="1000.00")
    ws.add_invoice("2002", issue=ISSUE, due=DUE, amount="2000.00")
    ws.add_invoice("2101", issue=ISSUE, due=DUE, amount="3000.00", customer="Fjord AS", org=FJORD)
    ws.add_invoice("2201", issue=ISSUE, due=DUE, amount="4000.00", customer="Havbris AS", org=HAVBRIS)
    ehf = ws.ehf_dir()
    broken_invoice = ubl_invoice("2301", issue=ISSUE, due=DUE, amount="5000.00", customer="Havbris AS", org=HAVBRIS)
    (ehf / "2301-invoice.xml").write_text(broken_invoice[: len(broken_invoice) // 2], encoding="utf-8")
    credit = ubl_credit_note("5001", "2001", issue=date(2026, 6, 20), amount="1000.00")
    (ehf / "5001-credit.xml").write_text(credit[: len(credit) - 400], encoding="utf-8")
    (ehf / "ir-77.xml").write_text(_response_from(FJORD), encoding="utf-8")
    walk(ws, REMIND, REMIND)

    # the broken invoice holds nothing else; the credit note only the invoice it names; the response its buyer's
    assert letters(ws) == [f"acme--2002--reminder--{REMIND.isoformat()}", f"acme--2201--reminder--{REMIND.isoformat()}"]
    for number in ("2001", "2101"):
        held = item(ws, number, REMIND)
        assert (held["action"], held["holds"]) == ("hold", ["unreadable_document"])
    files = _files(ws)
    assert {n: (f["status"], f["kind"]) for n, f in files.items()} == {
        "2301-invoice.xml": ("unreadable", "invoice"),
        "5001-credit.xml": ("unreadable", "credit_note"),
        "ir-77.xml": ("unreadable", "invoice_response"),
    }
    assert "holds invoice(s) 2001" in files["5001-credit.xml"]["holds"]
    assert "every invoice of its buyer" in files["ir-77.xml"]["holds"]
    assert "holds no other invoice" in files["2301-invoice.xml"]["holds"]

    # the accountant takes the credit note out of consideration: 2001 is reminded the next night
    path = files["5001-credit.xml"]["path"]
    day = REMIND + timedelta(days=1)
    quarantine = ws.cli(
        "files", "quarantine", "acme", path, "--reason", "a draft the scanner made", "--as-of", day.isoformat()
    )
    assert quarantine.exit_code == 0, quarantine.output
    walk(ws, day, day)
    assert f"acme--2001--reminder--{day.isoformat()}" in letters(ws)
    assert (ehf / "5001-credit.xml").is_file()  # the file itself untouched
    listed = _files(ws)["5001-credit.xml"]
    assert listed["status"] == "quarantined" and "a draft the scanner made" in listed["quarantined"]
    assert listed["quarantined"].startswith("quarantined by cli:")

    # released: it holds again (the next step waits for it)
    release = ws.cli("files", "release", "acme", path, "--reason", "it was the real one", "--as-of", day.isoformat())
    assert release.exit_code == 0, release.output
    assert "unreadable_document" in item(ws, "2001", day)["holds"]
    assert ws.cli("files", "release", "acme", path, "--reason", "again").exit_code == 2  # not quarantined now
    decisions = [(e.action, e.subject) for e in ws.store.read(audit.entries)]
    assert ("file.quarantine", path) in decisions and ("file.release", path) in decisions

    # a refused file that says nothing about itself holds every invoice of the client
    (ehf / "hostile.xml").write_text(
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', encoding="utf-8"
    )
    day = day + timedelta(days=1)
    walk(ws, day, day)
    assert all("unreadable_document" in i["holds"] for i in ws.items(day, "--no-sync").values())
    assert _files(ws)["hostile.xml"]["status"] == "refused"
    (ehf / "hostile.xml").unlink()  # removed from the folder: it drops out at the next sync
    day = day + timedelta(days=1)
    walk(ws, day, day)
    assert "hostile.xml" not in _files(ws)
    assert "unreadable_document" not in item(ws, "2002", day)["holds"]


def test_an_unreadable_bank_file_holds_the_client_until_quarantined_and_a_fixed_path_holds_nothing(
    ws: Workspace,
) -> None:
    typo = client_table()
    typo["bank"] = [{"kind": "camt", "path": "clients/acme/bnak"}]
    ws.write_config(typo)
    (ws.root / "clients/acme/bnak").rmdir()  # the folder the typo names does not exist
    ws.add_invoice("3001", issue=ISSUE, due=DUE, amount="1000.00")
    sunday = REMIND - timedelta(days=1)
    ws.bank_heartbeat(sunday)
    assert ws.cli("run", "--as-of", sunday.isoformat()).exit_code == 1  # the feed failed
    assert "bank_data_stale" in item(ws, "3001", sunday)["holds"]

    ws.write_config(client_table())  # the path fixed: the failed feed of the old path holds nothing
    walk(ws, sunday, sunday)
    assert item(ws, "3001", sunday)["holds"] == ["wait_interval"]  # the reminder is due tomorrow

    broken = ws.bank_dir() / "camt054-truncated.xml"
    broken.write_text('<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"><Bk')
    walk(ws, REMIND, REMIND)
    held = item(ws, "3001", REMIND)
    assert (held["action"], held["holds"]) == ("hold", ["bank_data_stale"])
    assert any("camt054-truncated.xml" in e["detail"] and "files quarantine" in e["detail"] for e in held["evidence"])
    assert letters(ws) == []

    why = "the bank re-sent the day's file whole"
    assert ws.cli("files", "quarantine", "acme", str(broken), "--reason", why).exit_code == 0
    day = REMIND + timedelta(days=1)
    walk(ws, day, day)
    assert letters(ws) == [f"acme--3001--reminder--{day.isoformat()}"]
    # quarantined, the file is no longer warned about every night (cron mails what -q prints)
    ws.bank_heartbeat(day + timedelta(days=1))
    quiet = ws.cli("-q", "run", "--as-of", (day + timedelta(days=1)).isoformat())
    # the one line left: the NO rule pack has no late-interest rate for these days (test_interest_unpublished)
    problems = [line for line in quiet.stderr.splitlines() if "late interest: the NO rule pack" not in line]
    assert (quiet.exit_code, quiet.stdout, problems) == (0, "", []), quiet.stdout + quiet.stderr


# ---- when a case may be proposed ------------------------------------------------------------------------


def test_a_case_waits_for_the_notice_deadline_across_a_holiday_and_a_weekend(ws: Workspace) -> None:
    """The notice of Thursday 30 April gives 14 days: Thursday 14 May is Ascension Day, so the stated deadline
    is Friday 15 May. The debtor owns that day; a payment made on it reaches the bank files by Tuesday 19 May
    (two business days after Monday 18 May; 17 May is a Sunday): the case may come on Wednesday 20 May."""
    ws.write_config(client_table())
    issue, due = date(2026, 3, 2), date(2026, 4, 2)
    ws.add_invoice("4001", issue=issue, due=due, amount="1000.00")
    ws.add_invoice("4002", issue=issue, due=due, amount="2000.00", customer="Fjord AS", org=FJORD)
    with ws.store.transaction() as conn:
        record_steps(
            conn,
            [
                # the reminder's pay-by date (23 April) and its settle days have passed by 30 April
                DunningStep("acme", n, Action.REMINDER, date(2026, 4, 9), "outbox", currency="NOK")
                for n in ("4001", "4002")
            ],
        )
    walk(ws, date(2026, 4, 30), date(2026, 4, 30))
    assert letters(ws) == ["acme--4001--collection_notice--2026-04-30", "acme--4002--collection_notice--2026-04-30"]
    assert "innen 15.05.2026" in letter_text(ws, "4001", "collection_notice", date(2026, 4, 30))  # the deadline

    # 4002 is paid on the deadline day; the bank's file with it arrives on Tuesday
    late_file = {date(2026, 5, 19): [Entry("P-9", "2000.00", date(2026, 5, 15), kid("4002"), payer="Fjord AS")]}
    walk(ws, date(2026, 5, 13), date(2026, 5, 19), paid=late_file)
    assert ws.store.read(load_cases, ["acme"]) == []
    waiting = item(ws, "4001", date(2026, 5, 19))
    assert waiting["holds"] == ["wait_interval"]
    [deadline] = [e for e in waiting["evidence"] if e["kind"] == "deadline"]
    assert deadline["date"] == "2026-05-15" and "not before 2026-05-20" in deadline["detail"]
    walk(ws, date(2026, 5, 20), date(2026, 5, 20))
    assert [(c.invoice_number, c.created_on) for c in ws.store.read(load_cases, ["acme"])] == [
        ("4001", date(2026, 5, 20))
    ]
    assert item(ws, "4002", date(2026, 5, 20))["state"] == "settled"  # paid on time: never a case
