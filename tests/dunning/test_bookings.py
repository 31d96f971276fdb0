"""Fees and interest a letter charged, booked back exactly once (issue 16): into a booking file the run
report lists, or into the ledger where its API books a charge exactly once (Fiken, PowerOffice) — also
when the process dies between the letter and the booking, or in the middle of the booking."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
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
        plan_charges(conn, ws.client(), intent, inv, Decimal("12.00"), at=ws.store.now())
    assert ws.store.read(bookings.bookings, "acme") == []


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
