"""The invoice copy behind the letter: one PDF, the letter's pages first, then the invoice's.

The copy comes from the e-invoice itself (an EHF/UBL ``AdditionalDocumentReference`` attachment, kept
by the store as :class:`connector.model.Attachment`). Such attachments come from outside: many that
say ``application/pdf`` are not PDFs at all (the official EHF examples carry a few bytes of text), some
are encrypted or broken. :func:`invoice_pdf` returns only a copy pypdf can read and that has pages,
so a letter says "attached" only when it is; otherwise the letter says where to find the invoice.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Sequence

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError

from connector.model import Attachment

log = logging.getLogger("arsync.letters")

MAX_COPY_BYTES = 20 * 1024 * 1024  # an invoice PDF larger than this is not read (and not mailed)


def _pages(content: bytes) -> int:
    """Pages of a readable, unencrypted PDF; 0 when it is not one."""
    if len(content) > MAX_COPY_BYTES or b"%PDF-" not in content[:1024]:
        return 0
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted:
            return 0
        return len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
        return 0  # pypdf raises more than its own errors on broken files; a broken copy is just no copy


def is_pdf(content: bytes) -> bool:
    return _pages(content) > 0


def invoice_pdf(attachments: Iterable[Attachment]) -> bytes | None:
    """The first attachment of an invoice that is a readable PDF, else None (the letter then says where
    to find the invoice)."""
    for att in attachments:
        looks_pdf = att.mime_type.lower() == "application/pdf" or att.filename.lower().endswith(".pdf")
        if looks_pdf and is_pdf(att.content):
            return att.content
        if looks_pdf:
            log.info(
                "invoice %s: attachment '%s' is not a readable PDF; not attached", att.invoice_number, att.filename
            )
    return None


def with_invoice_copies(letter_pdf: bytes, copies: Sequence[bytes]) -> bytes:
    """One PDF: the letter, then each invoice copy in the order given (one letter may cover several
    invoices). Raises ``ValueError`` for a copy that is not a readable PDF: check with :func:`invoice_pdf`
    before the letter is worded as having the copy attached."""
    if not copies:
        return letter_pdf
    writer = PdfWriter(clone_from=io.BytesIO(letter_pdf))
    for n, copy in enumerate(copies, 1):
        if not is_pdf(copy):
            raise ValueError(f"invoice copy {n} is not a readable PDF")
        writer.append(io.BytesIO(copy), import_outline=False)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
