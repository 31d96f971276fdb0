"""What every ``arsync`` command shares: the lazily loaded settings and store (``Env``), the shared
options, the exit statuses and the error handling.

The command line is the edge of the program: the clock is read here, once (``today``, the default
of ``--as-of``), and passed down as a date.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

import click

from connector import config as config_mod
from connector import pipeline
from connector.clock import utc_now
from connector.config import ConfigError, Settings
from connector.reports.run import ClientReport
from connector.store import Store, StoreUnavailable

EXIT_OK = 0  # all good
EXIT_CLIENT_FAILED = 1  # a client failed (the others still ran)
EXIT_USAGE = 2  # usage or config error


def today() -> date:
    """The one read of the clock: the day a command acts on unless ``--as-of`` says otherwise."""
    return date.today()


class Env:
    """The config and store one command works with, opened on first use (``--help`` needs neither)."""

    def __init__(self, config_path: str | None):
        self.config_path = config_path
        self.as_of: date | None = None  # the command's --as-of (set while its options are parsed)
        self._settings: Settings | None = None
        self._store: Store | None = None

    @property
    def day(self) -> date:
        """The day the command acts on: its --as-of, else today."""
        return self.as_of if self.as_of is not None else today()

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            settings = config_mod.load(self.config_path)
            check_policies(settings, self.day)
            self._settings = settings
        return self._settings

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.settings.store.url, clock=utc_now)  # the run's one clock
        return self._store


def check_policies(settings: Settings, as_of: date) -> None:
    """The dunning ladders must obey the law in force on the command's day (``config.load`` parses only);
    a ladder that breaks it is a ``ConfigError`` (exit status 2)."""
    pipeline.check_policies(settings, as_of)


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date (YYYY-MM-DD)") from None


def optional_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    """Callback for a date option without a default."""
    return None if value is None else parse_date(value)


def _as_of(ctx: click.Context, _param: click.Parameter, value: str | None) -> date:
    as_of = today() if value is None else parse_date(value)
    env = ctx.find_object(Env)
    if env is not None:
        env.as_of = as_of
    return as_of


client_option = click.option(
    "--client", "client_ids", multiple=True, metavar="ID", help="Only this client (repeatable; default: all)."
)
as_of_option = click.option(
    "--as-of", callback=_as_of, metavar="YYYY-MM-DD", help="Behave as if run on this day (default: today)."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
workers_option = click.option(
    "--workers",
    type=click.IntRange(1, 64),
    metavar="N",
    help="Clients fetched at once (default: [run] workers in the config, 8; 1 = one after another).",
)


class ArsyncGroup(click.Group):
    """Turns configuration problems into one line each and exit status 2, wherever they surface."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"config error: {problem}", err=True)
            ctx.exit(EXIT_USAGE)
        except StoreUnavailable as exc:  # one line, no traceback: the [store] url or the server to fix
            click.echo(f"store error: {exc}", err=True)
            ctx.exit(EXIT_USAGE)


@contextmanager
def progress(total: int, label: str) -> Iterator[Callable[[str], None] | None]:
    """A progress bar on a terminal; silent under cron (no TTY)."""
    if sys.stderr.isatty() and total > 1:
        with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
            yield lambda _client: bar.update(1)
    else:
        yield None


def finish(reports: Sequence[ClientReport]) -> None:
    """Print every client's warnings and errors; exit 1 when any client failed."""
    for r in reports:
        for w in r.warnings:
            click.echo(f"warning: client {r.client_id}: {w}", err=True)
        for e in r.errors:
            click.echo(f"error: client {r.client_id}: {e}", err=True)
    if any(not r.ok for r in reports):
        sys.exit(EXIT_CLIENT_FAILED)
