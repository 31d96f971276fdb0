"""What can still be read, safely, from an e-invoice file that does not read: its kind, its number, its buyer
and the invoices it names (``connector.model.Salvaged``). The decisions scope the file's hold with it
(``connector.dunning.unreadable``).

The file is hostile by assumption (it may have been refused for a DOCTYPE): the recovery parse loads no DTD,
expands no entity, opens no network, keeps no huge text node and reads at most ``MAX_SALVAGE_BYTES``.
Elements are found by local name, so a wrong or missing namespace does not hide them. Never raises.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from lxml import etree

from connector.model import Salvaged

MAX_SALVAGE_BYTES = 50 * 1024 * 1024

# UNCL1001 codes of a document that raises what the buyer owes and cannot settle another invoice.
INVOICE_TYPE_CODES = frozenset({"380", "383", "386", "393"})
CREDIT_TYPE_CODES = frozenset({"381", "396", "81", "83", "532"})

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_PROLOG_BYTES = 64 * 1024  # a DOCTYPE sits in the prolog


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        recover=True,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def salvage(data: bytes) -> Salvaged | None:
    """What the bytes still say, or None when not even a root element can be found."""
    try:
        return _salvage(data[:MAX_SALVAGE_BYTES])
    except Exception:  # a recovery parse of hostile bytes: whatever goes wrong, nothing was learned
        return None


def _salvage(data: bytes) -> Salvaged | None:
    data = _without_doctype(data)
    root = etree.fromstring(data, _parser()) if data.strip() else None
    if root is None:
        return None
    root = _payload(root)
    name = _local(root)
    cid = _first_text(root, "CustomizationID") or ""
    if name == "ApplicationResponse":
        return _response(root, cid)
    if name == "CrossIndustryInvoice":
        return _cii(root)
    if name not in ("Invoice", "CreditNote"):
        return Salvaged(number=_child_text(root, "ID"))
    return _ubl(root, name, cid)


def _ubl(root: etree._Element, name: str, cid: str) -> Salvaged:
    type_code = _first_text(root, "InvoiceTypeCode" if name == "Invoice" else "CreditNoteTypeCode")
    amount = _amount(_first_text(root, "PayableAmount"))
    if name == "CreditNote" or (type_code in CREDIT_TYPE_CODES):
        kind = "credit_note"
    elif "ehf:reminder" in cid:
        kind = "reminder"
    elif type_code in INVOICE_TYPE_CODES and "payment-request" not in cid and (amount is None or amount >= 0):
        kind = "invoice"
    else:
        kind = "unknown"
    buyer = _under(root, "AccountingCustomerParty")
    refs = _texts_under(root, "BillingReference", "ID") + _texts_under(root, "InvoiceDocumentReference", "ID")
    return Salvaged(
        kind=kind,
        type_code=type_code,
        number=_child_text(root, "ID"),
        buyer_ids=_ids(buyer, ("EndpointID", "CompanyID", "ID")),
        buyer_name=_first_text(buyer, "RegistrationName") or _first_text(buyer, "Name") if buyer is not None else None,
        refs=tuple(dict.fromkeys(refs)),
    )


def _cii(root: etree._Element) -> Salvaged:
    document = _under(root, "ExchangedDocument")
    type_code = _first_text(document, "TypeCode") if document is not None else None
    amount = _amount(_first_text(root, "DuePayableAmount"))
    if type_code in CREDIT_TYPE_CODES:
        kind = "credit_note"
    elif type_code in INVOICE_TYPE_CODES and (amount is None or amount >= 0):
        kind = "invoice"
    else:
        kind = "unknown"
    buyer = _under(root, "BuyerTradeParty")
    refs = _texts_under(root, "InvoiceReferencedDocument", "IssuerAssignedID")
    return Salvaged(
        kind=kind,
        type_code=type_code,
        number=_child_text(document, "ID") if document is not None else None,
        buyer_ids=_ids(buyer, ("ID", "GlobalID", "URIID")),
        buyer_name=_child_text(buyer, "Name") if buyer is not None else None,
        refs=tuple(dict.fromkeys(refs)),
    )


def _response(root: etree._Element, cid: str) -> Salvaged:
    if "invoice_response" in cid:
        kind = "invoice_response"
    elif "trns:mlr" in cid:
        kind = "mlr"
    elif "edec:mls" in cid:
        kind = "mls"
    else:
        kind = "unknown"
    sender = _under(root, "SenderParty")  # the buyer answers an invoice (a T111); an MLR/MLS names its side
    refs = _texts_under(root, "DocumentReference", "ID")
    return Salvaged(
        kind=kind,
        number=_child_text(root, "ID"),
        buyer_ids=_ids(sender, ("EndpointID", "CompanyID", "ID")),
        buyer_name=_first_text(sender, "RegistrationName") or _first_text(sender, "Name")
        if sender is not None
        else None,
        refs=tuple(dict.fromkeys(refs)),
    )


def _without_doctype(data: bytes) -> bytes:
    """The bytes without their DOCTYPE and its internal subset: no entity it declares is ever referenced.
    Linear: one search in the prolog, then the end of the declaration (``]>`` after a subset, else ``>``)."""
    found = _DOCTYPE.search(data, 0, _PROLOG_BYTES)
    if found is None:
        return data
    start = found.start()
    close = data.find(b">", start)
    bracket = data.find(b"[", start, close if close != -1 else len(data))
    if bracket != -1:
        end = data.find(b"]>", bracket)
        close = end + 1 if end != -1 else -1
    return data[:start] if close == -1 else data[:start] + data[close + 1 :]


# ---- by local name ------------------------------------------------------------------------------------


def _local(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _payload(root: etree._Element) -> etree._Element:
    """The business document inside an SBDH, or the root itself."""
    if _local(root) != "StandardBusinessDocument":
        return root
    for child in root:
        if isinstance(child.tag, str) and _local(child) != "StandardBusinessDocumentHeader":
            return child
    return root


def _elements(el: etree._Element, name: str) -> list[etree._Element]:
    return [e for e in el.iter() if isinstance(e.tag, str) and _local(e) == name]


def _under(el: etree._Element, name: str) -> etree._Element | None:
    found = _elements(el, name)
    return found[0] if found else None


def _text(el: etree._Element) -> str | None:
    value = (el.text or "").strip()
    return value or None


def _first_text(el: etree._Element | None, name: str) -> str | None:
    if el is None:
        return None
    for e in _elements(el, name):
        value = _text(e)
        if value:
            return value
    return None


def _child_text(el: etree._Element | None, name: str) -> str | None:
    if el is None:
        return None
    for child in el:
        if isinstance(child.tag, str) and _local(child) == name:
            return _text(child)
    return None


def _texts_under(el: etree._Element, parent: str, name: str) -> list[str]:
    out = []
    for p in _elements(el, parent):
        for child in p:
            if isinstance(child.tag, str) and _local(child) == name and (value := _text(child)):
                out.append(value)
    return out


def _ids(el: etree._Element | None, names: tuple[str, ...]) -> tuple[str, ...]:
    if el is None:
        return ()
    out = [value for e in el.iter() if isinstance(e.tag, str) and _local(e) in names and (value := _text(e))]
    return tuple(dict.fromkeys(out))


def _amount(text: str | None) -> Decimal | None:
    if not text:
        return None
    try:
        return Decimal(text.replace(" ", ""))
    except InvalidOperation:
        return None
