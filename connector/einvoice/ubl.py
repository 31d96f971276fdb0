"""UBL 2.1 Invoice / CreditNote reader: Peppol BIS 3 = EHF 3, EHF 2.0, forward billing, self-billing,
EHF Reminder, OIOUBL 2.1. XPaths follow ../shared/research/ehf-peppol.md §2–4.

The syntaxes differ only in a few places, handled here: the due date (root ``DueDate`` vs
``PaymentMeans/PaymentDueDate`` on credit notes, EHF 2.0 and OIOUBL), legacy scheme ids
(``NO:ORGNR``, ``DK:CVR``, ``GLN``) and OIOUBL's VAT scheme ``63`` and FIK ``InstructionID``.
"""

from __future__ import annotations

from lxml import etree

from connector.einvoice.document import DocClass, EDocument, EmbeddedFile, Envelope, Party, PaymentMeans
from connector.einvoice.fields import (
    Children,
    Flat,
    ReadError,
    amount,
    compact,
    decode_base64,
    iso_date,
    required,
    scheme,
    text,
    texts,
)
from connector.einvoice.ns import CAC, CBC, CREDIT_NOTE_NS, INVOICE_NS, NS

__all__ = ["CREDIT_NOTE_NS", "INVOICE_NS", "NS", "ReadError", "read_ubl"]

_VAT_SCHEMES = frozenset({"VAT", "63"})  # 63 = "Moms" in OIOUBL


def _party(element: etree._Element | None) -> Party:
    if element is None:
        return Party()
    party = Flat(element)
    endpoint = party.find(f"{CBC}EndpointID")
    legal = party.find(f"{CAC}PartyLegalEntity/{CBC}CompanyID")
    vat = None
    for tax in party.iterfind(f"{CAC}PartyTaxScheme"):
        if (text(tax, f"{CAC}TaxScheme/{CBC}ID") or "").upper() in _VAT_SCHEMES:
            vat = compact(text(tax, f"{CBC}CompanyID"))
    address = f"{CAC}PostalAddress/"
    lines = tuple(
        t
        for t in (
            text(party, f"{address}{CBC}StreetName"),
            text(party, f"{address}{CBC}AdditionalStreetName"),
            text(party, f"{address}{CAC}AddressLine/{CBC}Line"),
        )
        if t
    )
    return Party(
        name=text(party, f"{CAC}PartyLegalEntity/{CBC}RegistrationName") or text(party, f"{CAC}PartyName/{CBC}Name"),
        trading_name=text(party, f"{CAC}PartyName/{CBC}Name"),
        endpoint_id=compact(endpoint.text) if endpoint is not None and endpoint.text else None,
        endpoint_scheme=scheme(endpoint.get("schemeID")) if endpoint is not None else None,
        legal_id=compact(legal.text) if legal is not None and legal.text else None,
        legal_scheme=scheme(legal.get("schemeID")) if legal is not None else None,
        vat_id=vat,
        party_ids=tuple(i for i in (compact(v) for v in texts(party, f"{CAC}PartyIdentification/{CBC}ID")) if i),
        address=lines,
        postal_code=text(party, f"{address}{CBC}PostalZone"),
        city=text(party, f"{address}{CBC}CityName"),
        country=text(party, f"{address}{CAC}Country/{CBC}IdentificationCode"),
        email=text(party, f"{CAC}Contact/{CBC}ElectronicMail"),
    )


def _payee(root: Children) -> Party | None:
    payee = root.find(f"{CAC}PayeeParty")
    if payee is None:
        return None
    legal = payee.find(f"{CAC}PartyLegalEntity/{CBC}CompanyID")
    return Party(
        name=text(payee, f"{CAC}PartyName/{CBC}Name"),
        legal_id=compact(legal.text) if legal is not None and legal.text else None,
        legal_scheme=scheme(legal.get("schemeID")) if legal is not None else None,
        party_ids=tuple(i for i in (compact(v) for v in texts(payee, f"{CAC}PartyIdentification/{CBC}ID")) if i),
    )


def _payment_means(pm: etree._Element, oioubl: bool) -> PaymentMeans:
    payment_id = compact(text(pm, f"{CBC}PaymentID"))
    instruction = compact(text(pm, f"{CBC}InstructionID"))
    if oioubl and instruction:
        # OIOUBL splits the Danish FIK/giro line: PaymentID is the kortart (71, 73, 75, 01, 04, 15).
        payment_id = f"{payment_id}#{instruction}" if payment_id else instruction
    return PaymentMeans(
        code=text(pm, f"{CBC}PaymentMeansCode"),
        payment_id=payment_id,
        account=compact(text(pm, f"{CAC}PayeeFinancialAccount/{CBC}ID")),
        due_date=iso_date(text(pm, f"{CBC}PaymentDueDate"), "PaymentDueDate"),
        bic=compact(text(pm, f"{CAC}PayeeFinancialAccount/{CAC}FinancialInstitutionBranch/{CBC}ID")),
        mandate_id=compact(text(pm, f"{CAC}PaymentMandate/{CBC}ID")),
        card=pm.find(f"{CAC}CardAccount") is not None,
    )


def _attachments(root: Children, warnings: list[str]) -> tuple[EmbeddedFile, ...]:
    out = []
    for ref in root.iterfind(f"{CAC}AdditionalDocumentReference"):
        obj = ref.find(f"{CAC}Attachment/{CBC}EmbeddedDocumentBinaryObject")
        if obj is None or not obj.text:
            continue
        filename = obj.get("filename") or text(ref, f"{CBC}ID") or "attachment"
        content = decode_base64(obj.text)
        if content is None:
            warnings.append(f"attachment {filename}: not valid base64, skipped")
            continue
        out.append(
            EmbeddedFile(
                filename=filename,
                mime_type=obj.get("mimeCode") or "application/octet-stream",
                content=content,
                description=text(ref, f"{CBC}DocumentDescription"),
            )
        )
    return tuple(out)


def _tax_total(root: Children, currency: str) -> str | None:
    # With a VAT accounting currency (BT-6) there are two TaxTotals; BT-110 is the one in BT-5.
    for total in root.iterfind(f"{CAC}TaxTotal"):
        node = total.find(f"{CBC}TaxAmount")
        if node is not None and node.text and node.get("currencyID", currency) == currency:
            return node.text
    return None


def read_ubl(root: etree._Element, doc_class: DocClass, envelope: Envelope | None = None) -> EDocument:
    """Read an Invoice or CreditNote root into the canonical record."""
    is_credit = etree.QName(root).namespace == CREDIT_NOTE_NS
    top = Children(root)
    oioubl = doc_class in (DocClass.OIOUBL_INVOICE, DocClass.OIOUBL_CREDIT_NOTE)
    warnings: list[str] = []
    means = tuple(_payment_means(pm, oioubl) for pm in top.iterfind(f"{CAC}PaymentMeans"))
    # BT-9: root DueDate on invoices; PaymentMeans/PaymentDueDate on credit notes, EHF 2.0 and OIOUBL.
    due = iso_date(text(top, f"{CBC}DueDate"), "DueDate") or next((m.due_date for m in means if m.due_date), None)
    terms = text(top, f"{CAC}PaymentTerms/{CBC}Note")
    if due is None and terms:
        # Never parse a due date out of free text silently: the ledger or a policy default decides.
        warnings.append(f"no due date, only payment terms: {terms}")
    currency = required(top, f"{CBC}DocumentCurrencyCode", "currency (DocumentCurrencyCode)")
    totals = top.find(f"{CAC}LegalMonetaryTotal")
    if totals is None:
        raise ReadError("missing LegalMonetaryTotal")
    payable = amount(required(totals, f"{CBC}PayableAmount", "PayableAmount"), "PayableAmount")
    issue = iso_date(required(top, f"{CBC}IssueDate", "issue date (IssueDate)"), "IssueDate")
    assert payable is not None and issue is not None
    return EDocument(
        doc_class=doc_class,
        customization_id=text(top, f"{CBC}CustomizationID"),
        profile_id=text(top, f"{CBC}ProfileID"),
        number=required(top, f"{CBC}ID", "document number (ID)"),
        type_code=text(top, f"{CBC}CreditNoteTypeCode" if is_credit else f"{CBC}InvoiceTypeCode"),
        issue_date=issue,
        due_date=due,
        currency=currency,
        tax_exclusive=amount(text(totals, f"{CBC}TaxExclusiveAmount"), "TaxExclusiveAmount"),
        tax_total=amount(_tax_total(top, currency), "TaxAmount"),
        tax_inclusive=amount(text(totals, f"{CBC}TaxInclusiveAmount"), "TaxInclusiveAmount"),
        prepaid=amount(text(totals, f"{CBC}PrepaidAmount"), "PrepaidAmount"),
        rounding=amount(text(totals, f"{CBC}PayableRoundingAmount"), "PayableRoundingAmount"),
        payable=payable,
        supplier=_party(top.find(f"{CAC}AccountingSupplierParty/{CAC}Party")),
        customer=_party(top.find(f"{CAC}AccountingCustomerParty/{CAC}Party")),
        payee=_payee(top),
        payment_means=means,
        billing_refs=texts(top, f"{CAC}BillingReference/{CAC}InvoiceDocumentReference/{CBC}ID"),
        order_ref=text(top, f"{CAC}OrderReference/{CBC}ID"),
        buyer_ref=text(top, f"{CBC}BuyerReference"),
        payment_terms=terms,
        notes=texts(top, f"{CBC}Note"),
        attachments=_attachments(top, warnings),
        sbdh_instance_id=envelope.instance_id if envelope else None,
        warnings=tuple(warnings),
    )
