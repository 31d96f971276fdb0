"""A small threaded JSON HTTP server that records every request and fails on command.

Failures are queued per route prefix and consumed in order, so a test says exactly what the next
matching request meets: a status code, a delay past the client's timeout, a connection dropped
before processing, or a connection dropped *after* processing (the case exists, the client never
hears). ``latency`` adds a fixed delay to every request (the bench's 30 ms, the kill test's windows).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Handler = Callable[["Request"], tuple[int, Any]]


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int  # what was answered; 0 when the connection was dropped


@dataclass
class Failure:
    """What the next request to a route meets. ``kind``: status, delay, drop_before, drop_after."""

    kind: str
    route: str = ""  # path prefix, e.g. "/api/v2/invoice/register"; "" matches everything
    method: str = ""
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    times: int = 1


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    raw: bytes
    params: dict[str, str] = field(default_factory=dict)

    def q(self, name: str, default: str | None = None) -> str | None:
        for key, values in self.query.items():
            if key.lower() == name.lower() and values:
                return values[0]
        return default


class HttpError(Exception):
    def __init__(self, status: int, body: Any):
        super().__init__(status)
        self.status = status
        self.body = body


class FakeServer:
    """Subclasses register routes in ``__init__`` with :meth:`route` and implement the handlers."""

    def __init__(self, latency: float = 0.0):
        self.latency = latency
        self.lock = threading.RLock()
        self.requests: list[Recorded] = []
        self.failures: list[Failure] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        # Called with (request, "before" | "after") around processing: the kill test ends the client
        # process here, exactly between "the provider acted" and "the client heard".
        self.hook: Callable[[Request, str], None] | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeServer:
        server = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The headers and the body go out as two writes: with Nagle's algorithm the body waited for
            # the client's delayed ACK of the headers (~40 ms on Linux) on every answer. Servers in front
            # of real APIs send at once (TCP_NODELAY, as nginx's default), so the fake does too.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _serve(self) -> None:
                server._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        class _Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client killed mid-request resets the connection: expected here

        self._httpd = _Server(("127.0.0.1", 0), _H)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # ---- configuration --------------------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$", re.IGNORECASE)
        self._routes.append((method, regex, handler))

    def fail(self, failure: Failure) -> None:
        with self.lock:
            self.failures.append(failure)

    def calls(self, method: str | None = None, prefix: str = "") -> list[Recorded]:
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and r.path.lower().startswith(prefix.lower())
            ]

    # ---- dispatch -------------------------------------------------------------------------------

    def _take_failure(self, method: str, path: str) -> Failure | None:
        with self.lock:
            for f in self.failures:
                if path.lower().startswith(f.route.lower()) and (not f.method or f.method == method):
                    f.times -= 1
                    if f.times <= 0:
                        self.failures.remove(f)
                    return f
        return None

    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        ctype = h.headers.get("Content-Type", "")
        body: Any = None
        if raw and "json" in ctype:
            try:
                body = json.loads(raw, parse_float=Decimal)
            except ValueError:
                body = None
        req = Request(h.command, parts.path, parse_qs(parts.query), {k: v for k, v in h.headers.items()}, body, raw)
        if self.latency:
            time.sleep(self.latency)
        if self.hook:
            self.hook(req, "before")
        failure = self._take_failure(req.method, req.path)
        if failure and failure.kind == "delay":
            time.sleep(failure.seconds)
        if failure and failure.kind == "drop_before":
            self._record(req, 0)
            self._drop(h)
            return
        if failure and failure.kind == "status":
            self._record(req, failure.status)
            self._send(h, failure.status, failure.body, failure.headers)
            return
        status, payload = self._handle(req)
        if self.hook:
            self.hook(req, "after")
        if failure and failure.kind == "drop_after":
            self._record(req, 0)
            self._drop(h)
            return
        self._record(req, status)
        self._send(h, status, payload, {})

    def _handle(self, req: Request) -> tuple[int, Any]:
        for method, regex, handler in self._routes:
            m = regex.match(req.path)
            if m and method == req.method:
                req.params = m.groupdict()
                try:
                    with self.lock:
                        return handler(req)
                except HttpError as exc:
                    return exc.status, exc.body
        return 404, {"message": f"no route {req.method} {req.path}"}

    def _record(self, req: Request, status: int) -> None:
        with self.lock:
            self.requests.append(Recorded(req.method, req.path, req.query, req.headers, req.body, status))

    @staticmethod
    def _drop(h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        with contextlib.suppress(OSError):
            h.connection.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, payload: Any, headers: dict[str, str]) -> None:
        data = b"" if payload is None else json.dumps(payload, default=_default).encode("utf-8")
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except OSError:
            pass  # the client went away (e.g. it was killed mid-request)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


def require(cond: bool, status: int, body: Any) -> None:
    if not cond:
        raise HttpError(status, body)
