"""Bounded, ordered read-ahead: run an I/O-bound step for many items on a thread pool while the
caller consumes the results one by one, in the items' order.

The nightly run uses it to fetch many clients' ledgers and bank files at once (HTTP latency and
rate-limit waits overlap; each system's limits still hold because the limiters in
:mod:`connector.http` are shared by every client using the same credential) while the writes,
decisions and actions stay in the calling thread, one client after another. At most ``window``
results are held at a time, so 200 clients' ledgers are never all in memory together.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class ReadAhead(Generic[T, R]):
    """Iterate for ``(item, future)`` in the order of ``items``; ``future.result()`` re-raises ``step``'s
    error. With ``workers`` ≤ 1 every step runs in the calling thread when its item is reached — exactly
    the sequential behaviour."""

    def __init__(self, step: Callable[[T], R], items: Iterable[T], workers: int, window: int | None = None):
        self.step, self.items, self.workers = step, items, workers
        self.limit = max(window or 2 * workers, workers)
        self._pending: deque[tuple[T, Future[R]]] = deque()
        self._threads: set[threading.Thread] = set()  # the pool's threads that have run a step

    def settle(self) -> bool:
        """Wait until every step started so far has finished. No other starts until the caller asks for
        the next item, so the pool's threads stay idle meanwhile. True when those are the only other
        threads in the process: it may then fork (the slices of a very large client,
        connector.engine.slices)."""
        wait([future for _item, future in self._pending])
        others = set(threading.enumerate()) - {threading.current_thread()}
        return others <= self._threads

    def _run(self, item: T) -> R:
        self._threads.add(threading.current_thread())
        return self.step(item)

    def __iter__(self) -> Iterator[tuple[T, Future[R]]]:
        if self.workers <= 1:
            for item in self.items:
                done: Future[R] = Future()
                try:
                    done.set_result(self.step(item))
                except Exception as exc:  # handed to the caller through the future, as with the pool
                    done.set_exception(exc)
                yield item, done
            return
        pending = self._pending
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="fetch") as pool:
            try:
                for item in self.items:
                    pending.append((item, pool.submit(self._run, item)))
                    if len(pending) >= self.limit:
                        yield pending.popleft()
                while pending:
                    yield pending.popleft()
            finally:
                # The consumer stopped early (an exception, a break): do not start what is still queued.
                for _item, future in pending:
                    future.cancel()


def read_ahead(step: Callable[[T], R], items: Iterable[T], workers: int, window: int | None = None) -> ReadAhead[T, R]:
    """``ReadAhead(step, items, workers, window)``: at most ``window`` (default ``2 * workers``) results are
    held or under way at a time."""
    return ReadAhead(step, items, workers, window)
