"""UBL 2.1 Invoice / CreditNote reader: Peppol BIS 3 = EHF 3, EHF 2.0, forward billing, self-billing,
EHF Reminder, OIOUBL 2.1. XPaths follow ../shared/research/ehf-peppol.md §2–4.

The syntaxes differ only in a few places, handled here: the due date (root ``DueDate`` vs
``PaymentMeans/PaymentDueDate`` on credit notes, EHF 2.0 and OIOUBL), legacy scheme ids
(``NO:ORGNR``, ``DK:CVR``, ``GLN``) and OIOUBL's VAT scheme ``63`` and FIK ``InstructionID``.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from connector.einvoice.document import DocClass, EDocument, EmbeddedFile, Envelope, Party, PaymentMeans
from connector.einvoice.fields import ReadError, amount, compact, decode_base64, iso_date, scheme
from connector.einvoice.ns import CAC, CBC, CREDIT_NOTE_NS, INVOICE_NS, NS

__all__ = ["CREDIT_NOTE_NS", "INVOICE_NS", "NS", "ReadError", "read_ubl"]

_VAT_SCHEMES = frozenset({"VAT", "63"})  # 63 = "Moms" in OIOUBL

# The reader walks the header once, guided by a tree of the tags it wants (``_walk``), instead of
# calling ``find`` per field: ElementPath costs microseconds per call and a document needs some
# eighty fields. Only wanted branches are entered; InvoiceLine subtrees are never touched. A field
# keeps the first such element in document order (what ``find`` with the same path returns) or, for
# repeated ones, all of them in order; a *group* (a party, a PaymentMeans …) gets a dict of its own.
Fields = dict[str, Any]
Trie = dict[str, tuple[int, str, "Trie | None"]]
_FIRST, _ALL, _INTO, _GROUP, _FIRST_GROUP = range(5)


def _first(key: str) -> tuple[int, str, None]:
    return _FIRST, key, None


def _all(key: str) -> tuple[int, str, None]:
    return _ALL, key, None


def _into(sub: Trie) -> tuple[int, str, Trie]:
    return _INTO, "", sub


def _group(key: str, sub: Trie, first_only: bool = False) -> tuple[int, str, Trie]:
    return (_FIRST_GROUP if first_only else _GROUP), key, sub


_PARTY: Trie = {
    f"{CBC}EndpointID": _first("endpoint"),
    f"{CAC}PartyIdentification": _into({f"{CBC}ID": _all("ids")}),
    f"{CAC}PartyName": _into({f"{CBC}Name": _first("trading_name")}),
    f"{CAC}PostalAddress": _into(
        {
            f"{CBC}StreetName": _first("street"),
            f"{CBC}AdditionalStreetName": _first("street2"),
            f"{CAC}AddressLine": _into({f"{CBC}Line": _first("line")}),
            f"{CBC}PostalZone": _first("postal_code"),
            f"{CBC}CityName": _first("city"),
            f"{CAC}Country": _into({f"{CBC}IdentificationCode": _first("country")}),
        }
    ),
    f"{CAC}PartyTaxScheme": _group(
        "tax", {f"{CBC}CompanyID": _first("company_id"), f"{CAC}TaxScheme": _into({f"{CBC}ID": _first("scheme")})}
    ),
    f"{CAC}PartyLegalEntity": _into({f"{CBC}RegistrationName": _first("name"), f"{CBC}CompanyID": _first("legal")}),
    f"{CAC}Contact": _into({f"{CBC}ElectronicMail": _first("email")}),
}
_PAYEE: Trie = {
    f"{CAC}PartyIdentification": _PARTY[f"{CAC}PartyIdentification"],
    f"{CAC}PartyName": _PARTY[f"{CAC}PartyName"],
    f"{CAC}PartyLegalEntity": _into({f"{CBC}CompanyID": _first("legal")}),
}
_PAYMENT_MEANS: Trie = {
    f"{CBC}PaymentMeansCode": _first("code"),
    f"{CBC}PaymentDueDate": _first("due"),
    f"{CBC}InstructionID": _first("instruction"),
    f"{CBC}PaymentID": _first("payment_id"),
    f"{CAC}CardAccount": _first("card"),
    f"{CAC}PayeeFinancialAccount": _into(
        {
            f"{CBC}ID": _first("account"),
            f"{CAC}FinancialInstitutionBranch": _into({f"{CBC}ID": _first("bic")}),
        }
    ),
    f"{CAC}PaymentMandate": _into({f"{CBC}ID": _first("mandate")}),
}
_HEADER: Trie = {
    f"{CBC}CustomizationID": _first("customization_id"),
    f"{CBC}ProfileID": _first("profile_id"),
    f"{CBC}ID": _first("number"),
    f"{CBC}IssueDate": _first("issue_date"),
    f"{CBC}DueDate": _first("due_date"),
    f"{CBC}InvoiceTypeCode": _first("invoice_type"),
    f"{CBC}CreditNoteTypeCode": _first("credit_note_type"),
    f"{CBC}Note": _all("notes"),
    f"{CBC}DocumentCurrencyCode": _first("currency"),
    f"{CBC}BuyerReference": _first("buyer_ref"),
    f"{CAC}OrderReference": _into({f"{CBC}ID": _first("order_ref")}),
    f"{CAC}BillingReference": _into({f"{CAC}InvoiceDocumentReference": _into({f"{CBC}ID": _all("billing_refs")})}),
    f"{CAC}AdditionalDocumentReference": _group(
        "documents",
        {
            f"{CBC}ID": _first("id"),
            f"{CBC}DocumentDescription": _first("description"),
            f"{CAC}Attachment": _into({f"{CBC}EmbeddedDocumentBinaryObject": _first("embedded")}),
        },
    ),
    f"{CAC}AccountingSupplierParty": _into({f"{CAC}Party": _group("supplier", _PARTY, first_only=True)}),
    f"{CAC}AccountingCustomerParty": _into({f"{CAC}Party": _group("customer", _PARTY, first_only=True)}),
    f"{CAC}PayeeParty": _group("payee", _PAYEE, first_only=True),
    f"{CAC}PaymentMeans": _group("payment_means", _PAYMENT_MEANS),
    f"{CAC}PaymentTerms": _into({f"{CBC}Note": _first("terms")}),
    f"{CAC}TaxTotal": _group("tax_totals", {f"{CBC}TaxAmount": _first("amount")}),
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
    for child in node:
        step = trie.get(child.tag)
        if step is None:
            continue
        kind, key, sub = step
        if kind == _FIRST:
            if key not in out:
                out[key] = child
        elif kind == _INTO:
            _walk(child, sub, out)
        elif kind == _FIRST_GROUP:
            if key not in out:
                out[key] = _walk(child, sub, {})
        else:
            value = child if kind == _ALL else _walk(child, sub, {})
            found = out.get(key)
            if found is None:
                out[key] = [value]
            else:
                found.append(value)
    return out


def _text(fields: Fields, key: str) -> str | None:
    """The element's stripped text, or None (as ``fields.text`` with the same path)."""
    element = fields.get(key)
    if element is None:
        return None
    value = element.text
    if value is None:
        return None
    return value.strip() or None


def _texts(fields: Fields, key: str) -> tuple[str, ...]:
    return tuple(v for v in ((e.text or "").strip() for e in fields.get(key, ())) if v)


def _required(fields: Fields, key: str, what: str) -> str:
    value = _text(fields, key)
    if value is None:
        raise ReadError(f"missing {what}")
    return value


def _id_and_scheme(element: etree._Element | None) -> tuple[str | None, str | None]:
    if element is None:
        return None, None
    return (compact(element.text) if element.text else None), scheme(element.get("schemeID"))


def _party(party: Fields | None) -> Party:
    if party is None:
        return Party()
    endpoint_id, endpoint_scheme = _id_and_scheme(party.get("endpoint"))
    legal_id, legal_scheme = _id_and_scheme(party.get("legal"))
    vat = None
    for tax in party.get("tax", ()):
        if (_text(tax, "scheme") or "").upper() in _VAT_SCHEMES:
            vat = compact(_text(tax, "company_id"))
    trading_name = _text(party, "trading_name")
    return Party(
        name=_text(party, "name") or trading_name,
        trading_name=trading_name,
        endpoint_id=endpoint_id,
        endpoint_scheme=endpoint_scheme,
        legal_id=legal_id,
        legal_scheme=legal_scheme,
        vat_id=vat,
        party_ids=tuple(i for i in (compact(v) for v in _texts(party, "ids")) if i),
        address=tuple(t for t in (_text(party, "street"), _text(party, "street2"), _text(party, "line")) if t),
        postal_code=_text(party, "postal_code"),
        city=_text(party, "city"),
        country=_text(party, "country"),
        email=_text(party, "email"),
    )


def _payee(payee: Fields | None) -> Party | None:
    if payee is None:
        return None
    legal_id, legal_scheme = _id_and_scheme(payee.get("legal"))
    return Party(
        name=_text(payee, "trading_name"),
        legal_id=legal_id,
        legal_scheme=legal_scheme,
        party_ids=tuple(i for i in (compact(v) for v in _texts(payee, "ids")) if i),
    )


def _payment_means(pm: Fields, oioubl: bool) -> PaymentMeans:
    payment_id = compact(_text(pm, "payment_id"))
    instruction = compact(_text(pm, "instruction"))
    if oioubl and instruction:
        # OIOUBL splits the Danish FIK/giro line: PaymentID is the kortart (71, 73, 75, 01, 04, 15).
        payment_id = f"{payment_id}#{instruction}" if payment_id else instruction
    return PaymentMeans(
        code=_text(pm, "code"),
        payment_id=payment_id,
        account=compact(_text(pm, "account")),
        due_date=iso_date(_text(pm, "due"), "PaymentDueDate"),
        bic=compact(_text(pm, "bic")),
        mandate_id=compact(_text(pm, "mandate")),
        card="card" in pm,
    )


def _attachments(documents: list[Fields], warnings: list[str]) -> tuple[EmbeddedFile, ...]:
    out = []
    for ref in documents:
        obj = ref.get("embedded")
        if obj is None or not obj.text:
            continue
        filename = obj.get("filename") or _text(ref, "id") or "attachment"
        content = decode_base64(obj.text)
        if content is None:
            warnings.append(f"attachment {filename}: not valid base64, skipped")
            continue
        out.append(
            EmbeddedFile(
                filename=filename,
                mime_type=obj.get("mimeCode") or "application/octet-stream",
                content=content,
                description=_text(ref, "description"),
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


def read_ubl(root: etree._Element, doc_class: DocClass, envelope: Envelope | None = None) -> EDocument:
    """Read an Invoice or CreditNote root into the canonical record."""
    is_credit = root.tag.startswith(f"{{{CREDIT_NOTE_NS}}}")
    top = _walk(root, _HEADER, {})
    oioubl = doc_class in (DocClass.OIOUBL_INVOICE, DocClass.OIOUBL_CREDIT_NOTE)
    warnings: list[str] = []
    means = tuple(_payment_means(pm, oioubl) for pm in top.get("payment_means", ()))
    # BT-9: root DueDate on invoices; PaymentMeans/PaymentDueDate on credit notes, EHF 2.0 and OIOUBL.
    due = iso_date(_text(top, "due_date"), "DueDate") or next((m.due_date for m in means if m.due_date), None)
    terms = _text(top, "terms")
    if due is None and terms:
        # Never parse a due date out of free text silently: the ledger or a policy default decides.
        warnings.append(f"no due date, only payment terms: {terms}")
    currency = _required(top, "currency", "currency (DocumentCurrencyCode)")
    totals = top.get("totals")
    if totals is None:
        raise ReadError("missing LegalMonetaryTotal")
    payable = amount(_required(totals, "payable", "PayableAmount"), "PayableAmount")
    issue = iso_date(_required(top, "issue_date", "issue date (IssueDate)"), "IssueDate")
    assert payable is not None and issue is not None
    return EDocument(
        doc_class=doc_class,
        customization_id=_text(top, "customization_id"),
        profile_id=_text(top, "profile_id"),
        number=_required(top, "number", "document number (ID)"),
        type_code=_text(top, "credit_note_type" if is_credit else "invoice_type"),
        issue_date=issue,
        due_date=due,
        currency=currency,
        tax_exclusive=amount(_text(totals, "tax_exclusive"), "TaxExclusiveAmount"),
        tax_total=amount(_tax_total(top.get("tax_totals", []), currency), "TaxAmount"),
        tax_inclusive=amount(_text(totals, "tax_inclusive"), "TaxInclusiveAmount"),
        prepaid=amount(_text(totals, "prepaid"), "PrepaidAmount"),
        rounding=amount(_text(totals, "rounding"), "PayableRoundingAmount"),
        payable=payable,
        supplier=_party(top.get("supplier")),
        customer=_party(top.get("customer")),
        payee=_payee(top.get("payee")),
        payment_means=means,
        billing_refs=_texts(top, "billing_refs"),
        order_ref=_text(top, "order_ref"),
        buyer_ref=_text(top, "buyer_ref"),
        payment_terms=terms,
        notes=_texts(top, "notes"),
        attachments=_attachments(top.get("documents", []), warnings),
        sbdh_instance_id=envelope.instance_id if envelope else None,
        warnings=tuple(warnings),
    )
