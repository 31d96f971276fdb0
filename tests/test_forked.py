"""Pieces of work read by forked helpers come back in order, exactly as read here; a helper that fails or
dies fails the reading with a clear error, never a hang; stopping early ends the helpers; nothing forks
while another thread is busy (connector.forked)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from connector import forked
from connector.forked import HelperFailed, Jobs, in_helpers, processes_now

pytestmark = pytest.mark.skipif(not forked.can_fork(), reason="helpers are forked: Linux only")


def _square_where(n: int) -> list[tuple[int, int, int]]:
    return [(n, n * n, os.getpid())]


def test_helpers_give_the_results_of_reading_here_in_order() -> None:
    jobs = Jobs(_square_where, list(range(7)))

    got = list(in_helpers(jobs, 2))

    assert [(n, sq) for n, sq, _pid in got] == [(n, sq) for n, sq, _pid in jobs]
    pids = {pid for _n, _sq, pid in got}
    assert os.getpid() not in pids and len(pids) == 2  # two helpers, neither of them this process


def test_one_process_or_one_item_is_read_here() -> None:
    assert {pid for *_, pid in in_helpers(Jobs(_square_where, [1, 2, 3]), 1)} == {os.getpid()}
    assert {pid for *_, pid in in_helpers(Jobs(_square_where, [1]), 2)} == {os.getpid()}


def _fails_on_four(n: int) -> list[int]:
    if n == 4:
        raise ValueError("part 4: broken")
    return [n]


def test_an_error_in_a_helper_is_raised_here_with_its_message_after_the_parts_before_it() -> None:
    got: list[int] = []
    with pytest.raises(HelperFailed, match="part 4: broken"):
        for n in in_helpers(Jobs(_fails_on_four, list(range(8))), 2):
            got.append(n)
    assert got == [0, 1, 2, 3]
    assert multiprocessing.active_children() == []


def _dies_on_three(n: int) -> list[int]:
    if n == 3:
        os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would
    return [n]


def test_a_helper_killed_midway_fails_the_reading_instead_of_hanging() -> None:
    got: list[int] = []
    with pytest.raises(HelperFailed, match=r"ended \(exit code -9\) before it sent part 4 of 6"):
        for n in in_helpers(Jobs(_dies_on_three, list(range(6))), 2):
            got.append(n)
    assert got == [0, 1, 2]
    assert multiprocessing.active_children() == []


def _slow(n: int) -> list[int]:
    time.sleep(0.05)
    return [n]


def _pieces(n: int) -> Iterator[tuple[int, int]]:
    for piece in range(n % 3):  # none, one or two results per item
        yield n, piece


def test_an_item_may_give_several_results_or_none_and_they_come_in_order() -> None:
    jobs = Jobs(_pieces, list(range(8)))
    assert list(in_helpers(jobs, 2)) == list(jobs) == [(n, p) for n in range(8) for p in range(n % 3)]


def test_when_no_helper_can_be_started_everything_is_read_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_memory(self: object) -> None:
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(multiprocessing.get_context("fork").Process, "start", no_memory)
    assert {pid for *_, pid in in_helpers(Jobs(_square_where, [1, 2, 3]), 2)} == {os.getpid()}


def test_stopping_early_ends_the_helpers() -> None:
    reading = in_helpers(Jobs(_slow, list(range(100))), 2)
    assert next(reading) == 0
    reading.close()  # the sync failed or a stop was asked for
    assert multiprocessing.active_children() == []


def test_nothing_forks_while_another_thread_is_busy() -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: nothing to share")
    assert processes_now(quiesce=lambda: True) == 2
    stop = threading.Event()
    busy = threading.Thread(target=stop.wait)
    busy.start()
    try:
        assert processes_now() == 1  # it might hold a lock a forked helper would wait for forever
        assert processes_now(quiesce=lambda: True) == 2  # the run's own fetch threads, idled
        assert processes_now(quiesce=lambda: False) == 1
    finally:
        stop.set()
        busy.join()


def _large(n: int) -> list[bytes]:
    return [bytes(1 << 20)] * 3  # more than a pipe holds: the helper waits in its send until taken


def test_stopping_ends_helpers_waiting_to_send_though_the_command_line_only_notes_a_stop() -> None:
    """The command line turns SIGTERM into "stop after the item in hand" (connector.interrupt); a helper
    inherits that handler, so ending it must not rely on it, or the command waits for ever."""
    noted: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: noted.append(signum))
    try:
        reading = in_helpers(Jobs(_large, list(range(6))), 2)
        assert len(next(reading)) == 1 << 20
        time.sleep(0.2)  # both helpers are now blocked sending
        closing = threading.Thread(target=reading.close, daemon=True)
        closing.start()
        closing.join(timeout=5)  # at once: not after the 10 s before SIGKILL
        assert not closing.is_alive(), "the helpers did not end on SIGTERM"
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert multiprocessing.active_children() == [] and noted == []


_PARENT = """
import multiprocessing, sys, time
from connector.forked import Jobs, in_helpers
def large(n):
    return [bytes(1 << 20)] * 3
reading = in_helpers(Jobs(large, list(range(6))), 2)
next(reading)
print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_helpers_end_when_their_parent_is_killed() -> None:
    """kill -9 or the OOM killer on the command: no helper is left behind holding its database sockets
    (on PostgreSQL the sync's transaction and the client's lock would stay open with them)."""
    with subprocess.Popen([sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, text=True) as parent:
        assert parent.stdout is not None
        helpers = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(helpers) == 2
        parent.kill()
    for _ in range(100):
        if not any(_alive(pid) for pid in helpers):
            break
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in helpers)
