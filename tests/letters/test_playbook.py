"""The collector's playbook end to end, one `arsync run` per day (`--as-of`): a reminder with a pay-by date,
the call when it passed unpaid (logged: a promise), the written confirmation, the promise broken, the collection
notice resuming the ladder where the call interrupted it, and the case — each document's content and dates
read back from its PDF."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from connector.store.cases import load_cases
from tests.builders import Workspace, client_table, kid

DUE = date(2026, 1, 5)  # a Monday
PHONE = "+47 900 11 222"
LADDER = [
    {"action": "reminder", "days": 14, "fee": True},
    {"action": "call", "days": 7},
    {"action": "collection_notice", "days": 7},
    {"action": "collection_case", "days": 14},
]


def nightly(ws: Workspace, day: date) -> Any:
    ws.bank_heartbeat(day)
    result = ws.cli("run", "--as-of", day.isoformat(), "--json")
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def walk(ws: Workspace, first: date, last: date) -> dict[date, Any]:
    """Every night from ``first`` to ``last``; what each night did."""
    out, day = {}, first
    while day <= last:
        out[day] = nightly(ws, day)
        day += timedelta(days=1)
    return out


def did(night: Any) -> list[str]:
    return [a["detail"] for c in night["clients"] for a in c["actions"]]


def test_reminder_call_confirmation_broken_promise_notice_and_case(ws: Workspace) -> None:
    table = client_table("acme", policy={"steps": LADDER})
    table["collection"] = {**table["collection"], "agency": "Inkasso Nord AS", "agency_contact": "22 33 44 55"}
    ws.write_config(table)
    ws.add_invoice("7001", issue=date(2025, 12, 22), due=DUE, amount="5000.00", phone=PHONE, contact="Ola Nordmann")

    # 1. the reminder, 14 days after the due date: pay by Monday 2 February, or we call
    nights = walk(ws, DUE, date(2026, 1, 19))
    assert not any(did(n) for d, n in nights.items() if d < date(2026, 1, 19))
    assert ws.letters() == ["acme--7001--reminder--2026-01-19"]
    reminder = ws.letter_text("7001", "reminder", date(2026, 1, 19))
    assert (
        "Betales innen 02.02.2026" in reminder and "innen 02.02.2026, ringer vi deg for å finne en løsning" in reminder
    )
    assert "Att.: Ola Nordmann" in reminder and f"bruk KID {kid('7001')}" in reminder
    assert "Purregebyr inkassoforskriften § 1-2 37,50" in reminder

    # 2. the call falls due once the pay-by date and the settle days have passed: on the list, not a letter
    nights = walk(ws, date(2026, 1, 20), date(2026, 2, 5))
    assert not any(did(n) for n in nights.values())
    attention = [line for c in nights[date(2026, 2, 5)]["clients"] for line in c.get("attention", [])]
    # what the reminder asked for: the invoice and its fee
    call_line = "call Kunde AS (934567897): 1 invoice(s), 5037.50 NOK (5000.00 + fees 37.50)"
    assert any(line.startswith(call_line) for line in attention)
    assert next(c for n in nights.values() for c in n["items"] if c["action"] == "call")["invoice"] == "7001"
    listed = ws.cli("calls", "list", "--client", "acme", "--json", "--as-of", "2026-02-05")
    assert listed.exit_code == 0, listed.output
    [entry] = json.loads(listed.stdout)["items"]
    assert (entry["phone"], entry["contact"], entry["owed"]) == (
        PHONE,
        "Ola Nordmann",
        [{"currency": "NOK", "amount": "5037.50", "invoices": "5000.00", "fees": "37.50"}],
    )
    assert [letter["kind"] for letter in entry["letters"]] == ["reminder"] and entry["next_step"] == "collection_notice"
    assert entry["history"]["invoices"] == 1 and entry["guidance"]
    text = ws.cli("calls", "list", "--as-of", "2026-02-05").stdout
    assert PHONE in text and "7001  due 2026-01-05  5000.00 NOK of 5000.00 ← call" in text

    # 3. the call: a promise to pay by 16 February; the written confirmation goes out the same night
    logged = ws.cli(
        "calls", "log", "acme", "934567897", "--outcome", "promise", "--promise-date", "2026-02-16",
        "--notes", "will pay after their customer pays them", "--as-of", "2026-02-05",
    )  # fmt: skip
    assert logged.exit_code == 0, logged.output
    assert "agreement call-" in logged.stdout and "5037.50 NOK by 2026-02-16 (5000.00 + fees 37.50)" in logged.stdout
    night = nightly(ws, date(2026, 2, 5))
    assert [a for a in did(night) if "follow_up letter" in a]
    follow_up = ws.letter_text("7001", "follow_up", date(2026, 2, 5))
    assert "Bekreftelse av betalingsavtale – faktura 7001" in follow_up and "Hei Ola Nordmann" in follow_up
    assert "Takk for samtalen 05.02.2026" in follow_up
    # what the debtor owes under the promise: the invoice and the reminder's fee, as the statement says
    assert "Du betaler 5 037,50 NOK innen 16.02.2026." in follow_up
    assert (
        "Purregebyr inkassoforskriften § 1-2 19.01.2026 37,50" in follow_up and "Å betale i alt 5 037,50" in follow_up
    )
    assert "Vi kontrollerer 17.02.2026 at betalingen er kommet inn." in follow_up
    assert "Da sender vi inkassovarsel" in follow_up and "bekrefte avtalen skriftlig" in follow_up
    explained = ws.cli("explain", "acme", "7001", "--as-of", "2026-02-05").stdout
    assert "Calls to the customer:" in explained and "promise to pay by 2026-02-16" in explained
    said = " ".join(explained.split())
    assert "pay 5037.50 by 2026-02-16" in said and "call made by phone" in said  # not "pay on 5000.00", "sent"
    steps = said.split("Letters and steps taken:")[1].split("E-invoice responses")[0]
    assert steps.index("2026-02-02") < steps.index("2026-02-05: call made")  # in date order

    # 4. the promise holds dunning until its date + 3 grace days; nothing comes, it is broken on 20 February
    nights = walk(ws, date(2026, 2, 6), date(2026, 2, 19))
    assert not any(did(n) for n in nights.values())
    assert ws.items(date(2026, 2, 19), "--no-sync")["7001"]["holds"] == ["agreement"]
    broken = nightly(ws, date(2026, 2, 20))
    attention = [line for c in broken["clients"] for line in c.get("attention", [])]
    assert [line for line in attention if line.startswith("agreement broken: Kunde AS (934567897)")]

    # 5. dunning resumes at the step the call interrupted: the collection notice, the same night
    assert "acme--7001--collection_notice--2026-02-20" in ws.letters()
    notice = ws.letter_text("7001", "collection_notice", date(2026, 2, 20))
    assert "Inkassovarsel – faktura 7001" in notice and "inkassoloven § 9" in notice
    # the reminder's fee is still owed: the notice asks for it, dated by the reminder that charged it
    assert "Purregebyr inkassoforskriften § 1-2 19.01.2026 37,50" in notice
    assert "Forsinkelsesrente" in notice and "Betal 5 113,12 NOK innen 06.03.2026" in notice  # + 75,62 interest
    assert "overleverer vi kravet til inkasso (Inkasso Nord AS)" in notice
    earlier = ws.cli("explain", "acme", "7001", "--as-of", "2026-02-10").stdout  # a day in the past
    assert "also what came after 2026-02-10: the collection_notice of 2026-02-20" in " ".join(earlier.split())
    fees = earlier.split("Fees and interest:")[1].split("Letters and steps taken:")[0]
    assert "claimable: 470.00 NOK" in fees and "— 470.00" not in fees  # each amount said once
    again = ws.cli("run", "--as-of", "2026-02-21", "--json")  # the broken promise is told once …
    assert again.exit_code == 0, again.output + again.stderr
    assert "broken" not in again.stderr  # … not as a warning each night after
    assert not [line for c in json.loads(again.stdout)["clients"] for line in c["attention"] if "broken" in line]
    ws.bank_heartbeat(date(2026, 2, 22))
    ws.post_letters()  # (a letter still in the outbox past its pay-by date is named each night, -q or not)
    quiet = ws.cli("-q", "run", "--as-of", "2026-02-22")  # cron mails what -q prints: nothing on a good night
    assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == "", quiet.stdout + quiet.stderr

    # 6. the case: the notice's deadline (Friday 6 March), the next business day and 2 settle days
    nights = walk(ws, date(2026, 2, 23), date(2026, 3, 11))
    assert [c.created_on for c in ws.store.read(load_cases, ["acme"])] == [date(2026, 3, 11)]
    assert ws.cli("cases", "approve", "acme-7001", "--as-of", "2026-03-11").exit_code == 0
    assert ws.cli("cases", "push", "--as-of", "2026-03-11").exit_code == 0
    nightly(ws, date(2026, 3, 12))
    handover = ws.letter_text("7001", "collection_case", date(2026, 3, 12))
    assert "Kravet er overlevert til inkasso – faktura 7001" in handover
    assert "Inkasso Nord AS, 22 33 44 55" in handover
    shown = ws.cli("cases", "show", "acme-7001").stdout
    assert "Calls:" in shown and "promise to pay by 2026-02-16" in shown

    letters = json.loads(ws.cli("letters", "list", "--json").stdout)["items"]
    assert [(x["kind"], x["sent_on"]) for x in letters] == [
        ("reminder", "2026-01-19"),
        ("follow_up", "2026-02-05"),
        ("collection_notice", "2026-02-20"),
        ("collection_case", "2026-03-12"),
    ]
