"""Parsing XML that comes from outside: no DTDs, no entities, no network, bounded size.

UBL, CII and camt never need a DTD, so any DOCTYPE is refused outright; that alone stops
billion-laughs and XXE payloads before lxml sees them.
"""

from __future__ import annotations

import re
import threading

from lxml import etree

MAX_XML_BYTES = 50 * 1024 * 1024

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class XmlError(ValueError):
    """The bytes are not acceptable XML; the message says why."""


_local = threading.local()


def parser(keep_blank_text: bool = False) -> etree.XMLParser:
    """One parser per thread (building one per document costs more than parsing a small invoice).

    By default whitespace-only text *between* elements (indentation) is not kept: no reader uses it,
    and not building those nodes makes parsing an indented invoice about a third faster. The text of
    a leaf element is kept as written, blank or not (libxml2 keeps ``<a> </a>``).
    """
    attr = "parser_blank" if keep_blank_text else "parser"
    cached: etree.XMLParser | None = getattr(_local, attr, None)
    if cached is None:
        cached = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            # libxml2's default caps a text node at 10 MB, which refuses a real invoice with a large
            # embedded PDF. Lifting it is safe here: every DOCTYPE is refused (no entity can expand)
            # and the input is bounded by ``limit`` before parsing.
            huge_tree=True,
            remove_comments=True,
            remove_pis=True,
            remove_blank_text=not keep_blank_text,
        )
        setattr(_local, attr, cached)
    return cached


def check_prolog(data: bytes, name: str = "document", limit: int = MAX_XML_BYTES) -> None:
    if not data or data.isspace():  # isspace stops at the first non-blank byte; strip() would copy
        raise XmlError(f"{name}: empty file")
    if len(data) > limit:
        raise XmlError(f"{name}: {len(data)} bytes is larger than the {limit}-byte limit")
    head = data[:4096] if not data.startswith(_UTF16_BOMS) else data[:8192].decode("utf-16", "ignore").encode()
    # The case-insensitive regex runs only when it can match at all. A one-byte search is a memchr;
    # ``b"<!" in head`` walks the bytes one by one (some microseconds per document), so it comes second.
    if b"!" in head and b"<!" in head and _DOCTYPE.search(head):
        raise XmlError(f"{name}: DOCTYPE declarations are not accepted (possible entity expansion or XXE attack)")


def parse_bytes(
    data: bytes, name: str = "document", limit: int = MAX_XML_BYTES, keep_blank_text: bool = False
) -> etree._Element:
    """Parse a whole document; the encoding declaration (and a BOM) are honoured by libxml2.
    ``keep_blank_text`` keeps the indentation between elements (for re-serialising a document as sent)."""
    check_prolog(data, name, limit)
    try:
        root = etree.fromstring(data, parser(keep_blank_text))
    except etree.XMLSyntaxError as exc:
        # msg: the text without lxml's "(<string>, line 8)", which repeats the place or names the file again
        raise XmlError(f"{name}: not well-formed XML: {exc.msg or exc}") from None
    if root is None:
        raise XmlError(f"{name}: no root element")
    if root.getroottree().docinfo.doctype:  # type: ignore[union-attr]  # lxml-stubs: DocInfo lacks doctype
        raise XmlError(f"{name}: DOCTYPE declarations are not accepted")
    return root
