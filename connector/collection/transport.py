"""HTTP for inkasso providers: timeouts, rate limit, tenacity retries that never duplicate a case.

Why not ``connector.http.ApiClient`` as is: it retries every request on connection errors and 5xx,
which is right for reads but would create a second case at a provider without idempotency keys
(Kravia) when the connection drops after the case was created. Here a request is retried only when
it is safe: reads, writes carrying an ``Idempotency-Key``, and failures that prove nothing was
processed (429, connect timeout). Anything else is raised as *ambiguous* and resolved by lookup.
The limiter and redaction are shared with ``connector.http``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from connector.collection.base import ProviderError
from connector.http import Limits, RateLimiter, parse_retry_after, redact, register_secret

log = logging.getLogger("arsync.collection")


@dataclass(frozen=True)
class TransportConfig:
    base_url: str
    headers: dict[str, str]  # auth headers; registered as secrets, never logged
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    attempts: int = 4
    initial_wait: float = 0.5
    max_wait: float = 20.0
    max_retry_after: float = 120.0
    rate_per_second: float | None = None
    max_concurrent: int | None = None
    sleep: Callable[[float], None] | None = None  # tests pass a no-op


class _Retry(ProviderError):
    """Internal: a failure worth another try if the request is idempotent or provably unprocessed."""

    def __init__(
        self,
        message: str,
        status: int | None = None,
        retry_after: float | None = None,
        nothing_processed: bool = False,
    ):
        super().__init__(message, status=status)
        self.retry_after = retry_after
        self.nothing_processed = nothing_processed  # 429, or the connection never opened


@dataclass
class Reply:
    status: int
    data: Any


class Transport:
    def __init__(self, name: str, config: TransportConfig):
        self.name = name
        self.config = config
        self.base_url = config.base_url.rstrip("/")
        for value in config.headers.values():
            register_secret(value)
        self.limiter = RateLimiter(Limits(config.rate_per_second, config.max_concurrent))
        self._local = threading.local()  # one Session per thread: Session is not documented thread-safe
        self.requests_made = 0

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.mount("http://", HTTPAdapter(pool_maxsize=4))
            session.mount("https://", HTTPAdapter(pool_maxsize=4))
            self._local.session = session
        return session

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        files: Any = None,
        idempotent: bool | None = None,
        ok_statuses: tuple[int, ...] = (),
    ) -> Reply:
        """One call with retries. ``idempotent`` defaults to True for GET or an Idempotency-Key.

        Statuses in ``ok_statuses`` (e.g. 404 on a lookup) are returned instead of raised.
        """
        safe = idempotent if idempotent is not None else (method == "GET" or "Idempotency-Key" in (headers or {}))
        cfg = self.config

        def retryable(exc: BaseException) -> bool:
            return isinstance(exc, _Retry) and (safe or exc.nothing_processed)

        backoff = wait_exponential_jitter(multiplier=cfg.initial_wait, max=cfg.max_wait, jitter=cfg.initial_wait)

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            after = getattr(exc, "retry_after", None)
            if after is not None:
                return float(min(after, cfg.max_retry_after))
            return float(backoff(state))

        retrying = Retrying(
            stop=stop_after_attempt(cfg.attempts),
            retry=retry_if_exception(retryable),
            wait=wait,
            reraise=True,
            before_sleep=lambda s: log.warning(
                "%s %s %s: attempt %d failed (%s); retrying",
                self.name,
                method,
                path,
                s.attempt_number,
                s.outcome.exception() if s.outcome else "",
            ),
        )
        if cfg.sleep:  # tests and benches sleep on a fake clock
            retrying = retrying.copy(sleep=cfg.sleep)
        try:
            for attempt in retrying:
                with attempt:
                    return self._once(method, path, json_body, params, headers, files, ok_statuses)
        except _Retry as exc:
            # Out of retries, or not safe to retry: the outcome of a write is unknown.
            raise ProviderError(str(exc), ambiguous=method != "GET", status=exc.status) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(
        self,
        method: str,
        path: str,
        json_body: Any,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
        files: Any,
        ok_statuses: tuple[int, ...],
    ) -> Reply:
        url = f"{self.base_url}/{path.lstrip('/')}"
        where = f"{self.name} {method} {path.split('?', 1)[0]}"
        send_headers = {"Accept": "application/json", **self.config.headers, **(headers or {})}
        data = None
        if json_body is not None:
            data = encode_body(json_body)
            send_headers["Content-Type"] = "application/json"
        self.limiter.acquire()
        try:
            self.requests_made += 1
            raw = self._session().request(
                method,
                url,
                params=params,
                data=data,
                files=files,
                headers=send_headers,
                timeout=(self.config.connect_timeout, self.config.read_timeout),
            )
        except requests.ConnectTimeout:
            # Never connected: nothing was sent, always safe to retry.
            raise _Retry(f"{where}: could not connect (timeout)", nothing_processed=True) from None
        except (requests.Timeout, requests.ConnectionError) as exc:
            # Maybe sent and processed: only an idempotent request may be retried blindly.
            raise _Retry(f"{where}: {exc.__class__.__name__}") from None
        finally:
            self.limiter.release()
        status = raw.status_code
        if status == 429 or status >= 500:
            after = _retry_after(raw)
            raise _Retry(f"{where}: {status}", status=status, retry_after=after, nothing_processed=status == 429)
        body = _json(raw)
        if status >= 400 and status not in ok_statuses:
            raise _http_error(where, status, body)
        return Reply(status, body)


def _retry_after(raw: requests.Response) -> float | None:
    return parse_retry_after(raw.headers.get("Retry-After"))  # seconds or an HTTP date


def _json(raw: requests.Response) -> Any:
    if not raw.content:
        return None
    try:
        return json.loads(raw.content, parse_float=Decimal)
    except ValueError:
        return None


def encode_body(body: Any) -> bytes:
    """JSON for a provider: every amount a JSON number, written exactly."""
    return json.dumps(body, default=_json_default, sort_keys=True).encode("utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Providers want numbers. Up to 15 significant digits a float's shortest repr is the same
        # decimal ("3750.5" for 3750.50), so nothing is rounded; larger values are refused.
        if len(value.normalize().as_tuple().digits) > 15:
            raise ValueError(f"amount {value} has more digits than a JSON number carries exactly")
        return float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _http_error(where: str, status: int, body: Any) -> ProviderError:
    """A 4xx as a clear error; typed business errors are built by the adapters from ``body``."""
    detail = ""
    if isinstance(body, dict):
        parts = [str(body[k]) for k in ("type", "title", "error", "message") if body.get(k)]
        errors = body.get("errors")
        if isinstance(errors, dict):
            parts.extend(f"{k}: {'; '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in errors.items())
        detail = " (" + "; ".join(parts)[:300] + ")" if parts else ""
    err = ProviderError(redact(f"{where}: {status}{detail}"), status=status)
    err.body = body  # type: ignore[attr-defined]
    return err
