"""The workbench application: routes, error pages, and the headers every response carries."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connector.config import Settings
from connector.store import Store
from connector.web import actions, calls, clients, letters, login, pages, quarantine, records
from connector.web.context import (
    BadRequest,
    Forbidden,
    LoginRequired,
    NotFound,
    Workbench,
    login_redirect,
    render,
    session_of,
)
from connector.web.sessions import LoginThrottle, Sessions
from connector.web.users import local_user, users_from

# Nothing but this site's own stylesheet, no script, no frames, forms only to this site.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class SecurityHeaders:
    """Headers on every response: the CSP, no sniffing, no framing, no referrer to elsewhere, and no
    caching of pages (they show receivables; a shared machine's browser cache must not keep them)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = CSP
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "same-origin"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                if not static:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _error(request: Request, status: int, title: str, message: str) -> Response:
    return render(
        request, "error.html", {"title": title, "message": message}, session=session_of(request), status=status
    )


async def _login_required(request: Request, _exc: Exception) -> Response:
    if request.method == "POST":  # a form from an ended session: to the log-in page, the form is lost
        return RedirectResponse("/login", status_code=303)
    return login_redirect(request)


async def _forbidden(request: Request, exc: Exception) -> Response:
    message = exc.message if isinstance(exc, Forbidden) else "You may not do this."
    return _error(request, 403, "Not allowed", message)


async def _not_found(request: Request, exc: Exception) -> Response:
    message = exc.message if isinstance(exc, NotFound) else "There is no such page."
    return _error(request, 404, "Not found", message)


async def _bad_request(request: Request, exc: Exception) -> Response:
    return _error(request, 400, "Bad request", exc.message if isinstance(exc, BadRequest) else "Bad request.")


async def _method_not_allowed(request: Request, _exc: Exception) -> Response:
    return _error(request, 405, "Not allowed", "This address does not take that kind of request.")


async def _server_error(request: Request, _exc: Exception) -> Response:
    # No traceback on the page: it may name paths or data; the log has it.
    return Response("Something went wrong; the server log says what.", status_code=500, media_type="text/plain")


def templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("connector.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return Jinja2Templates(env=env)


ROUTES = [
    Route("/", pages.today, name="today"),
    Route("/login", login.login_page, methods=["GET"], name="login"),
    Route("/login", login.login, methods=["POST"]),
    Route("/logout", login.logout, methods=["POST"], name="logout"),
    Route("/clients/{client_id}", clients.client_page, name="client"),
    Route("/clients/{client_id}/letters/{letter_id}.pdf", letters.letter_pdf, name="letter_pdf"),
    Route("/clients/{client_id}/statements/{customer_id:path}", letters.statement_pdf, name="statement_pdf"),
    Route("/clients/{client_id}/customers/{customer_id:path}", clients.customer_page, name="customer"),
    Route("/reports/aging", pages.aging_overview, name="aging"),
    Route("/reports/aging.csv", pages.aging_csv, name="aging_csv"),
    Route("/reports/aging/{client_id}", pages.aging_client, name="aging_client"),
    Route("/reports/aging/{client_id}/{customer_id:path}", pages.aging_customer, name="aging_customer"),
    Route("/activity", pages.activity, name="activity"),
    Route("/cases/approve", actions.approve, methods=["POST"], name="approve"),
    Route("/cases/reject", actions.reject, methods=["POST"], name="reject"),
    Route("/cases/undo", actions.undo, methods=["POST"], name="undo"),
    Route("/disputes/open", records.dispute_open, methods=["POST"], name="dispute_open"),
    Route("/disputes/resolve", records.dispute_resolve, methods=["POST"], name="dispute_resolve"),
    Route("/agreements/add", records.agreement_add, methods=["POST"], name="agreement_add"),
    Route("/agreements/remove", records.agreement_remove, methods=["POST"], name="agreement_remove"),
    Route("/exclusions/add", records.exclusion_add, methods=["POST"], name="exclusion_add"),
    Route("/exclusions/remove", records.exclusion_remove, methods=["POST"], name="exclusion_remove"),
    Route("/files/quarantine", quarantine.file_quarantine, methods=["POST"], name="file_quarantine"),
    Route("/files/release", quarantine.file_release, methods=["POST"], name="file_release"),
    Route("/calls/log", calls.call_log, methods=["POST"], name="call_log"),
    Route("/letters/void", letters.letter_void, methods=["POST"], name="letter_void"),
    Mount("/static", StaticFiles(packages=[("connector.web", "static")]), name="static"),
]


def create_app(
    settings: Settings,
    store: Store,
    *,
    local_token: str | None = None,
    clock: Callable[[], datetime] | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> Starlette:
    """The workbench over ``store``. Without ``[[web.users]]`` there is one local user, who logs in with
    ``local_token`` (``serve`` refuses that mode on any address but the loopback)."""
    web = settings.web
    bench = Workbench(
        settings=settings,
        store=store,
        clock=clock or (lambda: datetime.now(UTC)),
        sessions=Sessions(web.session_idle_minutes * 60, web.session_max_hours * 3600, monotonic),
        throttle=LoginThrottle(clock=monotonic),
        users=users_from(web),
        local_user=None if web.users else local_user(web),
        local_token=None if web.users else local_token,
        templates=templates(),
    )
    handlers: dict[Any, Callable[[Request, Exception], Any]] = {
        LoginRequired: _login_required,
        Forbidden: _forbidden,
        NotFound: _not_found,
        BadRequest: _bad_request,
        404: _not_found,
        405: _method_not_allowed,
        500: _server_error,
    }
    middleware = [Middleware(SecurityHeaders)]
    if web.trusted_proxies:
        # X-Forwarded-For/-Proto are believed from these addresses only (never from anyone by default:
        # a forged address would dodge the per-address log-in limit, a forged https would not make it so).
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        middleware.insert(0, Middleware(ProxyHeadersMiddleware, trusted_hosts=list(web.trusted_proxies)))
    app = Starlette(routes=ROUTES, exception_handlers=handlers, middleware=middleware)
    app.state.workbench = bench
    return app
