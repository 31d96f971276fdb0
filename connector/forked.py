"""Independent pieces of work spread over forked helper processes, their results taken in order.

A first night's EHF folder is read in parts of a few thousand files (``connector.sources.ehf``). Each part is
a function of its file names and the sync's context alone, so helpers can read parts side by side while
this process stores them in order, exactly as it would have stored them reading each itself. A part's
records cross the pipe pickled: about 5 % of the time it takes to read them.

``Jobs`` is what a source hands the sync: iterated, it runs each piece here, one after another (any
platform, any threads). ``in_helpers`` yields the same results, in the same order, from forked helpers.
Forking while another thread works could copy a lock it holds into the helper, never to be released:
``processes_now`` says how many processes may share the work at this moment.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import pickle
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from connector.gcpause import gc_paused

log = logging.getLogger(__name__)
X = TypeVar("X")
R = TypeVar("R")
PROCESSES = 2  # helpers reading at once: the machines we run on have two cores or more


@dataclass(frozen=True)
class Jobs(Generic[X, R]):
    """``fn(item)`` for each item, wanted in the items' order. Iterating runs them here, lazily."""

    fn: Callable[[X], R]
    items: Sequence[X]

    def __iter__(self) -> Iterator[R]:
        return map(self.fn, self.items)


class HelperFailed(Exception):
    """A helper process raised, or ended before it sent every result it owed."""


def can_fork() -> bool:
    """Linux with the fork start method: a forked helper inherits what it works on without copying it."""
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


def may_fork(quiesce: Callable[[], bool] | None = None) -> bool:
    """Whether this process may fork helpers now: on Linux, not itself a daemonic helper (which may have no
    children), and no other thread busy (``quiesce`` idles the caller's own threads, True if that left none)."""
    if not can_fork() or multiprocessing.current_process().daemon:
        return False
    # a busy thread may hold a lock a forked child would wait for forever
    return threading.active_count() == 1 or (quiesce is not None and quiesce())


def processes_now(wanted: int = PROCESSES, quiesce: Callable[[], bool] | None = None) -> int:
    """How many processes may share work now: up to ``wanted``, no more than the CPUs, 1 unless ``may_fork``."""
    processes = min(wanted, len(os.sched_getaffinity(0)))
    return processes if processes > 1 and may_fork(quiesce) else 1


def in_helpers(jobs: Jobs[X, R], processes: int) -> Iterator[R]:
    """The results of ``jobs``, in order, computed by ``processes`` forked helpers: helper k takes items k,
    k + processes, …. Each helper sends a result and works on its next one while this process takes the
    results in turn; a helper waits (its pipe full) until its result is taken, so at most about one result
    per helper is held ahead. With one process, or one item, everything runs here.

    Closing the iterator early (the consumer failed, or a stop was asked for) ends the helpers."""
    items = jobs.items
    n = min(processes, len(items))
    if n <= 1:
        yield from jobs
        return
    fork = multiprocessing.get_context("fork")
    helpers: list[tuple[Any, Any]] = []  # (process, receiving end of its pipe)
    try:
        gc.freeze()  # the helpers' collector then never walks (and copies) what they inherit
        try:
            for k in range(n):
                receiving, sending = fork.Pipe(duplex=False)
                proc = fork.Process(target=_helper, args=(jobs, k, n, sending), name="arsync-reader", daemon=True)
                proc.start()
                sending.close()  # the helper's end: when it ends, this side reads end-of-file
                helpers.append((proc, receiving))
        finally:
            gc.unfreeze()
        for i in range(len(items)):
            proc, receiving = helpers[i % n]
            try:
                data = receiving.recv_bytes()
            except EOFError:
                proc.join(timeout=5)
                raise HelperFailed(
                    f"a reading process ended (exit code {proc.exitcode}) before it sent part {i + 1} of {len(items)}"
                ) from None
            with gc_paused():  # a part's records: thousands of small acyclic objects
                kind, payload = pickle.loads(data)
            del data
            if kind == "error":
                text, trace = payload
                log.info("a reading process failed:\n%s", trace)  # the traceback, with -v
                raise HelperFailed(text)
            yield payload
    finally:
        for proc, _receiving in helpers:
            if proc.is_alive():
                proc.terminate()
            proc.join()
        for _proc, receiving in helpers:
            receiving.close()


def _helper(jobs: Jobs[Any, Any], k: int, n: int, sending: Any) -> None:
    """In a forked helper: every n-th item from the k-th, each result sent as soon as it is made."""
    try:
        for i in range(k, len(jobs.items), n):
            try:
                data = pickle.dumps(("ok", jobs.fn(jobs.items[i])), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:
                data = pickle.dumps(("error", (str(exc) or exc.__class__.__name__, traceback.format_exc())))
                sending.send_bytes(data)
                return
            sending.send_bytes(data)
            del data  # not held while the next item is worked on
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # this process's consumer is gone, or the operator stopped the run: nobody wants the rest
    finally:
        sending.close()
