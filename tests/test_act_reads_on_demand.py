"""The act stage reads the client's facts only when something acts on them (issue 18): a night with nothing
to send, propose or follow up reads none — at a million invoices that read is a gigabyte and seconds — and a
night with letters reads them once."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from connector.actions import act
from tests.builders import Workspace, client_table

ISSUE, DUE = date(2026, 6, 1), date(2026, 6, 15)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    load = act.load_facts

    def counted(conn: Any, client_id: str) -> Any:
        calls.append(client_id)
        return load(conn, client_id)

    monkeypatch.setattr(act, "load_facts", counted)
    return calls


def test_a_night_with_nothing_to_act_on_reads_no_facts(ws: Workspace, reads: list[str]) -> None:
    ws.write_config(client_table("acme"))
    ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="1000.00")
    day = DUE + timedelta(days=5)  # overdue, but the reminder is due 14 days after the due date
    ws.bank_heartbeat(day)

    result = ws.cli("run", "--as-of", day.isoformat())

    assert result.exit_code == 0, result.output
    assert reads == []
    assert ws.letters() == []


def test_a_night_with_a_letter_reads_the_facts_once_and_sends_it(ws: Workspace, reads: list[str]) -> None:
    ws.write_config(client_table("acme"))
    ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="1000.00")
    day = DUE + timedelta(days=14)
    ws.bank_heartbeat(day)

    result = ws.cli("run", "--as-of", day.isoformat())

    assert result.exit_code == 0, result.output
    assert reads == ["acme"]
    assert len(ws.letters()) == 1
