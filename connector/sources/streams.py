"""Declarative REST streams, in the shape of singer-sdk's ``RESTStream``.

A :class:`Stream` declares one list endpoint of an accounting system: its path, where the records
sit in the answer (the envelope key, or the bare array), its paginator, its fixed query parameters,
its replication parameter (:class:`Since`: the modified-since filter and how the bookmark is
written in it) and the mapping entity its records are read with (a table of
``sources/mappings/<system>.toml``). :func:`read` is the one loop that pages any stream; adapters
declare streams and keep only what is truly their own (auth, the few requests no stream describes).

A server that never ends a list is stopped (issue 13, item 4): a page the server already sent
(the same bytes, the same record ids, or a next-page link already followed) fails the listing at
once, naming the stream, and every listing has a :class:`Budget` of pages and bytes — generous
multiples of what the bookmark says the last full sync listed (:func:`budget_for`), or fixed
ceilings before the first one. A listing whose end disagrees with what the system announced (an
empty page before the page count, a total not reached, a result digest that changed on the way)
is read to its end but marked *incomplete* (:class:`Listing`), so the sync never closes invoices
on it as "vanished upstream".
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from connector.http import ApiClient, ApiError
from connector.sources.mapping import lookup
from connector.sources.pagination import Page, Paginator

# Ceilings for a listing the bookmark knows nothing about (the first sync of a client).
MAX_PAGES = 10_000
MAX_BYTES = 256 * 1024 * 1024
# With a bookmark: this many times what the last full sync listed, and never less than the floors.
MARGIN = 10
FLOOR_RECORDS = 5_000
FLOOR_BYTES = 16 * 1024 * 1024


class ListingError(ApiError):
    """A server that does not end a list (repeats, or runs past the budget): the client's sync fails."""


@dataclass(frozen=True)
class Budget:
    """How far one listing may run before it is stopped as endless."""

    max_pages: int = MAX_PAGES
    max_bytes: int = MAX_BYTES
    why: str = "the ceiling for a list the bookmark knows nothing about"


def budget_for(expected: tuple[int, int] | None, page_size: int) -> Budget:
    """A budget from what the last full sync listed (records, bytes); the fixed ceilings without one."""
    if not expected:
        return Budget()
    records, size = expected
    allowed = max(records * MARGIN, records + FLOOR_RECORDS)
    pages = min(MAX_PAGES, math.ceil(allowed / max(page_size, 1)) + 2)
    return Budget(
        max_pages=pages,
        max_bytes=min(MAX_BYTES, max(size * MARGIN, FLOOR_BYTES)),
        why=f"{MARGIN}x what the last full sync listed ({records} records, {size} bytes)",
    )


@dataclass
class Listing:
    """What one listing read: counts for the bookmark, and why it may be incomplete (None: complete)."""

    stream: str
    records: int = 0
    pages: int = 0
    bytes: int = 0
    incomplete: str | None = None
    digest: str | None = None  # the whole result's checksum, where the system sends one
    unchanged: bool = False  # the first page said the result is the one the bookmark's checksum names


@dataclass(frozen=True)
class Since:
    """The replication parameter: the query parameter that asks for what changed since the bookmark.

    ``style`` writes the moment as the API expects it: ``date`` (2026-05-02, for date-only filters),
    ``timestamp`` (ISO 8601 with its offset) or ``utc_seconds`` (2026-05-02T10:15:00Z). ``template``
    wraps it in the API's filter syntax (e-conomic: ``date$gte:{}``). Lists that need a lower bound
    on every run (an invoice-date window) say ``on_full``: a full run then sends the first day of
    the history window; otherwise a full run sends no filter at all.
    """

    param: str
    style: Literal["date", "timestamp", "utc_seconds"] = "date"
    template: str = "{}"
    on_full: bool = False

    def value(self, since: datetime | None, window_start: date) -> str | None:
        if since is None:
            return self.template.format(window_start.isoformat()) if self.on_full else None
        if self.style == "date":
            text = since.date().isoformat()
        elif self.style == "timestamp":
            text = since.isoformat()
        else:
            utc = since.astimezone(UTC) if since.tzinfo else since
            text = utc.strftime("%Y-%m-%dT%H:%M:%SZ")
        return self.template.format(text)


@dataclass(frozen=True, kw_only=True)
class Stream:
    """One list endpoint of an accounting system, declared once at module level by its adapter."""

    path: str  # below the system's base URL (and the adapter's root, e.g. Fiken's company)
    name: str  # what one record is called in error lines ("invoice", "credit note")
    records: str | None  # dotted key of the record list in the answer; None: the answer is the list
    paginator: Paginator
    params: Mapping[str, Any] = field(default_factory=dict)  # sent with every page
    since: Since | None = None
    entity: str | None = None  # mapping table the records are read with
    key: str | None = None  # dotted path of a record's id: a page of ids already listed is a repeat

    def envelope(self, body: Any, system: str) -> list[Any]:
        """The records of one answer; an answer of another shape fails the listing."""
        if self.records is None:
            if not isinstance(body, list):
                raise ApiError(f"{system} {self.path}: answer is not a list")
            return body
        found = lookup(body, self.records)
        if not isinstance(found, list):
            raise ApiError(f"{system} {self.path}: answer without a '{self.records}' list")
        return found


def read(
    http: ApiClient,
    stream: Stream,
    page_size: int,
    params: Mapping[str, Any] | None = None,
    *,
    root: str = "",
    max_pages: int | None = None,
    budget: Budget | None = None,
    listing: Listing | None = None,
    verify_end: bool = False,
    known_digest: str | None = None,
    ask_checksum: bool = False,
) -> Iterator[dict[str, Any]]:
    """Every record of ``stream``, page by page: the stream's parameters, then ``params`` (the
    replication filter and the run's own, such as a date window), then the paginator's.

    Raises :class:`ListingError` when the server repeats a page or the listing outruns ``budget``;
    ``listing`` (when given) is filled with the counts and whether the list ended consistently.
    ``verify_end`` (full re-syncs, whose listing may close what is missing): after an empty page
    that follows a full one, the next page is asked for too; records there mean the list is incomplete.
    ``ask_checksum``: the first page is asked with the paginator's checksum header (Tripletex
    ``If-None-Match``), carrying ``known_digest`` (the checksum the bookmark holds) when there is one;
    the result's checksum lands in ``listing.digest``. When the server answers 304 Not Modified, the
    list has not changed since and the listing stops there (``listing.unchanged``) — what the caller
    kept from last time still holds. A digest that is no checksum (Tripletex sends a sentence when
    none was asked for) is never compared."""
    path = f"{root}/{stream.path}" if root else stream.path
    query = {**stream.params, **(params or {})}
    own_host = urlsplit(http.base_url).netloc
    budget = budget or Budget()
    if max_pages is not None:
        budget = Budget(max_pages, budget.max_bytes, budget.why)
    listing = listing if listing is not None else Listing(stream.path)
    where = f"{http.system} {stream.name} list ({stream.path})"
    paginator = stream.paginator
    digest_path = getattr(paginator, "digest", None)
    checksum_header = getattr(paginator, "checksum_header", None) if ask_checksum else None
    known = checksum(known_digest)
    seen_pages: dict[str, int] = {}  # body hash → page number
    seen_links: set[str] = set()
    seen_ids: set[str] = set()
    digest: Any = None
    token = paginator.start()
    probing = False  # asking for the page after an empty one, to make sure the list ended there
    while True:
        if listing.pages >= budget.max_pages:
            raise ListingError(f"{where}: more than {budget.max_pages} pages ({budget.why}); refusing to loop forever")
        ask = paginator.request(token, page_size)
        if ask.link is None and checksum_header and listing.pages == 0:
            # Any non-empty value asks for the checksum; the known one may be answered 304.
            ask_with = {checksum_header: known or "arsync-no-checksum-yet"}
            resp = http.request("GET", path, params={**query, **ask.params}, headers=ask_with)
            if resp.status == 304:
                if known is None:
                    raise ApiError(f"{where}: 304 Not Modified although no checksum was known")
                listing.pages, listing.digest, listing.unchanged = 1, known, True
                return
        elif ask.link is None:
            resp = http.get(path, {**query, **ask.params})
        elif urlsplit(ask.link).netloc != own_host:
            # Our credentials never travel to a URL an answer made up.
            raise ApiError(f"{http.system} {stream.path}: the next-page link points to another host; not following it")
        elif ask.link in seen_links:
            raise ListingError(f"{where}: the next-page link repeats one already followed; the server is looping")
        else:
            seen_links.add(ask.link)
            resp = http.get(ask.link)  # the link carries its own query string
        listing.pages += 1
        listing.bytes += resp.size
        if listing.bytes > budget.max_bytes:
            raise ListingError(f"{where}: more than {budget.max_bytes} bytes ({budget.why}); refusing to read on")
        # 204 No Content is an empty page (PowerOffice answers every empty list so, issue 16 item 5).
        records = [] if resp.status == 204 else stream.envelope(resp.data, http.system)
        page = Page(records, resp.headers, resp.data)
        _check_repeat(where, listing.pages, resp.digest, page, stream.key, seen_pages, seen_ids)
        if digest_path and page.records:
            now = checksum(lookup(resp.data, digest_path))
            if listing.pages == 1:
                listing.digest = now
            if digest is not None and now is not None and now != digest:
                why = f"the list changed while it was read ({digest_path} changed on page {listing.pages})"
                _incomplete(listing, why)
            digest = now if now is not None else digest
        if probing and page.records:
            _incomplete(listing, f"page {listing.pages - 1} came back empty, but page {listing.pages} holds records")
        listing.records += len(page.records)
        yield from page.records
        following = paginator.after(token, page, page_size)
        if following is not None and not page.records and not probing:
            _incomplete(listing, f"page {listing.pages} came back empty before the end of the list")
        if following is None and not page.records and verify_end and listing.pages > 1 and not probing:
            following = paginator.probe(token, page, page_size)
            probing = following is not None
            if probing:
                token = following
                continue
        probing = False
        if following is None:
            problem = paginator.end_problem(token, page, listing.records)
            if problem:
                _incomplete(listing, problem)
            return
        token = following


def checksum(value: Any) -> str | None:
    """A result checksum as a server names it, or None for a value that is none: Tripletex puts a
    sentence in ``versionDigest`` when no checksum was computed ("'If-None-Match' header not
    specified", "Checksum not yet supported for this endpoint")."""
    text = str(value).strip() if value is not None else ""
    return text if text and not any(ch.isspace() for ch in text) else None


def _incomplete(listing: Listing, why: str) -> None:
    if listing.incomplete is None:
        listing.incomplete = why


def _check_repeat(
    where: str,
    number: int,
    body_hash: str,
    page: Page,
    key: str | None,
    seen_pages: dict[str, int],
    seen_ids: set[str],
) -> None:
    """A page the server already sent means it is looping: by its bytes, or by ids all listed before."""
    if body_hash and page.records:
        earlier = seen_pages.get(body_hash)
        if earlier is not None:
            raise ListingError(f"{where}: page {number} is the same as page {earlier}; the server is looping")
        seen_pages[body_hash] = number
    if key and page.records:
        ids = {str(lookup(r, key)) for r in page.records if isinstance(r, dict) and lookup(r, key) is not None}
        if ids and ids <= seen_ids:
            raise ListingError(f"{where}: page {number} lists only records already listed; the server is looping")
        seen_ids |= ids
