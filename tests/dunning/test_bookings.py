"""Fees and interest a letter charged, booked back exactly once (issue 16): into a booking file the run
report lists, or into the ledger where its API books a charge exactly once (Fiken, PowerOffice) — also
when the process dies between the letter and the booking, or in the middle of the booking."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.actions import act
from connector.model import Action
from connector.store import bookings, sends
from connector.store.facts import load_facts
from tests.builders import Workspace, client_table
from tests.fakes.ledger_poweroffice import ACCOUNTS
from tests.fakes.ledger_world import realistic
from tests.fakes.ledgers import FakeFiken, FakePowerOffice, FakeSystem, ledger_table
from tests.sources.ledger_helpers import fast_http

DUE = date(2026, 1, 5)
DAY = date(2026, 1, 19)  # 14 days after due: the default ladder's reminder, with a fee
NOTICE_DAY = date(2026, 2, 5)  # the collection notice after the reminder's pay-by date (2 Feb) + settle days
API_DAY = date(2026, 11, 20)  # the fake ledgers' world: 10042 and 10045 are long overdue


class Killed(BaseException):
    """The process dying: nothing after it runs, no handler catches it."""


def _die(*_a: Any, **_k: Any) -> None:
    raise Killed


def _run(ws: Workspace, day: date) -> Any:
    ws.bank_heartbeat(day)
    return ws.cli("run", "--as-of", day.isoformat())


def _booking_file(ws: Workspace, day: date) -> Path:
    return ws.root / "clients" / "acme" / "outbox" / "bookings" / f"acme-bookings-{day.isoformat()}.csv"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# ---- the booking file (a ledger whose API cannot book a charge exactly once: here EHF) ---------------


def test_a_fee_and_interest_charged_by_letter_go_to_a_booking_file_listed_in_the_report(ws: Workspace) -> None:
    ws.write_config(client_table())
    ws.add_invoice("8001", issue=date(2025, 12, 22), due=DUE, amount="5000.00")
    result = _run(ws, DAY)
    assert result.exit_code == 0, result.output
    path = _booking_file(ws, DAY)
    assert f"booking file {path}" in result.output
    rows = _rows(path)
    [step] = ws.store.read(load_facts, "acme").steps
    fee = next(r for r in rows if r["text"].startswith("Reminder fee"))
    assert step.fee > 0  # the fee the letter charged (the rule pack's cap on that day) is what is booked
    assert (fee["account"], Decimal(fee["amount"]), fee["currency"], fee["date"], fee["invoice"]) == (
        "8070",
        step.fee,
        "NOK",
        "2026-01-19",
        "8001",
    )
    interest = next(r for r in rows if r["text"].startswith("Late interest"))
    total = sum((Decimal(r["amount"]) for r in rows), start=Decimal(0))
    assert f"{len(rows)} charge(s) to import into the ledger, {total} NOK in all" in result.output
    assert interest["account"] == "8050" and Decimal(interest["amount"]) > 0
    assert len({r["reference"] for r in rows}) == len(rows) == 2

    assert _run(ws, DAY).exit_code == 0  # the same night again: nothing new
    assert _rows(path) == rows

    notice = _run(ws, NOTICE_DAY)  # the notice shows interest from the due date: only what it adds is booked
    assert notice.exit_code == 0, notice.output
    [later] = _rows(_booking_file(ws, NOTICE_DAY))
    assert later["text"].startswith("Late interest")
    shown = Decimal(interest["amount"]) + Decimal(later["amount"])
    assert Decimal("0") < Decimal(later["amount"]) < shown


def test_a_crash_between_the_letter_and_the_booking_books_it_once_on_the_next_run(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.write_config(client_table())
    ws.add_invoice("8002", issue=date(2025, 12, 22), due=DUE, amount="5000.00")
    with monkeypatch.context() as m:
        m.setattr(act, "book_charges", _die)  # the letter is out and recorded; the process dies
        ws.bank_heartbeat(DAY)
        with pytest.raises(Killed):
            ws.cli("run", "--as-of", DAY.isoformat())
    assert [s.step for s in ws.store.read(load_facts, "acme").steps] == [Action.REMINDER]
    assert {b.status for b in ws.store.read(bookings.bookings, "acme")} == {bookings.PLANNED}
    assert not _booking_file(ws, DAY).exists()

    again = _run(ws, date(2026, 1, 20))  # the next night books what the letter charged
    assert again.exit_code == 0, again.output
    rows = _rows(_booking_file(ws, DAY))
    assert sorted(r["text"].split(",")[0] for r in rows) == ["Late interest", "Reminder fee"]
    assert _run(ws, date(2026, 1, 21)).exit_code == 0
    assert _rows(_booking_file(ws, DAY)) == rows  # exactly once
    assert {b.status for b in ws.store.read(bookings.bookings, "acme")} == {bookings.BOOKED}


def test_a_crash_after_the_file_was_written_does_not_write_the_charge_twice(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.write_config(client_table())
    ws.add_invoice("8003", issue=date(2025, 12, 22), due=DUE, amount="5000.00")
    real = bookings.settle

    def settle(store: Any, b: Any, status: str, **kw: Any) -> Any:
        if status == bookings.BOOKED:
            raise Killed  # the file is renamed into place; recording it never happens
        return real(store, b, status, **kw)

    with monkeypatch.context() as m:
        m.setattr(bookings, "settle", settle)
        ws.bank_heartbeat(DAY)
        with pytest.raises(Killed):
            ws.cli("run", "--as-of", DAY.isoformat())
    written = _rows(_booking_file(ws, DAY))
    assert len(written) == 2 and bookings.PENDING in {b.status for b in ws.store.read(bookings.bookings, "acme")}
    assert _run(ws, date(2026, 1, 20)).exit_code == 0
    assert _rows(_booking_file(ws, DAY)) == written
    assert {b.status for b in ws.store.read(bookings.bookings, "acme")} == {bookings.BOOKED}


def test_a_letter_that_failed_books_nothing(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.channels.base import ChannelError
    from connector.channels.outbox import OutboxChannel

    ws.write_config(client_table())
    ws.add_invoice("8004", issue=date(2025, 12, 22), due=DUE, amount="5000.00")

    def refuse(*_a: Any, **_k: Any) -> None:
        raise ChannelError("the outbox folder is read-only")

    with monkeypatch.context() as m:
        m.setattr(OutboxChannel, "deliver_letter", refuse)
        assert _run(ws, DAY).exit_code == 1
    assert [i.status for i in ws.store.read(sends.intents, "acme")] == [sends.FAILED]
    assert {b.status for b in ws.store.read(bookings.bookings, "acme")} == {bookings.VOID}
    assert not _booking_file(ws, DAY).exists()


# ---- a letter cancelled: its booking reversed, the letter written again booked anew --------------------------


def _net(path: Path) -> dict[tuple[str, str], Decimal]:
    """Invoice and kind of charge → what the booking file books in all (a reversal takes its charge back)."""
    out: dict[tuple[str, str], Decimal] = {}
    for r in _rows(path):
        kind = "fee" if "Reminder fee" in r["text"] else "interest"
        out[(r["invoice"], kind)] = out.get((r["invoice"], kind), Decimal(0)) + Decimal(r["amount"])
    return out


def _charged(ws: Workspace) -> dict[tuple[str, str], Decimal]:
    """What the letters that stand charged (the core's facts): the ledger must end with just this."""
    out: dict[tuple[str, str], Decimal] = {}
    for c in ws.store.read(load_facts, "acme").charges:
        out[(c.invoice_number, c.kind)] = out.get((c.invoice_number, c.kind), Decimal(0)) + c.amount
    return out


def test_a_letter_cancelled_and_written_again_the_same_day_is_booked_and_the_cancelled_one_reversed(
    ws: Workspace,
) -> None:
    ws.write_config(client_table())
    ws.add_invoice("8006", issue=date(2025, 12, 22), due=DUE, amount="5000.00")
    assert _run(ws, DAY).exit_code == 0
    [first] = ws.letter_records()
    path = _booking_file(ws, DAY)
    booked = _rows(path)

    cancelled = ws.cli(
        "letters", "cancel", "acme", first.letter_id, "--note", "feil adresse", "--as-of", DAY.isoformat()
    )
    assert cancelled.exit_code == 0, cancelled.output
    # arsync writes the reversal itself (dated and filed the day it was cancelled) and says where
    assert cancelled.stdout.count(f"is written to {path.name}: import it into the ledger") == 2
    assert "reverse it there" not in cancelled.stdout
    reversals = _rows(path)[len(booked) :]
    assert [Decimal(r["amount"]) for r in reversals] == [-Decimal(r["amount"]) for r in booked]
    assert all(r["text"].startswith("Reversal (letter cancelled): ") for r in reversals)
    assert _net(path) == {("8006", "fee"): 0, ("8006", "interest"): 0}

    again = _run(ws, DAY)  # the same day: a new letter, with its own fee and interest
    assert again.exit_code == 0, again.output
    second = ws.letter_records()[-1]
    assert second.letter_id == f"{first.letter_id}-2" and "fee 37.50 NOK" in again.output
    interest = _charged(ws)[("8006", "interest")]  # from the due date: the cancelled letter's counts for nothing
    assert _net(path) == _charged(ws) == {("8006", "fee"): second.fee, ("8006", "interest"): interest}
    assert interest > 0 and second.fee > 0
    rows = _rows(path)
    assert len(rows) == 6 and len({r["reference"] for r in rows}) == 6
    assert _run(ws, DAY).exit_code == 0 and _rows(path) == rows  # exactly once
    assert {b.status for b in ws.store.read(bookings.bookings, "acme")} == {bookings.BOOKED}


def test_a_letter_cancelled_before_its_charges_were_booked_books_nothing_for_it(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.write_config(client_table())
    ws.add_invoice("8007", issue=date(2025, 12, 22), due=DUE, amount="5000.00")
    with monkeypatch.context() as m:
        m.setattr(act, "book_charges", _die)  # the letter is out; the process dies before booking it
        ws.bank_heartbeat(DAY)
        with pytest.raises(Killed):
            ws.cli("run", "--as-of", DAY.isoformat())
    [first] = ws.letter_records()
    cancelled = ws.cli("letters", "cancel", "acme", first.letter_id, "--as-of", DAY.isoformat())
    assert cancelled.exit_code == 0, cancelled.output
    assert "booked" not in cancelled.stdout  # nothing was: nothing to reverse
    assert {b.status for b in ws.store.read(bookings.bookings, "acme")} == {bookings.VOID}

    assert _run(ws, DAY).exit_code == 0  # written again: only the new letter's charges are booked
    path = _booking_file(ws, DAY)
    assert len(_rows(path)) == 2 and _net(path) == _charged(ws)
    assert all(ws.letter_records()[-1].letter_id in r["text"] for r in _rows(path))


def test_a_cancelled_letter_whose_booking_a_stopped_run_left_half_done_is_reversed_once_it_is_booked(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.write_config(client_table())
    ws.add_invoice("8008", issue=date(2025, 12, 22), due=DUE, amount="5000.00")
    real = bookings.settle

    def settle(store: Any, b: Any, status: str, **kw: Any) -> Any:
        if status == bookings.BOOKED:
            raise Killed  # the file is written; recording it never happens: the charges stay pending
        return real(store, b, status, **kw)

    with monkeypatch.context() as m:
        m.setattr(bookings, "settle", settle)
        ws.bank_heartbeat(DAY)
        with pytest.raises(Killed):
            ws.cli("run", "--as-of", DAY.isoformat())
    [first] = ws.letter_records()
    path = _booking_file(ws, DAY)
    assert len(_rows(path)) == 2
    cancel_day = DAY + timedelta(days=1)
    cancelled = ws.cli("letters", "cancel", "acme", first.letter_id, "--as-of", cancel_day.isoformat())
    assert cancelled.exit_code == 0, cancelled.output
    later = _booking_file(ws, cancel_day)  # not reversed before it is known to be booked: the next run does it
    assert cancelled.stdout.count("is being booked (reference arsync-") == 2
    assert cancelled.stdout.count(f"goes into {later.name} at the next run") == 2 and not later.exists()

    assert _run(ws, cancel_day).exit_code == 0
    assert _run(ws, cancel_day).exit_code == 0
    assert len(_rows(path)) == 2  # the charges were found in the file, not written again
    # reversed in the file of the day it was cancelled (beside the charges of the letter written again then)
    total = {k: v + _net(later).get(k, Decimal(0)) for k, v in _net(path).items()}
    assert total == _charged(ws) and ws.letter_records()[-1].sent_on == cancel_day
    assert sum(r["text"].startswith("Reversal (letter cancelled): ") for r in _rows(later)) == 2
    assert {b.status for b in ws.store.read(bookings.bookings, "acme")} == {bookings.BOOKED}


def test_a_letter_cancelled_while_a_run_holds_the_client_has_its_reversal_written_by_the_next_run(
    ws: Workspace,
) -> None:
    ws.write_config(client_table())
    ws.add_invoice("8009", issue=date(2025, 12, 22), due=DUE, amount="5000.00")
    assert _run(ws, DAY).exit_code == 0
    [first] = ws.letter_records()
    path = _booking_file(ws, DAY)
    with ws.store.lock("acme", "run"):  # another run writes booking files now: the cancel leaves the file alone
        cancelled = ws.cli("letters", "cancel", "acme", first.letter_id, "--as-of", DAY.isoformat())
    assert cancelled.exit_code == 0, cancelled.output
    assert cancelled.stdout.count(f"goes into {path.name} at the next run") == 2 and len(_rows(path)) == 2
    assert _run(ws, DAY + timedelta(days=1)).exit_code == 0
    assert _net(path) == {("8009", "fee"): 0, ("8009", "interest"): 0} and len(_rows(path)) == 4


# ---- into the ledger ----------------------------------------------------------------------------


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with fast_http(monkeypatch):
        yield


def _api_workspace(ws: Workspace, kind: str, fake: FakeSystem) -> None:
    table = client_table()
    table["ledger"] = {**ledger_table(kind, fake), "path": "clients/acme/ledger"}
    ws.write_config(table)


@pytest.mark.usefixtures("fast")
def test_fiken_gets_a_journal_entry_once_even_when_the_run_dies_after_posting_it(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = bookings.settle

    def settle(store: Any, b: Any, status: str, **kw: Any) -> Any:
        if status == bookings.BOOKED:
            raise Killed  # Fiken has the entry; recording that never happens
        return real(store, b, status, **kw)

    with FakeFiken(realistic()) as fake:
        _api_workspace(ws, "fiken", fake)
        with monkeypatch.context() as m:
            m.setattr(bookings, "settle", settle)
            ws.bank_heartbeat(API_DAY)
            with pytest.raises(Killed):
                ws.cli("run", "--as-of", API_DAY.isoformat())
        assert len(fake.journal_entries) == 1
        result = _run(ws, API_DAY)  # looks for the pending booking first: found, not posted again
        assert result.exit_code == 0, result.output
        assert _run(ws, date(2026, 11, 21)).exit_code == 0
        entries = fake.journal_entries
    # 10045 got its reminder with a fee (no interest: the rule pack has no published rate for the
    # period); one journal entry, never two.
    descriptions = [e["description"] for e in entries]
    assert len(descriptions) == len(set(descriptions)), descriptions  # one entry per charge, never two
    [fee] = [e for e in entries if "Reminder fee, invoice 10045" in e["description"]]
    [line] = fee["lines"]
    charged = next(s.fee for s in ws.store.read(load_facts, "acme").steps if s.invoice_number == "10045")
    assert line == {"amount": int(charged * 100), "debitAccount": "1500:10018", "creditAccount": "8070"}  # øre
    assert {b.status for b in ws.store.read(bookings.bookings, "acme")} == {bookings.BOOKED}


@pytest.mark.usefixtures("fast")
def test_a_letter_cancelled_and_written_again_books_its_fee_in_fiken_and_names_the_entry_to_reverse(
    ws: Workspace,
) -> None:
    def fees(fake: Any) -> list[str]:  # (FakeFiken; entered, it is typed as FakeSystem)
        return [e["description"] for e in fake.journal_entries if "Reminder fee, invoice 10045" in e["description"]]

    with FakeFiken(realistic()) as fake:
        _api_workspace(ws, "fiken", fake)
        assert _run(ws, API_DAY).exit_code == 0
        first = ws.letter_record("10045", "reminder", API_DAY)
        [booked] = [b for b in ws.store.read(bookings.bookings, "acme") if b.invoice_number == "10045"]
        cancelled = ws.cli("letters", "cancel", "acme", first.letter_id, "--as-of", API_DAY.isoformat())
        assert cancelled.exit_code == 0, cancelled.output
        assert _run(ws, API_DAY).exit_code == 0  # written again the same day: its fee is booked too
        assert _run(ws, API_DAY).exit_code == 0
        again = ws.letter_record("10045", "reminder", API_DAY)
        assert again.letter_id != first.letter_id
        assert [again.letter_id in d for d in fees(fake)] == [False, True]  # once each, never twice
    # arsync does not reverse a ledger's booking: it names the entry for the accountant to reverse
    said = f"was booked in fiken (entry {booked.ref}, reference {booked.reference}): reverse it there"
    assert said in cancelled.stdout


@pytest.mark.usefixtures("fast")
def test_poweroffice_gets_a_manual_voucher_once_even_when_the_run_dies_after_posting_it(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = bookings.settle

    def settle(store: Any, b: Any, status: str, **kw: Any) -> Any:
        if status == bookings.BOOKED:
            raise Killed
        return real(store, b, status, **kw)

    with FakePowerOffice(realistic()) as fake:
        _api_workspace(ws, "poweroffice", fake)
        with monkeypatch.context() as m:
            m.setattr(bookings, "settle", settle)
            ws.bank_heartbeat(API_DAY)
            with pytest.raises(Killed):
                ws.cli("run", "--as-of", API_DAY.isoformat())
        assert len(fake.vouchers) == 1
        assert _run(ws, API_DAY).exit_code == 0
        vouchers = list(fake.vouchers)
        posted = [p for m, p, _q in fake.log if m == "POST" and "ManualJournals" in p]
    descriptions = [v["Description"] for v in vouchers]
    assert len(descriptions) == len(set(descriptions)), descriptions  # one voucher per charge, never two
    [fee] = [v for v in vouchers if v["Description"].startswith("Reminder fee, invoice 10045")]
    customer_line, income_line = fee["VoucherLines"]
    charged = next(s.fee for s in ws.store.read(load_facts, "acme").steps if s.invoice_number == "10045")
    assert (Decimal(str(customer_line["CurrencyAmount"])), Decimal(str(income_line["CurrencyAmount"]))) == (
        charged,
        -charged,
    )
    assert customer_line["AccountId"] == 300_000 + realistic_customer_id(fake, 10018)
    assert income_line["AccountId"] == ACCOUNTS[8070]
    assert len(posted) == len(vouchers)  # the interrupted one was found by its reference, not posted again


def realistic_customer_id(fake: FakePowerOffice, number: int) -> int:
    return next(c.id for c in fake.world.customers if c.number == number)


@pytest.mark.usefixtures("fast")
def test_poweroffice_itself_refuses_a_reference_twice_and_the_booking_is_found(ws: Workspace) -> None:
    from connector.sources.base import LedgerBooking
    from connector.sources.systems import api_ledger

    with FakePowerOffice(realistic()) as fake:
        _api_workspace(ws, "poweroffice", fake)
        source = api_ledger(ws.client())
        charge = LedgerBooking(
            "arsync-0123456789abcdef01234567",
            API_DAY,
            "10018",
            "10045",
            "8070",
            Decimal("37.50"),
            "NOK",
            "Reminder fee",
        )
        first = source.book(charge)
        second = source.book(charge)  # 400 "already exists": looked up, the same voucher
        assert first == second and len(fake.vouchers) == 1
        assert source.find_booking(charge) == first


def test_a_tripletex_reminder_books_its_own_charge(ws: Workspace) -> None:
    from connector.actions.bookings import plan_charges
    from connector.model import DocKind, Invoice
    from connector.store.sends import PENDING, SendIntent

    ws.write_config(client_table())
    intent = SendIntent("acme", "8005", Action.REMINDER, DAY, "tripletex", PENDING, Decimal("37.50"), "NOK")
    inv = Invoice(
        "acme", "8005", DocKind.INVOICE, "K1", date(2025, 12, 22), DUE, "NOK", Decimal("5000.00"), "tripletex"
    )
    with ws.store.transaction() as conn:
        plan_charges(conn, ws.client(), intent, inv, Decimal("12.00"), letter_id="R-1", at=ws.store.now())
    assert ws.store.read(bookings.bookings, "acme") == []


def test_an_older_database_keeps_its_bookings_and_their_references(tmp_path: Path) -> None:
    import sqlite3

    from connector.store import Store

    path = tmp_path / "old.db"
    Store(f"sqlite:///{path}").close()
    raw = sqlite3.connect(path)
    raw.execute("DROP TABLE fee_bookings")  # as v13 and v14 made it, keyed without the letter
    raw.execute(
        "CREATE TABLE fee_bookings (client_id VARCHAR(64) NOT NULL, invoice_number VARCHAR(128) NOT NULL, "
        "step VARCHAR(32) NOT NULL, sent_on DATE NOT NULL, kind VARCHAR(16) NOT NULL, amount VARCHAR(40) NOT NULL, "
        "currency VARCHAR(3) NOT NULL, customer_id VARCHAR(128) NOT NULL, account VARCHAR(32) NOT NULL, "
        "text TEXT NOT NULL, target VARCHAR(32) NOT NULL, status VARCHAR(16) NOT NULL, ref TEXT NOT NULL, "
        "last_error TEXT, attempts INTEGER NOT NULL, claimed_by TEXT, created_at DATETIME NOT NULL, "
        "updated_at DATETIME NOT NULL, PRIMARY KEY (client_id, invoice_number, step, sent_on, kind))"
    )
    raw.execute(
        "INSERT INTO fee_bookings VALUES ('acme', '8001', 'reminder', '2026-01-19', 'fee', '37.50', 'NOK', 'K1', "
        "'8070', 'Reminder fee', 'file', 'pending', '', NULL, 1, NULL, '2026-01-19 02:00:00', '2026-01-19 02:00:00')"
    )
    raw.execute("UPDATE schema_version SET version = 19")
    raw.commit()
    raw.close()
    store = Store(f"sqlite:///{path}")
    try:
        [b] = store.read(bookings.bookings, "acme")
        assert (b.letter_id, b.status, b.amount) == ("", bookings.PENDING, Decimal("37.50"))
        # a pending booking is looked for by its reference: the same as before the upgrade
        assert (
            b.reference == "arsync-" + hashlib.sha256(b"acme\x008001\x00reminder\x002026-01-19\x00fee").hexdigest()[:24]
        )
        with store.transaction() as conn:  # the letter written again the same day charges under its own key
            bookings.plan(conn, [replace(b, status=bookings.PLANNED, letter_id="R-2")], at=store.now())
        assert [x.letter_id for x in store.read(bookings.bookings, "acme")] == ["", "R-2"]
    finally:
        store.close()


def test_an_older_database_gets_the_booking_log(tmp_path: Path) -> None:
    import sqlite3

    from sqlalchemy import inspect

    from connector.store import Store

    path = tmp_path / "old.db"
    Store(f"sqlite:///{path}").close()
    raw = sqlite3.connect(path)
    raw.execute("DROP TABLE fee_bookings")
    raw.execute("UPDATE schema_version SET version = 12")  # before v13, which added the booking log
    raw.commit()
    raw.close()
    store = Store(f"sqlite:///{path}")
    try:
        with store.engine.connect() as conn:
            assert inspect(conn).has_table("fee_bookings")
    finally:
        store.close()
