"""Streaming XML for bank files: iterparse with the same hardening as ``connector.safexml``.

A bank file can be large (a year of camt.054 is easily a gigabyte), so it is never read into one
tree: callers get each finished element of interest and the element is cleared afterwards.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from lxml import etree

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
PROLOG_BYTES = 8192


class StreamError(ValueError):
    """The input is not acceptable XML; the message names the file and says why."""


def _check_head(head: bytes, name: str) -> None:
    if not head.strip():
        raise StreamError(f"{name}: empty file")
    if head.startswith(_UTF16_BOMS):
        head = head.decode("utf-16", "ignore").encode()
    if _DOCTYPE.search(head):
        raise StreamError(f"{name}: DOCTYPE declarations are not accepted (possible entity expansion or XXE attack)")


def open_source(source: bytes | Path | IO[bytes], name: str) -> IO[bytes]:
    """A binary stream over ``source`` whose prolog has been checked (no DOCTYPE, not empty)."""
    stream: IO[bytes]
    if isinstance(source, bytes | bytearray):
        stream = io.BytesIO(source)
    elif isinstance(source, Path):
        stream = source.open("rb")
    else:
        stream = source
    start = stream.tell()
    _check_head(stream.read(PROLOG_BYTES), name)
    stream.seek(start)
    return stream


def iter_elements(source: bytes | Path | IO[bytes], name: str, tags: tuple[str, ...]) -> Iterator[etree._Element]:
    """Yield each element whose local name is in ``tags`` once it is complete, in document order.

    The caller must finish with the element before asking for the next one: it is cleared (and its
    earlier siblings dropped) so memory stays bounded by the largest single element.
    """
    stream = open_source(source, name)
    try:
        events = etree.iterparse(
            stream,
            events=("end",),
            tag=[f"{{*}}{t}" for t in tags],
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        checked = False
        for _, el in events:
            if not checked:
                if el.getroottree().docinfo.doctype:
                    raise StreamError(f"{name}: DOCTYPE declarations are not accepted")
                checked = True
            yield el
            el.clear(keep_tail=False)
            parent = el.getparent()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        # msg: the text without lxml's "(<string>, line 8)", which repeats the place or names the file again
        raise StreamError(f"{name}: not well-formed XML: {exc.msg or exc}") from None
    finally:
        if stream is not source:
            stream.close()
