"""The queue in one process (``connector.queue``): an enqueue repeated is a no-op, two enqueuers at once queue
a client once, a failing client is retried then reported failed while the others finish, one client never
runs twice at once, and ``run --queue --wait`` prints the night's report with ``arsync run``'s exit status —
the report the worker made, printed as ``arsync run`` prints it, though the job kept only its counts and
problems (the decisions are read back from the store).

Workers here run in the test's own process until the queue is empty (``run_worker(..., until_idle=True)``);
``test_worker_processes.py`` and ``test_distributed.py`` run real worker processes.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, text

from connector import config as config_mod
from connector import http, pipeline
from connector.cli import main
from connector.cli import run as run_cmd
from connector.cli.common import Env
from connector.config import ConfigError
from connector.queue import db, runs
from connector.queue.worker import ClientFailed, WorkerState, _Retry, client_lock, run_worker
from connector.reports.run import ClientReport
from connector.sources import poweroffice, tripletex
from connector.store import Store
from connector.store.decisions import save_decisions
from tests.fakes.ledger_world import bulk
from tests.queue.night_env import AS_OF, Fleet, arsync_argv, needs_postgres, scratch_database

pytestmark = needs_postgres


@dataclass
class Night:
    fleet: Fleet
    url: str
    config: Path
    engine: Engine

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(main, ["--config", str(self.config), *args], catch_exceptions=False)

    def settings(self) -> config_mod.Settings:
        return config_mod.load(self.config)

    def work(self, concurrency: int = 2) -> None:
        run_worker(self.settings(), concurrency, until_idle=True)

    def status(self) -> dict[str, dict[str, object]]:
        return {c.client_id: c.as_json() for c in runs.night(self.engine, AS_OF).clients}


@pytest.fixture
def night(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Night]:
    n, broken, attempts, world = (*getattr(request, "param", (4, (), 2)), None)[:4]
    with scratch_database() as url:
        fleet = Fleet(tmp_path, groups=1, limits=False, world=world)
        for key, value in fleet.env.items():
            monkeypatch.setenv(key, value)
        http.reset_limiters()
        tripletex.forget_sessions()
        poweroffice.forget_tokens()
        config = fleet.write_config(n, url, broken=broken, attempts=attempts)
        Store(url).close()
        engine = db.engine(url)
        db.ensure_schema(engine)
        try:
            yield Night(fleet, url, config, engine)
        finally:
            engine.dispose()
            fleet.close()


def test_an_enqueue_repeated_is_a_no_op_even_when_two_run_at_once(night: Night) -> None:
    ids = [c.id for c in night.settings().clients]
    barrier = threading.Barrier(2)
    results: list[runs.Enqueued] = []

    def enqueue() -> None:
        barrier.wait()
        results.append(runs.enqueue(night.engine, ids, AS_OF))

    threads = [threading.Thread(target=enqueue) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results[0].queued + results[1].queued) == ids  # each client queued by exactly one of them
    again = night.cli("run", "--queue", "--as-of", AS_OF.isoformat())
    assert again.exit_code == 0, again.output
    assert "0 clients queued, 4 already queued, running or done" in again.output
    with night.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar_one() == 4
    assert {c["state"] for c in night.status().values()} == {"queued"}


def test_a_worker_deletes_the_tripletex_sessions_its_jobs_made_when_it_stops(night: Night) -> None:
    enqueued = night.cli("run", "--queue", "--as-of", AS_OF.isoformat())
    assert enqueued.exit_code == 0, enqueued.output
    night.work()
    tt = night.fleet.fakes["tripletex"]
    assert tt.sessions >= 1  # type: ignore[attr-defined]
    # One session per credential served every Tripletex client of the night; none is left behind.
    assert len(tt.deleted_sessions) == tt.sessions  # type: ignore[attr-defined]


@pytest.mark.parametrize("night", [(3, (1,), 2)], indirect=True)
def test_a_failing_client_is_retried_then_reported_failed_and_the_others_finish(night: Night) -> None:
    queued = night.cli("run", "--queue", "--as-of", AS_OF.isoformat())
    assert "3 clients queued" in queued.output
    night.work()
    status = night.status()
    assert status["c001"]["state"] == "failed" and status["c001"]["attempts"] == 2 and status["c001"]["retried"]
    assert "secret not set: NO_SUCH_SECRET" in str(status["c001"]["error"])
    assert {k: (v["state"], v["attempts"]) for k, v in status.items() if k != "c001"} == {
        "c000": ("done", 1),
        "c002": ("done", 1),
    }
    shown = night.cli("runs", "status", "--as-of", AS_OF.isoformat())
    assert "c001: failed, try 2 — ledger: secret not set: NO_SUCH_SECRET" in shown.output
    assert "3 clients: 2 done, 0 running, 0 queued, 1 failed; 1 retried" in shown.output
    assert "arsync run --queue --client ID --as-of 2026-11-20" in shown.output

    # `run --queue --wait` queues the failed client again (the others are done: left alone), waits for the
    # workers and reports the night as `arsync run` would: the decisions, what was sent, the error, exit 1.
    waiter = subprocess.Popen(
        arsync_argv(night.config, "run", "--queue", "--wait", "--as-of", AS_OF.isoformat()),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**night.fleet.env, **_path_env()},
    )
    assert waiter.stderr is not None
    assert "1 clients queued, 2 already queued, running or done" in waiter.stderr.readline()
    night.work()
    out, err = waiter.communicate(timeout=60)
    assert waiter.returncode == 1
    assert "client c001: ledger: secret not set: NO_SUCH_SECRET" in err
    assert "c000: reminder for invoice 10045 via email" in out and "c002: reminder for invoice 10045" in out
    assert night.status()["c001"]["attempts"] == 4


@pytest.mark.parametrize("night", [(3, (), 2, bulk(900, n_customers=20))], indirect=True)
def test_wait_prints_what_the_worker_decided_though_the_job_kept_no_decision(
    night: Night, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    made: list[ClientReport] = []  # the reports the workers' nights made, decisions and all
    run_client = pipeline.run_client

    def keep(*args: object, **kwargs: object) -> ClientReport:
        report = run_client(*args, **kwargs)  # type: ignore[arg-type]
        report.decisions = list(report.decisions)
        made.append(report)
        return report

    monkeypatch.setattr(pipeline, "run_client", keep)
    assert night.cli("run", "--queue", "--as-of", AS_OF.isoformat()).exit_code == 0
    night.work()
    by_client = {r.client_id: r for r in sorted(made, key=lambda r: r.client_id)}
    assert list(by_client) == ["c000", "c001", "c002"] and all(r.ok for r in made)
    assert all(len(r.decisions) >= 300 for r in made)

    # The job's result: counts and problems, not the decisions (a million would be hundreds of MB in one cell).
    with night.engine.connect() as conn:
        stored = {r.client_id: r.report for r in conn.execute(text("SELECT client_id, report FROM arsync_runs"))}
    for client_id, report in stored.items():
        assert "decisions" not in report and "customer_names" not in report
        assert report["saved_decisions"] == len(by_client[client_id].decisions)
        rest = {k: v for k, v in report.items() if k not in ("sent", "warnings", "errors", "attention")}
        assert len(json.dumps(rest)) < 200  # whatever the number of decisions

    # What --wait prints is what `arsync run` prints from the worker's own reports: table, actions, summary.
    env = Env(str(night.config))
    env.store  # noqa: B018 — open, as `arsync run` has it: the clients' sync state is read from it
    for as_json in (False, True):
        capsys.readouterr()
        run_cmd._print(env, list(by_client.values()), AS_OF, as_json, acted=True)
        expected = capsys.readouterr().out
        flags = ["--json"] if as_json else []
        waited = night.cli("run", "--queue", "--wait", "--as-of", AS_OF.isoformat(), *flags)
        assert waited.exit_code == 0, waited.output
        assert waited.stdout == expected
    env.close()
    assert "Decisions as of 2026-11-20" in expected or '"items"' in expected
    items = json.loads(expected)["items"]
    assert len(items) == sum(len(r.decisions) for r in made)
    assert json.loads(expected)["summary"] == {"ok": 3, "failed": 0, "stale": 0, "never": 0}

    # A report stored by an earlier version lists its decisions: still read, from the report itself.
    first = by_client["c000"]
    legacy = {
        **stored["c000"],
        "customer_names": first.customer_names,
        "decisions": [{**d.as_json(), "next_step": str(d.next_step) if d.next_step else None} for d in first.decisions],
    }
    with night.engine.begin() as conn:
        update = text("UPDATE arsync_runs SET report = CAST(:r AS jsonb) WHERE client_id = 'c000'")
        conn.execute(update, {"r": json.dumps(legacy)})
    store = Store(night.url)
    try:
        (old,) = runs.reports(night.engine, store, AS_OF, ["c000"])
        # decisions a later run stored in place of the night's are not passed off as the night's
        later = list(by_client["c001"].decisions)[:5]
        store.write(save_decisions, "c001", AS_OF + timedelta(days=1), later)
        (replaced,) = runs.reports(night.engine, store, AS_OF, ["c001"])
    finally:
        store.close()
    assert list(old.decisions) == first.decisions and old.customer_names == first.customer_names
    assert list(replaced.decisions) == [] and replaced.ok
    assert (
        f"the night's {len(by_client['c001'].decisions)} decisions are not shown: a later run replaced them"
        in (replaced.warnings[-1])
    )
    assert "(5 decisions as of 2026-11-21)" in replaced.warnings[-1]


def test_one_client_never_runs_twice_at_once(night: Night) -> None:
    for days in range(3):  # three nights of the same two clients, all queued at once
        runs.enqueue(night.engine, ["c000", "c001"], AS_OF + timedelta(days=days))
    night.work(concurrency=4)
    with night.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT client_id, started_at, finished_at, outcome FROM arsync_run_attempts ORDER BY started_at")
        ).all()
    assert len(rows) == 6 and {r.outcome for r in rows} == {"done"}
    for client in ("c000", "c001"):
        mine = [r for r in rows if r.client_id == client]
        for before, after in itertools.pairwise(mine):
            assert before.finished_at <= after.started_at


def test_the_client_lock_makes_a_second_night_of_the_client_wait(night: Night) -> None:
    settings = night.settings()
    store = Store(settings.store.url)  # the worker's jobs share one store (one per worker process)
    try:
        state = WorkerState(settings, store, night.engine, "test:1")
        entered = threading.Event()
        second = threading.Thread(target=lambda: _take(state, entered))
        with client_lock(state, "c000"):
            second.start()
            _until_waiting_on_a_lock(night.engine)
            assert not entered.is_set()
        second.join(timeout=10)
        assert entered.is_set()
    finally:
        store.close()


def test_retries_back_off_and_stop_after_the_last_attempt() -> None:
    retry = _Retry(attempts=4, wait=60)
    assert [retry.delay(ClientFailed("x"), tries) for tries in range(4)] == [60, 120, 240, None]
    assert retry.delay(ConfigError(["bad ladder"]), 0) is None  # the accountant's to fix: no retry
    decision = retry.get_retry_decision(exception=ClientFailed("x"), job=SimpleNamespace(attempts=1))  # type: ignore[arg-type]
    assert decision is not None and decision.retry_at is not None


def _take(state: WorkerState, entered: threading.Event) -> None:
    with client_lock(state, "c000"):
        entered.set()


def _until_waiting_on_a_lock(engine: Engine) -> None:
    """Until PostgreSQL shows a session waiting on an advisory lock (a condition, bounded; not a fixed sleep)."""
    for _ in range(200):
        with engine.connect() as conn:
            waiting = conn.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            ).scalar_one()
        if waiting:
            return
        threading.Event().wait(0.05)
    raise AssertionError("the second night never waited on the client's lock")


def _path_env() -> dict[str, str]:
    import os

    from tests.queue.night_env import REPO

    return {k: v for k, v in os.environ.items() if not k.startswith("ARSYNC_")} | {"PYTHONPATH": str(REPO)}


def test_a_retrys_report_keeps_what_an_earlier_try_of_the_night_did_and_told() -> None:
    """A try that sent a letter and told a broken agreement, then failed: the retry does neither again, so its
    report alone would never show them in `run --queue --wait`."""
    sent = {"kind": "send", "detail": "reminder for invoice 1001 via email", "invoice": "1001", "case": None}
    first = {"client": "c", "ok": False, "errors": ["boom"], "warnings": [], "sent": [sent],
             "attention": ["agreement broken: Kunde AS (1): no payment by 2026-11-01"]}  # fmt: skip
    retry = {"client": "c", "ok": True, "errors": [], "warnings": ["w"], "sent": [], "attention": []}
    merged = runs.carry_over(first, retry)
    assert merged["ok"] and merged["errors"] == [] and merged["warnings"] == ["w"]  # the last try's outcome
    assert merged["sent"] == [sent] and merged["attention"] == first["attention"]
    again = runs.carry_over(merged, {**retry, "sent": [sent]})  # nothing listed twice
    assert again["sent"] == [sent]
    assert runs.carry_over(None, retry) == retry
