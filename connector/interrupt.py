"""A stop asked for by the operator (Ctrl-C, SIGTERM from systemd or cron): the work in hand finishes,
nothing new starts.

The command line turns the signal into ``request``; the pipeline and the act stage ask ``requested()``
between clients and between sends, so a letter or a push is never cut in half and what was done is
reported before the process exits (130 for SIGINT, 143 for SIGTERM).
"""

from __future__ import annotations

import signal
import threading

_stop = threading.Event()
_signum: int | None = None


def request(signum: int = signal.SIGINT) -> None:
    global _signum
    if _signum is None:
        _signum = signum
    _stop.set()


def requested() -> bool:
    return _stop.is_set()


def signal_number() -> int | None:
    """The signal that asked for the stop (None: no stop asked for)."""
    return _signum if _stop.is_set() else None


def reset() -> None:
    """Forget an earlier stop (each command starts afresh; tests run many in one process)."""
    global _signum
    _signum = None
    _stop.clear()
