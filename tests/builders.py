"""Small builders for test inputs: EHF (UBL) invoices and credit notes, camt files, config TOML, and
``Workspace`` (a config file plus per-client folders in tmp_path, driven through the real CLI).

They write what the real sources read, so tests exercise the same path as a user's folders. Tests
import helpers from here, never from ``conftest`` (every folder's conftest.py shares that name).
"""

from __future__ import annotations

import base64
import copy
import io
import json
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import func, select
from stdnum import luhn

from connector import config as config_mod
from connector.cli import main
from connector.references import mod11_check
from connector.store import Store, schema

SELLER_ORG = "923456783"
# A valid organisation number per country (check digits pass): a client's org no is checked for its country.
VALID_ORG_NO = {"NO": "923456783", "DK": "12345674", "SE": "5560360793"}
ACCOUNT = "15032080119"

_UBL_NS = (
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"'
)
_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
_PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


def kid(number: str) -> str:
    """A valid MOD10 KID for an invoice number."""
    body = "00" + number
    return body + luhn.calc_check_digit(body)


def bad_kid(number: str) -> str:
    """The same body with a check digit that passes neither MOD10 nor MOD11 (a mistyped KID)."""
    body = "00" + number
    for digit in "0123456789":
        candidate = body + digit
        if not luhn.is_valid(candidate) and mod11_check(body) != digit:
            return candidate
    raise AssertionError("no invalid check digit found")  # pragma: no cover


def _party(role: str, name: str, org: str, contact: str = "") -> str:
    return f"""  <cac:{role}>
    <cac:Party>
      <cbc:EndpointID schemeID="0192">{org}</cbc:EndpointID>
      <cac:PartyName><cbc:Name>{name}</cbc:Name></cac:PartyName>
      <cac:PostalAddress>
        <cbc:StreetName>Storgata 1</cbc:StreetName>
        <cbc:CityName>Oslo</cbc:CityName>
        <cbc:PostalZone>0155</cbc:PostalZone>
        <cac:Country><cbc:IdentificationCode>NO</cbc:IdentificationCode></cac:Country>
      </cac:PostalAddress>
      <cac:PartyLegalEntity>
        <cbc:RegistrationName>{name}</cbc:RegistrationName>
        <cbc:CompanyID schemeID="0192">{org}</cbc:CompanyID>
      </cac:PartyLegalEntity>{contact}
    </cac:Party>
  </cac:{role}>
"""


def _contact(name: str | None, phone: str | None) -> str:
    if not name and not phone:
        return ""
    inner = (f"<cbc:Name>{name}</cbc:Name>" if name else "") + (
        f"<cbc:Telephone>{phone}</cbc:Telephone>" if phone else ""
    )
    return f"\n      <cac:Contact>{inner}</cac:Contact>"


def _totals(amount: Decimal, currency: str) -> str:
    return f"""  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="{currency}">{amount}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="{currency}">{amount}</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="{currency}">{amount}</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="{currency}">{amount}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
"""


def ubl_invoice(
    number: str,
    *,
    customer: str = "Kunde AS",
    org: str = "934567897",
    issue: date,
    due: date | None,
    amount: Decimal | str,
    currency: str = "NOK",
    kid_value: str | None = "auto",
    pdf: bytes | None = None,
    seller_org: str = SELLER_ORG,
    phone: str | None = None,
    contact: str | None = None,
) -> str:
    """A Peppol BIS 3 invoice; ``kid_value="auto"`` puts a valid KID in PaymentID, None leaves it out;
    ``phone`` / ``contact``: the buyer's contact (BT-57 / BT-56)."""
    payment_id = kid(number) if kid_value == "auto" else kid_value
    means = ""
    if payment_id is not None:
        means = f"""  <cac:PaymentMeans>
    <cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>
    <cbc:PaymentID>{payment_id}</cbc:PaymentID>
    <cac:PayeeFinancialAccount><cbc:ID>{ACCOUNT}</cbc:ID></cac:PayeeFinancialAccount>
  </cac:PaymentMeans>
"""
    attachment = ""
    if pdf is not None:
        data = base64.b64encode(pdf).decode()
        obj = f'mimeCode="application/pdf" filename="faktura-{number}.pdf"'
        attachment = f"""  <cac:AdditionalDocumentReference>
    <cbc:ID>{number}</cbc:ID>
    <cac:Attachment>
      <cbc:EmbeddedDocumentBinaryObject {obj}>{data}</cbc:EmbeddedDocumentBinaryObject>
    </cac:Attachment>
  </cac:AdditionalDocumentReference>
"""
    due_line = f"  <cbc:DueDate>{due.isoformat()}</cbc:DueDate>\n" if due else ""
    return (
        f"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" {_UBL_NS}>
  <cbc:CustomizationID>{_CUSTOMIZATION}</cbc:CustomizationID>
  <cbc:ProfileID>{_PROFILE}</cbc:ProfileID>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>{issue.isoformat()}</cbc:IssueDate>
{due_line}  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>{currency}</cbc:DocumentCurrencyCode>
  <cbc:BuyerReference>{org}</cbc:BuyerReference>
{attachment}"""
        + _party("AccountingSupplierParty", "Selger AS", seller_org)
        + _party("AccountingCustomerParty", customer, org, _contact(contact, phone))
        + means
        + _totals(Decimal(amount), currency)
        + "</Invoice>\n"
    )


def ubl_credit_note(
    number: str,
    credits: str,
    *,
    customer: str = "Kunde AS",
    org: str = "934567897",
    issue: date,
    amount: Decimal | str,
    currency: str = "NOK",
    seller_org: str = SELLER_ORG,
) -> str:
    """A Peppol BIS 3 credit note naming the invoice it credits in BillingReference."""
    return (
        f"""<?xml version="1.0" encoding="UTF-8"?>
<CreditNote xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2" {_UBL_NS}>
  <cbc:CustomizationID>{_CUSTOMIZATION}</cbc:CustomizationID>
  <cbc:ProfileID>{_PROFILE}</cbc:ProfileID>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>{issue.isoformat()}</cbc:IssueDate>
  <cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>
  <cbc:DocumentCurrencyCode>{currency}</cbc:DocumentCurrencyCode>
  <cbc:BuyerReference>{org}</cbc:BuyerReference>
  <cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{credits}</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>
"""
        + _party("AccountingSupplierParty", "Selger AS", seller_org)
        + _party("AccountingCustomerParty", customer, org)
        + _totals(Decimal(amount), currency)
        + "</CreditNote>\n"
    )


def ubl_reminder(
    number: str,
    reminds: str,
    *,
    note: str,
    customer: str = "Kunde AS",
    org: str = "934567897",
    issue: date,
    due: date,
    amount: Decimal | str,
    currency: str = "NOK",
    seller_org: str = SELLER_ORG,
) -> str:
    """An EHF Reminder 3.0 the client sent for invoice ``reminds`` (a dunning step, never a receivable);
    ``note`` is its text, which says whether it is a collection notice."""
    return (
        f"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" {_UBL_NS}>
  <cbc:CustomizationID>{_CUSTOMIZATION}#conformant#urn:fdc:anskaffelser.no:2019:ehf:reminder:3.0</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:anskaffelser.no:2019:ehf:postaward:g3:06:1.0</cbc:ProfileID>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>{issue.isoformat()}</cbc:IssueDate>
  <cbc:DueDate>{due.isoformat()}</cbc:DueDate>
  <cbc:Note>{note}</cbc:Note>
  <cbc:DocumentCurrencyCode>{currency}</cbc:DocumentCurrencyCode>
  <cbc:BuyerReference>{org}</cbc:BuyerReference>
  <cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{reminds}</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>
"""
        + _party("AccountingSupplierParty", "Selger AS", seller_org)
        + _party("AccountingCustomerParty", customer, org)
        + _totals(Decimal(amount), currency)
        + "</Invoice>\n"
    )


@dataclass(frozen=True)
class Entry:
    """One credit entry of a camt file."""

    ref: str  # AcctSvcrRef: the bank's own reference (part of the payment's natural key)
    amount: Decimal | str
    booked: date
    kid: str | None = None
    payer: str = "Kunde AS"
    currency: str = "NOK"
    status: str = "BOOK"
    text: str = ""  # the payer's message (RmtInf/Ustrd)


_CAMT = {
    "camt.052": ("BkToCstmrAcctRpt", "Rpt", "001.02"),
    "camt.053": ("BkToCstmrStmt", "Stmt", "001.02"),
    "camt.054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn", "001.02"),
}


def camt(
    entries: Sequence[Entry], *, created: date | datetime, message: str = "camt.054", account: str = ACCOUNT
) -> str:
    """A Norwegian-shaped camt.052/053/054 with the KID as SCOR in CdtrRefInf/Ref; the creditor ``account`` as
    a BBAN, or as an IBAN when it starts with the country code (as some banks write it)."""
    root, report, version = _CAMT[message]
    acct = (
        f"<IBAN>{account}</IBAN>"
        if account[:2].isalpha()
        else f"<Othr><Id>{account}</Id><SchmeNm><Cd>BBAN</Cd></SchmeNm></Othr>"
    )
    stamp = created.isoformat() if isinstance(created, datetime) else f"{created.isoformat()}T06:00:00"
    body = []
    for e in entries:
        strd = ""
        if e.kid:
            strd = (
                f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{e.kid}</Ref></CdtrRefInf></Strd>"
            )
        if e.text:
            strd = f"<Ustrd>{e.text}</Ustrd>{strd}"
        strd = f"<RmtInf>{strd}</RmtInf>" if strd else ""
        body.append(f"""      <Ntry>
        <Amt Ccy="{e.currency}">{e.amount}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>{e.status}</Sts>
        <BookgDt><Dt>{e.booked.isoformat()}</Dt></BookgDt>
        <ValDt><Dt>{e.booked.isoformat()}</Dt></ValDt>
        <AcctSvcrRef>{e.ref}</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <Refs><AcctSvcrRef>{e.ref}</AcctSvcrRef></Refs>
          <AmtDtls><TxAmt><Amt Ccy="{e.currency}">{e.amount}</Amt></TxAmt></AmtDtls>
          <RltdPties><Dbtr><Nm>{e.payer}</Nm></Dbtr></RltdPties>
          {strd}
        </TxDtls></NtryDtls>
      </Ntry>
""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{message}.{version}">
  <{root}>
    <GrpHdr><MsgId>MSG-{message}-{stamp}</MsgId><CreDtTm>{stamp}</CreDtTm></GrpHdr>
    <{report}>
      <Id>{message}-{stamp}</Id>
      <CreDtTm>{stamp}</CreDtTm>
      <Acct><Id>{acct}</Id><Ccy>NOK</Ccy></Acct>
{"".join(body)}    </{report}>
  </{root}>
</Document>
"""


def pdf_text(pdf: bytes) -> str:
    """The text of every page of a PDF (pypdf), whitespace runs and no-break spaces made one plain space and
    the minus sign a hyphen, so tests can look for "1 000,00" or "-1 000,00"."""
    import io
    import re

    from pypdf import PdfReader

    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u2212", "-")).strip()


def real_pdf(title: str = "Faktura") -> bytes:
    """A real one-page PDF (pypdf can read it): an invoice copy that is attached to a letter."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_bytes(title: str = "Faktura") -> bytes:
    """Not a full PDF; enough for an attachment that must travel byte for byte."""
    return b"%PDF-1.4\n% " + title.encode() + b"\n%%EOF\n"


# ---- TOML -------------------------------------------------------------------------------------------


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float | Decimal):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def _is_table_list(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, Mapping) for x in v)


def _emit(table: Mapping[str, Any], prefix: str, out: list[str]) -> None:
    for k, v in table.items():
        if not isinstance(v, Mapping) and not _is_table_list(v):
            out.append(f"{k} = {_value(v)}")
    for k, v in table.items():
        name = f"{prefix}.{k}" if prefix else k
        if isinstance(v, Mapping):
            out.append(f"\n[{name}]")
            _emit(v, name, out)
        elif _is_table_list(v):
            for item in v:
                out.append(f"\n[[{name}]]")
                _emit(item, name, out)


def to_toml(doc: Mapping[str, Any]) -> str:
    """Enough TOML for arsync configs: scalars, lists, tables and arrays of tables."""
    out: list[str] = []
    _emit(doc, "", out)
    return "\n".join(out).lstrip("\n") + "\n"


# ---- a workspace: config file + folders --------------------------------------------------------


def client_table(client_id: str = "acme", **overrides: Any) -> dict[str, Any]:
    """A valid [[clients]] table with folders under ``clients/<id>/`` (relative to the config file)."""
    base = f"clients/{client_id}"
    table: dict[str, Any] = {
        "id": client_id,
        "name": f"{client_id.title()} AS",
        "org_no": "923456783",
        "country": "NO",
        "currency": "NOK",
        "ledger": {"kind": "ehf", "path": f"{base}/ehf"},
        "bank": [{"kind": "camt", "path": f"{base}/bank"}],
        "policy": {"grace_days": 3, "min_amount": 100, "bank_max_age_days": 3, "auto_approve": False},
        "reminders": {"channel": "outbox", "path": f"{base}/outbox/reminders"},
        "collection": {"provider": "outbox", "path": f"{base}/outbox/cases"},
        # the letterhead and the account letters ask to be paid to (issue 15)
        "creditor": {
            "address_lines": ["Storgata 1"],
            "postal_code": "0155",
            "city": "Oslo",
            "bank_account": ACCOUNT,
            "contact_email": f"post@{client_id}.example",
            "contact_phone": "+47 22 00 00 00",
        },
    }
    if "org_no" not in overrides and overrides.get("country") in VALID_ORG_NO:
        table["org_no"] = VALID_ORG_NO[overrides["country"]]  # the org no is checked for its country
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(table.get(key), dict):
            table[key] = {**table[key], **value}
        else:
            table[key] = value
    return table


class Workspace:
    """One config file and, per client, an EHF folder, a bank folder and outbox folders."""

    def __init__(self, root: Path):
        self.root = root
        self.config_path = root / "arsync.toml"
        self.clients: list[dict[str, Any]] = []
        self._store: Store | None = None

    # ---- config -------------------------------------------------------------------------------

    def write_config(self, *clients: dict[str, Any], store_url: str = "sqlite:///state/arsync.db") -> Path:
        self.clients = [copy.deepcopy(c) for c in (clients or (client_table(),))]
        for c in self.clients:
            (self.root / c["ledger"]["path"]).mkdir(parents=True, exist_ok=True)
            for b in c.get("bank", []):
                (self.root / b["path"]).mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(to_toml({"store": {"url": store_url}, "clients": self.clients}), encoding="utf-8")
        return self.config_path

    def settings(self) -> config_mod.Settings:
        return config_mod.load(self.config_path)

    def client(self, client_id: str = "acme") -> config_mod.ClientConfig:
        return self.settings().client(client_id)

    # ---- folders ------------------------------------------------------------------------------

    def ehf_dir(self, client_id: str = "acme") -> Path:
        return self.root / "clients" / client_id / "ehf"

    def bank_dir(self, client_id: str = "acme") -> Path:
        return self.root / "clients" / client_id / "bank"

    def reminders_dir(self, client_id: str = "acme") -> Path:
        return self.root / "clients" / client_id / "outbox" / "reminders"

    def post_letters(self, client_id: str = "acme") -> None:
        """The accountant posts every letter in the outbox: its PDF moves into ``posted/``."""
        folder = self.reminders_dir(client_id)
        pdfs = list(folder.glob("*.pdf"))  # (none before the first letter, nor a folder)
        if pdfs:
            (folder / "posted").mkdir(exist_ok=True)
        for pdf in pdfs:
            pdf.rename(folder / "posted" / pdf.name)

    def cases_dir(self, client_id: str = "acme") -> Path:
        return self.root / "clients" / client_id / "outbox" / "cases"

    def add_invoice(self, number: str, *, client_id: str = "acme", **kwargs: Any) -> Path:
        path = self.ehf_dir(client_id) / f"{number}.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("seller_org", self._org_no(client_id))
        path.write_text(ubl_invoice(number, **kwargs), encoding="utf-8")
        return path

    def add_credit_note(self, number: str, credits: str, *, client_id: str = "acme", **kwargs: Any) -> Path:
        path = self.ehf_dir(client_id) / f"{number}.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("seller_org", self._org_no(client_id))
        path.write_text(ubl_credit_note(number, credits, **kwargs), encoding="utf-8")
        return path

    def _org_no(self, client_id: str) -> str:
        """The client's org no: its documents are issued by it (another seller's are refused)."""
        table = next((c for c in self.clients if c["id"] == client_id), None)
        return str(table["org_no"]) if table else SELLER_ORG

    def add_bank_file(
        self,
        name: str,
        entries: Sequence[Entry] = (),
        *,
        created: date | datetime,
        message: str = "camt.054",
        client_id: str = "acme",
        account: str = ACCOUNT,
    ) -> Path:
        path = self.bank_dir(client_id) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(camt(entries, created=created, message=message, account=account), encoding="utf-8")
        return path

    def bank_heartbeat(self, day: date, client_id: str = "acme") -> Path:
        """The bank's daily notification with nothing in it: proves bank data is fresh as of ``day``."""
        return self.add_bank_file(f"camt054-{day.isoformat()}-empty.xml", created=day, client_id=client_id)

    # ---- running ------------------------------------------------------------------------------

    def cli(self, *args: str, config: bool = True) -> Result:
        argv = (["--config", str(self.config_path)] if config else []) + list(args)
        return CliRunner().invoke(main, argv, catch_exceptions=False)

    def reconcile_json(self, as_of: date, *extra: str) -> tuple[Result, dict[str, Any]]:
        result = self.cli("reconcile", "--as-of", as_of.isoformat(), "--json", *extra)
        return result, json.loads(result.stdout)

    def items(self, as_of: date, *extra: str) -> dict[str, dict[str, Any]]:
        result, payload = self.reconcile_json(as_of, *extra)
        assert result.exit_code == 0, result.output
        return {i["invoice"]: i for i in payload["items"]}

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.settings().store.url)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

    def row_counts(self) -> dict[str, int]:
        with self.store.connect() as conn:
            count = select(func.count())
            return {t.name: conn.execute(count.select_from(t)).scalar_one() for t in schema.metadata.sorted_tables}

    def outbox_files(self, folder: Path) -> list[str]:
        return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []

    # ---- letters (issue 15) -------------------------------------------------------------------------

    def letter_records(self, client_id: str = "acme") -> list[Any]:
        """Every letter the store knows for the client (connector.store.letters.LetterRecord), oldest first."""
        from connector.store import letters as book

        return self.store.read(book.load, client_id)

    def letters(self, client_id: str = "acme", kinds: Sequence[str] = ("reminder", "collection_notice")) -> list[str]:
        """One name per invoice a letter of these kinds named (sent, or may have been): client--invoice--kind--day."""
        return sorted(
            f"{r.client_id}--{n}--{r.kind}--{r.sent_on.isoformat()}"
            for r in self.letter_records(client_id)
            if r.status in ("sent", "unconfirmed") and r.kind in kinds
            for n in r.invoices
        )

    def letter_record(self, number: str, kind: str, day: date, client_id: str = "acme") -> Any:
        [record] = [
            r
            for r in self.letter_records(client_id)
            if number in r.invoices and r.kind == kind and r.sent_on == day and r.status in ("sent", "unconfirmed")
        ]
        return record

    def letter_pdf(self, number: str, kind: str, day: date, client_id: str = "acme") -> Path:
        """The outbox PDF of the letter of ``kind`` sent on ``day`` that names invoice ``number`` (in ``posted/``
        once posted)."""
        name = f"{self.letter_record(number, kind, day, client_id).stem}.pdf"
        posted = self.reminders_dir(client_id) / "posted" / name
        return posted if posted.is_file() else self.reminders_dir(client_id) / name

    def letter_text(self, number: str, kind: str, day: date, client_id: str = "acme") -> str:
        """That letter's text as a reader gets it from the PDF (spaces normalised, no-break spaces plain)."""
        return pdf_text(self.letter_pdf(number, kind, day, client_id).read_bytes())


def wait_for_no_other_threads(timeout: float = 10.0) -> None:
    """Let threads an earlier test left behind end (a fake server's request threads finish a keep-alive
    connection): tests of forking need a process whose only threads are their own."""
    deadline = time.monotonic() + timeout
    while threading.active_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert threading.active_count() == 1, f"threads still running: {threading.enumerate()}"


# ---- drop-folder files on disk -----------------------------------------------------------------


def arrived_long_ago(*paths: Path) -> None:
    """Give files an mtime an hour back, as files that arrived before the evening's run: outside the window
    in which a file just written is not trusted by its stat (connector.sources.known.RACY_NS)."""
    then = time.time_ns() - 3600 * 10**9
    for path in paths:
        os.utime(path, ns=(then, then), follow_symlinks=False)


class FilesOpened:
    """Every file opened (``os.open`` and ``io.open``, what the folder sources read with) while installed:
    ``in_folder`` names those of one folder, ``clear`` forgets them."""

    def __init__(self, monkeypatch: Any):
        self.paths: list[str] = []
        real_os_open, real_io_open = os.open, io.open

        def os_open(path: Any, *args: Any, **kwargs: Any) -> int:
            self.paths.append(os.path.abspath(os.fspath(path)))
            return real_os_open(path, *args, **kwargs)

        def io_open(file: Any, *args: Any, **kwargs: Any) -> Any:
            if not isinstance(file, int):
                self.paths.append(os.path.abspath(os.fspath(file)))
            return real_io_open(file, *args, **kwargs)

        monkeypatch.setattr(os, "open", os_open)
        monkeypatch.setattr(io, "open", io_open)

    def in_folder(self, folder: Path) -> list[str]:
        roots = {os.path.abspath(folder), os.path.realpath(folder)}
        return sorted({os.path.basename(p) for p in self.paths if os.path.dirname(p) in roots})

    def clear(self) -> None:
        self.paths.clear()
