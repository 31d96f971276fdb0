"""UBL 2.1 Invoice / CreditNote reader: Peppol BIS 3 = EHF 3, EHF 2.0, forward billing, self-billing,
EHF Reminder, OIOUBL 2.1. XPaths follow ../shared/research/ehf-peppol.md §2–4.

The syntaxes differ only in a few places, handled here: the due date (root ``DueDate`` vs
``PaymentMeans/PaymentDueDate`` on credit notes, EHF 2.0 and OIOUBL), legacy scheme ids
(``NO:ORGNR``, ``DK:CVR``, ``GLN``) and OIOUBL's VAT scheme ``63`` and FIK ``InstructionID``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from lxml import etree

from connector.einvoice.document import DocClass, EDocument, EmbeddedFile, Envelope, Party, PaymentMeans
from connector.einvoice.fields import (
    ReadError,
    amount,
    compact,
    decode_base64,
    in_currency,
    iso_date,
    node_text,
    scheme,
)
from connector.einvoice.ns import CAC, CBC, CREDIT_NOTE_NS, INVOICE_NS, NS

__all__ = ["CREDIT_NOTE_NS", "INVOICE_NS", "NS", "ReadError", "read_ubl"]

_VAT_SCHEMES = frozenset({"VAT", "63"})  # 63 = "Moms" in OIOUBL

# The reader walks the header once, guided by a tree of the tags it wants (``_walk``), instead of
# calling ``find`` per field: ElementPath costs microseconds per call and a document needs some
# eighty fields. Only wanted branches are entered; InvoiceLine subtrees are never touched. A field
# keeps the first such element in document order (what ``find`` with the same path returns) or, for
# repeated ones, all of them in order; a *group* (a party, a PaymentMeans …) gets a dict of its own.
# Most fields are only ever read as text: for those the walk keeps the stripped text (None when
# blank, as ``fields.text`` with the same path) rather than the element, so each is read once.
Fields = dict[str, Any]
Trie = dict[str, tuple[int, str, "Trie"]]
_LEAF: Trie = {}  # the sub-table of a step that reads the element itself (never walked)
_TEXT, _FIRST, _TEXTS, _INTO, _GROUP, _FIRST_GROUP = range(6)


def _text(key: str) -> tuple[int, str, Trie]:
    """The first element's stripped text, or None when that element's text is blank."""
    return _TEXT, key, _LEAF


def _first(key: str) -> tuple[int, str, Trie]:
    """The first element itself (a field whose attributes are read too)."""
    return _FIRST, key, _LEAF


def _texts(key: str) -> tuple[int, str, Trie]:
    """Every such element's stripped text, blank ones left out, in document order."""
    return _TEXTS, key, _LEAF


def _into(sub: Trie) -> tuple[int, str, Trie]:
    return _INTO, "", sub


def _group(key: str, sub: Trie, first_only: bool = False) -> tuple[int, str, Trie]:
    return (_FIRST_GROUP if first_only else _GROUP), key, sub


_PARTY: Trie = {
    f"{CBC}EndpointID": _first("endpoint"),
    f"{CAC}PartyIdentification": _into({f"{CBC}ID": _texts("ids")}),
    f"{CAC}PartyName": _into({f"{CBC}Name": _text("trading_name")}),
    f"{CAC}PostalAddress": _into(
        {
            f"{CBC}StreetName": _text("street"),
            f"{CBC}AdditionalStreetName": _text("street2"),
            f"{CAC}AddressLine": _into({f"{CBC}Line": _text("line")}),
            f"{CBC}PostalZone": _text("postal_code"),
            f"{CBC}CityName": _text("city"),
            f"{CAC}Country": _into({f"{CBC}IdentificationCode": _text("country")}),
        }
    ),
    f"{CAC}PartyTaxScheme": _group(
        "tax", {f"{CBC}CompanyID": _text("company_id"), f"{CAC}TaxScheme": _into({f"{CBC}ID": _text("scheme")})}
    ),
    f"{CAC}PartyLegalEntity": _into({f"{CBC}RegistrationName": _text("name"), f"{CBC}CompanyID": _first("legal")}),
    f"{CAC}Contact": _into(
        {
            f"{CBC}ElectronicMail": _text("email"),
            f"{CBC}Telephone": _text("phone"),
            f"{CBC}Name": _text("contact"),
        }
    ),
}
_PAYEE: Trie = {
    f"{CAC}PartyIdentification": _PARTY[f"{CAC}PartyIdentification"],
    f"{CAC}PartyName": _PARTY[f"{CAC}PartyName"],
    f"{CAC}PartyLegalEntity": _into({f"{CBC}CompanyID": _first("legal")}),
}
_PAYMENT_MEANS: Trie = {
    f"{CBC}PaymentMeansCode": _text("code"),
    f"{CBC}PaymentDueDate": _text("due"),
    f"{CBC}InstructionID": _text("instruction"),
    f"{CBC}PaymentID": _text("payment_id"),
    f"{CAC}CardAccount": _first("card"),
    f"{CAC}PayeeFinancialAccount": _into(
        {
            f"{CBC}ID": _text("account"),
            f"{CAC}FinancialInstitutionBranch": _into({f"{CBC}ID": _text("bic")}),
        }
    ),
    f"{CAC}PaymentMandate": _into({f"{CBC}ID": _text("mandate")}),
}
_HEADER: Trie = {
    f"{CBC}CustomizationID": _text("customization_id"),
    f"{CBC}ProfileID": _text("profile_id"),
    f"{CBC}ID": _text("number"),
    f"{CBC}IssueDate": _text("issue_date"),
    f"{CBC}DueDate": _text("due_date"),
    f"{CBC}InvoiceTypeCode": _text("invoice_type"),
    f"{CBC}CreditNoteTypeCode": _text("credit_note_type"),
    f"{CBC}Note": _texts("notes"),
    f"{CBC}DocumentCurrencyCode": _text("currency"),
    f"{CBC}BuyerReference": _text("buyer_ref"),
    f"{CAC}OrderReference": _into({f"{CBC}ID": _text("order_ref")}),
    f"{CAC}BillingReference": _into({f"{CAC}InvoiceDocumentReference": _into({f"{CBC}ID": _texts("billing_refs")})}),
    f"{CAC}AdditionalDocumentReference": _group(
        "documents",
        {
            f"{CBC}ID": _text("id"),
            f"{CBC}DocumentDescription": _text("description"),
            f"{CAC}Attachment": _into({f"{CBC}EmbeddedDocumentBinaryObject": _first("embedded")}),
        },
    ),
    f"{CAC}AccountingSupplierParty": _into({f"{CAC}Party": _group("supplier", _PARTY, first_only=True)}),
    f"{CAC}AccountingCustomerParty": _into({f"{CAC}Party": _group("customer", _PARTY, first_only=True)}),
    f"{CAC}PayeeParty": _group("payee", _PAYEE, first_only=True),
    f"{CAC}PaymentMeans": _group("payment_means", _PAYMENT_MEANS),
    f"{CAC}PaymentTerms": _into({f"{CBC}Note": _text("terms")}),
    # BT-72 and BG-14: when the goods or services were delivered (the advice report's "days from
    # delivery to invoice"); only the document-level elements, never an InvoiceLine's own.
    f"{CAC}Delivery": _into({f"{CBC}ActualDeliveryDate": _text("delivery_date")}),
    f"{CAC}InvoicePeriod": _into({f"{CBC}EndDate": _text("period_end")}),
    f"{CAC}TaxTotal": _group("tax_totals", {f"{CBC}TaxAmount": _first("amount")}),
    # the totals' elements, not their text: each one's currencyID must be the document's (BT-5)
    f"{CAC}LegalMonetaryTotal": _group(
        "totals",
        {
            f"{CBC}TaxExclusiveAmount": _first("tax_exclusive"),
            f"{CBC}TaxInclusiveAmount": _first("tax_inclusive"),
            f"{CBC}PrepaidAmount": _first("prepaid"),
            f"{CBC}PayableRoundingAmount": _first("rounding"),
            f"{CBC}PayableAmount": _first("payable"),
        },
        first_only=True,
    ),
}


def _walk(node: etree._Element, trie: Trie, out: Fields) -> Fields:
    get = trie.get
    # the children as one list: measured faster than lxml's child iterator (lxml-stubs lack slicing)
    for child in node[:]:  # type: ignore[index]
        step = get(child.tag)
        if step is None:
            continue
        kind, key, sub = step
        if kind == _TEXT:
            if key not in out:
                value = child.text
                out[key] = (value.strip() or None) if value is not None else None
        elif kind == _INTO:
            _walk(child, sub, out)
        elif kind == _TEXTS:
            value = child.text
            if value is not None and (value := value.strip()):
                found = out.get(key)
                if found is None:
                    out[key] = [value]
                else:
                    found.append(value)
        elif kind == _FIRST:
            if key not in out:
                out[key] = child
        elif kind == _FIRST_GROUP:
            if key not in out:
                out[key] = _walk(child, sub, {})
        else:
            group = _walk(child, sub, {})
            found = out.get(key)
            if found is None:
                out[key] = [group]
            else:
                found.append(group)
    return out


def _required(fields: Fields, key: str, what: str) -> str:
    value = fields.get(key)
    if value is None:
        raise ReadError(f"missing {what}")
    return value


def _id_and_scheme(element: etree._Element | None) -> tuple[str | None, str | None]:
    if element is None:
        return None, None
    value = element.text
    return (compact(value) if value else None), scheme(element.get("schemeID"))


def _compact_all(values: list[str] | None) -> tuple[str, ...]:
    return tuple(filter(None, map(compact, values))) if values else ()


def _party(party: Fields | None) -> Party:
    if party is None:
        return Party()
    get = party.get
    endpoint_id, endpoint_scheme = _id_and_scheme(get("endpoint"))
    legal_id, legal_scheme = _id_and_scheme(get("legal"))
    vat = None
    for tax in get("tax", ()):
        if (tax.get("scheme") or "").upper() in _VAT_SCHEMES:
            vat = compact(tax.get("company_id"))
    trading_name = get("trading_name")
    return Party(
        name=get("name") or trading_name,
        trading_name=trading_name,
        endpoint_id=endpoint_id,
        endpoint_scheme=endpoint_scheme,
        legal_id=legal_id,
        legal_scheme=legal_scheme,
        vat_id=vat,
        party_ids=_compact_all(get("ids")),
        address=tuple(filter(None, (get("street"), get("street2"), get("line")))),
        postal_code=get("postal_code"),
        city=get("city"),
        country=get("country"),
        email=get("email"),
        phone=get("phone"),
        contact=get("contact"),
    )


def _payee(payee: Fields | None) -> Party | None:
    if payee is None:
        return None
    legal_id, legal_scheme = _id_and_scheme(payee.get("legal"))
    return Party(
        name=payee.get("trading_name"),
        legal_id=legal_id,
        legal_scheme=legal_scheme,
        party_ids=_compact_all(payee.get("ids")),
    )


def _payment_means(pm: Fields, oioubl: bool) -> PaymentMeans:
    get = pm.get
    payment_id = compact(get("payment_id"))
    instruction = compact(get("instruction"))
    if oioubl and instruction:
        # OIOUBL splits the Danish FIK/giro line: PaymentID is the kortart (71, 73, 75, 01, 04, 15).
        payment_id = f"{payment_id}#{instruction}" if payment_id else instruction
    return PaymentMeans(
        code=get("code"),
        payment_id=payment_id,
        account=compact(get("account")),
        due_date=iso_date(get("due"), "PaymentDueDate"),
        bic=compact(get("bic")),
        mandate_id=compact(get("mandate")),
        card="card" in pm,
    )


def _attachments(documents: list[Fields], warnings: list[str]) -> tuple[EmbeddedFile, ...]:
    out = []
    for ref in documents:
        obj = ref.get("embedded")
        if obj is None or not obj.text:
            continue
        filename = obj.get("filename") or ref.get("id") or "attachment"
        content = decode_base64(obj.text)
        if content is None:
            warnings.append(f"attachment {filename}: not valid base64, skipped")
            continue
        out.append(
            EmbeddedFile(
                filename=filename,
                mime_type=obj.get("mimeCode") or "application/octet-stream",
                content=content,
                description=ref.get("description"),
            )
        )
    return tuple(out)


def _tax_total(tax_totals: list[Fields], currency: str) -> str | None:
    # With a VAT accounting currency (BT-6) there are two TaxTotals; BT-110 is the one in BT-5.
    for total in tax_totals:
        node = total.get("amount")
        if node is not None and node.text and node.get("currencyID", currency) == currency:
            return node.text
    return None


def _advisory_date(value: str | None, what: str, warnings: list[str]) -> date | None:
    """A date only reports read (the delivery date): a malformed one is a warning, never an unreadable
    invoice — an unreadable document would hold dunning for a figure of the advice report."""
    try:
        return iso_date(value, what)
    except ReadError as exc:
        warnings.append(f"{exc}; left out")
        return None


_TOTALS = (
    ("tax_exclusive", "TaxExclusiveAmount"),
    ("tax_inclusive", "TaxInclusiveAmount"),
    ("prepaid", "PrepaidAmount"),
    ("rounding", "PayableRoundingAmount"),
    ("payable", "PayableAmount"),
)


def read_ubl(root: etree._Element, doc_class: DocClass, envelope: Envelope | None = None) -> EDocument:
    """Read an Invoice or CreditNote root into the canonical record."""
    is_credit = root.tag.startswith(f"{{{CREDIT_NOTE_NS}}}")
    top = _walk(root, _HEADER, {})
    get = top.get
    oioubl = doc_class in (DocClass.OIOUBL_INVOICE, DocClass.OIOUBL_CREDIT_NOTE)
    warnings: list[str] = []
    means = tuple(_payment_means(pm, oioubl) for pm in get("payment_means", ()))
    # BT-9: root DueDate on invoices; PaymentMeans/PaymentDueDate on credit notes, EHF 2.0 and OIOUBL.
    due = iso_date(get("due_date"), "DueDate") or next((m.due_date for m in means if m.due_date), None)
    terms = get("terms")
    if due is None and terms:
        # Never parse a due date out of free text silently: the ledger or a policy default decides.
        warnings.append(f"no due date, only payment terms: {terms}")
    currency = _required(top, "currency", "currency (DocumentCurrencyCode)")
    total_nodes = get("totals")
    if total_nodes is None:
        raise ReadError("missing LegalMonetaryTotal")
    totals = {key: node_text(in_currency(total_nodes.get(key), what, currency)) for key, what in _TOTALS}
    payable = amount(_required(totals, "payable", "PayableAmount"), "PayableAmount")
    issue = iso_date(_required(top, "issue_date", "issue date (IssueDate)"), "IssueDate")
    assert payable is not None and issue is not None
    return EDocument(
        doc_class=doc_class,
        customization_id=get("customization_id"),
        profile_id=get("profile_id"),
        number=_required(top, "number", "document number (ID)"),
        type_code=get("credit_note_type" if is_credit else "invoice_type"),
        issue_date=issue,
        due_date=due,
        currency=currency,
        tax_exclusive=amount(totals.get("tax_exclusive"), "TaxExclusiveAmount"),
        tax_total=amount(_tax_total(get("tax_totals", []), currency), "TaxAmount"),
        tax_inclusive=amount(totals.get("tax_inclusive"), "TaxInclusiveAmount"),
        prepaid=amount(totals.get("prepaid"), "PrepaidAmount"),
        rounding=amount(totals.get("rounding"), "PayableRoundingAmount"),
        payable=payable,
        supplier=_party(get("supplier")),
        customer=_party(get("customer")),
        payee=_payee(get("payee")),
        payment_means=means,
        billing_refs=tuple(get("billing_refs", ())),
        order_ref=get("order_ref"),
        buyer_ref=get("buyer_ref"),
        payment_terms=terms,
        delivery_date=_advisory_date(get("delivery_date"), "ActualDeliveryDate", warnings)
        or _advisory_date(get("period_end"), "InvoicePeriod/EndDate", warnings),
        notes=tuple(get("notes", ())),
        attachments=_attachments(get("documents", []), warnings),
        sbdh_instance_id=envelope.instance_id if envelope else None,
        warnings=tuple(warnings),
    )
