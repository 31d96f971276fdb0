"""Endless and broken page loops (issue 13, item 4), played by the ledger fakes for every system: a
server that answers the same page for ever, one that repeats a page, one that answers an empty page
in the middle of a full re-sync."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hostile_corpus import PagingCase, endless_pages

from connector.store import Store
from connector.store.facts import load_facts
from connector.store.sync import record_sync, sync_status
from tests.fakes.ledger_world import realistic
from tests.fakes.ledgers import FAKES, PagingFault
from tests.sources.ledger_helpers import client_for, fast_http, state, sync

CASES = {f"{c.system}-{c.kind}": c for c in endless_pages()}
OPEN = {"10042": Decimal("5000.00"), "10043": Decimal("0.00"), "10044": Decimal("0.00"), "10045": Decimal("8750.50")}


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> Any:
    with fast_http(monkeypatch) as waits:
        yield waits


def _full_resync_due(store: Store, client_id: str) -> None:
    cursor = store.read(sync_status, client_id)["ledger"].cursor
    cursor["full_on"] = (date.today() - timedelta(days=30)).isoformat()
    with store.transaction() as conn:
        record_sync(conn, client_id, "ledger", ok=True, cursor=cursor, at=store.now())


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_mispaged_invoice_list(case: PagingCase, tmp_path: Path) -> None:
    world = realistic()
    with FAKES[case.system](world) as fake:
        store = Store(f"sqlite:///{tmp_path / 'pages.db'}")
        client = client_for(case.system, fake, tmp_path, page_size=2)  # the invoice list spans pages
        assert sync(store, client).ok
        before = state(store, client.id)
        _full_resync_due(store, client.id)
        cursor = store.read(sync_status, client.id)["ledger"].cursor
        fake.paging.append(PagingFault(case.kind, case.path))
        fake.reset_log()
        report = sync(store, client)
        listed = [p for _m, p, _q in fake.log if case.path in p]
    opened = {
        i.number: i.ledger_open_amount for i in store.read(load_facts, client.id).invoices if i.kind.value == "invoice"
    }
    if case.loops:
        # Stopped at the first repeat, naming the list; nothing of the run is stored.
        assert not report.ok
        assert "invoice list" in report.errors[0] and "the server is looping" in report.errors[0]
        assert len(listed) <= 4
        assert state(store, client.id) == before
        assert store.read(sync_status, client.id)["ledger"].cursor == cursor
    else:
        # Read on, or stopped; either way the listing is incomplete and the full re-sync closes nothing.
        assert report.ok, report.errors
        assert any("the listing is incomplete" in w for w in report.warnings), report.warnings
        assert opened == OPEN
        assert store.read(sync_status, client.id)["ledger"].cursor["full_on"] == cursor["full_on"]  # still due


def test_an_empty_last_page_that_hides_an_open_invoice_closes_nothing(tmp_path: Path) -> None:
    """Two pages, the second answered empty: by paging alone the list looks complete (an exact
    multiple). The customer ledger's own list says 10045 is open, so the listing is not complete and
    the full re-sync closes nothing — not even 10042, which really vanished — until it is."""
    world = realistic()
    with FAKES["poweroffice"](world) as fake:
        store = Store(f"sqlite:///{tmp_path / 'pages.db'}")
        client = client_for("poweroffice", fake, tmp_path, page_size=2)
        assert sync(store, client).ok
        world.doc(10042).deleted = True  # reversed upstream: [10043, 10044], [10045, 10051]
        _full_resync_due(store, client.id)
        fake.paging.append(PagingFault("empty-mid", "/OutgoingInvoices"))
        report = sync(store, client)
        still = {i.number: i.ledger_open_amount for i in store.read(load_facts, client.id).invoices}
        fake.paging.clear()
        assert sync(store, client).ok  # the full re-sync was still due, and now sees a complete list
        closed = {i.number: i.ledger_open_amount for i in store.read(load_facts, client.id).invoices}
    assert report.ok and any("10045" in w and "incomplete" in w for w in report.warnings), report.warnings
    assert (still["10042"], still["10045"]) == (Decimal("5000.00"), Decimal("8750.50"))
    assert (closed["10042"], closed["10045"]) == (Decimal("0.00"), Decimal("8750.50"))
