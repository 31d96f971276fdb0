"""``arsync serve``: check where it may listen, open the store, run the app under uvicorn."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from connector.config import Settings, WebConfig
from connector.store import Store


class ServeRefused(Exception):
    """The workbench will not start as asked; one line saying why and what to do."""


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def check_bind(host: str, web: WebConfig) -> None:
    if not web.users and not is_loopback(host):
        raise ServeRefused(
            f"refusing to listen on {host}: the config has no [[web.users]], so anyone who can reach that "
            "address would get in; add users (`arsync users add NAME`) or listen on 127.0.0.1"
        )


def open_store(url: str) -> Store:
    """The existing store; a missing SQLite file is refused rather than created empty (the pages would
    show no receivables where the truth is "wrong path")."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(str(parsed.database))
        if not path.is_file():
            raise ServeRefused(f"no store at {path}: run `arsync sync` or `arsync run` first, or check [store] url")
    return Store(url)


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def serve(settings: Settings, host: str, port: int, *, echo: Callable[[str], None] = print) -> None:
    import uvicorn

    from connector.web.app import create_app

    check_bind(host, settings.web)
    store = open_store(settings.store.url)
    token = None if settings.web.users else secrets.token_urlsafe(24)
    app = create_app(settings, store, local_token=token)
    base = f"http://{url_host(host)}:{port}"
    echo(f"arsync workbench on {base}/ (Ctrl-C stops it)")
    if token is not None:
        # Shown here only, on the terminal of whoever started it: the pages never show it.
        echo(f"no users configured: log in through {base}/login?token={token}")
    if not is_loopback(host) and not (settings.web.secure_cookies or settings.web.trusted_proxies):
        echo(
            "warning: listening beyond this machine without TLS: passwords and cookies cross the network "
            "in clear; put a TLS proxy in front (and set [web] trusted_proxies)"
        )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=False,  # X-Forwarded-* are believed only from [web] trusted_proxies (in the app)
        server_header=False,
        access_log=False,  # the log-in link's token is in a query string
        log_level="info",
    )
    try:
        uvicorn.Server(config).run()
    finally:
        store.close()
