"""The ``arsync`` command line: parse arguments, call the pipeline or the store, print.

``main`` is the console script. Each command group lives in its own module and is registered here
with ``add_command``; shared options, ``Env`` and the exit statuses are in ``common``.

Exit status: 0 all good, 1 any client failed (the others still ran), 2 usage or config error.
"""

from __future__ import annotations

import click

from connector.cli import (
    calls,
    cases,
    check,
    credit,
    disputes,
    explain,
    files,
    invoices,
    letters,
    queue,
    reports,
    run,
    validate,
)
from connector.cli.common import ArsyncGroup, Env
from connector.cli.output import install_logging
from connector.web import cli as web_cli  # imports nothing of the web extra until a command runs


@click.group(cls=ArsyncGroup)
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


main.add_command(run.sync)
main.add_command(run.reconcile)
main.add_command(run.run)
main.add_command(cases.cases)
main.add_command(disputes.disputes)
main.add_command(disputes.agreements)
main.add_command(disputes.exclude)
main.add_command(reports.report)
main.add_command(check.check)
main.add_command(credit.credit)
main.add_command(validate.validate)
main.add_command(explain.explain)
main.add_command(files.files)
main.add_command(invoices.invoices)
main.add_command(calls.calls)
main.add_command(letters.letters)
main.add_command(letters.statement)
main.add_command(queue.worker)
main.add_command(queue.runs)
main.add_command(web_cli.serve)
main.add_command(web_cli.users)
