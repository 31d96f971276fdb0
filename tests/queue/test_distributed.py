"""Issue 19's test: three real worker processes, 200 clients sharing credentials, one worker SIGKILLed mid-run.

The ledger fakes count requests per credential and flag (and answer 429 to) any beyond the system's
documented limit; the SMTP server keeps every reminder, Kravia every case. The kill is exact: when the
8th Tripletex invoice listing arrives, the worker whose job is syncing that client is killed, mid-request,
while its other jobs are wherever they are. Afterwards every client is done exactly once (one finished
try each; the killed worker's clients have one lost try more), no limit was ever exceeded, no reminder or
case went out twice and none was lost, the enqueue repeated was a no-op, and ``arsync runs status`` says
exactly this. Nothing waits on a fixed sleep: the waiting is ``arsync run --queue --wait`` (woken by
PostgreSQL notifications) and process exits, each bounded.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import threading
from collections import Counter
from pathlib import Path

from sqlalchemy import text

from connector.queue import db
from connector.store import Store
from tests.queue.night_env import (
    AS_OF,
    CASE_INVOICE,
    Fleet,
    needs_postgres,
    run_cli,
    scratch_database,
    start_workers,
    stop_workers,
)

pytestmark = needs_postgres

CLIENTS = 200
WORKERS = 3
CONCURRENCY = 4
KILL_AT = 8  # the n-th Tripletex invoice listing: by then every worker is busy


def test_three_workers_two_hundred_clients_one_killed_mid_run(tmp_path: Path) -> None:
    with scratch_database() as url:
        fleet = Fleet(tmp_path, groups=4, latency=0.005)
        try:
            config = fleet.write_config(CLIENTS, url, attempts=3)
            Store(url).close()
            fleet.walk_ladders(url, CLIENTS)
            eng = db.engine(url)
            db.ensure_schema(eng)
            killed: dict[str, str] = {}
            seen = iter(range(1, 10**6))
            lock = threading.Lock()

            def kill_the_syncing_worker(_m: str, path: str, _q: dict[str, str], headers: dict[str, str]) -> None:
                if not path.endswith("/invoice"):
                    return
                with lock:
                    if killed or next(seen) != KILL_AT:
                        return
                    company = base64.b64decode(headers["Authorization"].removeprefix("Basic ")).decode().split(":")[0]
                    client = Fleet.client_id(int(company) - 1000)
                    with eng.connect() as conn:
                        worker = conn.execute(
                            text(
                                "SELECT worker FROM arsync_run_attempts WHERE client_id = :c AND finished_at IS NULL "
                                "ORDER BY id DESC LIMIT 1"
                            ),
                            {"c": client},
                        ).scalar_one()
                    os.kill(int(worker.rsplit(":", 1)[1]), signal.SIGKILL)
                    killed.update(client=client, worker=worker)

            fleet.fakes["tripletex"].hook = kill_the_syncing_worker
            workers = start_workers(config, fleet.env, WORKERS, CONCURRENCY, tmp_path / "logs")
            try:
                first = run_cli(config, fleet.env, "run", "--queue", "--as-of", AS_OF.isoformat())
                assert first.returncode == 0 and f"{CLIENTS} clients queued" in first.stdout, first.stderr
                # Enqueue the same night again and wait for it: a no-op for every client, then the night's report.
                waited = run_cli(
                    config, fleet.env, "run", "--queue", "--wait", "--as-of", AS_OF.isoformat(), timeout=240
                )
            finally:
                codes = stop_workers(workers)
            assert f"0 clients queued, {CLIENTS} already queued, running or done" in waited.stderr
            assert waited.returncode == 0, waited.stderr[-3000:]
            assert killed, "the kill never happened"
            dead = next(i for i, w in enumerate(workers) if str(w.pid) == killed["worker"].rsplit(":", 1)[1])
            assert codes[dead] == -signal.SIGKILL
            assert [c for i, c in enumerate(codes) if i != dead] == [0] * (WORKERS - 1)  # SIGTERM: clean exits

            with eng.connect() as conn:
                tries = conn.execute(
                    text("SELECT client_id, worker, outcome FROM arsync_run_attempts ORDER BY id")
                ).all()
                jobs = conn.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'arsync.night'"))
                n_jobs = jobs.scalar_one()
            eng.dispose()

            # Every client done exactly once; only the killed worker's clients tried twice.
            done = Counter(t.client_id for t in tries if t.outcome == "done")
            assert done == Counter({Fleet.client_id(i): 1 for i in range(CLIENTS)})
            lost = {t.client_id for t in tries if t.outcome == "lost"}
            assert killed["client"] in lost
            assert {t.worker for t in tries if t.outcome == "lost"} == {killed["worker"]}
            # "duplicate": a try that found its job finished by a worker taken for dead but only late (a
            # starved heartbeat on a loaded machine): it waited for the client's lock and did nothing.
            assert {t.outcome for t in tries} <= {"done", "lost", "duplicate"}
            retried = {c for c, n in Counter(t.client_id for t in tries).items() if n > 1}
            assert lost <= retried
            assert n_jobs == CLIENTS  # the repeated enqueue added none

            # `runs status` says exactly that.
            status = run_cli(config, fleet.env, "runs", "status", "--json", "--as-of", AS_OF.isoformat())
            payload = json.loads(status.stdout)
            assert payload["totals"] == {
                "queued": 0,
                "running": 0,
                "done": CLIENTS,
                "failed": 0,
                "retried": len(retried),
                "clients": CLIENTS,
            }
            by_client = {c["client"]: c for c in payload["clients"]}
            assert {c for c, s in by_client.items() if s["retried"]} == retried
            assert all(s["attempts"] == (2 if c in retried else 1) for c, s in by_client.items())

            # Never over a limit, on any credential, summed over the workers.
            assert fleet.breaches() == []

            # Reminders: none twice; each one delivered, or (killed mid-send) recorded as maybe-sent.
            # Message-ID: <stamp.pid.random.STEM@arsync.invalid>, STEM naming the letter (client, customer, step,
            # day): one e-mail per customer and step (issue 15), the invoices it names are in the letters table
            delivered = Counter(m.split(".", 3)[3].rsplit("@", 1)[0] for m in fleet.smtp.message_ids())
            assert set(delivered.values()) == {1}, [k for k, v in delivered.items() if v > 1]
            store = Store(url)
            try:
                with store.engine.connect() as conn:
                    sends = conn.execute(
                        text(
                            "SELECT client_id, status FROM dunning_sends"
                            " WHERE step = 'reminder' AND invoice_number = :n"
                        ),
                        {"n": CASE_INVOICE},
                    )
                    by_status = {r.client_id: r.status for r in sends}
                    letters = conn.execute(
                        text("SELECT client_id, stem, invoices FROM letters WHERE kind = 'reminder'")
                    )
                    # the case invoice is reminded where its ladder was not walked (part-paid invoices of the
                    # realistic ledger get reminders for the rest too: counted above, never twice)
                    reminded = {
                        r.client_id for r in letters if r.stem in delivered and CASE_INVOICE in json.loads(r.invoices)
                    }
            finally:
                store.close()
            expected = {Fleet.client_id(i) for i in range(CLIENTS) if not Fleet.walked(i)}
            assert set(by_status) == expected
            sent = {c for c, s in by_status.items() if s == "sent"}
            assert sent <= reminded
            # Only a send killed in flight is "unconfirmed": it may have reached the debtor (the worker died
            # after the mail server took it, before the store heard) — and it was never sent again.
            assert {c for c, s in by_status.items() if s != "sent"} <= lost
            assert reminded - sent <= lost

            # Cases: each walked client's invoice exactly once at Kravia.
            at_kravia = {k: len(v) for k, v in fleet.kravia.by_accounting_id().items()}
            walked = {f"{Fleet.client_id(i)}-{CASE_INVOICE}": 1 for i in range(CLIENTS) if Fleet.walked(i)}
            assert at_kravia == walked
        finally:
            fleet.close()
