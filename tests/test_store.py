"""The state store: versioned schema, idempotent writes, exact money, and atomic per-client sync."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import DateTime, inspect, select, text
from sqlalchemy.exc import StatementError

from connector import pipeline
from connector.engine.decisions import decide_client
from connector.model import ZERO, Action, Case, CaseStatus, DocKind, DunningStep, Hold, Invoice, Payment
from connector.reports.run import ClientReport
from connector.sources.base import FileResult, KnownAgain
from connector.sources.known import FileStat, stat_key
from connector.store import Store, ledger, migrations, schema, sends, upsert
from connector.store import cases as case_store
from connector.store.facts import load_facts
from connector.store.ledger import upsert_invoices
from connector.store.payments import upsert_payments
from connector.store.sync import FilesRead, files_read, mark_files, mark_known_again, record_sync, sync_status
from tests.builders import Entry, Workspace, client_table, kid

AS_OF = date(2026, 6, 29)


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state' / 'arsync.db'}"


def an_invoice(number: str = "1001", amount: str = "1000.00", client_id: str = "acme") -> Invoice:
    return Invoice(
        client_id=client_id,
        number=number,
        kind=DocKind.INVOICE,
        customer_id="934567897",
        issue_date=date(2026, 6, 1),
        due_date=date(2026, 6, 15),
        currency="NOK",
        amount=Decimal(amount),
        source="ehf",
        kid=kid(number),
    )


def a_payment(amount: str, ref: str = "R1") -> Payment:
    return Payment(
        client_id="acme",
        source="camt",
        account="15032080119",
        bank_ref=ref,
        ordinal=0,
        booking_date=date(2026, 6, 20),
        amount=Decimal(amount),
        currency="NOK",
        structured_ref=kid("1001"),
    )


def versions(store: Store) -> list[int]:
    with store.connect() as conn:
        return [r[0] for r in conn.execute(select(schema.schema_version.c.version))]


# ---- schema versions -----------------------------------------------------------------------------


def test_a_new_database_records_the_current_schema_version_and_reopening_changes_nothing(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    store = Store(url)
    assert versions(store) == [migrations.CURRENT]
    with store.transaction() as conn:
        upsert_invoices(conn, [an_invoice()])
    store.close()

    again = Store(url)
    assert versions(again) == [migrations.CURRENT]
    assert [i.number for i in again.read(load_facts, "acme").invoices] == ["1001"]
    with again.engine.begin() as conn:
        assert migrations.upgrade(conn) == migrations.CURRENT  # already current: a no-op
    assert versions(again) == [migrations.CURRENT]
    again.close()


def test_an_older_database_is_brought_forward_and_keeps_its_data(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    store = Store(url)
    with store.transaction() as conn:
        upsert_invoices(conn, [an_invoice()])
        # what a version-1 database looked like: no e-invoice document events yet
        schema.document_events.drop(conn)
        conn.execute(schema.schema_version.update().values(version=1))
    store.close()

    with Store(url).connect() as conn:  # opening the store runs the missing steps
        assert conn.execute(select(schema.schema_version.c.version)).scalar_one() == migrations.CURRENT
        assert conn.execute(select(schema.document_events)).all() == []  # the table exists again
        assert conn.execute(select(schema.invoices.c.number)).scalars().all() == ["1001"]


def test_a_migration_that_fails_halfway_leaves_the_database_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = sqlite_url(tmp_path)
    store = Store(url)
    with store.transaction() as conn:
        upsert_invoices(conn, [an_invoice()])
        schema.document_events.drop(conn)  # a version-1 database
        conn.execute(schema.schema_version.update().values(version=1))
    store.close()

    def disk_full(_conn: Any) -> None:
        raise OSError("disk full")

    # the v2 step (re-creating document_events) runs, then a later step fails
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS[:-1], disk_full))
    with pytest.raises(OSError, match="disk full"):
        Store(url)
    monkeypatch.undo()

    raw = sqlite3.connect(tmp_path / "state" / "arsync.db")
    tables = {name for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "document_events" not in tables  # the steps before the failure were rolled back with it
    assert raw.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
    raw.close()
    with Store(url).connect() as conn:  # the next open upgrades it whole, data kept
        assert conn.execute(select(schema.schema_version.c.version)).scalar_one() == migrations.CURRENT
        assert conn.execute(select(schema.invoices.c.number)).scalars().all() == ["1001"]


def test_upgrade_reports_the_version_it_started_from(tmp_path: Path) -> None:
    store = Store(sqlite_url(tmp_path))
    with store.transaction() as conn:
        schema.document_events.drop(conn)
        conn.execute(schema.schema_version.update().values(version=1))
    with store.transaction() as conn:
        assert migrations.upgrade(conn) == 1
        assert migrations.current_version(conn) == migrations.CURRENT
    store.close()


def test_a_database_from_a_newer_arsync_is_refused(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    store = Store(url)
    with store.transaction() as conn:
        conn.execute(schema.schema_version.update().values(version=migrations.CURRENT + 1))
    store.close()
    with pytest.raises(migrations.SchemaTooNew, match="upgrade arsync"):
        Store(url)


# ---- money -------------------------------------------------------------------------------------


def test_money_round_trips_exactly_as_decimal(tmp_path: Path) -> None:
    store = Store(sqlite_url(tmp_path))
    amounts = ["1234567.89", "0.10", "0.20", "99999999999999.99"]
    with store.transaction() as conn:
        upsert_invoices(conn, [an_invoice(str(1000 + n), a) for n, a in enumerate(amounts)])
    loaded = {i.number: i.amount for i in store.read(load_facts, "acme").invoices}
    assert [loaded[str(1000 + n)] for n in range(len(amounts))] == [Decimal(a) for a in amounts]
    assert all(type(v) is Decimal for v in loaded.values())
    assert loaded["1001"] + loaded["1002"] == Decimal("0.30")  # 0.1 + 0.2 is 0.30, not 0.30000000000000004
    with store.connect() as conn:
        raw = conn.execute(text("SELECT amount FROM invoices WHERE number = '1000'")).scalar_one()
    assert raw == "1234567.89"  # stored as exact text, never as a binary float
    # payments take the bulk path (a tuple per row, no dict): the same money, the same text, every field back
    paid = [
        replace(a_payment(a, f"R{n}"), value_date=date(2026, 6, 21), reversal=n == 1) for n, a in enumerate(amounts)
    ]
    with store.transaction() as conn:
        upsert_payments(conn, paid)
    assert sorted(store.read(load_facts, "acme").payments, key=lambda p: p.bank_ref) == paid
    with store.connect() as conn:
        raw = conn.execute(text("SELECT amount FROM payments WHERE bank_ref = 'R0'")).scalar_one()
    assert raw == "1234567.89"
    store.close()


def test_a_float_amount_is_refused_by_the_store(tmp_path: Path) -> None:
    store = Store(sqlite_url(tmp_path))
    with pytest.raises(StatementError, match="float"), store.transaction() as conn:
        upsert_invoices(conn, [replace(an_invoice(), amount=10.5)])
    assert store.read(load_facts, "acme").invoices == ()
    with pytest.raises(StatementError, match="float"), store.transaction() as conn:  # nothing of the batch
        upsert_payments(conn, [a_payment("1.00", "R1"), replace(a_payment("1.00", "R2"), amount=10.5)])
    assert store.read(load_facts, "acme").payments == ()
    store.close()


# ---- idempotent writes ---------------------------------------------------------------------------


def test_upserts_are_keyed_by_client_and_natural_key(tmp_path: Path) -> None:
    store = Store(sqlite_url(tmp_path))
    for _ in range(2):
        with store.transaction() as conn:
            upsert_invoices(conn, [an_invoice(), an_invoice(client_id="beta")])
            upsert_payments(conn, [a_payment("100.00"), a_payment("100.00")])
    with store.transaction() as conn:  # the same invoice read again with a corrected amount
        upsert_invoices(conn, [an_invoice(amount="900.00")])
    acme = store.read(load_facts, "acme")
    assert [(i.number, i.amount) for i in acme.invoices] == [("1001", Decimal("900.00"))]
    assert len(acme.payments) == 1
    assert [i.amount for i in store.read(load_facts, "beta").invoices] == [Decimal("1000.00")]
    store.close()


def test_a_step_is_recorded_once_per_day_and_a_case_proposed_once(tmp_path: Path) -> None:
    store = Store(sqlite_url(tmp_path))
    step = DunningStep("acme", "1001", Action.REMINDER, AS_OF, "outbox", currency="NOK")
    case = Case("acme-1001", "acme", "1001", "934567897", "NOK", Decimal("1"), Decimal("1"), CaseStatus.PROPOSED, AS_OF)
    with store.transaction() as conn:
        assert sends.record_steps(conn, [step]) == 1
        assert case_store.propose_case(conn, case, at=store.now()) is True
    with store.transaction() as conn:
        assert sends.record_steps(conn, [step]) == 0
        assert case_store.propose_case(conn, case, at=store.now()) is False
    facts = store.read(load_facts, "acme")
    assert len(facts.steps) == 1
    assert [(c.case_id, c.status, len(c.events)) for c in facts.cases] == [("acme-1001", CaseStatus.PROPOSED, 1)]
    store.close()


def test_every_timestamp_the_store_writes_comes_from_its_clock(tmp_path: Path) -> None:
    """One injected clock: sync state, seen files, send intents, provider operations, provider states,
    pull cursors and case events are stamped with the time the store was given, never read elsewhere."""
    at = datetime(2026, 6, 29, 3, 15, 42, 123456, tzinfo=UTC)
    store = Store(sqlite_url(tmp_path), clock=lambda: at)
    case = Case("acme-1001", "acme", "1001", "934567897", "NOK", Decimal("1"), Decimal("1"), CaseStatus.PROPOSED, AS_OF)
    with store.transaction() as conn:
        record_sync(conn, "acme", "ledger", ok=True, data_through=AS_OF, at=store.now())
        mark_files(conn, "acme", "bank:camt", [FileResult("a.xml", "h1", "ok")], at=store.now())
        case_store.propose_case(conn, case, at=store.now())
        case_store.add_case_event(conn, "acme", case.case_id, CaseStatus.APPROVED, AS_OF, "approved", at=store.now())
    intent = store.write(
        sends.begin,
        sends.SendIntent("acme", "1001", Action.REMINDER, AS_OF, "outbox", "", ZERO, "NOK"),
        owner=store.run.key,
        at=store.now(),
    )
    assert intent is not None
    store.write(sends.complete, intent, sends.SENT, ref="letter", detail="letter", at=store.now())
    store.write(
        case_store.record_intent,
        client_id="acme",
        op_key="acme-1001|submit",
        case_id=case.case_id,
        kind="submit",
        provider="outbox",
        owner=store.run.key,
        at=store.now(),
    )
    store.write(case_store.note_op_error, "acme", "acme-1001|submit", "timeout", at=store.now())
    with store.transaction() as conn:
        case_store.settle_op(conn, "acme", "acme-1001|submit", case_store.DONE, at=store.now(), provider_ref="P1")
        state = case_store.ProviderState(case.case_id, "outbox", "open", None, "open", None, AS_OF)
        case_store.add_provider_state(conn, "acme", state, at=store.now())
        case_store.set_cursor(conn, "acme", "outbox", "c1", at=store.now())

    stamped = []
    with store.connect() as conn:
        for table in schema.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, DateTime) and table is not schema.registry_cache:  # the register's time
                    stamped += [(table.name, column.name, v) for (v,) in conn.execute(select(column)) if v is not None]
    assert {(t, c) for t, c, _v in stamped} >= {
        ("sync_state", "last_attempt_at"),
        ("seen_files", "seen_at"),
        ("case_events", "recorded_at"),
        ("dunning_sends", "updated_at"),
        ("collection_ops", "created_at"),
        ("collection_ops", "updated_at"),
        ("case_provider_states", "recorded_at"),
        ("collection_cursors", "updated_at"),
    }
    assert {v.replace(tzinfo=UTC) if v.tzinfo is None else v for _t, _c, v in stamped} == {at}
    store.close()


# ---- sync through the pipeline ---------------------------------------------------------------------


def _ledger_with_payment(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    ws.add_invoice("1001", issue=date(2026, 6, 1), due=date(2026, 6, 15), amount="1000.00")
    ws.add_invoice("1002", issue=date(2026, 6, 1), due=date(2026, 6, 15), amount="250.50")
    ws.add_credit_note("5001", "1002", issue=date(2026, 6, 5), amount="50.50")
    ws.add_bank_file("camt054-1.xml", [Entry("R1", "1000.00", date(2026, 6, 20), kid("1001"))], created=AS_OF)


def _sync(ws: Workspace, as_of: date = AS_OF) -> ClientReport:
    report = ClientReport("acme")
    pipeline.sync_client(ws.store, ws.client("acme"), as_of, report)
    return report


def _facts_snapshot(ws: Workspace) -> dict[str, list[tuple[Any, ...]]]:
    tables = (schema.customers, schema.invoices, schema.payments, schema.dunning_steps, schema.disputes)
    with ws.store.connect() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in tables}


def test_sync_twice_gives_the_same_rows(ws: Workspace) -> None:
    _ledger_with_payment(ws)
    assert _sync(ws).ok
    counts, facts = ws.row_counts(), _facts_snapshot(ws)
    assert counts["invoices"] == 3 and counts["payments"] == 1 and counts["customers"] == 1

    assert _sync(ws).ok
    assert ws.row_counts() == counts
    assert _facts_snapshot(ws) == facts


def test_the_same_payment_in_a_later_statement_is_not_counted_twice(ws: Workspace) -> None:
    _ledger_with_payment(ws)
    assert _sync(ws).ok
    # the day's camt.053 statement repeats the entry the camt.054 notification already brought
    ws.add_bank_file(
        "camt053-1.xml", [Entry("R1", "1000.00", date(2026, 6, 20), kid("1001"))], created=AS_OF, message="camt.053"
    )
    assert _sync(ws).ok
    assert ws.row_counts()["payments"] == 1
    decisions = {d.invoice_number: d for d in decide_client(ws.store, ws.client("acme"), AS_OF)}
    assert decisions["1001"].open_amount == Decimal("0.00")
    assert len([e for e in decisions["1001"].evidence if e.kind == "kid"]) == 1


def test_a_failure_mid_sync_keeps_the_previous_state_and_is_recorded(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ledger_with_payment(ws)
    assert _sync(ws).ok
    before_counts, before_facts = ws.row_counts(), _facts_snapshot(ws)
    before_sync = ws.store.read(sync_status, "acme")

    # new data arrives, and the database write fails after the invoices were written
    ws.add_invoice("1003", issue=date(2026, 6, 20), due=date(2026, 7, 4), amount="300.00")
    ws.add_bank_file("camt054-2.xml", [Entry("R2", "250.50", date(2026, 7, 1), kid("1002"))], created=date(2026, 7, 1))

    def broken(conn: Any, payments: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pipeline, "upsert_payments", broken)
    report = _sync(ws, date(2026, 7, 1))
    monkeypatch.undo()

    assert not report.ok
    assert "previous state kept" in report.errors[0] and "disk full" in report.errors[0]
    assert _facts_snapshot(ws) == before_facts  # invoice 1003 did not half-arrive
    after = ws.row_counts()
    assert {k: v for k, v in after.items() if k != "sync_state"} == {
        k: v for k, v in before_counts.items() if k != "sync_state"
    }
    status = ws.store.read(sync_status, "acme")
    assert status["ledger"].last_error is not None and "disk full" in status["ledger"].last_error
    assert status["ledger"].last_success_at == before_sync["ledger"].last_success_at
    bank = next(s for k, s in status.items() if k.startswith("bank:"))
    assert "disk full" in (bank.last_error or "")
    assert bank.data_through == AS_OF  # the failed file's newer date did not count

    # what was stored can no longer be trusted as current: every open invoice holds
    later = date(2026, 7, 10)
    decisions = decide_client(ws.store, ws.client("acme"), later)
    open_ones = [d for d in decisions if d.open_amount > 0]
    assert open_ones and all({Hold.LEDGER_STALE, Hold.BANK_DATA_STALE} <= set(d.holds) for d in open_ones)

    # the files that failed to store are read again by the next sync
    assert _sync(ws, date(2026, 7, 1)).ok
    facts = ws.store.read(load_facts, "acme")
    assert {i.number for i in facts.invoices} == {"1001", "1002", "1003", "5001"}
    assert len(facts.payments) == 2
    assert ws.store.read(sync_status, "acme")["ledger"].last_error is None


def test_a_failing_source_keeps_the_stored_ledger_and_holds(ws: Workspace) -> None:
    _ledger_with_payment(ws)
    assert _sync(ws).ok
    before = _facts_snapshot(ws)
    for f in ws.ehf_dir().iterdir():
        f.unlink()
    ws.ehf_dir().rmdir()  # the access-point folder disappeared (unmounted share)

    report = _sync(ws)
    assert not report.ok
    assert "ledger" in report.errors[0]
    assert _facts_snapshot(ws) == before
    assert "not found" in (ws.store.read(sync_status, "acme")["ledger"].last_error or "")
    d = {x.invoice_number: x for x in decide_client(ws.store, ws.client("acme"), AS_OF)}
    assert Hold.LEDGER_STALE in d["1002"].holds


def test_a_version_4_database_gets_the_columns_added_later(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    store = Store(url)
    with store.transaction() as conn:
        upsert_invoices(conn, [an_invoice()])
        # a v4 database: before the payment reference and collection-method columns existed
        conn.exec_driver_sql("ALTER TABLE invoices DROP COLUMN collection_method")
        conn.exec_driver_sql("ALTER TABLE payments DROP COLUMN end_to_end_id")
        conn.execute(schema.schema_version.update().values(version=4))
    store.close()
    reopened = Store(url)
    assert [i.number for i in reopened.read(load_facts, "acme").invoices] == ["1001"]
    with reopened.transaction() as conn:
        assert migrations.current_version(conn) == migrations.CURRENT
        upsert_invoices(conn, [an_invoice("1002")])  # writes the new column without error
    assert reopened.read(load_facts, "acme").invoices[1].collection_method is None


def test_a_v16_database_gains_the_file_stats_and_still_knows_the_files_it_read(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    store = Store(url)
    with store.transaction() as conn:
        mark_files(
            conn,
            "acme",
            "ledger",
            [FileResult("a.xml", "h1", "ok"), FileResult("b.xml", "h2", "failed")],
            at=store.now(),
        )
        for column in ("st_size", "st_mtime_ns", "st_ino"):  # what a version-16 database looked like
            conn.execute(text(f"ALTER TABLE seen_files DROP COLUMN {column}"))
        conn.execute(schema.schema_version.update().values(version=16))
    store.close()

    again = Store(url)
    assert versions(again) == [migrations.CURRENT]
    # Known by content as before (the failed one is retried), by stat not yet: each is read once more.
    assert again.read(files_read, "acme", "ledger", stat_key) == FilesRead(frozenset({"h1"}), frozenset())
    with again.transaction() as conn:
        mark_known_again(conn, "acme", "ledger", [KnownAgain("a.xml", "h1", FileStat(10, 2**62, -(2**63)))])
    assert again.read(files_read, "acme", "ledger", stat_key).stats == {stat_key("a.xml", 10, 2**62, -(2**63))}
    again.close()


def test_a_v17_database_gains_the_end_of_exclusions_and_none_ends_before_it_began(tmp_path: Path) -> None:
    """Before v18 an exclusion ended by hand had its last day set to the day before; one ended on its first
    day was stored ending before it began. Brought forward it reads as ended that day: never in force."""
    url = sqlite_url(tmp_path)
    store = Store(url)
    day = date(2026, 6, 10)
    rows = [
        ("ex-same-day", day, date(2026, 6, 9)),  # ended the day it began, as v17 stored it
        ("ex-later", day, date(2026, 6, 12)),  # ended on 13 June (or planned so): as it was
        ("ex-open", day, None),
    ]
    with store.transaction() as conn:
        conn.execute(text("ALTER TABLE exclusions DROP COLUMN ended_on"))  # what a version-17 database looked like
        for exclusion_id, created_on, until in rows:
            conn.execute(
                schema.exclusions.insert().values(
                    client_id="acme", exclusion_id=exclusion_id, invoice_number="1001", customer_id=None,
                    created_on=created_on, until=until, reason="r",
                )
            )  # fmt: skip
        conn.execute(schema.schema_version.update().values(version=17))
    store.close()

    again = Store(url)
    assert versions(again) == [migrations.CURRENT]
    found = {e.exclusion_id: e for e in again.read(load_facts, "acme").exclusions}
    assert [(e.until, e.ended_on) for e in found.values() if e.until is not None and e.until < e.created_on] == []
    assert (found["ex-same-day"].ended_on, found["ex-same-day"].until) == (day, None)
    assert not any(found["ex-same-day"].covers("1001", "c", d) for d in (day, date(2026, 6, 11)))
    assert (found["ex-later"].until, found["ex-later"].ended_on) == (date(2026, 6, 12), None)
    assert (found["ex-open"].until, found["ex-open"].ended_on) == (None, None)
    again.close()


def test_a_v18_database_gains_the_indexes_of_document_events(tmp_path: Path) -> None:
    """Waiting Invoice Responses and MLRs are looked up by the reference they quote (v19): without the index
    each look-up scans the client's events."""
    url = sqlite_url(tmp_path)
    store = Store(url)
    with store.transaction() as conn:
        for index in ("ix_document_events_ref", "ix_document_events_waiting"):  # a version-18 database had neither
            conn.execute(text(f"DROP INDEX {index}"))
        conn.execute(schema.schema_version.update().values(version=18))
    store.close()

    again = Store(url)
    assert versions(again) == [migrations.CURRENT]
    with again.connect() as conn:
        names = {i["name"] for i in inspect(conn).get_indexes("document_events")}
    assert {"ix_document_events_ref", "ix_document_events_waiting"} <= names
    again.close()


def test_a_v8_database_gains_the_audit_trail_and_the_undo_window_and_keeps_its_cases(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    store = Store(url)
    case = Case(
        "acme-1001", "acme", "1001", "c1", "NOK", Decimal("10.00"), Decimal("10.00"), CaseStatus.PROPOSED, AS_OF
    )
    with store.transaction() as conn:
        case_store.propose_case(conn, case, at=store.now())
        schema.audit_log.drop(conn)  # what a version-8 database looked like
        conn.execute(text("ALTER TABLE case_events DROP COLUMN push_after"))
        conn.execute(schema.schema_version.update().values(version=8))
    store.close()

    again = Store(url)
    assert versions(again) == [migrations.CURRENT]
    [event] = again.read(case_store.find_case, "acme-1001").events  # type: ignore[union-attr]
    assert (event.status, event.push_after) == (CaseStatus.PROPOSED, None)
    with again.connect() as conn:
        assert conn.execute(select(schema.audit_log)).all() == []
    again.close()


def test_an_unreachable_postgresql_store_is_one_line_and_status_2(ws: Workspace) -> None:
    ws.write_config(client_table("acme"), store_url="postgresql+psycopg://arsync:s3cret-pw@127.0.0.1:1/arsync")
    result = ws.cli("run", "--as-of", AS_OF.isoformat())
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: store postgresql+psycopg://arsync:***@127.0.0.1:1/arsync cannot be reached: ")
    assert "s3cret-pw" not in result.output and "Traceback" not in result.output


def test_a_failure_in_a_later_chunk_of_a_large_sync_keeps_nothing_of_it(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sync writes big batches a chunk at a time (connector.store.upsert), all in its one transaction:
    rows of chunks already written are rolled back with the rest when a later chunk fails."""
    _ledger_with_payment(ws)
    assert _sync(ws).ok
    before_counts, before_facts = ws.row_counts(), _facts_snapshot(ws)
    monkeypatch.setattr(upsert, "CHUNK_ROWS", 2)
    for n in range(2001, 2008):  # seven new invoices: four chunks
        ws.add_invoice(str(n), issue=date(2026, 6, 20), due=date(2026, 7, 4), amount="300.00")
    real_row = ledger.invoice_row

    def failing_row(invoice: Invoice) -> dict[str, Any]:
        if invoice.number == "2006":  # in the third chunk: two chunks are in the database by then
            raise OSError("disk full")
        return real_row(invoice)

    monkeypatch.setattr(ledger, "invoice_row", failing_row)
    report = _sync(ws, date(2026, 7, 1))
    monkeypatch.undo()

    assert not report.ok and "previous state kept" in report.errors[0]
    assert ws.row_counts() == before_counts
    assert _facts_snapshot(ws) == before_facts
    assert _sync(ws, date(2026, 7, 1)).ok  # the files were not marked seen: the next sync takes them all
    assert ws.row_counts()["invoices"] == before_counts["invoices"] + 7
