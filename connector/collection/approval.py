"""Approving, rejecting and reopening collection cases, and the undo window before an approved case is pushed.

One code path for ``arsync cases approve/reject`` and the workbench: only a proposed case can be
approved or rejected; every case named is checked before anything is written, and all of them are
recorded in one transaction together with an audit entry naming who did it.

The undo window (the providers' draft queues work the same way): an approval may carry
``push_after``; until then the person who approved can take it back (:func:`undo_approval`), and the
push leaves the case alone until a little after it (:func:`may_push`, for the push step to call).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from connector.model import Case, CaseStatus
from connector.store import Store, audit
from connector.store.cases import DONE, PENDING, add_case_event, find_case, get_op

# The push waits this much beyond push_after: an undo committed in the window's last instant is then
# always seen by a push that read the case after the window (both read the same clock, not atomically).
PUSH_SETTLE = timedelta(minutes=1)

_VERBS = {CaseStatus.APPROVED: "approve", CaseStatus.REJECTED: "reject"}


class TransitionRefused(Exception):
    """The request names no case, or a case not in a state that allows it; one line, nothing written."""


def decide_cases(
    store: Store,
    case_ids: Iterable[str],
    status: CaseStatus,
    note: str,
    as_of: date,
    *,
    actor: str,
    now: datetime,
    undo_window: timedelta = timedelta(0),
    address: str | None = None,
) -> list[Case]:
    """Approve or reject proposed cases; returns them as they were before. An approval with an
    ``undo_window`` records ``push_after = now + undo_window``."""
    if status not in _VERBS:
        raise ValueError(f"cases are decided as approved or rejected, not {status}")
    push_after = now + undo_window if status is CaseStatus.APPROVED and undo_window > timedelta(0) else None
    with store.transaction() as conn:  # every case or none: read, checked and decided in one transaction
        cases = []
        for case_id in dict.fromkeys(case_ids):
            case = find_case(conn, case_id)
            if case is None:
                raise TransitionRefused(f"no case '{case_id}'")
            if case.status is not CaseStatus.PROPOSED:
                raise TransitionRefused(f"case '{case_id}' is {case.status}; only proposed cases can be {status}")
            cases.append(case)
        for case in cases:
            add_case_event(conn, case.client_id, case.case_id, status, as_of, note, at=now, push_after=push_after)
            detail = note if push_after is None else f"{note} (push after {push_after.isoformat(timespec='seconds')})"
            audit.record(
                conn,
                audit.AuditEntry(now, actor, f"case.{_VERBS[status]}", case.client_id, case.case_id, detail, address),
            )
    return cases


def undo_approval(
    store: Store, case_id: str, as_of: date, *, actor: str, now: datetime, address: str | None = None
) -> Case:
    """Take an approval back while its window is open: the case is proposed again (a new event; the
    approval stays in the history)."""
    note = f"approval undone by {actor}"
    with store.transaction() as conn:  # read, checked and undone in one transaction
        case = find_case(conn, case_id)
        if case is None:
            raise TransitionRefused(f"no case '{case_id}'")
        push_after = approval_window(case)
        if push_after is None:
            raise TransitionRefused(
                f"case '{case_id}' is {case.status}; only an approval with an undo window can be undone"
            )
        if not undo_open(push_after, now):
            raise TransitionRefused(
                f"the undo window of case '{case_id}' closed at {push_after.isoformat(timespec='seconds')}; "
                "withdraw the case instead"
            )
        add_case_event(conn, case.client_id, case.case_id, CaseStatus.PROPOSED, as_of, note, at=now)
        audit.record(conn, audit.AuditEntry(now, actor, "case.undo", case.client_id, case.case_id, note, address))
    return case


def reopen_case(
    store: Store, case_id: str, note: str, as_of: date, *, actor: str, now: datetime, address: str | None = None
) -> Case:
    """A rejected case, or one withdrawn before it reached the provider, proposed again (the way out of the
    ``excluded`` hold it puts on its invoice): it waits for an approval like a new one, and the push re-checks it
    against the facts of the day.

    A case that reached the provider is never sent to it again by arsync, reopened or not: a second create
    could be a second claim against the debtor (the withdrawal may not have reached the provider), and the
    provider's lookups by the case's reference would find the old case. Refused, with what to do instead."""
    with store.transaction() as conn:
        case = find_case(conn, case_id)
        if case is None:
            raise TransitionRefused(f"no case '{case_id}'")
        if case.status not in (CaseStatus.REJECTED, CaseStatus.WITHDRAWN):
            raise TransitionRefused(
                f"case '{case_id}' is {case.status}; only a rejected or withdrawn case can be reopened"
            )
        submit = get_op(conn, case.client_id, f"{case_id}|submit")
        if case.provider_ref or (submit is not None and submit.state in (DONE, PENDING)):
            where = ", ".join(x for x in (submit.provider if submit else "", case.provider_ref or "") if x)
            raise TransitionRefused(
                f"case '{case_id}' reached (or may have reached) the provider{f' ({where})' if where else ''} "
                f"before it was {case.status}; arsync never sends a case twice: to collect the invoice after all, "
                "register the claim again in the provider's portal"
            )
        if as_of < case.events[-1].on:
            raise TransitionRefused(
                f"case '{case_id}' was {case.status} on {case.events[-1].on.isoformat()}: it cannot be reopened on "
                f"{as_of.isoformat()} (check --as-of)"
            )
        detail = f"reopened by {actor}: {note}"
        add_case_event(conn, case.client_id, case_id, CaseStatus.PROPOSED, as_of, detail, at=now)
        audit.record(conn, audit.AuditEntry(now, actor, "case.reopen", case.client_id, case_id, note, address))
    return case


# ---- the window (pure) --------------------------------------------------------------------------


def approval_window(case: Case) -> datetime | None:
    """``push_after`` of the approval the case is in, or None (not approved, or approved without a window)."""
    if case.status is not CaseStatus.APPROVED or not case.events:
        return None
    return case.events[-1].push_after


def undo_open(push_after: datetime | None, now: datetime) -> bool:
    return push_after is not None and now < push_after


def may_push(case: Case, now: datetime) -> bool:
    """False while an approved case is inside its undo window (and the settle minute after it): the push
    step (``actions.collection.push_approved``) leaves it approved for a later run."""
    push_after = approval_window(case)
    return push_after is None or now >= push_after + PUSH_SETTLE


def push_wait(case: Case, now: datetime) -> str | None:
    """Why the push leaves this approved case for now (None: it may go), for the run report."""
    if may_push(case, now):
        return None
    push_after = approval_window(case)
    assert push_after is not None
    goes = push_after + PUSH_SETTLE
    if goes.second or goes.microsecond:  # to the minute, never earlier than it really is
        goes = goes.replace(second=0, microsecond=0) + timedelta(minutes=1)
    when = goes.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"approved with an undo window; it goes to collection from {when}"
