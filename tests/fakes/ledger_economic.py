"""A fake e-conomic REST API on 127.0.0.1, answering as its REST docs (the ``e-conomic/slate`` docs
source: introduction, invoices, customers, accounting years) say the real one does:

- static ``X-AppSecretToken`` / ``X-AgreementGrantToken`` headers;
- ``{"collection": [...], "pagination": {..., "results", "nextPage"}, "self"}``, ``skippages`` /
  ``pagesize`` (default 20, at most 1,000), absolute ``self`` and ``nextPage`` links;
- ``filter=<property>$<op>:<value>`` joined by ``$and:``, only on filterable properties, values of the
  property's format: ``customers.lastUpdated`` is a *full-date*, so a timestamp is refused (400);
- booked invoices (a credit note is one with negative amounts), ``/invoices/unpaid``;
- ``/accounting-years`` and ``/accounting-years/:year/entries``: every entry line with ``entryType``
  (``customerInvoice``, ``customerPayment``, …), ``invoiceNumber``, ``bookedInvoice``, ``remainder``,
  the customer on the debtor lines; filterable by ``entryType``, ``date``, ``customer.customerNumber``;
- errors ``{"message", "developerHint", "logId", "httpStatusCode", "errorCode"?}``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from connector.http import Limits
from tests.fakes.ledger_base import FakeSystem, Reply, cents
from tests.fakes.ledger_world import Cust, Doc, World

DEBTORS, REVENUE, BANK = 5820, 1010, 5810  # account numbers of the demo agreement's chart


class FakeEconomic(FakeSystem):
    name = "economic"
    app, grant = "economic-app-secret-777777", "economic-grant-888888"

    def __init__(self, world: World, latency: float = 0.0, limits: Limits | None = None) -> None:
        super().__init__(world, latency, limits)
        self.valid_tokens.add(self.grant)

    def credential(self, method: str, path: str, q: dict[str, str], headers: dict[str, str]) -> str:
        return headers.get("X-AgreementGrantToken", "")  # per agreement grant

    def route(self, method: str, path: str, q: dict[str, str], headers: dict[str, str], body: bytes) -> Reply:
        if headers.get("X-AppSecretToken") != self.app or headers.get("X-AgreementGrantToken") not in self.valid_tokens:
            return Reply(401, _error(401, "Not authorized", "E06000"))
        try:
            return self._answer(path, q)
        except ValueError as exc:  # a filter on a property that cannot be filtered, or a value of the wrong format
            return Reply(400, _error(400, str(exc), "E04300"))

    def _answer(self, path: str, q: dict[str, str]) -> Reply:
        w = self.world
        preds = _filter(q.get("filter", ""))
        if path == "/self":
            return Reply(200, {"agreementNumber": 123456, "company": {"name": "Nordlys ApS"}})
        if path == "/customers":
            rows = [self._customer(c) for c in w.customers]
            return self._page(path, _apply(rows, preds, {"lastUpdated": "date", "customerNumber": "int"}), q)
        if path == "/invoices/booked":
            rows = [self._invoice(d) for d in w.live_docs()]
            fmt = {"date": "date", "bookedInvoiceNumber": "int", "customer.customerNumber": "int"}
            return self._page(path, _apply(rows, preds, fmt), q)
        if path == "/invoices/unpaid":
            rows = [self._invoice(d) for d in w.live_docs() if d.kind == "invoice" and d.open]
            return self._page(path, _apply(rows, preds, {"date": "date", "customer.customerNumber": "int"}), q)
        if path.startswith("/invoices/booked/"):
            doc = next((d for d in w.live_docs() if str(d.number) == path.rsplit("/", 1)[1]), None)
            return Reply(200, self._invoice(doc)) if doc else Reply(404, _error(404, "Not found", "E06000"))
        if path == "/accounting-years":
            return self._page(path, _apply(self._years(), preds, {"fromDate": "date", "toDate": "date"}), q)
        if path.startswith("/accounting-years/") and path.endswith("/entries"):
            year = path.split("/")[2]
            span = next((y for y in self._years() if y["year"] == year), None)
            if span is None:
                return Reply(404, _error(404, "Accounting year not found", "E06000"))
            lo, hi = span["fromDate"], span["toDate"]
            rows = [e for e in self._entries() if lo <= e["date"] <= hi]
            fmt = {"date": "date", "entryType": "str", "customer.customerNumber": "int", "entryNumber": "int"}
            return self._page(path, _apply(rows, preds, fmt), q)
        return Reply(404, _error(404, "Not found", "E06000"))

    def _page(self, path: str, rows: list[Any], q: dict[str, str]) -> Reply:
        skip, size = int(q.get("skippages", 0)), int(q.get("pagesize", 20))
        if size > 1000:
            return Reply(400, _error(400, "pagesize cannot exceed 1000", "E04300"))
        served, endless = self.page_to_serve(path, skip)
        chunk = [] if served is None else rows[served * size : (served + 1) * size]
        filt = f"&filter={q['filter']}" if q.get("filter") else ""
        pag: dict[str, Any] = {
            "maxPageSizeAllowed": 1000,
            "skipPages": skip,
            "pageSize": size,
            "results": len(rows),
            "resultsWithoutFilter": len(rows) + 30,
            "firstPage": f"{self.url}{path}?skippages=0&pagesize={size}{filt}",
        }
        if endless or (skip + 1) * size < len(rows):
            pag["nextPage"] = f"{self.url}{path}?skippages={skip + 1}&pagesize={size}{filt}"
        return Reply(200, {"collection": chunk, "pagination": pag, "self": f"{self.url}{path}"})

    # ---- the world in e-conomic's shapes ----------------------------------------------------------

    def _customer(self, c: Cust) -> dict[str, Any]:
        return {
            "customerNumber": c.number,
            "name": c.name,
            "corporateIdentificationNumber": c.org_no,
            "email": c.email,
            "address": "Vestergade 1",
            "zip": "8000",
            "city": "Aarhus C",
            "country": "Danmark",
            "barred": c.inactive,
            "lastUpdated": c.modified.date(),  # "The date this customer was last updated" (full-date)
            "self": f"{self.url}/customers/{c.number}",
        }

    def _invoice(self, d: Doc) -> dict[str, Any]:
        sign = -1 if d.kind == "credit_note" else 1
        gross = d.amount * sign
        return {
            "bookedInvoiceNumber": d.number,
            "date": d.issue,
            "dueDate": d.due,
            "currency": d.currency,
            "exchangeRate": d.rate * 100,  # per 100 units
            "netAmount": gross,
            "netAmountInBaseCurrency": cents(gross * d.rate),
            "grossAmount": gross,
            "grossAmountInBaseCurrency": cents(gross * d.rate),
            "vatAmount": 0.0,
            "roundingAmount": 0.0,
            "remainder": d.open * sign,
            "remainderInBaseCurrency": cents(d.open * d.rate) * sign,
            "paymentTerms": {"paymentTermsNumber": 1, "daysOfCredit": 14, "paymentTermsType": "net"},
            "customer": {"customerNumber": d.customer.number, "self": f"{self.url}/customers/{d.customer.number}"},
            "recipient": {"name": d.customer.name},
            "pdf": {"download": f"{self.url}/invoices/booked/{d.number}/pdf"},
            "self": f"{self.url}/invoices/booked/{d.number}",
        }

    def _years(self) -> list[dict[str, Any]]:
        first = min([d.issue.year for d in self.world.docs] + [date.today().year])
        out = []
        for year in range(first, date.today().year + 1):
            out.append(
                {
                    "year": str(year),
                    "fromDate": date(year, 1, 1),
                    "toDate": date(year, 12, 31),
                    "closed": year < date.today().year - 1,
                    "entries": f"{self.url}/accounting-years/{year}/entries",
                    "self": f"{self.url}/accounting-years/{year}",
                }
            )
        return out

    def _entries(self) -> list[dict[str, Any]]:
        rows = []
        for d in self.world.live_docs():
            sign = -1 if d.kind == "credit_note" else 1
            booked = {"bookedInvoiceNumber": d.number, "self": f"{self.url}/invoices/booked/{d.number}"}
            base = {"date": d.issue, "currency": d.currency, "voucherNumber": d.id, "text": f"Faktura {d.number}"}
            rows.append(
                {
                    **base,
                    "entryNumber": d.id * 10,
                    "entryType": "customerInvoice",
                    "account": self._account(DEBTORS),
                    "customer": {
                        "customerNumber": d.customer.number,
                        "self": f"{self.url}/customers/{d.customer.number}",
                    },
                    "amount": d.amount * sign,
                    "amountInBaseCurrency": cents(d.amount * d.rate) * sign,
                    "invoiceNumber": str(d.number),
                    "bookedInvoice": booked,
                    "dueDate": d.due,
                    "remainder": d.open * sign,
                    "remainderInBaseCurrency": cents(d.open * d.rate) * sign,
                    "self": f"{self.url}/accounting-years/{d.issue.year}/entries/{d.id * 10}",
                }
            )
            rows.append(
                {
                    **base,
                    "entryNumber": d.id * 10 + 1,
                    "entryType": "customerInvoice",
                    "account": self._account(REVENUE),
                    "amount": -d.amount * sign,
                    "amountInBaseCurrency": -cents(d.amount * d.rate) * sign,
                    "self": f"{self.url}/accounting-years/{d.issue.year}/entries/{d.id * 10 + 1}",
                }
            )
            for p in self.world.pays_of(d):
                pay = {"date": p.on, "currency": d.currency, "voucherNumber": p.id, "text": f"Indbetaling {d.number}"}
                rows.append(
                    {
                        **pay,
                        "entryNumber": p.id * 10,
                        "entryType": "customerPayment",
                        "account": self._account(DEBTORS),
                        "customer": {
                            "customerNumber": d.customer.number,
                            "self": f"{self.url}/customers/{d.customer.number}",
                        },
                        "amount": -p.amount,
                        "amountInBaseCurrency": -cents(p.amount * d.rate),
                        "invoiceNumber": str(d.number),  # the invoice the payment settles
                        "remainder": Decimal(0),
                        "remainderInBaseCurrency": Decimal(0),
                        "self": f"{self.url}/accounting-years/{p.on.year}/entries/{p.id * 10}",
                    }
                )
                rows.append(
                    {
                        **pay,
                        "entryNumber": p.id * 10 + 1,
                        "entryType": "customerPayment",
                        "account": self._account(BANK),
                        "amount": p.amount,
                        "amountInBaseCurrency": cents(p.amount * d.rate),
                        "self": f"{self.url}/accounting-years/{p.on.year}/entries/{p.id * 10 + 1}",
                    }
                )
        return sorted(rows, key=lambda e: e["entryNumber"])

    def _account(self, number: int) -> dict[str, Any]:
        return {"accountNumber": number, "self": f"{self.url}/accounts/{number}"}


def _filter(text: str) -> list[list[tuple[str, str, str]]]:
    """``date$gte:2026-05-02$and:entryType$eq:customerPayment`` → [[(property, operator, value), ...]]: the
    groups ``$or:`` separates, each of conditions ``$and:`` joins (restdocs "Filtering": "And also" $and:,
    "Or else" $or:)."""
    return [_conditions(group) for group in text.split("$or:") if group] or [[]]


def _conditions(text: str) -> list[tuple[str, str, str]]:
    out = []
    for part in [p for p in text.split("$and:") if p]:
        prop, sep, rest = part.partition("$")
        op, colon, value = rest.partition(":")
        if not sep or not colon or op not in {"eq", "ne", "gt", "gte", "lt", "lte", "like", "in", "nin"}:
            raise ValueError(f"the filter '{part}' is not valid")
        out.append((prop, op, value))
    return out


def _apply(
    rows: list[dict[str, Any]], groups: list[list[tuple[str, str, str]]], fmt: dict[str, str]
) -> list[dict[str, Any]]:
    """The rows any group holds for, in their order."""
    kept = {id(r) for preds in groups for r in _apply_all(rows, preds, fmt)}
    return [r for r in rows if id(r) in kept]


def _apply_all(
    rows: list[dict[str, Any]], preds: list[tuple[str, str, str]], fmt: dict[str, str]
) -> list[dict[str, Any]]:
    for prop, op, raw in preds:
        kind = fmt.get(prop)
        if kind is None:
            raise ValueError(f"the property '{prop}' is not filterable")
        value: Any
        if kind == "date":
            try:
                value = date.fromisoformat(raw)  # full-date only: a timestamp is not a date
            except ValueError:
                raise ValueError(f"'{raw}' is not a valid value for '{prop}' (full-date, YYYY-MM-DD)") from None
        elif kind == "int":
            value = [int(v) for v in raw.strip("[]").split(",")] if op in ("in", "nin") else int(raw)
        else:
            value = raw
        rows = [r for r in rows if _holds(_get(r, prop), op, value)]
    return rows


def _get(row: dict[str, Any], prop: str) -> Any:
    value: Any = row
    for part in prop.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _holds(have: Any, op: str, want: Any) -> bool:
    if have is None:
        return op == "ne"
    return {
        "eq": lambda: have == want,
        "ne": lambda: have != want,
        "gt": lambda: have > want,
        "gte": lambda: have >= want,
        "lt": lambda: have < want,
        "lte": lambda: have <= want,
        "in": lambda: have in want,
        "nin": lambda: have not in want,
        "like": lambda: str(want).strip("*").lower() in str(have).lower(),
    }[op]()


def _error(status: int, message: str, code: str) -> dict[str, Any]:
    return {
        "message": message,
        "errorCode": code,
        "developerHint": "Inspect the request and correct it.",
        "logId": "c7ca5bc2-ad2d-4639-93f9-b22ba88c97d7",
        "httpStatusCode": status,
        "logTime": "2026-05-02T10:15:00",
    }
