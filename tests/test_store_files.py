"""The store's unreadable files, quarantines and invoice checks (connector.store.files / checks)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from connector.model import FileRole, InvoiceCheck, Salvaged, UnreadableFile
from connector.store import Store
from connector.store import checks as checks_store
from connector.store import files as files_store
from connector.store.facts import load_facts

AT = datetime(2026, 6, 29, 3, 0, tzinfo=UTC)


def _file(name: str, file_hash: str, seen: date, salvaged: Salvaged | None = None) -> UnreadableFile:
    return UnreadableFile("acme", "ledger", FileRole.LEDGER, f"/ehf/{name}", name, file_hash, "broken", seen, salvaged)


def test_each_sync_replaces_the_list_and_an_unchanged_file_keeps_the_day_it_was_first_found(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    salvaged = Salvaged(kind="credit_note", refs=("1001",), buyer_ids=("934567897",))
    with store.transaction() as conn:
        files_store.replace_unreadable(
            conn, "acme", "ledger", [_file("a.xml", "h1", date(2026, 6, 1), salvaged)], at=AT
        )
    with store.transaction() as conn:  # a.xml unchanged, b.xml new
        files_store.replace_unreadable(
            conn,
            "acme",
            "ledger",
            [_file("a.xml", "h1", date(2026, 6, 2)), _file("b.xml", "h2", date(2026, 6, 2))],
            at=AT,
        )
    with store.engine.connect() as conn:
        got = {f.name: f for f in files_store.load_unreadable(conn, "acme")}
    assert (got["a.xml"].first_seen, got["b.xml"].first_seen) == (date(2026, 6, 1), date(2026, 6, 2))
    with store.transaction() as conn:  # a.xml changed (still broken), b.xml now reads
        files_store.replace_unreadable(
            conn, "acme", "ledger", [_file("a.xml", "h3", date(2026, 6, 3), salvaged)], at=AT
        )
    facts = store.read(load_facts, "acme")
    assert [(f.name, f.first_seen, f.salvaged) for f in facts.unreadable] == [("a.xml", date(2026, 6, 3), salvaged)]


def test_a_quarantine_covers_the_content_it_was_given_for(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    with store.transaction() as conn:
        files_store.replace_unreadable(conn, "acme", "ledger", [_file("a.xml", "h1", date(2026, 6, 1))], at=AT)
        files_store.record_decision(
            conn,
            files_store.FileDecision(
                "acme", "/ehf/a.xml", "h1", files_store.QUARANTINE, "junk", "cli:kari", date(2026, 6, 2), AT
            ),
        )
    [f] = store.read(load_facts, "acme").unreadable
    assert f.quarantined == "quarantined by cli:kari on 2026-06-02: junk"
    with store.transaction() as conn:  # the file changed: the quarantine was for the old content
        files_store.replace_unreadable(conn, "acme", "ledger", [_file("a.xml", "h2", date(2026, 6, 3))], at=AT)
    assert store.read(load_facts, "acme").unreadable[0].quarantined is None
    with store.transaction() as conn:
        files_store.replace_unreadable(conn, "acme", "ledger", [_file("a.xml", "h1", date(2026, 6, 4))], at=AT)
        files_store.record_decision(
            conn,
            files_store.FileDecision(
                "acme", "/ehf/a.xml", "h1", files_store.RELEASE, "real", "cli:kari", date(2026, 6, 4), AT
            ),
        )
    assert store.read(load_facts, "acme").unreadable[0].quarantined is None  # released: the last decision counts


def test_invoice_checks_are_kept_in_order(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    with store.transaction() as conn:
        checks_store.add_check(conn, InvoiceCheck("acme", "1001", date(2026, 6, 2), "cli:kari", "first"), at=AT)
        checks_store.add_check(conn, InvoiceCheck("acme", "1001", date(2026, 6, 3), "cli:ola", "second"), at=AT)
    assert [c.note for c in store.read(load_facts, "acme").checks] == ["first", "second"]


def test_a_database_from_before_gets_the_tables_and_the_payee_column(tmp_path: Path) -> None:
    from sqlalchemy import inspect, select, text

    from connector.store import migrations, schema

    url = f"sqlite:///{tmp_path / 'a.db'}"
    store = Store(url)
    step = migrations.MIGRATIONS.index(migrations._v12_files_and_invoice_checks)
    with store.transaction() as conn:  # as the database was before this step
        for table in (schema.unreadable_files, schema.file_decisions, schema.invoice_checks):
            table.drop(conn)
        conn.execute(text("ALTER TABLE invoices DROP COLUMN payee_account"))
        conn.execute(schema.schema_version.update().values(version=step))
    store.close()
    again = Store(url)
    with again.engine.connect() as conn:
        assert "payee_account" in {c["name"] for c in inspect(conn).get_columns("invoices")}
        assert conn.execute(select(schema.invoice_checks)).all() == []
        assert conn.execute(select(schema.schema_version.c.version)).scalar_one() == migrations.CURRENT
