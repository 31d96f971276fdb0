"""The canonical records every reader produces (UBL, CII, responses), before they become model facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum


class DocClass(StrEnum):
    """What a file is, decided from root element *and* CustomizationID (research §1)."""

    INVOICE = "invoice"  # Peppol BIS 3 = EHF 3, and any other EN 16931 UBL (XRechnung-UBL …)
    CREDIT_NOTE = "credit_note"
    EHF2_INVOICE = "ehf2_invoice"  # legacy EHF 2.0, still found in archives
    EHF2_CREDIT_NOTE = "ehf2_credit_note"
    FORWARD_BILLING_INVOICE = "forward_billing_invoice"  # EHF: invoiced on behalf of e.g. a grid company
    FORWARD_BILLING_CREDIT_NOTE = "forward_billing_credit_note"
    SELF_BILLING_INVOICE = "self_billing_invoice"  # issued by the buyer; parties keep their BIS roles
    SELF_BILLING_CREDIT_NOTE = "self_billing_credit_note"
    OIOUBL_INVOICE = "oioubl_invoice"  # Danish OIOUBL 2.1
    OIOUBL_CREDIT_NOTE = "oioubl_credit_note"
    CII_INVOICE = "cii_invoice"  # UN/CEFACT CII: EN 16931, Factur-X / ZUGFeRD 2, XRechnung-CII
    CII_CREDIT_NOTE = "cii_credit_note"
    REMINDER = "reminder"  # EHF Reminder 3.0: a dunning event on an existing invoice, never a receivable
    PAYMENT_REQUEST = "payment_request"  # EHF Payment Request: an instruction to one's own bank, ignored
    INVOICE_RESPONSE = "invoice_response"  # Peppol T111 (buyer's business status)
    MLR = "mlr"  # Peppol T71 message level response (technical rejection)
    MLS = "mls"  # Peppol message level status (AP-to-AP delivery status)
    UNKNOWN = "unknown"

    @property
    def is_credit(self) -> bool:
        return self in _CREDITS

    @property
    def is_sales_document(self) -> bool:
        """An invoice or credit note that changes what the customer owes."""
        return self in _SALES

    @property
    def is_status(self) -> bool:
        return self in (DocClass.INVOICE_RESPONSE, DocClass.MLR, DocClass.MLS)


_CREDITS = frozenset(
    {
        DocClass.CREDIT_NOTE,
        DocClass.EHF2_CREDIT_NOTE,
        DocClass.FORWARD_BILLING_CREDIT_NOTE,
        DocClass.SELF_BILLING_CREDIT_NOTE,
        DocClass.OIOUBL_CREDIT_NOTE,
        DocClass.CII_CREDIT_NOTE,
    }
)
_SALES = _CREDITS | {
    DocClass.INVOICE,
    DocClass.EHF2_INVOICE,
    DocClass.FORWARD_BILLING_INVOICE,
    DocClass.SELF_BILLING_INVOICE,
    DocClass.OIOUBL_INVOICE,
    DocClass.CII_INVOICE,
}


_DIRECT_DEBIT_CODES = frozenset({"49", "59"})  # UNCL4461: direct debit, SEPA direct debit
_CARD_CODES = frozenset({"48", "54", "55"})  # UNCL4461: bank card, credit card, debit card


@dataclass(frozen=True)
class Envelope:
    """The SBDH around a payload: MLR/MLS refer to ``instance_id``, not to the invoice number."""

    instance_id: str | None
    sender: str | None = None  # "0192:123456785"
    receiver: str | None = None
    document_type_id: str | None = None  # DOCUMENTID scope
    process_id: str | None = None
    country_c1: str | None = None


@dataclass(frozen=True)
class Party:
    name: str | None = None
    endpoint_id: str | None = None
    endpoint_scheme: str | None = None  # EAS code: 0192 NO org, 0184 DK CVR, 0007 SE org, 0088 GLN …
    legal_id: str | None = None  # PartyLegalEntity/CompanyID (org no, BT-30/47)
    legal_scheme: str | None = None
    vat_id: str | None = None
    party_ids: tuple[str, ...] = ()
    address: tuple[str, ...] = ()
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    email: str | None = None
    trading_name: str | None = None
    phone: str | None = None  # Contact/Telephone (BT-57 for the buyer)
    contact: str | None = None  # Contact/Name (BT-56)

    @property
    def key(self) -> str | None:
        """Stable customer id: org no, else the Peppol endpoint, else the VAT id."""
        return self.legal_id or self.endpoint_id or self.vat_id

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(i for i in (self.legal_id, self.endpoint_id, self.vat_id, *self.party_ids) if i)


@dataclass(frozen=True)
class PaymentMeans:
    code: str | None
    payment_id: str | None  # KID / OCR / RF / FIK (BT-83), spaces removed
    account: str | None  # IBAN or BBAN (BT-84), spaces removed
    due_date: date | None = None  # PaymentMeans/PaymentDueDate (credit notes, EHF 2.0, OIOUBL)
    bic: str | None = None  # FinancialInstitutionBranch/ID (BT-86): BIC, DK reg.nr or SE:BANKGIRO
    mandate_id: str | None = None  # direct debit (BT-89): do not dun until the collection failed
    card: bool = False  # BG-18 CardAccount present: paid (or to be paid) by card

    @property
    def account_kind(self) -> str | None:
        """``iban`` when it starts with two letters and two digits, else ``bban``."""
        if not self.account:
            return None
        a = self.account
        return "iban" if len(a) > 4 and a[:2].isalpha() and a[2:4].isdigit() else "bban"


@dataclass(frozen=True)
class EmbeddedFile:
    filename: str
    mime_type: str
    content: bytes
    description: str | None = None


@dataclass(frozen=True)
class EDocument:
    doc_class: DocClass
    customization_id: str | None
    profile_id: str | None
    number: str
    type_code: str | None
    issue_date: date
    due_date: date | None
    currency: str
    tax_inclusive: Decimal | None
    prepaid: Decimal | None
    rounding: Decimal | None
    payable: Decimal  # BT-115: the open amount at issue, as the document states it (may be negative)
    supplier: Party
    customer: Party
    payee: Party | None = None
    payment_means: tuple[PaymentMeans, ...] = ()
    billing_refs: tuple[str, ...] = ()  # BT-25: invoices this document corrects (0..n)
    order_ref: str | None = None
    buyer_ref: str | None = None
    payment_terms: str | None = None
    # BT-72 ActualDeliveryDate, else the end of the invoicing period (BT-74): when the sale was made
    delivery_date: date | None = None
    notes: tuple[str, ...] = ()
    attachments: tuple[EmbeddedFile, ...] = ()
    sbdh_instance_id: str | None = None
    tax_exclusive: Decimal | None = None
    tax_total: Decimal | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def kid(self) -> str | None:
        for pm in self.payment_means:
            if pm.payment_id:
                return pm.payment_id
        return None

    @property
    def is_credit(self) -> bool:
        """A credit note, or a negative invoice (a correction: research §2)."""
        return self.doc_class.is_credit or self.payable < 0

    @property
    def collection_method(self) -> str | None:
        """``direct_debit`` or ``card`` when every payment means lets the creditor collect the money
        itself (UNCL4461 49/59 or a mandate; 48/54/55 or a card account); then there is nothing to
        dun until that collection fails. One ordinary transfer option among them → ``None``."""
        kinds = set()
        for pm in self.payment_means:
            if pm.mandate_id or pm.code in _DIRECT_DEBIT_CODES:
                kinds.add("direct_debit")
            elif pm.card or pm.code in _CARD_CODES:
                kinds.add("card")
            else:
                return None
        return kinds.pop() if len(kinds) == 1 else None

    @property
    def factored(self) -> bool:
        """Payable to a factoring company: type 393/396, or a payee other than the seller."""
        if self.type_code in {"393", "396"}:
            return True
        if self.payee is None:
            return False
        seller_ids = self.supplier.ids
        payee_ids = self.payee.ids
        if payee_ids and seller_ids:
            return not (payee_ids & seller_ids)
        return bool(self.payee.name and self.supplier.name and self.payee.name != self.supplier.name)


@dataclass(frozen=True)
class StatusEvent:
    """An Invoice Response (T111), MLR (T71) or MLS about a document sent earlier."""

    doc_class: DocClass  # INVOICE_RESPONSE, MLR or MLS
    response_id: str
    issue_date: date
    code: str  # UNCL4343 subset: AB IP UQ CA RE AP PD
    ref_id: str | None  # T111: the invoice number (BT-1); MLR/MLS: the SBDH InstanceIdentifier
    ref_type_code: str | None = None  # 380 invoice / 381 credit note (T111)
    ref_issue_date: date | None = None
    effective_date: date | None = None  # PD: the payment date
    reason_codes: tuple[str, ...] = ()  # OPStatusReason (T111) or SV/BV/BW/FD (MLR/MLS lines)
    action_codes: tuple[str, ...] = ()  # OPStatusAction
    texts: tuple[str, ...] = ()  # StatusReason / Description
    conditions: tuple[tuple[str, str], ...] = ()  # (BT id, corrected value), e.g. ("BT-9", "2018-01-15")
    sender: Party = field(default_factory=Party)
    receiver: Party = field(default_factory=Party)
    issuer_name: str | None = None  # the invoice's issuer (seller) as the response names it
    sbdh_instance_id: str | None = None
    issue_time: str | None = None

    @property
    def links_by_envelope(self) -> bool:
        return self.doc_class in (DocClass.MLR, DocClass.MLS)

    @property
    def new_due_date(self) -> date | None:
        """CA with a BT-9 condition: the buyer's changed due date."""
        for bt, value in self.conditions:
            if bt.upper() == "BT-9":
                try:
                    return date.fromisoformat(value.strip()[:10])
                except ValueError:
                    return None
        return None
