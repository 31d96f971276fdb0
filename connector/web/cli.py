"""``arsync serve`` and ``arsync users add``, for the CLI package to register with ``add_command``.

Nothing of the web extra is imported until a command runs, so ``arsync`` starts without it.
"""

from __future__ import annotations

import sys
from typing import Protocol

import click

from connector.config import Settings

EXIT_USAGE = 2
_NEEDS_EXTRA = "`arsync {}` needs the web extra: pip install 'arsync[web]'"


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
    """The accountant's workbench in a browser: today's queue, clients, aging; approve cases."""
    try:
        from connector.web import serve as serving
    except ImportError:
        raise click.ClickException(_NEEDS_EXTRA.format("serve")) from None
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
    try:
        from connector.web import users as web_users
    except ImportError:
        raise click.ClickException(_NEEDS_EXTRA.format("users add")) from None
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
