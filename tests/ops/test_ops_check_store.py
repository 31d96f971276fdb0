"""Issue 17 items 3 and 4: `check` checks every folder, outbox, secret and the store; read-only commands
refuse a store that does not exist, and only sync/reconcile/run create it (saying so once)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.builders import Workspace, client_table

AS_OF = date(2026, 6, 29)


def test_check_fails_a_missing_ledger_folder_and_bank_folder(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    ws.ehf_dir().rmdir()
    ws.bank_dir().rmdir()
    result = ws.cli("check")
    assert result.exit_code == 1
    out = result.stdout
    assert "acme (Acme AS): FAILED" in out
    assert f"ledger (ehf): FAILED — folder {ws.ehf_dir()} does not exist" in out
    assert f"bank (camt): FAILED — folder {ws.bank_dir()} does not exist" in out


def test_check_passes_a_good_client_and_says_the_store_is_not_created_yet(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    result = ws.cli("check")
    assert result.exit_code == 0, result.output
    assert "store: ok" in result.stdout and "not created yet" in result.stdout
    assert "acme (Acme AS): ok" in result.stdout
    assert "reminders outbox: ok" in result.stdout and "collection outbox: ok" in result.stdout
    assert not (ws.root / "state" / "arsync.db").exists()  # check created nothing


def test_check_shows_each_sources_newest_data_and_says_stale_as_the_run_does(ws: Workspace) -> None:
    ws.write_config(client_table("acme", ledger={"max_age_days": 7}))  # only the bank data ages here
    ws.add_invoice("1001", issue=AS_OF - timedelta(days=30), due=AS_OF - timedelta(days=16), amount="500.00")
    ws.bank_heartbeat(AS_OF)
    assert ws.cli("sync", "--as-of", AS_OF.isoformat()).exit_code == 0
    db = ws.root / "state" / "arsync.db"

    fresh = ws.cli("check", "--as-of", (AS_OF + timedelta(days=3)).isoformat())
    assert fresh.exit_code == 0, fresh.output
    assert "acme (Acme AS): ok\n" in fresh.stdout
    assert f"bank (camt): ok — folder {ws.bank_dir()}; newest data {AS_OF.isoformat()}" in fresh.stdout
    assert f"(1 files); newest data {AS_OF.isoformat()}" in fresh.stdout  # the ledger's, too

    later = (AS_OF + timedelta(days=4)).isoformat()
    run = ws.cli("reconcile", "--no-sync", "--as-of", later)
    before = (db.stat().st_mtime_ns, ws.row_counts())
    stale = ws.cli("check", "--as-of", later)
    said = f"newest bank data {AS_OF.isoformat()} is older than 3 days"
    assert f"acme: STALE DATA — {said}" in run.stdout  # what the run says …
    assert f"acme (Acme AS): STALE DATA — {said}" in stale.stdout  # … check says, in its words
    assert f"bank (camt): STALE — folder {ws.bank_dir()}; {said} (bank_data_stale)" in stale.stdout
    assert stale.exit_code == 0, stale.output  # the set-up is fine: stale data is the run's state, as in `run`
    assert before == (db.stat().st_mtime_ns, ws.row_counts())  # check wrote nothing


def test_check_names_every_missing_secret_of_ledger_and_provider(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = {"kind": "tripletex", "consumer_token_env": "TT_CONSUMER", "employee_token_env": "TT_EMPLOYEE"}
    collection = {"provider": "kravia", "base_url": "http://127.0.0.1:1", "token_env": "KRAVIA_TOKEN", "creditor_id": 7}
    ws.write_config(client_table("acme", ledger=ledger, collection=collection))
    monkeypatch.setenv("TT_EMPLOYEE", "set")
    result = ws.cli("check")
    assert result.exit_code == 1
    secrets = next(line for line in result.stdout.splitlines() if "secrets:" in line)
    assert "TT_CONSUMER" in secrets and "KRAVIA_TOKEN" in secrets and "TT_EMPLOYEE" not in secrets
    assert "ledger (tripletex): FAILED — not tried" in result.stdout


def test_check_fails_an_outbox_that_cannot_be_created(ws: Workspace) -> None:
    blocker = ws.root / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    ws.write_config(client_table("acme", collection={"provider": "outbox", "path": "a-file"}))
    result = ws.cli("check")
    assert result.exit_code == 1
    assert f"collection outbox: FAILED — {blocker} is not a folder" in result.stdout


def test_check_fails_an_unreachable_store(ws: Workspace) -> None:
    ws.write_config(client_table("acme"), store_url="postgresql+pg8000://u@127.0.0.1:1/x")
    result = ws.cli("check")
    assert result.exit_code == 1
    assert result.stdout.startswith("store: FAILED — store postgresql+pg8000://u@127.0.0.1:1/x")


@pytest.mark.parametrize(
    "argv",
    [
        ["cases", "list"],
        ["disputes", "list"],
        ["agreements", "list"],
        ["exclude", "list"],
        ["report", "aging"],
        ["explain", "acme", "1001"],
        ["disputes", "open", "--client", "acme", "1001", "--reason", "x"],
        ["disputes", "resolve", "manual-0a1b2c3d"],
        ["reconcile", "--no-sync"],  # it decides on what is stored: an empty store would say "never synced"
    ],
)
def test_read_only_commands_refuse_a_missing_store_and_name_it(ws: Workspace, argv: list[str]) -> None:
    ws.write_config(client_table("acme"), store_url="sqlite:///elsewhere/arsync.db")
    result = ws.cli(*argv)
    assert result.exit_code == 2, result.output
    where = ws.root / "elsewhere" / "arsync.db"
    assert result.stderr.startswith(f"error: no store at {where}")
    assert "No cases." not in result.stdout
    assert not where.exists() and not where.parent.exists()


def test_only_sync_creates_the_store_and_says_so_the_first_time(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    db: Path = ws.root / "state" / "arsync.db"
    first = ws.cli("sync", "--as-of", AS_OF.isoformat())
    assert db.is_file()
    assert f"note: created a new store at {db}" in first.stderr
    second = ws.cli("sync", "--as-of", AS_OF.isoformat())
    assert "created a new store" not in second.stderr
    assert ws.cli("cases", "list").stdout.strip() == "No cases."


def test_check_names_the_files_of_a_drop_folder_the_sync_passes_over_for_their_name(ws: Workspace) -> None:
    """The OCA camt test files (../shared/testdata/bank) have no .xml: dropped in the bank folder as they
    are, the sync reads none of them and said nothing; check names them."""
    shared = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "bank" / "test-camt053"
    if not shared.is_file():
        pytest.skip(f"shared bank test data not found at {shared} (see shared/testdata/bank/SOURCES.md)")
    ws.write_config(client_table("acme"))
    (ws.bank_dir() / "test-camt053").write_bytes(shared.read_bytes())
    (ws.bank_dir() / ".partial.xml").write_bytes(b"")  # hidden: an upload in progress, not named
    ws.bank_heartbeat(AS_OF)
    result = ws.cli("check")
    assert result.exit_code == 0, result.output
    assert "    not read (the sync reads only files ending in .xml): test-camt053\n" in result.stdout
