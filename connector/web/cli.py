"""``arsync serve`` and ``arsync users add/list``, named in the CLI package's ``COMMANDS``.

Nothing of the web extra is imported until a command runs, so ``arsync`` starts without it; a command
that needs it and does not find it says in one line how to install it (exit status 2).
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Protocol

import click

from connector.config import Settings
from connector.errors import EXIT_USAGE

# What `pip install -e ".[web]"` brings (pyproject's web extra), by import name.
WEB_EXTRA = ("starlette", "jinja2", "uvicorn", "argon2", "python_multipart")
_NEEDS_EXTRA = (
    "error: `arsync {command}` needs the web extra ({missing} is not installed): "
    'pip install -e ".[web]" in a clone of arsync (or pip install "arsync[web]")'
)


def require_web_extra(command: str) -> None:
    """Exit 2 with one line naming the install command when a package of the web extra is missing."""
    for name in WEB_EXTRA:
        try:
            importlib.import_module(name)
        except ImportError:
            click.echo(_NEEDS_EXTRA.format(command=command, missing=name), err=True)
            sys.exit(EXIT_USAGE)


class HasSettings(Protocol):  # the CLI's Env (connector.cli / connector.cli.common)
    @property
    def settings(self) -> Settings: ...


@click.command("serve")
@click.option("--host", metavar="ADDRESS", help="Listen on this address (default: [web] host, 127.0.0.1).")
@click.option(
    "--port", type=click.IntRange(1, 65535), metavar="PORT", help="Listen on this port (default: [web] port, 8765)."
)
@click.pass_obj
def serve(env: HasSettings, host: str | None, port: int | None) -> None:
    """The accountant's workbench in a browser: today's queue, clients and customers with the evidence,
    aging; approve cases, record disputes, agreements and exclusions."""
    require_web_extra("serve")
    from connector.web import serve as serving

    settings = env.settings
    try:
        serving.serve(settings, host or settings.web.host, port or settings.web.port, echo=click.echo)
    except serving.ServeRefused as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)


@click.group("users")
def users() -> None:
    """Workbench users (they live in the config file's [[web.users]] tables)."""


@users.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["viewer", "approver"]),
    default="viewer",
    show_default=True,
    help="approver may approve cases.",
)
@click.option(
    "--client", "client_ids", multiple=True, metavar="ID", help="Only this client (repeatable; default: all)."
)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.pass_obj
def users_add(env: HasSettings, name: str, role: str, client_ids: tuple[str, ...], password_stdin: bool) -> None:
    """Print the [[web.users]] table for a new user, with an argon2 hash of the password (never the
    password itself): append it to the config file and restart `arsync serve`."""
    require_web_extra("users add")
    from connector.web import users as web_users

    if client_ids:
        env.settings.select(client_ids)  # an unknown client id is a config error, like everywhere
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    try:
        snippet = web_users.user_snippet(name, role, password, client_ids)
    except web_users.UserRefused as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(snippet, nl=False)  # stdout holds only the TOML, so `>> arsync.toml` works


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (JSON on stdout).")
@click.pass_obj
def users_list(env: HasSettings, as_json: bool) -> None:
    """The workbench users in the config: name, role, the clients they may see (never the hash)."""
    web = env.settings.web
    if as_json:
        items = [
            {"name": u.name, "role": u.role, "clients": u.clients, "locale": u.locale or web.locale} for u in web.users
        ]
        click.echo(json.dumps({"items": items}, indent=2, ensure_ascii=False))
        return
    if not web.users:
        click.echo("No users: `arsync serve` listens on the loopback only, entered through the link it prints.")
    for u in web.users:
        clients = ", ".join(u.clients) if u.clients is not None else "every client"
        click.echo(f"{u.name}: {u.role}; {clients}; {u.locale or web.locale} numbers and dates")
