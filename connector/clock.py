"""The wall clock, read in one place: the CLI gives it to the store once per run, and every timestamp the
store writes (sync state, seen files, sends, provider operations, case events) comes from it. Tests pass a
fixed clock instead. The core never reads a clock: it gets ``as_of``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
