"""What every ``arsync`` command shares: the lazily loaded settings and store (``Env``), the shared
options, the exit statuses and the error handling.

The command line is the edge of the program: the clock is read here, once (``today``, the default
of ``--as-of``), and passed down as a date.

Errors: a config problem is one line per problem and exit status 2; an ``ArsyncError`` (a refused
request, a missing store, a client held by another run) is one line with its own status; anything
unexpected is one line and status 1 — the traceback only with ``-v``.
"""

from __future__ import annotations

import getpass
import logging
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from connector import config as config_mod
from connector import interrupt
from connector.cli import stores
from connector.cli.output import Problems, install_logging, is_terminal
from connector.config import ClientConfig, ConfigError, Settings
from connector.dunning import policy
from connector.errors import EXIT_CLIENT_FAILED, EXIT_USAGE, ArsyncError, Refused
from connector.reports.freshness import ClientStatus, client_status
from connector.reports.run import ClientReport
from connector.store import Store
from connector.store.files import unreadable_files
from connector.store.sync import sync_status

if TYPE_CHECKING:  # a command imports the pipeline when it runs one: a command that reads the store starts faster
    from connector import pipeline

EXIT_OK = 0  # all good
__all__ = ["EXIT_CLIENT_FAILED", "EXIT_OK", "EXIT_USAGE", "ClientReport", "Env"]

log = logging.getLogger("arsync.cli")


def today() -> date:
    """The one read of the clock: the day a command acts on unless ``--as-of`` says otherwise."""
    return date.today()


def actor() -> str:
    """Who a command acts for in the audit trail: ``cli:<login>`` (the workbench records its user's name)."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        login = "unknown"
    return f"cli:{login}"


class Env:
    """The config and store one command works with, opened on first use (``--help`` needs neither)."""

    def __init__(self, config_path: str | None, *, verbose: int = 0, quiet: bool = False):
        self.config_path = config_path
        self.verbose = verbose
        self.quiet = quiet
        self.problems = Problems()
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
        """The existing store; a missing one is refused with its path (only sync/reconcile/run create it;
        reconcile --no-sync does not)."""
        if self._store is None:
            self._store, _created = stores.open_store(self.settings.store.url, create=False)
        return self._store

    def writable_store(self) -> Store:
        """The store, created on the first run (and said so: a new store where one was expected means
        the state is elsewhere, or was lost)."""
        if self._store is None:
            url = self.settings.store.url
            self._store, created = stores.open_store(url, create=True)
            if created:
                click.echo(f"note: created a new store at {stores.where(url)}", err=True)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def say(self, text: str = "", **kwargs: Any) -> None:
        """A result line on stdout; nothing under --quiet (cron mails only problems)."""
        if not self.quiet:
            click.echo(text, **kwargs)


def check_policies(settings: Settings, as_of: date) -> None:
    """The dunning ladders must obey the law in force on the command's day (``config.load`` parses only);
    a ladder that breaks it is a ``ConfigError`` (exit status 2)."""
    policy.check_policies(settings, as_of)


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


def _quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    env = ctx.find_object(Env)
    if value and env is not None and not env.quiet:
        env.quiet = True
        install_logging(env.problems, verbose=env.verbose, quiet=True)
    return value


client_option = click.option(
    "--client", "client_ids", multiple=True, metavar="ID", help="Only this client (repeatable; default: all)."
)
one_client_option = click.option("--client", "client_opt", metavar="ID", help="The client (its id in the config).")
as_of_option = click.option(
    "--as-of", callback=_as_of, metavar="YYYY-MM-DD", help="Behave as if run on this day (default: today)."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output (JSON on stdout).")
quiet_option = click.option(
    "-q",
    "--quiet",
    is_flag=True,
    expose_value=False,
    callback=_quiet,
    help="Print only problems (warnings and errors on stderr): for cron.",
)
workers_option = click.option(
    "--workers",
    type=click.IntRange(1, 64),
    metavar="N",
    help="Clients fetched at once (default: [run] workers in the config, 8; 1 = one after another).",
)


def split_client(
    env: Env, client_opt: str | None, args: Sequence[str], names: Sequence[str], hint: str = ""
) -> list[str]:
    """``--client ID ARG…`` or the older ``ID ARG…``: the client first, then the command's own arguments.

    The positional form still works for a release and says so on stderr. ``hint``: added to the line
    that says --client is missing."""
    command = " ".join(["arsync", *click.get_current_context().command_path.split()[1:]])
    usage = f"{command} --client ID {' '.join(n.upper() for n in names)}".rstrip()
    if client_opt is not None:
        if len(args) != len(names):
            raise click.UsageError(f"expected {len(names)} argument(s): {usage}")
        return [client_opt, *args]
    if len(args) != len(names) + 1:
        raise click.UsageError(f"missing --client ID: {usage}{hint}")
    click.echo(
        f"warning: `{command} CLIENT …` is deprecated and goes away in the next release; use `{usage}`", err=True
    )
    return list(args)


class ArsyncGroup(click.Group):
    """Turns problems into one line each with the documented exit status, wherever they surface."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"config error: {problem}", err=True)
            ctx.exit(EXIT_USAGE)
        except ArsyncError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_status)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(128 + signal.SIGINT)
        except Exception as exc:
            env = ctx.find_object(Env)
            if env is not None and env.verbose:
                traceback.print_exc(file=sys.stderr)
            text = " ".join((str(exc) or exc.__class__.__name__).split())
            click.echo(f"error: {exc.__class__.__name__}: {text} (run with -v for the details)", err=True)
            ctx.exit(EXIT_CLIENT_FAILED)
        finally:
            env = ctx.find_object(Env)
            if env is not None:
                env.close()


def refuse(message: str) -> Refused:
    """``raise refuse("…")``: one line, exit status 2, nothing changed."""
    return Refused(message)


def output_file(value: str, option: str = "--output") -> Path:
    """The file a command is to write: its folder must exist (a typo in it must not create a tree of folders
    somewhere), and it must not be a folder itself; refused with one line otherwise, before any work."""
    path = Path(value).expanduser()
    if path.is_dir():
        raise refuse(f"{option}: {path} is a folder; name a file in it")
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist (make it first)"
        raise refuse(f"{option}: the folder {folder} {what}")
    return path


# ---- progress and stopping ----------------------------------------------------------------------


@contextmanager
def progress(env: Env, clients: Sequence[ClientConfig], label: str) -> Iterator[pipeline.Progress | None]:
    """A progress bar per client's stages on a terminal; nothing on a pipe or under --quiet."""
    if env.quiet or not is_terminal() or not clients:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(file=sys.stderr)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    # redrawn at each step, not by rich's refresh thread: with another thread running, a very large client's
    # folder and slices would not be read and decided by forked helpers (connector.forked)
    with Progress(*columns, console=console, transient=True, auto_refresh=False) as bar:
        task = bar.add_task(label, total=len(clients))

        def step(client_id: str, stage: str) -> None:
            if stage == "done":
                bar.advance(task)
            else:
                bar.update(task, description=f"{label}: {client_id} {stage}")
            bar.refresh()

        yield step


@contextmanager
def stoppable() -> Iterator[None]:
    """SIGINT/SIGTERM ask for a stop (``connector.interrupt``): the item in hand finishes, the command
    reports what was done and exits 130/143. A second Ctrl-C stops at once."""
    interrupt.reset()

    def ask(signum: int, _frame: FrameType | None) -> None:
        if interrupt.requested() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        interrupt.request(signum)
        click.echo(f"\nstopping after the item in hand ({signal.Signals(signum).name}) …", err=True)

    previous = {s: signal.signal(s, ask) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def stopped_status() -> int | None:
    """128 + the signal when a stop was asked for (130 SIGINT, 143 SIGTERM), else None."""
    signum = interrupt.signal_number()
    return 128 + signum if signum is not None else None


# ---- the end of a command -----------------------------------------------------------------------


def statuses(env: Env, reports: Sequence[ClientReport], as_of: date) -> list[ClientStatus]:
    """Every reported client's status: this run's errors and the store's sync state (failed, stale, never)."""
    out = []
    for r in reports:
        client = env.settings.client(r.client_id)
        sync = env.store.read(sync_status, r.client_id) if env._store is not None else {}
        unreadable = env.store.read(unreadable_files, r.client_id) if env._store is not None else []
        out.append(client_status(client, sync, as_of, r.errors, unreadable))
    return out


def finish(env: Env, reports: Sequence[ClientReport], *, interrupted_clients: Sequence[str] = ()) -> None:
    """Print every client's warnings and errors once; exit 1 when any client failed, 130/143 when stopped."""
    for r in reports:
        for w in r.warnings:
            env.problems.warning(f"client {r.client_id}: {w}")
        for e in r.errors:
            env.problems.error(f"client {r.client_id}: {e}")
    stopped = stopped_status()
    if stopped is not None:
        done = ", ".join(r.client_id for r in reports) or "none"
        left = ", ".join(interrupted_clients) or "none"
        click.echo(f"stopped by signal: clients done: {done}; not started: {left}", err=True)
        sys.exit(stopped)
    if any(not r.ok for r in reports):
        sys.exit(EXIT_CLIENT_FAILED)


Echo = Callable[[str], None]
