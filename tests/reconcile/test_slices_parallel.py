"""Slices in two processes (``SlicedRun.map``): routing in a child, a forked helper taking slices alongside
this process. Same result as reconciling the client whole; failures in a child surface here, and no child
outlives the run."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from slice_books import (
    AS_OF,
    DAY0,
    Book,
    Outcome,
    books,
    check,
    client_config,
    customer,
    invoice,
    load,
    payment,
)

from connector import forked
from connector.config import ClientConfig
from connector.dunning.decide import decide
from connector.engine import slices
from connector.engine.slices import Slice, SlicedRun
from connector.model import Action, Decision, Evidence, Hold, PaymentStatus, State
from connector.store import Store

pytestmark = pytest.mark.skipif(not forked.can_fork(), reason="slices run in forked processes on Linux only")


def _book(n_customers: int = 6) -> Book:
    """One customer per slice (slices of one document), each paid by KID or by a credit no one can place."""
    from connector.references import kid_mod10

    customers = [customer(f"C{i}") for i in range(n_customers)]
    docs = [invoice(f"INV-{i}", f"C{i}", "100.00", kid_mod10(str(1000 + i))) for i in range(n_customers)]
    pays = [
        payment(f"B{i}", "100.00", DAY0 + timedelta(days=i), structured_ref=kid_mod10(str(1000 + i)))
        for i in range(0, n_customers, 2)
    ]
    pays.append(payment("X", "100.00", DAY0))  # no reference, no payer: every slice holds its items of 100
    return Book(customers, docs, pays)


@pytest.fixture
def stored(tmp_path: Path) -> Iterator[tuple[Store, ClientConfig]]:
    store = Store(f"sqlite:///{tmp_path / 'arsync.db'}")
    load(store, _book())
    yield store, client_config()
    store.close()


def in_processes(store: Store, client: ClientConfig, k: int) -> tuple[Outcome, set[int]]:
    run = SlicedRun(store, client, slice_documents=k, workers=2)

    def work(part: Slice) -> tuple[int, list[Decision], object, object]:
        return os.getpid(), decide(part.facts, client, AS_OF, part.recon), part.recon, part.facts.invoices

    out, pids = Outcome(), set()
    for pid, decided, recon, invoices in run.map(work):
        pids.add(pid)
        out.add(decided, recon, invoices)  # type: ignore[arg-type]
    out.unexplained += run.unexplained_everywhere
    out.slices = run.slices
    out.everywhere = len(run.unexplained_everywhere)
    return out.done(), pids


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_slices_in_two_processes_equal_the_whole_client(drawn: tuple[Book, int]) -> None:
    book, k = drawn
    check(book, k, lambda store, client, k: in_processes(store, client, k)[0])
    assert not multiprocessing.active_children()


class Turns:
    """Makes the helper take a slice: this process finishes its first slice only once the helper has begun
    one (events made before the fork are shared with it)."""

    def __init__(self) -> None:
        self.parent = os.getpid()
        self.helper_began = multiprocessing.get_context("fork").Event()

    def in_helper(self) -> bool:
        if os.getpid() != self.parent:
            self.helper_began.set()
            return True
        assert self.helper_began.wait(60), "the helper never took a slice"
        return False


def test_both_processes_take_slices_and_every_slice_comes_back_once(stored: tuple[Store, ClientConfig]) -> None:
    store, client = stored
    turns = Turns()
    run = SlicedRun(store, client, slice_documents=2, workers=2)  # slices of one document in each process

    def work(part: Slice) -> tuple[bool, list[str], float]:
        return turns.in_helper(), sorted(i.number for i in part.facts.invoices), run.seconds["match"]

    got = list(run.map(work))
    assert run.slices == 6
    assert sorted(n for _helper, numbers, _s in got for n in numbers) == [f"INV-{i}" for i in range(6)]
    assert {helper for helper, _n, _s in got} == {True, False}
    assert run.unexplained_everywhere == ["camt|15030012345|X|0|2024-03-01"]
    # the helper's seconds are added to this process's own (>=: on a loaded machine the helper's share can
    # round to nothing next to this process's)
    own = max(seconds for helper, _n, seconds in got if not helper)
    assert run.seconds["route"] > 0 and run.seconds["match"] >= own
    assert not multiprocessing.active_children()


def test_a_failure_in_the_helper_is_raised_here_with_its_traceback(stored: tuple[Store, ClientConfig]) -> None:
    store, client = stored
    turns = Turns()

    def work(part: Slice) -> int:
        if turns.in_helper():
            raise ValueError("no such ledger account 1500")
        return len(part.facts.invoices)

    with pytest.raises(RuntimeError, match=r"helper process(.|\n)*ValueError: no such ledger account 1500"):
        list(SlicedRun(store, client, slice_documents=2, workers=2).map(work))
    assert not multiprocessing.active_children()


@pytest.mark.parametrize("code", [9, 0])
def test_a_helper_that_ends_before_it_is_done_is_an_error_not_a_hang(
    stored: tuple[Store, ClientConfig], code: int
) -> None:
    """Killed for memory (no message, no traceback), or ended quietly: this process does not wait forever."""
    store, client = stored
    turns = Turns()

    def work(part: Slice) -> int:
        if turns.in_helper():
            os._exit(code)
        return len(part.facts.invoices)

    with pytest.raises(RuntimeError, match=rf"slice process ended \(exit code {code}\) before it sent all its slices"):
        list(SlicedRun(store, client, slice_documents=2, workers=2).map(work))
    assert not multiprocessing.active_children()


def test_a_routing_failure_is_raised_here(stored: tuple[Store, ClientConfig], monkeypatch: pytest.MonkeyPatch) -> None:
    store, client = stored

    def broken(*_args: object) -> None:
        raise KeyError("C9")

    monkeypatch.setattr(slices, "_route", broken)
    with pytest.raises(RuntimeError, match=r"routing failed(.|\n)*KeyError: 'C9'"):
        list(SlicedRun(store, client, slice_documents=2, workers=2).map(lambda part: 0))
    assert not multiprocessing.active_children()


def test_stopping_early_ends_the_helper(stored: tuple[Store, ClientConfig]) -> None:
    store, client = stored
    results = SlicedRun(store, client, slice_documents=2, workers=2).map(lambda part: len(part.facts.invoices))
    assert next(results) == 1
    results.close()
    assert not multiprocessing.active_children()


def test_one_process_for_an_in_memory_store_or_while_other_threads_run(stored: tuple[Store, ClientConfig]) -> None:
    """An in-memory database is not there for a forked child's own connection; a running thread (the
    nightly fetch-ahead) may hold a lock the child would wait for forever."""
    store, client = stored
    memory = Store("sqlite://")
    load(memory, _book())
    pids = set(SlicedRun(memory, client, slice_documents=2, workers=2).map(lambda part: os.getpid()))
    assert pids == {os.getpid()}

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        run = SlicedRun(store, client, slice_documents=2, workers=2)
        assert set(run.map(lambda part: os.getpid())) == {os.getpid()}
        assert run.slices == 3  # one process: slices of the full two documents (two processes: one each)
        asked: list[bool] = []

        def not_idle() -> bool:  # the threads could not be idled
            asked.append(True)
            return False

        run = SlicedRun(store, client, slice_documents=2, workers=2, quiesce=not_idle)
        assert set(run.map(lambda part: os.getpid())) == {os.getpid()} and asked == [True]
    finally:
        stop.set()
        thread.join()


def test_decisions_come_back_from_a_process_unchanged() -> None:
    d = Decision(
        "acme",
        "INV-1",
        "C1",
        "NOK",
        Decimal("100.00"),
        Decimal("40.00"),
        AS_OF,
        State.OVERDUE,
        Action.NONE,
        (Hold.PAYMENT_PENDING,),
        (Evidence("payment", "KID 10009 paid 60.00", "camt|x|1", Decimal("60.00"), DAY0), Evidence("hold", "x")),
        Action.REMINDER,
    )
    again = pickle.loads(pickle.dumps(d, protocol=5))
    assert again == d and again.as_json() == d.as_json() and type(again.evidence[0].amount) is Decimal


def test_a_pending_credit_only_the_helpers_slice_can_pay_is_not_unexplained(tmp_path: Path) -> None:
    """Every slice sees a pending credit with no reference; only the last customer has an item of its amount.
    The helper matches that slice (this process, on slice 0 or 1, waits until the helper has taken the other
    three), and says so: the credit holds INV-3 and is not listed as unexplained."""
    store = Store(f"sqlite:///{tmp_path / 'arsync.db'}")
    book = Book(
        [customer(f"C{i}") for i in range(4)],
        [invoice(f"INV-{i}", f"C{i}", "77.00" if i == 3 else "100.00") for i in range(4)],
        [payment("P", "77.00", DAY0, status=PaymentStatus.PENDING)],
    )
    load(store, book)
    client = client_config()
    parent = os.getpid()
    fork = multiprocessing.get_context("fork")
    parent_began = fork.Event()  # so the helper has taken at most one slice when this process takes its first
    taken = fork.Value("i", 0)  # slices the helper has begun

    def work(part: Slice) -> tuple[bool, list[str]]:
        if os.getpid() != parent:
            assert parent_began.wait(60)
            with taken.get_lock():
                taken.value += 1
        else:
            parent_began.set()
            deadline = time.monotonic() + 60
            while taken.value < 3 and time.monotonic() < deadline:  # then the helper has the other three
                time.sleep(0.01)
        return os.getpid() != parent, [n for n, held in part.recon.pending.items() if held]

    run = SlicedRun(store, client, slice_documents=2, workers=2)
    got = list(run.map(work))
    store.close()
    assert run.slices == 4 and taken.value == 3
    assert [(in_helper, held) for in_helper, held in got if held] == [(True, ["INV-3"])]
    assert run.unexplained_everywhere == []
