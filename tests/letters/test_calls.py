"""The call step: who is on the call list and with what, and what each outcome of `arsync calls log` makes —
an agreement judged as a whole over the customer's invoices (kept, then broken), a dispute, a retry after
call_retry_days and the ladder going on after call_attempts, a review for a wrong number until it is fixed."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from connector.model import Agreement
from connector.store import audit
from connector.store.disputes import add_agreement
from connector.store.facts import load_facts
from tests.builders import Entry, Workspace, client_table, kid

DUE = date(2026, 1, 5)  # Monday
REMINDED = date(2026, 1, 19)  # the reminder: pay by Monday 2 February
CALL_DAY = date(2026, 2, 5)  # the first business day after it + 2 settle days: the call is due
CUSTOMER = "934567897"
LADDER = [
    {"action": "reminder", "days": 14, "fee": True},
    {"action": "call", "days": 7},
    {"action": "collection_notice", "days": 7},
    {"action": "collection_case", "days": 14},
]


def setup(ws: Workspace, *, phone: str | None = "+47 900 11 222", **policy: Any) -> None:
    ws.write_config(client_table("acme", policy={"steps": LADDER, **policy}))
    for number, amount in (("7001", "3000.00"), ("7002", "2000.00")):
        ws.add_invoice(number, issue=date(2025, 12, 22), due=DUE, amount=amount, phone=phone, contact="Kari Kunde")
    for day in (REMINDED, CALL_DAY):
        nightly(ws, day)


def nightly(ws: Workspace, day: date, *payments: Entry) -> dict[str, Any]:
    ws.bank_heartbeat(day)
    if payments:
        ws.add_bank_file(f"camt054-{day.isoformat()}-paid.xml", list(payments), created=day)
    result = ws.cli("run", "--as-of", day.isoformat(), "--json")
    assert result.exit_code == 0, result.output + result.stderr
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def on_the_list(ws: Workspace, day: date) -> list[dict[str, Any]]:
    result = ws.cli("calls", "list", "--json", "--as-of", day.isoformat())
    assert result.exit_code == 0, result.output
    items: list[dict[str, Any]] = json.loads(result.stdout)["items"]
    return items


def log(ws: Workspace, day: date, outcome: str, *extra: str, status: int = 0) -> str:
    result = ws.cli("calls", "log", "acme", CUSTOMER, "--outcome", outcome, *extra, "--as-of", day.isoformat())
    assert result.exit_code == status, result.output + result.stderr
    return result.stdout + result.stderr


def decision(ws: Workspace, day: date, number: str = "7001") -> dict[str, Any]:
    return ws.items(day, "--no-sync")[number]


def attention(night: dict[str, Any]) -> list[str]:
    return [line for c in night["clients"] for line in c.get("attention", [])]


def test_the_call_list_shows_what_the_caller_needs(ws: Workspace) -> None:
    setup(ws)
    [entry] = on_the_list(ws, CALL_DAY)
    assert (entry["customer"], entry["name"], entry["phone"], entry["contact"]) == (
        CUSTOMER,
        "Kunde AS",
        "+47 900 11 222",
        "Kari Kunde",
    )
    assert [(i["invoice"], i["open_amount"], i["due_date"], i["call_due"]) for i in entry["invoices"]] == [
        ("7001", "3000.00", "2026-01-05", True),
        ("7002", "2000.00", "2026-01-05", True),
    ]
    # what the reminder asked for: the invoices and its fee, as the statement says it
    assert entry["owed"] == [{"currency": "NOK", "amount": "5037.50", "invoices": "5000.00", "fees": "37.50"}]
    text = ws.cli("calls", "list", "--as-of", CALL_DAY.isoformat()).stdout
    assert "— owes 5037.50 NOK (5000.00 + fees 37.50)" in text
    [letter] = entry["letters"]
    assert (letter["kind"], letter["sent_on"], letter["invoices"], letter["pay_by"]) == (
        "reminder",
        "2026-01-19",
        ["7001", "7002"],
        "2026-02-02",
    )
    assert entry["history"]["invoices"] == 2 and entry["credit_level"] is None
    assert entry["next_step"] == "collection_notice"
    assert any("concrete plan" in line for line in entry["guidance"])
    assert on_the_list(ws, CALL_DAY - timedelta(days=1)) == []  # not before the reminder's pay-by + settle days
    assert decision(ws, CALL_DAY)["action"] == "call"


def test_no_phone_number_is_said_on_the_list(ws: Workspace) -> None:
    setup(ws, phone=None)
    [entry] = on_the_list(ws, CALL_DAY)
    assert entry["phone"] is None and any("No phone number in the ledger" in g for g in entry["guidance"])
    text = ws.cli("calls", "list", "--as-of", CALL_DAY.isoformat()).stdout
    assert "phone: none in the ledger" in text


def test_no_answer_puts_the_customer_back_on_the_list_and_after_the_last_attempt_the_ladder_goes_on(
    ws: Workspace,
) -> None:
    setup(ws, call_retry_days=2, call_attempts=2)
    out = log(ws, CALL_DAY, "no_answer")
    assert "back on the call list from 2026-02-09" in out  # two days on is Saturday 7 February: the Monday
    assert on_the_list(ws, CALL_DAY + timedelta(days=1)) == []
    held = decision(ws, CALL_DAY + timedelta(days=1))
    assert (held["action"], held["holds"]) == ("hold", ["wait_interval"])
    assert any("no answer on 2026-02-05 (call 1 of 2)" in e["detail"] for e in held["evidence"])
    assert on_the_list(ws, CALL_DAY + timedelta(days=2)) == []  # nobody calls a business on a Saturday
    again = CALL_DAY + timedelta(days=4)
    nightly(ws, again)  # the bank's files of Monday: unpaid is still proven
    assert [e["customer"] for e in on_the_list(ws, again)] == [CUSTOMER]
    out = log(ws, again, "no_answer")
    assert "the ladder goes on" in out and "call step taken for invoice(s) 7001, 7002" in out
    steps = sorted((s.invoice_number, str(s.step), s.sent_on) for s in ws.store.read(load_facts, "acme").steps)
    assert ("7001", "call", again) in steps and ("7002", "call", again) in steps
    assert on_the_list(ws, again) == []
    notice_day = again + timedelta(days=7)  # the notice's days after the call step
    nightly(ws, notice_day)
    assert ws.letters() == sorted(
        f"acme--{n}--{kind}--{day.isoformat()}"
        for kind, day in (("collection_notice", notice_day), ("reminder", REMINDED))
        for n in ("7001", "7002")
    )


def test_a_wrong_number_is_a_review_until_the_ledger_has_another(ws: Workspace) -> None:
    setup(ws)
    log(ws, CALL_DAY, "wrong_number")
    held = decision(ws, CALL_DAY)
    assert (held["action"], held["holds"]) == ("review", ["invoice_defect"])
    assert any("the number +47 900 11 222 was wrong" in e["detail"] for e in held["evidence"])
    assert on_the_list(ws, CALL_DAY) == []
    for number, amount in (("7001", "3000.00"), ("7002", "2000.00")):  # the ledger now has the right number
        ws.add_invoice(number, issue=date(2025, 12, 22), due=DUE, amount=amount, phone="+47 900 99 999")
    nightly(ws, CALL_DAY + timedelta(days=1))
    [entry] = on_the_list(ws, CALL_DAY + timedelta(days=1))
    assert entry["phone"] == "+47 900 99 999"


def test_a_dispute_on_the_call_stops_dunning_of_the_invoices_talked_about(ws: Workspace) -> None:
    setup(ws)
    out = log(ws, CALL_DAY, "dispute", "--reason", "the second delivery never came")
    assert "dispute opened on invoice(s) 7001, 7002" in out
    for number in ("7001", "7002"):
        d = decision(ws, CALL_DAY, number)
        assert d["state"] == "disputed" and "disputed" in d["holds"]  # (and the notice's days after the call)
        assert any("the second delivery never came" in e["detail"] for e in d["evidence"])
    listed = json.loads(ws.cli("disputes", "list", "--json").stdout)["items"]
    assert len(listed) == 2


def test_a_plan_is_judged_over_all_its_invoices_kept_then_broken(ws: Workspace) -> None:
    setup(ws)
    out = log(ws, CALL_DAY, "instalments", "--instalments", "2", "--first", "2026-02-16", "--every", "14d")
    # the plan is for what is owed: the invoices and the reminder's fee
    assert "2518.75 NOK by 2026-02-16, 2518.75 NOK by 2026-03-02 (5037.50 NOK in all: 5000.00 + fees 37.50)" in out
    night = nightly(ws, CALL_DAY)
    assert ws.letters(kinds=("follow_up",)) == [f"acme--{n}--follow_up--2026-02-05" for n in ("7001", "7002")]
    assert any("follow_up letter" in a["detail"] for c in night["clients"] for a in c["actions"])

    # the first instalment is paid with 7001's KID: the plan is kept for both invoices
    paid = Entry("P-1", "2518.75", date(2026, 2, 16), kid("7001"))
    day, kept_lines = date(2026, 2, 16), []
    while day <= date(2026, 3, 5):
        ws.post_letters()  # (else the reminder of 19 January, still in the outbox, is named each night)
        night = nightly(ws, day, *([paid] if day == paid.booked else []))
        kept_lines += [a["detail"] for c in night["clients"] for a in c["actions"] if "(kept)" in a["detail"]]
        assert not attention(night), day
        day += timedelta(days=1)
    assert kept_lines == [f"agreement {_plan(ws)} of Kunde AS ({CUSTOMER}): the payment due 2026-02-16 arrived (kept)"]
    for number in ("7001", "7002"):
        assert decision(ws, date(2026, 3, 5), number)["holds"] == ["agreement"]  # 7002 unpaid, yet held
    assert [name for name in ws.letters() if "notice" in name] == []

    # the second is not: broken after 2 March + 3 grace days; dunning resumes at the notice, told once
    broken = nightly(ws, date(2026, 3, 6))
    assert [line for line in attention(broken) if line.startswith(f"agreement broken: Kunde AS ({CUSTOMER})")]
    assert ws.letters(kinds=("collection_notice",)) == [
        "acme--7001--collection_notice--2026-03-06",
        "acme--7002--collection_notice--2026-03-06",
    ]
    notice = ws.letter_text("7001", "collection_notice", date(2026, 3, 6))
    assert "Rest faktura 7001 481,25" in notice and "Faktura 7002 22.12.2025 05.01.2026 2 000,00" in notice
    assert not [line for line in attention(nightly(ws, date(2026, 3, 7))) if "broken" in line]


def test_the_confirmation_of_a_promise_asks_for_what_the_statement_says_is_owed(ws: Workspace) -> None:
    """The reminder charged a fee: the promise made on the call is for the invoices and that fee, and its written
    confirmation says so, with the same total as the statement."""
    setup(ws)
    out = log(ws, CALL_DAY, "promise", "--promise-date", "2026-02-16")
    assert "5037.50 NOK by 2026-02-16 (5000.00 + fees 37.50)" in out
    nightly(ws, CALL_DAY)
    letter = ws.letter_text("7001", "follow_up", CALL_DAY)
    assert "Du betaler 5 037,50 NOK innen 16.02.2026." in letter
    assert (
        "Purregebyr (faktura 7001) inkassoforskriften § 1-2 19.01.2026 37,50" in letter
        and "Å betale i alt 5 037,50" in letter
    )
    statement = ws.cli("statement", "acme", CUSTOMER, "--as-of", CALL_DAY.isoformat())
    assert statement.exit_code == 0, statement.output
    assert "Saldo 5 037,50" in " ".join(statement.stdout.replace("\u00a0", " ").split())


def test_money_that_paid_the_fee_counts_toward_the_plan(ws: Workspace) -> None:
    """A plan is for the fee too, so what paid it counts: 7001 paid in full with its reminder's fee, then the rest
    of the second instalment on 7002 — the first two instalments to the øre — keeps the plan."""
    setup(ws)
    out = log(ws, CALL_DAY, "instalments", "--instalments", "3", "--first", "2026-02-16", "--every", "14d")
    assert "1679.17 NOK by 2026-02-16, 1679.17 NOK by 2026-03-02, 1679.16 NOK by 2026-03-16" in out
    nightly(ws, CALL_DAY)
    payments = {
        date(2026, 2, 16): Entry("P-1", "3037.50", date(2026, 2, 16), kid("7001")),  # beyond 7001: its fee
        date(2026, 3, 2): Entry("P-2", "320.84", date(2026, 3, 2), kid("7002")),  # 3358.34 in all
    }
    day = date(2026, 2, 16)
    while day <= date(2026, 3, 6):  # the second date + 3 grace days passed
        ws.post_letters()
        night = nightly(ws, day, *([payments[day]] if day in payments else []))
        assert not attention(night), day
        day += timedelta(days=1)
    assert decision(ws, date(2026, 3, 6), "7002")["holds"] == ["agreement"]
    assert ws.letters(kinds=("collection_notice",)) == []


def test_a_new_agreement_on_an_invoice_replaces_the_open_one_and_one_confirmation_goes_out(ws: Workspace) -> None:
    """Two promises on one invoice would confirm two different dates: the later one replaces the one before
    (closed as superseded, said in one line, in the audit trail), by `agreements add` and by a call alike."""
    setup(ws)
    day = CALL_DAY.isoformat()
    first = ws.cli("agreements", "add", "--client", "acme", "7001", "--promise-date", "2026-02-16", "--as-of", day)
    assert first.exit_code == 0, first.output
    second = ws.cli("agreements", "add", "--client", "acme", "7001", "--promise-date", "2026-02-18", "--as-of", day)
    assert second.exit_code == 0, second.output
    [older, newer] = sorted(ws.store.read(load_facts, "acme").agreements, key=lambda a: a.cancelled_on is None)
    assert second.stdout.splitlines()[1:] == [
        f"it replaces agreement {older.agreement_id} on invoice(s) 7001 (pay on 2026-02-16): closed as superseded"
    ]
    assert (older.cancelled_on, newer.cancelled_on) == (CALL_DAY, None) and "superseded by" in older.note
    nightly(ws, CALL_DAY)
    [confirmation] = [r for r in ws.letter_records() if r.kind == "follow_up"]
    assert confirmation.about == newer.agreement_id and confirmation.pay_by == date(2026, 2, 18)

    # the call that ends in another promise replaces it too: still one open agreement per invoice
    out = log(ws, CALL_DAY, "promise", "--promise-date", "2026-02-20")
    assert f"it replaces agreement {newer.agreement_id} on invoice(s) 7001 (pay on 2026-02-18)" in out
    facts = ws.store.read(load_facts, "acme")
    assert sorted(a.invoice_number for a in facts.agreements if a.cancelled_on is None) == ["7001", "7002"]
    assert len({a.key for a in facts.agreements if a.cancelled_on is None}) == 1  # the call's plan
    superseded = [e for e in ws.store.read(audit.entries) if e.action == "agreement.supersede"]
    assert sorted(e.detail for e in superseded) == sorted(
        [
            f"{older.agreement_id}: superseded by {newer.agreement_id}",
            f"{newer.agreement_id}: superseded by {_plan(ws)}",
        ]
    )


def test_two_open_agreements_on_one_invoice_from_an_older_store_get_no_confirmation(ws: Workspace) -> None:
    """Recorded before one replaced the other: neither is confirmed (two letters would name two dates); the
    accountant is told to remove the one that no longer holds."""
    setup(ws)
    with ws.store.transaction() as conn:
        for key, promised in (("agreement-a", date(2026, 2, 16)), ("agreement-b", date(2026, 2, 18))):
            add_agreement(conn, Agreement("acme", "7001", key, CALL_DAY, (promised,)))
    night = nightly(ws, CALL_DAY)
    assert [r for r in ws.letter_records() if r.kind == "follow_up"] == []
    told = [line for line in attention(night) if "no follow-up letter" in line]
    assert told == [
        "agreement agreement-a: no follow-up letter: invoice 7001 also has agreement-b; remove the agreement that "
        "no longer holds (arsync agreements remove --client acme ID)",
        "agreement agreement-b: no follow-up letter: invoice 7001 also has agreement-a; remove the agreement that "
        "no longer holds (arsync agreements remove --client acme ID)",
    ]


def _plan(ws: Workspace) -> str:
    [call] = [c for c in ws.store.read(load_facts, "acme").calls if c.agreement_id]
    assert call.agreement_id is not None
    return call.agreement_id


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--outcome", "promise", "--promise-date", "2026-02-01"), "must be after 2026-02-05"),
        (("--outcome", "promise"), "needs --promise-date"),
        (("--outcome", "promise", "--promise-date", "2062-02-16"), "more than a year after 2026-02-05: check the year"),
        (("--outcome", "instalments", "--instalments", "3", "--first", "2062-03-01"), "check the year"),
        (("--outcome", "instalments", "--instalments", "3"), "needs --instalments N and --first"),
        (("--outcome", "dispute"), "needs --reason"),
        (("--outcome", "no_answer", "--promise-date", "2026-03-01"), "takes no --promise-date"),
    ],
)
def test_a_call_log_that_does_not_fit_its_outcome_is_refused_and_records_nothing(
    ws: Workspace, args: tuple[str, ...], says: str
) -> None:
    setup(ws)
    result = ws.cli("calls", "log", "acme", CUSTOMER, *args, "--as-of", CALL_DAY.isoformat())
    assert result.exit_code == 2 and says in result.stderr
    assert ws.store.read(load_facts, "acme").calls == ()
    unknown = ws.cli("calls", "log", "acme", "nobody", "--outcome", "no_answer", "--as-of", CALL_DAY.isoformat())
    assert unknown.exit_code == 2 and "no customer 'nobody'" in unknown.stderr


def test_calls_show_in_explain_and_in_the_evidence(ws: Workspace) -> None:
    setup(ws)
    log(ws, CALL_DAY, "no_answer", "--notes", "voicemail full")
    d = decision(ws, CALL_DAY)
    [call] = [e for e in d["evidence"] if e["kind"] == "call"]
    assert "call to +47 900 11 222 (Kari Kunde): no answer; notes: voicemail full" in call["detail"]
    text = ws.cli("explain", "acme", "7001", "--as-of", CALL_DAY.isoformat()).stdout
    assert "Calls to the customer:" in text and "no_answer; notes: voicemail full" in text


def test_a_call_takes_its_notes_as_note_too(ws: Workspace) -> None:
    # every other command keeps its text with --note: a call log accepts that name as well
    setup(ws)
    log(ws, CALL_DAY, "no_answer", "--note", "voicemail full")
    [call] = [e for e in decision(ws, CALL_DAY)["evidence"] if e["kind"] == "call"]
    assert "no answer; notes: voicemail full" in call["detail"]
