"""What every request goes through: its session and user, the checks (logged in, may see this client,
may approve, CSRF on every POST), and rendering a page with the user's number format."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from connector import formats
from connector.config import ClientConfig, Settings
from connector.store import Store
from connector.web.sessions import LoginThrottle, Session, Sessions, token_matches
from connector.web.users import User

SESSION_COOKIE = "arsync_session"
SECURE_SESSION_COOKIE = "__Host-arsync_session"  # the __Host- prefix: Secure, Path=/, no Domain, by the browser's rule
CSRF_FIELD = "csrf_token"


@dataclass
class Workbench:
    """The app's shared state (``app.state.workbench``)."""

    settings: Settings
    store: Store
    clock: Callable[[], datetime]  # now, timezone-aware: as-of days and the times recorded with actions
    sessions: Sessions
    throttle: LoginThrottle
    users: dict[str, tuple[User, str]]  # lower-cased name → (user, password hash)
    local_user: User | None  # set when no users are configured (loopback only)
    local_token: str | None  # the log-in link's token printed by `arsync serve` in that case
    templates: Jinja2Templates

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.clock().astimezone().date()

    @property
    def undo_window(self) -> timedelta:
        return timedelta(minutes=self.settings.web.undo_minutes)

    def clients(self, user: User) -> list[ClientConfig]:
        return [c for c in self.settings.clients if user.may_see(c.id)]


class LoginRequired(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, message: str = "You may not see this."):
        super().__init__(message)
        self.message = message


class NotFound(Exception):
    def __init__(self, message: str = "There is nothing here."):
        super().__init__(message)
        self.message = message


class BadRequest(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def workbench(request: Request) -> Workbench:
    wb: Workbench = request.app.state.workbench
    return wb


def address(request: Request) -> str:
    """The client's address, as the trusted proxy (if any) reported it."""
    return request.client.host if request.client else "unknown"


def is_secure(request: Request) -> bool:
    return workbench(request).settings.web.secure_cookies or request.url.scheme == "https"


def cookie_name(request: Request) -> str:
    return SECURE_SESSION_COOKIE if is_secure(request) else SESSION_COOKIE


def set_session_cookie(request: Request, response: Response, session: Session) -> None:
    response.set_cookie(
        cookie_name(request), session.sid, httponly=True, samesite="lax", secure=is_secure(request), path="/"
    )


def session_of(request: Request) -> Session | None:
    return workbench(request).sessions.get(request.cookies.get(cookie_name(request)))


def require_user(request: Request) -> tuple[Session, User]:
    session = session_of(request)
    if session is None or session.user is None:
        raise LoginRequired()
    return session, session.user


def require_client(request: Request, user: User, client_id: str) -> ClientConfig:
    """The client, if this user may see it: 403 otherwise (and for an unknown id when the user is limited
    to some clients, so ids of other firms' clients cannot be probed); 404 for an unknown id otherwise."""
    if not user.may_see(client_id):
        raise Forbidden(f"You may not see client {client_id}.")
    for client in workbench(request).settings.clients:
        if client.id == client_id:
            return client
    raise NotFound(f"There is no client {client_id}.")


def require_approver(user: User) -> None:
    if not user.may_approve:
        raise Forbidden("Only an approver may do this.")


def local_path(value: str | None, default: str = "/") -> str:
    """A redirect target from a form or query: a path on this site only (never //host or a scheme)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(local_path(target))}", status_code=303)


def as_of_param(request: Request) -> date:
    value = request.query_params.get("as_of")
    if not value:
        return workbench(request).today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"'{value}' is not a date (YYYY-MM-DD).") from None


# ---- POST: every form is checked ------------------------------------------------------------------

FormHandler = Callable[[Request, Session, FormData], Awaitable[Response]]


def _cross_site(request: Request) -> bool:
    """A browser says where a request came from; a form posted from another site is refused outright."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return urlsplit(origin).netloc != request.headers.get("host", "")
    return False


def form_post(handler: FormHandler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a POST endpoint: the form must carry its session's CSRF token and not come from another site."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        if _cross_site(request):
            raise Forbidden("This form was sent from another site.")
        form = await request.form(max_files=0, max_fields=50)
        session = session_of(request)
        given = form.get(CSRF_FIELD)
        if session is None or not token_matches(session.csrf, given if isinstance(given, str) else None):
            raise Forbidden("This form has expired or did not come from this workbench: reload the page and try again.")
        return await handler(request, session, form)

    endpoint.csrf_checked = True  # type: ignore[attr-defined]  # a test asserts every POST route has it
    return endpoint


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


# ---- rendering ------------------------------------------------------------------------------------


def render(
    request: Request, template: str, context: dict[str, Any], *, session: Session | None = None, status: int = 200
) -> Response:
    """A page with the user's formats; the session's one-time messages are shown and dropped."""
    wb = workbench(request)
    user = session.user if session else None
    locale = user.locale if user else wb.settings.web.locale
    flash = list(session.flash) if session else []
    if session:
        session.flash.clear()
    base = {
        "user": user,
        "csrf_token": session.csrf if session else "",
        "flash": flash,
        "path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "money": lambda value, currency: formats.money(value, currency, locale),
        "num": lambda value: formats.amount(value, locale),
        "day": lambda value: formats.day(value, locale),
        "moment": lambda value: formats.moment(value, locale),
        "today": wb.today(),
    }
    response = wb.templates.TemplateResponse(request, template, {**base, **context}, status_code=status)
    if session is not None:
        set_session_cookie(request, response, session)
    return response
