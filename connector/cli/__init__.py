"""The ``arsync`` command line: parse arguments, call the pipeline or the store, print.

``main`` is the console script. Each command group lives in its own module, named here in ``COMMANDS``
and imported when it runs; shared options, ``Env`` and the exit statuses are in ``common``.

Exit status: 0 all good, 1 any client failed (the others still ran), 2 usage or config error.
"""

from __future__ import annotations

import importlib

import click

from connector.cli.common import ArsyncGroup, Env
from connector.cli.output import install_logging

# Every command, by name: (module, attribute). A command's module is imported when the command runs (or
# ``--help`` lists it): importing all of them took longer than most commands' own work.
COMMANDS: dict[str, tuple[str, str]] = {
    "sync": ("connector.cli.run", "sync"),
    "reconcile": ("connector.cli.run", "reconcile"),
    "run": ("connector.cli.run", "run"),
    "cases": ("connector.cli.cases", "cases"),
    "disputes": ("connector.cli.disputes", "disputes"),
    "agreements": ("connector.cli.disputes", "agreements"),
    "exclude": ("connector.cli.disputes", "exclude"),
    "report": ("connector.cli.reports", "report"),
    "check": ("connector.cli.check", "check"),
    "credit": ("connector.cli.credit", "credit"),
    "validate": ("connector.cli.validate", "validate"),
    "explain": ("connector.cli.explain", "explain"),
    "files": ("connector.cli.files", "files"),
    "invoices": ("connector.cli.invoices", "invoices"),
    "calls": ("connector.cli.calls", "calls"),
    "letters": ("connector.cli.letters", "letters"),
    "statement": ("connector.cli.letters", "statement"),
    "worker": ("connector.cli.queue", "worker"),
    "runs": ("connector.cli.queue", "runs"),
    "serve": ("connector.web.cli", "serve"),  # imports nothing of the web extra until it runs
    "users": ("connector.web.cli", "users"),
}


class _Commands(ArsyncGroup):
    """The top-level group: each command's module is imported on first use (``COMMANDS``)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        no_such = getattr(click.exceptions, "NoSuchCommand", None)  # click >= 8.2
        if name and name not in COMMANDS and not name.startswith("-") and no_such and not ctx.resilient_parsing:
            # click's "Did you mean …?" looks among the commands loaded so far: offer it all of them
            raise no_such(name, possibilities=self.list_commands(ctx), ctx=ctx)
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attribute = COMMANDS[cmd_name]
            command = getattr(importlib.import_module(module), attribute)
            if command.name != cmd_name:
                raise AssertionError(f"COMMANDS[{cmd_name!r}] is the command {command.name!r}")
            self.add_command(command)
        return self.commands.get(cmd_name)


@click.group(cls=_Commands)
@click.option("--config", "config_path", metavar="FILE", help="Config file (else $ARSYNC_CONFIG, else ./arsync.toml).")
@click.option("-v", "--verbose", count=True, help="More log output and tracebacks (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Print only problems (warnings and errors on stderr): for cron.")
@click.version_option(package_name="arsync")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: int, quiet: bool) -> None:
    """arsync: sync, reconcile and dun your clients' receivables without false reminders.

    \b
    Exit status: 0 all good; 1 a client failed (the others still ran); 2 usage or config error;
    130/143 stopped by Ctrl-C/SIGTERM after the item in hand.
    """
    env = Env(config_path, verbose=verbose, quiet=quiet)
    install_logging(env.problems, verbose=verbose, quiet=quiet)
    ctx.obj = env
