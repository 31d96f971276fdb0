"""Server-side sessions with a CSRF token each, and the log-in throttle. Both in memory: a restart logs
everyone out, which is the safe direction. Timers use a monotonic clock (never the business clock)."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from connector.web.users import User

Clock = Callable[[], float]  # seconds, monotonic


@dataclass
class Session:
    sid: str  # the cookie's value; never rendered
    csrf: str  # rendered in every form of this session, checked on every POST
    user: User | None  # None: not logged in yet (the log-in form has a session for its CSRF token)
    created: float
    seen: float
    flash: list[tuple[str, str]] = field(default_factory=list)  # ("ok"|"warning"|"error", text) for the next page


class Sessions:
    """Session id → session. A log-in gets a new id and token (no fixation); idle and overall limits end
    a session; anonymous sessions (log-in forms) are capped so a flood of GETs cannot fill memory."""

    MAX_ANONYMOUS = 10_000

    def __init__(self, idle_seconds: float, max_seconds: float, clock: Clock = time.monotonic):
        self.idle = idle_seconds
        self.max = max_seconds
        self.clock = clock
        self._by_id: dict[str, Session] = {}
        self._lock = threading.Lock()

    def new(self, user: User | None = None) -> Session:
        now = self.clock()
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), user, now, now)
        with self._lock:
            self._prune(now)
            self._by_id[session.sid] = session
        return session

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        now = self.clock()
        with self._lock:
            session = self._by_id.get(sid)
            if session is None:
                return None
            if now - session.seen > self.idle or now - session.created > self.max:
                del self._by_id[sid]
                return None
            session.seen = now
            return session

    def log_in(self, old: Session | None, user: User) -> Session:
        if old is not None:
            self.drop(old.sid)
        return self.new(user)

    def drop(self, sid: str) -> None:
        with self._lock:
            self._by_id.pop(sid, None)

    def _prune(self, now: float) -> None:
        expired = [s.sid for s in self._by_id.values() if now - s.seen > self.idle or now - s.created > self.max]
        for sid in expired:
            del self._by_id[sid]
        anonymous = [s for s in self._by_id.values() if s.user is None]
        if len(anonymous) >= self.MAX_ANONYMOUS:
            for s in sorted(anonymous, key=lambda s: s.seen)[: len(anonymous) - self.MAX_ANONYMOUS + 1]:
                del self._by_id[s.sid]


def token_matches(expected: str, given: str | None) -> bool:
    return given is not None and secrets.compare_digest(expected.encode(), given.encode())


class LoginThrottle:
    """Failed log-ins counted per user name and per address over a sliding window; past either limit
    every attempt is refused (a right password too) until the window has moved on. A good log-in
    clears its user's count, never the address's (one known account must not unlock guessing others)."""

    def __init__(
        self,
        per_user: int = 5,
        per_address: int = 20,
        window_seconds: float = 15 * 60,
        clock: Clock = time.monotonic,
    ):
        self.per_user = per_user
        self.per_address = per_address
        self.window = window_seconds
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and now - times[0] > self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def blocked(self, user: str, address: str) -> bool:
        now = self.clock()
        with self._lock:
            return (
                len(self._recent(("user", user.lower()), now)) >= self.per_user
                or len(self._recent(("address", address), now)) >= self.per_address
            )

    MAX_KEYS = 100_000  # names and addresses tracked at once; a flood of made-up names cannot fill memory

    def failed(self, user: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) >= self.MAX_KEYS:
                for key in list(self._failures):
                    self._recent(key, now)  # drops keys whose failures all left the window
            for key in (("user", user.lower()), ("address", address)):
                self._recent(key, now)
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, user: str) -> None:
        with self._lock:
            self._failures.pop(("user", user.lower()), None)
