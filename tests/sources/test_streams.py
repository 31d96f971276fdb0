"""The generic stream loop and the declared replication parameters, apart from any one adapter."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
import responses

from connector import http
from connector.sources import economic, fiken, poweroffice, streams, tripletex
from connector.sources.pagination import OffsetPaginator
from connector.sources.streams import Stream
from tests.sources.ledger_helpers import fast_http

BASE = "http://fake.local/v2"
LIST = Stream(path="customer", name="customer", records="values", paginator=OffsetPaginator("from", "count"))


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> Any:
    with fast_http(monkeypatch) as waits:
        yield waits


def _client() -> http.ApiClient:
    return http.ApiClient("tripletex", BASE, http.StaticAuth({}), "k")


@responses.activate
def test_a_list_that_never_ends_fails_at_the_page_cap_instead_of_looping() -> None:
    def new_page_every_time(request: Any) -> tuple[int, dict[str, str], str]:
        start = int(request.params["from"])  # different records on every page: no repeat to spot
        return 200, {}, json.dumps({"values": [{"id": start}, {"id": start + 1}]})

    responses.add_callback(responses.GET, f"{BASE}/customer", callback=new_page_every_time)
    with pytest.raises(http.ApiError, match=r"customer list \(customer\): more than 3 pages"):
        list(streams.read(_client(), LIST, 2, max_pages=3))
    assert len(responses.calls) == 3


@responses.activate
def test_the_same_page_again_fails_the_listing_at_once() -> None:
    responses.get(f"{BASE}/customer", json={"values": [{"id": 1}, {"id": 2}]})
    with pytest.raises(streams.ListingError, match=r"customer list \(customer\): page 2 is the same as page 1"):
        list(streams.read(_client(), LIST, 2))
    assert len(responses.calls) == 2


@responses.activate
def test_a_budget_from_the_bookmark_stops_a_list_far_longer_than_it_was() -> None:
    def new_page_every_time(request: Any) -> tuple[int, dict[str, str], str]:
        start = int(request.params["from"])
        return 200, {}, json.dumps({"values": [{"id": start + i} for i in range(100)]})

    responses.add_callback(responses.GET, f"{BASE}/customer", callback=new_page_every_time)
    budget = streams.budget_for((300, 30_000), 100)  # the last full sync listed 300 records
    with pytest.raises(streams.ListingError, match="10x what the last full sync listed"):
        list(streams.read(_client(), LIST, 100, budget=budget))
    assert len(responses.calls) == budget.max_pages == 55  # 300 + 5,000 (the floor) records in pages of 100, + 2


@responses.activate
def test_an_answer_of_another_shape_fails_naming_the_list() -> None:
    responses.get(f"{BASE}/customer", json={"value": {"id": 1}})
    with pytest.raises(http.ApiError, match="tripletex customer: answer without a 'values' list"):
        list(streams.read(_client(), LIST, 2))


SINCE = datetime(2026, 5, 2, 12, 15, tzinfo=timezone(timedelta(hours=2)))  # bookmark, overlap subtracted
WINDOW = date(2023, 5, 3)  # first day of the history window


@pytest.mark.parametrize(
    ("stream", "incremental", "full"),
    [
        (tripletex.CUSTOMERS, "2026-05-02", None),  # changedSince: a date
        (tripletex.INVOICES, "2026-05-02", "2023-05-03"),  # the invoice-date window always has a start
        (fiken.CONTACTS, "2026-05-02", None),  # lastModifiedGe: date granularity
        (fiken.CREDIT_NOTES, "2026-05-02", "2023-05-03"),
        (poweroffice.CUSTOMERS, "2026-05-02T12:15:00+02:00", None),  # a DateTimeOffset keeps its offset
        (economic.CUSTOMERS, "lastUpdated$gte:2026-05-02", None),  # filter syntax; lastUpdated is a full-date
        (economic.BOOKED_INVOICES, "date$gte:2026-05-02", "date$gte:2023-05-03"),
    ],
)
def test_the_modified_since_filter_is_written_as_each_api_expects(
    stream: Stream, incremental: str, full: str | None
) -> None:
    assert stream.since is not None
    assert stream.since.value(SINCE, WINDOW) == incremental
    assert stream.since.value(None, WINDOW) == full


@responses.activate
def test_a_next_page_link_already_followed_fails_the_listing() -> None:
    again = f"{BASE}/customers?skippages=1&pagesize=2"
    stream = Stream(path="customers", name="customer", records="collection", paginator=economic.PAGES, key="n")
    calls = {"n": 0}

    def page(request: Any) -> tuple[int, dict[str, str], str]:
        calls["n"] += 1  # different records every time, but always "next: page 2"
        rows = [{"n": calls["n"] * 10}, {"n": calls["n"] * 10 + 1}]
        return 200, {}, json.dumps({"collection": rows, "pagination": {"nextPage": again}})

    responses.add_callback(responses.GET, f"{BASE}/customers", callback=page)
    with pytest.raises(streams.ListingError, match="next-page link repeats"):
        list(streams.read(_client(), stream, 2))
    assert len(responses.calls) == 2


@responses.activate
def test_a_full_resync_asks_past_an_empty_page_and_marks_the_listing_incomplete() -> None:
    pages = {0: [{"id": 1}, {"id": 2}], 2: [], 4: [{"id": 5}]}  # the second page came back empty

    def page(request: Any) -> tuple[int, dict[str, str], str]:
        return 200, {}, json.dumps({"values": pages.get(int(request.params["from"]), [])})

    responses.add_callback(responses.GET, f"{BASE}/customer", callback=page)
    listing = streams.Listing("customer")
    ids = [r["id"] for r in streams.read(_client(), LIST, 2, listing=listing, verify_end=True)]
    assert ids == [1, 2, 5]
    assert listing.incomplete == "page 2 came back empty, but page 3 holds records"
    plain = streams.Listing("customer")
    assert [r["id"] for r in streams.read(_client(), LIST, 2, listing=plain)] == [1, 2]  # incremental: no probe
    assert plain.incomplete is None


def test_a_country_name_from_the_ledger_is_stored_as_its_iso_code() -> None:
    """Fiken and e-conomic give a name ("Norge", "Danmark"); the store keeps alpha-2 (PostgreSQL's column is
    two characters, and the register check reads "NO"): an unknown name is left unknown, never guessed."""
    from connector.sources.mapping import country_code, load

    assert [country_code(v) for v in ("Norge", "danmark", " Sverige ", "no", "DNK", "Atlantis")] == [
        "NO",
        "DK",
        "SE",
        "NO",
        "DK",
        None,
    ]
    fiken = load("fiken").fields("customer", {"contactId": 7, "name": "Bodø Bakeri", "address": {"country": "Norge"}})
    economic = load("economic").fields("customer", {"customerNumber": 3, "name": "Dansk ApS", "country": "Danmark"})
    assert (fiken["country"], economic["country"]) == ("NO", "DK")
