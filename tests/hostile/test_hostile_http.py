"""Hung, slow and trickling servers on 127.0.0.1, and Retry-After in both forms (issue 13, items 5 and 6)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hostile_corpus import HostileServer, ServerCase, servers

from connector import http
from connector.cli import main
from connector.collection.base import ProviderError
from connector.collection.transport import Transport, TransportConfig
from tests.builders import client_table, to_toml

CASES = {c.behaviour: c for c in servers()}


class Waits:
    """Records the pauses the retry loop asks for instead of sleeping them."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


@pytest.fixture(autouse=True)
def _fresh_limiters(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    http.reset_limiters()
    previous = http.set_retry_policy(http.RetryPolicy())
    yield
    http.set_retry_policy(previous)
    http.reset_limiters()


def _client(url: str, policy: http.RetryPolicy | None = None) -> http.ApiClient:
    return http.ApiClient("economic", url, http.StaticAuth({}), f"hostile-{url}", policy=policy)


def _fast(**kw: Any) -> http.RetryPolicy:
    return http.RetryPolicy(initial_wait=0.01, max_wait=0.02, **kw)


# ---- item 5: hung and slow servers ------------------------------------------------------------


def test_a_hung_server_is_given_up_after_two_timeouts_not_six() -> None:
    with HostileServer(CASES["hang"]) as server:
        started = time.monotonic()
        with pytest.raises(http.ApiError, match="timed out"):
            _client(server.url, _fast(connect_timeout=0.3, read_timeout=0.3)).get("customers")
        took = time.monotonic() - started
    # Six attempts at the read timeout was the old behaviour (380 s with the production values).
    assert server.requests == 2
    assert took < 1.5


def test_a_trickling_server_is_cut_off_at_the_read_timeout() -> None:
    # 40 bytes a tenth of a second apart: every socket read succeeds, so only a bound on the whole
    # answer stops it (it would take 4 s per attempt).
    case = CASES["trickle"]
    with HostileServer(case, body=b'{"values": [' + b" " * 26 + b"]}") as server:
        started = time.monotonic()
        with pytest.raises(http.ApiError, match=r"longer than 0\.5 s|timed out"):
            _client(server.url, _fast(connect_timeout=0.5, read_timeout=0.5)).get("customers")
        took = time.monotonic() - started
    assert took < 2.5 and server.requests == 2


def test_the_client_deadline_stops_a_slow_server_and_bounds_its_retries() -> None:
    slow = ServerCase("answers after 0.3 s", "slow", 0.3)
    with HostileServer(slow) as server, http.client_budget(http.Timeouts(1.0, 1.0, client_deadline=1.0)):
        client = _client(server.url)
        answered = 0
        started = time.monotonic()
        with pytest.raises(http.DeadlineExceeded, match=r"client_deadline"):
            for _ in range(20):
                client.get("customers")
                answered += 1
        took = time.monotonic() - started
    assert 2 <= answered <= 4 and took < 2.0


def test_a_retry_after_beyond_the_deadline_fails_now_instead_of_sleeping() -> None:
    waits = Waits()
    with (
        HostileServer(CASES["retry-after-seconds"]) as server,
        http.client_budget(http.Timeouts(1.0, 1.0, client_deadline=2.0)),
        pytest.raises(http.DeadlineExceeded),
    ):
        _client(server.url, _fast(sleep=waits)).get("customers")
    assert waits.asked == [] and server.requests == 1


def test_every_api_session_of_one_client_shares_the_deadline() -> None:
    with http.client_budget(http.Timeouts(2.0, 3.0, client_deadline=7.0)) as deadline:
        a = _client("http://127.0.0.1:9")
        b = _client("http://127.0.0.1:10")
    assert a.deadline is deadline and b.deadline is deadline
    assert a.timeouts == http.Timeouts(2.0, 3.0, 7.0)
    other = _client("http://127.0.0.1:11")  # outside any client's sync: a deadline of its own
    assert other.deadline is not deadline and other.timeouts == http.Timeouts()


def test_a_hung_ledger_fails_its_client_quickly_and_the_others_sync(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("FIKEN_TOKEN", "hostile-test-token-1")
    with HostileServer(CASES["hang"]) as server:
        hung = client_table(
            "hung",
            ledger={"kind": "fiken", "token_env": "FIKEN_TOKEN", "company_id": "hung-as", "base_url": server.url},
        )
        fine = client_table("fine")
        for c in (hung, fine):
            for folder in (c["ledger"].get("path"), c["bank"][0]["path"]):
                if folder:
                    (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        cfg = tmp_path / "arsync.toml"
        doc = {
            "store": {"url": "sqlite:///state/arsync.db"},
            "http": {"connect_timeout": 0.5, "read_timeout": 0.5, "client_deadline": 30},
            "clients": [hung, fine],
        }
        cfg.write_text(to_toml(doc), encoding="utf-8")
        started = time.monotonic()
        result = CliRunner().invoke(main, ["--config", str(cfg), "sync", "--workers", "2"])
        took = time.monotonic() - started
    assert result.exit_code == 1, result.output
    assert "hung: sync FAILED" in result.output and "fine: sync ok" in result.output
    assert "timed out" in result.output
    assert took < 10


# ---- item 6: Retry-After as seconds and as an HTTP date ----------------------------------------


def test_retry_after_parser_reads_both_forms() -> None:
    now = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
    assert http.parse_retry_after("4", now) == 4.0
    assert http.parse_retry_after(" 120 ", now) == 120.0
    assert http.parse_retry_after(format_datetime(now + timedelta(seconds=4), usegmt=True), now) == 4.0
    assert http.parse_retry_after("Mon, 02 Mar 2026 12:01:30 GMT", now) == 90.0
    assert http.parse_retry_after("Monday, 02-Mar-26 12:00:10 GMT", now) == 10.0  # obsolete RFC 850 form
    assert http.parse_retry_after("Mon, 02 Mar 2026 11:00:00 GMT", now) == 0.0  # in the past: now
    for garbage in ("", "soon", "NaN", "inf", None):
        assert http.parse_retry_after(garbage, now) is None


@pytest.mark.parametrize("behaviour", ["retry-after-date", "retry-after-seconds"])
def test_the_ledger_client_waits_as_long_as_retry_after_says(behaviour: str) -> None:
    waits = Waits()
    with HostileServer(CASES[behaviour]) as server:
        reply = _client(server.url, _fast(sleep=waits, pause_scale=0.0)).get("customers")
    assert reply.data == {"ok": True} and server.requests == 2
    (asked,) = waits.asked
    assert 3.0 <= asked <= 4.0  # an HTTP date has whole seconds: 4 s ahead is 3–4 s from now


def test_a_retry_after_date_in_the_past_retries_at_once() -> None:
    waits = Waits()
    with HostileServer(CASES["retry-after-past"]) as server:
        _client(server.url, _fast(sleep=waits, pause_scale=0.0)).get("customers")
    assert waits.asked == [0.0]


@pytest.mark.parametrize("behaviour", ["retry-after-date", "retry-after-seconds"])
def test_the_collection_transport_waits_as_long_as_retry_after_says(behaviour: str) -> None:
    waits = Waits()
    with HostileServer(CASES[behaviour]) as server:
        transport = Transport("kravia", TransportConfig(server.url, {}, initial_wait=0.01, sleep=waits))
        reply = transport.request("GET", "cases")
    assert reply.data == {"ok": True}
    (asked,) = waits.asked
    assert 3.0 <= asked <= 4.0


def test_the_collection_transport_still_refuses_to_repeat_an_ambiguous_write() -> None:
    # The shared parser changes how long to wait, never whether a write without a key is repeated.
    with HostileServer(CASES["hang"]) as server:
        transport = Transport("kravia", TransportConfig(server.url, {}, read_timeout=0.3, attempts=3))
        with pytest.raises(ProviderError) as exc:
            transport.request("POST", "cases", json_body={"amount": 1})
    assert exc.value.ambiguous and server.requests == 1
