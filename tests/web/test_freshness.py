"""A client's status on Today: failed, never synced, stale (the core's own freshness holds) or ok."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from workbench_builders import AppFactory

from connector.model import FileRole, SyncStatus, UnreadableFile
from connector.web.data import freshness
from tests.builders import Workspace, client_table

TODAY = date(2026, 7, 27)
NIGHT = datetime(2026, 7, 27, 2, 0, tzinfo=UTC)


def status(source: str, *, ok: bool = True, through: date | None = TODAY, error: str | None = None) -> SyncStatus:
    return SyncStatus(source, NIGHT, NIGHT if ok else NIGHT - timedelta(days=3), error, through, None)


def test_each_state_names_its_reason(ws: Workspace) -> None:
    ws.write_config(client_table("acme", bank=[{"kind": "camt", "path": "b", "account": "15032080119"}]))
    client = ws.client("acme")
    bank = "bank:camt:" + str(ws.root / "b")
    account = "bank-account:15032080119"
    fresh = {"ledger": status("ledger"), bank: status(bank), account: status(account)}
    assert freshness(client, fresh, TODAY).state == "ok"

    assert freshness(client, {}, TODAY).state == "never"
    failed = freshness(client, {**fresh, "ledger": status("ledger", ok=False, error="HTTP 401")}, TODAY)
    assert (failed.state, failed.problems) == ("failed", ("ledger: HTTP 401",))
    assert failed.last_success == NIGHT - timedelta(days=3)

    old_bank = freshness(client, {**fresh, account: status(account, through=TODAY - timedelta(days=10))}, TODAY)
    assert old_bank.state == "stale"
    assert any("2026-07-17" in p for p in old_bank.problems)
    old_ledger = freshness(client, {**fresh, "ledger": status("ledger", through=TODAY - timedelta(days=5))}, TODAY)
    assert (old_ledger.state, old_ledger.problems) == ("stale", ("the last successful ledger sync is too old",))


def test_a_bank_feed_no_longer_in_the_config_does_not_fail_the_client(ws: Workspace) -> None:
    """A typo in the bank path, fixed: the old folder's failed sync stays in the store but says nothing now."""
    ws.write_config(client_table("acme", bank=[{"kind": "camt", "path": "b", "account": "15032080119"}]))
    client = ws.client("acme")
    bank = "bank:camt:" + str(ws.root / "b")
    typo = "bank:camt:" + str(ws.root / "bnak")
    fresh = {"ledger": status("ledger"), bank: status(bank), "bank-account:15032080119": status("x")}
    gone = status(typo, ok=False, error="folder not found")
    assert freshness(client, {**fresh, typo: gone}, TODAY).state == "ok"
    failed = freshness(client, {**fresh, bank: status(bank, ok=False, error="folder not found")}, TODAY)
    assert failed.state == "failed"


def test_a_bank_file_that_does_not_read_makes_the_client_stale_until_quarantined(ws: Workspace) -> None:
    """It may hold the payment of any invoice, so it holds all the client's dunning (``bank_data_stale``):
    the client is not "ok" on Today either. Quarantined, or of a feed no longer configured, it says nothing."""
    ws.write_config(client_table("acme", bank=[{"kind": "camt", "path": "b", "account": "15032080119"}]))
    client = ws.client("acme")
    bank = "bank:camt:" + str(ws.root / "b")
    fresh = {"ledger": status("ledger"), bank: status(bank), "bank-account:15032080119": status("x")}
    broken = UnreadableFile("acme", bank, FileRole.BANK, "b/camt.xml", "camt.xml", "h1", "not XML", TODAY)
    stale = freshness(client, fresh, TODAY, [broken])
    assert stale.state == "stale" and any("camt.xml cannot be read: not XML" in p for p in stale.problems)
    quarantined = replace(broken, quarantined="quarantined by kari on 2026-07-27: sent again whole")
    assert freshness(client, fresh, TODAY, [quarantined]).state == "ok"
    elsewhere = replace(broken, source="bank:camt:" + str(ws.root / "bnak"))
    assert freshness(client, fresh, TODAY, [elsewhere]).state == "ok"


def test_the_workbench_aging_csv_says_whether_each_clients_figures_can_be_trusted(
    app_for: AppFactory, scene: Workspace
) -> None:
    """As `arsync report aging --format csv`: a client whose bank data is too old is STALE, never "ok"."""
    from workbench_builders import CASE

    vera = app_for("vera")
    fresh = vera.get(f"/reports/aging.csv?as_of={CASE.isoformat()}").text.splitlines()
    late = vera.get(f"/reports/aging.csv?as_of={(CASE + timedelta(days=30)).isoformat()}").text.splitlines()
    acme = [line for line in fresh if line.startswith("acme,")]
    assert fresh[0].endswith(",data") and acme and all(line.endswith(",ok") for line in acme)
    stale = [line for line in late if line.startswith("acme,")]
    assert stale and all("STALE DATA" in line for line in stale)
