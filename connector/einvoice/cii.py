"""UN/CEFACT Cross Industry Invoice (D16B) reader: EN 16931 CII, Factur-X / ZUGFeRD 2.x, XRechnung-CII.

Produces the same canonical record as the UBL reader, so a UBL file and its CII twin compare equal
field by field. XPaths: ../shared/research/ehf-peppol.md §6.
"""

from __future__ import annotations

from datetime import date

from lxml import etree

from connector.einvoice.document import DocClass, EDocument, EmbeddedFile, Envelope, Party, PaymentMeans
from connector.einvoice.fields import (
    ReadError,
    amount,
    cii_date,
    compact,
    decode_base64,
    in_currency,
    required,
    scheme,
    text,
    texts,
)
from connector.einvoice.ns import RAM, RSM, UDT

_TX = f"{RSM}SupplyChainTradeTransaction"
_AGREEMENT = f"{_TX}/{RAM}ApplicableHeaderTradeAgreement"
_SETTLEMENT = f"{_TX}/{RAM}ApplicableHeaderTradeSettlement"
_DIRECT_DEBIT = frozenset({"49", "59"})


def _party(party: etree._Element | None) -> Party:
    if party is None:
        return Party()
    endpoint = party.find(f"{RAM}URIUniversalCommunication/{RAM}URIID")
    legal = party.find(f"{RAM}SpecifiedLegalOrganization/{RAM}ID")
    vat = next(
        (
            compact(e.text)
            for e in party.iterfind(f"{RAM}SpecifiedTaxRegistration/{RAM}ID")
            if e.get("schemeID") == "VA"
        ),
        None,
    )
    address = party.find(f"{RAM}PostalTradeAddress")
    lines: tuple[str, ...] = ()
    if address is not None:
        lines = tuple(t for t in (text(address, f"{RAM}{n}") for n in ("LineOne", "LineTwo", "LineThree")) if t)
    ids = texts(party, f"{RAM}ID") + texts(party, f"{RAM}GlobalID")
    return Party(
        name=text(party, f"{RAM}Name"),
        trading_name=text(party, f"{RAM}SpecifiedLegalOrganization/{RAM}TradingBusinessName"),
        endpoint_id=compact(endpoint.text) if endpoint is not None and endpoint.text else None,
        endpoint_scheme=scheme(endpoint.get("schemeID")) if endpoint is not None else None,
        legal_id=compact(legal.text) if legal is not None and legal.text else None,
        legal_scheme=scheme(legal.get("schemeID")) if legal is not None else None,
        vat_id=vat,
        party_ids=tuple(i for i in (compact(v) for v in ids) if i),
        address=lines,
        postal_code=text(address, f"{RAM}PostcodeCode"),
        city=text(address, f"{RAM}CityName"),
        country=text(address, f"{RAM}CountryID"),
        email=text(party, f"{RAM}DefinedTradeContact/{RAM}EmailURIUniversalCommunication/{RAM}URIID"),
        phone=text(party, f"{RAM}DefinedTradeContact/{RAM}TelephoneUniversalCommunication/{RAM}CompleteNumber"),
        contact=text(party, f"{RAM}DefinedTradeContact/{RAM}PersonName"),
    )


def _payee(settlement: etree._Element) -> Party | None:
    payee = settlement.find(f"{RAM}PayeeTradeParty")
    if payee is None:
        return None
    full = _party(payee)
    return Party(name=full.name, legal_id=full.legal_id, legal_scheme=full.legal_scheme, party_ids=full.party_ids)


def _payment_means(settlement: etree._Element, terms: etree._Element | None) -> tuple[PaymentMeans, ...]:
    reference = compact(text(settlement, f"{RAM}PaymentReference"))  # BT-83, one per document in CII
    mandate = compact(text(terms, f"{RAM}DirectDebitMandateID"))
    out = []
    for pm in settlement.iterfind(f"{RAM}SpecifiedTradeSettlementPaymentMeans"):
        code = text(pm, f"{RAM}TypeCode")
        account = text(pm, f"{RAM}PayeePartyCreditorFinancialAccount/{RAM}IBANID") or text(
            pm, f"{RAM}PayeePartyCreditorFinancialAccount/{RAM}ProprietaryID"
        )
        out.append(
            PaymentMeans(
                code=code,
                payment_id=reference,
                account=compact(account),
                bic=compact(text(pm, f"{RAM}PayeeSpecifiedCreditorFinancialInstitution/{RAM}BICID")),
                mandate_id=mandate if code in _DIRECT_DEBIT else None,
            )
        )
    if not out and reference:
        out.append(PaymentMeans(code=None, payment_id=reference, account=None))
    return tuple(out)


def _attachments(agreement: etree._Element | None, warnings: list[str]) -> tuple[EmbeddedFile, ...]:
    if agreement is None:
        return ()
    out = []
    for ref in agreement.iterfind(f"{RAM}AdditionalReferencedDocument"):
        obj = ref.find(f"{RAM}AttachmentBinaryObject")
        if obj is None or not obj.text:
            continue
        filename = obj.get("filename") or text(ref, f"{RAM}IssuerAssignedID") or "attachment"
        content = decode_base64(obj.text)
        if content is None:
            warnings.append(f"attachment {filename}: not valid base64, skipped")
            continue
        out.append(
            EmbeddedFile(
                filename=filename,
                mime_type=obj.get("mimeCode") or "application/octet-stream",
                content=content,
                description=text(ref, f"{RAM}Name"),
            )
        )
    return tuple(out)


def _delivery_date(root: etree._Element, settlement: etree._Element, warnings: list[str]) -> date | None:
    """BT-72 ActualDeliverySupplyChainEvent, else the end of the billing period (BT-74). Advisory: a
    malformed date is a warning, never an unreadable invoice."""
    delivery = root.find(f"{_TX}/{RAM}ApplicableHeaderTradeDelivery")
    event = f"{RAM}ActualDeliverySupplyChainEvent/{RAM}OccurrenceDateTime/{UDT}DateTimeString"
    period_end = f"{RAM}BillingSpecifiedPeriod/{RAM}EndDateTime/{UDT}DateTimeString"
    candidates = (
        (text(delivery, event), "ActualDeliverySupplyChainEvent"),
        (text(settlement, period_end), "BillingSpecifiedPeriod/EndDateTime"),
    )
    for value, what in candidates:
        try:
            found = cii_date(value, what)
        except ReadError as exc:
            warnings.append(f"{exc}; left out")
            continue
        if found is not None:
            return found
    return None


def read_cii(root: etree._Element, doc_class: DocClass, envelope: Envelope | None = None) -> EDocument:
    warnings: list[str] = []
    doc = root.find(f"{RSM}ExchangedDocument")
    agreement = root.find(_AGREEMENT)
    settlement = root.find(_SETTLEMENT)
    if doc is None or settlement is None:
        raise ReadError("missing ExchangedDocument or ApplicableHeaderTradeSettlement")
    totals = settlement.find(f"{RAM}SpecifiedTradeSettlementHeaderMonetarySummation")
    if totals is None:
        raise ReadError("missing SpecifiedTradeSettlementHeaderMonetarySummation")
    currency = required(settlement, f"{RAM}InvoiceCurrencyCode", "currency (InvoiceCurrencyCode)")
    terms = settlement.find(f"{RAM}SpecifiedTradePaymentTerms")
    due = cii_date(text(terms, f"{RAM}DueDateDateTime/{UDT}DateTimeString"), "DueDateDateTime")
    terms_text = text(terms, f"{RAM}Description")
    if due is None and terms_text:
        warnings.append(f"no due date, only payment terms: {terms_text}")
    tax_total = next(
        (
            e.text
            for e in totals.iterfind(f"{RAM}TaxTotalAmount")
            if e.text and e.get("currencyID", currency) == currency
        ),
        None,
    )
    for what in ("TaxBasisTotalAmount", "GrandTotalAmount", "TotalPrepaidAmount", "RoundingAmount", "DuePayableAmount"):
        in_currency(totals.find(f"{RAM}{what}"), what, currency)  # amounts in two currencies are not read
    payable = amount(required(totals, f"{RAM}DuePayableAmount", "DuePayableAmount"), "DuePayableAmount")
    issue = cii_date(
        required(doc, f"{RAM}IssueDateTime/{UDT}DateTimeString", "issue date (IssueDateTime)"), "IssueDateTime"
    )
    assert payable is not None and issue is not None
    context = root.find(f"{RSM}ExchangedDocumentContext")
    return EDocument(
        doc_class=doc_class,
        customization_id=text(context, f"{RAM}GuidelineSpecifiedDocumentContextParameter/{RAM}ID"),
        profile_id=text(context, f"{RAM}BusinessProcessSpecifiedDocumentContextParameter/{RAM}ID"),
        number=required(doc, f"{RAM}ID", "document number (ExchangedDocument/ID)"),
        type_code=text(doc, f"{RAM}TypeCode"),
        issue_date=issue,
        due_date=due,
        currency=currency,
        tax_exclusive=amount(text(totals, f"{RAM}TaxBasisTotalAmount"), "TaxBasisTotalAmount"),
        tax_total=amount(tax_total, "TaxTotalAmount"),
        tax_inclusive=amount(text(totals, f"{RAM}GrandTotalAmount"), "GrandTotalAmount"),
        prepaid=amount(text(totals, f"{RAM}TotalPrepaidAmount"), "TotalPrepaidAmount"),
        rounding=amount(text(totals, f"{RAM}RoundingAmount"), "RoundingAmount"),
        payable=payable,
        supplier=_party(agreement.find(f"{RAM}SellerTradeParty") if agreement is not None else None),
        customer=_party(agreement.find(f"{RAM}BuyerTradeParty") if agreement is not None else None),
        payee=_payee(settlement),
        payment_means=_payment_means(settlement, terms),
        billing_refs=texts(settlement, f"{RAM}InvoiceReferencedDocument/{RAM}IssuerAssignedID"),
        order_ref=text(agreement, f"{RAM}BuyerOrderReferencedDocument/{RAM}IssuerAssignedID"),
        buyer_ref=text(agreement, f"{RAM}BuyerReference"),
        payment_terms=terms_text,
        delivery_date=_delivery_date(root, settlement, warnings),
        notes=texts(doc, f"{RAM}IncludedNote/{RAM}Content"),
        attachments=_attachments(agreement, warnings),
        sbdh_instance_id=envelope.instance_id if envelope else None,
        warnings=tuple(warnings),
    )
