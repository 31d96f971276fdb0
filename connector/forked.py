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

import contextlib
import ctypes
import gc
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from connector.gcpause import gc_paused

log = logging.getLogger(__name__)
X = TypeVar("X")
R = TypeVar("R")
PROCESSES = 2  # helpers reading at once: the machines we run on have two cores or more
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass(frozen=True)
class Jobs(Generic[X, R]):
    """``fn(item)`` for each item gives its results (one or more, so that no result need be large), wanted
    in the items' order. Iterating runs them here, lazily."""

    fn: Callable[[X], Iterable[R]]
    items: Sequence[X]

    def __iter__(self) -> Iterator[R]:
        for item in self.items:
            yield from self.fn(item)


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


def as_helper(parent: int, inherited: Sequence[Any] = (), *, finishes: bool = False) -> None:
    """A forked helper's signals. Ctrl-C reaches the whole process group: the parent decides what a stop
    means, and ends its helpers. SIGTERM (the parent ending it, or systemd stopping the unit) ends a reading
    helper at once: the command line's handler it inherits would only note a stop and carry on, and a parent
    waiting for it to end would wait for ever. A helper whose work the parent waits for even when a stop is
    asked for (``finishes``: a slice is decided whole, as in one process) ignores SIGTERM too, and is ended
    with SIGKILL (``end(…, grace_s=0)``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN if finishes else signal.SIG_DFL)
    # Ends with its parent however that ends (kill -9, the OOM killer): a helper left behind would hold
    # the parent's database sockets (on PostgreSQL its transaction and the client's lock stay open).
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent ended before that took effect
        os._exit(1)
    for end_ in inherited:  # the receiving ends it inherited: a send to a parent gone then fails at once
        end_.close()


def end(processes: Sequence[Any], grace_s: float = 10.0) -> None:
    """End helper processes and wait for them: SIGTERM, then SIGKILL for one still there after ``grace_s``."""
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    for proc in processes:
        proc.join(timeout=grace_s)
        if proc.is_alive():
            proc.kill()
            proc.join()


def in_helpers(jobs: Jobs[X, R], processes: int) -> Iterator[R]:
    """The results of ``jobs``, in order, computed by ``processes`` forked helpers: helper k takes items k,
    k + processes, …. A helper sends each result as it is made and goes on; it waits (its pipe full) until
    this process takes it, so each helper holds about one result ahead. With one process, or one item, or
    when no helper can be started (no memory for a process), everything runs here.

    Closing the iterator early (the consumer failed, or a stop was asked for) ends the helpers."""
    items = jobs.items
    n = min(processes, len(items))
    helpers = _start(jobs, n) if n > 1 else []
    if not helpers:
        yield from jobs
        return
    try:
        for i in range(len(items)):
            proc, receiving = helpers[i % n]
            while True:
                try:
                    data = receiving.recv_bytes()
                except EOFError:
                    proc.join(timeout=5)
                    raise HelperFailed(
                        f"a reading process ended (exit code {proc.exitcode}) before it sent"
                        f" part {i + 1} of {len(items)}"
                    ) from None
                with gc_paused():  # a part's records: thousands of small acyclic objects
                    kind, payload = pickle.loads(data)
                del data
                if kind == "end":
                    break
                if kind == "error":
                    text, trace = payload
                    log.info("a reading process failed:\n%s", trace)  # the traceback, with -v
                    raise HelperFailed(text)
                yield payload
    finally:
        end([proc for proc, _receiving in helpers])
        for _proc, receiving in helpers:
            receiving.close()


def _start(jobs: Jobs[Any, Any], n: int) -> list[tuple[Any, Any]]:
    """``n`` helpers, each with the receiving end of its pipe; none if one cannot be started."""
    fork = multiprocessing.get_context("fork")
    helpers: list[tuple[Any, Any]] = []
    gc.freeze()  # the helpers' collector then never walks (and copies) what they inherit
    try:
        for k in range(n):
            receiving, sending = fork.Pipe(duplex=False)
            inherited = [r for _proc, r in helpers] + [receiving]
            args = (jobs, k, n, sending, os.getpid(), inherited)
            proc = fork.Process(target=_helper, args=args, name="arsync-reader", daemon=True)
            try:
                proc.start()
            except OSError:
                receiving.close()
                raise
            finally:
                sending.close()  # the helper's end: when it ends, this side reads end-of-file
            helpers.append((proc, receiving))
    except OSError as exc:  # e.g. no memory or no process slot left: read here instead, as without fork
        log.warning("reading in one process: a helper process could not be started (%s)", exc)
        end([proc for proc, _receiving in helpers])
        for _proc, receiving in helpers:
            receiving.close()
        return []
    finally:
        gc.unfreeze()
    return helpers


def _helper(jobs: Jobs[Any, Any], k: int, n: int, sending: Any, parent: int, inherited: list[Any]) -> None:
    """In a forked helper: every n-th item from the k-th, each result sent as soon as it is made, then an
    end mark per item."""
    as_helper(parent, inherited)
    done = pickle.dumps(("end", None))
    try:
        for i in range(k, len(jobs.items), n):
            try:
                for result in jobs.fn(jobs.items[i]):
                    data = pickle.dumps(("ok", result), protocol=pickle.HIGHEST_PROTOCOL)
                    del result
                    sending.send_bytes(data)
                    del data  # not held while the next result is made
            except (BrokenPipeError, KeyboardInterrupt):
                raise
            except Exception as exc:
                sending.send_bytes(
                    pickle.dumps(("error", (str(exc) or exc.__class__.__name__, traceback.format_exc())))
                )
                return
            sending.send_bytes(done)
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # this process's consumer is gone, or the operator stopped the run: nobody wants the rest
    finally:
        sending.close()
