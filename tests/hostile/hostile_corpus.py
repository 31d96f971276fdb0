"""The hostile-input corpus (issue 13): every case is generated here, nothing is copied from elsewhere.

Each class is a function returning its cases; ``CLASSES`` counts them (``test_hostile_corpus.py``
checks the counts and that every case is distinct). What each class does to arsync:

- ``env_secrets``: a token pasted where a variable name belongs (every ``*_env`` key) — the config
  error must name the key and never show the value.
- ``servers``: HTTP servers on 127.0.0.1 that hang, answer late, trickle the body a byte at a time,
  or answer 429 with ``Retry-After`` as seconds or as an HTTP date.
- ``ocr_truncated``: a valid Nets OCR transmission cut after every record and inside records.
- ``ocr_bad_totals``: the same transmission with an end record whose count or sum does not add up.
- ``absurd_amounts``: amounts that are not finite, beyond the limit, or finer than the currency's
  minor unit, for camt, UBL and CII (and amounts that look odd but are right); OCR amounts are
  whole øre, so only an OCR amount's size is tried (test_hostile_bank).
- ``links``: drop-folder entries that are links leaving the folder, and links that stay inside.
- ``camt_huge_entry``: one camt entry with very many transaction details (size chosen by the caller).
- ``endless_pages``: an accounting system's invoice list that never ends (the same page for ever, the
  list claiming more), that repeats a page, or that answers an empty page in the middle — for each of
  Tripletex, Fiken, PowerOffice and e-conomic (the fakes of ``tests/fakes/ledgers.py`` play them). A
  loop fails that client naming the list; an empty page mid-way never closes an invoice not yet seen.
- ``currency_mismatch``: e-invoices (UBL, CII) whose totals carry a ``currencyID`` other than the
  document's currency — refused and named, never dunned in the wrong currency — and a VAT total in the
  accounting currency (BT-6), which is right.
- ``stored_values``: values no column type can read, written into the store behind its back (as an older
  arsync or a hand edit left them) — the row is skipped and named, the client still runs.
- ``conflicting_documents``: a second document with a stored invoice number that differs in one field —
  refused, the first kept, the invoice held — and re-deliveries that differ in nothing that matters.
- ``outbox_leftovers``: temp files in an outbox folder: a crashed writer's (removed on the next run), a
  running writer's and a fresh one of unknown age (left alone).
"""

from __future__ import annotations

import os
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from pathlib import Path
from typing import IO, Any

from netsgiro import records as ocr_records

# ---- env_secrets -------------------------------------------------------------------------------

# Every key that names an environment variable, by the table it lives in.
ENV_KEYS: tuple[tuple[str, str], ...] = (
    ("ledger", "token_env"),
    ("ledger", "consumer_token_env"),
    ("ledger", "employee_token_env"),
    ("ledger", "application_key_env"),
    ("ledger", "client_key_env"),
    ("ledger", "subscription_key_env"),
    ("ledger", "app_secret_token_env"),
    ("ledger", "agreement_grant_token_env"),
    ("collection", "token_env"),
    ("collection", "api_key_env"),
    ("reminders.email", "password_env"),
    ("reminders.tripletex", "session_token_env"),
)

# What people paste by mistake: tokens in the shapes the systems and providers issue.
PASTED_TOKENS: tuple[str, ...] = (
    "3f9c2d0e-6a1b-4c7d-9e8f-0a1b2c3d4e5f",  # a UUID-shaped consumer/employee token
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhY21lIn0.c2lnbmF0dXJlLXBhcnQ",  # a JWT
    "Bearer sk_live_51HqLyjWDarjtT1zdp7dc",  # with its scheme
    "demo-token_ABC:xyz/123+456=",  # Basic-auth material
)


@dataclass(frozen=True)
class EnvSecretCase:
    table: str  # "ledger", "collection", "reminders.email", …
    key: str
    value: str


def env_secrets() -> list[EnvSecretCase]:
    return [EnvSecretCase(table, key, value) for table, key in ENV_KEYS for value in PASTED_TOKENS]


# ---- servers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerCase:
    name: str
    # What the server does with each request (request index from 0): see HostileServer.
    behaviour: str
    seconds: float = 0.0  # how long it hangs, waits, or between trickled bytes


def servers() -> list[ServerCase]:
    return [
        ServerCase("hangs after reading the request", "hang"),
        ServerCase("answers after 2 s", "slow", 2.0),
        ServerCase("trickles the body, a byte every 0.1 s", "trickle", 0.1),
        ServerCase("429 with Retry-After as an HTTP date 4 s ahead, then 200", "retry-after-date", 4.0),
        ServerCase("429 with Retry-After: 4 (seconds), then 200", "retry-after-seconds", 4.0),
        ServerCase("429 with Retry-After as an HTTP date in the past, then 200", "retry-after-past", -30.0),
    ]


JSON_OK = b'{"ok": true}'


class HostileServer:
    """An HTTP/1.1 server on 127.0.0.1 that misbehaves as ``case`` says; counts requests.

    Threads end when the server stops (a hanging handler waits on ``stopping``), so tests leave no
    thread behind for long.
    """

    def __init__(self, case: ServerCase, body: bytes = JSON_OK):
        self.case = case
        self.body = body
        self.requests = 0
        self.stopping = threading.Event()
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                outer._handle(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        with conn.makefile("rb") as reader:
            while not self.stopping.is_set():
                if not _read_request(reader):
                    return
                index = self.requests
                self.requests += 1
                if not self._answer(conn, index):
                    return

    def _answer(self, conn: socket.socket, index: int) -> bool:
        kind, seconds = self.case.behaviour, self.case.seconds
        if kind == "hang":
            self.stopping.wait(60)
            return False
        if kind == "slow":
            if self.stopping.wait(seconds):
                return False
            conn.sendall(_response(200, self.body))
            return True
        if kind == "trickle":
            conn.sendall(_response(200, self.body, headers_only=True))
            for byte in self.body:
                if self.stopping.wait(seconds):
                    return False
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return False  # the client gave up: as it should
            return True
        if kind.startswith("retry-after") and index == 0:
            if kind == "retry-after-seconds":
                value = f"{seconds:g}"
            else:
                value = format_datetime(datetime.now(UTC) + timedelta(seconds=seconds), usegmt=True)
            conn.sendall(_response(429, b'{"message": "slow down"}', {"Retry-After": value}))
            return True
        conn.sendall(_response(200, self.body))
        return True


def _read_request(reader: IO[bytes]) -> bool:
    """Read one request (headers and a Content-Length body); False when the client closed."""
    length = 0
    try:
        line = reader.readline()
        if not line:
            return False
        while True:
            header = reader.readline()
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length:
            reader.read(length)
    except (OSError, ValueError):
        return False
    return True


def _response(status: int, body: bytes, headers: dict[str, str] | None = None, headers_only: bool = False) -> bytes:
    reason = {200: "OK", 429: "Too Many Requests"}[status]
    lines = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if headers_only else head + body


# ---- OCR giro ----------------------------------------------------------------------------------

OCR_NETS_DATE = date(2026, 3, 2)
OCR_ACCOUNT = "15032080119"


@dataclass(frozen=True)
class OcrTx:
    amount_ore: int
    kid: str
    tx_type: int = 10  # 10: giro debited account
    sign: str = "0"


def ocr_file(
    txs: list[OcrTx],
    *,
    transmission: str = "1000001",
    assignment: str = "4000001",
    end: Callable[[dict[str, int]], dict[str, int]] | None = None,
) -> bytes:
    """A Nets OCR giro transmission (ISO-8859-1, 80-character records) with one assignment.

    ``end`` may change the control totals written in the end records (keys: ``a_tx``, ``a_records``,
    ``a_amount`` for the assignment, ``t_tx``, ``t_records``, ``t_amount`` for the transmission)."""
    body: list[Any] = []
    for n, tx in enumerate(txs, start=1):
        body.append(
            ocr_records.TransactionAmountItem1(
                service_code=9,
                transaction_type=tx.tx_type,
                transaction_number=n,
                nets_date=OCR_NETS_DATE,
                amount=tx.amount_ore,
                kid=tx.kid,
                centre_id="13",
                day_code=2,
                partial_settlement_number=1,
                partial_settlement_serial_number="01464",
                sign=tx.sign,
            )
        )
        body.append(
            ocr_records.TransactionAmountItem2(
                service_code=9,
                transaction_type=tx.tx_type,
                transaction_number=n,
                reference="000000001",
                form_number="0000000000",
                bank_date=OCR_NETS_DATE,
                debit_account="12345678903",
            )
        )
    total = sum(tx.amount_ore for tx in txs)
    totals = {
        "a_tx": len(txs),
        "a_records": len(body) + 2,
        "a_amount": total,
        "t_tx": len(txs),
        "t_records": len(body) + 4,
        "t_amount": total,
    }
    if end is not None:
        totals = end(totals)
    recs: list[Any] = [
        ocr_records.TransmissionStart(
            service_code=0, transmission_number=transmission, data_transmitter="00008080", data_recipient="00012345"
        ),
        ocr_records.AssignmentStart(
            service_code=9,
            assignment_type=0,
            assignment_number=assignment,
            assignment_account=OCR_ACCOUNT,
            agreement_id="001008566",
        ),
        *body,
        ocr_records.AssignmentEnd(
            service_code=9,
            assignment_type=0,
            num_transactions=totals["a_tx"],
            num_records=totals["a_records"],
            total_amount=totals["a_amount"],
            nets_date_1=OCR_NETS_DATE,
            nets_date_2=OCR_NETS_DATE,
            nets_date_3=OCR_NETS_DATE,
        ),
        ocr_records.TransmissionEnd(
            service_code=0,
            num_transactions=totals["t_tx"],
            num_records=totals["t_records"],
            total_amount=totals["t_amount"],
            nets_date=OCR_NETS_DATE,
        ),
    ]
    return "".join(r.to_ocr() + "\n" for r in recs).encode("iso-8859-1")


# MOD10 KIDs (Luhn) for invoices 1001…: what a Norwegian creditor's OCR agreement gives.
def _luhn_kid(body: str) -> str:
    digits = [int(c) for c in body]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return body + str((10 - total % 10) % 10)


OCR_TXS = [OcrTx(100_000 + 2_550 * i, _luhn_kid(f"00{1001 + i}")) for i in range(5)]


def ocr_good() -> bytes:
    return ocr_file(OCR_TXS)


@dataclass(frozen=True)
class FileCase:
    name: str  # says what is wrong
    data: bytes


def ocr_truncated() -> list[FileCase]:
    """The good file cut after every record but the last, and inside the first, a middle and the last record."""
    lines = ocr_good().splitlines(keepends=True)
    cases = [FileCase(f"cut after record {k} of {len(lines)}", b"".join(lines[:k])) for k in range(1, len(lines))]
    for k in (0, len(lines) // 2, len(lines) - 1):
        head = b"".join(lines[:k])
        cases.append(FileCase(f"cut inside record {k + 1}", head + lines[k][:37]))
    return cases


def ocr_bad_totals() -> list[FileCase]:
    """One control total off by one (or by one øre) at a time, in the assignment and the transmission end."""
    out = []
    for key, what in (
        ("a_tx", "assignment end: number of transactions"),
        ("a_records", "assignment end: number of records"),
        ("a_amount", "assignment end: total amount"),
        ("t_tx", "transmission end: number of transactions"),
        ("t_records", "transmission end: number of records"),
        ("t_amount", "transmission end: total amount"),
    ):
        for delta in (1, -1):
            out.append(FileCase(f"{what} {delta:+d}", ocr_file(OCR_TXS, end=_shift(key, delta))))
    return out


def _shift(key: str, delta: int) -> Callable[[dict[str, int]], dict[str, int]]:
    return lambda totals: {**totals, key: totals[key] + delta}


# ---- absurd amounts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AmountCase:
    text: str  # as written in the file
    currency: str
    refused: bool  # False: odd-looking but right; it must be read as the same value
    why: str


def absurd_amounts() -> list[AmountCase]:
    return [
        AmountCase("1E+30", "NOK", True, "exponent form, 10^30"),
        AmountCase("123456789012345678901234567890", "NOK", True, "30 digits"),
        AmountCase("99999999999.99", "NOK", True, "above the 10^10 limit"),
        AmountCase("NaN", "NOK", True, "not a number"),
        AmountCase("Infinity", "NOK", True, "infinite"),
        AmountCase("sNaN", "EUR", True, "signalling NaN"),
        AmountCase("499.99999", "NOK", True, "five decimals: would round to 500.00 and settle a 500 invoice"),
        AmountCase("100.001", "EUR", True, "three significant decimals in a two-decimal currency"),
        AmountCase("1500.5", "ISK", True, "a fraction of a krona: ISK has no minor unit"),
        AmountCase("0.0000000000000000000001", "NOK", True, "tiny fraction"),
        # Right, however they look: trailing zeros beyond the minor unit change nothing.
        AmountCase("8.850", "EUR", False, "three decimals, the third a zero (as a real camt.053 writes it)"),
        AmountCase("500.00000", "NOK", False, "five decimals, all zero"),
        AmountCase("10000000000", "NOK", False, "exactly the limit"),
        AmountCase("1500", "ISK", False, "whole krona"),
    ]


# ---- links in drop folders ---------------------------------------------------------------------


@dataclass(frozen=True)
class LinkCase:
    name: str  # the entry's name in the drop folder
    leaves: bool  # True: it must be refused and named
    make: Callable[[Path, Path, bytes], None]  # (folder, outside folder, content) → creates the entry


def _link_outside_absolute(folder: Path, outside: Path, data: bytes, name: str) -> None:
    (outside / name).write_bytes(data)
    (folder / name).symlink_to(outside / name)


def _link_outside_relative(folder: Path, outside: Path, data: bytes, name: str) -> None:
    (outside / name).write_bytes(data)
    (folder / name).symlink_to(Path(os.path.relpath(outside / name, folder)))


def _link_chain_leaving(folder: Path, outside: Path, data: bytes, name: str) -> None:
    (outside / name).write_bytes(data)
    (folder / f".hop-{name}").symlink_to(outside / name)  # hidden: never listed itself
    (folder / name).symlink_to(folder / f".hop-{name}")


def _link_via_outside_dir(folder: Path, outside: Path, data: bytes, name: str) -> None:
    (outside / "sub").mkdir(exist_ok=True)
    (outside / "sub" / name).write_bytes(data)
    (folder / "sub").symlink_to(outside / "sub", target_is_directory=True)
    (folder / name).symlink_to(Path("sub") / name)


def _link_inside(folder: Path, outside: Path, data: bytes, name: str) -> None:
    (folder / "archive").mkdir(exist_ok=True)
    (folder / "archive" / name).write_bytes(data)
    (folder / name).symlink_to(Path("archive") / name)


def _link_inside_absolute(folder: Path, outside: Path, data: bytes, name: str) -> None:
    (folder / f".real-{name}").write_bytes(data)
    (folder / name).symlink_to(folder / f".real-{name}")


@dataclass(frozen=True)
class _Maker:
    make: Callable[[Path, Path, bytes, str], None]
    name: str

    def __call__(self, folder: Path, outside: Path, data: bytes) -> None:
        self.make(folder, outside, data, self.name)


def links(suffix: str) -> list[LinkCase]:
    """Each case makes one entry named ``link-<n>{suffix}``; ``leaves`` says whether it leaves the folder."""
    makers: list[tuple[bool, Callable[[Path, Path, bytes, str], None]]] = [
        (True, _link_outside_absolute),
        (True, _link_outside_relative),
        (True, _link_chain_leaving),
        (True, _link_via_outside_dir),
        (False, _link_inside),
        (False, _link_inside_absolute),
    ]
    cases = []
    for n, (leaves, make) in enumerate(makers, start=1):
        name = f"link-{n}{suffix}"
        cases.append(LinkCase(name, leaves, _Maker(make, name)))
    return cases


# ---- camt --------------------------------------------------------------------------------------

CAMT_NS = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"
CAMT_ACCOUNT = "15032080119"


def camt_file(
    entries: list[tuple[str, str, list[str]]], *, created: date = date(2026, 3, 2), account: str = CAMT_ACCOUNT
) -> bytes:
    """A camt.054.001.08 with ``(entry amount, currency, [TxDtls amounts])`` per credit entry."""
    parts = [_camt_head(created, account)]
    for n, (amount, currency, txs) in enumerate(entries, start=1):
        parts.append(_camt_entry_head(n, amount, currency, created))
        parts.extend(_camt_tx(n, i, tx, currency) for i, tx in enumerate(txs, start=1))
        parts.append("</NtryDtls></Ntry>\n")
    parts.append("</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>\n")
    return "".join(parts).encode("utf-8")


def _camt_head(created: date, account: str) -> str:
    stamp = f"{created.isoformat()}T06:00:00"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{CAMT_NS}"><BkToCstmrDbtCdtNtfctn>'
        f"<GrpHdr><MsgId>HOSTILE-{stamp}</MsgId><CreDtTm>{stamp}</CreDtTm></GrpHdr>"
        f"<Ntfctn><Id>N-{stamp}</Id><CreDtTm>{stamp}</CreDtTm>"
        f"<Acct><Id><Othr><Id>{account}</Id><SchmeNm><Cd>BBAN</Cd></SchmeNm></Othr></Id></Acct>\n"
    )


def _camt_entry_head(n: int, amount: str, currency: str, booked: date) -> str:
    return (
        f'<Ntry><Amt Ccy="{currency}">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        f"<BookgDt><Dt>{booked.isoformat()}</Dt></BookgDt><ValDt><Dt>{booked.isoformat()}</Dt></ValDt>"
        f"<AcctSvcrRef>E{n:06d}</AcctSvcrRef><NtryDtls>\n"
    )


def _camt_tx(entry: int, i: int, amount: str, currency: str) -> str:
    kid = _luhn_kid(f"{entry:03d}{i:08d}")
    return (
        f"<TxDtls><Refs><AcctSvcrRef>E{entry:06d}-{i}</AcctSvcrRef><EndToEndId>E2E-{entry}-{i}</EndToEndId></Refs>"
        f'<Amt Ccy="{currency}">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        f"<RltdPties><Dbtr><Pty><Nm>Kunde {i} AS</Nm></Pty></Dbtr>"
        f"<DbtrAcct><Id><Othr><Id>1234567890{i % 10}</Id></Othr></Id></DbtrAcct></RltdPties>"
        f"<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{kid}</Ref></CdtrRefInf>"
        f"</Strd></RmtInf></TxDtls>\n"
    )


def camt_huge_entry(path: Path, transactions: int, amount: str = "100.00") -> Path:
    """One entry with ``transactions`` TxDtls, written piece by piece (the file is never whole in memory)."""
    total = Decimal(amount) * transactions
    with path.open("w", encoding="utf-8") as out:
        out.write(_camt_head(date(2026, 3, 2), CAMT_ACCOUNT))
        out.write(_camt_entry_head(1, f"{total:.2f}", "NOK", date(2026, 3, 2)))
        for i in range(1, transactions + 1):
            out.write(_camt_tx(1, i, amount, "NOK"))
        out.write("</NtryDtls></Ntry>\n</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>\n")
    return path


# ---- UBL / CII ---------------------------------------------------------------------------------

_UBL = (
    'xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"'
)


def _party(role: str, name: str, org: str) -> str:
    return (
        f'<cac:{role}><cac:Party><cbc:EndpointID schemeID="0192">{org}</cbc:EndpointID>'
        f"<cac:PartyName><cbc:Name>{name}</cbc:Name></cac:PartyName>"
        f"<cac:PartyLegalEntity><cbc:RegistrationName>{name}</cbc:RegistrationName>"
        f'<cbc:CompanyID schemeID="0192">{org}</cbc:CompanyID></cac:PartyLegalEntity></cac:Party></cac:{role}>'
    )


def ubl_invoice(number: str, amount: str, currency: str = "NOK", seller_org: str = "923456783") -> bytes:
    """A Peppol BIS 3 invoice whose totals are ``amount`` as written."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Invoice {_UBL}>'
        "<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
        "</cbc:CustomizationID><cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>"
        f"<cbc:ID>{number}</cbc:ID><cbc:IssueDate>2026-02-01</cbc:IssueDate><cbc:DueDate>2026-02-15</cbc:DueDate>"
        f"<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode><cbc:DocumentCurrencyCode>{currency}</cbc:DocumentCurrencyCode>"
        + _party("AccountingSupplierParty", "Selger AS", seller_org)
        + _party("AccountingCustomerParty", "Kunde AS", "934567897")
        + f'<cac:LegalMonetaryTotal><cbc:TaxExclusiveAmount currencyID="{currency}">{amount}</cbc:TaxExclusiveAmount>'
        f'<cbc:TaxInclusiveAmount currencyID="{currency}">{amount}</cbc:TaxInclusiveAmount>'
        f'<cbc:PayableAmount currencyID="{currency}">{amount}</cbc:PayableAmount></cac:LegalMonetaryTotal>'
        "</Invoice>\n"
    ).encode("utf-8")


def cii_invoice(number: str, amount: str, currency: str = "NOK", seller_org: str = "923456783") -> bytes:
    """An EN 16931 CII invoice whose totals are ``amount`` as written."""
    rsm = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
    ram = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
    udt = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rsm:CrossIndustryInvoice xmlns:rsm="{rsm}" xmlns:ram="{ram}" '
        f'xmlns:udt="{udt}"><rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter>'
        "<ram:ID>urn:cen.eu:en16931:2017</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>"
        f"</rsm:ExchangedDocumentContext><rsm:ExchangedDocument><ram:ID>{number}</ram:ID>"
        '<ram:TypeCode>380</ram:TypeCode><ram:IssueDateTime><udt:DateTimeString format="102">20260201'
        "</udt:DateTimeString></ram:IssueDateTime></rsm:ExchangedDocument><rsm:SupplyChainTradeTransaction>"
        "<ram:ApplicableHeaderTradeAgreement>"
        f"<ram:SellerTradeParty><ram:Name>Selger AS</ram:Name><ram:SpecifiedLegalOrganization>"
        f'<ram:ID schemeID="0192">{seller_org}</ram:ID></ram:SpecifiedLegalOrganization></ram:SellerTradeParty>'
        "<ram:BuyerTradeParty><ram:Name>Kunde AS</ram:Name><ram:SpecifiedLegalOrganization>"
        '<ram:ID schemeID="0192">934567897</ram:ID></ram:SpecifiedLegalOrganization></ram:BuyerTradeParty>'
        "</ram:ApplicableHeaderTradeAgreement><ram:ApplicableHeaderTradeDelivery/>"
        f"<ram:ApplicableHeaderTradeSettlement><ram:InvoiceCurrencyCode>{currency}</ram:InvoiceCurrencyCode>"
        "<ram:SpecifiedTradePaymentTerms><ram:DueDateDateTime>"
        '<udt:DateTimeString format="102">20260215</udt:DateTimeString></ram:DueDateDateTime>'
        "</ram:SpecifiedTradePaymentTerms><ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
        f"<ram:TaxBasisTotalAmount>{amount}</ram:TaxBasisTotalAmount>"
        f"<ram:GrandTotalAmount>{amount}</ram:GrandTotalAmount>"
        f"<ram:DuePayableAmount>{amount}</ram:DuePayableAmount>"
        "</ram:SpecifiedTradeSettlementHeaderMonetarySummation></ram:ApplicableHeaderTradeSettlement>"
        "</rsm:SupplyChainTradeTransaction></rsm:CrossIndustryInvoice>\n"
    ).encode()


# ---- endless_pages -----------------------------------------------------------------------------

# The invoice list of each system's fake, as a substring of its request path.
INVOICE_LISTS: dict[str, str] = {
    "tripletex": "/invoice",
    "fiken": "/invoices",
    "poweroffice": "/OutgoingInvoices",
    "economic": "/invoices/booked",
}
PAGING_KINDS = ("same-forever", "repeat", "empty-mid")


@dataclass(frozen=True)
class PagingCase:
    system: str
    kind: str  # same-forever | repeat | empty-mid (tests.fakes.ledger_base.PagingFault)
    path: str  # the list that pages wrongly
    loops: bool  # the server would keep us reading for ever: the client's sync must fail


def endless_pages() -> list[PagingCase]:
    return [PagingCase(s, k, path, k != "empty-mid") for s, path in INVOICE_LISTS.items() for k in PAGING_KINDS]


# ---- currency_mismatch -------------------------------------------------------------------------


@dataclass(frozen=True)
class CurrencyCase:
    syntax: str  # "ubl" or "cii"
    element: str  # the total whose currencyID is other than the document's ("" for the TaxTotal case)
    stated: str  # its currencyID
    refused: bool


UBL_TOTALS = ("TaxExclusiveAmount", "TaxInclusiveAmount", "PrepaidAmount", "PayableRoundingAmount", "PayableAmount")
CII_TOTALS = ("TaxBasisTotalAmount", "GrandTotalAmount", "TotalPrepaidAmount", "RoundingAmount", "DuePayableAmount")


def currency_mismatch() -> list[CurrencyCase]:
    cases = [CurrencyCase("ubl", e, "EUR", True) for e in UBL_TOTALS]
    cases += [CurrencyCase("cii", e, "EUR", True) for e in CII_TOTALS]
    cases += [CurrencyCase("ubl", "PayableAmount", "nok", True)]  # a code is case-sensitive (ISO 4217)
    cases += [CurrencyCase("ubl", "", "EUR", False), CurrencyCase("cii", "", "EUR", False)]  # VAT in BT-6
    return cases


def mixed_currency_invoice(case: CurrencyCase, number: str = "7101") -> bytes:
    """An NOK invoice (1250.00, VAT 250.00) with ``case.element`` stated in ``case.stated`` (or, with no
    element, a second VAT total in the accounting currency ``case.stated``)."""
    if case.syntax == "ubl":
        totals = "".join(
            f'<cbc:{e} currencyID="{case.stated if e == case.element else "NOK"}">{_TOTAL_AMOUNTS[e]}</cbc:{e}>'
            for e in UBL_TOTALS
        )
        tax = '<cac:TaxTotal><cbc:TaxAmount currencyID="NOK">250.00</cbc:TaxAmount></cac:TaxTotal>'
        if not case.element:
            tax += f'<cac:TaxTotal><cbc:TaxAmount currencyID="{case.stated}">22.30</cbc:TaxAmount></cac:TaxTotal>'
        head = f"<cbc:TaxCurrencyCode>{case.stated}</cbc:TaxCurrencyCode>" if not case.element else ""
        data = ubl_invoice(number, "1250.00").decode()
        data = data.replace("</cbc:DocumentCurrencyCode>", "</cbc:DocumentCurrencyCode>" + head, 1)
        start, end = data.index("<cac:LegalMonetaryTotal>"), data.index("</cac:LegalMonetaryTotal>")
        return (data[:start] + tax + "<cac:LegalMonetaryTotal>" + totals + data[end:]).encode()
    data = cii_invoice(number, "1250.00").decode()
    start = data.index("<ram:TaxBasisTotalAmount>")
    end = data.index("</ram:SpecifiedTradeSettlementHeaderMonetarySummation>")
    totals = ""
    for e in CII_TOTALS:
        if e == "DuePayableAmount":
            totals += '<ram:TaxTotalAmount currencyID="NOK">250.00</ram:TaxTotalAmount>'
            if not case.element:
                totals += f'<ram:TaxTotalAmount currencyID="{case.stated}">22.30</ram:TaxTotalAmount>'
        stated = f' currencyID="{case.stated}"' if e == case.element else ""
        totals += f"<ram:{e}{stated}>{_TOTAL_AMOUNTS[e]}</ram:{e}>"
    return (data[:start] + totals + data[end:]).encode()


_TOTAL_AMOUNTS = {
    "TaxExclusiveAmount": "1000.00",
    "TaxInclusiveAmount": "1250.00",
    "PrepaidAmount": "0.00",
    "PayableRoundingAmount": "0.00",
    "PayableAmount": "1250.00",
    "TaxBasisTotalAmount": "1000.00",
    "GrandTotalAmount": "1250.00",
    "TotalPrepaidAmount": "0.00",
    "RoundingAmount": "0.00",
    "DuePayableAmount": "1250.00",
}


# ---- stored_values ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredValueCase:
    """In a book where 1001 is paid by R1 and 1002 is overdue (both of one customer)."""

    table: str
    column: str
    value: str  # written as it stands, as text
    where: str  # which row (SQL condition)
    holds: str | None  # the hold it puts on ``held`` afterwards (None: only its own row is left out)
    held: str = "1002"


def stored_values() -> list[StoredValueCase]:
    inv, pay, n1002 = "number = '1002'", "bank_ref = 'R1'", "invoice_number = '1002'"
    return [
        StoredValueCase("invoices", "amount", "1E+30", inv, None),
        StoredValueCase("invoices", "amount", "123456789012345678901234567890", inv, None),
        StoredValueCase("invoices", "amount", "NaN", inv, None),
        StoredValueCase("invoices", "ledger_open_amount", "lots", inv, None),
        StoredValueCase("invoices", "due_date", "next week", inv, None),
        StoredValueCase("invoices", "kind", "receipt", inv, None),  # a kind no one knows: left out, named
        StoredValueCase("invoices", "credits", "[1002", inv, None),
        StoredValueCase("payments", "amount", "1E+30", pay, "bank_data_stale", "1001"),  # it paid 1001: unknown now
        StoredValueCase("payments", "booking_date", "2026-13-45", pay, "bank_data_stale"),
        StoredValueCase("payments", "status", "maybe", pay, "bank_data_stale"),
        StoredValueCase("customers", "address", "{not json", "customer_id = '934567897'", "unreadable_document"),
        StoredValueCase("dunning_steps", "fee", "1E+30", n1002, "unreadable_document"),
        StoredValueCase("dunning_steps", "step", "letter", n1002, "unreadable_document"),
        StoredValueCase("disputes", "opened_on", "yesterday", n1002, "unreadable_document"),
        StoredValueCase("sync_state", "cursor", "{oops", "source = 'ledger'", None),  # the next sync replaces it
    ]


# ---- conflicting_documents ---------------------------------------------------------------------


@dataclass(frozen=True)
class ConflictCase:
    name: str
    changes: dict[str, Any]  # ``tests.builders.ubl_invoice`` keyword arguments of the second document
    conflict: bool  # False: a re-delivery that differs in nothing that matters


def conflicting_documents() -> list[ConflictCase]:
    return [
        ConflictCase("amount", {"amount": "1200.00"}, True),
        ConflictCase("customer", {"customer": "Annen Kunde AS", "org": "923456791"}, True),
        ConflictCase("currency", {"currency": "EUR"}, True),
        ConflictCase("due date", {"due": date(2026, 6, 30)}, True),
        ConflictCase("issue date", {"issue": date(2026, 4, 30)}, True),
        ConflictCase("KID", {"kid_value": "0010026"}, True),
        ConflictCase("no due date", {"due": None}, True),
        ConflictCase("identical", {}, False),
        ConflictCase("another PDF copy", {"pdf": b"%PDF-1.4 another copy"}, False),
    ]


# ---- outbox_leftovers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LeftoverCase:
    name: str
    writer: str  # "dead", "alive" (a writer that still runs) or "legacy" (no pid in the name)
    age_seconds: int
    removed: bool


# The letter of invoice 1001 (to the builders' default customer) on 2026-06-20: its EHF Reminder, then its PDF.
LEFTOVER_STEM = "acme--934567897--reminder--2026-06-20"


def outbox_leftovers(dead_pid: int, live_pid: int) -> list[LeftoverCase]:
    stem = LEFTOVER_STEM
    return [
        LeftoverCase(f".{stem}--1001.xml.{dead_pid}.k3j4h5g6.tmp", "dead", 0, True),
        LeftoverCase(f".{stem}.pdf.{dead_pid}.a1b2c3d4.tmp", "dead", 0, True),
        LeftoverCase(f".{stem}.pdf.{live_pid}.z9y8x7w6.tmp", "alive", 0, False),
        LeftoverCase(f".{stem}.pdf.q1w2e3r4.tmp", "legacy", 7200, True),
        LeftoverCase(f".{stem}--1001.xml.t5y6u7i8.tmp", "legacy", 60, False),
    ]


# ---- the catalogue -----------------------------------------------------------------------------


def catalogue() -> dict[str, int]:
    """How many cases each class holds (absurd amounts are tried in camt, UBL and CII each)."""
    return {
        "env_secrets": len(env_secrets()),
        "servers": len(servers()),
        "ocr_truncated": len(ocr_truncated()),
        "ocr_bad_totals": len(ocr_bad_totals()),
        "absurd_amounts": len(absurd_amounts()),
        "links": len(links(".xml")),
        "camt_huge_entry": 1,
        "endless_pages": len(endless_pages()),
        "currency_mismatch": len(currency_mismatch()),
        "stored_values": len(stored_values()),
        "conflicting_documents": len(conflicting_documents()),
        "outbox_leftovers": len(outbox_leftovers(1, 2)),
    }


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.01)
    return check()
