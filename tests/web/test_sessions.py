"""Sessions end when idle or old; the log-in throttle forgets failures once they leave its window."""

from __future__ import annotations

from connector.web.sessions import LoginThrottle, Sessions, token_matches
from connector.web.users import User

KARI = User("kari", "approver", None, "nb")


def test_a_session_ends_after_its_idle_time_and_after_its_maximum_age() -> None:
    now = [0.0]
    sessions = Sessions(idle_seconds=60, max_seconds=300, clock=lambda: now[0])
    session = sessions.new(KARI)
    for t in (50.0, 100.0, 150.0, 200.0, 250.0):  # in use: the idle time starts again with each request
        now[0] = t
        assert sessions.get(session.sid) is session
    now[0] = 301.0
    assert sessions.get(session.sid) is None  # too old, however busy
    idle = sessions.new(KARI)
    now[0] = 362.0
    assert sessions.get(idle.sid) is None
    assert sessions.get(None) is None and sessions.get("made-up") is None


def test_log_in_replaces_the_session_and_its_token() -> None:
    sessions = Sessions(60, 300)
    anonymous = sessions.new()
    logged_in = sessions.log_in(anonymous, KARI)
    assert logged_in.sid != anonymous.sid and logged_in.csrf != anonymous.csrf
    assert sessions.get(anonymous.sid) is None
    assert token_matches(logged_in.csrf, logged_in.csrf)
    assert not token_matches(logged_in.csrf, anonymous.csrf) and not token_matches(logged_in.csrf, None)


def test_anonymous_sessions_are_capped(monkeypatch: object) -> None:
    sessions = Sessions(60, 300)
    sessions.MAX_ANONYMOUS = 10
    kari = sessions.new(KARI)
    first = [sessions.new() for _ in range(10)]
    sessions.new()
    assert sessions.get(first[0].sid) is None  # the oldest anonymous one made room
    assert sessions.get(kari.sid) is kari  # a logged-in session never does


def test_the_throttle_forgets_failures_that_left_its_window() -> None:
    now = [0.0]
    throttle = LoginThrottle(per_user=3, per_address=5, window_seconds=100, clock=lambda: now[0])
    for t in (0.0, 10.0, 20.0):
        now[0] = t
        throttle.failed("Kari", "192.0.2.1")
    assert throttle.blocked("kari", "192.0.2.9")  # per name, whatever the case and the address
    now[0] = 101.0
    assert not throttle.blocked("kari", "192.0.2.9")  # the first failure left the window
    for name in ("kari", "vera", "anna"):
        throttle.failed(name, "192.0.2.1")
    assert throttle.blocked("someone", "192.0.2.1")  # five from this address within the window
    throttle.succeeded("kari")
    assert throttle.blocked("kari", "192.0.2.1")  # a good log-in never clears the address
    assert not throttle.blocked("kari", "192.0.2.2")
