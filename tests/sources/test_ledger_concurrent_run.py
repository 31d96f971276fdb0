"""``pipeline.run`` with ``workers`` > 1: clients' sources are fetched at once against the fakes
(real sockets, injected latency), and the outcome is exactly that of a run one client after another."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector import http, pipeline
from connector.concurrency import read_ahead
from connector.config import ClientConfig, Settings
from connector.reconcile import reconcile
from connector.store import Store
from connector.store.facts import load_facts
from connector.store.sync import sync_status
from tests.builders import wait_for_no_other_threads
from tests.fakes.ledger_world import realistic, ubl
from tests.fakes.ledgers import FAKES, FakeSystem
from tests.sources.ledger_helpers import client_for, fast_http, state

AS_OF = date(2026, 11, 20)
KINDS = ["tripletex", "fiken", "poweroffice", "economic"]
PER_SYSTEM = 3


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, FakeSystem]]:
    with fast_http(monkeypatch, real_limits=True), ExitStack() as stack:
        yield {k: stack.enter_context(FAKES[k](realistic(), latency=0.03)) for k in KINDS}


def _clients(fakes: dict[str, FakeSystem], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[ClientConfig]:
    clients = []
    for kind, fake in fakes.items():
        for i in range(PER_SYSTEM):
            extra: dict[str, Any] = {}
            if kind == "fiken":  # a token per company, as in real life (Fiken allows one request in flight per token)
                token = f"fiken-token-{i:04d}-abcdef"
                monkeypatch.setenv(f"FIKEN_TOKEN_{i}", token)
                fake.valid_tokens.add(token)
                extra = {"token_env": f"FIKEN_TOKEN_{i}"}
            clients.append(client_for(kind, fake, tmp_path, client_id=f"{kind}-{i}", **extra))
    return clients


def _run(tmp_path: Path, name: str, clients: list[ClientConfig], workers: int) -> tuple[float, Store, list[Any]]:
    store = Store(f"sqlite:///{tmp_path / name}.db")
    started = time.monotonic()
    reports = pipeline.run(Settings(clients=clients), store, clients, AS_OF, act=False, workers=workers)
    return time.monotonic() - started, store, reports


def _outcome(store: Store, reports: list[Any]) -> list[Any]:
    return [
        (
            r.client_id,
            r.ok,
            r.errors,
            sorted((d.invoice_number, d.action.value) for d in r.decisions),
            state(store, r.client_id),
        )
        for r in reports
    ]


def test_concurrent_run_overlaps_clients_and_equals_a_sequential_run(
    fakes: dict[str, FakeSystem], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = _clients(fakes, tmp_path, monkeypatch)
    _seq_wall, seq_store, seq_reports = _run(tmp_path, "seq", clients, workers=1)
    assert max(f.max_in_flight for f in fakes.values()) == 1  # sequential: never two requests at once
    for f in fakes.values():
        f.max_in_flight = 0
    _conc_wall, conc_store, conc_reports = _run(tmp_path, "conc", clients, workers=8)

    assert all(r.ok for r in conc_reports), [r.errors for r in conc_reports]
    assert [r.client_id for r in conc_reports] == [c.id for c in clients]  # deterministic order
    assert _outcome(conc_store, conc_reports) == _outcome(seq_store, seq_reports)
    # Overlap is real: several clients' requests were in flight at once at the fakes …
    assert max(f.max_in_flight for f in fakes.values()) > 1
    # … and the limits still hold: Fiken one request in flight per token (3 tokens here).
    assert fakes["fiken"].max_in_flight <= PER_SYSTEM
    # (how much faster it is, is bench/ledger_sync_bench.py's to measure: a shared CI machine times nothing)


def test_one_failing_client_stays_isolated_under_concurrency(
    fakes: dict[str, FakeSystem], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = _clients(fakes, tmp_path, monkeypatch)
    # One source fails inside the fetch (refused token), one client fails before any request (secret missing).
    monkeypatch.setenv("FIKEN_TOKEN_1", "refused-token-0000000")
    monkeypatch.delenv("FIKEN_TOKEN_2")
    _wall, store, reports = _run(tmp_path, "iso", clients, workers=8)

    by_id = {r.client_id: r for r in reports}
    assert [r.client_id for r in reports] == [c.id for c in clients]
    assert not by_id["fiken-1"].ok and "401" in " ".join(by_id["fiken-1"].errors)
    assert not by_id["fiken-2"].ok and "FIKEN_TOKEN_2" in " ".join(by_id["fiken-2"].errors)
    assert state(store, "fiken-1")["invoices"] == [] and state(store, "fiken-2")["invoices"] == []
    ok = [r for r in reports if r.client_id not in ("fiken-1", "fiken-2")]
    assert all(r.ok for r in ok) and len(ok) == len(clients) - 2
    assert all(len(state(store, r.client_id)["invoices"]) == 5 for r in ok)
    failed = store.read(sync_status, "fiken-1")["ledger"]  # the failure is recorded, nothing else kept
    assert failed.last_error and "401" in failed.last_error and failed.last_success_at is None


def test_read_ahead_keeps_order_bounds_the_window_and_reraises_per_item() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def step(i: int) -> int:
        with lock:
            started.append(i)
        time.sleep(0.01 * (5 - i % 5))  # later items finish first
        if i == 3:
            raise ValueError("item 3")
        return i * 10

    seen = []
    for i, fut in read_ahead(step, range(10), workers=4, window=4):
        with lock:
            assert len(started) <= i + 4 + 1  # never more than the window ahead of the consumer
        try:
            seen.append(fut.result())
        except ValueError as exc:
            seen.append(str(exc))
    assert seen == [0, 10, 20, "item 3", 40, 50, 60, 70, 80, 90]


def test_settle_waits_for_every_fetch_under_way_and_starts_no_other_until_asked() -> None:
    """Before a very large client's slices fork, the fetches running ahead finish and the threads idle."""
    running: set[int] = set()
    started: list[int] = []
    lock = threading.Lock()

    def step(i: int) -> int:
        with lock:
            running.add(i)
            started.append(i)
        time.sleep(0.05)
        with lock:
            running.discard(i)
        return i

    wait_for_no_other_threads()
    ahead = read_ahead(step, range(12), workers=3, window=6)
    items = iter(ahead)
    _first, fut = next(items)
    assert ahead.settle()  # only the pool's own threads are left, idle: the process may fork
    with lock:
        assert running == set() and len(started) == 6  # the window: all done, none further begun
    time.sleep(0.1)
    with lock:
        assert len(started) == 6
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)  # a thread read-ahead cannot speak for
    other.start()
    try:
        assert not ahead.settle()
    finally:
        stop.set()
        other.join()
    assert [fut.result(), *(f.result() for _i, f in items)] == list(range(12))


def test_ehf_folder_is_read_correctly_on_a_fetch_thread(tmp_path: Path) -> None:
    """Clients' EHF folders read on fetch threads give the same facts as a sequential run."""
    folder = tmp_path / "ehf"
    folder.mkdir()
    for d in realistic().docs:
        (folder / f"{d.number}.xml").write_text(ubl(d), encoding="utf-8")
    clients = [
        ClientConfig(
            id=f"ehf-{i}",
            name="Nordlys Rør AS",
            org_no="923456783",
            country="NO",
            currency="NOK",
            ledger={"kind": "ehf", "path": folder},
            collection={"provider": "outbox", "path": tmp_path / "cases"},
        )
        for i in range(3)
    ]
    _w, seq_store, seq_reports = _run(tmp_path, "ehf-seq", clients, workers=1)
    _w, conc_store, conc_reports = _run(tmp_path, "ehf-conc", clients, workers=3)
    assert all(r.ok for r in conc_reports), [r.errors for r in conc_reports]
    assert _outcome(conc_store, conc_reports) == _outcome(seq_store, seq_reports)


def test_rate_limiter_holds_on_actual_start_times_even_when_threads_wake_late() -> None:
    lim = http.RateLimiter(http.Limits(rate_per_second=50.0, max_concurrent=None))
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(9):
            lim.acquire()
            with lock:
                starts.append(time.monotonic())
            lim.release()
            time.sleep(0.003)  # some work between requests, as a real client has

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    starts.sort()
    assert starts[-1] - starts[0] >= (len(starts) - 1) * 0.02 * 0.95  # spaced about 1/rate apart overall
    window, best, j = 1.0, 0, 0
    for i, t in enumerate(starts):
        while t - starts[j] >= window:
            j += 1
        best = max(best, i - j + 1)
    assert best <= 50


def test_economic_dated_payments_explain_a_part_payment_and_a_credit_closes(
    fakes: dict[str, FakeSystem], tmp_path: Path
) -> None:
    """e-conomic's entries list the customer's payments (issue 16 item 8): a partly paid invoice is open
    by what is left, explained by the dated payment; a credited one is closed."""
    client = client_for("economic", fakes["economic"], tmp_path)
    store = Store(f"sqlite:///{tmp_path / 'ec'}.db")
    report = pipeline.run(Settings(clients=[client]), store, [client], AS_OF, act=False)[0]
    assert report.ok, report.errors
    facts = store.read(load_facts, client.id)
    assert {(p.invoice_number, p.amount, p.booking_date) for p in facts.payments} == {
        ("10042", Decimal("7500.00"), date(2026, 5, 15)),
        ("10043", Decimal("3000.00"), date(2026, 6, 10)),
    }
    recon = reconcile(facts.invoices, facts.payments)
    assert recon.open_amount["10042"] == Decimal("5000.00") and recon.open_amount["10044"] == Decimal("0.00")
    # The dated payment explains the remainder: no gap is left for the ledger's balance to close.
    assert "ledger_balance" not in {a.tier for a in recon.allocations["10042"]}
