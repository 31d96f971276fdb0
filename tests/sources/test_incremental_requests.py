"""Incremental means only what changed (issue 16): with nothing changed upstream a night costs at most
three requests per client for every system (four for Fiken), and one new payment about one more — each night a new
process, so Tripletex's session and PowerOffice's token are asked for again and count."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.sources import poweroffice, tripletex
from connector.store import Store
from tests.fakes.ledger_world import realistic
from tests.fakes.ledgers import FAKES, FakeSystem
from tests.sources.ledger_helpers import client_for, fast_http, state, sync

KINDS = ["tripletex", "fiken", "poweroffice", "economic"]


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> Any:
    with fast_http(monkeypatch, read_timeout=10.0) as waits:  # requests are counted: none may time out
        yield waits


def _night(store: Store, client: Any, fake: FakeSystem) -> int:
    """One nightly sync as a new process: its requests, the session it ends included."""
    tripletex.forget_sessions()
    poweroffice.forget_tokens()
    fake.reset_log()
    assert sync(store, client).ok
    tripletex.end_sessions()
    return len([r for r in fake.log if r[0] != "DELETE"])  # the session's deletion is the run's, once


@pytest.mark.parametrize("kind", KINDS)
def test_nothing_changed_costs_at_most_three_requests_and_one_payment_about_one_more(kind: str, tmp_path: Path) -> None:
    world = realistic()
    with FAKES[kind](world) as fake:
        store = Store(f"sqlite:///{tmp_path / 'nights.db'}")
        client = client_for(kind, fake, tmp_path)
        _night(store, client, fake)  # the first, full sync
        quiet = _night(store, client, fake)
        world.pay(10045, Decimal("1000.00"), date.today())
        paid = _night(store, client, fake)
        after = state(store, client.id)
        fresh = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
        assert sync(fresh, client_for(kind, fake, tmp_path)).ok
    # Fiken: contacts, sales, invoices and credit notes changed (a credit note of no invoice is on no invoice)
    assert quiet <= (4 if kind == "fiken" else 3), (kind, quiet)
    assert paid <= quiet + 1, (kind, quiet, paid)
    assert ("10045", Decimal("1000.00")) in {(number, amount) for _key, amount, number in after["payments"]}
    assert after == state(fresh, client.id)  # the incremental nights equal a full sync


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dated_back", [0, 20])
def test_a_credit_note_of_no_invoice_comes_the_next_night(kind: str, dated_back: int, tmp_path: Path) -> None:
    """The customer's credit holds its reminders: an incremental night must not leave it for the next full run,
    also when it was booked with an earlier date (the end of last month, say: a filter on dates misses it)."""
    world = realistic()
    with FAKES[kind](world) as fake:
        store = Store(f"sqlite:///{tmp_path / 'nights.db'}")
        client = client_for(kind, fake, tmp_path)
        _night(store, client, fake)  # the first, full sync
        _night(store, client, fake)  # and an incremental one, so the next is incremental on a bookmark of one
        issued = date.today() - timedelta(days=dated_back)
        world.credit_customer(20001, world.customers[1], issued, Decimal("500.00"))
        _night(store, client, fake)
        after = state(store, client.id)
    notes = [i for i in after["invoices"] if i[0] == "credit_note" and i[1] == "20001"]
    assert len(notes) == 1 and notes[0][5] == Decimal("500.00") and notes[0][7] == (), (kind, notes)
