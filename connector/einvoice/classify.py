"""Which kind of e-invoice document is this? By root element *and* CustomizationID, never root alone:
an EHF Reminder, a Payment Request, Forward Billing and Self-billing all use the UBL ``Invoice`` root.
Table: ../shared/research/ehf-peppol.md §1.
"""

from __future__ import annotations

from lxml import etree

from connector.einvoice.document import DocClass, Envelope
from connector.einvoice.ns import (
    APPLICATION_RESPONSE_NS,
    CBC,
    CII_NS,
    CREDIT_NOTE_NS,
    INVOICE_NS,
    RAM,
    RSM,
    SBDH_NS,
)

# UNCL1001 codes that make a CII document (one root for both) a credit note.
CII_CREDIT_TYPES = frozenset({"381", "396", "81", "83", "532"})

_SH = f"{{{SBDH_NS}}}"


class EnvelopeError(ValueError):
    """An SBDH that does not hold exactly one business document."""


_CUSTOMIZATION_ID = f"{CBC}CustomizationID"


def customization_id(root: etree._Element) -> str:
    for node in root:  # as root.find(), without ElementPath: it is one of the first children
        if node.tag == _CUSTOMIZATION_ID:
            return (node.text or "").strip()
    return ""


def _from_document_type_id(envelope: Envelope | None) -> str:
    """The CustomizationID part of an SBDH DOCUMENTID scope (``root::Name##customization::2.1``)."""
    if envelope is None or not envelope.document_type_id or "##" not in envelope.document_type_id:
        return ""
    return envelope.document_type_id.split("##", 1)[1].rsplit("::", 1)[0]


def classify(root: etree._Element, envelope: Envelope | None = None) -> DocClass:
    tag = root.tag  # "{namespace}local", as etree.QName(root).namespace reads it (without a QName object)
    namespace = tag[1 : tag.index("}")] if tag[:1] == "{" else None
    if namespace == CII_NS:
        type_code = (root.findtext(f"{RSM}ExchangedDocument/{RAM}TypeCode") or "").strip()
        return DocClass.CII_CREDIT_NOTE if type_code in CII_CREDIT_TYPES else DocClass.CII_INVOICE
    cid = customization_id(root) or _from_document_type_id(envelope)
    if namespace == APPLICATION_RESPONSE_NS:
        if "invoice_response" in cid:
            return DocClass.INVOICE_RESPONSE
        if "trns:mlr" in cid:
            return DocClass.MLR
        if "edec:mls" in cid:
            return DocClass.MLS
        return DocClass.UNKNOWN
    if namespace not in (INVOICE_NS, CREDIT_NOTE_NS):
        return DocClass.UNKNOWN
    credit = namespace == CREDIT_NOTE_NS
    if "ehf:reminder" in cid:
        return DocClass.REMINDER
    if "payment-request" in cid:
        return DocClass.PAYMENT_REQUEST
    if cid.upper().startswith("OIOUBL-"):
        return DocClass.OIOUBL_CREDIT_NOTE if credit else DocClass.OIOUBL_INVOICE
    if "biitrns010" in cid or "biitrns014" in cid or "ehf:faktura" in cid or "ehf:kreditnota" in cid:
        return DocClass.EHF2_CREDIT_NOTE if credit else DocClass.EHF2_INVOICE
    if "selfbilling" in cid:
        return DocClass.SELF_BILLING_CREDIT_NOTE if credit else DocClass.SELF_BILLING_INVOICE
    if "forward-billing" in cid:
        return DocClass.FORWARD_BILLING_CREDIT_NOTE if credit else DocClass.FORWARD_BILLING_INVOICE
    if "urn:cen.eu:en16931:2017" in cid:
        return DocClass.CREDIT_NOTE if credit else DocClass.INVOICE
    return DocClass.UNKNOWN


def _scope(header: etree._Element, kind: str) -> str | None:
    for scope in header.iterfind(f"{_SH}BusinessScope/{_SH}Scope"):
        if (scope.findtext(f"{_SH}Type") or "").strip() == kind:
            value = (scope.findtext(f"{_SH}InstanceIdentifier") or "").strip()
            return value or None
    return None


def _stripped(value: str | None) -> str | None:
    return value.strip() or None if value else None


def unwrap_sbdh(root: etree._Element) -> tuple[etree._Element, Envelope | None]:
    """Return the business document inside a StandardBusinessDocument and the envelope, or the bare root."""
    if root.tag != f"{_SH}StandardBusinessDocument":
        return root, None
    header = root.find(f"{_SH}StandardBusinessDocumentHeader")
    body = [c for c in root if isinstance(c.tag, str) and c is not header]
    if header is None or len(body) != 1:
        raise EnvelopeError("an SBDH needs exactly one header and one payload element")
    ident = f"{_SH}DocumentIdentification/{_SH}"
    envelope = Envelope(
        instance_id=_stripped(header.findtext(f"{ident}InstanceIdentifier")),
        sender=_stripped(header.findtext(f"{_SH}Sender/{_SH}Identifier")),
        receiver=_stripped(header.findtext(f"{_SH}Receiver/{_SH}Identifier")),
        document_type_id=_scope(header, "DOCUMENTID"),
        process_id=_scope(header, "PROCESSID"),
        country_c1=_scope(header, "COUNTRY_C1"),
    )
    # The payload keeps its in-scope namespaces; reading it in place needs no copy.
    return body[0], envelope
