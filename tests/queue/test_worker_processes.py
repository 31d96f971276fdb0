"""Real ``arsync worker`` processes: SIGTERM lets the client in hand finish and takes no other; with
``[queue] nightly`` the workers enqueue the night themselves at that time of the configured zone."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connector.queue import db, runs
from connector.store import Store
from tests.queue.night_env import AS_OF, Fleet, needs_postgres, run_cli, scratch_database, start_workers, stop_workers

pytestmark = needs_postgres


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    f = Fleet(tmp_path, groups=1, limits=False)
    yield f
    f.close()


def _until(condition: object, what: str, timeout: float = 20.0) -> None:
    """Until ``condition()`` holds (looked at every 50 ms, bounded): waiting for an event, not a fixed sleep."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_sigterm_finishes_the_client_in_hand_then_exits(fleet: Fleet, tmp_path: Path) -> None:
    with scratch_database() as url:
        config = fleet.write_config(2, url)
        Store(url).close()
        in_sync, release = threading.Event(), threading.Event()

        def hold_c000(_method: str, path: str, _q: dict[str, str], headers: dict[str, str]) -> None:
            user = base64.b64decode(headers.get("Authorization", "Basic ").removeprefix("Basic ") or b"").decode()
            if path.endswith("/invoice") and user.startswith("1000:"):
                in_sync.set()
                release.wait(30)

        fleet.fakes["tripletex"].hook = hold_c000
        [worker] = start_workers(config, fleet.env, 1, 1, tmp_path / "logs")
        try:
            assert "2 clients queued" in run_cli(config, fleet.env, "run", "--queue", "--as-of", str(AS_OF)).stdout
            assert in_sync.wait(60), "c000's sync never reached the ledger"
            worker.terminate()  # SIGTERM
            log = tmp_path / "logs" / "worker-0.log"
            _until(lambda: "Stop requested" in log.read_text(errors="replace"), "the worker to take the SIGTERM")
            release.set()
            assert worker.wait(timeout=60) == 0
        finally:
            release.set()
            stop_workers([worker])
        eng = db.engine(url)
        try:
            states = {c.client_id: (c.state, c.attempts) for c in runs.night(eng, AS_OF).clients}
        finally:
            eng.dispose()
        assert states == {"c000": ("done", 1), "c001": ("queued", 0)}


def test_the_workers_enqueue_the_night_at_the_nightly_time(fleet: Fleet, tmp_path: Path) -> None:
    zone = "Europe/Oslo"
    just_now = datetime.now(ZoneInfo(zone)) - timedelta(minutes=1)  # a firing a minute ago is deferred at start
    with scratch_database() as url:
        config = fleet.write_config(2, url, nightly=just_now.strftime("%H:%M"), timezone=zone)
        Store(url).close()
        eng = db.engine(url)
        db.ensure_schema(eng)
        workers = start_workers(config, fleet.env, 2, 2, tmp_path / "logs")
        try:
            night = runs.wait(db.conninfo(url), eng, just_now.date(), ["c000", "c001"], poll=1.0, timeout=90)
        finally:
            codes = stop_workers(workers)
            eng.dispose()
        assert {c.client_id: c.state for c in night.clients} == {"c000": "done", "c001": "done"}
        assert codes == [0, 0]
