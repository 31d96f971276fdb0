"""The procrastinate app, the night's job and the worker process (``arsync worker``).

One job is one client's whole night (``pipeline.run_client``: sync → resolve → decide once → act). What
makes that safe with many workers and crashes:

- procrastinate's job ``lock`` (``client:<id>``): never two jobs of one client at once;
- :func:`client_lock` around the night as well — the store's own per-client lock (``connector.store.locks``),
  the one every command that syncs or acts takes, so a job and an ``arsync cases push`` by hand never act
  on one client at once either: should a worker be taken for dead while it still runs (a heartbeat late
  past ``stalled_seconds``), the job started again waits for the first to finish;
- a worker killed at any point: its heartbeat stops, another worker's :func:`_retry_stalled` puts its
  jobs back in the queue, and the night runs again from the start — sends, pushes and bookings are
  write-ahead intents in the store (``connector.actions``), so what had gone out is found, not repeated;
- SIGTERM: procrastinate stops taking jobs and lets the ones in hand finish, then the process exits;
- a client that fails raises :class:`ClientFailed`: retried after ``retry_wait_seconds`` (doubled each
  time) until ``attempts`` are spent, then reported failed; the other clients go on.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import procrastinate
from procrastinate.jobs import Job, Status
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from sqlalchemy import Engine, text

from connector import http, pipeline
from connector.clock import utc_now
from connector.config import ConfigError, Settings
from connector.dunning.policy import check_policies
from connector.queue import db, runs, schedule
from connector.queue.limits import shared_limiters
from connector.reports.run import ClientReport
from connector.store import Store

log = logging.getLogger("arsync.queue")

TASK_NIGHTLY = "arsync.nightly"


class ClientFailed(Exception):
    """The client's night failed (a source, a stage): worth another try later."""


@dataclass
class WorkerState:
    """What every job in one worker process shares (handed to jobs in procrastinate's context)."""

    settings: Settings
    store: Store
    engine: Engine  # the queue's database
    name: str  # host:pid, shown by `arsync runs status`


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# ---- the client's lock --------------------------------------------------------------------------


@contextmanager
def client_lock(state: WorkerState, client_id: str) -> Iterator[None]:
    """The one place a job takes its client's lock, held for the whole night: the store's per-client lock
    (a PostgreSQL advisory lock, let go the moment the holding process dies), waited for rather than
    refused — the night is this client's to run, just not yet. A stale lock taken over is logged."""
    with state.store.lock(client_id, "worker", wait=True) as note:
        if note:
            log.warning("client %s: %s", client_id, note)
        yield


# ---- the app and its tasks ----------------------------------------------------------------------


def make_app(settings: Settings, url: str, *, pool_size: int = 4) -> procrastinate.App:
    """The procrastinate app for this config: the night's task, and the nightly schedule if there is one."""
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=db.conninfo(url), min_size=1, max_size=pool_size)
    )
    retry = _Retry(settings.queue.attempts, settings.queue.retry_wait_seconds)
    app.task(name=runs.TASK_NIGHT, queue=runs.QUEUE, pass_context=True, retry=retry)(night_job)
    q = settings.queue
    if q.nightly:
        nightly = app.task(name=TASK_NIGHTLY, queue=runs.QUEUE, pass_context=True)(nightly_job)
        for i, cron in enumerate(schedule.cron_lines(q.nightly, q.timezone, datetime.now().year)):
            app.periodic(cron=cron, periodic_id=f"nightly-{i}")(nightly)
    return app


class _Retry(BaseRetryStrategy):
    """Retry a failed night after ``wait`` seconds, doubled each time, until ``attempts`` tries are spent;
    a config problem is not retried (it is the accountant's to fix)."""

    def __init__(self, attempts: int, wait: int):
        self.attempts = attempts
        self.wait = wait

    def delay(self, exception: BaseException, tries_before: int) -> int | None:
        """Seconds until the next try after a try failed with ``exception``; None: no more tries."""
        if isinstance(exception, ConfigError) or tries_before + 1 >= self.attempts:
            return None
        return int(self.wait * 2**tries_before)

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        seconds = self.delay(exception, job.attempts)
        return None if seconds is None else RetryDecision(retry_in={"seconds": seconds})


def night_job(context: Any, client_id: str, as_of: str) -> None:
    """One client's night, in a worker thread. Raises :class:`ClientFailed` when the client failed."""
    state: WorkerState = context.additional_context["arsync"]
    job = context.job
    day = date.fromisoformat(as_of)
    attempt = runs.start_attempt(state.engine, job.id, job.attempts + 1, client_id, day, state.name)
    report = ClientReport(client_id)
    try:
        client = state.settings.client(client_id)
        # The ladder must obey the law in force that night: checked per job, so one client's bad ladder
        # fails that client, not the worker.
        check_policies(state.settings.model_copy(update={"clients": [client]}), day)
        with client_lock(state, client_id):
            if runs.finished_by_another_try(state.engine, job.id, attempt):
                # A worker taken for dead that was only late (its heartbeat starved past stalled_seconds)
                # finished this very job while this try waited for the client's lock: nothing left to do.
                runs.mark_duplicate(state.engine, attempt)
                return
            report = pipeline.run_client(state.store, client, day, locked=True)
    except ConfigError as exc:
        for problem in exc.problems:
            report.fail(problem)
        runs.finish_attempt(state.engine, attempt, day, report)
        raise
    runs.finish_attempt(state.engine, attempt, day, report)
    if not report.ok:
        raise ClientFailed("; ".join(report.errors)[:500])


def nightly_job(context: Any, timestamp: int) -> None:
    """The periodic task: enqueue the night (every client) once the nightly time has come in the zone."""
    state: WorkerState = context.additional_context["arsync"]
    q = state.settings.queue
    assert q.nightly is not None
    night = schedule.night_due(timestamp, q.nightly, q.timezone)
    if night is None:
        return
    ids = [c.id for c in state.settings.clients]
    done = runs.enqueue(state.engine, ids, night, only_new=True)
    log.info("nightly run %s: %d clients queued, %d already", night, len(done.queued), len(done.skipped))


# ---- dead workers ---------------------------------------------------------------------------------


async def _retry_stalled(app: procrastinate.App, state: WorkerState) -> None:
    """Every heartbeat: the jobs of workers whose heartbeat stopped go back to the queue (or are failed
    when their tries are spent). Every worker does this; whichever is first wins, the others find nothing."""
    q = state.settings.queue
    while True:
        await asyncio.sleep(q.heartbeat_seconds)
        try:
            await app.job_manager.prune_stalled_workers(q.stalled_seconds)
            stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=q.stalled_seconds)
        except Exception:
            log.exception("looking for stalled jobs failed; trying again at the next heartbeat")
            continue
        for job in stalled:
            assert job.id is not None  # a job read from the database
            why = f"try {job.attempts + 1} was lost: its worker stopped answering"
            try:
                await asyncio.to_thread(runs.mark_lost, state.engine, job.id, why)
                if job.task_name == runs.TASK_NIGHT and job.attempts + 1 >= q.attempts:
                    await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
                else:
                    await app.job_manager.retry_job(job)
                log.warning("job %s (%s): %s; %s", job.id, job.task_kwargs.get("client_id"), why, "queued again")
            except Exception as exc:  # another worker was first
                log.debug("stalled job %s: %s", job.id, exc)


# ---- the worker process -----------------------------------------------------------------------


def run_worker(settings: Settings, concurrency: int | None = None, *, until_idle: bool = False) -> None:
    """``arsync worker``: take jobs until SIGTERM/SIGINT, then finish those in hand and return.

    ``until_idle``: return once the queue is empty instead (tests run a worker in their own process).
    """
    url = db.queue_url(settings)
    q = settings.queue
    n = concurrency or q.concurrency
    eng = db.engine(url, pool_size=n + 2)
    db.ensure_schema(eng)
    with eng.begin() as conn:  # workers starting together create the store's tables one after another
        conn.execute(text("SELECT pg_advisory_xact_lock(:c, 1)"), {"c": db.LOCK_SCHEMA})
        store = Store(settings.store.url, clock=utc_now)
    state = WorkerState(settings, store, eng, worker_name())
    # The longest a request may take (connect + read, the slowest client's): a killed worker's span
    # stops counting against its credential after that.
    lease = max((c.http.connect_timeout + c.http.read_timeout for c in settings.clients), default=40.0) + 1.0
    previous = http.use_limiters(shared_limiters(eng, lease))
    app = make_app(settings, url, pool_size=4)
    try:
        asyncio.run(_work(app, state, n, wait=not until_idle))
    finally:
        pipeline.end_sessions()  # the worker's jobs shared its sessions; none outlives the worker
        http.use_limiters(previous)
        store.close()
        eng.dispose()


async def _work(app: procrastinate.App, state: WorkerState, concurrency: int, *, wait: bool) -> None:
    q = state.settings.queue
    async with app.open_async():
        stalled = asyncio.create_task(_retry_stalled(app, state))
        try:
            while True:
                await app.run_worker_async(
                    queues=[runs.QUEUE],
                    name=state.name,
                    concurrency=concurrency,
                    wait=wait,
                    additional_context={"arsync": state},
                    update_heartbeat_interval=q.heartbeat_seconds,
                    stalled_worker_timeout=q.stalled_seconds,
                    fetch_job_polling_interval=max(1.0, q.heartbeat_seconds),
                    delete_jobs="never",  # the night's jobs are its record (`arsync runs status`)
                    install_signal_handlers=True,
                )
                # Until idle: a try that failed meanwhile was queued again (its retry) — take it too.
                if wait or not await asyncio.to_thread(_jobs_left, state.engine):
                    return
        finally:
            stalled.cancel()


def _jobs_left(eng: Engine) -> bool:
    with eng.connect() as conn:
        return bool(
            conn.execute(
                text("SELECT count(*) FROM procrastinate_jobs WHERE queue_name = :q AND status IN ('todo', 'doing')"),
                {"q": runs.QUEUE},
            ).scalar_one()
        )
