"""Many clients against the local fake accounting systems, with injected latency.

    .venv/bin/python bench/ledger_sync_bench.py --clients 200 --invoices 2000 --latency 0.03 --workers 32

Each system gets ``--clients`` client companies with ``--invoices`` invoices each (one shared fake
ledger per system; every client syncs all of it into its own rows). Credentials as in real life:
Tripletex — one accountant token pair for all clients (one shared limiter); Fiken — one token per
company (1 in flight, ≤4/s each); PowerOffice — one subscription key for all (≤10/s in total);
e-conomic — one grant per agreement. Prints wall time, requests and the peak request rate per
system (any 1-second window at the fake), and checks them against the limits.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "sources")]

from ledger_fakes import ENV, FAKES  # noqa: E402
from ledger_helpers import client_for  # noqa: E402
from ledger_world import bulk  # noqa: E402

from connector import http  # noqa: E402
from connector.concurrency import sync_many  # noqa: E402
from connector.store import Store  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=200, help="clients per system")
    ap.add_argument("--invoices", type=int, default=2000, help="invoices per client ledger")
    ap.add_argument("--latency", type=float, default=0.03, help="seconds added to every fake response")
    ap.add_argument("--workers", type=int, default=32, help="clients synced at once (all systems together)")
    ap.add_argument("--systems", default="tripletex,fiken,poweroffice,economic")
    args = ap.parse_args()
    os.environ.update(ENV)
    http.RateLimiter.record_starts = True
    systems = args.systems.split(",")
    tmp = Path(tempfile.mkdtemp(prefix="arsync-bench-"))
    store = Store(f"sqlite:///{tmp / 'bench.db'}")
    fakes = {s: FAKES[s](bulk(args.invoices), latency=args.latency) for s in systems}
    for f in fakes.values():
        f.__enter__()
    try:
        clients = []
        for s, fake in fakes.items():
            for i in range(args.clients):
                extra = {}
                if s == "fiken":  # a token per company, as OAuth grants are
                    os.environ[f"FIKEN_TOKEN_{i}"] = f"fiken-token-{i:04d}-abcdef"
                    fake.valid_tokens.add(os.environ[f"FIKEN_TOKEN_{i}"])
                    extra = {"token_env": f"FIKEN_TOKEN_{i}"}
                clients.append(client_for(s, fake, tmp, client_id=f"{s}-{i:04d}", history_days=3650, **extra))
        started = time.monotonic()
        reports = sync_many(store, clients, date.today(), max_workers=args.workers)
        wall = time.monotonic() - started
    finally:
        for f in fakes.values():
            f.__exit__(None, None, None)
    failed = [r for r in reports if not r.ok]
    print(
        f"clients: {args.clients} per system x {len(systems)} systems, {args.invoices} invoices each, "
        f"latency {args.latency * 1000:.0f} ms, {args.workers} workers"
    )
    print(f"wall time: {wall:.1f} s   failed clients: {len(failed)}")
    # peak/s per key: the most request starts our limiter allowed in any 1-s window for one credential;
    # at fake: the same measured on arrival at the fake (all keys; includes in-process scheduling jitter).
    print(f"{'system':<12} {'requests':>9} {'keys':>5} {'peak/s per key':>15} {'at fake':>8} {'limit':>18}")
    for s, fake in fakes.items():
        lim = http.SYSTEM_LIMITS[s]
        limit = f"{lim.rate_per_second:g}/s per key" if lim.rate_per_second else "headers"
        keys = [v for (system, _k), v in http._LIMITERS.items() if system == s]
        peak = max((_peak(v.starts) for v in keys), default=0)
        print(f"{s:<12} {len(fake.log):>9} {len(keys):>5} {peak:>15} {fake.peak_rate():>8} {limit:>18}")
    serial = sum(len(f.log) for f in fakes.values()) * args.latency
    print(f"one client after another would need at least {serial:.0f} s of latency alone")
    for r in failed[:5]:
        print(f"  {r.client_id}: {r.errors}")


def _peak(stamps: list[float], window: float = 1.0) -> int:
    stamps, best, j = sorted(stamps), 0, 0
    for i, t in enumerate(stamps):
        while t - stamps[j] >= window:
            j += 1
        best = max(best, i - j + 1)
    return best


if __name__ == "__main__":
    main()
