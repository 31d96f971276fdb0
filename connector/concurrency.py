"""Bounded, ordered read-ahead: run an I/O-bound step for many items on a thread pool while the
caller consumes the results one by one, in the items' order.

The nightly run uses it to fetch many clients' ledgers and bank files at once (HTTP latency and
rate-limit waits overlap; each system's limits still hold because the limiters in
:mod:`connector.http` are shared by every client using the same credential) while the writes,
decisions and actions stay in the calling thread, one client after another. At most ``window``
results are held at a time, so 200 clients' ledgers are never all in memory together.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def read_ahead(
    step: Callable[[T], R], items: Iterable[T], workers: int, window: int | None = None
) -> Iterator[tuple[T, Future[R]]]:
    """Yield ``(item, future)`` in the order of ``items``; ``future.result()`` re-raises ``step``'s error.

    With ``workers`` ≤ 1 every step runs in the calling thread when its item is reached — exactly
    the sequential behaviour (and a single-threaded process, which the EHF reader needs to fork).
    """
    if workers <= 1:
        for item in items:
            done: Future[R] = Future()
            try:
                done.set_result(step(item))
            except Exception as exc:  # handed to the caller through the future, as with the pool
                done.set_exception(exc)
            yield item, done
        return
    limit = max(window or 2 * workers, workers)
    pending: deque[tuple[T, Future[R]]] = deque()
    source = iter(items)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
        try:
            for item in source:
                pending.append((item, pool.submit(step, item)))
                if len(pending) >= limit:
                    yield pending.popleft()
            while pending:
                yield pending.popleft()
        finally:
            # The consumer stopped early (an exception, a break): do not start what is still queued.
            for _item, future in pending:
                future.cancel()
