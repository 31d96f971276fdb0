"""Disputes, agreements and exclusions go through one service (connector.actions.manual) for the command
line and the workbench: each write is in the audit trail with who and when, and a refused one writes
nothing — neither the record nor an audit row."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from connector.actions import manual
from connector.errors import Refused
from connector.model import Dispute, DisputeSource
from connector.store import audit
from connector.store import disputes as disputes_store
from connector.store.facts import load_facts
from tests.builders import Workspace, client_table

ISSUE = date(2026, 6, 1)
DUE = date(2026, 6, 15)
AS_OF = DUE + timedelta(days=14)
NOW = datetime(2026, 6, 29, 9, 30, tzinfo=UTC)


@pytest.fixture
def synced(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setattr("getpass.getuser", lambda: "kari")
    ws.write_config(client_table("acme"))
    ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="1000.00", customer="Fjord Handel AS", org="974760673")
    ws.add_invoice("1002", issue=ISSUE, due=DUE, amount="800.00", customer="Fjord Handel AS", org="974760673")
    assert ws.cli("sync", "--as-of", AS_OF.isoformat()).exit_code == 0
    return ws


def trail(ws: Workspace) -> list[tuple[str, str, str | None, str | None]]:
    return [(e.actor, e.action, e.client_id, e.subject) for e in reversed(ws.store.read(audit.entries))]


def test_every_command_that_records_or_undoes_is_in_the_audit_trail(synced: Workspace) -> None:
    ws, day = synced, AS_OF.isoformat()
    promise = (AS_OF + timedelta(days=5)).isoformat()
    for args in (
        ["disputes", "open", "--client", "acme", "1001", "--reason", "wrong hours"],
        ["disputes", "resolve", "--client", "acme", "1001", "--note", "credited"],
        ["agreements", "add", "--client", "acme", "1002", "--promise-date", promise],
        ["agreements", "remove", "--client", "acme", "1002", "--note", "typo"],
        ["exclude", "add", "--client", "acme", "--customer", "974760673", "--reason", "key account"],
        ["exclude", "remove", "--client", "acme", "974760673"],
        ["invoices", "confirm", "acme", "1001", "--note", "checked the hours"],
    ):
        result = ws.cli(*args, "--as-of", day)
        assert result.exit_code == 0, result.output
    assert trail(ws) == [
        ("cli:kari", "dispute.open", "acme", "1001"),
        ("cli:kari", "dispute.resolve", "acme", "1001"),
        ("cli:kari", "agreement.add", "acme", "1002"),
        ("cli:kari", "agreement.remove", "acme", "1002"),
        ("cli:kari", "exclusion.add", "acme", "customer 974760673"),
        ("cli:kari", "exclusion.remove", "acme", "customer 974760673"),
        ("cli:kari", "invoice.confirm", "acme", "1001"),
    ]
    details = [e.detail for e in reversed(ws.store.read(audit.entries))]
    assert details[0].startswith("manual-") and details[0].endswith(": wrong hours")
    assert details[2].startswith("agreement-") and details[2].endswith(f"pay on {promise}")


def test_a_refused_request_writes_neither_the_record_nor_an_audit_row(synced: Workspace) -> None:
    store = synced.store
    who = {"actor": "kari", "now": NOW}
    with pytest.raises(Refused, match="no invoice '1099'"):
        manual.open_dispute(store, "acme", "1099", "typo", AS_OF, **who)
    with pytest.raises(Refused, match="needs a reason"):
        manual.open_dispute(store, "acme", "1001", "   ", AS_OF, **who)
    with pytest.raises(Refused, match="the promised day 2026-06-15 is before 2026-06-29"):
        manual.add_agreement(store, "acme", "1001", [DUE], "", AS_OF, **who)
    with pytest.raises(Refused, match="the first instalment 2026-06-28 is before"):
        manual.add_agreement(
            store, "acme", "1001", manual.instalment_dates(AS_OF - timedelta(days=1), 3, 30), "", AS_OF, **who
        )
    with pytest.raises(Refused, match="did you mean --customer 974760673"):
        manual.add_exclusion(store, "acme", "x", AS_OF, customer="fjord handel as", **who)
    with pytest.raises(Refused, match="no open dispute '1001'"):
        manual.resolve_dispute(store, "acme", "1001", "", AS_OF, **who)
    facts = store.read(load_facts, "acme")
    assert (facts.disputes, facts.agreements, facts.exclusions) == ((), (), ())
    assert store.read(audit.entries) == []


def test_a_reference_naming_several_records_is_refused_with_their_ids(synced: Workspace) -> None:
    store = synced.store
    who = {"actor": "vera", "now": NOW, "address": "192.0.2.7"}
    # the provider reports a dispute; the accountant's own word is recorded beside it (the provider's may end
    # on its own), so the invoice number names two
    first = Dispute("acme", "1001", "provider-kravia-77", AS_OF, "the debtor disputes", DisputeSource.PROVIDER)
    with store.transaction() as conn:
        disputes_store.add_dispute(conn, first)
    second = manual.open_dispute(store, "acme", "1001", "and the wrong price", AS_OF, **who)
    both = ", ".join(sorted([first.dispute_id, second.dispute_id]))  # opened the same day: in id order
    with pytest.raises(Refused, match=f"several open disputes match: {both}; give the id"):
        manual.resolve_dispute(store, "acme", "1001", "", AS_OF, **who)
    resolved = manual.resolve_dispute(store, "acme", second.dispute_id, "", AS_OF, **who)
    assert resolved == second
    assert [d.dispute_id for d in manual.open_disputes(store.read(load_facts, "acme"))] == [first.dispute_id]
    [entry, *_] = store.read(audit.entries)
    assert (entry.actor, entry.at, entry.address, entry.detail) == (
        "vera",
        NOW,
        "192.0.2.7",
        f"{second.dispute_id}: resolved",
    )


def test_instalment_dates_are_spaced_from_the_first() -> None:
    assert manual.instalment_dates(date(2026, 7, 1), 3, 30) == (date(2026, 7, 1), date(2026, 7, 31), date(2026, 8, 30))
