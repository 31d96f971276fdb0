"""The letters written, for the accountant: `arsync letters list`, voiding an outbox letter not yet posted (it
then does not count as a step), a letter's PDF again for the workbench, the statement of account, e-mailed
letters, the v16 migration and the config keys' checks."""

from __future__ import annotations

import email.policy
import io
import json
import sqlite3
from datetime import date, timedelta
from decimal import Decimal
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import inspect, select

from connector.actions import letter_service
from connector.store import Store, bookings, migrations, schema, sends
from connector.store import letters as book
from connector.store.facts import load_facts
from connector.store.ledger import load_customers
from tests.builders import Entry, Workspace, client_table, kid, pdf_text, real_pdf
from tests.dunning.test_sends import Smtp, smtp  # noqa: F401  (the fixture)

DUE = date(2026, 1, 5)
DAY = date(2026, 1, 19)


def setup(ws: Workspace, **table: Any) -> None:
    ws.write_config(client_table("acme", **table))
    ws.add_invoice("7001", issue=date(2025, 12, 22), due=DUE, amount="5000.00", pdf=real_pdf())
    ws.add_invoice("7002", issue=date(2025, 12, 23), due=DUE, amount="2000.00")


def run(ws: Workspace, day: date) -> None:
    ws.bank_heartbeat(day)
    result = ws.cli("run", "--as-of", day.isoformat())
    assert result.exit_code == 0, result.output + result.stderr


def listed(ws: Workspace) -> list[dict[str, Any]]:
    result = ws.cli("letters", "list", "--json")
    assert result.exit_code == 0, result.output
    items: list[dict[str, Any]] = json.loads(result.stdout)["items"]
    return items


# ---- list and cancel ----------------------------------------------------------------------------------------


def test_a_letter_not_yet_posted_is_cancelled_and_does_not_count_as_a_step(ws: Workspace) -> None:
    setup(ws)
    run(ws, DAY)
    [letter] = listed(ws)
    assert (letter["kind"], letter["invoices"], letter["state"], letter["fee"]) == (
        "reminder",
        ["7001", "7002"],
        "written",
        "37.50",
    )
    assert letter["pay_by"] == "2026-02-02" and Path(letter["file"]).is_file()
    text = ws.cli("letters", "list").stdout
    assert letter["letter"] in text and "7001, 7002" in text and "written" in text

    cancelled = ws.cli("letters", "cancel", "acme", letter["letter"], "--note", "they paid at the counter")
    assert cancelled.exit_code == 0, cancelled.output
    assert "cancelled" in cancelled.stdout
    # the night booked its fee and interest (issue 16) into the booking file already: reversed there, it says so
    booked = [b for b in ws.store.read(bookings.bookings, "acme") if not b.reversal]
    assert {b.status for b in booked} == {bookings.BOOKED} and any(b.kind == bookings.FEE for b in booked)
    for b in booked:
        said = f"the {b.label} of {b.amount} NOK for invoice {b.invoice_number} was booked ({b.ref}, "
        assert said in cancelled.stdout and f"its reversal of -{b.amount} NOK" in cancelled.stdout
    assert cancelled.stdout.count("is written to acme-bookings-") == len(booked)
    assert not Path(letter["file"]).exists()
    moved = sorted(p.name for p in (ws.reminders_dir() / "cancelled").iterdir())
    assert moved == sorted([Path(letter["file"]).name, *(n for n in moved if n.endswith(".xml"))]) and len(moved) == 3
    [after] = listed(ws)
    assert after["state"] == "cancelled" and after["cancelled"]["note"] == "they paid at the counter"
    assert after["cancelled"]["by"].startswith("cli:")
    assert ws.store.read(load_facts, "acme").steps == ()  # it does not count: the ladder is where it was before it
    assert {i.status for i in ws.store.read(sends.intents, "acme")} == {sends.FAILED}  # a fee it planned is void
    assert ws.items(DAY, "--no-sync")["7001"]["action"] == "reminder"
    again = ws.cli("letters", "cancel", "acme", letter["letter"])
    assert again.exit_code == 2 and "cancelled on 2026" in again.stderr

    run(ws, DAY)  # decided afresh: a new letter (the accountant would record a dispute or exclusion first)
    states = [(x["letter"], x["state"]) for x in listed(ws)]
    assert states == [(letter["letter"], "cancelled"), (f"{letter['letter']}-2", "written")]
    assert [s.invoice_number for s in ws.store.read(load_facts, "acme").steps] == ["7001", "7002"]


def test_a_posted_letter_cannot_be_cancelled_and_its_pdf_is_there_for_the_workbench(ws: Workspace) -> None:
    setup(ws)
    run(ws, DAY)
    [letter] = listed(ws)
    posted = ws.reminders_dir() / "posted"
    posted.mkdir()
    Path(letter["file"]).rename(posted / Path(letter["file"]).name)  # the print service took it
    assert listed(ws)[0]["state"] == "posted"
    refused = ws.cli("letters", "cancel", "acme", letter["letter"])
    assert refused.exit_code == 2 and "was posted (its PDF is in posted/)" in refused.stderr
    assert len(ws.store.read(load_facts, "acme").steps) == 2  # nothing changed
    # the workbench still gets the PDF as it was sent
    pdf = letter_service.letter_pdf(ws.store, ws.client(), letter["letter"])
    assert pdf == (posted / Path(letter["file"]).name).read_bytes()
    (posted / Path(letter["file"]).name).unlink()  # gone from every folder: made again from what was stored
    again = letter_service.letter_pdf(ws.store, ws.client(), letter["letter"])
    assert "Betalingspåminnelse – fakturaene 7001, 7002" in pdf_text(again)
    assert len(PdfReader(io.BytesIO(again)).pages) == 2  # with 7001's copy behind it
    assert listed(ws)[0]["state"].startswith("posted")
    missing = ws.cli("letters", "cancel", "acme", "R-nope")
    assert missing.exit_code == 2 and "no letter 'R-nope'" in missing.stderr


def night_attention(ws: Workspace, day: date) -> list[str]:
    ws.bank_heartbeat(day)
    result = ws.cli("run", "--as-of", day.isoformat(), "--json")
    assert result.exit_code == 0, result.output + result.stderr
    return [line for c in json.loads(result.stdout)["clients"] for line in c.get("attention", [])]


def test_a_letter_left_in_the_outbox_past_its_pay_by_date_is_named_each_night_until_posted(ws: Workspace) -> None:
    setup(ws)
    run(ws, DAY)
    [letter] = listed(ws)
    pay_by = date.fromisoformat(letter["pay_by"])

    def unposted(day: date) -> list[str]:
        return [line for line in night_attention(ws, day) if letter["letter"] in line]

    assert unposted(pay_by) == []  # the debtor may still pay by the day it names
    [line] = unposted(pay_by + timedelta(days=1))
    assert "still in the outbox, not posted" in line and f"pay by {pay_by.isoformat()}" in line
    assert "Kunde" in line and f"arsync letters cancel acme {letter['letter']}" in line
    assert len(unposted(pay_by + timedelta(days=2))) == 1  # each night: it is the accountant's to post or void

    posted = ws.reminders_dir() / "posted"
    posted.mkdir()
    Path(letter["file"]).rename(posted / Path(letter["file"]).name)
    assert unposted(pay_by + timedelta(days=3)) == []


def test_a_debtor_who_pays_what_the_reminder_asked_leaves_no_credit_to_hold_the_customer_for(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    ws.add_invoice("7001", issue=date(2025, 12, 22), due=DUE, amount="5000.00")
    ws.add_invoice("7002", issue=date(2026, 1, 10), due=date(2026, 2, 10), amount="2000.00")  # not yet due
    run(ws, DAY)
    [letter] = listed(ws)
    charged = Decimal(letter["total"]) - Decimal("5000.00")  # the fee and the interest the letter asked for
    assert charged > Decimal(letter["fee"]) > 0
    paid_on = DAY + timedelta(days=6)
    ws.add_bank_file("paid.xml", [Entry("B-1", letter["total"], paid_on, kid("7001"))], created=paid_on)
    run(ws, paid_on)
    items = ws.items(paid_on, "--no-sync")
    assert items["7001"]["state"] == "settled"
    assert items["7002"]["holds"] == ["not_due"]  # no unallocated_credit: the money beyond 7001 was its charges
    said = " ".join(ws.cli("explain", "acme", "7001", "--as-of", paid_on.isoformat()).stdout.split())
    assert f"{charged} NOK beyond the invoice paid the fees and interest its letters charged" in said

    # a letter voided charged nothing: the same money beyond the invoice is then the customer's credit
    cancelled = ws.cli("letters", "cancel", "acme", letter["letter"], "--note", "never posted")
    assert cancelled.exit_code == 0, cancelled.output
    items = ws.items(paid_on, "--no-sync")
    assert items["7001"]["state"] == "settled" and "unallocated_credit" in items["7002"]["holds"]
    assert f"overpayment: {charged} NOK more than invoice 7001" in json.dumps(items["7002"]["evidence"])


def test_a_debtor_who_pays_what_the_reminder_asked_with_the_invoice_number_it_named_has_paid(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    ws.add_invoice("7001", issue=date(2025, 12, 22), due=DUE, amount="5000.00", kid_value=None)  # no KID
    run(ws, DAY)
    [letter] = listed(ws)
    said = pdf_text(Path(letter["file"]).read_bytes())
    assert "Merk betalingen med fakturanummeret" in said  # what the letter asks for an invoice without a KID
    paid_on = DAY + timedelta(days=6)
    entry = Entry("B-1", letter["total"], paid_on, text="Faktura 7001")
    ws.add_bank_file("paid.xml", [entry], created=paid_on)
    run(ws, paid_on)
    items = ws.items(paid_on, "--no-sync")
    assert (items["7001"]["state"], items["7001"]["holds"]) == ("settled", [])  # paid, not held as pending


def test_a_letter_after_a_cancelled_one_books_its_interest_whole(ws: Workspace) -> None:
    """The cancelled letter's booked interest is the accountant's to reverse (the cancel says so): the next
    letter, which shows the interest from the due date, books all of it, not only what it adds."""
    setup(ws)
    run(ws, DAY)
    [letter] = listed(ws)
    assert ws.cli("letters", "cancel", "acme", letter["letter"], "--note", "wrong address").exit_code == 0
    run(ws, DAY + timedelta(days=1))
    booked = [b for b in ws.store.read(bookings.bookings, "acme") if b.kind == bookings.INTEREST]
    first = {b.invoice_number: b.amount for b in booked if b.sent_on == DAY}
    second = {b.invoice_number: b.amount for b in booked if b.sent_on == DAY + timedelta(days=1)}
    assert set(first) == set(second) == {"7001", "7002"}
    for number in first:  # a day more of interest than the cancelled letter's, not one day's worth
        assert second[number] > first[number] > 0, (number, first, second)


# ---- e-mail ----------------------------------------------------------------------------------------------


def test_one_email_per_customer_with_the_letter_and_the_invoice_copies(ws: Workspace, smtp: Smtp) -> None:  # noqa: F811
    smtp.start()
    table = client_table("acme")
    table["policy"] = {
        **table["policy"],
        "steps": [
            {"action": "reminder", "days": 14, "fee": True, "channel": "email"},
            {"action": "collection_notice", "days": 14, "channel": "email"},
            {"action": "collection_case", "days": 14},
        ],
    }
    table["reminders"] = {
        **table["reminders"],
        "email": {"host": "127.0.0.1", "port": smtp.port, "starttls": False, "from_address": "purring@acme.example"},
    }
    ws.write_config(table)
    from tests.dunning.test_sends import _add_invoice

    _add_invoice(ws, "7001")
    _add_invoice(ws, "7002")
    run(ws, DAY)
    run(ws, DAY)
    [raw] = smtp.received
    mail = message_from_bytes(raw, policy=email.policy.default)
    assert mail["To"] == "faktura@kunde.example" and mail["Subject"] == "Betalingspåminnelse – fakturaene 7001, 7002"
    body = next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert "Vi ber deg betale" in body and "Når kan vi forvente betaling?" in body
    [attached] = [p for p in mail.walk() if p.get_filename()]
    assert attached.get_filename() == f"{listed(ws)[0]['letter']}.pdf"
    assert "fakturaene 7001, 7002" in pdf_text(attached.get_payload(decode=True))
    assert listed(ws)[0]["state"] == "sent"
    refused = ws.cli("letters", "cancel", "acme", listed(ws)[0]["letter"])
    assert refused.exit_code == 2 and "went by email" in refused.stderr


# ---- statement of account ------------------------------------------------------------------------------------


def test_a_statement_of_account_lists_open_items_payments_credits_and_the_balance(
    ws: Workspace, tmp_path: Path
) -> None:
    setup(ws)
    ws.add_credit_note("8001", "7002", issue=date(2026, 1, 7), amount="500.00")
    ws.add_bank_file("paid.xml", [Entry("B-1", "1000.00", date(2026, 1, 9), kid("7001"))], created=date(2026, 1, 9))
    run(ws, DAY)
    text = ws.cli("statement", "acme", "934567897", "--as-of", DAY.isoformat())
    assert text.exit_code == 0, text.output
    out = text.stdout
    assert out.startswith("Kontoutskrift per 19.01.2026")
    for expected in ("Faktura 7001", "Innbetalt", "Kreditnota 8001", "Rest faktura 7002", "Saldo"):
        assert expected in out
    # 4 000 + 1 500 open, and the fee the reminder of the same night charged: statement and reminder agree
    assert "Purregebyr (faktura 7001)" in out and "37,50" in out
    assert "5\u00a0537,50" in out
    target = tmp_path / "kontoutskrift.pdf"
    made = ws.cli(
        "statement", "acme", "934567897", "--as-of", DAY.isoformat(), "--format", "pdf", "--output", str(target)
    )
    assert made.exit_code == 0, made.output
    assert "balance 5537.50 NOK" in made.stdout
    assert "Saldo 5 537,50" in pdf_text(target.read_bytes())
    none = ws.cli("statement", "acme", "nobody", "--as-of", DAY.isoformat())
    assert none.exit_code == 2 and "no customer 'nobody'" in none.stderr
    assert made.stderr == "" and text.stderr == ""  # the data is fresh: nothing to warn of

    later = DAY + timedelta(days=10)  # no bank file read since: a payment since may be missing
    stale = ws.cli("statement", "acme", "934567897", "--as-of", later.isoformat())
    assert stale.exit_code == 0 and "Saldo" in stale.stdout
    assert (
        stale.stderr.startswith("warning: client acme: the data is stale (")
        and "may be missing from this statement" in stale.stderr
    )


def test_a_statement_warns_of_a_bank_file_that_does_not_read(ws: Workspace) -> None:
    """The file may hold a payment the statement then leaves out, as the run's status says (stale)."""
    setup(ws)
    (ws.bank_dir() / "camt054-truncated.xml").write_text('<?xml version="1.0"?><Document><Bk')
    run(ws, DAY)
    made = ws.cli("statement", "acme", "934567897", "--as-of", DAY.isoformat())
    assert made.exit_code == 0 and "Saldo" in made.stdout
    assert (
        made.stderr.startswith("warning: client acme: the data is stale (") and "camt054-truncated.xml" in made.stderr
    )


@pytest.mark.parametrize("fmt", ["pdf", "text"])
def test_a_statement_to_a_folder_that_does_not_exist_is_refused_and_nothing_made(
    ws: Workspace, tmp_path: Path, fmt: str
) -> None:
    setup(ws)
    run(ws, DAY)
    missing = tmp_path / "nonexistent" / "dir"
    result = ws.cli(
        "statement", "acme", "934567897", "--as-of", DAY.isoformat(), "--format", fmt,
        "--output", str(missing / "x.pdf"),
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: --output: the folder {missing} does not exist (make it first)\n"
    assert result.stdout == ""
    assert not (tmp_path / "nonexistent").exists()
    into_a_folder = ws.cli("statement", "acme", "934567897", "--as-of", DAY.isoformat(), "--output", str(tmp_path))
    assert into_a_folder.exit_code == 2
    assert into_a_folder.stderr == f"error: --output: {tmp_path} is a folder; name a file in it\n"


def test_a_statement_goes_behind_each_reminder_when_the_policy_says_so(ws: Workspace) -> None:
    setup(ws, policy={"statement_with_reminder": True})
    ws.add_invoice("7003", issue=DAY, due=DAY + timedelta(days=14), amount="700.00")  # open, not yet due
    ws.add_invoice("7004", customer="Annen AS", org="923456791", issue=DAY, due=DAY, amount="900.00")
    run(ws, DAY)
    pdf = ws.letter_pdf("7001", "reminder", DAY).read_bytes()
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) == 3  # the letter, the statement, 7001's copy
    text = pdf_text(pdf)
    assert "Kontoutskrift per 19.01.2026" in text
    statement = pages[1].extract_text()
    assert "7003" in statement and "7004" not in statement  # every open invoice of this customer, no other's


# ---- the store and the config ----------------------------------------------------------------------------------


def test_a_v15_database_gets_letters_calls_and_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    Store(f"sqlite:///{path}").close()
    raw = sqlite3.connect(path)  # what a v15 database looked like: no letters, calls, phones or plans yet
    raw.execute(
        "INSERT INTO customers (client_id, customer_id, name, address, is_person) "
        "VALUES ('acme', 'c1', 'Kari', '[]', 0)"
    )
    for table in ("letters", "calls", "agreement_checks"):
        raw.execute(f"DROP TABLE {table}")
    for table, column in (("customers", "phone"), ("customers", "contact"), ("agreements", "plan_id")):
        raw.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    raw.execute("ALTER TABLE agreements DROP COLUMN amounts")
    raw.execute(f"UPDATE schema_version SET version = {migrations.MIGRATIONS.index(migrations._v16_letters_and_calls)}")
    raw.commit()
    raw.close()
    store = Store(f"sqlite:///{path}")
    try:
        with store.connect() as conn:
            assert conn.execute(select(schema.schema_version.c.version)).scalar_one() == migrations.CURRENT
            assert {"phone", "contact"} <= {c["name"] for c in inspect(conn).get_columns("customers")}
            assert {"plan_id", "amounts"} <= {c["name"] for c in inspect(conn).get_columns("agreements")}
            assert all(inspect(conn).has_table(t) for t in ("letters", "calls", "agreement_checks"))
            assert book.load(conn, "acme") == []
            (kept,) = load_customers(conn, "acme")  # the customer written at v15 reads back, with no phone yet
            assert (kept.name, kept.phone, kept.contact) == ("Kari", None, None)
    finally:
        store.close()


SE = {"country": "SE", "currency": "SEK"}


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"creditor": {"iban": "NO9915032080119"}}, "`creditor.iban`: 'NO9915032080119' is not a valid IBAN"),
        ({"creditor": {"bank_account": "konto 12"}}, "`creditor.bank_account`: 'konto 12' is not a bank account"),
        (
            {"creditor": {"bank_account": "1503.20.80118"}},  # one digit off: every letter would print it
            "`creditor.bank_account`: '1503.20.80118' is not a valid Norwegian account number",
        ),
        ({"creditor": {"bank_account": "1503208011"}}, "is not a valid Norwegian account number (11 digits"),
        ({"creditor": {"bank_acount": "1"}}, "did you mean `bank_account`?"),
        (  # a Swedish bankgiro one digit off (5050-1055): its MOD10 check digit catches it (found trying SE)
            {**SE, "creditor": {"bank_account": "5050-1056"}},
            "`creditor.bank_account`: '5050-1056' is not a valid Swedish bankgiro or plusgiro number",
        ),
        ({"policy": {"steps": [{"action": "call", "days": 14}]}}, "the first step must be a letter"),
        (
            {"policy": {"steps": [{"action": "reminder", "days": 14}, {"action": "call", "days": 7, "fee": True}]}},
            "a call carries no fee",
        ),
        (
            {
                "policy": {
                    "steps": [{"action": "reminder", "days": 14}, {"action": "call", "days": 7, "channel": "tripletex"}]
                }
            },
            "Tripletex cannot send it",
        ),
    ],
)
def test_the_letter_and_call_keys_are_checked(ws: Workspace, change: dict[str, Any], says: str) -> None:
    ws.write_config(client_table("acme", **change))
    result = ws.cli("check")
    assert result.exit_code == 2 and says in result.stderr, result.stderr


@pytest.mark.parametrize("account", ["5050-1055", "902090-0", "8327-9 994 165 423-2", "6000 123 456 789"])
def test_swedish_giro_numbers_and_bank_accounts_pass(ws: Workspace, account: str) -> None:
    # a bankgiro, a plusgiro (MOD10 checked), Swedbank and Handelsbanken accounts (no check common to all banks)
    ws.write_config(client_table("acme", **SE, creditor={"bank_account": account}))
    result = ws.cli("check")
    assert result.exit_code == 0, result.stderr


def test_the_fee_a_letter_records_is_per_invoice_step(ws: Workspace) -> None:
    setup(ws)
    run(ws, DAY)
    [record] = ws.letter_records()
    assert record.fee == Decimal("37.50") and record.status == book.SENT


def test_check_reads_the_clients_own_letter_texts(ws: Workspace) -> None:
    folder = ws.root / "texts" / "nb"
    folder.mkdir(parents=True)
    (folder / "reminder.j2").write_text("Purring {% if %}\n", encoding="utf-8")
    ws.write_config(client_table("acme", reminders={"letter_templates": "texts"}))
    result = ws.cli("check")
    assert result.exit_code == 1
    assert "letters: FAILED — 1 letter template(s) do not read" in result.stdout
    assert "letter template 'nb/reminder.j2'" in result.stdout


def test_the_statement_behind_a_reminder_owes_that_reminders_fee_too(ws: Workspace) -> None:
    setup(ws, policy={"statement_with_reminder": True})
    run(ws, DAY)
    pages = PdfReader(io.BytesIO(ws.letter_pdf("7001", "reminder", DAY).read_bytes())).pages
    letter, statement = (" ".join(p.extract_text().replace("\xa0", " ").split()) for p in pages[:2])
    assert "37,50" in letter
    # the statement's balance agrees with the reminder: its fee, dated by the reminder, once
    assert statement.count("Purregebyr") == 1 and "19.01.2026 37,50" in statement
    assert "Saldo 7 037,50" in statement  # 7 000,00 open + the fee
