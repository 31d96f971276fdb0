"""A fake PowerOffice Go API v2 on 127.0.0.1, answering as the v2 OpenAPI specs say the real one does
(the "API v2 DEMO" spec, public copy ``anders2606/crm`` ``docs/poweroffice-apiv2-demo.json``; the
per-service clients generated from it, ``pacely-ai/poweroffice-node`` ``src/v2/openapi``):

- OAuth2 client credentials (Basic ``applicationKey:clientKey`` + ``Ocp-Apim-Subscription-Key``);
- bare JSON arrays, ``PageNumber`` (1-based) / ``PageSize``; **204 with an empty body** "when there is
  no content to return" — every empty list, and the page after an exact multiple of the page size;
- parameters an endpoint does not have are ignored (``/OutgoingInvoices`` has no
  ``lastChangedDateTimeOffsetGreaterThan``; it has ``balanceLastChangedDateTimeOffsetGreaterThan``,
  ``sentDateTimeOffsetGreaterThan``, ``onlyUnpaidInvoices``, ``invoiceNos``, ``fromDate``/``toDate``);
- currencies: on ``OutgoingInvoiceDto`` ``TotalAmount``/``NetAmount`` are in the invoice's currency,
  ``TotalPostedAmount``/``NetPostedAmount`` and ``Balance`` in the client's (NOK); on ledger entries
  ``Amount``/``Balance`` are NOK and ``CurrencyAmount`` the invoice currency;
- a customer that is a person (``IsPerson``) has ``FirstName``/``LastName``; ``Name`` and ``LegalName`` are
  "relevant only if the customer is a company" and come back null (``CustomerDto``);
- a write-off in the customer ledger is an entry with ``IsWriteOff`` true: "not payments, but an
  accounting routine writing off an open item" (``CustomerLedgerEntryDto``; its voucher type is not
  documented, ``ManualJournal`` here); the invoice's ``Balance`` goes to 0;
- ``/ClientIntegrationInformation``: ``ClientId``, ``ClientName``, privileges — no organisation number;
- ``POST /Vouchers/ManualJournals``: ``ExternalImportReference`` is a duplicate check ("only one
  instance of the reference can exist on the client") — a second post with it is refused (400).
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connector.http import Limits
from tests.fakes.ledger_base import FakeSystem, Reply, cents, parse_day, parse_ts
from tests.fakes.ledger_world import Cust, Doc, Pay, World

ACCOUNTS = {3900: 39000, 8040: 80400, 8050: 80500, 8070: 80700}  # account number → id (GeneralLedgerAccounts)


class FakePowerOffice(FakeSystem):
    name = "poweroffice"
    app_key, client_key, sub_key = "po-app-key-111111", "po-client-key-222222", "po-subscription-333333"

    def __init__(self, world: World, latency: float = 0.0, limits: Limits | None = None) -> None:
        super().__init__(world, latency, limits)
        self.issued = 0
        self.vouchers: list[dict[str, Any]] = []
        self.sub_keys = {self.sub_key}  # integrations' subscription keys the fake knows
        self.write_offs: list[Pay] = []

    def write_off(self, number: int, on: date) -> Pay:
        """What is left open on invoice ``number`` written off in Go (the write-off routine)."""
        d = self.world.doc(number)
        entry = Pay(d, on, d.open, modified=datetime.now().astimezone())
        self.write_offs.append(entry)
        d.open = Decimal("0")
        d.balance_modified = entry.modified
        return entry

    def credential(self, method: str, path: str, q: dict[str, str], headers: dict[str, str]) -> str:
        return headers.get("Ocp-Apim-Subscription-Key", "")  # per subscription key, shared by its clients

    def route(self, method: str, path: str, q: dict[str, str], headers: dict[str, str], body: bytes) -> Reply:
        if headers.get("Ocp-Apim-Subscription-Key") not in self.sub_keys:
            return Reply(401, {"statusCode": 401, "message": "Access denied due to missing subscription key."})
        if path == "/OAuth/Token" and method == "POST":
            expected = base64.b64encode(f"{self.app_key}:{self.client_key}".encode()).decode()
            if headers.get("Authorization") != f"Basic {expected}" or b"grant_type=client_credentials" not in body:
                return Reply(400, {"error": "invalid_client", "error_description": "Client integration not found."})
            with self.lock:
                self.issued += 1
                token = f"eyJhbGciOiJSUzI1NiJ9.po-{self.issued}-tokenbody"
                self.valid_tokens.add(token)
            return Reply(200, {"access_token": token, "token_type": "bearer", "expires_in": 1200})
        if headers.get("Authorization", "").removeprefix("Bearer ") not in self.valid_tokens:
            return Reply(401, {"statusCode": 401, "message": "Unauthorized"})
        path, w = path.removeprefix("/v2"), self.world
        if path == "/ClientIntegrationInformation":
            return Reply(
                200,
                {
                    "ActiveClientSubscriptions": ["CustomerLedger", "OutgoingInvoice"],
                    "AllowSendInvoice": True,
                    "ClientId": "0b7e7c4e-1d6a-4f0e-9c55-2f1a3c4d5e6f",
                    "ClientName": "Nordlys Rør AS",
                    "InvalidPrivileges": [],
                    "ValidPrivileges": ["CustomerLedger", "OutgoingInvoice", "ManualVoucher_Full"],
                },
            )
        if path == "/Customers":
            changed = parse_ts(q.get("lastChangedDateTimeOffsetGreaterThan"))
            custs = [c for c in w.customers if changed is None or c.modified > changed]
            if "customerNos" in q:
                custs = [c for c in custs if str(c.number) in {n.strip() for n in q["customerNos"].split(",")}]
            return self._page(path, [self._customer(c) for c in custs], q)
        if path == "/OutgoingInvoices":
            return self._page(path, [self._invoice(d) for d in self._outgoing(q)], q)
        if path == "/Customerledger/Statement":
            if "fromDate" not in q or "toDate" not in q:
                return Reply(400, _problem("fromDate and toDate are required."))
            lo, hi = parse_day(q["fromDate"]), parse_day(q["toDate"])
            rows = [e for e in self._entries() if lo <= e["PostingDate"] <= hi]
            return self._page(path, self._filter_entries(rows, q), q)
        if path == "/Customerledger/OpenItems":
            on = parse_day(q.get("date")) or date.max
            rows = [e for e in self._entries() if e["Balance"] != 0 and e["PostingDate"] <= on]
            return self._page(path, self._filter_entries(rows, q), q)
        if path == "/GeneralLedgerAccounts":
            wanted = {int(n) for n in (q.get("accountNos") or "").split(",") if n.strip()}
            accounts = [{"Id": i, "AccountNo": n, "Name": f"Konto {n}"} for n, i in ACCOUNTS.items() if n in wanted]
            return self._page(path, accounts, q)
        if path == "/Vouchers/ManualJournals" and method == "POST":
            voucher = json.loads(body)
            ref = voucher.get("ExternalImportReference")
            if ref and any(v.get("ExternalImportReference") == ref for v in self.vouchers):
                return Reply(400, _problem(f"A voucher with ExternalImportReference '{ref}' already exists."))
            voucher = {**voucher, "Id": f"9c1d2e3f-0000-4000-8000-{len(self.vouchers):012d}"}
            self.vouchers.append(voucher)
            return Reply(201, voucher)
        return Reply(404, {"statusCode": 404, "message": "Resource not found"})

    def _outgoing(self, q: dict[str, str]) -> list[Doc]:
        docs = self.world.live_docs()
        if "fromDate" in q:
            docs = [d for d in docs if parse_day(q["fromDate"]) <= d.issue]
        if "toDate" in q:
            docs = [d for d in docs if d.issue <= parse_day(q["toDate"])]
        if "invoiceNos" in q:
            numbers = {n.strip() for n in q["invoiceNos"].split(",")}
            docs = [d for d in docs if str(d.number) in numbers]
        balance = parse_ts(q.get("balanceLastChangedDateTimeOffsetGreaterThan"))
        if balance:
            docs = [d for d in docs if d.balance_modified > balance]
        sent = parse_ts(q.get("sentDateTimeOffsetGreaterThan"))
        if sent:
            docs = [d for d in docs if _created(d) > sent]
        if q.get("onlyUnpaidInvoices") == "true":
            docs = [d for d in docs if d.open != 0]
        # Anything else (lastChangedDateTimeOffsetGreaterThan included) is not a parameter of this
        # endpoint and, as in the real API, changes nothing.
        return docs

    def _filter_entries(self, rows: list[dict[str, Any]], q: dict[str, str]) -> list[dict[str, Any]]:
        if "customerNos" in q:
            numbers = {n.strip() for n in q["customerNos"].split(",")}
            rows = [e for e in rows if str(e["CustomerAccountNo"]) in numbers]
        changed = parse_ts(q.get("lastChangedDateTimeOffsetGreaterThan"))
        if changed:
            rows = [e for e in rows if e["LastChangedDateTimeOffset"] > changed]
        created = parse_ts(q.get("createdDateTimeOffsetGreaterThan"))
        if created:
            rows = [e for e in rows if e["CreatedDateTimeOffset"] > created]
        if "invoiceNos" in q:
            numbers = {n.strip() for n in q["invoiceNos"].split(",")}
            rows = [e for e in rows if e["InvoiceNo"] in numbers]
        return rows

    def _page(self, path: str, rows: list[Any], q: dict[str, str]) -> Reply:
        number, size = int(q.get("PageNumber", 1)), int(q.get("PageSize", 5000))
        served, endless = self.page_to_serve(path, number - 1)
        if endless:
            served = 0
        chunk = [] if served is None else rows[served * size : (served + 1) * size]
        if not chunk:
            return Reply(204)  # "no content to return (response body is empty)"
        return Reply(200, chunk)

    # ---- the world in PowerOffice's shapes --------------------------------------------------------

    @staticmethod
    def _customer(c: Cust) -> dict[str, Any]:
        first, _, last = c.name.rpartition(" ")
        return {
            "Id": c.id,
            "Number": c.number,
            "Name": None if c.person else c.name,
            "LegalName": None if c.person else c.name,
            "FirstName": first if c.person else None,
            "LastName": last if c.person else None,
            "OrganizationNumber": None if c.person else c.org_no,
            "EmailAddress": c.email,
            "InvoiceEmailAddress": c.email,
            "IsPerson": c.person,
            "IsActive": not c.inactive,
            "SubledgerAccountId": c.id + 300_000,
            "MailAddress": {"AddressLine1": "Sjøgata 1", "ZipCode": "8006", "City": "Bodø", "CountryCode": c.country},
            "LastChangedDateTimeOffset": c.modified,
        }

    @staticmethod
    def _invoice(d: Doc) -> dict[str, Any]:
        credit = d.kind == "credit_note"
        sign = -1 if credit else 1
        return {
            "Id": f"6d1b6f0e-2c7a-4c57-9a8e-{d.id:012d}",
            "VoucherNo": d.id,
            "VoucherType": "OutgoingCreditNote" if credit else "OutgoingInvoice",
            "InvoiceNo": d.number,
            "RelatedInvoiceNo": d.credits,
            "CustomerId": d.customer.id,
            "CustomerNo": d.customer.number,
            "VoucherDate": d.issue,
            "DueDate": d.due,
            "Cid": d.kid,
            "CurrencyCode": d.currency,
            "CurrencyExchangeRate": d.rate,
            "NetAmount": d.amount * sign,  # in the invoice's currency
            "TotalAmount": d.amount * sign,
            "NetPostedAmount": cents(d.amount * d.rate) * sign,  # always in the client's currency
            "TotalPostedAmount": cents(d.amount * d.rate) * sign,
            "Balance": cents(d.open * d.rate) * sign,  # the customer ledger entry's balance, client currency
            "IsReversed": False,
            "MatchId": d.id,
            "SentDateTimeOffset": _created(d),
            "CreatedDateTimeOffset": _created(d),
            "LastChangedDateTimeOffset": d.modified,
            "BalanceLastChangedDateTimeOffset": d.balance_modified,
        }

    def _entries(self) -> list[dict[str, Any]]:
        rows = []
        for d in self.world.live_docs():
            sign = -1 if d.kind == "credit_note" else 1
            vtype = "OutgoingCreditNote" if d.kind == "credit_note" else "OutgoingInvoice"
            changed = max(d.modified, d.balance_modified)
            rows.append(
                _entry(
                    d.id,
                    vtype,
                    d,
                    d.issue,
                    cents(d.amount * d.rate) * sign,
                    d.amount * sign,
                    cents(d.open * d.rate) * sign,
                    str(d.number),
                    _created(d),
                    changed,
                )
            )
            for p in self.world.pays_of(d):
                # A payment carries the invoice number only when matched by KID; otherwise through MatchId.
                no = str(d.number) if d.kid else None
                amount = -cents(p.amount * d.rate)
                rows.append(
                    _entry(p.id, "IncomingOcrGiro", d, p.on, amount, -p.amount, Decimal(0), no, p.modified, p.modified)
                )
            for p in (w for w in self.write_offs if w.doc is d):
                amount = -cents(p.amount * d.rate)
                entry = _entry(
                    p.id, "ManualJournal", d, p.on, amount, -p.amount, Decimal(0), None, p.modified, p.modified
                )
                rows.append({**entry, "IsWriteOff": True})
        return rows + self._voucher_entries()

    def _voucher_entries(self) -> list[dict[str, Any]]:
        """Manual vouchers posted through the API, as the customer ledger shows their customer lines."""
        by_account = {c.id + 300_000: c for c in self.world.customers}
        rows: list[dict[str, Any]] = []
        for v in self.vouchers:
            for i, line in enumerate(v.get("VoucherLines") or []):
                cust = by_account.get(line.get("AccountId"))
                if cust is None:
                    continue
                amount = Decimal(str(line["CurrencyAmount"]))
                on = parse_day(line["PostingDate"])
                stamp = datetime.now().astimezone()
                rows.append(
                    {
                        "Id": 990_000 + len(rows),
                        "VoucherId": v["Id"],
                        "VoucherNo": 990_000 + i,
                        "VoucherType": "ManualJournal",
                        "InvoiceNo": None,
                        "CustomerAccountNo": cust.number,
                        "CustomerId": cust.id,
                        "CustomerName": cust.name,
                        "PostingDate": on,
                        "VoucherDate": on,
                        "Amount": amount,
                        "Balance": amount,
                        "CurrencyAmount": amount,
                        "CurrencyCode": line.get("CurrencyCode") or v.get("CurrencyCode"),
                        "ExternalImportReference": v.get("ExternalImportReference"),
                        "MatchId": None,
                        "IsWriteOff": False,
                        "CreatedDateTimeOffset": stamp,
                        "LastChangedDateTimeOffset": stamp,
                    }
                )
        return rows


def _created(d: Doc) -> datetime:
    return d.modified  # documents in the world are created when last modified as documents


def _entry(
    eid: int,
    vtype: str,
    d: Doc,
    on: date,
    amount: Decimal,
    currency_amount: Decimal,
    balance: Decimal,
    no: str | None,
    created: datetime,
    changed: datetime,
) -> dict[str, Any]:
    return {
        "Id": eid,
        "VoucherNo": eid,
        "VoucherType": vtype,
        "InvoiceNo": no,
        "CustomerAccountNo": d.customer.number,
        "CustomerId": d.customer.id,
        "CustomerName": d.customer.name,
        "PostingDate": on,
        "VoucherDate": on,
        "DueDate": d.due,
        "Amount": amount,  # client currency
        "Balance": balance,  # client currency
        "CurrencyAmount": currency_amount,  # the currency the entry was posted in
        "CurrencyCode": d.currency,
        "Cid": d.kid,
        "MatchId": d.id,
        "IsWriteOff": False,
        "CreatedDateTimeOffset": created,
        "LastChangedDateTimeOffset": changed,
    }


def _problem(detail: str) -> dict[str, Any]:
    """ProblemDetails (RFC 7807), as the spec's error answers."""
    return {
        "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
        "title": "Bad Request",
        "status": 400,
        "detail": detail,
    }
