"""A night's run in the queue: enqueue it, read each client's state, wait for its end, keep its reports.

``arsync_runs`` has one row per client and night pointing at the night's current procrastinate job. The
row is written in the same transaction as the job is deferred, under a row lock, so two enqueuers at
once still queue a client once; a client already queued, running or done that night is left alone. A
failed client (all its tries spent) is queued again by a later enqueue that names it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, text

from connector.model import Action, Decision, Hold, State
from connector.reports.run import Acted, ClientReport
from connector.store import Store
from connector.store.decisions import evidence_from_json, night_decisions, saved_night
from connector.store.ledger import load_customers

QUEUE = "arsync"  # the procrastinate queue the night's jobs go to
TASK_NIGHT = "arsync.night"
CHANNEL = "arsync_runs"  # NOTIFY channel: a job of a night reached a new state

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
FINAL = {DONE, FAILED}


@dataclass(frozen=True)
class Enqueued:
    queued: list[str]  # clients queued now
    skipped: list[str]  # clients already queued, running or done that night: left alone


@dataclass(frozen=True)
class ClientState:
    client_id: str
    state: str  # queued / running / done / failed
    attempts: int  # tries started so far this night (a retried client has more than one)
    worker: str | None  # where it runs (host:pid) or last ran
    error: str | None  # why the last try failed (or was lost), if it did
    stalled: bool = False  # running on a worker that stopped answering: it runs again once that is noticed

    @property
    def retried(self) -> bool:
        return self.attempts > 1

    def as_json(self) -> dict[str, Any]:
        return {
            "client": self.client_id,
            "state": self.state,
            "attempts": self.attempts,
            "retried": self.retried,
            "worker": self.worker,
            "error": self.error,
            "stalled": self.stalled,
        }


@dataclass
class Night:
    as_of: date
    clients: list[ClientState] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        counts = {state: 0 for state in (QUEUED, RUNNING, DONE, FAILED)}
        for c in self.clients:
            counts[c.state] += 1
        counts["retried"] = sum(c.retried for c in self.clients)
        counts["clients"] = len(self.clients)
        return counts

    @property
    def finished(self) -> bool:
        return all(c.state in FINAL for c in self.clients)


# ---- enqueue ------------------------------------------------------------------------------------


def enqueue(eng: Engine, client_ids: Sequence[str], as_of: date, *, only_new: bool = False) -> Enqueued:
    """One job per client for the night ``as_of``; a no-op for clients queued, running or done that night.

    ``only_new``: leave failed clients alone too (the nightly schedule: a second firing the same day must
    not start again what failed after all its tries).
    """
    from procrastinate import SyncPsycopgConnector, jobs
    from procrastinate.manager import JobManager

    # Used only with our own connection (the jobs go in with our rows, in one transaction), from any thread.
    job_manager = JobManager(connector=SyncPsycopgConnector(conninfo=eng.url.render_as_string(hide_password=False)))

    ids = sorted(set(client_ids))
    with eng.begin() as conn:
        for client_id in ids:
            conn.execute(
                text("INSERT INTO arsync_runs (as_of, client_id) VALUES (:d, :c) ON CONFLICT DO NOTHING"),
                {"d": as_of, "c": client_id},
            )
        rows = conn.execute(
            text(
                "SELECT r.client_id, r.job_id, j.status::text AS status FROM arsync_runs r "
                "LEFT JOIN procrastinate_jobs j ON j.id = r.job_id "
                "WHERE r.as_of = :d AND r.client_id = ANY(:ids) ORDER BY r.client_id FOR UPDATE OF r"
            ),
            {"d": as_of, "ids": ids},
        ).all()
        again = () if only_new else ("failed", "cancelled", "aborted")
        todo = [r.client_id for r in rows if r.job_id is None or r.status in again]
        if todo:
            deferred = job_manager.batch_defer_jobs(
                [
                    jobs.Job(
                        queue=QUEUE,
                        task_name=TASK_NIGHT,
                        lock=f"client:{client_id}",  # one job per client at a time, whatever the night
                        queueing_lock=f"night:{as_of.isoformat()}:{client_id}",
                        task_kwargs={"client_id": client_id, "as_of": as_of.isoformat()},
                    )
                    for client_id in todo
                ],
                connection=conn.connection.driver_connection,  # the same transaction as the rows above
            )
            conn.execute(
                text(
                    "UPDATE arsync_runs SET job_id = :j, queued_at = clock_timestamp(), report = NULL "
                    "WHERE as_of = :d AND client_id = :c"
                ),
                [{"j": job.id, "d": as_of, "c": client_id} for job, client_id in zip(deferred, todo, strict=True)],
            )
    queued = set(todo)
    return Enqueued(queued=todo, skipped=[c for c in ids if c not in queued])


# ---- the worker's side: tries and their reports ------------------------------------------------


def start_attempt(eng: Engine, job_id: int, attempt: int, client_id: str, as_of: date, worker: str) -> int:
    with eng.begin() as conn:
        return int(
            conn.execute(
                text(
                    "INSERT INTO arsync_run_attempts (as_of, client_id, job_id, attempt, worker) "
                    "VALUES (:d, :c, :j, :a, :w) RETURNING id"
                ),
                {"d": as_of, "c": client_id, "j": job_id, "a": attempt, "w": worker},
            ).scalar_one()
        )


def finish_attempt(eng: Engine, attempt_id: int, as_of: date, report: ClientReport) -> None:
    """The try's outcome, and its report for ``arsync run --queue --wait``: the last finished try's, with what
    earlier tries of the night did and told kept (a letter sent or a broken agreement told by a try that then
    failed is not done or told again by the retry, so its report alone would never show it)."""
    with eng.begin() as conn:
        earlier = conn.execute(
            text("SELECT report FROM arsync_runs WHERE as_of = :d AND client_id = :c FOR UPDATE"),
            {"d": as_of, "c": report.client_id},
        ).scalar_one_or_none()
        conn.execute(
            text(
                "UPDATE arsync_run_attempts SET finished_at = clock_timestamp(), outcome = :o, error = :e WHERE id = :i"
            ),
            {"i": attempt_id, "o": DONE if report.ok else FAILED, "e": "; ".join(report.errors)[:2000] or None},
        )
        conn.execute(
            text("UPDATE arsync_runs SET report = CAST(:r AS jsonb) WHERE as_of = :d AND client_id = :c"),
            {"r": json.dumps(carry_over(earlier, report_json(report))), "d": as_of, "c": report.client_id},
        )


def finished_by_another_try(eng: Engine, job_id: int, attempt_id: int) -> bool:
    """Whether another try of this job already ran the client's night to its end."""
    with eng.connect() as conn:
        return bool(
            conn.execute(
                text("SELECT count(*) FROM arsync_run_attempts WHERE job_id = :j AND id <> :i AND outcome = 'done'"),
                {"j": job_id, "i": attempt_id},
            ).scalar_one()
        )


def mark_duplicate(eng: Engine, attempt_id: int) -> None:
    with eng.begin() as conn:
        conn.execute(
            text(
                "UPDATE arsync_run_attempts SET finished_at = clock_timestamp(), outcome = 'duplicate', "
                "error = NULL WHERE id = :i"
            ),
            {"i": attempt_id},
        )


def mark_lost(eng: Engine, job_id: int, why: str) -> None:
    """The unfinished try of a job whose worker stopped answering (its job runs again or is failed)."""
    with eng.begin() as conn:
        conn.execute(
            text(
                "UPDATE arsync_run_attempts SET finished_at = clock_timestamp(), outcome = 'lost', error = :e "
                "WHERE job_id = :j AND finished_at IS NULL"
            ),
            {"j": job_id, "e": why},
        )


# ---- reading a night ----------------------------------------------------------------------------

_STATUS = text(
    """
    SELECT r.client_id, r.job_id, j.status::text AS status, w.id AS worker_alive,
           (w.last_heartbeat < clock_timestamp() - make_interval(secs => :stalled)) AS late,
           a.worker, a.finished_at, a.outcome, a.error, a.job_id AS attempt_job, n.tries,
           (r.report ->> 'ok')::boolean AS report_ok
      FROM arsync_runs r
      LEFT JOIN procrastinate_jobs j ON j.id = r.job_id
      LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
      LEFT JOIN LATERAL (
            SELECT * FROM arsync_run_attempts x WHERE x.as_of = r.as_of AND x.client_id = r.client_id
             ORDER BY x.id DESC LIMIT 1) a ON true
      LEFT JOIN LATERAL (
            SELECT count(*) AS tries FROM arsync_run_attempts x WHERE x.as_of = r.as_of AND x.client_id = r.client_id
      ) n ON true
     WHERE r.as_of = :d AND (CAST(:ids AS text[]) IS NULL OR r.client_id = ANY(CAST(:ids AS text[])))
     ORDER BY r.client_id
    """
)


def night(eng: Engine, as_of: date, client_ids: Sequence[str] | None = None, stalled_seconds: float = 60) -> Night:
    """Each client's state that night (only clients ever queued for it)."""
    with eng.connect() as conn:
        rows = conn.execute(
            _STATUS, {"d": as_of, "ids": list(client_ids) if client_ids else None, "stalled": stalled_seconds}
        ).all()
    return Night(as_of, [_state(r) for r in rows])


def _state(r: Any) -> ClientState:
    status = r.status
    if status is None and r.job_id is not None:  # the job row was cleaned away: its report tells
        status = "succeeded" if r.report_ok else "failed"
    state = {"todo": QUEUED, "doing": RUNNING, "succeeded": DONE}.get(status or "todo", FAILED)
    error = r.error if r.outcome != DONE else None
    stalled = state == RUNNING and (r.worker_alive is None or bool(r.late))
    return ClientState(r.client_id, state, int(r.tries or 0), r.worker, error, stalled)


def reports(eng: Engine, store: Store, as_of: date, client_ids: Sequence[str]) -> list[ClientReport]:
    """The night's report of each client (its last finished try), in the order given; its decisions are read
    from ``store`` (where the worker saved them) as they are iterated."""
    with eng.connect() as conn:
        rows = conn.execute(
            text("SELECT client_id, report FROM arsync_runs WHERE as_of = :d AND client_id = ANY(:ids)"),
            {"d": as_of, "ids": list(client_ids)},
        ).all()
    found = {r.client_id: r.report for r in rows}
    out = []
    for client_id in client_ids:
        payload = found.get(client_id)
        if payload is None:
            missing = ClientReport(client_id)
            missing.fail("no report: the client's night did not finish")
            out.append(missing)
        else:
            out.append(report_from_json(payload if isinstance(payload, dict) else json.loads(payload), store, as_of))
    return out


def wait(
    conninfo: str, eng: Engine, as_of: date, client_ids: Sequence[str], poll: float = 5.0, timeout: float | None = None
) -> Night:
    """Block until every one of the clients is queued for the night and done or failed (all tries spent).

    Woken by NOTIFY each time a job of the queue changes state (a trigger in ``connector.queue.db``);
    ``poll`` only bounds the wait should a notification be missed (a dropped connection). ``timeout``:
    give up (``TimeoutError``) after that many seconds; None waits as long as the night takes.
    """
    import psycopg

    give_up = None if timeout is None else time.monotonic() + timeout
    with psycopg.connect(conninfo, autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        while True:
            current = night(eng, as_of, client_ids)
            if current.finished and len(current.clients) == len(set(client_ids)):
                return current
            if give_up is not None and time.monotonic() > give_up:
                raise TimeoutError(f"the night of {as_of} did not finish within {timeout} s")
            woken = any(True for _ in listener.notifies(timeout=poll, stop_after=1))
            while woken:  # a burst of jobs changing state: one look at the night after it settles
                woken = any(True for _ in listener.notifies(timeout=0.2, stop_after=1))


# ---- reports as JSON (what --wait prints, from whichever worker ran the client) -----------------
# Bounded whatever the client's size: counts and problems, what was sent and what needs a person — never the
# decisions (a million of them would be hundreds of MB in one cell). Those the worker saved in the store
# (``connector.store.decisions``), where --wait reads them back one chunk at a time.


def report_json(report: ClientReport) -> dict[str, Any]:
    return {
        "client": report.client_id,
        "ok": report.ok,
        "errors": report.errors,
        "warnings": report.warnings,
        "sent": [a.as_json() for a in report.sent],
        "attention": report.attention,
        "interrupted": report.interrupted,
        "saved_decisions": report.saved_decisions,
    }


def carry_over(earlier: dict[str, Any] | None, now: dict[str, Any]) -> dict[str, Any]:
    """``now`` with the actions and attention lines of an earlier try's report it does not repeat, first."""
    if not earlier:
        return now
    out = dict(now)
    for key in ("sent", "attention"):
        kept = [x for x in earlier.get(key, []) if x not in now[key]]
        out[key] = [*kept, *now[key]]
    return out


def report_from_json(payload: dict[str, Any], store: Store, as_of: date) -> ClientReport:
    """A stored report; its decisions those ``store`` holds for the night (listed in the report by
    reports stored before the decisions were left out of it)."""
    report = ClientReport(
        client_id=payload["client"],
        ok=bool(payload["ok"]),
        errors=list(payload["errors"]),
        warnings=list(payload["warnings"]),
        sent=[Acted(a["kind"], a["detail"], a.get("invoice"), a.get("case")) for a in payload["sent"]],
        attention=list(payload.get("attention", [])),
        interrupted=bool(payload.get("interrupted", False)),
        saved_decisions=payload.get("saved_decisions"),
    )
    if "decisions" in payload:  # stored by an earlier version: the decisions are in the report
        report.customer_names = dict(payload["customer_names"])
        report.decisions = [_decision(d) for d in payload["decisions"]]
        return report
    if not report.saved_decisions:
        return report
    saved_on, count = store.read(saved_night, report.client_id)
    if saved_on != as_of or count != report.saved_decisions:
        report.warnings.append(
            f"the night's {report.saved_decisions} decisions are not shown: a later run replaced them in the "
            f"store ({count} decisions as of {saved_on.isoformat() if saved_on else 'none'})"
        )
        return report
    report.decisions = StoredDecisions(store, report.client_id, as_of, count)
    report.customer_names = {c.customer_id: c.name for c in store.read(load_customers, report.client_id)}
    return report


class StoredDecisions(Collection[Decision]):
    """A client's decisions of a night as the store holds them, read (streamed) each time they are iterated."""

    def __init__(self, store: Store, client_id: str, as_of: date, count: int):
        self._store = store
        self._client_id = client_id
        self._as_of = as_of
        self._count = count

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Decision]:
        with self._store.connect() as conn:
            yield from night_decisions(conn, self._client_id, self._as_of)

    def __contains__(self, item: object) -> bool:
        return any(d == item for d in self)


def _decision(d: dict[str, Any]) -> Decision:
    return Decision(
        client_id=d["client"],
        invoice_number=d["invoice"],
        customer_id=d["customer"],
        currency=d["currency"],
        amount=Decimal(d["amount"]),
        open_amount=Decimal(d["open_amount"]),
        due_date=date.fromisoformat(d["due_date"]) if d["due_date"] else None,
        state=State(d["state"]),
        action=Action(d["action"]),
        holds=tuple(Hold(h) for h in d["holds"]),
        evidence=tuple(evidence_from_json(e) for e in d["evidence"]),
        next_step=Action(d["next_step"]) if d.get("next_step") else None,
    )


def latest_night(eng: Engine) -> date | None:
    with eng.connect() as conn:
        found: date | None = conn.execute(text("SELECT max(as_of) FROM arsync_runs")).scalar_one()
        return found
