"""Declarative REST streams, in the shape of singer-sdk's ``RESTStream``.

A :class:`Stream` declares one list endpoint of an accounting system: its path, where the records
sit in the answer (the envelope key, or the bare array), its paginator, its fixed query parameters,
its replication parameter (:class:`Since`: the modified-since filter and how the bookmark is
written in it) and the mapping entity its records are read with (a table of
``sources/mappings/<system>.toml``). :func:`read` is the one loop that pages any stream; adapters
declare streams and keep only what is truly their own (auth, the few requests no stream describes).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from connector.http import ApiClient, ApiError
from connector.sources.mapping import lookup
from connector.sources.pagination import Page, Paginator

MAX_PAGES = 10_000  # per listing; a server that never ends a list fails the client instead of looping


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
    max_pages: int = MAX_PAGES,
) -> Iterator[dict[str, Any]]:
    """Every record of ``stream``, page by page: the stream's parameters, then ``params`` (the
    replication filter and the run's own, such as a date window), then the paginator's."""
    path = f"{root}/{stream.path}" if root else stream.path
    query = {**stream.params, **(params or {})}
    own_host = urlsplit(http.base_url).netloc
    paginator = stream.paginator
    token = paginator.start()
    for _ in range(max_pages):
        ask = paginator.request(token, page_size)
        if ask.link is None:
            resp = http.get(path, {**query, **ask.params})
        elif urlsplit(ask.link).netloc != own_host:
            # Our credentials never travel to a URL an answer made up.
            raise ApiError(f"{http.system} {stream.path}: the next-page link points to another host; not following it")
        else:
            resp = http.get(ask.link)  # the link carries its own query string
        page = Page(stream.envelope(resp.data, http.system), resp.headers, resp.data)
        yield from page.records
        token = paginator.after(token, page, page_size)
        if token is None:
            return
    raise ApiError(f"{http.system} {stream.path}: more than {max_pages} pages; refusing to loop forever")
