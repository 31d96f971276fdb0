"""The nightly run on the queue: N clients x M invoices, 1, 2 and 4 worker processes, against local fakes.

    python -m bench.distributed_bench                       # 1,000 clients x 200 invoices, 30 ms latency
    python -m bench.distributed_bench --clients 240 --workers 1,2,4 --cpu

Needs PostgreSQL: ``ARSYNC_TEST_POSTGRES_URL`` (a user that may CREATE DATABASE; each run gets a fresh
database, dropped afterwards). Each fake accounting system runs in its own process (as in
``bench.ledger_sync_bench``) with ``--latency`` per request and counts requests per credential.
Credentials as in real life: Tripletex — one accountant token for every client; PowerOffice — one
subscription key for every client; Fiken — one token per company (``--fiken-tokens K``: an accountant's K
tokens shared by every Fiken client, 4/s and one request at a time each). e-conomic is left out: on PostgreSQL
its customers do not store yet (the mapping puts a country *name* in the two-letter column; reported).

Each run is the whole night — sync, decide once, act (reminders to the outbox) — run by real
``arsync worker`` processes (``--concurrency`` clients each), timed from the enqueue until
``run --queue --wait`` would return. The **bound** is what the shared limits alone impose on that
workload: the busiest credential's requests over its rate (or its in-flight limit x latency), the
fastest the night could possibly go; **ratio** = wall / bound. ``--cpu``: the same night with no
limits anywhere (fakes and workers): what one machine's cores do.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.ledger_sync_bench import RemoteFake, fiken_token
from connector import http
from connector.queue import db, runs
from connector.store import Store
from tests.builders import camt, to_toml
from tests.fakes.ledgers import ENV, ledger_table
from tests.queue.night_env import scratch_database

SYSTEMS = ("tripletex", "fiken", "poweroffice")
AS_OF = date(2026, 11, 20)
REPO = Path(__file__).resolve().parents[1]


# ---- a worker process (the bench starts these: `python -m bench.distributed_bench worker …`) ----------


def worker_main(config: str, concurrency: int, limits: bool) -> None:
    from connector import config as config_mod
    from connector.queue.worker import run_worker

    if not limits:  # the CPU-bound case: nothing waits on a limit
        http.SYSTEM_LIMITS = {k: http.Limits(None, None) for k in http.SYSTEM_LIMITS}
    run_worker(config_mod.load(config), concurrency)


# ---- the night ------------------------------------------------------------------------------------


def write_config(
    root: Path, url: str, fakes: dict[str, RemoteFake], n: int, fiken_tokens: int | None = None
) -> tuple[Path, dict[str, str]]:
    env = dict(ENV)
    bank = root / "bank"
    bank.mkdir(parents=True, exist_ok=True)
    (bank / "heartbeat.xml").write_text(camt([], created=AS_OF, message="camt.054"), encoding="utf-8")
    clients = []
    for i in range(n):
        kind = SYSTEMS[i % len(SYSTEMS)]
        ledger = ledger_table(kind, fakes[kind])  # type: ignore[arg-type]  # only .url is read
        if kind == "fiken":  # one token per company, or an accountant's few tokens shared by many companies
            token = i if fiken_tokens is None else i % fiken_tokens
            env[f"FIKEN_TOKEN_{token}"] = fiken_token(token)
            ledger["token_env"] = f"FIKEN_TOKEN_{token}"
        ledger["history_days"] = 3650
        cid = f"c{i:04d}"
        clients.append(
            {
                "id": cid,
                "name": f"Klient {i} AS",
                "org_no": "923456783",
                "country": "NO",
                "currency": "NOK",
                "ledger": ledger,
                "bank": [{"kind": "camt", "path": str(bank)}],
                "reminders": {"path": str(root / "outbox" / cid / "reminders")},
                "collection": {"provider": "outbox", "path": str(root / "outbox" / cid / "cases")},
            }
        )
    doc = {
        "store": {"url": url},
        "queue": {"heartbeat_seconds": 2.0, "stalled_seconds": 10.0},
        "clients": clients,
    }
    path = root / "arsync.toml"
    path.write_text(to_toml(doc), encoding="utf-8")
    return path, env


def night(
    base: str,
    fakes: dict[str, RemoteFake],
    n: int,
    workers: int,
    concurrency: int,
    limits: bool,
    fiken_tokens: int | None = None,
) -> dict[str, Any]:
    for f in fakes.values():
        f.ask("reset")
    with (
        scratch_database(base, prefix="arsync_bench_") as url,
        tempfile.TemporaryDirectory(prefix="arsync-dist-") as tmp,
    ):
        root = Path(tmp)
        config, env = write_config(root, url, fakes, n, fiken_tokens)
        Store(url).close()
        eng = db.engine(url)
        db.ensure_schema(eng)
        logs = [(root / f"worker-{i}.log").open("wb") for i in range(workers)]
        argv = [sys.executable, "-m", "bench.distributed_bench", "worker", str(config), str(concurrency)]
        procs = [
            subprocess.Popen(
                [*argv, "limits" if limits else "nolimits"],
                env={**os.environ, **env, "PYTHONPATH": str(REPO)},
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO,
            )
            for log in logs
        ]
        try:
            _until_registered(eng, workers)
            ids = [f"c{i:04d}" for i in range(n)]
            cpu0 = _cpu_of(procs)
            started = time.monotonic()
            runs.enqueue(eng, ids, AS_OF)
            finished = runs.wait(db.conninfo(url), eng, AS_OF, ids, poll=2.0)
            wall = time.monotonic() - started
            cpu = _cpu_of(procs) - cpu0
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                p.wait(60)
            eng.dispose()
        totals = finished.totals()
    stats = {s: f.ask("stats") for s, f in fakes.items()}
    return {"wall": wall, "cpu": cpu, "totals": totals, "stats": stats}


def _until_registered(eng: Any, workers: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with eng.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar_one() >= workers:
                return
        time.sleep(0.2)
    raise TimeoutError("workers did not start")


def _cpu_of(procs: list[subprocess.Popen[bytes]]) -> float:
    """CPU seconds the worker processes used so far (Linux /proc; 0 elsewhere)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for p in procs:
        try:
            fields = Path(f"/proc/{p.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def bound(stats: dict[str, dict[str, Any]], latency: float) -> tuple[float, str]:
    """The fastest the night could go under the systems' limits: the busiest credential's requests over its
    rate, or in flight one at a time (Fiken) times the latency."""
    best, why = 0.0, "-"
    for system, st in stats.items():
        lim = http.SYSTEM_LIMITS[system]
        busiest = st["busiest_key"]
        by_rate = busiest / lim.rate_per_second if lim.rate_per_second else 0.0
        by_flight = busiest * latency / lim.max_concurrent if lim.max_concurrent else 0.0
        seconds = max(by_rate, by_flight)
        if seconds > best:
            best, why = seconds, f"{system}: {busiest} req on one credential"
    return best, why


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker_main(sys.argv[2], int(sys.argv[3]), sys.argv[4] == "limits")
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--invoices", type=int, default=200, help="invoices per client ledger")
    ap.add_argument("--latency", type=float, default=0.03)
    ap.add_argument("--workers", default="1,2,4", help="worker process counts to run")
    ap.add_argument("--concurrency", type=int, default=8, help="clients each worker runs at once")
    ap.add_argument("--cpu", action="store_true", help="also run without any limits (the CPU-bound case)")
    ap.add_argument(
        "--fiken-tokens", type=int, help="Fiken tokens shared by the Fiken clients (default: one per company)"
    )
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    base = os.environ.get("ARSYNC_TEST_POSTGRES_URL")
    if not base:
        sys.exit("set ARSYNC_TEST_POSTGRES_URL (a PostgreSQL user that may CREATE DATABASE)")
    counts = [int(w) for w in args.workers.split(",")]
    cases = [(w, True) for w in counts] + ([(w, False) for w in counts] if args.cpu else [])
    results = []
    print(
        f"{args.clients} clients x {args.invoices} invoices, {args.latency * 1000:.0f} ms latency, systems "
        f"{', '.join(SYSTEMS)}, {args.concurrency} clients per worker, {os.cpu_count()} cores",
        flush=True,
    )
    head = (
        f"{'limits':<8}{'workers':>8}{'wall s':>9}{'requests':>10}{'bound s':>9}{'ratio':>7}{'cpu s':>8}"
        f"{'clients/h/worker':>18}{'over limit':>11}  bound set by"
    )
    print(head)
    print("-" * (len(head) + 30))
    for limited in (True, False):
        fakes = {s: RemoteFake(s, args.invoices, args.latency, args.clients) for s in SYSTEMS}
        try:
            for workers, lim in cases:
                if lim != limited:
                    continue
                r = night(base, fakes, args.clients, workers, args.concurrency, lim, args.fiken_tokens)
                requests = sum(st["requests"] for st in r["stats"].values())
                b, why = bound(r["stats"], args.latency) if lim else (0.0, "no limits")
                over = sum(
                    1
                    for s, st in r["stats"].items()
                    if lim
                    and (
                        st["peak_per_key"] > max(1, int(http.SYSTEM_LIMITS[s].rate_per_second or 10**9))
                        or st["in_flight_per_key"] > (http.SYSTEM_LIMITS[s].max_concurrent or 10**9)
                    )
                )
                per_hour = args.clients / r["wall"] * 3600 / workers
                failed = r["totals"]["failed"]
                print(
                    f"{'real' if lim else 'none':<8}{workers:>8}{r['wall']:>9.1f}{requests:>10}"
                    f"{b:>9.1f}{(r['wall'] / b if b else 0):>7.2f}{r['cpu']:>8.0f}{per_hour:>18.0f}{over:>11}  {why}"
                    + (f"  ({failed} clients FAILED)" if failed else ""),
                    flush=True,
                )
                results.append({"workers": workers, "limits": lim, "bound": b, "requests": requests, **r})
        finally:
            for f in fakes.values():
                f.stop()
    print(
        "\nwall: enqueue to the last client done. bound: the busiest credential's requests / its documented rate "
        "(Tripletex 10/s per accountant token [our ceiling], PowerOffice 10/s per subscription key, Fiken 4/s and "
        "1 in flight per token). ratio = wall / bound. cpu s: the worker processes' CPU. over limit: systems whose "
        "fake saw more than the limit on a credential in any 1 s (must be 0)."
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
