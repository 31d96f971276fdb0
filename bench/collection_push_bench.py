"""Collection push benchmark: N approved cases to a local fake provider with per-request latency.

Sets up a real SQLite store with N overdue, noticed invoices and their approved cases, then times
the collection push (re-check against today's decision, write-ahead op, request, result) against
the fake Debitura or Kravia on 127.0.0.1 with ``--latency`` per request, for several
concurrency / rate-limit settings. Checks afterwards that the fake holds exactly one case per
invoice. The peak rate is the most requests the fake saw in any sliding one-second window.

Usage, from the repository root (it imports the fakes from ``tests.fakes``):
       python -m bench.collection_push_bench [-n 1000] [--latency 0.03] [--provider debitura]
       [--runs 1:0,8:0,16:0,16:100,32:200]   (concurrency:rate-limit per second, 0 = none)
"""

from __future__ import annotations

import argparse
import bisect
import os
import sys
import tempfile
import threading
import time
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from connector.actions import collection as workflow
from connector.collection.providers import provider_for
from connector.config import ClientConfig
from connector.engine.afresh import invoices_afresh
from connector.engine.decisions import decide_client
from connector.model import Action, Case, CaseStatus, Customer, DocKind, DunningStep, Invoice, InvoiceAfresh
from connector.reports.run import ClientReport
from connector.reports.tables import render
from connector.store import Store
from connector.store.cases import add_case_event, load_cases, propose_case
from connector.store.ledger import upsert_customers, upsert_invoices
from connector.store.sends import record_steps
from connector.store.sync import record_sync
from tests.fakes import FakeDebitura, FakeKravia
from tests.fakes.server import FakeServer, Request

AS_OF = date(2026, 11, 20)
TOKEN = "bench-secret"


def client_config(root: Path, provider: str, url: str, concurrency: int, rate: float | None) -> ClientConfig:
    collection: dict[str, object] = {
        "provider": provider,
        "base_url": url,
        "concurrency": concurrency,
        "rate_limit_per_second": rate,
        "timeout_seconds": 10.0,
    }
    if provider == "kravia":
        collection |= {"token_env": "BENCH_TOKEN", "creditor_id": 10759}
    else:
        collection |= {"api_key_env": "BENCH_TOKEN"}
    return ClientConfig.model_validate(
        {
            "id": "bench",
            "name": "Bench AS",
            "org_no": "923456783",
            "country": "NO",
            "currency": "NOK",
            "ledger": {"kind": "ehf", "path": str(root / "ehf")},
            "bank": [{"kind": "camt", "path": str(root / "bank")}],
            "policy": {"min_amount": 100},
            "collection": collection,
        }
    )


def seed(store: Store, client: ClientConfig, n: int) -> None:
    """N invoices 90 days overdue, reminder + notice sent, case proposed and approved; fresh data."""
    issue, due = AS_OF - timedelta(days=104), AS_OF - timedelta(days=90)
    customers = [
        Customer(
            "bench",
            f"C{i:05d}",
            f"Kunde {i} AS",
            org_no=f"9{i:08d}",
            country="NO",
            address=("Storgata 1",),
            postal_code="0155",
            city="Oslo",
        )
        for i in range(n)
    ]
    invoices = [
        Invoice("bench", str(10000 + i), DocKind.INVOICE, f"C{i:05d}", issue, due, "NOK", Decimal("1250.00"), "ehf")
        for i in range(n)
    ]
    steps = [
        DunningStep("bench", inv.number, action, on, "outbox", currency="NOK")
        for inv in invoices
        for action, on in (
            (Action.REMINDER, due + timedelta(days=14)),
            (Action.COLLECTION_NOTICE, due + timedelta(days=28)),
        )
    ]
    with store.transaction() as conn:
        upsert_customers(conn, customers)
        upsert_invoices(conn, invoices)
        record_steps(conn, steps)
        record_sync(conn, "bench", "ledger", ok=True, at=store.now())
        record_sync(conn, "bench", f"bank:camt:{client.bank[0].path}", ok=True, data_through=AS_OF, at=store.now())
        for inv in invoices:
            case = Case(
                f"bench-{inv.number}",
                "bench",
                inv.number,
                inv.customer_id,
                "NOK",
                inv.amount,
                inv.amount,
                CaseStatus.PROPOSED,
                AS_OF,
            )
            propose_case(conn, case, at=store.now())
            add_case_event(conn, "bench", case.case_id, CaseStatus.APPROVED, AS_OF, "bench", at=store.now())


def peak_rate(stamps: list[float]) -> int:
    stamps.sort()
    return max((bisect.bisect_right(stamps, t + 1.0) - i for i, t in enumerate(stamps)), default=0)


def one_run(provider: str, n: int, latency: float, concurrency: int, rate: float | None) -> dict[str, str]:
    fake: FakeServer = (
        FakeKravia(token=TOKEN, latency=latency)
        if provider == "kravia"
        else FakeDebitura(api_key=TOKEN, latency=latency)
    )
    stamps: list[float] = []
    lock = threading.Lock()

    def hook(_req: Request, when: str) -> None:
        if when == "before":
            with lock:
                stamps.append(time.monotonic())

    with tempfile.TemporaryDirectory() as tmp, fake:
        fake.hook = hook
        root = Path(tmp)
        url = fake.base_url  # type: ignore[attr-defined]
        client = client_config(root, provider, url, concurrency, rate)
        store = Store(f"sqlite:///{root / 'bench.db'}")
        seed(store, client, n)
        t0 = time.perf_counter()
        decide_client(store, client, AS_OF)
        decide_s = time.perf_counter() - t0
        report = ClientReport("bench")
        t0 = time.perf_counter()

        def afresh(numbers: Collection[str], *, decided: bool = True) -> dict[str, InvoiceAfresh]:
            return invoices_afresh(store, client, AS_OF, numbers, decided=decided)

        workflow.push_approved(store, client, AS_OF, report, provider_for(client), afresh)
        wall = time.perf_counter() - t0
        cases = store.read(load_cases, ["bench"])
        pushed = sum(1 for c in cases if c.status is CaseStatus.PUSHED)
        if isinstance(fake, FakeKravia):
            at_provider = {k: len(v) for k, v in fake.by_accounting_id().items()}
        else:
            at_provider = {k: len(v) for k, v in fake.by_creditor_reference().items()}
        exact = len(at_provider) == n and set(at_provider.values()) == {1}
        store.close()
    return {
        "provider": provider,
        "N": str(n),
        "latency": f"{latency * 1000:.0f} ms",
        "concurrency": str(concurrency),
        "rate limit": f"{rate:g}/s" if rate else "-",
        "wall": f"{wall:.2f} s",
        "cases/s": f"{n / wall:.0f}",
        "peak req/s": str(peak_rate(stamps)),
        "requests": str(len(stamps)),
        "decide": f"{decide_s:.2f} s",
        "pushed": f"{pushed}/{n}",
        "one per invoice": "yes" if exact else "NO",
        "errors": str(len(report.errors) + len(report.warnings)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.03)
    parser.add_argument("--provider", choices=["debitura", "kravia"], default="debitura")
    parser.add_argument("--runs", default="1:0,8:0,16:0,16:100,32:200")
    args = parser.parse_args()
    os.environ["BENCH_TOKEN"] = TOKEN
    rows = []
    for spec in args.runs.split(","):
        conc, rate = spec.split(":")
        row = one_run(args.provider, args.n, args.latency, int(conc), float(rate) or None)
        rows.append(row)
        print(f"  done: concurrency {conc}, rate {rate}: {row['wall']}", file=sys.stderr, flush=True)
    headers = list(rows[0])
    print(f"Collection push, {datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} CPUs")
    print(render(headers, [[r[h] for h in headers] for r in rows], right=set(range(1, len(headers)))))


if __name__ == "__main__":
    main()
