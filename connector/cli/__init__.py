"""The ``arsync`` command line: parse arguments, call the pipeline or the store, print.

``main`` is the console script. Each command group lives in its own module and is registered here
with ``add_command``; shared options, ``Env`` and the exit statuses are in ``common``.

Exit status: 0 all good, 1 any client failed (the others still ran), 2 usage or config error.
"""

from __future__ import annotations

import logging
import sys

import click

from connector.cli import cases, check, disputes, queue, reports, run, validate
from connector.cli.common import ArsyncGroup, Env


@click.group(cls=ArsyncGroup)
@click.option("--config", "config_path", metavar="FILE", help="Config file (else $ARSYNC_CONFIG, else ./arsync.toml).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="arsync")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """arsync: sync, reconcile and dun your clients' receivables without false reminders."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    ctx.obj = Env(config_path)


main.add_command(run.sync)
main.add_command(run.reconcile)
main.add_command(run.run)
main.add_command(cases.cases)
main.add_command(disputes.disputes)
main.add_command(disputes.agreements)
main.add_command(disputes.exclude)
main.add_command(reports.report)
main.add_command(check.check)
main.add_command(validate.validate)
main.add_command(queue.worker)
main.add_command(queue.runs)
