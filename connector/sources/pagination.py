"""How a list endpoint is paged: one paginator per style, in the shape of singer-sdk's ``pagination``.

A paginator is declared once per system and shared (it holds no state). For each listing the
generic loop (:func:`connector.sources.streams.read`) starts from :meth:`Paginator.start`, asks
:meth:`Paginator.request` what to send for the page it is on, and :meth:`Paginator.after` what the
answer says about the next page (``None``: that was the last). Totals that systems report are hints
at most: Tripletex's ``fullResultSize`` is deprecated and inexact, so a short page ends a listing
wherever no exact page count is given (research: accounting-apis.md, "paginate until a short page").

An empty page is the end of a list only where nothing says otherwise: the loop reads on past an
empty page while the system announces more (Fiken's page count header, e-conomic's ``nextPage``)
and marks the listing *incomplete*; where nothing is announced (Tripletex, PowerOffice) a full
re-sync asks for the page after an empty one (:meth:`Paginator.probe`) before it believes the
list ended. :meth:`Paginator.end_problem` compares the end with an announced total. The sync never
treats an incomplete listing as a complete snapshot (nothing is closed as vanished on it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from connector.sources.mapping import lookup


@dataclass(frozen=True)
class Page:
    """One answer: the records it listed, its headers (lower-case names) and its body."""

    records: list[Any]
    headers: Mapping[str, str]
    body: Any


@dataclass(frozen=True)
class PageRequest:
    """What to send for one page: paging parameters added to the stream's own, or a link to follow."""

    params: dict[str, Any]
    link: str | None = None  # an absolute URL that carries its whole query (the stream's parameters too)


class Paginator(Protocol):
    def start(self) -> Any:
        """The first page's token."""
        ...

    def request(self, token: Any, size: int) -> PageRequest: ...

    def after(self, token: Any, page: Page, size: int) -> Any | None:
        """The next page's token, or None when ``page`` was the last."""
        ...

    def end_problem(self, token: Any, page: Page, listed: int) -> str | None:
        """Why the listing that ended with ``page`` (``listed`` records in all) may be incomplete, or None."""
        ...

    def probe(self, token: Any, page: Page, size: int) -> Any | None:
        """The page after an empty last page, to make sure it was the end; None where the end is announced."""
        ...


@dataclass(frozen=True)
class OffsetPaginator:
    """``offset``/``count`` parameters (Tripletex ``from``/``count``); a short page is the last.

    ``digest``: where an answer names a checksum of the *whole* result (Tripletex ``versionDigest``);
    the loop checks it stays the same from page to page — if it changes, the list changed while it
    was being read and offsets may have skipped records. ``checksum_header``: the request header
    that asks for that checksum and, given the one known, answers 304 Not Modified when the result is
    the same (Tripletex ``If-None-Match``; without it ``versionDigest`` holds no checksum but a
    sentence, "'If-None-Match' header not specified" — tripletex-api2 examples/bash/checksum).
    """

    offset: str
    count: str
    digest: str | None = None
    checksum_header: str | None = None

    def start(self) -> int:
        return 0

    def request(self, token: int, size: int) -> PageRequest:
        return PageRequest({self.offset: token, self.count: size})

    def after(self, token: int, page: Page, size: int) -> int | None:
        return None if len(page.records) < size else token + size

    def end_problem(self, token: int, page: Page, listed: int) -> str | None:
        return None  # no exact total to compare with (fullResultSize is inexact)

    def probe(self, token: int, page: Page, size: int) -> int | None:
        return token + size


@dataclass(frozen=True)
class PageNumberPaginator:
    """Page number and page size parameters, numbered from ``first`` (Fiken 0, PowerOffice 1).

    When the system names its page count in a header (Fiken ``Fiken-Api-Page-Count``), that count
    ends the listing; without the header a short page does. An empty page always ends it.
    """

    page: str
    size: str
    first: int = 0
    count_header: str | None = None
    total_header: str | None = None  # the number of records the whole list holds (Fiken-Api-Result-Count)

    def start(self) -> int:
        return self.first

    def request(self, token: int, size: int) -> PageRequest:
        return PageRequest({self.page: token, self.size: size})

    def after(self, token: int, page: Page, size: int) -> int | None:
        count = self._count(page)
        if count is not None:
            return None if token - self.first + 1 >= count else token + 1
        return None if len(page.records) < size else token + 1

    def end_problem(self, token: int, page: Page, listed: int) -> str | None:
        # An empty page before the announced page count is read past (the loop marks it); a list that
        # ends with fewer records than it announced lost some on the way.
        total = page.headers.get(self.total_header.lower()) if self.total_header else None
        if total is not None and total.isdigit() and listed < int(total):
            return f"{listed} records listed, the list says it holds {total}"
        return None

    def probe(self, token: int, page: Page, size: int) -> int | None:
        return None if self._count(page) is not None else token + 1

    def _count(self, page: Page) -> int | None:
        count = page.headers.get(self.count_header.lower()) if self.count_header else None
        return int(count) if count is not None and count.isdigit() else None


@dataclass(frozen=True)
class NextLinkPaginator:
    """The first page by ``skip``/``size`` parameters, then the link the body names (e-conomic
    ``skippages``/``pagesize`` and ``pagination.nextPage``) until there is none. The loop follows a
    link only on the system's own host, and never the same link twice."""

    skip: str
    size: str
    link: str  # dotted path of the next page's URL in the body
    total: str | None = None  # dotted path of the number of records the whole list holds

    def start(self) -> str | None:
        return None  # None: the first page, asked by parameters

    def request(self, token: str | None, size: int) -> PageRequest:
        if token is None:
            return PageRequest({self.skip: 0, self.size: size})
        return PageRequest({}, link=token)

    def after(self, token: str | None, page: Page, size: int) -> str | None:
        link = lookup(page.body, self.link)
        return str(link) if link else None

    def end_problem(self, token: str | None, page: Page, listed: int) -> str | None:
        total = lookup(page.body, self.total) if self.total else None
        if isinstance(total, int | Decimal) and not isinstance(total, bool) and listed < total:
            return f"{listed} records listed, the list says it holds {total}"
        return None

    def probe(self, token: str | None, page: Page, size: int) -> str | None:
        return None  # the body names the next page; without one the list ended
