"""Rate limits held across every worker process and machine: one bucket per credential in PostgreSQL.

The same rule as ``connector.http.RateLimiter`` in one process, with the database as the shared memory and
its clock as the clock: each request is a *span* from the moment it is let through until its answer is
read (``arsync_rate_acquire`` in ``connector.queue.db``); a new request goes only when fewer than
``floor(rate)`` spans touch the last ``1 s + margin``, at least ``1/rate`` after the previous one, and
fewer than ``max_concurrent`` are in flight. A span's real send time lies inside it, so however late a
thread on a busy machine sends, the server never sees more than the limit in any second — summed over
every worker. A 429 or a spent quota pauses the credential for every worker (``pause``).

A worker killed mid-request never ends its span: the span then counts until its lease (the longest a
request may take: connect + read timeout), after which the credential is free again.

Why not pyrate-limiter's PostgreSQL bucket: it counts *permissions* in a window (late senders bunch up at
the server — the very breach the span rule prevents), has no limit on requests in flight (Fiken allows
one), and answers contention with an immediate refusal the caller must poll on.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

from sqlalchemy import Engine, text

from connector.http import Limiter, Limits, QuotaPeriod, RateLimiter

POLL = 0.05  # seconds: how soon to look again when a span still in flight may end before its lease


class SharedLimiter(QuotaPeriod):
    """One credential's limits, shared with every process using the same database (thread-safe); the
    server's quota period is remembered per process (``QuotaPeriod``), its pauses are shared."""

    def __init__(self, eng: Engine, key: str, limits: Limits, lease: float):
        super().__init__()
        self.engine = eng
        self.key = key
        self.limits = limits
        self.lease = lease
        rate = limits.rate_per_second
        self._spacing = 1.0 / rate if rate else 0.0
        self._capacity = max(1, math.floor(rate)) if rate else 0
        self._window = 1.0 + max(RateLimiter.MARGIN, self._spacing)
        self._max_in_flight = limits.max_concurrent or 0
        self._mine = threading.local()  # span ids this thread holds, released in order
        self._released = threading.Condition()  # a span of this process ended: waiters here look again
        self._turn = threading.Lock()

    def acquire(self) -> None:
        # One thread of this process at a time asks the database; the others queue here. Without this a
        # busy credential had every waiting thread of every worker wake at the same instant and race for
        # the one free slot: hundreds of round trips a second serialised on the key's lock.
        with self._turn:
            self._acquire()

    def _acquire(self) -> None:
        while True:
            with self.engine.begin() as conn:
                span, wait, exact = conn.execute(
                    text("SELECT span_id, wait, wait_exact FROM arsync_rate_acquire(:k, :s, :c, :w, :m, :l)"),
                    {
                        "k": self.key,
                        "s": self._spacing,
                        "c": self._capacity,
                        "w": self._window,
                        "m": self._max_in_flight,
                        "l": self.lease,
                    },
                ).one()
            if span is not None:
                self._held().append(span)
                return
            with self._released:
                self._released.wait(wait if exact else min(wait, POLL))

    def release(self) -> None:
        held = self._held()
        if not held:
            return
        span = held.pop()
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE arsync_rate_spans SET ended = clock_timestamp() WHERE id = :i"), {"i": span})
        with self._released:
            self._released.notify_all()

    def pause(self, seconds: float) -> None:
        """Every worker waits on this credential (the server said its quota is spent, or answered 429)."""
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO arsync_rate_pauses (key, paused_until) "
                    "VALUES (:k, clock_timestamp() + make_interval(secs => :s)) "
                    "ON CONFLICT (key) DO UPDATE SET paused_until = greatest("
                    "arsync_rate_pauses.paused_until, EXCLUDED.paused_until)"
                ),
                {"k": self.key, "s": max(0.0, seconds)},
            )

    def _held(self) -> list[int]:
        if not hasattr(self._mine, "spans"):
            self._mine.spans = []
        spans: list[int] = self._mine.spans
        return spans


def shared_limiters(eng: Engine, lease: float) -> Callable[[str, str, Limits], Limiter]:
    """The factory ``connector.http.use_limiters`` takes: every credential's bucket in ``eng``'s database."""

    def make(system: str, key: str, limits: Limits) -> Limiter:
        if limits.rate_per_second is None and limits.max_concurrent is None:
            return RateLimiter(limits)  # nothing to share (tests and the CPU-bound bench turn limits off)
        return SharedLimiter(eng, f"{system}:{key}", limits, lease)

    return make
