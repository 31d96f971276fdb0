"""Whole ladders walked day by day with `run --as-of`, and every hold blocking and releasing."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pypdf import PdfReader

from connector.model import Action
from connector.store.cases import load_cases
from connector.store.facts import load_facts
from tests.builders import ACCOUNT, VALID_ORG_NO, Workspace, client_table, real_pdf, ubl_reminder

START = date(2026, 1, 5)  # a Monday, no holiday in NO or DK


def _walk(ws: Workspace, first: date, last: date) -> None:
    day = first
    while day <= last:
        ws.bank_heartbeat(day)
        result = ws.cli("run", "--as-of", day.isoformat())
        assert result.exit_code == 0, result.output
        ws.post_letters()  # the accountant posts the day's letters (a case may only follow a notice sent)
        day += timedelta(days=1)


def _steps(ws: Workspace) -> list[tuple[Action, date, Decimal, str]]:
    return [(s.step, s.sent_on, s.fee, s.channel) for s in ws.store.read(load_facts, "acme").steps]


def test_no_case_is_proposed_while_its_collection_notice_is_still_in_the_outbox(ws: Workspace) -> None:
    ws.write_config(client_table())
    ws.add_invoice("7001", issue=date(2025, 12, 22), due=START, amount="10000.00")
    _walk(ws, START, date(2026, 2, 5))  # the reminder and the notice, posted each day …
    (ws.reminders_dir() / "posted" / "acme--934567897--collection_notice--2026-02-05.pdf").rename(
        ws.reminders_dir() / "acme--934567897--collection_notice--2026-02-05.pdf"
    )  # … but the notice was not: it is back in the outbox
    case_day = date(2026, 2, 24)  # the day the case would be proposed (test_norway_ladder_day_by_day)
    ws.bank_heartbeat(case_day)
    night = ws.cli("run", "--as-of", case_day.isoformat(), "--json")
    assert night.exit_code == 0, night.output
    said = [line for c in json.loads(night.stdout)["clients"] for line in c["attention"]]
    assert ws.store.read(load_cases, ["acme"]) == []
    [line] = [x for x in said if x.startswith("no collection case proposed for invoice 7001")]
    assert "its collection notice N-20260205-934567897 (written 2026-02-05) is still in the outbox" in line
    assert "arsync letters cancel acme N-20260205-934567897" in line

    ws.post_letters()
    _walk(ws, case_day, case_day)
    assert [c.created_on for c in ws.store.read(load_cases, ["acme"])] == [case_day]


def test_norway_ladder_day_by_day(ws: Workspace) -> None:
    ws.write_config(client_table())
    ws.add_invoice("7001", issue=date(2025, 12, 22), due=START, amount="10000.00", pdf=real_pdf())
    _walk(ws, START, START + timedelta(days=52))
    assert _steps(ws) == [
        (Action.REMINDER, date(2026, 1, 19), Decimal("37.50"), "outbox"),  # ≥ 14 days after due: fee 1/20 of 750
        # the reminder's pay-by date is Monday 2 February; the notice waits for the first business day after it
        # and the policy's 2 settle days (a payment made on the pay-by date reaches the bank files by then)
        (Action.COLLECTION_NOTICE, date(2026, 2, 5), Decimal("0.00"), "outbox"),  # default ladder: no notice fee
    ]
    cases = ws.store.read(load_cases, ["acme"])
    # the notice's 14-day deadline is Thursday 19 February: the case from Tuesday 24 February, the same way
    assert [(c.invoice_number, c.created_on) for c in cases] == [("7001", date(2026, 2, 24))]
    out = ws.reminders_dir()
    files = ws.outbox_files(out)
    stem = "acme--934567897--reminder--2026-01-19"
    assert {f"{stem}--7001.xml", "acme--934567897--collection_notice--2026-02-05--7001.xml"} <= set(files)
    assert f"{stem}.pdf" in ws.outbox_files(out / "posted")
    pdf = ws.letter_pdf("7001", "reminder", date(2026, 1, 19)).read_bytes()
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 2  # the letter, then the invoice copy behind it
    letter = ws.letter_text("7001", "reminder", date(2026, 1, 19))
    assert "Kopi av fakturaen er vedlagt." in letter
    assert "faktura 7001, som forfalt 05.01.2026" in letter and "Faktura 7001 22.12.2025 05.01.2026 10 000,00" in letter
    assert "Purregebyr inkassoforskriften § 1-2 37,50" in letter
    assert "Forsinkelsesrente forsinkelsesrenteloven § 3; 12,00 % p.a., 06.01.2026–19.01.2026 46,03" in letter
    assert "Vi ber deg betale 10 083,53 NOK innen 02.02.2026." in letter
    assert "Når kan vi forvente betaling?" in letter
    notice = ws.letter_text("7001", "collection_notice", date(2026, 2, 5))
    assert "Inkassovarsel" in notice and "innen 19.02.2026" in notice and "inkassoloven § 9" in notice
    xml = (out / f"{stem}--7001.xml").read_text(encoding="utf-8")
    assert "urn:fdc:anskaffelser.no:2019:ehf:reminder:3.0" in xml and "<cbc:ID>7001</cbc:ID>" in xml
    assert "REM" in xml and ">37.50<" in xml and "<cbc:DueDate>2026-02-02</cbc:DueDate>" in xml


def test_run_twice_a_day_never_sends_twice(ws: Workspace) -> None:
    ws.write_config(client_table())
    ws.add_invoice("7002", issue=date(2025, 12, 22), due=START, amount="500.00")
    day = date(2026, 1, 19)
    ws.bank_heartbeat(day)
    for _ in range(2):
        assert ws.cli("run", "--as-of", day.isoformat()).exit_code == 0
    assert len(_steps(ws)) == 1


def test_denmark_ladder_day_by_day(ws: Workspace) -> None:
    table = client_table(country="DK", currency="DKK", org_no="12345674")
    # the invoices carry no KID: the account the client is paid to is in its config (a way to pay)
    table["bank"] = [{**table["bank"][0], "account": ACCOUNT}]
    table["policy"] = {
        **table["policy"],
        "steps": [
            {"action": "reminder", "days": 1, "fee": True},
            {"action": "reminder", "days": 10, "fee": True},
            {"action": "reminder", "days": 10, "fee": True},
            {"action": "collection_notice", "days": 10, "fee": False},
            {"action": "collection_case", "days": 10},
        ],
    }
    ws.write_config(table)
    ws.add_invoice("8001", issue=date(2025, 12, 22), due=START, amount="10000.00", currency="DKK", kid_value=None)
    _walk(ws, START, START + timedelta(days=60))
    fee = Decimal("100.00")
    # each letter gives 10 days (renteloven § 9 b, inkassoloven § 10); the next waits for its pay-by date, the
    # first business day after it and 2 settle days
    assert _steps(ws) == [
        (Action.REMINDER, date(2026, 1, 9), fee, "outbox"),  # due + 3 grace days; pay by Monday 19 January
        (Action.REMINDER, date(2026, 1, 22), fee, "outbox"),  # pay by Monday 2 February (1 February a Sunday)
        (Action.REMINDER, date(2026, 2, 5), fee, "outbox"),  # pay by Monday 16 February (15th a Sunday)
        (Action.COLLECTION_NOTICE, date(2026, 2, 19), Decimal("0.00"), "outbox"),  # pay by Monday 2 March
    ]
    assert [c.created_on for c in ws.store.read(load_cases, ["acme"])] == [date(2026, 3, 5)]
    letter = ws.letter_text("8001", "reminder", date(2026, 1, 9))
    assert "Rykkergebyr renteloven § 9 b 100,00" in letter and "Morarente renteloven § 5" in letter
    assert "10,68" in letter
    assert "senest 19.01.2026" in letter
    notice = ws.letter_text("8001", "collection_notice", date(2026, 2, 19))
    assert "02.03.2026" in notice and "inkassoloven § 10" in notice


def test_a_swedish_inkassovarning_the_client_sent_is_its_collection_notice(ws: Workspace) -> None:
    # An SE client's EHF Reminder titled as arsync titles a Swedish notice ("Inkassovarning – faktura …") was
    # read as a plain reminder (only inkassovarsel / inkassomeddelelse / inkassokrav counted): the ladder
    # would send the notice again instead of going on to the case (found trying an SE client).
    steps = [
        {"action": "reminder", "days": 14},
        {"action": "collection_notice", "days": 14},
        {"action": "collection_case", "days": 14},
    ]
    ws.write_config(client_table(country="SE", currency="SEK", policy={"steps": steps}))
    ws.add_invoice("9001", issue=date(2025, 12, 22), due=START, amount="10000.00", currency="SEK")
    sent = date(2026, 1, 26)
    (ws.ehf_dir() / "9001-inkassovarning.xml").write_text(
        ubl_reminder(
            "N-9001",
            "9001",
            note="Inkassovarning – faktura 9001",
            issue=sent,
            due=date(2026, 2, 3),
            amount="10000.00",
            currency="SEK",
            seller_org=VALID_ORG_NO["SE"],  # the client's own (another seller's reminder is refused)
        ),
        encoding="utf-8",
    )
    assert ws.cli("sync").exit_code == 0
    assert [(s.step, s.sent_on) for s in ws.store.read(load_facts, "acme").steps] == [(Action.COLLECTION_NOTICE, sent)]


# ---- holds block and release ---------------------------------------------------------------------

REMIND_ON = date(2026, 1, 19)


def _item(ws: Workspace, day: date, number: str = "7001") -> dict[str, Any]:
    ws.bank_heartbeat(day)
    return ws.items(day)[number]


def _setup(ws: Workspace, **policy: Any) -> None:
    table = client_table()
    table["policy"] = {**table["policy"], **policy}
    ws.write_config(table)
    ws.add_invoice("7001", issue=date(2025, 12, 22), due=START, amount="10000.00")
    assert ws.cli("sync", "--as-of", "2026-01-05").exit_code == 0


def test_excluded_blocks_until_the_end_date(ws: Workspace) -> None:
    _setup(ws)
    r = ws.cli(
        "exclude",
        "add",
        "--client",
        "acme",
        "--invoice",
        "7001",
        "--until",
        "2026-01-25",
        "--reason",
        "called",
        "--as-of",
        "2026-01-10",
    )
    assert r.exit_code == 0, r.output
    held = _item(ws, REMIND_ON)
    assert held["action"] == "hold" and held["holds"] == ["excluded"]
    assert any("called" in e["detail"] for e in held["evidence"])
    assert _item(ws, date(2026, 1, 26))["action"] == "reminder"


def test_customer_exclusion(ws: Workspace) -> None:
    _setup(ws)
    customer = _item(ws, REMIND_ON)["customer"]
    assert (
        ws.cli(
            "exclude",
            "add",
            "--client",
            "acme",
            "--customer",
            customer,
            "--reason",
            "key account",
            "--as-of",
            "2026-01-10",
        ).exit_code
        == 0
    )
    assert _item(ws, date(2026, 3, 1))["holds"] == ["excluded"]


def test_agreement_holds_then_breaks_and_is_logged(ws: Workspace) -> None:
    _setup(ws)
    r = ws.cli("agreements", "add", "--client", "acme", "7001", "--promise-date", "2026-01-22", "--as-of", "2026-01-15")
    assert r.exit_code == 0, r.output
    assert _item(ws, REMIND_ON)["holds"] == ["agreement"]
    assert _item(ws, date(2026, 1, 25))["holds"] == ["agreement"]  # promise date + 3 grace days
    broken = _item(ws, date(2026, 1, 26))
    assert broken["action"] == "reminder" and broken["holds"] == []
    assert any(e["kind"] == "agreement_broken" for e in broken["evidence"])
    ws.bank_heartbeat(date(2026, 1, 26))
    result = ws.cli("reconcile", "--as-of", "2026-01-26")
    assert "agreement" in result.output and "broken" in result.output


def test_instalment_plan_kept_by_payments(ws: Workspace) -> None:
    from tests.builders import Entry, kid

    _setup(ws)
    r = ws.cli(
        "agreements",
        "add",
        "acme",
        "7001",
        "--instalments",
        "3",
        "--first",
        "2026-01-20",
        "--every",
        "30d",
        "--as-of",
        "2026-01-15",
    )
    assert r.exit_code == 0, r.output
    ws.add_bank_file(
        "pay1.xml", [Entry("P1", "3000.00", date(2026, 1, 20), kid=kid("7001"))], created=date(2026, 1, 20)
    )
    item = _item(ws, date(2026, 2, 1))
    assert "agreement" in item["holds"]


def test_dispute_blocks_and_resolving_releases(ws: Workspace) -> None:
    _setup(ws)
    out = ws.cli(
        "disputes", "open", "--client", "acme", "7001", "--reason", "wrong quantity", "--as-of", "2026-01-10"
    ).output
    dispute_id = out.split()[1]
    assert _item(ws, REMIND_ON)["holds"] == ["disputed"]
    assert ws.cli("disputes", "resolve", "--client", "acme", dispute_id, "--as-of", "2026-01-20").exit_code == 0
    assert _item(ws, date(2026, 1, 21))["action"] == "reminder"


def test_bank_data_stale_and_wait_interval(ws: Workspace) -> None:
    _setup(ws)
    ws.bank_heartbeat(date(2026, 1, 10))
    stale = ws.items(REMIND_ON)["7001"]
    assert "bank_data_stale" in stale["holds"]
    assert _item(ws, date(2026, 1, 12))["holds"] == ["wait_interval"]  # reminder not before 2026-01-19


def test_customer_interval_spaces_letters_to_one_customer(ws: Workspace) -> None:
    _setup(ws)
    ws.add_invoice("7003", issue=date(2026, 1, 1), due=date(2026, 1, 6), amount="900.00")
    ws.bank_heartbeat(REMIND_ON)
    assert ws.cli("run", "--as-of", REMIND_ON.isoformat()).exit_code == 0  # 7001 reminded; 7003 not yet due+14
    item = _item(ws, date(2026, 1, 20), "7003")
    assert item["holds"] == ["wait_interval"]
    assert any("the customer got a reminder" in e["detail"] for e in item["evidence"])
    assert _item(ws, date(2026, 1, 24), "7003")["action"] == "reminder"


def test_decision_evidence_shows_fee_and_interest(ws: Workspace) -> None:
    _setup(ws)
    ev = _item(ws, REMIND_ON)["evidence"]
    fee = next(e for e in ev if e["kind"] == "fee")
    interest = next(e for e in ev if e["kind"] == "interest")
    assert fee["amount"] == "37.50" and "inkassosats 750" in fee["detail"]
    assert interest["amount"] == "46.03"
    assert json.dumps(ev)  # serialisable as stored


def test_an_exclusion_of_a_mistyped_invoice_or_a_customer_name_is_refused(ws: Workspace) -> None:
    _setup(ws)
    typo = ws.cli(
        "exclude", "add", "--client", "acme", "--invoice", "70001", "--reason", "called", "--as-of", "2026-01-10"
    )
    assert typo.exit_code == 2 and "no invoice '70001'" in typo.stderr
    name = ws.cli(
        "exclude",
        "add",
        "--client",
        "acme",
        "--customer",
        "Kunde AS",
        "--reason",
        "key account",
        "--as-of",
        "2026-01-10",
    )
    assert name.exit_code == 2 and "did you mean --customer 934567897 (Kunde AS)?" in name.stderr
    assert _item(ws, REMIND_ON)["action"] == "reminder"  # nothing was excluded by mistake
    forced = ws.cli(
        "exclude", "add", "--client", "acme", "--invoice", "70001", "--reason", "x", "--force", "--as-of", "2026-01-10"
    )
    assert forced.exit_code == 0, forced.output


def test_a_promise_more_than_a_year_ahead_is_refused_as_a_typo_in_the_year(ws: Workspace) -> None:
    """An agreement holds dunning until its dates: 2099 for 2027 would hold it for decades."""
    _setup(ws)
    far = ws.cli(
        "agreements", "add", "--client", "acme", "7001", "--promise-date", "2099-01-22", "--as-of", "2026-01-15"
    )
    assert far.exit_code == 2 and "is more than a year after 2026-01-15: check the year" in far.stderr
    assert ws.store.read(load_facts, "acme").agreements == ()
    near = ws.cli(
        "agreements", "add", "--client", "acme", "7001", "--promise-date", "2027-01-15", "--as-of", "2026-01-15"
    )
    assert near.exit_code == 0, near.output
