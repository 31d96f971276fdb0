"""``connector.gcpause``: the collector is paused inside, resumes after, and what the pause made is not
walked again by the young collections (it went to the oldest generation), yet garbage among it is freed."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

from connector import gcpause
from connector.gcpause import PROMOTE_FROM, gc_paused


@pytest.fixture
def alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """No other thread runs (threads an earlier test left behind do not count here)."""
    monkeypatch.setattr(gcpause.threading, "active_count", lambda: 1)


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_paused_inside_resumed_after_and_what_it_made_is_old(alone: None) -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested: still paused when the inner one ends
            pass
        assert not gc.isenabled()
        made = [[i] for i in range(PROMOTE_FROM)]
    enabled = gc.isenabled()
    oldest = {id(x) for x in gc.get_objects(generation=2)}
    assert enabled
    # handed to the oldest generation at once: no young collection walks them again
    assert all(id(x) in oldest for x in made)


def test_a_cycle_made_while_paused_is_still_collected(alone: None) -> None:
    with gc_paused():
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        del a, b
        made = [[i] for i in range(PROMOTE_FROM)]  # a big pause: the cycle goes to the oldest generation too
    assert gone() is not None and len(made) == PROMOTE_FROM  # a cycle: reference counting cannot free it
    gc.collect()
    assert gone() is None


def test_after_a_small_pause_young_garbage_goes_with_a_young_collection() -> None:
    """An HTTP connection another thread dropped in a cycle must not wait for a full collection."""
    with gc_paused():
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        del a, b
    gc.collect(1)  # what the young collections do on their own soon after
    assert gone() is None


def test_while_another_thread_runs_a_big_pause_promotes_nothing() -> None:
    """Its garbage cycles (a dropped HTTP connection holding a socket) must go with a young collection."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        with gc_paused():
            a, b = _Node(), _Node()
            a.other, b.other = b, a
            gone = weakref.ref(a)
            del a, b
            made = [[i] for i in range(PROMOTE_FROM)]
        gc.collect(1)
        assert gone() is None and len(made) == PROMOTE_FROM
    finally:
        stop.set()
        other.join()


def test_a_collector_switched_off_by_the_caller_stays_off() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_is_frozen_stays_frozen() -> None:
    """A forked slice process shares its parent's objects frozen: a pause ending there must not thaw them."""
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with gc_paused():
            made = [[1], [2]]
        assert gc.get_freeze_count() == frozen and len(made) == 2
    finally:
        gc.unfreeze()
