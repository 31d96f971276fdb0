"""An EHF Reminder 3.0 document (UBL Invoice syntax with the reminder customization) for one step.

It references the invoice (BillingReference: exactly one per document, so a letter naming several invoices
goes with one document each), carries the fee as a document-level charge (REM) and the late interest as a
second charge, states what is owed as the payable amount and the letter's pay-by date as ``DueDate``. Built
with lxml, so every text is escaped.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from decimal import Decimal

from lxml import etree

from connector.letters import ChargeKind, InvoiceLine, Letter
from connector.model import ZERO, Attachment, Customer

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


CHARGE_REASON = {  # AllowanceChargeReason per country: the fee, the interest
    "NO": ("Purregebyr", "Forsinkelsesrente"),
    "DK": ("Rykkergebyr", "Morarente"),
    "SE": ("Påminnelseavgift", "Dröjsmålsränta"),
}
# The reminded invoice's line name, in the debtor's language (the letter's): "Faktura 10023 forfalt 2026-01-05".
DUE_LINE = {
    "NO": "Faktura {number} forfalt {due}",
    "DK": "Faktura {number} forfaldt {due}",
    "SE": "Faktura {number} förföll {due}",
}


def build(
    letter: Letter,
    line: InvoiceLine,
    *,
    document_id: str,
    country: str,
    customer: Customer,
    note: str = "",
    attachments: Sequence[Attachment] = (),
) -> bytes:
    """The EHF Reminder of one invoice the letter names (the format references exactly one invoice): what is
    owed on it, the charges that belong to it, and the letter's pay-by date as ``DueDate``."""
    cur = letter.currency
    mine = [c for c in letter.charges if c.invoice_number == line.number]
    if line is letter.invoices[0]:  # a fee per letter travels with the first invoice's document
        mine += [c for c in letter.charges if not c.invoice_number]
    # this letter's fee is the reminder charge (REM); fees earlier letters charged, still owed, go apart, each
    # named with its letter's day, so a debtor's system that books every REM books no fee twice
    fee = sum((c.amount.amount for c in mine if c.kind is ChargeKind.REMINDER_FEE and c.charged_on is None), ZERO)
    earlier = [c for c in mine if c.kind is ChargeKind.REMINDER_FEE and c.charged_on is not None]
    interest = sum((c.amount.amount for c in mine if c.kind is ChargeKind.LATE_INTEREST), start=ZERO)
    owed = line.owed.amount
    root = etree.Element(f"{{{NS}}}Invoice", nsmap={None: NS, "cac": CAC, "cbc": CBC})  # type: ignore[dict-item]
    _el(root, CBC, "CustomizationID", CUSTOMIZATION_ID)
    _el(root, CBC, "ProfileID", PROFILE_ID)
    _el(root, CBC, "ID", document_id)
    _el(root, CBC, "IssueDate", letter.sent_on.isoformat())
    _el(root, CBC, "DueDate", (letter.pay_by or letter.sent_on).isoformat())
    # the letter's subject names its invoices: a document of a one-invoice letter says it once
    _el(
        root,
        CBC,
        "Note",
        note if note and len(letter.invoices) == 1 else (note + " — " if note else "") + f"faktura {line.number}",
    )
    _el(root, CBC, "DocumentCurrencyCode", cur)
    _el(root, CBC, "BuyerReference", customer.org_no or customer.customer_id)
    ref = _el(_el(root, CAC, "BillingReference"), CAC, "InvoiceDocumentReference")
    _el(ref, CBC, "ID", line.number)
    _el(ref, CBC, "IssueDate", line.issue_date.isoformat())
    for att in attachments:
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
    _party(root, "AccountingSupplierParty", letter.creditor.name, letter.creditor.org_no, country)
    # a customer whose country the ledger does not give is taken to be in the client's country (its org no
    # is read with that country's scheme), not in Norway
    _party(root, "AccountingCustomerParty", customer.name, customer.org_no, customer.country or country)
    if letter.payment is not None:
        means = _el(root, CAC, "PaymentMeans")
        _el(means, CBC, "PaymentMeansCode", "30")
        if line.payment_reference:
            _el(means, CBC, "PaymentID", line.payment_reference)
        given = letter.payment.account
        # the IBAN, else the account: an IBAN shown as the account (no national one) as it is, else its digits
        account = letter.payment.iban or (given if given[:2].isalpha() else "".join(ch for ch in given if ch.isdigit()))
        if account:
            payee = _el(means, CAC, "PayeeFinancialAccount")
            _el(payee, CBC, "ID", account)
            if letter.payment.iban and letter.payment.bic:
                _el(_el(payee, CAC, "FinancialInstitutionBranch"), CBC, "ID", letter.payment.bic)
    reasons = CHARGE_REASON.get(country, ("Reminder fee", "Late interest"))
    charges = [(fee, "REM", reasons[0]), (interest, "", reasons[1])]
    charges += [(c.amount.amount, "", f"{reasons[0]} {c.charged_on.isoformat()}") for c in earlier if c.charged_on]
    for amount, code, reason in charges:
        if amount <= ZERO:
            continue
        charge = _el(root, CAC, "AllowanceCharge")
        _el(charge, CBC, "ChargeIndicator", "true")
        if code:
            _el(charge, CBC, "AllowanceChargeReasonCode", code)
        _el(charge, CBC, "AllowanceChargeReason", reason)
        _amount(charge, "Amount", amount, cur)
        tax = _el(charge, CAC, "TaxCategory")
        _el(tax, CBC, "ID", "O")
        _el(_el(tax, CAC, "TaxScheme"), CBC, "ID", "VAT")
    charged = fee + interest + sum((c.amount.amount for c in earlier), ZERO)
    tax_total = _el(root, CAC, "TaxTotal")
    _amount(tax_total, "TaxAmount", ZERO, cur)
    total = _el(root, CAC, "LegalMonetaryTotal")
    _amount(total, "LineExtensionAmount", owed, cur)
    _amount(total, "TaxExclusiveAmount", owed + charged, cur)
    _amount(total, "TaxInclusiveAmount", owed + charged, cur)
    if charged > ZERO:
        _amount(total, "ChargeTotalAmount", charged, cur)
    _amount(total, "PayableAmount", owed + charged, cur)
    inv_line = _el(root, CAC, "InvoiceLine")
    _el(inv_line, CBC, "ID", "1")
    _el(inv_line, CBC, "InvoicedQuantity", "1", unitCode="EA")
    _amount(inv_line, "LineExtensionAmount", owed, cur)
    line_ref = _el(inv_line, CAC, "DocumentReference")
    _el(line_ref, CBC, "ID", line.number)
    _el(line_ref, CBC, "DocumentTypeCode", "380")
    item = _el(inv_line, CAC, "Item")
    due_line = DUE_LINE.get(country, DUE_LINE["NO"])
    _el(item, CBC, "Name", due_line.format(number=line.number, due=line.due_date.isoformat()))
    tax = _el(item, CAC, "ClassifiedTaxCategory")
    _el(tax, CBC, "ID", "O")
    _el(_el(tax, CAC, "TaxScheme"), CBC, "ID", "VAT")
    _amount(_el(inv_line, CAC, "Price"), "PriceAmount", owed, cur)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
