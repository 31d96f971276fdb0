"""The same store on PostgreSQL: a ``postgresql+psycopg://…`` URL works without code changes.

Runs when ARSYNC_TEST_POSTGRES_URL names a database whose user may CREATE DATABASE (CI starts a
local server); each test gets a fresh database of its own. Skipped otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from connector.cli import main
from connector.errors import ClientLocked
from connector.model import DocKind, Invoice
from connector.store import RunId, Store, schema
from connector.store.facts import load_facts
from connector.store.ledger import upsert_customers, upsert_invoices
from connector.store.payments import upsert_payments
from connector.store.sync import record_sync
from tests.builders import Entry, FilesOpened, Workspace, arrived_long_ago, client_table, kid

BASE_URL = os.environ.get("ARSYNC_TEST_POSTGRES_URL")  # read at import: the autouse fixture clears ARSYNC_*
REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not BASE_URL, reason="set ARSYNC_TEST_POSTGRES_URL to run the PostgreSQL tests")


@pytest.fixture
def pg_url() -> Iterator[str]:
    assert BASE_URL is not None
    name = f"arsync_{uuid.uuid4().hex[:12]}"
    admin = create_engine(BASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(BASE_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def arsync(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args], catch_exceptions=False)


def test_the_example_decides_the_same_on_postgresql_as_on_sqlite(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(REPO / "config.example.toml", tmp_path / "config.example.toml")
    shutil.copytree(REPO / "examples" / "nordlys", tmp_path / "examples" / "nordlys")
    config = tmp_path / "config.example.toml"
    on_sqlite = arsync(config, "reconcile", "--as-of", "2026-11-20", "--json")
    assert on_sqlite.exit_code == 0, on_sqlite.output
    monkeypatch.setenv("ARSYNC_STORE__URL", pg_url)  # the documented override; no code change
    on_pg = arsync(config, "reconcile", "--as-of", "2026-11-20", "--json")
    assert on_pg.exit_code == 0, on_pg.output
    assert json.loads(on_pg.stdout) == json.loads(on_sqlite.stdout)
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.invoices)).scalar_one() == 8
    engine.dispose()


def test_money_is_exact_numeric_on_postgresql(pg_url: str) -> None:
    store = Store(pg_url)
    amounts = ["0.10", "0.20", "1234567.89", "99999999999999.99"]
    invoices = [
        Invoice("acme", str(1000 + n), DocKind.INVOICE, "c1", date(2026, 1, 1), None, "NOK", Decimal(a), "ehf")
        for n, a in enumerate(amounts)
    ]
    with store.transaction() as conn:
        upsert_invoices(conn, invoices)
    loaded = sorted(store.read(load_facts, "acme").invoices, key=lambda i: i.number)
    assert [i.amount for i in loaded] == [Decimal(a) for a in amounts]
    assert loaded[0].amount + loaded[1].amount == Decimal("0.30")
    store.close()


def test_nightly_runs_are_idempotent_and_push_once_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    ws = Workspace(tmp_path)
    try:
        ws.write_config(client_table(), store_url=pg_url)
        issue, due, today = date(2026, 4, 20), date(2026, 5, 4), date(2026, 5, 20)
        ws.add_invoice("1001", issue=issue, due=due, amount="1000.00")
        ws.add_invoice("1002", issue=issue, due=due, amount="2500.00")
        ws.add_bank_file("camt054.xml", [Entry("REF-1", "1000.00", date(2026, 5, 6), kid("1001"))], created=today)
        first = ws.cli("run", "--as-of", "2026-05-20")
        assert first.exit_code == 0, first.output
        counts = _row_counts(pg_url)
        again = ws.cli("run", "--as-of", "2026-05-20")
        assert again.exit_code == 0, again.output
        assert _row_counts(pg_url) == counts  # same facts, no second step, no second case
        items = ws.items(date(2026, 5, 20), "--no-sync")
        assert items["1001"]["state"] == "settled"
        assert items["1002"]["open_amount"] == "2500.00"
        assert [s.step for s in ws.store.read(load_facts, "acme").steps] == ["reminder"]  # sent once, on the first run
    finally:
        ws.close()


def _row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        out = {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in schema.metadata.sorted_tables
        }
    engine.dispose()
    return out


def test_a_sliced_client_decides_as_in_one_piece_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    """The slice reader's row ids, ``IN`` lists and server-side cursors work on PostgreSQL too."""
    from connector.dunning.decide import decide, sort_decisions
    from connector.engine.slices import SlicedRun
    from connector.model import Customer, Payment, PaymentStatus
    from connector.reconcile.for_client import reconcile_facts

    ws = Workspace(tmp_path)
    ws.write_config(client_table(), store_url=pg_url)
    client = ws.client()
    store = Store(pg_url)
    customers = [Customer("acme", f"c{n}", f"Kunde {n} AS", org_no=f"92345{n:04d}") for n in range(12)]
    invoices = [
        Invoice(
            "acme",
            str(5000 + n),
            DocKind.INVOICE,
            f"c{n % 12}",
            date(2026, 9, 1),
            date(2026, 10, 1),
            "NOK",
            Decimal(100 + 50 * (n % 5)),
            "ehf",
            kid=kid(str(5000 + n)),
        )
        for n in range(60)
    ]

    def pay(n: int, amount: str, **kw: object) -> Payment:
        return Payment("acme", "camt", "15030012345", f"R{n}", 0, date(2026, 10, 5), Decimal(amount), "NOK", **kw)  # type: ignore[arg-type]

    payments = [
        pay(n, str(100 + 50 * (n % 5)), structured_ref=kid(str(5000 + n)), payer_account=f"6000{n % 12}")
        for n in range(0, 60, 2)
    ]
    payments += [
        pay(100, "150", free_text="Betaling", payer_account="60003"),  # a learned payer: customer c3
        pay(101, "200"),  # no reference, no payer: every slice holds items of 200
        pay(102, "250", status=PaymentStatus.PENDING),
        pay(103, "300", free_text="faktura 5013 og 5025"),  # two customers' invoices in one text
        pay(104, "100", reversal=True, payer_account="60000"),  # takes back an earlier 100 from c0's payer
    ]
    with store.transaction() as conn:
        upsert_customers(conn, customers)
        upsert_invoices(conn, invoices)
        upsert_payments(conn, payments)
        record_sync(conn, "acme", "ledger", ok=True, data_through=date(2026, 10, 20), at=store.now())
        record_sync(
            conn, "acme", f"bank:camt:{client.bank[0].path}", ok=True, data_through=date(2026, 10, 19), at=store.now()
        )
    as_of = date(2026, 10, 20)
    facts = store.read(load_facts, "acme")
    whole = decide(facts, client, as_of, reconcile_facts(facts, client))
    run = SlicedRun(store, client, slice_documents=10)
    sliced = sort_decisions([d for part in run for d in decide(part.facts, client, as_of, part.recon)])
    assert run.slices > 1
    assert [json.dumps(d.as_json(), sort_keys=True) for d in sliced] == [
        json.dumps(d.as_json(), sort_keys=True) for d in whole
    ]
    # routing in a child, slices in two processes: each opens its own connection, the parent's stays usable
    in_two = SlicedRun(store, client, slice_documents=10, workers=2)
    parts = list(in_two.map(lambda part: decide(part.facts, client, as_of, part.recon)))
    assert in_two.slices > run.slices and len(parts) == in_two.slices
    assert [json.dumps(d.as_json(), sort_keys=True) for d in sort_decisions([d for p in parts for d in p])] == [
        json.dumps(d.as_json(), sort_keys=True) for d in whole
    ]
    assert in_two.unexplained_everywhere == run.unexplained_everywhere
    assert len(store.read(load_facts, "acme").invoices) == 60
    store.close()


def test_one_run_per_client_on_postgresql_is_an_advisory_lock_the_server_releases(pg_url: str) -> None:
    me = RunId.current()
    first, second = Store(pg_url), Store(pg_url, run=RunId(me.host, me.pid, me.started, "second"))
    try:
        with first.lock("acme", "run"):
            with pytest.raises(ClientLocked, match=r"another arsync run holds client acme since .* \(run, pid"):
                second.lock("acme", "cases push").__enter__()
            with second.lock("beta", "run"):  # per client
                pass
        with second.lock("acme", "cases push"):  # released
            pass
        # A run that dies holding the lock: its session ends, and the server frees the lock with it.
        held = first.lock("acme", "run")
        held.__enter__()
        with first.engine.connect() as conn:
            sessions = conn.execute(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory'"
                    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            ).all()
            for (pid,) in sessions:
                conn.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})  # waits for its end
        with second.lock("acme", "cases push"):
            pass
        held.__exit__(None, None, None)  # the dead run's release finds its session gone: nothing to undo
    finally:
        first.close()
        second.close()


def test_a_v16_database_gains_the_file_stats_and_then_skips_known_files_on_postgresql(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace(tmp_path)
    config = ws.write_config(store_url=pg_url)
    arrived_long_ago(ws.add_invoice("1001", issue=date(2024, 2, 1), due=date(2024, 3, 1), amount="500.00"))
    assert arsync(config, "sync", "--as-of", "2024-03-02").exit_code == 0
    old = Store(pg_url)
    with old.transaction() as conn:  # what a version-16 database looked like
        for column in ("st_size", "st_mtime_ns", "st_ino"):
            conn.execute(text(f"ALTER TABLE seen_files DROP COLUMN {column}"))
        conn.execute(schema.schema_version.update().values(version=16))
    old.close()
    opened = FilesOpened(monkeypatch)

    assert arsync(config, "sync", "--as-of", "2024-03-03").exit_code == 0  # migrates; reads the file once more
    assert opened.in_folder(ws.ehf_dir()) == ["1001.xml"]
    opened.clear()
    assert arsync(config, "sync", "--as-of", "2024-03-04").exit_code == 0
    assert opened.in_folder(ws.ehf_dir()) == []
    after = Store(pg_url)
    with after.connect() as conn:
        assert conn.execute(select(schema.seen_files.c.st_ino)).scalar_one() is not None
    after.close()
