"""Kept credit checks: the newest per customer, a same-day check replacing the earlier one, which invoices
are new to a check, the one line other views show — and a v10 database brought forward."""

from __future__ import annotations

import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import inspect, select

from connector.credit.checks import CreditCheck, credit_evidence, credit_line, watermark
from connector.credit.risk import RiskAssessment, RiskLevel, RiskReason
from connector.model import DocKind, Invoice
from connector.store import Store, migrations, schema
from connector.store.credit_checks import latest_checks, save_check

MON, TUE = date(2026, 2, 2), date(2026, 2, 3)
BANKRUPT = RiskReason("bankrupt", RiskLevel.HIGH, "Bankrupt (konkurs) since 2026-01-12.", "enhetsregisteret", MON)
LOSS = RiskReason("loss", RiskLevel.WATCH, "A loss of 900 000 NOK.", "regnskapsregisteret", MON)


def check(customer: str, day: date, level: RiskLevel, *reasons: RiskReason, trigger: str = "manual") -> CreditCheck:
    assessment = RiskAssessment(customer, "934567897", level, reasons, ("a note",), day)
    return CreditCheck("acme", customer, assessment, trigger, day, ("1002",))


def invoice(number: str, issued: date, kind: DocKind = DocKind.INVOICE) -> Invoice:
    return Invoice("acme", number, kind, "C1", issued, None, "NOK", Decimal("100.00"), "ehf")


def test_the_newest_check_per_customer_and_a_same_day_check_replaces(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        with store.transaction() as conn:
            save_check(conn, check("C1", MON, RiskLevel.WATCH, LOSS), at=store.now())
            save_check(conn, check("C1", TUE, RiskLevel.WATCH, LOSS), at=store.now())
            save_check(conn, check("C1", TUE, RiskLevel.HIGH, BANKRUPT, LOSS, trigger="new"), at=store.now())
            save_check(conn, check("C2", MON, RiskLevel.LOW), at=store.now())
        latest = store.read(latest_checks, "acme")
        assert latest["C1"] == check("C1", TUE, RiskLevel.HIGH, BANKRUPT, LOSS, trigger="new")  # read back whole
        assert latest["C2"].level is RiskLevel.LOW and store.read(latest_checks, "other") == {}
        with store.engine.connect() as conn:
            assert len(conn.execute(select(schema.credit_checks)).all()) == 3  # Monday's C1 kept as history
    finally:
        store.close()


def test_invoices_new_to_a_check() -> None:
    seen = check("C1", MON, RiskLevel.LOW)  # saw invoices through Monday, of Monday's only 1002
    invoices = [
        invoice("0999", date(2026, 1, 30)),
        invoice("1002", MON),
        invoice("1003", MON),  # issued Monday, synced after the check
        invoice("1004", TUE),
        invoice("K1", TUE, DocKind.CREDIT_NOTE),
    ]
    assert [i.number for i in seen.new_invoices(invoices)] == ["1003", "1004"]
    assert watermark(invoices) == (TUE, ("1004",))
    assert watermark([]) == (None, ())


def test_the_line_other_views_show() -> None:
    high = check("C1", MON, RiskLevel.HIGH, BANKRUPT, LOSS)
    assert credit_line(high) == "credit risk high (2026-02-02): Bankrupt (konkurs) since 2026-01-12. (+1 more)"
    assert credit_line(check("C2", MON, RiskLevel.LOW)) == "credit risk low (2026-02-02): no warning signs found"
    evidence = credit_evidence(high)
    assert (evidence.kind, evidence.ref, evidence.on) == ("credit", "934567897", MON)


def test_a_v10_database_gets_the_credit_checks_and_the_delivery_date(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    Store(f"sqlite:///{path}").close()
    raw = sqlite3.connect(path)
    raw.execute("DROP TABLE credit_checks")
    raw.execute("ALTER TABLE invoices DROP COLUMN delivery_date")
    raw.execute("UPDATE schema_version SET version = 10")
    raw.commit()
    raw.close()
    store = Store(f"sqlite:///{path}")
    try:
        with store.engine.connect() as conn:
            assert conn.execute(select(schema.schema_version.c.version)).scalar_one() == migrations.CURRENT
            assert "delivery_date" in {c["name"] for c in inspect(conn).get_columns("invoices")}
            assert inspect(conn).has_table("credit_checks")
    finally:
        store.close()
