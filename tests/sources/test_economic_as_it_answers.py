"""e-conomic as it really answers (issue 16, item 8), against the fake built from the REST docs:
customer payments as dated entry lines, ``lastUpdated`` a date in the filter syntax, and what an
incremental run must still see (an invoice booked with an earlier date, a credit note applied later)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.reconcile import reconcile
from connector.store import Store
from connector.store.facts import load_facts
from tests.fakes.ledger_world import now, realistic
from tests.fakes.ledgers import FakeEconomic
from tests.sources.ledger_helpers import client_for, fast_http, sync


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> Any:
    with fast_http(monkeypatch) as waits:
        yield waits


def _store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'ec.db'}")


def test_customer_payments_arrive_as_dated_entries(tmp_path: Path) -> None:
    world = realistic()
    world.pay(10045, Decimal("1250.50"), date(2026, 8, 20))
    with FakeEconomic(world) as fake:
        store = _store(tmp_path)
        assert sync(store, client_for("economic", fake, tmp_path)).ok
    facts = store.read(load_facts, "acme")
    paid = {(p.invoice_number, p.booking_date, p.amount) for p in facts.payments}
    assert paid == {
        ("10042", date(2026, 5, 15), Decimal("7500.00")),
        ("10043", date(2026, 6, 10), Decimal("3000.00")),
        ("10045", date(2026, 8, 20), Decimal("1250.50")),
    }
    # The remainder below the gross is explained by the dated payment, not only capped by the ledger.
    recon = reconcile(facts.invoices, facts.payments)
    assert recon.open_amount["10045"] == Decimal("7500.00")
    assert "ledger_balance" not in {a.tier for a in recon.allocations["10045"]}


def test_customers_are_filtered_by_last_updated_as_a_date(tmp_path: Path) -> None:
    world = realistic()
    with FakeEconomic(world) as fake:
        store = _store(tmp_path)
        client = client_for("economic", fake, tmp_path)
        assert sync(store, client).ok
        world.customers[0].name = "Fjordkraft Bygg og Anlegg AS"
        world.customers[0].modified = now()
        report = sync(store, client)  # incremental: filter=lastUpdated$gte:<a date>
        asked = [q["filter"] for _m, p, q in fake.log if p == "/customers" and "filter" in q]
    assert report.ok, report.errors
    assert asked and all(re.fullmatch(r"lastUpdated\$gte:\d{4}-\d{2}-\d{2}", f) for f in asked)
    names = {c.customer_id: c.name for c in store.read(load_facts, "acme").customers.values()}
    assert names["10017"] == "Fjordkraft Bygg og Anlegg AS"


def test_an_invoice_booked_with_an_earlier_date_and_a_credit_note_applied_later_are_seen(tmp_path: Path) -> None:
    world = realistic()
    with FakeEconomic(world) as fake:
        store = _store(tmp_path)
        client = client_for("economic", fake, tmp_path)
        assert sync(store, client).ok
        # Booked tonight, dated two months back: no "date since the last run" filter finds it.
        world.add_invoice(10070, world.customers[1], date.today() - timedelta(days=60), Decimal("640.00"))
        # A credit note dated last month, applied to the open invoice 10045 tonight.
        world.credit(10071, 10045, date.today() - timedelta(days=30))
        assert sync(store, client).ok
    facts = store.read(load_facts, "acme")
    invoices = {i.number: i for i in facts.invoices if i.kind.value == "invoice"}
    assert invoices["10070"].ledger_open_amount == Decimal("640.00")
    assert invoices["10045"].ledger_open_amount == Decimal("0.00")
    assert reconcile(facts.invoices, facts.payments).open_amount["10045"] == Decimal("0.00")
