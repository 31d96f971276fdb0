"""Two real ``arsync`` processes at once against one store never create a case twice (issue 13, item 1).

The fake Kravia (no idempotency key: two posts make two cases) counts creates. Its gate holds the
first ``POST /invoice/register`` until the second process has started and finished, so the two
overlap for certain — no sleeps: the test waits on events the fake sets and on the processes' exits.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import Any

import pytest
from collection_env import CASE, KRAVIA_TOKEN, nightly, setup_client

from tests.builders import Workspace
from tests.fakes import FakeKravia
from tests.fakes.server import Request

NUMBERS = ("3001", "3002", "3003")
WAIT = 60  # seconds: a bound, never a synchronisation


class Gate:
    """Holds the first create at the fake until released; says when it arrived."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()
        self._first = True
        self._lock = threading.Lock()

    def hook(self, req: Request, when: str) -> None:
        if when != "before" or req.method != "POST" or not req.path.endswith("/invoice/register"):
            return
        with self._lock:
            first, self._first = self._first, False
        if first:
            self.arrived.set()
            self.release.wait(WAIT)


@pytest.mark.parametrize(("first", "second"), [("cases push", "run"), ("run", "cases push")])
def test_two_overlapping_runs_create_each_case_once(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, first: str, second: str
) -> None:
    gate = Gate()
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        # the held create must not time out in the client: it waits for the gate, as a slow provider would
        setup_client(ws, monkeypatch, "kravia", fake.base_url, invoices=NUMBERS, collection={"timeout_seconds": WAIT})
        assert nightly(ws, CASE).exit_code == 0  # proposes the cases
        approved = ws.cli("cases", "approve", *(f"acme-{n}" for n in NUMBERS), "--as-of", CASE.isoformat())
        assert approved.exit_code == 0, approved.output
        ws.close()
        fake.hook = gate.hook

        def start(command: str) -> subprocess.Popen[str]:
            argv = [sys.executable, "-m", "connector.cli", "--config", str(ws.config_path), *command.split()]
            env = {**os.environ, "KRAVIA_TOKEN": KRAVIA_TOKEN}
            argv += ["--as-of", CASE.isoformat()]
            return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        one = start(first)
        try:
            assert gate.arrived.wait(WAIT), "the first run never reached the provider"
            two = start(second)  # the first holds the client, mid-push
            out2, err2 = two.communicate(timeout=WAIT)
        finally:
            gate.release.set()
        out1, err1 = one.communicate(timeout=WAIT)

    assert one.returncode == 0, out1 + err1
    assert two.returncode == 1, out2 + err2
    assert "another arsync run holds client acme since" in err2
    assert "Traceback" not in err1 + err2 and "IntegrityError" not in err1 + err2
    assert "sent-unconfirmed" not in err1 + err2 and "unresolved" not in err1 + err2
    creates: dict[str, list[Any]] = fake.by_accounting_id()
    assert {case: len(made) for case, made in creates.items()} == {f"acme-{n}": 1 for n in NUMBERS}
