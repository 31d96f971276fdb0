"""Tripletex as it really answers (issue 16, items 1–4), against the fake built from the OpenAPI spec
and the tripletex-api2 repository: untyped payment postings, inactive customers, nested objects only
expanded by ``fields``, a 429 without ``X-Rate-Limit-Reset``, and session tokens deleted at the end."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector import http, pipeline
from connector.config import Settings
from connector.store import Store
from connector.store.facts import load_facts
from tests.fakes.ledger_world import realistic
from tests.fakes.ledgers import FakeTripletex
from tests.sources.ledger_helpers import client_for, fast_http, sync


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> Any:
    with fast_http(monkeypatch) as waits:
        yield waits


def _store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'tt.db'}")


def test_a_payment_registered_by_hand_arrives_with_its_date_amount_and_reference(tmp_path: Path) -> None:
    world = realistic()
    world.pay(10045, Decimal("750.50"), date(2026, 8, 20), manual=True)  # its posting has no type (null)
    with FakeTripletex(world) as fake:
        store = _store(tmp_path)
        assert sync(store, client_for("tripletex", fake, tmp_path)).ok
    paid = {
        (p.invoice_number, p.booking_date, p.amount, p.structured_ref) for p in store.read(load_facts, "acme").payments
    }
    assert ("10045", date(2026, 8, 20), Decimal("750.50"), None) in paid
    # The OCR payment keeps its KID as the reference.
    assert ("10042", date(2026, 5, 15), Decimal("7500.00"), "0001004237") in paid


def test_inactive_customers_arrive_with_name_address_and_email(tmp_path: Path) -> None:
    world = realistic()
    world.customers[1].inactive = True  # Nordlys Regnskap AS, who has invoice 10045 open
    with FakeTripletex(world) as fake:
        store = _store(tmp_path)
        assert sync(store, client_for("tripletex", fake, tmp_path)).ok
    customer = {c.org_no: c for c in store.read(load_facts, "acme").customers.values()}["923456783"]
    assert (customer.name, customer.email, customer.city) == ("Nordlys Regnskap AS", "post@nordlys.example", "Bodø")


def test_the_country_is_read_through_the_fields_expansion(tmp_path: Path) -> None:
    world = realistic()
    world.customers[0].country = "DK"
    with FakeTripletex(world) as fake:
        store = _store(tmp_path)
        assert sync(store, client_for("tripletex", fake, tmp_path)).ok
    countries = {c.org_no: c.country for c in store.read(load_facts, "acme").customers.values()}
    assert countries == {"913312465": "DK", "923456783": "NO"}


def test_a_429_without_reset_header_is_waited_out_to_the_end_of_the_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Other integrations spend the employee token's quota mid-sync: every call answers 429 without
    X-Rate-Limit-Reset for the rest of the period. The client waits for the period the last answer
    announced, instead of giving up after a few short backoffs."""
    waited: list[float] = []

    def sleep(seconds: float) -> None:
        waited.append(seconds)
        time.sleep(seconds)

    http.set_retry_policy(http.RetryPolicy(attempts=3, initial_wait=0.001, max_wait=0.004, sleep=sleep))
    with FakeTripletex(realistic()) as fake:
        store = _store(tmp_path)
        fake.throttle(after=3, period=1.2)  # a session, the customers, then the quota is gone for ~1 s
        started = time.monotonic()
        report = sync(store, client_for("tripletex", fake, tmp_path, page_size=2))
        refused = [r for r in fake.log if r[1].endswith("/openPost") or r[1].endswith("/customer")]
    assert report.ok, report.errors
    assert time.monotonic() - started >= 0.8 and sum(waited) >= 0.8  # waited for the period, not 3 × 4 ms
    assert refused and len(store.read(load_facts, "acme").invoices) == 5


def test_the_sessions_a_run_created_are_deleted_when_it_ends(tmp_path: Path) -> None:
    with FakeTripletex(realistic()) as fake:
        client = client_for("tripletex", fake, tmp_path)
        settings = Settings(clients=[client], store={"url": f"sqlite:///{tmp_path / 'run.db'}"})
        store = _store(tmp_path)
        reports = list(pipeline.sync_clients(store, [client], date(2026, 11, 20)))
        assert reports[0].ok
        assert fake.deleted_sessions and not fake.valid_tokens  # DELETE /token/session/{token}: gone
        deleted = [m for m, p, _q in fake.log if m == "DELETE" and p.startswith("/v2/token/session/")]
        assert len(deleted) == 1
        [report] = pipeline.run(settings, store, [client], date(2026, 11, 20), act=False)
        assert report.ok and not fake.valid_tokens and len(fake.deleted_sessions) == 2


def test_a_night_with_nothing_changed_costs_two_requests(tmp_path: Path) -> None:
    """The customers changed since, and the first page of the open posts asked with the checksum the
    last run kept (If-None-Match): 304 Not Modified, so the rest of the list is not read."""
    with FakeTripletex(realistic()) as fake:
        store = _store(tmp_path)
        client = client_for("tripletex", fake, tmp_path, page_size=2)  # the open posts span 3 pages
        assert sync(store, client).ok
        before = {(i.number, i.ledger_open_amount) for i in store.read(load_facts, "acme").invoices}
        fake.reset_log()
        assert sync(store, client).ok
        paths = [p for _m, p, _q in fake.log]
    assert paths == ["/v2/customer", "/v2/ledger/posting/openPost"]
    assert {(i.number, i.ledger_open_amount) for i in store.read(load_facts, "acme").invoices} == before


def test_a_payment_between_two_nights_is_seen_although_versiondigest_names_no_checksum(tmp_path: Path) -> None:
    """Asked without If-None-Match, every list answers the same versionDigest sentence ("'If-None-Match'
    header not specified"): it says nothing about whether the open posts changed. A part payment
    made between two incremental nights arrives the second night, with the invoice's new balance."""
    world = realistic()
    with FakeTripletex(world) as fake:
        store = _store(tmp_path)
        client = client_for("tripletex", fake, tmp_path)
        assert sync(store, client).ok
        world.pay(10045, Decimal("750.50"), date(2026, 8, 20))
        assert sync(store, client).ok  # incremental
    facts = store.read(load_facts, "acme")
    invoice = next(i for i in facts.invoices if i.number == "10045")
    assert invoice.ledger_open_amount == Decimal("8000.00")
    assert ("10045", date(2026, 8, 20), Decimal("750.50")) in {
        (p.invoice_number, p.booking_date, p.amount) for p in facts.payments
    }


def test_the_open_posts_checksum_is_asked_for_with_if_none_match(tmp_path: Path) -> None:
    """versionDigest is a checksum only on a request with If-None-Match; the open posts' first page
    asks for it every night — with the checksum the last night kept, once there is one."""
    asked: list[str | None] = []
    with FakeTripletex(realistic()) as fake:
        fake.hook = lambda _m, path, _q, headers: (
            asked.append(headers.get("If-None-Match")) if path.endswith("/openPost") else None
        )
        store = _store(tmp_path)
        client = client_for("tripletex", fake, tmp_path)
        assert sync(store, client).ok
        assert sync(store, client).ok
    first, second = asked
    assert first and second and first != second  # a placeholder, then the checksum answered to it
