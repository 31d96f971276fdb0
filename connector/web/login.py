"""Log in and out. Users from ``[[web.users]]`` log in with name and password (throttled per name and per
address); a workbench on the loopback without users has one local user, who comes in through the
link ``arsync serve`` printed (its token is compared, never shown)."""

from __future__ import annotations

import functools

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from connector.store import audit
from connector.web.context import (
    address,
    cookie_name,
    field,
    form_post,
    is_secure,
    local_path,
    render,
    session_of,
    set_session_cookie,
    workbench,
)
from connector.web.sessions import Session, token_matches
from connector.web.users import verify_password

THROTTLED = "Too many failed log-ins: wait a quarter of an hour and try again."


def _logged_in(request: Request, old: Session | None, user_name: str, target: str) -> Response:
    wb = workbench(request)
    user = wb.local_user if wb.local_user and user_name == wb.local_user.name else wb.users[user_name.lower()][0]
    session = wb.sessions.log_in(old, user)
    wb.store.write(audit.record, audit.AuditEntry(wb.now(), user.name, "login", address=address(request)))
    response = RedirectResponse(local_path(target), status_code=303)
    set_session_cookie(request, response, session)
    return response


def login_page(request: Request) -> Response:
    wb = workbench(request)
    session = session_of(request)
    token = request.query_params.get("token")
    if wb.local_user is not None and token is not None:
        where = address(request)
        if wb.throttle.blocked(wb.local_user.name, where):
            return render(request, "login.html", {"error": THROTTLED}, session=session, status=429)
        if wb.local_token and token_matches(wb.local_token, token):
            wb.throttle.succeeded(wb.local_user.name)
            return _logged_in(request, session, wb.local_user.name, "/")  # the token leaves the address bar
        wb.throttle.failed(wb.local_user.name, where)
        return render(request, "login.html", {"error": "That log-in link is not valid."}, status=403)
    if session is not None and session.user is not None:
        return RedirectResponse(local_path(request.query_params.get("next")), status_code=303)
    session = session or wb.sessions.new()
    context = {"next": local_path(request.query_params.get("next")), "local": wb.local_user is not None}
    return render(request, "login.html", context, session=session)


async def _login(request: Request, session: Session, form: FormData) -> Response:
    wb = workbench(request)
    name, password, target = field(form, "name")[:128], form.get("password"), local_path(field(form, "next"))
    where = address(request)
    context = {"next": target, "name": name, "local": wb.local_user is not None}
    if wb.local_user is not None:
        return render(request, "login.html", {**context, "error": "Use the link `arsync serve` printed."}, status=403)
    if wb.throttle.blocked(name, where):
        await run_in_threadpool(
            wb.store.write, audit.record, audit.AuditEntry(wb.now(), name or "-", "login_throttled", address=where)
        )
        return render(request, "login.html", {**context, "error": THROTTLED}, session=session, status=429)
    entry = wb.users.get(name.lower())
    like = next(iter(wb.users.values()))[1]
    ok = isinstance(password, str) and await run_in_threadpool(
        functools.partial(verify_password, entry[1] if entry else None, password, like=like)
    )
    if not ok or entry is None:
        wb.throttle.failed(name, where)
        await run_in_threadpool(
            wb.store.write, audit.record, audit.AuditEntry(wb.now(), name or "-", "login_refused", address=where)
        )
        error = "Wrong user name or password."
        return render(request, "login.html", {**context, "error": error}, session=session, status=401)
    wb.throttle.succeeded(name)
    return await run_in_threadpool(_logged_in, request, session, entry[0].name, target)


async def _logout(request: Request, session: Session, _form: FormData) -> Response:
    wb = workbench(request)
    wb.sessions.drop(session.sid)
    if session.user is not None:
        entry = audit.AuditEntry(wb.now(), session.user.name, "logout", address=address(request))
        await run_in_threadpool(wb.store.write, audit.record, entry)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(cookie_name(request), path="/", secure=is_secure(request), httponly=True)
    return response


login = form_post(_login)
logout = form_post(_logout)
