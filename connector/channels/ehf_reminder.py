"""An EHF Reminder 3.0 document (UBL Invoice syntax with the reminder customization) for one step.

It references the invoice (BillingReference), carries the fee as a document-level charge (REM) and
states the open amount as the payable amount. Built with lxml, so every text is escaped.
"""

from __future__ import annotations

import base64
from decimal import Decimal

from lxml import etree

from connector.channels.base import ReminderMessage
from connector.model import ZERO, Action

CUSTOMIZATION_ID = (
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    "#conformant#urn:fdc:anskaffelser.no:2019:ehf:reminder:3.0"
)
PROFILE_ID = "urn:fdc:anskaffelser.no:2019:ehf:postaward:g3:06:1.0"
NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
ORG_SCHEME = {"NO": "0192", "DK": "0184", "SE": "0007"}


def _el(parent: etree._Element, ns: str, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    e = etree.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    if text is not None:
        e.text = text
    return e


def _amount(parent: etree._Element, tag: str, value: Decimal, currency: str) -> None:
    _el(parent, CBC, tag, f"{value:.2f}", currencyID=currency)


def reminder_number(message: ReminderMessage) -> str:
    kind = "IV" if message.letter.step is Action.COLLECTION_NOTICE else "P"
    return f"{kind}-{message.invoice.number}-{message.sent_on:%Y%m%d}"


def _party(parent: etree._Element, role: str, name: str, org_no: str | None, country: str | None) -> None:
    party = _el(_el(parent, CAC, role), CAC, "Party")
    scheme = ORG_SCHEME.get(country or "", "0192")
    if org_no:
        _el(party, CBC, "EndpointID", org_no, schemeID=scheme)
    _el(_el(party, CAC, "PartyName"), CBC, "Name", name)
    address = _el(party, CAC, "PostalAddress")
    _el(_el(address, CAC, "Country"), CBC, "IdentificationCode", country or "NO")
    legal = _el(party, CAC, "PartyLegalEntity")
    _el(legal, CBC, "RegistrationName", name)
    if org_no:
        _el(legal, CBC, "CompanyID", org_no, schemeID=scheme)


def build(message: ReminderMessage) -> bytes:
    inv, letter, cur = message.invoice, message.letter, message.invoice.currency
    root = etree.Element(f"{{{NS}}}Invoice", nsmap={None: NS, "cac": CAC, "cbc": CBC})  # type: ignore[dict-item]
    _el(root, CBC, "CustomizationID", CUSTOMIZATION_ID)
    _el(root, CBC, "ProfileID", PROFILE_ID)
    _el(root, CBC, "ID", reminder_number(message))
    _el(root, CBC, "IssueDate", message.sent_on.isoformat())
    _el(root, CBC, "DueDate", (letter.deadline or message.sent_on).isoformat())
    _el(root, CBC, "Note", letter.render().split("\n", 1)[0] + f" — faktura {inv.number}")
    _el(root, CBC, "DocumentCurrencyCode", cur)
    _el(root, CBC, "BuyerReference", message.customer.org_no or message.customer.customer_id)
    ref = _el(_el(root, CAC, "BillingReference"), CAC, "InvoiceDocumentReference")
    _el(ref, CBC, "ID", inv.number)
    _el(ref, CBC, "IssueDate", inv.issue_date.isoformat())
    for att in message.attachments:
        doc = _el(root, CAC, "AdditionalDocumentReference")
        _el(doc, CBC, "ID", att.filename)
        _el(
            _el(doc, CAC, "Attachment"),
            CBC,
            "EmbeddedDocumentBinaryObject",
            base64.b64encode(att.content).decode("ascii"),
            mimeCode=att.mime_type,
            filename=att.filename,
        )
    _party(root, "AccountingSupplierParty", message.creditor_name, message.creditor_org_no, message.country)
    _party(root, "AccountingCustomerParty", message.customer.name, message.customer.org_no, message.customer.country)
    if inv.kid:
        means = _el(root, CAC, "PaymentMeans")
        _el(means, CBC, "PaymentMeansCode", "30")
        _el(means, CBC, "PaymentID", inv.kid)
    fee = message.fee
    if fee > ZERO:
        charge = _el(root, CAC, "AllowanceCharge")
        _el(charge, CBC, "ChargeIndicator", "true")
        _el(charge, CBC, "AllowanceChargeReasonCode", "REM")
        _el(charge, CBC, "AllowanceChargeReason", "Purregebyr" if message.country == "NO" else "Reminder fee")
        _amount(charge, "Amount", fee, cur)
        tax = _el(charge, CAC, "TaxCategory")
        _el(tax, CBC, "ID", "O")
        _el(_el(tax, CAC, "TaxScheme"), CBC, "ID", "VAT")
    tax_total = _el(root, CAC, "TaxTotal")
    _amount(tax_total, "TaxAmount", ZERO, cur)
    total = _el(root, CAC, "LegalMonetaryTotal")
    _amount(total, "LineExtensionAmount", letter.amount, cur)
    _amount(total, "TaxExclusiveAmount", letter.amount + fee, cur)
    _amount(total, "TaxInclusiveAmount", letter.amount + fee, cur)
    if fee > ZERO:
        _amount(total, "ChargeTotalAmount", fee, cur)
    _amount(total, "PayableAmount", letter.amount + fee, cur)
    line = _el(root, CAC, "InvoiceLine")
    _el(line, CBC, "ID", "1")
    _el(line, CBC, "InvoicedQuantity", "1", unitCode="EA")
    _amount(line, "LineExtensionAmount", letter.amount, cur)
    line_ref = _el(line, CAC, "DocumentReference")
    _el(line_ref, CBC, "ID", inv.number)
    _el(line_ref, CBC, "DocumentTypeCode", "380")
    item = _el(line, CAC, "Item")
    _el(item, CBC, "Name", f"Faktura {inv.number} forfalt {inv.due_date.isoformat() if inv.due_date else ''}".strip())
    tax = _el(item, CAC, "ClassifiedTaxCategory")
    _el(tax, CBC, "ID", "O")
    _el(_el(tax, CAC, "TaxScheme"), CBC, "ID", "VAT")
    _amount(_el(line, CAC, "Price"), "PriceAmount", letter.amount, cur)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
