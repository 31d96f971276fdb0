"""Regenerate the example client's data: `python examples/generate.py`.

Nordlys Rør AS, a Norwegian plumbing company, as of Friday 2026-11-20. Each invoice shows one
situation a newcomer should see in the decision table:

  10001  Bergen Bygg AS         paid in full by KID (camt.054)            → settled, none
  10002  Tromsø Elektro AS      partly paid by KID                        → reminder (for the rest)
  10003  Stavanger Snekkeri AS  credited in full by credit note 50001     → settled, none
  10004  Bodø Bakeri AS         due 2026-12-04                            → hold: not_due
  10005  Oslo Kafé AS           21 days overdue, nothing received         → reminder
  10006  Drammen Transport AS   reminded and given an inkassovarsel       → collection_case
  10007  Hamar Hage AS          overdue but only 150 kr                   → hold: below_minimum

The files are self-made (not copies of anyone's documents); the KIDs are valid MOD10.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from stdnum import luhn

HERE = Path(__file__).resolve().parent / "nordlys"
SELLER = {"name": "Nordlys Rør AS", "org": "923456783", "street": "Sjøgata 12", "zip": "8006", "city": "Bodø"}
ACCOUNT = "15032080119"  # the seller's BBAN, 11 digits


@dataclass(frozen=True)
class Buyer:
    name: str
    org: str
    street: str
    zip: str
    city: str
    email: str


BUYERS = {
    "bergen": Buyer("Bergen Bygg AS", "934567897", "Strandkaien 4", "5013", "Bergen", "faktura@bergenbygg.example"),
    "tromso": Buyer("Tromsø Elektro AS", "945678909", "Storgata 80", "9008", "Tromsø", "post@tromsoelektro.example"),
    "stavanger": Buyer(
        "Stavanger Snekkeri AS", "978901239", "Kirkegata 3", "4006", "Stavanger", "regnskap@snekkeri.example"
    ),
    "bodo": Buyer("Bodø Bakeri AS", "989012347", "Dronningens gate 15", "8006", "Bodø", "bakeri@bodo.example"),
    "oslo": Buyer("Oslo Kafé AS", "987654325", "Markveien 35", "0554", "Oslo", "kafe@oslo.example"),
    "drammen": Buyer(
        "Drammen Transport AS", "923456791", "Havnegata 1", "3040", "Drammen", "okonomi@drammentransport.example"
    ),
    "hamar": Buyer("Hamar Hage AS", "931234560", "Torggata 9", "2317", "Hamar", "hage@hamar.example"),
}


def kid(invoice_number: str) -> str:
    body = "00" + invoice_number
    return body + luhn.calc_check_digit(body)


def party(role: str, name: str, org: str, street: str, zip_: str, city: str, email: str | None = None) -> str:
    contact = f"<cac:Contact><cbc:ElectronicMail>{email}</cbc:ElectronicMail></cac:Contact>" if email else ""
    tax = (
        f"<cac:PartyTaxScheme><cbc:CompanyID>NO{org}MVA</cbc:CompanyID>"
        f"<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>"
    )
    return f"""  <cac:{role}>
    <cac:Party>
      <cbc:EndpointID schemeID="0192">{org}</cbc:EndpointID>
      <cac:PartyName><cbc:Name>{name}</cbc:Name></cac:PartyName>
      <cac:PostalAddress>
        <cbc:StreetName>{street}</cbc:StreetName>
        <cbc:CityName>{city}</cbc:CityName>
        <cbc:PostalZone>{zip_}</cbc:PostalZone>
        <cac:Country><cbc:IdentificationCode>NO</cbc:IdentificationCode></cac:Country>
      </cac:PostalAddress>
      {tax}
      <cac:PartyLegalEntity>
        <cbc:RegistrationName>{name}</cbc:RegistrationName>
        <cbc:CompanyID schemeID="0192">{org}</cbc:CompanyID>
      </cac:PartyLegalEntity>
      {contact}
    </cac:Party>
  </cac:{role}>
"""


def pdf_bytes(title: str) -> bytes:
    """A tiny one-page PDF standing in for the invoice print (the attachment travels with cases)."""
    # the title in the font's WinAnsi encoding (æ, ø, å, é are in it), PDF string delimiters escaped
    shown = title.encode("cp1252", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    text = b"BT /F1 14 Tf 72 720 Td (" + shown + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def invoice(number: str, buyer: Buyer, issue: date, days: int, net: Decimal, *, pdf: bool = False) -> str:
    vat = (net * Decimal("0.25")).quantize(Decimal("0.01"))
    gross = net + vat
    due = issue + timedelta(days=days)
    attachment = ""
    if pdf:
        data = base64.b64encode(pdf_bytes(f"Faktura {number} - {buyer.name}")).decode()
        attachment = f"""  <cac:AdditionalDocumentReference>
    <cbc:ID>{number}</cbc:ID>
    <cbc:DocumentDescription>Faktura {number}</cbc:DocumentDescription>
    <cac:Attachment>
      <cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" filename="faktura-{number}.pdf">{data}</cbc:EmbeddedDocumentBinaryObject>
    </cac:Attachment>
  </cac:AdditionalDocumentReference>
"""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
         xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
         xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>{issue.isoformat()}</cbc:IssueDate>
  <cbc:DueDate>{due.isoformat()}</cbc:DueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>NOK</cbc:DocumentCurrencyCode>
  <cbc:BuyerReference>{buyer.org}</cbc:BuyerReference>
{attachment}{party("AccountingSupplierParty", SELLER["name"], SELLER["org"], SELLER["street"], SELLER["zip"], SELLER["city"])}{party("AccountingCustomerParty", buyer.name, buyer.org, buyer.street, buyer.zip, buyer.city, buyer.email)}  <cac:PaymentMeans>
    <cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>
    <cbc:PaymentID>{kid(number)}</cbc:PaymentID>
    <cac:PayeeFinancialAccount><cbc:ID>{ACCOUNT}</cbc:ID></cac:PayeeFinancialAccount>
  </cac:PaymentMeans>
  <cac:PaymentTerms><cbc:Note>{days} dager netto</cbc:Note></cac:PaymentTerms>
  <cac:TaxTotal>
    <cbc:TaxAmount currencyID="NOK">{vat}</cbc:TaxAmount>
    <cac:TaxSubtotal>
      <cbc:TaxableAmount currencyID="NOK">{net}</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="NOK">{vat}</cbc:TaxAmount>
      <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>25</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory>
    </cac:TaxSubtotal>
  </cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="NOK">{net}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="NOK">{net}</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="NOK">{gross}</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="NOK">{gross}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:InvoiceLine>
    <cbc:ID>1</cbc:ID>
    <cbc:InvoicedQuantity unitCode="EA">1</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="NOK">{net}</cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>Rørleggerarbeid</cbc:Name><cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>25</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="NOK">{net}</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>
</Invoice>
"""


def credit_note(number: str, credited: str, buyer: Buyer, issue: date, net: Decimal) -> str:
    vat = (net * Decimal("0.25")).quantize(Decimal("0.01"))
    gross = net + vat
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<CreditNote xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
            xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
            xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>{issue.isoformat()}</cbc:IssueDate>
  <cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>
  <cbc:Note>Kreditering av faktura {credited}: feil timeantall</cbc:Note>
  <cbc:DocumentCurrencyCode>NOK</cbc:DocumentCurrencyCode>
  <cbc:BuyerReference>{buyer.org}</cbc:BuyerReference>
  <cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{credited}</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>
{party("AccountingSupplierParty", SELLER["name"], SELLER["org"], SELLER["street"], SELLER["zip"], SELLER["city"])}{party("AccountingCustomerParty", buyer.name, buyer.org, buyer.street, buyer.zip, buyer.city, buyer.email)}  <cac:TaxTotal>
    <cbc:TaxAmount currencyID="NOK">{vat}</cbc:TaxAmount>
    <cac:TaxSubtotal>
      <cbc:TaxableAmount currencyID="NOK">{net}</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="NOK">{vat}</cbc:TaxAmount>
      <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>25</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory>
    </cac:TaxSubtotal>
  </cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="NOK">{net}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="NOK">{net}</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="NOK">{gross}</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="NOK">{gross}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:CreditNoteLine>
    <cbc:ID>1</cbc:ID>
    <cbc:CreditedQuantity unitCode="EA">1</cbc:CreditedQuantity>
    <cbc:LineExtensionAmount currencyID="NOK">{net}</cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>Rørleggerarbeid</cbc:Name><cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>25</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="NOK">{net}</cbc:PriceAmount></cac:Price>
  </cac:CreditNoteLine>
</CreditNote>
"""


def reminder(number: str, reminded: str, buyer: Buyer, issue: date, due: date, amount: Decimal, note: str) -> str:
    """An EHF Reminder 3.0 the client already sent: a dunning event, never a new receivable."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
         xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
         xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0#conformant#urn:fdc:anskaffelser.no:2019:ehf:reminder:3.0</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:anskaffelser.no:2019:ehf:postaward:g3:06:1.0</cbc:ProfileID>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>{issue.isoformat()}</cbc:IssueDate>
  <cbc:DueDate>{due.isoformat()}</cbc:DueDate>
  <cbc:Note>{note}</cbc:Note>
  <cbc:DocumentCurrencyCode>NOK</cbc:DocumentCurrencyCode>
  <cbc:BuyerReference>{buyer.org}</cbc:BuyerReference>
  <cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{reminded}</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>
{party("AccountingSupplierParty", SELLER["name"], SELLER["org"], SELLER["street"], SELLER["zip"], SELLER["city"])}{party("AccountingCustomerParty", buyer.name, buyer.org, buyer.street, buyer.zip, buyer.city, buyer.email)}  <cac:PaymentMeans>
    <cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>
    <cbc:PaymentID>{kid(reminded)}</cbc:PaymentID>
    <cac:PayeeFinancialAccount><cbc:ID>{ACCOUNT}</cbc:ID></cac:PayeeFinancialAccount>
  </cac:PaymentMeans>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="NOK">{amount}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="NOK">{amount}</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="NOK">{amount}</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="NOK">{amount}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:InvoiceLine>
    <cbc:ID>1</cbc:ID>
    <cbc:InvoicedQuantity unitCode="EA">1</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="NOK">{amount}</cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>Purring faktura {reminded}</cbc:Name><cac:ClassifiedTaxCategory><cbc:ID>O</cbc:ID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="NOK">{amount}</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>
</Invoice>
"""


def camt054(created: str, entries: list[tuple[str, Decimal, date, str, str, str]]) -> str:
    """A Norwegian-shaped camt.054.001.02 credit notification: KID as SCOR, BBAN account."""
    total = sum((e[1] for e in entries), Decimal("0"))
    ntry = []
    for ref, amount, booked, kid_, payer, payer_acct in entries:
        ntry.append(f"""      <Ntry>
        <Amt Ccy="NOK">{amount}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>{booked.isoformat()}</Dt></BookgDt>
        <ValDt><Dt>{booked.isoformat()}</Dt></ValDt>
        <AcctSvcrRef>{ref}</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls>
          <TxDtls>
            <Refs><AcctSvcrRef>{ref}</AcctSvcrRef></Refs>
            <AmtDtls><TxAmt><Amt Ccy="NOK">{amount}</Amt></TxAmt></AmtDtls>
            <RltdPties>
              <Dbtr><Nm>{payer}</Nm></Dbtr>
              <DbtrAcct><Id><Othr><Id>{payer_acct}</Id><SchmeNm><Cd>BBAN</Cd></SchmeNm></Othr></Id></DbtrAcct>
            </RltdPties>
            <RmtInf>
              <Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{kid_}</Ref></CdtrRefInf></Strd>
            </RmtInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>
""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr>
      <MsgId>NORDLYS-{created[:10]}</MsgId>
      <CreDtTm>{created}</CreDtTm>
    </GrpHdr>
    <Ntfctn>
      <Id>NTF-{created[:10]}</Id>
      <CreDtTm>{created}</CreDtTm>
      <Acct><Id><Othr><Id>{ACCOUNT}</Id><SchmeNm><Cd>BBAN</Cd></SchmeNm></Othr></Id><Ccy>NOK</Ccy></Acct>
      <TxsSummry><TtlCdtNtries><NbOfNtries>{len(entries)}</NbOfNtries><Sum>{total}</Sum></TtlCdtNtries></TxsSummry>
{"".join(ntry)}    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>
"""


def main() -> None:
    ehf, bank = HERE / "ehf", HERE / "bank"
    ehf.mkdir(parents=True, exist_ok=True)
    bank.mkdir(parents=True, exist_ok=True)
    b = BUYERS
    docs = {
        "10001-bergen-bygg.xml": invoice("10001", b["bergen"], date(2026, 10, 19), 14, Decimal("10000.00")),
        "10002-tromso-elektro.xml": invoice("10002", b["tromso"], date(2026, 10, 12), 14, Decimal("7000.00")),
        "10003-stavanger-snekkeri.xml": invoice("10003", b["stavanger"], date(2026, 10, 22), 14, Decimal("3200.00")),
        "50001-kreditnota-10003.xml": credit_note(
            "50001", "10003", b["stavanger"], date(2026, 10, 29), Decimal("3200.00")
        ),
        "10004-bodo-bakeri.xml": invoice("10004", b["bodo"], date(2026, 11, 20), 14, Decimal("1840.00")),
        "10005-oslo-kafe.xml": invoice("10005", b["oslo"], date(2026, 10, 16), 14, Decimal("4960.00")),
        "10006-drammen-transport.xml": invoice(
            "10006", b["drammen"], date(2026, 8, 14), 14, Decimal("12000.00"), pdf=True
        ),
        "10006-purring-1.xml": reminder(
            "P-10006-1",
            "10006",
            b["drammen"],
            date(2026, 9, 14),
            date(2026, 9, 28),
            Decimal("15000.00"),
            "Betalingspåminnelse for faktura 10006",
        ),
        "10006-inkassovarsel.xml": reminder(
            "P-10006-2",
            "10006",
            b["drammen"],
            date(2026, 10, 5),
            date(2026, 10, 19),
            Decimal("15000.00"),
            "Inkassovarsel for faktura 10006: betal innen 14 dager",
        ),
        "10007-hamar-hage.xml": invoice("10007", b["hamar"], date(2026, 9, 15), 14, Decimal("120.00")),
    }
    for name, text in docs.items():
        (ehf / name).write_text(text, encoding="utf-8")
    payments = [
        ("NO-ARK-20261102-0001", Decimal("12500.00"), date(2026, 11, 2), kid("10001"), "Bergen Bygg AS", "52010612345"),
        (
            "NO-ARK-20261028-0007",
            Decimal("5000.00"),
            date(2026, 10, 28),
            kid("10002"),
            "Tromsø Elektro AS",
            "97100514321",
        ),
    ]
    (bank / "camt054-2026-11-20.xml").write_text(camt054("2026-11-20T06:15:00", payments), encoding="utf-8")


if __name__ == "__main__":
    main()
