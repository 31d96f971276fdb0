"""A case approved again after its push was recorded done: never sent twice, and the accountant is told.

How it arises (``connector.actions.collection._pushed_before``): the workbench's undo read the case while its
window was open and wrote "proposed" after the push had recorded "pushed" (a clock behind the push's, or a stall
between the undo's read and its write); the accountant then approves it again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

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
from connector.store import cases as case_store
from connector.store.cases import find_case
from tests.builders import Workspace
from tests.fakes import Failure, FakeKravia

PUSHED_AT = APPROVED_AT + WINDOW + approval.PUSH_SETTLE
REGISTER = "/api/v2/invoice/register"


def pushed_then_approved_again(ws: Workspace, monkeypatch: pytest.MonkeyPatch, fake: FakeKravia) -> str:
    """Case acme-1001 pushed, its approval undone by an undo that read the case before the push committed, and
    approved again: approved, with its push done. The provider's reference."""
    setup_client(ws, monkeypatch, "kravia", fake.base_url)
    assert nightly(ws, CASE).exit_code == 0
    approve_in_workbench(ws)
    as_the_undo_read_it = ws.store.read(find_case, "acme-1001")
    assert push_at(ws, PUSHED_AT) == [] and statuses(ws) == {"1001": "pushed"}
    [ref] = [str(i) for i in fake.invoices]
    with monkeypatch.context() as m:  # the undo's read came before the push committed, its write after
        m.setattr(approval, "find_case", lambda _conn, _case_id: as_the_undo_read_it)
        approval.undo_approval(ws.store, "acme-1001", CASE, actor="kari", now=APPROVED_AT + timedelta(minutes=9))
    again = ws.cli("cases", "approve", "acme-1001", "--as-of", CASE.isoformat())
    assert again.exit_code == 0, again.output
    assert statuses(ws) == {"1001": "approved"}
    [submit] = ws.store.read(case_store.ops, "acme")
    assert submit.state == case_store.DONE and submit.provider_ref == ref
    return ref


def _case(ws: Workspace) -> Any:
    return ws.store.read(find_case, "acme-1001")


def test_a_case_approved_again_that_the_provider_has_is_recorded_pushed_and_never_sent_twice(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:  # no idempotency key: a second create is a second case
        ref = pushed_then_approved_again(ws, monkeypatch, fake)
        pushed = ws.cli("cases", "push", "--as-of", CASE.isoformat())
        assert pushed.exit_code == 0, pushed.output
        assert (
            f"case acme-1001: approved again, but it went to kravia before as {ref}: not sent twice, recorded as "
            "pushed (kravia: Active); if it should not be in collection: `arsync cases withdraw acme-1001 --note …`"
        ) in pushed.output
        assert len(fake.calls("POST", REGISTER)) == 1 and len(fake.invoices) == 1
        assert statuses(ws) == {"1001": "pushed"} and _case(ws).provider_ref == ref
        assert f"kravia has it already as {ref}" in _case(ws).note

        # Settled: the next runs neither send nor say it again, and the follow-up works on the case.
        assert push_at(ws, PUSHED_AT + timedelta(hours=1)) == []
        assert nightly(ws, CASE).exit_code == 0
        assert len(fake.calls("POST", REGISTER)) == 1 and statuses(ws) == {"1001": "pushed"}


def test_a_case_approved_again_that_the_provider_closed_is_recorded_closed(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        ref = pushed_then_approved_again(ws, monkeypatch, fake)
        fake.set_status(int(ref), "Closed", "Paid")
        [line] = push_at(ws, PUSHED_AT + timedelta(hours=1))
        assert line.startswith(f"case acme-1001: approved again, but it went to kravia before as {ref}: not sent")
        assert "(kravia: Closed)" in line
        assert len(fake.calls("POST", REGISTER)) == 1
        assert statuses(ws) == {"1001": "closed"}
        assert [str(e.status) for e in _case(ws).events][-2:] == ["pushed", "closed"]


def test_a_case_approved_again_that_the_provider_no_longer_knows_stays_approved_until_withdrawn(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        ref = pushed_then_approved_again(ws, monkeypatch, fake)
        del fake.invoices[int(ref)]  # gone at the provider: whether to claim again is a person's call
        told = (
            f"case acme-1001: approved again, but it went to kravia before as {ref}, which kravia no longer knows; "
            "not sent again (stays approved): check it at kravia; `arsync cases withdraw acme-1001 --note …` "
            "takes it off the push"
        )
        for hours in (1, 2):  # named every run while it stays approved, never sent
            assert push_at(ws, PUSHED_AT + timedelta(hours=hours)) == [told]
            assert fake.calls("POST", REGISTER)[1:] == [] and statuses(ws) == {"1001": "approved"}

        withdrawn = ws.cli("cases", "withdraw", "acme-1001", "--note", "Kravia lost it; claimed by hand")
        assert withdrawn.exit_code == 0, withdrawn.output
        assert withdrawn.stdout == (
            f"acme-1001: withdrawn here; it went to kravia before as {ref}: withdraw it there too if it is still open\n"
        )
        assert statuses(ws) == {"1001": "withdrawn"}
        assert push_at(ws, PUSHED_AT + timedelta(hours=3)) == []
        assert len(fake.calls("POST", REGISTER)) == 1


def test_a_case_approved_again_is_not_sent_while_the_provider_cannot_be_asked(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeKravia(token=KRAVIA_TOKEN) as fake:
        ref = pushed_then_approved_again(ws, monkeypatch, fake)
        fake.fail(Failure("status", route=f"/api/v2/invoice/{ref}/details", status=503, times=3))
        [line] = push_at(ws, PUSHED_AT + timedelta(hours=1))
        assert line.startswith(f"case acme-1001: approved again, but it went to kravia before as {ref}; not sent")
        assert "asked about next run" in line
        assert statuses(ws) == {"1001": "approved"} and len(fake.calls("POST", REGISTER)) == 1
        [line] = push_at(ws, PUSHED_AT + timedelta(hours=2))  # reachable again: recorded as pushed
        assert "not sent twice, recorded as pushed" in line
        assert statuses(ws) == {"1001": "pushed"} and len(fake.calls("POST", REGISTER)) == 1
