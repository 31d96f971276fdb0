"""Rate limits held in PostgreSQL across processes (``connector.queue.limits``).

Two limiters on separate engines stand for two worker processes on one credential: together they never
exceed its rate or its requests in flight; a pause (429, spent quota) said by one holds for the other; a
request whose process died holds its credential only until its lease ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from connector import http
from connector.queue import db
from connector.queue.limits import SharedLimiter, shared_limiters
from tests.queue.night_env import needs_postgres, scratch_database

pytestmark = needs_postgres


@pytest.fixture
def engines() -> Iterator[tuple[Engine, Engine]]:
    with scratch_database() as url:
        one, two = db.engine(url, pool_size=4), db.engine(url, pool_size=4)
        db.ensure_schema(one)
        try:
            yield one, two
        finally:
            one.dispose()
            two.dispose()


def _spans(eng: Engine, key: str) -> list[tuple[float, float]]:
    with eng.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT extract(epoch FROM started), extract(epoch FROM ended) FROM arsync_rate_spans "
                "WHERE key = :k ORDER BY started"
            ),
            {"k": key},
        ).all()
    return [(float(a), float(b)) for a, b in rows]


def test_two_processes_together_keep_one_credentials_rate_and_concurrency(engines: tuple[Engine, Engine]) -> None:
    limits = http.Limits(rate_per_second=10.0, max_concurrent=2)
    a, b = (SharedLimiter(eng, "fiken:shared", limits, lease=5.0) for eng in engines)
    lock = threading.Lock()
    flying, most, sent = 0, 0, []

    def request(lim: SharedLimiter) -> None:
        nonlocal flying, most
        for _ in range(8):
            lim.acquire()
            with lock:
                flying += 1
                most = max(most, flying)
                sent.append(time.monotonic())
            time.sleep(0.03)  # the server's latency
            with lock:
                flying -= 1
            lim.release()

    threads = [threading.Thread(target=request, args=(lim,)) for lim in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(sent) == 32
    assert most <= 2
    sent.sort()
    assert max(sum(1 for u in sent if t <= u < t + 1.0) for t in sent) <= 10  # any 1-s window
    # The database's own record agrees: no more than 10 spans touch any window of one second.
    spans = _spans(engines[0], "fiken:shared")
    for start, _end in spans:
        assert sum(1 for s, e in spans if s < start + 1.0 and e > start) <= 10


def test_a_pause_said_by_one_process_holds_for_every_process(engines: tuple[Engine, Engine]) -> None:
    limits = http.Limits(rate_per_second=10.0, max_concurrent=None)
    a, b = (SharedLimiter(eng, "tripletex:key", limits, lease=5.0) for eng in engines)
    a.pause(0.4)  # e.g. a 429 with Retry-After seen by one worker
    b.acquire()
    b.release()
    with engines[0].connect() as conn:
        started, paused_until = conn.execute(
            text(
                "SELECT s.started, p.paused_until FROM arsync_rate_spans s "
                "JOIN arsync_rate_pauses p ON p.key = s.key WHERE s.key = 'tripletex:key'"
            )
        ).one()
    assert started >= paused_until


def test_a_dead_processs_request_holds_its_credential_only_until_its_lease(engines: tuple[Engine, Engine]) -> None:
    one, _two = engines
    with one.begin() as conn:  # a worker let a request through, then was killed: the span never ends
        lease_until = conn.execute(
            text(
                "INSERT INTO arsync_rate_spans (key, started, lease_until) VALUES "
                "('fiken:t', clock_timestamp(), clock_timestamp() + interval '0.5 second') RETURNING lease_until"
            )
        ).scalar_one()
    lim = SharedLimiter(one, "fiken:t", http.Limits(rate_per_second=4.0, max_concurrent=1), lease=5.0)
    lim.acquire()
    lim.release()
    with one.connect() as conn:
        started = conn.execute(
            text("SELECT max(started) FROM arsync_rate_spans WHERE key = 'fiken:t' AND ended IS NOT NULL")
        ).scalar_one()
    assert started >= lease_until


def test_limits_without_numbers_stay_in_the_process(engines: tuple[Engine, Engine]) -> None:
    make = shared_limiters(engines[0], lease=5.0)
    assert isinstance(make("fiken", "k", http.Limits(rate_per_second=None, max_concurrent=None)), http.RateLimiter)
    assert isinstance(make("fiken", "k", http.SYSTEM_LIMITS["fiken"]), SharedLimiter)
    previous = http.use_limiters(make)
    try:
        assert isinstance(http.limiter("fiken", "abc"), SharedLimiter)
    finally:
        http.use_limiters(previous)
    assert isinstance(http.limiter("fiken", "abc"), http.RateLimiter)
