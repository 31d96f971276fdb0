"""What every local fake accounting system shares: a real HTTP server on 127.0.0.1, request counting,
injected latency, scripted faults, and hostile paging (issue 13 item 4).

Faults: 429 with or without Retry-After, 500/502/503, a read timeout, a dropped connection, an HTML
error page, malformed JSON, an expired session. Paging faults (:class:`PagingFault`): a server that
serves the same page forever, a page that repeats the one before, an empty page in the middle of a
list. Rate limits are observed (``peak_rate``), not enforced (Tripletex's quota can be played:
``FakeTripletex.throttle``).
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
from tests.fakes.ledger_world import World


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
class PagingFault:
    """A list endpoint (``path``: substring of the request path) that pages wrongly.

    ``same-forever``: every page is the first page again, and the list claims to go on for ever;
    ``repeat``: the second page repeats the first, then the list goes on normally;
    ``empty-mid``: the second page is empty although later pages hold records.
    """

    kind: str
    path: str = ""


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
        self.paging: list[PagingFault] = []
        self._server: ThreadingHTTPServer | None = None
        # Rate limits are observed (``peak_rate``), not enforced — unless the fake is given the system's
        # ``limits``: then requests are counted per credential (a hash of the token or key the real limit
        # applies to, never the secret), each one beyond the limit is flagged in ``breaches`` and answered 429.
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

            def do_DELETE(self) -> None:
                fake._serve(self, "DELETE")

            def do_PATCH(self) -> None:
                fake._serve(self, "PATCH")

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

    def page_to_serve(self, path: str, index: int) -> tuple[int | None, bool]:
        """Which page (0-based) of the true list to answer for page ``index``: None means an empty
        page; the flag says the answer should claim the list never ends."""
        fault = next((f for f in self.paging if f.path in path), None)
        if fault is None:
            return index, False
        if fault.kind == "same-forever":
            return 0, True
        if fault.kind == "repeat":
            return (0 if index == 1 else index), False
        if fault.kind == "empty-mid":
            return (None if index == 1 else index), False
        raise ValueError(f"unknown paging fault {fault.kind}")

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


def basic_password(headers: dict[str, str]) -> str:
    """The password of an HTTP Basic ``Authorization`` header ("" when there is none)."""
    try:
        return base64.b64decode(headers.get("Authorization", "").removeprefix("Basic ")).decode().split(":", 1)[1]
    except (ValueError, IndexError):
        return ""


def parse_ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


@overload
def parse_day(value: str) -> date: ...
@overload
def parse_day(value: str | None) -> date | None: ...
def parse_day(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def cents(value: Decimal) -> Decimal:
    """Rounded to øre/cents, as every system stores amounts."""
    return value.quantize(Decimal("0.01"))
