"""A fake Tripletex API v2 on 127.0.0.1, answering as the OpenAPI spec (2.72.00) and the public
``Tripletex/tripletex-api2`` repository (README, FAQ) say the real one does:

- envelopes ``{"fullResultSize", "from", "count", "versionDigest", "values"}`` / ``{"value"}``;
  ``fullResultSize`` is deprecated and inexact here on purpose; ``versionDigest`` is a checksum of the
  full result only when the request sends ``If-None-Match`` (any non-empty value), and the checksum
  itself as ``If-None-Match`` is answered 304 Not Modified while the result is the same; without the
  header it is the sentence real answers carry (tripletex-api2 ``examples/bash/checksum``, changelog
  2.59.0 "only used if the client specifies the If-None-Match header");
- the ``fields`` expression: without it, or for a field named without ``(...)``, a nested object is
  only ``{"id", "url"}`` ("just ``project`` returns ``{id, url}``"); ``*`` is every field of that level;
- ``GET /customer`` leaves inactive customers out unless ``isInactive=true`` (default false);
- ``GET /invoice`` needs ``invoiceDateFrom``/``invoiceDateTo`` (422 otherwise), "to" excluded;
- ``Invoice.postings``: "a posting for the invoice with a positive amount, and one or more posting for
  the payments with negative amounts"; a payment registered by hand has no posting ``type`` (null);
- ``/ledger/posting/openPost``: the open postings (invoice and part payments), suppliers' and bank
  postings included (no customer);
- ``X-Rate-Limit-Limit/-Remaining/-Reset`` on answers; a spent quota answers 429 for the rest of the
  period *without* ``X-Rate-Limit-Reset`` (tripletex-api2 issue #103) — see :meth:`FakeTripletex.throttle`;
- ``DELETE /token/session/{token}`` answers 204 and the session is gone;
- ``POST /ledger/voucher`` (with ``externalVoucherNumber``) and ``GET /ledger/voucher/>externalVoucherNumber``.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from datetime import date
from decimal import Decimal
from typing import Any

from connector.http import Limits
from tests.fakes.ledger_base import FakeSystem, Reply, _Enc, basic_password, cents, parse_day
from tests.fakes.ledger_world import Cust, Doc, Pay, World

COUNTRIES = {"NO": (161, "Norge", "NOR"), "DK": (57, "Danmark", "DNK"), "SE": (200, "Sverige", "SWE")}
LEDGER_ACCOUNT: dict[str, Any] = {"id": 4711500, "number": 1500, "name": "Kundefordringer"}
# versionDigest of a list asked without If-None-Match, as real answers carry it (captured responses).
NO_CHECKSUM = "'If-None-Match' header not specified"


def fields_tree(expr: str) -> dict[str, Any]:
    """``id,postalAddress(*,country(isoAlpha2Code))`` → ``{"id": None, "postalAddress": {"*": None, ...}}``."""

    def parse(i: int) -> tuple[dict[str, Any], int]:
        node: dict[str, Any] = {}
        name = ""
        while i < len(expr):
            ch = expr[i]
            if ch == ",":
                if name.strip():
                    node.setdefault(name.strip(), None)
                name, i = "", i + 1
            elif ch == "(":
                sub, i = parse(i + 1)
                node[name.strip()] = sub
                name = ""
            elif ch == ")":
                if name.strip():
                    node.setdefault(name.strip(), None)
                return node, i + 1
            else:
                name, i = name + ch, i + 1
        if name.strip():
            node.setdefault(name.strip(), None)
        return node, i

    return parse(0)[0]


def project(obj: Any, tree: dict[str, Any]) -> Any:
    """``obj`` as the ``fields`` tree selects it: nested objects not expanded become ``{id, url}``."""
    if not isinstance(obj, dict):
        return obj
    names = list(obj) if "*" in tree else []
    names += [k for k in tree if k != "*" and k not in names]
    return {k: _shape(obj[k], tree.get(k)) for k in names if k in obj}


def _shape(value: Any, sub: dict[str, Any] | None) -> Any:
    if isinstance(value, list):
        return [_shape(v, sub) for v in value]
    if isinstance(value, dict):
        if sub is not None:
            return project(value, sub)
        return {"id": value["id"], "url": value.get("url")} if "id" in value else value
    return value


class FakeTripletex(FakeSystem):
    name = "tripletex"
    consumer, employee = "test-consumer-tok-1234", "test-employee-tok-5678"

    def __init__(
        self, world: World, latency: float = 0.0, inexact_total: bool = True, limits: Limits | None = None
    ) -> None:
        super().__init__(world, latency, limits)
        self.inexact_total = inexact_total
        self.employees = {self.employee}  # accountants' employee tokens the fake knows (more may be added)
        self.session_of: dict[str, str] = {}  # session token -> the employee token it was made with
        self.sessions = 0
        self.deleted_sessions: list[str] = []
        self.vouchers: list[dict[str, Any]] = []
        self._period_end = 0.0  # the current rate-limit period (monotonic seconds)
        self._throttle_after: int | None = None  # answers left before "other consumers" spend the quota
        self._period = 0.0
        self._asked = threading.local()  # .checksum: If-None-Match of the request this thread answers

    def throttle(self, after: int, period: float) -> None:
        """A quota period of ``period`` seconds starts now; after ``after`` more answers the quota is
        spent (by other integrations on the same employee token), and every call answers 429 without
        ``X-Rate-Limit-Reset`` until the period ends (issue #103)."""
        with self.lock:
            self._period = period
            self._period_end = time.monotonic() + period
            self._throttle_after = after

    def _quota(self) -> tuple[Reply | None, dict[str, str]]:
        now = time.monotonic()
        with self.lock:
            if self._throttle_after is not None and now >= self._period_end:
                self._throttle_after = None  # a new period: the quota is back
            if self._period_end <= now:
                self._period_end = now + (self._period or 60.0)
            left = max(0, math.ceil(self._period_end - now))
            if self._throttle_after is not None:
                if self._throttle_after <= 0:
                    return Reply(429, {"status": 429, "code": None, "message": "Too many requests"}), {}
                self._throttle_after -= 1
        return None, {"X-Rate-Limit-Limit": "1000", "X-Rate-Limit-Remaining": "500", "X-Rate-Limit-Reset": str(left)}

    def credential(self, method: str, path: str, q: dict[str, str], headers: dict[str, str]) -> str:
        # The limit is per employee (and consumer): a session counts against the employee who made it.
        if path.endswith("/token/session/:create"):
            return q.get("employeeToken", "")
        return self.session_of.get(basic_password(headers), "")

    # ---- routing --------------------------------------------------------------------------------

    def route(self, method: str, path: str, q: dict[str, str], headers: dict[str, str], body: bytes) -> Reply:
        path = path.removeprefix("/v2")
        if path == "/token/session/:create" and method == "PUT":
            employee = q.get("employeeToken", "")
            if q.get("consumerToken") != self.consumer or employee not in self.employees:
                return Reply(401, {"status": 401, "code": 3000, "message": "Invalid tokens"})
            with self.lock:
                self.sessions += 1
                token = f"test-session-{self.sessions}-eyJ0b2tlbklkIjoxMTIy"
                self.valid_tokens.add(token)
                self.session_of[token] = employee
            return Reply(200, {"value": {"id": 11223344, "expirationDate": q.get("expirationDate"), "token": token}})
        token = basic_password(headers)
        if token not in self.valid_tokens:
            return Reply(401, {"status": 401, "code": 3000, "message": "Unauthorized"})
        refused, limit_headers = self._quota()
        if refused is not None:
            return refused
        self._asked.checksum = headers.get("If-None-Match") or None
        reply = self._answer(method, path, q, token, body)
        reply.headers = {**limit_headers, **reply.headers}
        return reply

    def _answer(self, method: str, path: str, q: dict[str, str], token: str, body: bytes) -> Reply:
        w = self.world
        fields = fields_tree(q.get("fields") or "*")
        if path.startswith("/token/session/") and method == "DELETE":
            gone = path.rsplit("/", 1)[1]
            self.valid_tokens.discard(gone)
            self.deleted_sessions.append(gone)
            return Reply(204)
        if path == "/token/session/>whoAmI":
            return Reply(200, {"value": {"employeeId": 902, "companyId": 1}})
        if path == "/customer":
            inactive = q.get("isInactive", "false") == "true"
            custs = [c for c in w.customers if c.inactive == inactive]
            if "changedSince" in q:
                since = parse_day(q["changedSince"])
                custs = [c for c in custs if c.modified.date() >= since]
            if "id" in q:
                wanted = set(q["id"].split(","))
                custs = [c for c in custs if str(c.id) in wanted]
            return self._list(path, [self._customer(c) for c in custs], q, fields)
        if path == "/invoice":
            if "invoiceDateFrom" not in q or "invoiceDateTo" not in q:
                return Reply(422, _error(422, 15000, "invoiceDateFrom og invoiceDateTo må fylles ut."))
            lo, hi = parse_day(q["invoiceDateFrom"]), parse_day(q["invoiceDateTo"])
            docs = [d for d in w.live_docs() if lo <= d.issue < hi]
            if "id" in q:
                ids = set(q["id"].split(","))
                docs = [d for d in docs if str(d.id) in ids]
            if "invoiceNumber" in q:
                docs = [d for d in docs if str(d.number) == q["invoiceNumber"]]
            if "customerId" in q:
                docs = [d for d in docs if str(d.customer.id) == q["customerId"]]
            return self._list(path, [self._invoice(d) for d in docs], q, fields)
        if path.startswith("/invoice/") and method == "GET":
            doc = next((d for d in w.live_docs() if str(d.id) == path.rsplit("/", 1)[1]), None)
            if doc is None:
                return Reply(404, _error(404, 6000, "Object not found"))
            return Reply(200, {"value": project(self._invoice(doc), fields)})
        if path == "/ledger/posting":
            if "dateFrom" not in q or "dateTo" not in q:
                return Reply(422, _error(422, 15000, "dateFrom og dateTo må fylles ut."))
            lo, hi = parse_day(q["dateFrom"]), parse_day(q["dateTo"])
            rows = [p for p in self._all_postings() if lo <= p["date"] < hi]
            if "type" in q:
                rows = [p for p in rows if p["type"] == q["type"]]  # a null type never equals a filter
            if "customerId" in q:
                rows = [p for p in rows if p["customer"] and str(p["customer"]["id"]) == q["customerId"]]
            return self._list(path, rows, q, fields)
        if path == "/ledger/posting/openPost":
            if "date" not in q:
                return Reply(422, _error(422, 15000, "date må fylles ut."))
            rows = [self._bank_posting()]
            for d in w.live_docs():
                if d.open and d.issue < parse_day(q["date"]):
                    rows += self._postings(d)
            return self._list(path, rows, q, fields)
        if path == "/ledger/voucher" and method == "POST":
            voucher = json.loads(body)
            voucher["id"] = 880000 + len(self.vouchers)
            self.vouchers.append(voucher)
            return Reply(201, {"value": voucher})
        if path == "/ledger/voucher/>externalVoucherNumber":
            found = [v for v in self.vouchers if v.get("externalVoucherNumber") == q.get("externalVoucherNumber")]
            return self._list(path, found, q, fields)
        return Reply(404, _error(404, 6000, f"no route {path}"))

    def _list(self, path: str, rows: list[dict[str, Any]], q: dict[str, str], fields: dict[str, Any]) -> Reply:
        start, count = int(q.get("from", 0)), int(q.get("count", 1000))
        if count > 1000:
            return Reply(422, _error(422, 23000, "Result set too large"))
        served, endless = self.page_to_serve(path, start // max(count, 1))
        projected = [project(r, fields) for r in rows]
        if endless:
            served = 0
        page = [] if served is None else projected[served * count : served * count + count]
        digest = NO_CHECKSUM
        asked = getattr(self._asked, "checksum", None)
        if asked:
            digest = hashlib.sha256(json.dumps(projected, cls=_Enc).encode()).hexdigest()[:12]
            if asked == digest:
                return Reply(304)  # Not Modified: the data set is the one this checksum names
        total = len(rows) + (7 if self.inexact_total else 0)  # "not exact" (issue #127)
        body = {"fullResultSize": total, "from": start, "count": len(page), "versionDigest": digest, "values": page}
        return Reply(200, body)

    # ---- the world in Tripletex's shapes ----------------------------------------------------------

    def _url(self, kind: str, ident: int) -> str:
        return f"{self.url}/v2/{kind}/{ident}"

    def _customer(self, c: Cust) -> dict[str, Any]:
        cid, cname, alpha3 = COUNTRIES[c.country]
        return {
            "id": c.id,
            "version": 1,
            "url": self._url("customer", c.id),
            "name": c.name,
            "organizationNumber": c.org_no,
            "customerNumber": c.number,
            "email": c.email,
            "invoiceEmail": c.email,
            "isPrivateIndividual": False,
            "isInactive": c.inactive,
            "postalAddress": {
                "id": c.id + 900_000,
                "url": self._url("address", c.id + 900_000),
                "addressLine1": "Sjøgata 1",
                "postalCode": "8006",
                "city": "Bodø",
                "country": {
                    "id": cid,
                    "url": self._url("country", cid),
                    "name": cname,
                    "isoAlpha2Code": c.country,
                    "isoAlpha3Code": alpha3,
                },
            },
            "ledgerAccount": {**LEDGER_ACCOUNT, "url": self._url("ledger/account", LEDGER_ACCOUNT["id"])},
            "currency": self._currency("NOK"),
        }

    def _currency(self, code: str) -> dict[str, Any]:
        ident = {"NOK": 1, "EUR": 2, "SEK": 3, "DKK": 4}.get(code, 9)
        return {"id": ident, "url": self._url("currency", ident), "code": code}

    def _invoice(self, d: Doc) -> dict[str, Any]:
        credit = d.kind == "credit_note"
        sign = -1 if credit else 1
        credited = self.world.doc(d.credits).id if d.credits else 0
        return {
            "id": d.id,
            "version": 1,
            "url": self._url("invoice", d.id),
            "invoiceNumber": d.number,
            "invoiceDate": d.issue,
            "invoiceDueDate": d.due,
            "kid": d.kid or "",
            "customer": self._customer(d.customer),
            "creditedInvoice": credited,
            "isCredited": any(c.credits == d.number and not c.deleted for c in self.world.docs if c is not d),
            "amount": cents(d.amount * d.rate) * sign,
            "amountCurrency": d.amount * sign,
            "amountOutstanding": cents(d.open * d.rate) * sign,
            "amountCurrencyOutstanding": d.open * sign,
            "amountOutstandingTotal": cents(d.open * d.rate) * sign,
            "amountCurrencyOutstandingTotal": d.open * sign,
            "isCreditNote": credit,
            "isCharged": True,
            "isApproved": True,
            "currency": self._currency(d.currency),
            "postings": self._postings(d, closed_too=True),
            "voucher": {"id": d.id + 700_000, "url": self._url("ledger/voucher", d.id + 700_000)},
        }

    def _postings(self, d: Doc, closed_too: bool = False) -> list[dict[str, Any]]:
        """The invoice's customer posting (+) and its payments (−), in NOK with the currency amount beside."""
        sign = -1 if d.kind == "credit_note" else 1
        closed = d.open == 0
        rows = [
            self._posting(
                d.id + 1,
                d,
                d.issue,
                cents(d.amount * d.rate) * sign,
                d.amount * sign,
                "OUTGOING_INVOICE_CUSTOMER_POSTING",
                d.kid,
                closed,
            )
        ]
        for p in self.world.pays_of(d):
            rows.append(self._payment_posting(p, closed))
        return rows if closed_too or not closed else []

    def _payment_posting(self, p: Pay, closed: bool) -> dict[str, Any]:
        d = p.doc
        # A payment registered by hand gets no posting type at all (null): a filter on
        # type=INCOMING_PAYMENT never returns it (issue 16, item 1).
        kind = None if p.manual else "INCOMING_PAYMENT"
        ref = None if p.manual else d.kid
        return self._posting(p.id, d, p.on, -cents(p.amount * d.rate), -p.amount, kind, ref, closed)

    def _posting(
        self,
        ident: int,
        d: Doc,
        on: date,
        amount: Decimal,
        amount_currency: Decimal,
        kind: str | None,
        ref: str | None,
        closed: bool,
    ) -> dict[str, Any]:
        return {
            "id": ident,
            "version": 1,
            "url": self._url("ledger/posting", ident),
            "date": on,
            "description": f"Faktura {d.number}",
            "account": {**LEDGER_ACCOUNT, "url": self._url("ledger/account", LEDGER_ACCOUNT["id"])},
            "customer": self._customer(d.customer),
            "amount": amount,
            "amountCurrency": amount_currency,
            "amountGross": amount,
            "amountGrossCurrency": amount_currency,
            "currency": self._currency(d.currency),
            "closeGroup": {"id": d.id + 800_000, "url": self._url("ledger/closeGroup", d.id + 800_000)}
            if closed
            else None,
            "invoiceNumber": str(d.number),
            "termOfPayment": d.due,
            "type": kind,
            "externalRef": ref,
            "systemGenerated": False,
            "matched": closed,
        }

    def _bank_posting(self) -> dict[str, Any]:
        """An open posting of another ledger (no customer) that shares the endpoint."""
        return {
            "id": 1,
            "version": 1,
            "url": self._url("ledger/posting", 1),
            "date": date(2026, 1, 2),
            "account": {"id": 4711920, "number": 1920, "url": self._url("ledger/account", 4711920)},
            "customer": None,
            "amount": Decimal("-900.00"),
            "amountCurrency": Decimal("-900.00"),
            "currency": self._currency("NOK"),
            "closeGroup": None,
            "invoiceNumber": "",
            "type": None,
            "externalRef": None,
        }

    def _all_postings(self) -> list[dict[str, Any]]:
        rows = []
        for d in self.world.live_docs():
            rows += self._postings(d, closed_too=True)
        return rows


def _error(status: int, code: int, message: str) -> dict[str, Any]:
    """Tripletex's error envelope (spec, "Error/warning envelope")."""
    return {
        "status": status,
        "code": code,
        "message": message,
        "link": "https://tripletex.no/v2-docs/",
        "developerMessage": None,
        "validationMessages": None,
        "requestId": "309af8e5-61d1-424d-b4a2-d34993e7611d",
    }
