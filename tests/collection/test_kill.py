"""Fault injection: SIGKILL the real ``arsync run`` at many points during a batch of pushes, re-run.

The fake Kravia (no idempotency key: the hard provider) runs in this process; the CLI runs as a
subprocess on a real SQLite store. The fake's hook kills the process just before it processes the
n-th request, or just after (the case exists, the answer is never read). Timed kills hit the sync
and database writes in between. Afterwards: exactly one case per approved invoice at the provider,
and the store agrees with the provider on every one.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from collection_env import CASE, KRAVIA_TOKEN, nightly, setup_client

from connector.store import Store
from connector.store import cases as case_store
from tests.builders import Workspace
from tests.fakes import FakeKravia
from tests.fakes.server import Request

NUMBERS = tuple(str(2001 + i) for i in range(8))
# (n, phase): kill just before / just after the fake processes the run's n-th request. Small n
# first and often, so every run dies early and the batch is pushed across many interrupted runs.
PLAN = [(1, "before"), (1, "after"), (2, "after"), (2, "before"), (1, "after"), (3, "after"), (2, "after")]
PLAN += [(1, "before"), (3, "before"), (1, "after"), (4, "after"), (2, "after"), (1, "after"), (5, "after")]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_at_any_point_never_duplicates_or_loses_a_case(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeKravia(token=KRAVIA_TOKEN, latency=0.005) as fake:
        setup_client(ws, monkeypatch, "kravia", fake.base_url, invoices=NUMBERS, collection={"concurrency": 2})
        assert nightly(ws, CASE).exit_code == 0
        approved = ws.cli("cases", "approve", *(f"acme-{n}" for n in NUMBERS), "--as-of", CASE.isoformat())
        assert approved.exit_code == 0, approved.output
        ws.close()

        argv = [sys.executable, "-m", "connector.cli", "--config", str(ws.config_path), "run", "--as-of", str(CASE)]
        env = {**os.environ, "KRAVIA_TOKEN": KRAVIA_TOKEN}
        kills = 0

        def run_and_kill(on_request: int | None = None, phase: str = "", after_seconds: float | None = None) -> None:
            nonlocal kills
            proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            seen = itertools.count(1)

            def hook(_req: Request, when: str) -> None:
                nonlocal kills
                if when == phase and next(seen) == on_request and proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
                    kills += 1

            fake.hook = hook if on_request else None
            try:
                if after_seconds is not None:
                    time.sleep(after_seconds)
                    if proc.poll() is None:
                        os.kill(proc.pid, signal.SIGKILL)
                        kills += 1
                proc.wait(timeout=30)
            finally:
                fake.hook = None

        for n, phase in PLAN:
            run_and_kill(on_request=n, phase=phase)
        for seconds in (0.4, 0.8, 1.2):  # somewhere in start-up, sync, decisions or the store writes
            run_and_kill(after_seconds=seconds)
        assert kills >= 10  # the windows were really hit

        final = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        assert final.returncode == 0, final.stdout + final.stderr

    at_provider: dict[str, list[Any]] = fake.by_accounting_id()
    assert sorted(at_provider) == sorted(f"acme-{n}" for n in NUMBERS)
    assert {k: len(v) for k, v in at_provider.items()} == {f"acme-{n}": 1 for n in NUMBERS}
    store = Store(ws.settings().store.url)
    try:
        cases = {c.case_id: c for c in store.read(case_store.load_cases, ["acme"])}
        for case_id, [invoice] in at_provider.items():
            assert str(cases[case_id].status) == "pushed"
            assert cases[case_id].provider_ref == str(invoice.invoice_id)
            assert [str(e.status) for e in cases[case_id].events].count("pushed") == 1
        assert store.read(case_store.ops, "acme", state=case_store.PENDING) == []
    finally:
        store.close()


# (point, k, pending after, at the provider after): where ``tests.collection.kill_points`` kills the run, with
# batches of three pushes at concurrency 1 (cases 2001…2008, pushed in case-id order). Each next run asks the
# provider about what the kill left pending (found: recorded; not found: pushed again), then pushes the rest.
BATCH_KILLS = (
    ("claimed", 1, {1, 2, 3}, set()),  # the first batch's intents committed, nothing sent
    ("claimed", 2, {4, 5, 6}, {1, 2, 3}),  # a first batch pushed and recorded, the second claimed
    ("sent", 2, {4, 5, 6}, {1, 2, 3, 4, 5}),  # two of a batch sent, the third not, none recorded
    ("found", 1, {4, 5, 6}, {1, 2, 3, 4, 5}),  # 4 found at the provider by the lookup, not recorded: asked again
    ("recording", 1, {6, 7, 8}, set(range(1, 9))),  # 4, 5 found; 6, 7, 8 sent, their outcomes not committed
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_inside_a_batch_of_pushes_pushes_each_case_exactly_once(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def case_id(i: int) -> str:
        return f"acme-{NUMBERS[i - 1]}"

    with FakeKravia(token=KRAVIA_TOKEN) as fake:  # no idempotency key: a resend would make a second case
        setup_client(ws, monkeypatch, "kravia", fake.base_url, invoices=NUMBERS)
        assert nightly(ws, CASE).exit_code == 0
        approved = ws.cli("cases", "approve", *(f"acme-{n}" for n in NUMBERS), "--as-of", CASE.isoformat())
        assert approved.exit_code == 0, approved.output
        ws.close()
        env = {**os.environ, "KRAVIA_TOKEN": KRAVIA_TOKEN}
        store = Store(ws.settings().store.url)
        try:
            for point, k, pending, made in BATCH_KILLS:
                argv = [sys.executable, "-m", "tests.collection.kill_points", point, str(k), "3"]
                argv += ["--", "--config", str(ws.config_path), "run", "--as-of", str(CASE)]
                proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
                assert proc.returncode == -signal.SIGKILL, f"{point} {k}: {proc.stdout}{proc.stderr}"
                left = {op.case_id for op in store.read(case_store.ops, "acme", state=case_store.PENDING)}
                assert left == {case_id(i) for i in pending}, (point, k)
                at_provider: dict[str, list[Any]] = fake.by_accounting_id()
                assert {c: len(v) for c, v in at_provider.items()} == {case_id(i): 1 for i in made}, (point, k)
            final = subprocess.run(
                [sys.executable, "-m", "connector.cli", "--config", str(ws.config_path), "run", "--as-of", str(CASE)],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert final.returncode == 0, final.stdout + final.stderr
            at_provider = fake.by_accounting_id()
            assert {c: len(v) for c, v in at_provider.items()} == {f"acme-{n}": 1 for n in NUMBERS}
            cases = {c.case_id: c for c in store.read(case_store.load_cases, ["acme"])}
            for cid, [invoice] in at_provider.items():
                assert str(cases[cid].status) == "pushed" and cases[cid].provider_ref == str(invoice.invoice_id)
                assert [str(e.status) for e in cases[cid].events].count("pushed") == 1
            submits = [op for op in store.read(case_store.ops, "acme") if op.kind == "submit"]
            assert sorted(op.case_id for op in submits) == sorted(f"acme-{n}" for n in NUMBERS)
            assert {op.state for op in submits} == {case_store.DONE}
            # what each kill left sent but unrecorded was found at the provider, never sent again
            found = {cid for cid, c in cases.items() if any("after an interrupted push" in e.note for e in c.events)}
            assert found == {case_id(i) for i in (4, 5, 6, 7, 8)}
        finally:
            store.close()
