"""Issue 17 items 2 and 5: operational errors are one line naming what and what to do, with the
documented exit status (1 a client failed, 2 usage/config); tracebacks only with -v."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from connector import pipeline
from connector.cli import common
from connector.errors import ClientLocked
from tests.builders import Workspace, client_table

ISSUE = date(2026, 6, 1)
DUE = date(2026, 6, 15)
AS_OF = DUE + timedelta(days=14)


def _arsync(ws: Workspace, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "connector.cli", "--config", str(ws.config_path), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)


def test_missing_secrets_are_one_line_each_naming_every_secret_and_no_traceback(ws: Workspace) -> None:
    ledger = {"kind": "tripletex", "consumer_token_env": "TT_CONSUMER", "employee_token_env": "TT_EMPLOYEE"}
    ws.write_config(client_table("acme", ledger=ledger), client_table("beta"))
    ws.bank_heartbeat(AS_OF, client_id="beta")
    done = _arsync(ws, "run", "--as-of", AS_OF.isoformat())
    assert done.returncode == 1  # a client failed; the other ran
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert "client acme" in errors[0] and "TT_CONSUMER" in errors[0] and "TT_EMPLOYEE" in errors[0]
    assert done.stdout.splitlines()[-1] == "2 clients: 1 ok, 1 failed, 0 stale"


def test_postgresql_url_without_its_driver_is_one_line_exit_2(ws: Workspace) -> None:
    ws.write_config(client_table(), store_url="postgresql+pg8000://arsync@127.0.0.1:1/arsync")
    done = _arsync(ws, "cases", "list")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0
    assert done.stderr.startswith("error: store postgresql+pg8000://arsync@127.0.0.1:1/arsync")
    assert "driver is not installed" in done.stderr


def test_unreachable_postgresql_is_one_line_exit_2(ws: Workspace) -> None:
    pytest.importorskip("psycopg")
    ws.write_config(client_table(), store_url="postgresql+psycopg://arsync:s3cret@127.0.0.1:1/arsync")
    done = _arsync(ws, "sync")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot be reached" in done.stderr and "s3cret" not in done.stderr


def test_state_errors_are_one_line_without_a_usage_block(ws: Workspace) -> None:
    ws.write_config(client_table())
    ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="1000.00")
    assert ws.cli("sync", "--as-of", AS_OF.isoformat()).exit_code == 0
    result = ws.cli("cases", "approve", "acme-1001")
    assert result.exit_code == 2
    assert "Usage:" not in result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_an_unexpected_error_is_one_line_and_its_traceback_needs_v(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.write_config(client_table())
    assert ws.cli("sync", "--as-of", AS_OF.isoformat()).exit_code == 0

    def broken(*_a: object, **_k: object) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(pipeline, "run", broken)
    quiet = ws.cli("reconcile", "--no-sync", "--as-of", AS_OF.isoformat())
    assert quiet.exit_code == 1
    assert quiet.stderr == "error: RuntimeError: the disk is full (run with -v for the details)\n"
    loud = ws.cli("-v", "reconcile", "--no-sync", "--as-of", AS_OF.isoformat())
    assert loud.exit_code == 1 and "Traceback" in loud.stderr


def test_a_client_held_by_another_run_says_so_in_one_line(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock itself is issue 13's; whatever raises ``ClientLocked`` is reported in one line, status 1."""
    ws.write_config(client_table("acme"), client_table("beta"))
    since = datetime(2026, 6, 29, 2, 0, tzinfo=UTC)

    def locked(store: object, client: object, as_of: date, report: object, *rest: object, **kw: object) -> None:
        if getattr(client, "id", "") == "acme":
            raise ClientLocked("acme", since)
        return real(store, client, as_of, report, *rest, **kw)  # type: ignore[arg-type]

    real = pipeline.decide_once
    monkeypatch.setattr(pipeline, "decide_once", locked)
    result = ws.cli("reconcile", "--as-of", AS_OF.isoformat())
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if "another arsync run" in line]
    assert lines == [
        "error: client acme: another arsync run holds client acme since 2026-06-29 02:00:00 UTC; "
        "try again when it has finished (nothing was done for this client)"
    ]
    assert "Traceback" not in result.stderr

    def whole_command(*_a: object, **_k: object) -> None:
        raise ClientLocked("beta", since)

    monkeypatch.setattr(pipeline, "push_clients", whole_command)
    pushed = ws.cli("cases", "push")
    assert pushed.exit_code == 1
    assert pushed.stderr.startswith("error: another arsync run holds client beta since 2026-06-29")
    assert pushed.stderr.count("\n") == 1


def test_config_error_exits_2_with_one_line_per_problem(ws: Workspace, tmp_path: Path) -> None:
    ws.write_config(client_table())
    text = ws.config_path.read_text(encoding="utf-8").replace("grace_days", "grace_dayz")
    ws.config_path.write_text(text, encoding="utf-8")
    result = ws.cli("reconcile")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "grace_dayz" in result.stderr


def test_exit_statuses_are_documented_in_help() -> None:
    from click.testing import CliRunner

    from connector.cli import main

    shown = CliRunner().invoke(main, ["--help"]).output
    assert "1 a client failed" in shown and "2 usage or config error" in shown and "130/143" in shown
    assert common.EXIT_CLIENT_FAILED == 1 and common.EXIT_USAGE == 2
