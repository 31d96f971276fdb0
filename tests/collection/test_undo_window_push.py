"""The push and the undo window: an approval made in the workbench waits for its window (and the settle
minute) before it goes to the provider; one typed with `arsync cases approve` goes with the next push.
Time is driven by the store's clock (injected), never by sleeping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from collection_env import (
    APPROVED_AT,
    CASE,
    KRAVIA_TOKEN,
    WINDOW,
    approve_in_workbench,
    nightly,
    push_at,
    setup_client,
    statuses,
)

from connector.collection import approval
from connector.store import audit
from connector.store.cases import find_case
from tests.builders import Workspace
from tests.fakes import FakeKravia


def test_a_workbench_approval_is_pushed_only_after_its_undo_window(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        setup_client(ws, monkeypatch, "kravia", fake.base_url)
        assert nightly(ws, CASE).exit_code == 0
        approve_in_workbench(ws)

        for minutes in (0, 5, 10, 10.99):  # inside the window, then inside the settle minute after it
            warnings = push_at(ws, APPROVED_AT + timedelta(minutes=minutes))
            assert warnings == [
                "case acme-1001: push waits (stays approved): approved with an undo window; "
                f"it goes to collection from {CASE.isoformat()} 09:11 UTC"
            ]
            assert statuses(ws) == {"1001": "approved"} and fake.calls("POST", "/api/v2/invoice/register") == []

        assert push_at(ws, APPROVED_AT + WINDOW + approval.PUSH_SETTLE) == []
        assert statuses(ws) == {"1001": "pushed"}
        assert len(fake.calls("POST", "/api/v2/invoice/register")) == 1


def test_an_approval_undone_inside_the_window_is_never_pushed(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        setup_client(ws, monkeypatch, "kravia", fake.base_url)
        assert nightly(ws, CASE).exit_code == 0
        approve_in_workbench(ws, "ok")
        push_at(ws, APPROVED_AT + timedelta(minutes=3))
        approval.undo_approval(ws.store, "acme-1001", CASE, actor="kari", now=APPROVED_AT + timedelta(minutes=4))
        assert push_at(ws, APPROVED_AT + timedelta(hours=1)) == []
        assert statuses(ws) == {"1001": "proposed"} and fake.calls("POST", "/api/v2/invoice/register") == []


def test_a_typed_approval_goes_with_the_next_push_and_is_audited_as_the_login(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "kari")
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        setup_client(ws, monkeypatch, "kravia", fake.base_url)
        assert nightly(ws, CASE).exit_code == 0
        approved = ws.cli("cases", "approve", "acme-1001", "--as-of", CASE.isoformat())
        assert approved.exit_code == 0 and approved.stdout == "acme-1001: approved\n"
        [entry] = ws.store.read(audit.entries)
        assert (entry.actor, entry.action, entry.client_id, entry.subject) == (
            "cli:kari", "case.approve", "acme", "acme-1001",
        )  # fmt: skip
        case = ws.store.read(find_case, "acme-1001")
        assert case is not None and case.events[-1].push_after is None
        pushed = ws.cli("cases", "push", "--as-of", CASE.isoformat())
        assert pushed.exit_code == 0, pushed.output
        assert "case acme-1001 pushed to kravia" in pushed.stdout
        assert statuses(ws) == {"1001": "pushed"} and len(fake.calls("POST", "/api/v2/invoice/register")) == 1

        refused = ws.cli("cases", "reject", "acme-1001", "--note", "too late")  # the same one path refuses
        assert refused.exit_code == 2 and "case 'acme-1001' is pushed; only proposed cases can be rejected" in (
            refused.stderr
        )
