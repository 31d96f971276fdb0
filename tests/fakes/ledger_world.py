"""One realistic customer ledger, in canonical terms, that every fake accounting system renders in
its own wire format (and that renders as EHF/UBL for the equivalence test)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

_ids = itertools.count(5000)


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Cust:
    number: int
    name: str
    org_no: str
    email: str
    id: int = field(default_factory=lambda: next(_ids))
    modified: datetime = field(default_factory=lambda: now() - timedelta(days=30))
    inactive: bool = False  # Tripletex leaves these out of GET /customer unless asked (isInactive=true)
    country: str = "NO"
    phone: str | None = None
    person: bool = False  # a private person: first and last name, no organisation number


@dataclass
class Doc:
    number: int
    kind: str  # "invoice" | "credit_note"
    customer: Cust
    issue: date
    due: date
    amount: Decimal
    kid: str | None = None
    credits: int | None = None  # number of the invoice a credit note corrects
    open: Decimal = Decimal("0")  # outstanding principal, positive (credit notes: unapplied part)
    deleted: bool = False
    id: int = field(default_factory=lambda: next(_ids))
    modified: datetime = field(default_factory=lambda: now() - timedelta(days=30))
    balance_modified: datetime = field(default_factory=lambda: now() - timedelta(days=30))
    currency: str = "NOK"  # amount and open are in this currency
    rate: Decimal = Decimal("1")  # NOK per unit of ``currency`` (the client's books are in NOK)


@dataclass
class Pay:
    doc: Doc
    on: date
    amount: Decimal  # in the invoice's currency
    id: int = field(default_factory=lambda: next(_ids))
    modified: datetime = field(default_factory=lambda: now() - timedelta(days=30))
    manual: bool = False  # registered by hand: Tripletex gives its posting no type (null)


@dataclass
class World:
    customers: list[Cust] = field(default_factory=list)
    docs: list[Doc] = field(default_factory=list)
    payments: list[Pay] = field(default_factory=list)

    def doc(self, number: int, kind: str = "invoice") -> Doc:
        return next(d for d in self.docs if d.number == number and d.kind == kind)

    def live_docs(self) -> list[Doc]:
        return [d for d in self.docs if not d.deleted]

    def pays_of(self, d: Doc) -> list[Pay]:
        return [p for p in self.payments if p.doc is d]

    # ---- changes a nightly run must pick up -----------------------------------------------------

    def pay(self, number: int, amount: Decimal, on: date, manual: bool = False) -> Pay:
        d = self.doc(number)
        p = Pay(d, on, amount, modified=now(), manual=manual)
        self.payments.append(p)
        d.open -= amount
        d.balance_modified = now()
        return p

    def add_invoice(
        self,
        number: int,
        cust: Cust,
        issue: date,
        amount: Decimal,
        kid: str | None = None,
        currency: str = "NOK",
        rate: Decimal = Decimal("1"),
    ) -> Doc:
        due = issue + timedelta(days=14)
        d = Doc(
            number, "invoice", cust, issue, due, amount, kid, open=amount, modified=now(), currency=currency, rate=rate
        )
        d.balance_modified = now()
        self.docs.append(d)
        return d

    def credit(self, number: int, target: int, issue: date) -> Doc:
        t = self.doc(target)
        d = Doc(
            number, "credit_note", t.customer, issue, issue, t.open, credits=target, modified=now(), currency=t.currency
        )
        d.rate = t.rate
        d.balance_modified = now()
        t.open = Decimal("0")
        t.balance_modified = now()
        self.docs.append(d)
        return d

    def credit_customer(self, number: int, cust: Cust, issue: date, amount: Decimal) -> Doc:
        """A credit note of no invoice: the customer's credit (unapplied)."""
        d = Doc(number, "credit_note", cust, issue, issue, amount, open=amount, modified=now())
        d.balance_modified = now()
        self.docs.append(d)
        return d


def realistic() -> World:
    """Open, partly paid, settled and credited invoices for two customers (amounts in NOK)."""
    w = World()
    c1 = Cust(10017, "Fjordkraft Bygg AS", "913312465", "faktura@fjordkraft.example")
    c2 = Cust(10018, "Nordlys Regnskap AS", "923456783", "post@nordlys.example")
    w.customers += [c1, c2]
    d = Decimal
    inv = [
        Doc(10042, "invoice", c1, date(2026, 5, 2), date(2026, 5, 16), d("12500.00"), "0001004237", open=d("12500.00")),
        Doc(10043, "invoice", c1, date(2026, 6, 1), date(2026, 6, 15), d("3000.00"), "0001004369", open=d("3000.00")),
        Doc(10044, "invoice", c2, date(2026, 7, 1), date(2026, 7, 15), d("4000.00"), "0001004443", open=d("4000.00")),
        Doc(10045, "invoice", c2, date(2026, 8, 1), date(2026, 8, 15), d("8750.50"), "0001004559", open=d("8750.50")),
    ]
    w.docs += inv
    for number, amount, on in ((10042, "7500.00", date(2026, 5, 15)), (10043, "3000.00", date(2026, 6, 10))):
        doc = w.doc(number)
        w.payments.append(Pay(doc, on, d(amount)))
        doc.open -= d(amount)
    note = Doc(10051, "credit_note", c2, date(2026, 7, 5), date(2026, 7, 5), d("4000.00"), credits=10044)
    w.docs.append(note)
    w.doc(10044).open = d("0")
    return w


def bulk(n_invoices: int, n_customers: int = 50, seed: int = 1) -> World:
    """A big ledger for the benchmark: every third invoice open, every fifth partly paid."""
    w = World()
    w.customers = [Cust(20000 + i, f"Kunde {i} AS", f"9{i:08d}", f"k{i}@example.no") for i in range(n_customers)]
    start = date(2025, 1, 1)
    for i in range(n_invoices):
        amount = Decimal(1000 + (i * 37 + seed) % 9000) + Decimal("0.50")
        doc = Doc(
            30000 + i,
            "invoice",
            w.customers[i % n_customers],
            start + timedelta(days=i % 600),
            start + timedelta(days=i % 600 + 14),
            amount,
            None,
            open=amount,
        )
        w.docs.append(doc)
        if i % 3:
            paid = amount if i % 5 else amount / 2
            w.payments.append(Pay(doc, doc.due, paid))
            doc.open -= paid
    return w


# ---- EHF rendering (the equivalence test) --------------------------------------------------------

_NS = (
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"'
)


def _party(tag: str, name: str, org: str) -> str:
    return (
        f'<cac:{tag}><cac:Party><cbc:EndpointID schemeID="0192">{org}</cbc:EndpointID>'
        f"<cac:PartyName><cbc:Name>{name}</cbc:Name></cac:PartyName>"
        "<cac:PostalAddress><cac:Country><cbc:IdentificationCode>NO</cbc:IdentificationCode></cac:Country>"
        f"</cac:PostalAddress><cac:PartyLegalEntity><cbc:RegistrationName>{name}</cbc:RegistrationName>"
        f'<cbc:CompanyID schemeID="0192">{org}</cbc:CompanyID></cac:PartyLegalEntity></cac:Party></cac:{tag}>'
    )


def ubl(d: Doc, seller: str = "Nordlys Rør AS", seller_org: str = "923456783") -> str:
    root = "Invoice" if d.kind == "invoice" else "CreditNote"
    amount = f"{d.amount:.2f}"
    head = f"<cbc:IssueDate>{d.issue}</cbc:IssueDate>"
    if d.kind == "invoice":
        head += f"<cbc:DueDate>{d.due}</cbc:DueDate><cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>"
    else:
        head += "<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"
    ref = ""
    if d.credits:
        ref = f"<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{d.credits}</cbc:ID>"
        ref += "</cac:InvoiceDocumentReference></cac:BillingReference>"
    pay = ""
    if d.kid:
        pay = f"<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode><cbc:PaymentID>{d.kid}</cbc:PaymentID>"
        pay += "<cac:PayeeFinancialAccount><cbc:ID>15032080119</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>"
    line = "InvoiceLine" if d.kind == "invoice" else "CreditNoteLine"
    qty = "InvoicedQuantity" if d.kind == "invoice" else "CreditedQuantity"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2" '
        f"{_NS}><cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
        "</cbc:CustomizationID><cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>"
        f"<cbc:ID>{d.number}</cbc:ID>{head}<cbc:DocumentCurrencyCode>NOK</cbc:DocumentCurrencyCode>"
        f"<cbc:BuyerReference>{d.customer.org_no}</cbc:BuyerReference>{ref}"
        f"{_party('AccountingSupplierParty', seller, seller_org)}"
        f"{_party('AccountingCustomerParty', d.customer.name, d.customer.org_no)}{pay}"
        f'<cac:TaxTotal><cbc:TaxAmount currencyID="NOK">0.00</cbc:TaxAmount></cac:TaxTotal>'
        f'<cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID="NOK">{amount}</cbc:LineExtensionAmount>'
        f'<cbc:TaxExclusiveAmount currencyID="NOK">{amount}</cbc:TaxExclusiveAmount>'
        f'<cbc:TaxInclusiveAmount currencyID="NOK">{amount}</cbc:TaxInclusiveAmount>'
        f'<cbc:PayableAmount currencyID="NOK">{amount}</cbc:PayableAmount></cac:LegalMonetaryTotal>'
        f'<cac:{line}><cbc:ID>1</cbc:ID><cbc:{qty} unitCode="EA">1</cbc:{qty}>'
        f'<cbc:LineExtensionAmount currencyID="NOK">{amount}</cbc:LineExtensionAmount>'
        "<cac:Item><cbc:Name>Arbeid</cbc:Name><cac:ClassifiedTaxCategory><cbc:ID>Z</cbc:ID><cbc:Percent>0</cbc:Percent>"
        "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>"
        f'<cac:Price><cbc:PriceAmount currencyID="NOK">{amount}</cbc:PriceAmount></cac:Price></cac:{line}></{root}>'
    )
