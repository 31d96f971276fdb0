"""The night's decisions of a client decided in slices, kept on disk instead of in memory (issue 18).

Each slice's decisions arrive as a run sorted the way ``connector.dunning.decide.sort_decisions`` sorts (due
date, then invoice number); a client decided in one piece stays one list in memory, as before. From the
second run on, every run is pickled to one temporary file (unlinked at once: nothing is left behind, even
after a crash) in chunks, and iterating merges the runs back in that order, one chunk per run in memory at a
time. A million decisions (about 850 MB as objects) then cost a few tens of megabytes however often the
night reads them: saving them, acting on them, printing them.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
from collections.abc import Collection, Iterator
from datetime import date
from typing import IO

from connector.model import Decision

CHUNK = 2_000  # decisions per pickle: one chunk per run is what a merge holds


def _order(d: Decision) -> tuple[date, str]:
    # sort_decisions' order: by invoice number, then (stable) by due date — the same as this key
    return (d.due_date or date.min, d.invoice_number)


class Spooled(Collection[Decision]):
    """Sorted runs of decisions on a temporary file, iterated merged (re-iterable; ``len`` known)."""

    def __init__(self, file: IO[bytes], runs: list[list[int]], count: int):
        self._file = file
        self._runs = runs  # per run, the file offset of each chunk
        self._count = count

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Decision]:
        return heapq.merge(*(self._run(offsets) for offsets in self._runs), key=_order)

    def __contains__(self, item: object) -> bool:
        return any(d == item for d in self)

    def _run(self, offsets: list[int]) -> Iterator[Decision]:
        for offset in offsets:
            self._file.seek(offset)  # runs are read interleaved: every chunk is read from its own place
            chunk: list[Decision] = pickle.load(self._file)
            yield from chunk


class Spool:
    """Collects a night's sorted runs: the first stays in memory, two or more go to disk (``Spooled``)."""

    def __init__(self) -> None:
        self._first: list[Decision] | None = None
        self._file: IO[bytes] | None = None
        self._runs: list[list[int]] = []
        self._count = 0

    def add(self, run: list[Decision]) -> None:
        """A run sorted as ``sort_decisions`` sorts."""
        if self._first is None and self._file is None:
            self._first = run
            return
        if self._first is not None:
            self._spill(self._first)
            self._first = None
        self._spill(run)

    def result(self) -> Collection[Decision]:
        if self._file is None:
            return self._first or []
        return Spooled(self._file, self._runs, self._count)

    def _spill(self, run: list[Decision]) -> None:
        if self._file is None:
            # kept open as the collection's storage; closed (and gone) when the collection is
            self._file = tempfile.TemporaryFile(prefix="arsync-decisions-")  # noqa: SIM115
        file = self._file
        file.seek(0, 2)
        offsets = []
        for start in range(0, len(run), CHUNK):
            offsets.append(file.tell())
            pickle.dump(run[start : start + CHUNK], file, protocol=pickle.HIGHEST_PROTOCOL)
        self._runs.append(offsets)
        self._count += len(run)
