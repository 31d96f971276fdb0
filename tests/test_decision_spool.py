"""A client decided in slices keeps the night's decisions on disk, not in memory (issue 18: a million
decisions are about 850 MB as objects), and every reader — saving, acting, printing — sees exactly what the
whole-client decision gives, in the same order, as often as it reads them."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from connector.engine import decisions as engine
from connector.engine import slices, spool
from connector.engine.spool import Spooled
from tests.builders import Entry, Workspace, client_table, kid

NIGHT = date(2026, 3, 2)
ORGS = ("934567897", "923456791", "987654325")


@pytest.fixture
def books(ws: Workspace) -> Workspace:
    """Three customers, twelve invoices due on four days (ties on a due date are ordered by number), two paid."""
    ws.write_config(client_table("acme"))
    for i in range(12):
        org = ORGS[i % 3]
        due = date(2026, 1, 5) + timedelta(days=7 * (i % 4))
        ws.add_invoice(
            str(5000 + 11 - i),
            customer=f"Kunde {org}",
            org=org,
            issue=due - timedelta(days=14),
            due=due,
            amount=f"{100 + i}.00",
        )
    ws.add_bank_file(
        "camt.xml",
        [
            Entry("BANKREF1", "105.00", date(2026, 2, 2), kid=kid("5006")),
            Entry("BANKREF2", "110.00", date(2026, 2, 3), kid=kid("5001")),
        ],
        created=NIGHT,
    )
    assert ws.cli("sync", "--as-of", NIGHT.isoformat()).exit_code == 0
    return ws


@pytest.mark.parametrize("processes", [1, 2])
def test_sliced_decisions_are_on_disk_and_read_back_as_the_whole_client_decides(
    books: Workspace, monkeypatch: pytest.MonkeyPatch, processes: int
) -> None:
    client = books.client("acme")
    whole = engine.decide_night(books.store, client, NIGHT)
    assert isinstance(whole.decisions, list)  # one piece: in memory, as before

    monkeypatch.setattr(slices, "SLICE_DOCUMENTS", 4)
    monkeypatch.setattr(slices, "PARALLEL_SLICES", processes)
    monkeypatch.setattr(spool, "CHUNK", 3)  # runs of several chunks each
    sliced = engine.decide_night(books.store, client, NIGHT)

    assert isinstance(sliced.decisions, Spooled)
    expected = [d.as_json() for d in whole.decisions]
    assert [d.as_json() for d in sliced.decisions] == expected
    assert [d.as_json() for d in sliced.decisions] == expected  # read again: the same
    assert len(sliced.decisions) == 12
    assert {d["invoice"]: d["state"] for d in expected}["5006"] == "settled"


def test_a_sliced_client_run_prints_and_saves_what_the_whole_client_gives(
    books: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = books.cli("reconcile", "--no-sync", "--as-of", NIGHT.isoformat(), "--json")
    table = books.cli("reconcile", "--no-sync", "--as-of", NIGHT.isoformat())
    monkeypatch.setattr(slices, "SLICE_DOCUMENTS", 4)
    monkeypatch.setattr(slices, "PARALLEL_SLICES", 1)

    sliced = books.cli("reconcile", "--no-sync", "--as-of", NIGHT.isoformat(), "--json")
    sliced_table = books.cli("reconcile", "--no-sync", "--as-of", NIGHT.isoformat())

    assert json.loads(sliced.stdout)["items"] == json.loads(whole.stdout)["items"]
    assert sliced_table.stdout == table.stdout
    assert len(json.loads(sliced.stdout)["items"]) == 12
