"""Approving and rejecting cases (the one path for the CLI and the workbench) and the undo window."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from connector.collection import approval
from connector.model import Case, CaseEvent, CaseStatus
from connector.store import Store, audit
from connector.store.cases import find_case, propose_case

DAY = date(2026, 8, 1)
NOW = datetime(2026, 8, 1, 10, 0, tzinfo=UTC)


def a_case(case_id: str, client_id: str = "acme") -> Case:
    return Case(
        case_id, client_id, case_id.split("-")[-1], "c1", "NOK", Decimal("500.00"), Decimal("500.00"),
        CaseStatus.PROPOSED, DAY, "proposed by the nightly run",
    )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path}/arsync.db")
    with store.transaction() as conn:
        for case in (a_case("acme-1"), a_case("acme-2"), a_case("beta-3", "beta")):
            propose_case(conn, case, at=store.now())
    return store


def status(store: Store, case_id: str) -> CaseStatus:
    case = store.read(find_case, case_id)
    assert case is not None
    return case.status


def test_an_approval_with_a_window_records_push_after_and_an_audit_entry(store: Store) -> None:
    approval.decide_cases(
        store, ["acme-1", "beta-3"], CaseStatus.APPROVED, "ok", DAY,
        actor="kari", now=NOW, undo_window=timedelta(minutes=10), address="127.0.0.1",
    )  # fmt: skip
    for case_id in ("acme-1", "beta-3"):
        case = store.read(find_case, case_id)
        assert case is not None and case.status is CaseStatus.APPROVED
        assert case.events[-1].push_after == NOW + timedelta(minutes=10)
    entries = store.read(audit.entries)
    assert [(e.actor, e.action, e.client_id, e.subject, e.at) for e in entries] == [
        ("kari", "case.approve", "beta", "beta-3", NOW),
        ("kari", "case.approve", "acme", "acme-1", NOW),
    ]
    assert all(e.address == "127.0.0.1" and "push after 2026-08-01T10:10:00+00:00" in e.detail for e in entries)


def test_nothing_is_recorded_when_one_named_case_cannot_be_decided(store: Store) -> None:
    approval.decide_cases(store, ["acme-2"], CaseStatus.REJECTED, "paid in cash", DAY, actor="cli:kari", now=NOW)
    with pytest.raises(approval.TransitionRefused, match="case 'acme-2' is rejected; only proposed cases"):
        approval.decide_cases(store, ["acme-1", "acme-2"], CaseStatus.APPROVED, "ok", DAY, actor="kari", now=NOW)
    with pytest.raises(approval.TransitionRefused, match="no case 'acme-9'"):
        approval.decide_cases(store, ["acme-1", "acme-9"], CaseStatus.APPROVED, "ok", DAY, actor="kari", now=NOW)
    assert status(store, "acme-1") is CaseStatus.PROPOSED
    assert [e.action for e in store.read(audit.entries)] == ["case.reject"]
    with pytest.raises(ValueError):
        approval.decide_cases(store, ["acme-1"], CaseStatus.PUSHED, "x", DAY, actor="kari", now=NOW)


def test_an_approval_without_a_window_can_be_pushed_at_once_and_not_undone(store: Store) -> None:
    approval.decide_cases(store, ["acme-1"], CaseStatus.APPROVED, "ok", DAY, actor="cli:kari", now=NOW)
    case = store.read(find_case, "acme-1")
    assert case is not None and case.events[-1].push_after is None
    assert approval.may_push(case, NOW)
    with pytest.raises(approval.TransitionRefused, match="only an approval with an undo window"):
        approval.undo_approval(store, "acme-1", DAY, actor="kari", now=NOW)


def test_undo_inside_the_window_makes_the_case_proposed_again_and_keeps_the_history(store: Store) -> None:
    window = timedelta(minutes=10)
    approval.decide_cases(store, ["acme-1"], CaseStatus.APPROVED, "ok", DAY, actor="kari", now=NOW, undo_window=window)
    approval.undo_approval(store, "acme-1", DAY, actor="kari", now=NOW + timedelta(minutes=5))
    case = store.read(find_case, "acme-1")
    assert case is not None
    assert [e.status for e in case.events] == [CaseStatus.PROPOSED, CaseStatus.APPROVED, CaseStatus.PROPOSED]
    assert case.events[-1].note == "approval undone by kari"
    assert [e.action for e in store.read(audit.entries)] == ["case.undo", "case.approve"]

    approval.decide_cases(store, ["acme-1"], CaseStatus.APPROVED, "ok", DAY, actor="kari", now=NOW, undo_window=window)
    with pytest.raises(approval.TransitionRefused, match="closed at 2026-08-01T10:10:00"):
        approval.undo_approval(store, "acme-1", DAY, actor="kari", now=NOW + window)
    assert status(store, "acme-1") is CaseStatus.APPROVED


def approved(push_after: datetime | None) -> Case:
    events = (
        CaseEvent("acme-1", CaseStatus.PROPOSED, DAY),
        CaseEvent("acme-1", CaseStatus.APPROVED, DAY, push_after=push_after),
    )
    return Case(
        "acme-1", "acme", "1", "c1", "NOK", Decimal("1.00"), Decimal("1.00"), CaseStatus.APPROVED, DAY, events=events
    )


def test_the_push_waits_for_the_window_and_a_settle_minute_after_it() -> None:
    until = NOW + timedelta(minutes=10)
    case = approved(until)
    assert approval.undo_open(until, until - timedelta(seconds=1))
    assert not approval.undo_open(until, until)
    assert not approval.may_push(case, until - timedelta(seconds=1))
    assert not approval.may_push(case, until)  # the undo window has closed, the settle minute has not passed
    assert not approval.may_push(case, until + approval.PUSH_SETTLE - timedelta(microseconds=1))
    assert approval.may_push(case, until + approval.PUSH_SETTLE)
    assert approval.may_push(approved(None), NOW)
    assert approval.approval_window(approved(until)) == until
