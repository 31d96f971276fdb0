"""How a list endpoint is paged: one paginator per style, in the shape of singer-sdk's ``pagination``.

A paginator is declared once per system and shared (it holds no state). For each listing the
generic loop (:func:`connector.sources.streams.read`) starts from :meth:`Paginator.start`, asks
:meth:`Paginator.request` what to send for the page it is on, and :meth:`Paginator.after` what the
answer says about the next page (``None``: that was the last). Totals that systems report are hints
at most: Tripletex's ``fullResultSize`` is deprecated and inexact, so a short page ends a listing
wherever no exact page count is given (research: accounting-apis.md, "paginate until a short page").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class OffsetPaginator:
    """``offset``/``count`` parameters (Tripletex ``from``/``count``); a short page is the last."""

    offset: str
    count: str

    def start(self) -> int:
        return 0

    def request(self, token: int, size: int) -> PageRequest:
        return PageRequest({self.offset: token, self.count: size})

    def after(self, token: int, page: Page, size: int) -> int | None:
        return None if len(page.records) < size else token + size


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

    def start(self) -> int:
        return self.first

    def request(self, token: int, size: int) -> PageRequest:
        return PageRequest({self.page: token, self.size: size})

    def after(self, token: int, page: Page, size: int) -> int | None:
        count = page.headers.get(self.count_header.lower()) if self.count_header else None
        if count is not None and count.isdigit():
            if token - self.first + 1 >= int(count):
                return None
        elif len(page.records) < size:
            return None
        return token + 1 if page.records else None


@dataclass(frozen=True)
class NextLinkPaginator:
    """The first page by ``skip``/``size`` parameters, then the link the body names (e-conomic
    ``skippages``/``pagesize`` and ``pagination.nextPage``) until there is none or a page is empty.
    The loop follows a link only on the system's own host."""

    skip: str
    size: str
    link: str  # dotted path of the next page's URL in the body

    def start(self) -> str | None:
        return None  # None: the first page, asked by parameters

    def request(self, token: str | None, size: int) -> PageRequest:
        if token is None:
            return PageRequest({self.skip: 0, self.size: size})
        return PageRequest({}, link=token)

    def after(self, token: str | None, page: Page, size: int) -> str | None:
        link = lookup(page.body, self.link)
        return str(link) if link and page.records else None
