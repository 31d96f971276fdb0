"""Local fake accounting systems on 127.0.0.1 (real sockets), one per system, rendering a
:class:`ledger_world.World` in each system's wire format (research: accounting-apis.md).

Each fake counts requests, can inject latency, and plays scripted faults: 429 with or without
Retry-After, 500/502/503, a read timeout, a dropped connection, an HTML error page, malformed JSON,
and an expired session. Rate limits are observed (``peak_rate``), not enforced — unless a fake is given
the system's ``limits``: then it counts requests per credential (the token or key the real system's
limit applies to), flags every request beyond the limit in ``breaches`` and answers it 429, as the
real system would.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import math
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, overload
from urllib.parse import parse_qs, urlsplit

from connector.http import Limits
from tests.fakes.ledger_world import Doc, World


class _Enc(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            return float(o)  # real APIs send JSON numbers; the client parses them as Decimal
        if isinstance(o, date | datetime):
            return o.isoformat()
        return super().default(o)


@dataclass
class Fault:
    kind: str  # 429, 429-after, 500, 502, 503, timeout, drop, html, badjson, expire
    path: str = ""  # substring of the request path the fault applies to ("" = any)
    times: int = 1


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None


class FakeSystem:
    """Base: HTTP plumbing, counting, faults. Subclasses implement ``route``."""

    name = "fake"

    def __init__(self, world: World, latency: float = 0.0, limits: Limits | None = None):
        self.world = world
        self.latency = latency
        self.faults: deque[Fault] = deque()
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self.stamps: list[float] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.valid_tokens: set[str] = set()
        self._server: ThreadingHTTPServer | None = None
        # Per credential (a hash of the token or key the system's limit applies to, never the secret):
        self.limits = limits
        self.by_credential: dict[str, list[float]] = {}  # arrival times
        self.flying: dict[str, int] = {}
        self.breaches: list[str] = []
        # Called with (method, path, query, headers) as each request arrives, before it is answered: a test
        # acts at an exact point of a client's sync (the queue's kill test ends a worker there).
        self.hook: Callable[[str, str, dict[str, str], dict[str, str]], None] | None = None

    # ---- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> FakeSystem:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body in one segment: no 40 ms delayed-ACK stall
            wbufsize = 1 << 16
            timeout = 2  # an idle keep-alive connection ends, and its thread with it, after the server stops

            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._serve(self, "GET")

            def do_PUT(self) -> None:
                fake._serve(self, "PUT")

            def do_POST(self) -> None:
                fake._serve(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def __exit__(self, *_: Any) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ---- observation ----------------------------------------------------------------------------

    def requests(self, prefix: str = "") -> list[str]:
        return [p for _m, p, _q in self.log if p.startswith(prefix) or prefix in p]

    def peak_rate(self, window: float = 1.0) -> int:
        """Most requests that started within any ``window`` seconds."""
        stamps = sorted(self.stamps)
        best, j = 0, 0
        for i, t in enumerate(stamps):
            while t - stamps[j] >= window:
                j += 1
            best = max(best, i - j + 1)
        return best

    def reset_log(self) -> None:
        with self.lock:
            self.log.clear()
            self.stamps.clear()

    # ---- plumbing -------------------------------------------------------------------------------

    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        headers = dict(h.headers.items())
        with self.lock:
            now = time.monotonic()
            self.log.append((method, parts.path, query))
            self.stamps.append(now)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            credential = _hashed(self.credential(method, parts.path, query, headers))
            over = self._arrive(credential, now, method, parts.path)
            fault = self._take_fault(parts.path)
        departed = False
        try:
            if self.hook is not None:
                self.hook(method, parts.path, query, headers)
            if self.latency:
                time.sleep(self.latency)
            if over:
                reply = Reply(429, {"status": 429, "message": "Too many requests"}, {"Retry-After": "1"})
            elif fault is not None and self._play(h, fault):
                return
            else:
                try:
                    reply = self.route(method, parts.path, query, headers, body)
                except Exception as exc:  # a bug in the fake shows up as a 500 with the reason
                    reply = Reply(500, {"message": f"fake error: {exc!r}"})
            # Done before the answer leaves: once it is out, the client may rightly send the next request.
            self._depart(credential)
            departed = True
            self._send(h, reply)
        finally:
            with self.lock:
                self.in_flight -= 1
            if not departed:
                self._depart(credential)

    # ---- per-credential limits ------------------------------------------------------------------

    def credential(self, method: str, path: str, q: dict[str, str], headers: dict[str, str]) -> str:
        """The token or key this system's rate limit applies to (subclasses say which)."""
        return ""

    def _arrive(self, credential: str, now: float, method: str, path: str) -> bool:
        """Count the request; True when it breaks the system's limit for its credential (under the lock)."""
        stamps = self.by_credential.setdefault(credential, [])
        stamps.append(now)
        self.flying[credential] = self.flying.get(credential, 0) + 1
        lim = self.limits
        if lim is None:
            return False
        problems = []
        if lim.rate_per_second:
            cap = max(1, math.floor(lim.rate_per_second))
            recent = sum(1 for t in stamps[-(cap + 1) :] if now - t < 1.0)
            if recent > cap:
                problems.append(f"{recent} requests within 1 s (limit {cap})")
        if lim.max_concurrent and self.flying[credential] > lim.max_concurrent:
            problems.append(f"{self.flying[credential]} in flight (limit {lim.max_concurrent})")
        for p in problems:
            self.breaches.append(f"{self.name} credential {credential}: {method} {path}: {p}")
        return bool(problems)

    def _depart(self, credential: str) -> None:
        with self.lock:
            self.flying[credential] -= 1

    def requests_per_credential(self) -> dict[str, int]:
        with self.lock:
            return {k: len(v) for k, v in self.by_credential.items()}

    def _take_fault(self, path: str) -> Fault | None:
        for f in self.faults:
            if f.path in path:
                f.times -= 1
                if f.times <= 0:
                    self.faults.remove(f)
                return f
        return None

    def _play(self, h: BaseHTTPRequestHandler, f: Fault) -> bool:
        if f.kind == "expire":
            self.valid_tokens.clear()  # the session/token dies now; this request then fails auth
            return False
        if f.kind == "timeout":
            time.sleep(1.0)  # longer than the tests' read timeout
            self._send(h, Reply(200, []))
            return True
        if f.kind == "drop":
            h.close_connection = True
            h.wfile.flush()
            with contextlib.suppress(OSError):
                h.connection.shutdown(socket.SHUT_RDWR)
            return True
        replies = {
            "429": Reply(429, {"status": 429, "message": "Too many requests"}),
            "429-after": Reply(429, {"status": 429, "message": "Too many requests"}, {"Retry-After": "2"}),
            "500": Reply(500, {"status": 500, "message": "Internal error"}),
            "502": Reply(502, raw=b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
            "503": Reply(503, {"message": "Service unavailable"}),
            "html": Reply(200, raw=b"<!DOCTYPE html><html><body>Maintenance</body></html>"),
            "badjson": Reply(200, raw=b'{"values": [{"id": 1,'),
        }
        self._send(h, replies[f.kind])
        return True

    def _send(self, h: BaseHTTPRequestHandler, r: Reply) -> None:
        data = r.raw if r.raw is not None else (json.dumps(r.body, cls=_Enc).encode() if r.body is not None else b"")
        ctype = "text/html" if r.raw is not None and data.startswith(b"<") else "application/json"
        with contextlib.suppress(OSError):  # the client went away (a worker killed mid-request)
            h.send_response(r.status)
            h.send_header("Content-Type", ctype)
            for k, v in r.headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)

    def route(self, method: str, path: str, q: dict[str, str], headers: dict[str, str], body: bytes) -> Reply:
        raise NotImplementedError


def _hashed(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()[:10] if credential else ""


def _after(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


@overload
def _day(value: str) -> date: ...
@overload
def _day(value: str | None) -> date | None: ...
def _day(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _basic_password(headers: dict[str, str]) -> str:
    try:
        return base64.b64decode(headers.get("Authorization", "").removeprefix("Basic ")).decode().split(":", 1)[1]
    except (ValueError, IndexError):
        return ""


# ---- Tripletex ----------------------------------------------------------------------------------


class FakeTripletex(FakeSystem):
    name = "tripletex"
    consumer, employee = "test-consumer-tok-1234", "test-employee-tok-5678"

    def __init__(self, world: World, latency: float = 0.0, inexact_total: bool = True, limits: Limits | None = None):
        super().__init__(world, latency, limits)
        self.inexact_total = inexact_total
        self.sessions = 0
        self.employees = {self.employee}  # accountants' employee tokens the fake knows (more may be added)
        self.session_of: dict[str, str] = {}  # session token -> the employee token it was made with

    def credential(self, method: str, path: str, q: dict[str, str], headers: dict[str, str]) -> str:
        # The limit is per employee (and consumer): a session counts against the employee who made it.
        if path.endswith("/token/session/:create"):
            return q.get("employeeToken", "")
        return self.session_of.get(_basic_password(headers), "")

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
        token = _basic_password(headers)
        if token not in self.valid_tokens:
            return Reply(401, {"status": 401, "code": 3000, "message": "Unauthorized"})
        w = self.world
        if path == "/token/session/>whoAmI":
            return Reply(200, {"value": {"employeeId": 902, "companyId": 1}})
        if path == "/customer":
            since = _day(q.get("changedSince"))
            rows = [self._customer(c) for c in w.customers if since is None or c.modified.date() >= since]
            return self._list(rows, q)
        if path == "/invoice":
            if "invoiceDateFrom" not in q or "invoiceDateTo" not in q:
                return Reply(422, {"status": 422, "code": 15000, "message": "invoiceDateFrom/To required"})
            lo, hi = _day(q["invoiceDateFrom"]), _day(q["invoiceDateTo"])
            docs = [d for d in w.live_docs() if lo <= d.issue < hi]
            if "id" in q:
                ids = set(q["id"].split(","))
                docs = [d for d in docs if str(d.id) in ids]
            if "invoiceNumber" in q:
                docs = [d for d in docs if str(d.number) == q["invoiceNumber"]]
            return self._list(docs, q, self._invoice)
        if path.startswith("/invoice/"):
            doc = next((d for d in w.live_docs() if str(d.id) == path.rsplit("/", 1)[1]), None)
            return Reply(200, {"value": self._invoice(doc)}) if doc else Reply(404, {"status": 404, "code": 6000})
        if path == "/ledger/posting":
            lo, hi = _day(q["dateFrom"]), _day(q["dateTo"])
            pays = [p for p in w.payments if lo <= p.on < hi and q.get("type") == "INCOMING_PAYMENT"]
            return self._list(pays, q, self._posting)
        if path == "/ledger/posting/openPost":
            rows = [{"id": 1, "amount": -900.0, "invoiceNumber": "", "customer": None}]
            for d in w.live_docs():
                if d.open:
                    sign = 1 if d.kind == "invoice" else -1
                    rows.append(
                        {
                            "id": d.id + 1,
                            "amount": d.open * sign,
                            "invoiceNumber": str(d.number),
                            "customer": {"id": d.customer.id},
                            "closeGroup": None,
                        }
                    )
            return self._list(rows, q)
        return Reply(404, {"status": 404, "code": 6000, "message": f"no route {path}"})

    def _list(self, rows: list[Any], q: dict[str, str], render: Any = None) -> Reply:
        start, count = int(q.get("from", 0)), int(q.get("count", 1000))
        page = rows[start : start + count]
        page = [render(r) for r in page] if render else page
        total = len(rows) + (7 if self.inexact_total else 0)  # "not exact" (issue #127)
        headers = {"X-Rate-Limit-Limit": "1000", "X-Rate-Limit-Remaining": "900", "X-Rate-Limit-Reset": "30"}
        body = {"fullResultSize": total, "from": start, "count": len(page), "versionDigest": "9f3c", "values": page}
        return Reply(200, body, headers)

    @staticmethod
    def _customer(c: Any) -> dict[str, Any]:
        return {
            "id": c.id,
            "version": 1,
            "name": c.name,
            "organizationNumber": c.org_no,
            "customerNumber": c.number,
            "email": c.email,
            "invoiceEmail": c.email,
            "isPrivateIndividual": False,
            "postalAddress": {"addressLine1": "Sjøgata 1", "postalCode": "8006", "city": "Bodø"},
        }

    def _invoice(self, d: Doc) -> dict[str, Any]:
        credit = d.kind == "credit_note"
        credited = self.world.doc(d.credits).id if d.credits else 0
        amount = -d.amount if credit else d.amount
        return {
            "id": d.id,
            "version": 1,
            "invoiceNumber": d.number,
            "invoiceDate": d.issue,
            "invoiceDueDate": d.due,
            "kid": d.kid or "",
            "customer": {"id": d.customer.id},
            "amount": amount,
            "amountCurrency": amount,
            "amountOutstanding": -d.open if credit else d.open,
            "amountCurrencyOutstanding": -d.open if credit else d.open,
            "isCreditNote": credit,
            "creditedInvoice": credited,
            "currency": {"code": "NOK"},
        }

    @staticmethod
    def _posting(p: Any) -> dict[str, Any]:
        return {
            "id": p.id,
            "date": p.on,
            "amount": -p.amount,
            "amountCurrency": -p.amount,
            "invoiceNumber": str(p.doc.number),
            "externalRef": p.doc.kid or "",
            "type": "INCOMING_PAYMENT",
            "customer": {"id": p.doc.customer.id},
            "currency": {"code": "NOK"},
        }


# ---- Fiken --------------------------------------------------------------------------------------


class FakeFiken(FakeSystem):
    name = "fiken"
    token = "fiken-personal-token-abcdef123456"
    slug = "nordlys-ror-as"

    def __init__(self, world: World, latency: float = 0.0, limits: Limits | None = None):
        super().__init__(world, latency, limits)
        self.valid_tokens.add(self.token)

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
            since = _day(q.get("lastModifiedGe"))
            rows = [self._contact(c) for c in w.customers if since is None or c.modified.date() >= since]
            return self._page(rows, q)
        if rest == "/invoices":
            docs = [d for d in w.live_docs() if d.kind == "invoice"]
            if "issueDateGe" in q:
                docs = [d for d in docs if d.issue >= _day(q["issueDateGe"])]
            if "lastModifiedGe" in q:
                docs = [d for d in docs if max(d.modified, d.balance_modified).date() >= _day(q["lastModifiedGe"])]
            if q.get("settled") == "false":
                docs = [d for d in docs if d.open > 0]
            return self._page(docs, q, self._invoice)
        if rest.startswith("/invoices/"):
            doc = next((d for d in w.docs if str(d.id) == rest.rsplit("/", 1)[1] and d.kind == "invoice"), None)
            return Reply(200, self._invoice(doc)) if doc else Reply(404, {})
        if rest == "/creditNotes":
            docs = [d for d in w.live_docs() if d.kind == "credit_note"]
            if "issueDateGe" in q:
                docs = [d for d in docs if d.issue >= _day(q["issueDateGe"])]
            return self._page([self._credit_note(d) for d in docs], q)
        return Reply(404, {})

    def _page(self, rows: list[Any], q: dict[str, str], render: Any = None) -> Reply:
        page, size = int(q.get("page", 0)), int(q.get("pageSize", 25))
        size = min(size, 100)
        chunk = rows[page * size : (page + 1) * size]
        chunk = [render(r) for r in chunk] if render else chunk
        pages = max(1, -(-len(rows) // size))
        headers = {
            "Fiken-Api-Page": str(page),
            "Fiken-Api-Page-Size": str(size),
            "Fiken-Api-Page-Count": str(pages),
            "Fiken-Api-Result-Count": str(len(rows)),
        }
        return Reply(200, chunk, headers)

    @staticmethod
    def _contact(c: Any) -> dict[str, Any]:
        return {
            "contactId": c.id,
            "name": c.name,
            "email": c.email,
            "organizationNumber": c.org_no,
            "customerNumber": c.number,
            "customerAccountCode": f"1500:{c.number}",
            "customer": True,
            "supplier": False,
            "inactive": False,
            "lastModifiedDate": c.modified.date(),
        }

    def _invoice(self, d: Doc) -> dict[str, Any]:
        ore = lambda v: int(v * 100)  # noqa: E731
        pays = self.world.pays_of(d)
        return {
            "invoiceId": d.id,
            "createdDate": d.issue,
            "lastModifiedDate": d.modified.date(),
            "invoiceNumber": d.number,
            "kid": d.kid,
            "issueDate": d.issue,
            "dueDate": d.due,
            "originalDueDate": d.due,
            "net": ore(d.amount),
            "vat": 0,
            "gross": ore(d.amount),
            "grossInNok": ore(d.amount),
            "cash": False,
            "currency": "NOK",
            "customer": {"contactId": d.customer.id, "name": d.customer.name, "organizationNumber": d.customer.org_no},
            "sale": {
                "saleId": d.id + 1,
                "settled": d.open == 0,
                "totalPaid": ore(sum(p.amount for p in pays)),
                "outstandingBalance": ore(d.open),
                "salePayments": [
                    {"paymentId": p.id, "date": p.on, "account": "1920:10001", "amount": ore(p.amount)} for p in pays
                ],
            },
            "associatedCreditNotes": [c.id for c in self.world.docs if c.credits == d.number],
            "sentManually": False,
        }

    def _credit_note(self, d: Doc) -> dict[str, Any]:
        target = self.world.doc(d.credits).id if d.credits else None
        return {
            "creditNoteId": d.id,
            "creditNoteNumber": d.number,
            "kid": None,
            "net": int(d.amount * 100),
            "vat": 0,
            "gross": int(d.amount * 100),
            "issueDate": d.issue,
            "settled": True,
            "associatedInvoiceId": target,
            "currency": "NOK",
            "customer": {"contactId": d.customer.id, "name": d.customer.name},
        }


# ---- PowerOffice Go v2 --------------------------------------------------------------------------


class FakePowerOffice(FakeSystem):
    name = "poweroffice"
    app_key, client_key, sub_key = "po-app-key-111111", "po-client-key-222222", "po-subscription-333333"

    def __init__(self, world: World, latency: float = 0.0, limits: Limits | None = None):
        super().__init__(world, latency, limits)
        self.issued = 0
        self.sub_keys = {self.sub_key}  # integrations' subscription keys the fake knows

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
        changed = _after(q.get("lastChangedDateTimeOffsetGreaterThan"))
        if path == "/ClientIntegrationInformation":
            return Reply(200, {"ClientName": "Nordlys Rør AS", "InvalidPrivileges": []})
        if path == "/Customers":
            rows = [self._customer(c) for c in w.customers if changed is None or c.modified > changed]
            return self._page(rows, q)
        if path == "/OutgoingInvoices":
            docs = w.live_docs()
            if "fromDate" in q:
                docs = [d for d in docs if _day(q["fromDate"]) <= d.issue <= _day(q["toDate"])]
            if changed:
                docs = [d for d in docs if d.modified > changed]
            balance = _after(q.get("balanceLastChangedDateTimeOffsetGreaterThan"))
            if balance:
                docs = [d for d in docs if d.balance_modified > balance]
            return self._page(docs, q, self._invoice)
        if path == "/Customerledger/Statement":
            rows = []
            for d in w.live_docs():
                if d.kind == "invoice" and (changed is None or max(d.modified, d.balance_modified) > changed):
                    rows.append(self._entry(d.id, "OutgoingInvoice", d, d.issue, d.amount, d.open, str(d.number)))
                for p in w.pays_of(d):
                    if changed is None or p.modified > changed:
                        # Payments carry the invoice number only when matched by KID; else via MatchId.
                        no = str(d.number) if d.kid else None
                        rows.append(self._entry(p.id, "IncomingOcrGiro", d, p.on, -p.amount, Decimal(0), no))
            return self._page(rows, q)
        if path == "/Customerledger/OpenItems":
            rows = [
                self._entry(d.id, "OutgoingInvoice", d, d.issue, d.amount, d.open, str(d.number))
                for d in w.live_docs()
                if d.open
            ]
            return self._page(rows, q)
        return Reply(404, {"statusCode": 404, "message": "Resource not found"})

    def _page(self, rows: list[Any], q: dict[str, str], render: Any = None) -> Reply:
        number, size = int(q.get("PageNumber", 1)), int(q.get("PageSize", 5000))
        chunk = rows[(number - 1) * size : number * size]
        return Reply(200, [render(r) for r in chunk] if render else chunk)

    @staticmethod
    def _customer(c: Any) -> dict[str, Any]:
        return {
            "Id": c.id,
            "Number": c.number,
            "Name": c.name,
            "OrganizationNumber": c.org_no,
            "EmailAddress": c.email,
            "IsPerson": False,
            "MailAddress": {"AddressLine1": "Sjøgata 1", "ZipCode": "8006", "City": "Bodø", "CountryCode": "NO"},
        }

    def _invoice(self, d: Doc) -> dict[str, Any]:
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
            "CurrencyCode": "NOK",
            "NetAmount": d.amount * sign,
            "TotalAmount": d.amount * sign,
            "Balance": d.open * sign,
            "IsReversed": False,
            "MatchId": d.id,
            "LastChangedDateTimeOffset": d.modified,
            "BalanceLastChangedDateTimeOffset": d.balance_modified,
        }

    @staticmethod
    def _entry(eid: int, vtype: str, d: Doc, on: date, amount: Decimal, balance: Decimal, no: str | None) -> dict:
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
            "Amount": amount,
            "Balance": balance,
            "CurrencyAmount": amount,
            "CurrencyCode": "NOK",
            "Cid": d.kid,
            "MatchId": d.id,
            "IsWriteOff": False,
        }


# ---- e-conomic ----------------------------------------------------------------------------------


class FakeEconomic(FakeSystem):
    name = "economic"
    app, grant = "economic-app-secret-777777", "economic-grant-888888"

    def __init__(self, world: World, latency: float = 0.0, limits: Limits | None = None):
        super().__init__(world, latency, limits)
        self.valid_tokens.add(self.grant)

    def credential(self, method: str, path: str, q: dict[str, str], headers: dict[str, str]) -> str:
        return headers.get("X-AgreementGrantToken", "")  # per agreement grant

    def route(self, method: str, path: str, q: dict[str, str], headers: dict[str, str], body: bytes) -> Reply:
        if headers.get("X-AppSecretToken") != self.app or headers.get("X-AgreementGrantToken") not in self.valid_tokens:
            return Reply(401, {"message": "Not authorized", "errorCode": "E06000"})
        w, filt = self.world, q.get("filter", "")
        if path == "/self":
            return Reply(200, {"agreementNumber": 123456, "company": {"name": "Nordlys ApS"}})
        if path == "/customers":
            since = _after(filt.removeprefix("lastUpdated$gte:")) if filt else None
            return self._page(path, [self._customer(c) for c in w.customers if since is None or c.modified >= since], q)
        if path == "/invoices/booked":
            docs = w.live_docs()
            if filt.startswith("date$gte:"):
                docs = [d for d in docs if d.issue >= _day(filt.removeprefix("date$gte:"))]
            return self._page(path, docs, q, self._invoice)
        if path == "/invoices/unpaid":
            return self._page(path, [d for d in w.live_docs() if d.kind == "invoice" and d.open], q, self._invoice)
        if path.startswith("/invoices/booked/"):
            doc = next((d for d in w.live_docs() if str(d.number) == path.rsplit("/", 1)[1]), None)
            return Reply(200, self._invoice(doc)) if doc else Reply(404, {"message": "Not found"})
        return Reply(404, {"message": "Not found"})

    def _page(self, path: str, rows: list[Any], q: dict[str, str], render: Any = None) -> Reply:
        skip, size = int(q.get("skippages", 0)), int(q.get("pagesize", 20))
        chunk = rows[skip * size : (skip + 1) * size]
        chunk = [render(r) for r in chunk] if render else chunk
        filt = f"&filter={q['filter']}" if q.get("filter") else ""
        pag: dict[str, Any] = {
            "maxPageSizeAllowed": 1000,
            "skipPages": skip,
            "pageSize": size,
            "results": len(rows),
            "resultsWithoutFilter": len(rows) + 30,
            "firstPage": f"{self.url}{path}?skippages=0&pagesize={size}{filt}",
        }
        if (skip + 1) * size < len(rows):
            pag["nextPage"] = f"{self.url}{path}?skippages={skip + 1}&pagesize={size}{filt}"
        return Reply(200, {"collection": chunk, "pagination": pag, "self": f"{self.url}{path}"})

    def _customer(self, c: Any) -> dict[str, Any]:
        return {
            "customerNumber": c.number,
            "name": c.name,
            "corporateIdentificationNumber": c.org_no,
            "email": c.email,
            "address": "Vestergade 1",
            "zip": "8000",
            "city": "Aarhus C",
            "country": "Danmark",
            "lastUpdated": c.modified.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "self": f"{self.url}/customers/{c.number}",
        }

    def _invoice(self, d: Doc) -> dict[str, Any]:
        sign = -1 if d.kind == "credit_note" else 1
        gross = d.amount * sign
        return {
            "bookedInvoiceNumber": d.number,
            "date": d.issue,
            "dueDate": d.due,
            "currency": "NOK",
            "exchangeRate": 100.0,
            "netAmount": gross,
            "grossAmount": gross,
            "vatAmount": 0.0,
            "roundingAmount": 0.0,
            "remainder": d.open * sign,
            "remainderInBaseCurrency": d.open * sign,
            "paymentTerms": {"paymentTermsNumber": 1, "daysOfCredit": 14, "paymentTermsType": "net"},
            "customer": {"customerNumber": d.customer.number, "self": f"{self.url}/customers/{d.customer.number}"},
            "recipient": {"name": d.customer.name},
            "pdf": {"download": f"{self.url}/invoices/booked/{d.number}/pdf"},
            "self": f"{self.url}/invoices/booked/{d.number}",
        }


FAKES = {"tripletex": FakeTripletex, "fiken": FakeFiken, "poweroffice": FakePowerOffice, "economic": FakeEconomic}


def ledger_table(kind: str, fake: FakeSystem) -> dict[str, Any]:
    """The [clients.ledger] table (and the env it needs) pointing a client at a fake."""
    if kind == "tripletex":
        return {
            "kind": kind,
            "base_url": f"{fake.url}/v2",
            "company_id": "0",
            "consumer_token_env": "TT_CONSUMER",
            "employee_token_env": "TT_EMPLOYEE",
        }
    if kind == "fiken":
        return {
            "kind": kind,
            "base_url": f"{fake.url}/api/v2",
            "company_id": FakeFiken.slug,
            "token_env": "FIKEN_TOKEN",
        }
    if kind == "poweroffice":
        return {
            "kind": kind,
            "base_url": f"{fake.url}/v2",
            "auth_url": f"{fake.url}/OAuth/Token",
            "application_key_env": "PO_APP",
            "client_key_env": "PO_CLIENT",
            "subscription_key_env": "PO_SUB",
        }
    return {
        "kind": kind,
        "base_url": fake.url,
        "app_secret_token_env": "EC_APP",
        "agreement_grant_token_env": "EC_GRANT",
    }


ENV = {
    "TT_CONSUMER": FakeTripletex.consumer,
    "TT_EMPLOYEE": FakeTripletex.employee,
    "FIKEN_TOKEN": FakeFiken.token,
    "PO_APP": FakePowerOffice.app_key,
    "PO_CLIENT": FakePowerOffice.client_key,
    "PO_SUB": FakePowerOffice.sub_key,
    "EC_APP": FakeEconomic.app,
    "EC_GRANT": FakeEconomic.grant,
}

SECRETS = tuple(ENV.values())
