"""PowerOffice Go v2 as it really answers (issue 16, items 5–7), against the fake built from the v2
OpenAPI specs: 204 with an empty body for every empty list, currency-true amounts, and only the
filters ``/OutgoingInvoices`` really has (it ignores the others)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.sources import poweroffice
from connector.sources.systems import check_ledger
from connector.store import Store
from connector.store.facts import load_facts
from tests.fakes.ledger_world import realistic
from tests.fakes.ledgers import FakePowerOffice
from tests.sources.ledger_helpers import client_for, fast_http, sync


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> Any:
    with fast_http(monkeypatch) as waits:
        yield waits


def _store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'po.db'}")


def test_an_empty_list_answered_204_is_an_empty_page(tmp_path: Path) -> None:
    with FakePowerOffice(realistic()) as fake:
        store = _store(tmp_path)
        client = client_for("poweroffice", fake, tmp_path, page_size=2)  # 2 customers: page 2 is a 204
        first = sync(store, client)
        second = sync(store, client)  # nothing changed: the customer list and the ledger answer 204
        empty = [p for m, p, q in fake.log if p.endswith("/Customers") and q.get("PageNumber") == "2"]
    assert first.ok, first.errors
    assert second.ok, second.errors
    assert empty  # the page after an exact multiple of the page size was asked and answered 204
    assert len(store.read(load_facts, "acme").customers) == 2


def test_a_part_paid_foreign_currency_invoice_keeps_its_currency(tmp_path: Path) -> None:
    world = realistic()
    eur = world.add_invoice(10060, world.customers[0], date(2026, 9, 1), Decimal("1200.00"), "0001006056", "EUR")
    eur.rate = Decimal("11.50")  # the client's books are in NOK: 13,800.00 NOK posted
    world.pay(10060, Decimal("200.00"), date(2026, 9, 20))
    with FakePowerOffice(world) as fake:
        store = _store(tmp_path)
        assert sync(store, client_for("poweroffice", fake, tmp_path)).ok
    facts = store.read(load_facts, "acme")
    inv = next(i for i in facts.invoices if i.number == "10060")
    assert (inv.currency, inv.amount, inv.ledger_open_amount) == ("EUR", Decimal("1200.00"), Decimal("1000.00"))
    [pay] = [p for p in facts.payments if p.invoice_number == "10060"]
    assert (pay.currency, pay.amount) == ("EUR", Decimal("200.00"))


def test_a_night_with_nothing_changed_reads_no_invoice(tmp_path: Path) -> None:
    with FakePowerOffice(realistic()) as fake:
        store = _store(tmp_path)
        client = client_for("poweroffice", fake, tmp_path)
        assert sync(store, client).ok
        fake.reset_log()
        poweroffice.forget_tokens()  # the next night is a new process: it asks for a token again
        assert sync(store, client).ok
        paths = sorted(p for _m, p, _q in fake.log)
    # /OutgoingInvoices has no lastChanged filter: asking with one re-read every invoice.
    assert paths == ["/OAuth/Token", "/v2/Customerledger/Statement", "/v2/Customers"]


def test_check_names_the_client_from_the_fields_the_answer_has(tmp_path: Path) -> None:
    with FakePowerOffice(realistic()) as fake:
        works, lines = check_ledger(client_for("poweroffice", fake, tmp_path))
    assert works, lines
    assert lines[0] == "token works: client Nordlys Rør AS (client id 0b7e7c4e-1d6a-4f0e-9c55-2f1a3c4d5e6f)"


def test_a_write_off_is_not_a_payment_and_closes_the_invoice(tmp_path: Path) -> None:
    """CustomerLedgerEntryDto.IsWriteOff: "Such entries are not payments, but an accounting routine
    writing off an open item"."""
    fake = FakePowerOffice(realistic())
    with fake:
        fake.write_off(10045, date(2026, 10, 1))
        store = _store(tmp_path)
        assert sync(store, client_for("poweroffice", fake, tmp_path)).ok
    facts = store.read(load_facts, "acme")
    assert [p for p in facts.payments if p.invoice_number == "10045"] == []
    inv = next(i for i in facts.invoices if i.number == "10045")
    assert inv.ledger_open_amount == Decimal("0.00")


def test_a_customer_who_is_a_person_is_named_by_first_and_last_name(tmp_path: Path) -> None:
    """CustomerDto: Name is "relevant and required if the customer is a company"; a person has
    FirstName and LastName."""
    world = realistic()
    world.customers[1].person = True  # Nordlys Regnskap AS stands in for a person here
    with FakePowerOffice(world) as fake:
        store = _store(tmp_path)
        report = sync(store, client_for("poweroffice", fake, tmp_path))
    assert report.ok and not report.errors, report.errors
    names = {c.customer_id: (c.name, c.org_no) for c in store.read(load_facts, "acme").customers.values()}
    assert names["10018"] == ("Nordlys Regnskap AS", None)
