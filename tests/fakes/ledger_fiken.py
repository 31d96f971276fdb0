"""A fake Fiken API v2 on 127.0.0.1, answering as its OpenAPI spec (2.0.0; public copy
``okane-no/fiken-sdk`` ``spec/Fiken-API-2.0.0-modified.yaml``) says the real one does:

- everything under ``/companies/{slug}``; bare JSON arrays, ``page`` (0-based) / ``pageSize`` (max
  100), the page count and result count in ``Fiken-Api-Page-Count`` / ``Fiken-Api-Result-Count``;
- amounts in øre ("cents"); an invoice's payment state lives in its embedded ``sale``
  (``settled``, ``outstandingBalance``, ``salePayments``), not on the invoice;
- ``lastModifiedDate`` (a *date*) per resource: an invoice's when the invoice changed (a credit note
  is added to ``associatedCreditNotes``), a sale's when its payments or settlement changed;
- a sale's ``outstandingBalance`` and ``totalPaid`` are in NOK, ``outstandingBalanceInCurrency`` and
  ``totalPaidInCurrency`` in a foreign-currency invoice's own currency (Fiken's own swagger.yaml as of
  2026-05, public copy ``kradalby/fiken-go`` ``api/fiken-openapi.yaml``); a payment's ``amount`` is in
  the sale's currency, ``amountInNok`` and ``currency`` only on a foreign one;
- a contact's ``phoneNumber`` is write-only (never answered); its contact persons carry theirs;
- ``Fiken-Api-Page-Count`` is "the total number of pages in this resource with this page size": 0
  for an empty list;
- ``GET /contacts?inactive=`` is "active (false) or inactive (true)"; without it, both;
- ``POST /generalJournalEntries`` answers 201 with an empty body and a ``Location`` header; Fiken
  puts "Fri postering registrert via API: " in front of the description, which with it must fit in
  200 characters (2026 spec), else 400; ``GET /journalEntries`` lists them (with their lines) by ``date*``;
- ``/creditNotes`` has ``lastModified*`` filters and ``lastModifiedDate`` (2026 spec).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from connector.http import Limits
from tests.fakes.ledger_base import FakeSystem, Reply, cents, parse_day
from tests.fakes.ledger_world import Cust, Doc, World

API_FLAG = "Fri postering registrert via API: "


def ore(value: Any) -> int:
    return int(cents(value) * 100)


class FakeFiken(FakeSystem):
    name = "fiken"
    token = "fiken-personal-token-abcdef123456"
    slug = "nordlys-ror-as"

    def __init__(self, world: World, latency: float = 0.0, limits: Limits | None = None) -> None:
        super().__init__(world, latency, limits)
        self.valid_tokens.add(self.token)
        self.journal_entries: list[dict[str, Any]] = []

    def credential(self, method: str, path: str, q: dict[str, str], headers: dict[str, str]) -> str:
        return headers.get("Authorization", "")  # per (personal or OAuth) token

    def route(self, method: str, path: str, q: dict[str, str], headers: dict[str, str], body: bytes) -> Reply:
        if headers.get("Authorization", "").removeprefix("Bearer ") not in self.valid_tokens:
            return Reply(401, {"error": "invalid_token"})
        prefix = f"/api/v2/companies/{self.slug}"
        if not path.startswith(prefix):
            return Reply(404, {})
        rest, w = path.removeprefix(prefix), self.world
        if rest == "":
            return Reply(200, {"name": "Nordlys Rør AS", "slug": self.slug, "organizationNumber": "923456783"})
        if rest == "/contacts":
            custs = list(w.customers)
            if "inactive" in q:
                custs = [c for c in custs if c.inactive == (q["inactive"] == "true")]
            custs = [c for c in custs if _dates(q, "lastModified", c.modified.date())]
            return self._page(path, [self._contact(c) for c in custs], q)
        if rest.startswith("/contacts/"):
            cust = next((c for c in w.customers if str(c.id) == rest.rsplit("/", 1)[1]), None)
            return Reply(200, self._contact(cust)) if cust else Reply(404, {})
        if rest == "/invoices":
            docs = [d for d in w.live_docs() if d.kind == "invoice"]
            docs = [d for d in docs if _dates(q, "issueDate", d.issue)]
            docs = [d for d in docs if _dates(q, "lastModified", self._invoice_modified(d))]
            if q.get("settled") in ("true", "false"):
                docs = [d for d in docs if (d.open == 0) == (q["settled"] == "true")]
            if "invoiceNumber" in q:
                docs = [d for d in docs if str(d.number) == q["invoiceNumber"]]
            if "customerId" in q:
                docs = [d for d in docs if str(d.customer.id) == q["customerId"]]
            return self._page(path, [self._invoice(d) for d in docs], q)
        if rest.startswith("/invoices/"):
            doc = next((d for d in w.docs if str(d.id) == rest.rsplit("/", 1)[1] and d.kind == "invoice"), None)
            return Reply(200, self._invoice(doc)) if doc else Reply(404, {})
        if rest == "/creditNotes":
            docs = [d for d in w.live_docs() if d.kind == "credit_note"]
            docs = [d for d in docs if _dates(q, "issueDate", d.issue)]
            docs = [d for d in docs if _dates(q, "lastModified", d.modified.date())]
            return self._page(path, [self._credit_note(d) for d in docs], q)
        if rest.startswith("/creditNotes/"):
            doc = next((d for d in w.docs if str(d.id) == rest.rsplit("/", 1)[1] and d.kind == "credit_note"), None)
            return Reply(200, self._credit_note(doc)) if doc else Reply(404, {})
        if rest == "/sales":
            docs = [d for d in w.live_docs() if d.kind == "invoice"]
            docs = [d for d in docs if _dates(q, "lastModified", self._sale_modified(d))]
            if q.get("settled") in ("true", "false"):
                docs = [d for d in docs if (d.open == 0) == (q["settled"] == "true")]
            return self._page(path, [self._sale(d) for d in docs], q)
        if rest == "/generalJournalEntries" and method == "POST":
            request = json.loads(body)
            entries = request.get("journalEntries") or []
            texts = [request.get("description"), *(e.get("description") for e in entries)]
            if any(len(API_FLAG + t) > 200 for t in texts if t):
                return Reply(400, {"message": "description: size must be between 0 and 200"})
            for entry in entries:
                ident = 7_700_000 + len(self.journal_entries)
                described = {**entry, "description": API_FLAG + str(entry.get("description") or "")}
                self.journal_entries.append({**described, "journalEntryId": ident, "journalEntryNumber": ident % 1000})
            location = f"{self.url}{prefix}/journalEntries/{self.journal_entries[-1]['journalEntryId']}"
            return Reply(201, None, {"Location": location})
        if rest == "/journalEntries":
            rows = [e for e in self.journal_entries if _dates(q, "date", parse_day(e["date"]))]
            return self._page(path, [self._journal_entry(e) for e in rows], q)
        return Reply(404, {})

    def _page(self, path: str, rows: list[Any], q: dict[str, str]) -> Reply:
        page, size = int(q.get("page", 0)), int(q.get("pageSize", 25))
        size = min(size, 100)
        served, endless = self.page_to_serve(path, page)
        chunk = [] if served is None else rows[served * size : (served + 1) * size]
        pages = 1_000_000 if endless else -(-len(rows) // size)
        headers = {
            "Fiken-Api-Page": str(page),
            "Fiken-Api-Page-Size": str(size),
            "Fiken-Api-Page-Count": str(pages),
            "Fiken-Api-Result-Count": str(len(rows)),
        }
        return Reply(200, chunk, headers)

    # ---- the world in Fiken's shapes --------------------------------------------------------------

    def _invoice_modified(self, d: Doc) -> Any:
        notes = [c.modified for c in self.world.live_docs() if c.kind == "credit_note" and c.credits == d.number]
        return max([d.modified, *notes]).date()

    @staticmethod
    def _sale_modified(d: Doc) -> Any:
        return max(d.modified, d.balance_modified).date()

    @staticmethod
    def _contact(c: Cust) -> dict[str, Any]:
        return {
            "contactId": c.id,
            "createdDate": c.modified.date(),
            "lastModifiedDate": c.modified.date(),
            "name": c.name,
            "email": c.email,
            "organizationNumber": c.org_no,
            "customerNumber": c.number,
            "customerAccountCode": f"1500:{c.number}",
            "customer": True,
            "supplier": False,
            "inactive": c.inactive,
            "address": {"streetAddress": "Sjøgata 1", "city": "Bodø", "postCode": "8006", "country": "Norge"},
            "contactPerson": (
                [{"contactPersonId": c.id + 1, "name": "Regnskap", "email": c.email, "phoneNumber": c.phone}]
                if c.phone
                else []
            ),
        }

    def _sale(self, d: Doc) -> dict[str, Any]:
        pays = self.world.pays_of(d)
        return {
            "saleId": d.id + 1,
            "lastModifiedDate": self._sale_modified(d),
            "transactionId": d.id + 2,
            "saleNumber": f"S{d.number}",
            "date": d.issue,
            "kind": "invoice",
            "netAmount": ore(d.amount),
            "vatAmount": 0,
            "settled": d.open == 0,
            "settledDate": max((p.on for p in pays), default=None) if d.open == 0 else None,
            "writeOff": False,
            "totalPaid": ore(sum((p.amount * d.rate for p in pays), start=Decimal(0))),
            "totalPaidInCurrency": ore(sum((p.amount for p in pays), start=Decimal(0))),
            "outstandingBalance": ore(d.open * d.rate),
            **({"outstandingBalanceInCurrency": ore(d.open)} if d.currency != "NOK" else {}),
            "customer": self._contact(d.customer),
            "currency": d.currency,
            "dueDate": d.due,
            "kid": d.kid,
            "salePayments": [
                {
                    "paymentId": p.id,
                    "date": p.on,
                    "account": "1920:10001",
                    "amount": ore(p.amount),
                    **({"amountInNok": ore(p.amount * d.rate), "currency": d.currency} if d.currency != "NOK" else {}),
                }
                for p in pays
            ],
            "deleted": d.deleted,
        }

    def _invoice(self, d: Doc) -> dict[str, Any]:
        return {
            "invoiceId": d.id,
            "createdDate": d.issue,
            "lastModifiedDate": self._invoice_modified(d),
            "invoiceNumber": d.number,
            "kid": d.kid,
            "issueDate": d.issue,
            "dueDate": d.due,
            "originalDueDate": d.due,
            "net": ore(d.amount),
            "vat": 0,
            "gross": ore(d.amount),
            "netInNok": ore(d.amount * d.rate),
            "vatInNok": 0,
            "grossInNok": ore(d.amount * d.rate),
            "cash": False,
            "currency": d.currency,
            "customer": self._contact(d.customer),
            "sale": self._sale(d),
            "associatedCreditNotes": [c.id for c in self.world.live_docs() if c.credits == d.number and c is not d],
            "sentManually": False,
        }

    def _credit_note(self, d: Doc) -> dict[str, Any]:
        target = self.world.doc(d.credits).id if d.credits else None
        return {
            "creditNoteId": d.id,
            "creditNoteNumber": d.number,
            "kid": None,
            "net": ore(d.amount),
            "vat": 0,
            "gross": ore(d.amount),
            "netInNok": ore(d.amount * d.rate),
            "vatInNok": 0,
            "grossInNok": ore(d.amount * d.rate),
            "issueDate": d.issue,
            "lastModifiedDate": d.modified.date(),
            "settled": True,
            "associatedInvoiceId": target,
            "currency": d.currency,
            "customer": self._contact(d.customer),
            "address": {"streetAddress": "Sjøgata 1", "city": "Bodø", "postCode": "8006", "country": "Norge"},
        }

    @staticmethod
    def _journal_entry(e: dict[str, Any]) -> dict[str, Any]:
        lines = []
        for line in e.get("lines") or []:
            lines.append({"amount": line["amount"], "account": line.get("debitAccount")})
            lines.append({"amount": -line["amount"], "account": line.get("creditAccount")})
        return {
            "journalEntryId": e["journalEntryId"],
            "journalEntryNumber": e["journalEntryNumber"],
            "description": e.get("description"),
            "date": e["date"],
            "lines": lines,
        }


def _dates(q: dict[str, str], name: str, value: Any) -> bool:
    """Fiken's date filters: ``X`` (equal), ``XLe``, ``XLt``, ``XGe``, ``XGt`` (yyyy-MM-dd)."""
    checks = {
        "": lambda a, b: a == b,
        "Le": lambda a, b: a <= b,
        "Lt": lambda a, b: a < b,
        "Ge": lambda a, b: a >= b,
        "Gt": lambda a, b: a > b,
    }
    for suffix, check in checks.items():
        if f"{name}{suffix}" in q and not check(value, parse_day(q[f"{name}{suffix}"])):
            return False
    return True
