"""Hostile and broken XML: rejected with a clear error, never expanded, never fetched, never a crash."""

from __future__ import annotations

import time

import pytest
from einvoice_corpus import peppol_file

from connector.einvoice.document import EDocument
from connector.einvoice.read import DocumentError, read_document
from connector.safexml import MAX_XML_BYTES

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol9;</Invoice>"""

XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&xxe;</Invoice>"""

XXE_NETWORK = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice SYSTEM "http://127.0.0.1:9/evil.dtd">
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!doctype x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x"> %p;]><x/>"""


@pytest.mark.parametrize(
    "data", [BILLION_LAUGHS, XXE_FILE, XXE_NETWORK, PARAMETER_ENTITY], ids=["laughs", "xxe", "dtd", "param"]
)
def test_doctype_payloads_are_refused(data: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(DocumentError, match=r"evil\.xml: DOCTYPE declarations are not accepted"):
        read_document(data, "evil.xml")
    assert time.perf_counter() - started < 1


def test_utf16_doctype_is_refused_too() -> None:
    data = XXE_FILE.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>').decode()
    with pytest.raises(DocumentError, match="DOCTYPE"):
        read_document(data.encode("utf-16"), "evil16.xml")


@pytest.mark.parametrize(("data", "reason"), [(b"", "empty file"), (b"  \n\t ", "empty file")])
def test_empty(data: bytes, reason: str) -> None:
    with pytest.raises(DocumentError, match=f"e.xml: {reason}"):
        read_document(data, "e.xml")


def test_truncated() -> None:
    data = peppol_file("bis3/base-example.xml").read_bytes()
    with pytest.raises(DocumentError, match=r"t\.xml: not well-formed XML") as exc:
        read_document(data[: len(data) // 2], "t.xml")
    assert str(exc.value).endswith("line 100, column 24")  # said once: not again as "(<string>, line 100)"


def test_not_xml_at_all() -> None:
    with pytest.raises(DocumentError, match=r"pdf\.xml: not well-formed XML"):
        read_document(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "pdf.xml")


def test_wrong_encoding_declared() -> None:
    # Declares UTF-8 but carries ISO-8859-1 bytes (an "ø" as 0xF8): not well-formed, named clearly.
    data = peppol_file("bis3/Norwegian-example-1.xml").read_bytes().replace(b"Big city", "Bærum".encode("latin-1"))
    with pytest.raises(DocumentError, match=r"enc\.xml: not well-formed XML"):
        read_document(data, "enc.xml")


def _latin1_invoice() -> bytes:
    text = peppol_file("bis3/Norwegian-example-1.xml").read_text("utf-8").replace("Big city", "Bærum")
    text = text.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"', 1)
    assert 'encoding="ISO-8859-1"' in text
    return text.encode("latin-1")


def test_iso_8859_1_declared_is_read() -> None:
    doc = read_document(_latin1_invoice(), "latin1.xml")
    assert isinstance(doc, EDocument) and doc.supplier.city == "Bærum"


def test_utf8_bom_is_read() -> None:
    doc = read_document(b"\xef\xbb\xbf" + peppol_file("bis3/base-example.xml").read_bytes(), "bom.xml")
    assert isinstance(doc, EDocument) and doc.number == "Snippet1"


def test_utf16_with_bom_is_read() -> None:
    text = peppol_file("bis3/base-example.xml").read_text("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"', 1)
    doc = read_document(text.encode("utf-16"), "u16.xml")
    assert isinstance(doc, EDocument) and doc.payable == doc.tax_inclusive


def test_over_the_size_limit_is_refused_before_parsing() -> None:
    data = b"<x>" + b" " * (MAX_XML_BYTES + 1) + b"</x>"
    with pytest.raises(DocumentError, match=r"big\.xml: .* larger than the"):
        read_document(data, "big.xml")


def test_fifty_megabyte_invoice_with_a_huge_attachment_is_read_or_refused_cleanly() -> None:
    # A realistic big file: a valid invoice whose embedded PDF makes it ~49 MB (just under the bound).
    base = peppol_file("bis3/Norwegian-example-1.xml").read_bytes()
    start = base.index(b"<cbc:EmbeddedDocumentBinaryObject")
    start = base.index(b">", start) + 1
    end = base.index(b"</cbc:EmbeddedDocumentBinaryObject>", start)
    blob = b"QUJD" * ((MAX_XML_BYTES - len(base) - 1024 * 1024) // 4)
    data = base[:start] + blob + base[end:]
    assert 45 * 1024 * 1024 < len(data) <= MAX_XML_BYTES
    doc = read_document(data, "big.xml")
    assert isinstance(doc, EDocument)
    assert len(doc.attachments[0].content) == len(blob) // 4 * 3
    with pytest.raises(DocumentError, match="larger than the"):
        read_document(data, "big.xml", limit=10 * 1024 * 1024)


def test_deeply_nested_document_is_refused() -> None:
    data = b"<a>" * 300_000 + b"</a>" * 300_000
    with pytest.raises(DocumentError, match=r"deep\.xml: not well-formed XML"):
        read_document(data, "deep.xml")
