"""Bulk work over a client's whole book (loading facts, matching, deciding) with the cyclic GC paused.

These steps create millions of small, acyclic, long-lived objects (invoices, payments, allocations,
decisions). CPython's cyclic collector would walk the growing heap again and again while they are
built — a third of the CPU time at a million rows — and find nothing to free. Reference counting
still frees everything as usual; the collector runs again once the outermost pause ends.

The engine pauses it around the core's calls (the core itself never touches the collector); the store and
the bank and e-invoice readers pause it while they build a big batch.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # pauses in progress (nested, or in other threads): the collector resumes when the last ends
_resume = False


@contextmanager
def gc_paused() -> Iterator[None]:
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()
