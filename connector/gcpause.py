"""Bulk work over a client's whole book (loading facts, matching, deciding) with the cyclic GC paused.

These steps create millions of small, acyclic, long-lived objects (invoices, payments, allocations,
decisions). CPython's cyclic collector would walk the growing heap again and again while they are
built — a third of the CPU time at a million rows — and find nothing to free. Reference counting
still frees everything as usual; the collector runs again once the outermost pause ends.

When it does after a big pause (``PROMOTE_FROM`` new objects or more), what the pause made is handed to the
oldest generation at once (``_promote``): left in the youngest, the first allocations after the pause would
make the collector walk all of it (a fifth of a second per 100,000 invoices and payments, again for the next
generation), to find nothing. It is still looked at by the next full collection, as any long-lived object
is. Only when no other thread runs (a fetch running ahead may drop garbage cycles meanwhile). After a small
pause the young collections run as usual: they are cheap then, and the garbage cycles
other threads made meanwhile (an HTTP connection a fetch dropped, holding its socket open) go at once.

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
PROMOTE_FROM = 50_000  # objects the young generation gained: below this the young collections stay cheap


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
                _promote()
                gc.enable()


def _promote() -> None:
    # freeze() moves every tracked object to the permanent generation and zeroes the young counts; unfreeze()
    # moves them all into the oldest generation: two list splices, no walk over the objects. Not while
    # something is frozen already: a forked slice process keeps what it shares with its parent frozen, so
    # that no collection writes to (and copies) those pages (connector.engine.slices). Nor while another
    # thread runs: a garbage cycle it dropped during the pause (an HTTP connection holding its socket) would
    # be promoted too and wait for a full collection instead of going with the next young one.
    if gc.get_count()[0] >= PROMOTE_FROM and gc.get_freeze_count() == 0 and threading.active_count() == 1:
        gc.freeze()
        gc.unfreeze()
