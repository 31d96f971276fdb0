"""The actions (POST, each behind ``form_post``: CSRF-checked, same-site only). Each calls the service the
command line calls and is recorded with the user and time by that service; then back to the page."""

from __future__ import annotations

from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from connector import formats
from connector.collection import approval
from connector.model import Case, CaseStatus
from connector.store.cases import load_cases
from connector.web.context import (
    Forbidden,
    LoginRequired,
    NotFound,
    address,
    field,
    form_post,
    local_path,
    require_approver,
    workbench,
)
from connector.web.sessions import Session
from connector.web.users import User


def _user(session: Session) -> User:
    if session.user is None:
        raise LoginRequired()
    return session.user


def _cases(request: Request, user: User, form: FormData) -> list[Case]:
    """The cases the form names, each one this user may see (403 otherwise, before anything is written)."""
    ids = [v.strip() for v in form.getlist("case_id") if isinstance(v, str) and v.strip()]
    if not ids:
        raise NotFound("No case was named.")
    known = {c.case_id: c for c in workbench(request).store.read(load_cases)}
    out = []
    for case_id in ids:
        case = known.get(case_id)
        if case is None and user.clients is None:
            raise NotFound(f"There is no case {case_id}.")
        if case is None or not user.may_see(case.client_id):
            raise Forbidden(f"You may not act on case {case_id}.")
        out.append(case)
    return out


def _back(form: FormData) -> RedirectResponse:
    return RedirectResponse(local_path(field(form, "back")), status_code=303)


def _decide(request: Request, session: Session, form: FormData, status: CaseStatus) -> Response:
    wb = workbench(request)
    user = _user(session)
    require_approver(user)
    cases = _cases(request, user, form)
    if status is CaseStatus.APPROVED:
        note = f"approved in the workbench by {user.name}"
    else:
        reason = field(form, "note")
        if not reason:
            session.flash.append(("error", "A rejection needs a reason: write it in the box beside Reject."))
            return _back(form)
        note = f"{reason} (rejected in the workbench by {user.name})"
    try:
        approval.decide_cases(
            wb.store,
            [c.case_id for c in cases],
            status,
            note,
            wb.today(),
            actor=user.name,
            now=wb.now(),
            undo_window=wb.undo_window if status is CaseStatus.APPROVED else timedelta(0),
            address=address(request),
        )
    except approval.TransitionRefused as exc:
        session.flash.append(("error", f"Nothing was recorded: {exc}."))
        return _back(form)
    for case in cases:
        if status is CaseStatus.APPROVED and wb.undo_window:
            until = formats.moment(wb.now() + wb.undo_window, user.locale)
            session.flash.append(
                ("ok", f"Case {case.case_id} approved. It goes to collection after {until}; undo until then.")
            )
        else:
            session.flash.append(("ok", f"Case {case.case_id} {status}."))
    return _back(form)


async def _approve(request: Request, session: Session, form: FormData) -> Response:
    return await run_in_threadpool(_decide, request, session, form, CaseStatus.APPROVED)


async def _reject(request: Request, session: Session, form: FormData) -> Response:
    return await run_in_threadpool(_decide, request, session, form, CaseStatus.REJECTED)


def _undo_sync(request: Request, session: Session, form: FormData) -> Response:
    wb = workbench(request)
    user = _user(session)
    require_approver(user)
    for case in _cases(request, user, form):
        try:
            approval.undo_approval(
                wb.store, case.case_id, wb.today(), actor=user.name, now=wb.now(), address=address(request)
            )
        except approval.TransitionRefused as exc:
            session.flash.append(("error", f"Nothing was recorded: {exc}."))
            continue
        session.flash.append(("ok", f"Approval of case {case.case_id} undone: it awaits approval again."))
    return _back(form)


async def _undo(request: Request, session: Session, form: FormData) -> Response:
    return await run_in_threadpool(_undo_sync, request, session, form)


approve = form_post(_approve)
reject = form_post(_reject)
undo = form_post(_undo)
