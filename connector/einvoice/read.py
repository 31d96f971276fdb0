"""One entry point: the bytes of an e-invoice file in, a classified canonical record out."""

from __future__ import annotations

from decimal import Decimal

from connector.amounts import DEFAULT_MAX_AMOUNT, amount_problem
from connector.einvoice.cii import read_cii
from connector.einvoice.classify import EnvelopeError, classify, customization_id, unwrap_sbdh
from connector.einvoice.document import DocClass, EDocument, StatusEvent
from connector.einvoice.fields import ReadError
from connector.einvoice.responses import read_response
from connector.einvoice.ubl import read_ubl
from connector.safexml import MAX_XML_BYTES, XmlError, parse_bytes

__all__ = ["DocumentError", "read_document"]


class DocumentError(ValueError):
    """This file cannot be used; the message names the file and the problem."""


def read_document(
    data: bytes, name: str = "document", limit: int = MAX_XML_BYTES, max_amount: Decimal = DEFAULT_MAX_AMOUNT
) -> EDocument | StatusEvent | DocClass:
    """Read a sales document, reminder or status response; return the bare class for documents we ignore.

    A sales document's payable amount is what is stored and dunned: one that is not finite, beyond
    ``max_amount`` or finer than its currency's minor unit refuses the document (file and field named)."""
    try:
        root = parse_bytes(data, name, limit)
        root, envelope = unwrap_sbdh(root)
    except (XmlError, EnvelopeError) as exc:
        raise DocumentError(str(exc) if isinstance(exc, XmlError) else f"{name}: {exc}") from None
    doc_class = classify(root, envelope)
    try:
        if doc_class.is_sales_document or doc_class is DocClass.REMINDER:
            cii = doc_class in (DocClass.CII_INVOICE, DocClass.CII_CREDIT_NOTE)
            doc = read_cii(root, doc_class, envelope) if cii else read_ubl(root, doc_class, envelope)
            problem = amount_problem(doc.payable, doc.currency, max_amount) if doc_class.is_sales_document else None
            if problem:
                field = "DuePayableAmount" if cii else "PayableAmount"
                raise DocumentError(f"{name}: {doc.number}: {field} {doc.payable} {problem}; the document is refused")
            return doc
        if doc_class.is_status:
            return read_response(root, doc_class, envelope)
    except ReadError as exc:
        raise DocumentError(f"{name}: {doc_class.value}: {exc}") from None
    if doc_class is DocClass.UNKNOWN:
        cid = customization_id(root)
        what = f"CustomizationID '{cid}'" if cid else "no CustomizationID"
        raise DocumentError(f"{name}: not a recognised e-invoice document (root {root.tag}, {what})")
    return doc_class
