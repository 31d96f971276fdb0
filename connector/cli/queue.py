"""``arsync worker``, ``arsync runs status`` and ``arsync run --queue [--wait]``: the nightly run spread
over worker processes and machines (``connector.queue``; the optional extra ``queue``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import click

from connector import config as config_mod
from connector.cli.common import Env, as_of_option, json_option
from connector.config import ConfigError
from connector.reports.run import ClientReport


def _queue() -> Any:
    """``connector.queue`` needs procrastinate (``pip install 'arsync[queue]'``): say so in one line."""
    try:
        from connector.queue import runs, worker

        return runs, worker
    except ImportError as exc:
        raise ConfigError(
            [f"queue: procrastinate is not installed ({exc.name}); install the extra: pip install 'arsync[queue]'"]
        ) from None


@click.command()
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    metavar="N",
    help="Clients this process runs at once (default: [queue] concurrency, 4).",
)
@click.pass_obj
def worker(env: Env, concurrency: int | None) -> None:
    """Run queued nights until SIGTERM; then finish the clients in hand and exit.

    Start several on one machine or on many: they share the store's PostgreSQL, the queue and each
    credential's rate limit. With [queue] nightly set they also enqueue the night at that time.
    """
    _runs, work = _queue()
    # Not Env.settings: each client's ladder is checked against the law of the night its job runs for,
    # so one client's bad ladder fails that client, not every worker.
    settings = config_mod.load(env.config_path)
    work.run_worker(settings, concurrency)


@click.group()
def runs() -> None:
    """The nightly runs in the queue."""


@runs.command("status")
@as_of_option
@json_option
@click.pass_context
def runs_status(ctx: click.Context, as_of: date, as_json: bool) -> None:
    """Each client's state in a night: queued, running (where), done, failed (why), retried; and totals."""
    env: Env = ctx.obj
    runs_mod, _work = _queue()
    settings = config_mod.load(env.config_path)
    day = _night(ctx, settings, as_of)
    eng = _engine(settings)
    try:
        from connector.queue import db

        night = runs_mod.Night(day)
        if db.has_schema(eng):
            night = runs_mod.night(eng, day, stalled_seconds=settings.queue.stalled_seconds)
    finally:
        eng.dispose()
    if as_json:
        payload = {
            "as_of": day.isoformat(),
            "totals": night.totals(),
            "clients": [c.as_json() for c in night.clients],
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    if not night.clients:
        click.echo(f"Nothing queued for the night of {day.isoformat()}.")
        return
    click.echo(f"Night of {day.isoformat()}")
    for c in night.clients:
        line = f"  {c.client_id}: {c.state}"
        if c.state == "running" and c.worker:
            line += f" on {c.worker}" + (" (worker not answering; it will run again)" if c.stalled else "")
        if c.retried:
            line += f", try {c.attempts}"
        if c.error and c.state != "done":
            first = c.error.splitlines()[0]
            line += f" — {first[:200]}" + ("…" if len(first) > 200 or "\n" in c.error else "")
        click.echo(line)
    t = night.totals()
    click.echo(
        f"{t['clients']} clients: {t['done']} done, {t['running']} running, {t['queued']} queued, "
        f"{t['failed']} failed; {t['retried']} retried"
    )
    if t["failed"]:
        click.echo("Queue a failed client again with: arsync run --queue --client ID" + f" --as-of {day.isoformat()}")


def run_queued(
    ctx: click.Context,
    client_ids: tuple[str, ...],
    as_of: date,
    wait: bool,
    finish: Callable[[Sequence[ClientReport], date], None],
) -> None:
    """``arsync run --queue``: one job per client for the night, then return — or, with ``--wait``, wait
    for every one of them and hand their reports to ``finish`` (what ``arsync run`` prints and exits with)."""
    env: Env = ctx.obj
    runs_mod, _work = _queue()
    settings = env.settings
    day = _night(ctx, settings, as_of)
    clients = [c.id for c in settings.select(client_ids)]
    url = _url(settings)
    eng = _engine(settings)
    try:
        from connector.queue import db

        db.ensure_schema(eng)
        done = runs_mod.enqueue(eng, clients, day)
        click.echo(
            f"Night of {day.isoformat()}: {len(done.queued)} clients queued"
            + (f", {len(done.skipped)} already queued, running or done" if done.skipped else ""),
            err=wait,
        )
        if not wait:
            return
        # the store the workers write: the decisions are read from it as printed, and the clients' sync state
        # (stale, failed) from it as `arsync run` reads it; opened before the wait, so a wrong one fails now
        store = env.store
        runs_mod.wait(db.conninfo(url), eng, day, clients)
        reports = runs_mod.reports(eng, store, day, clients)
    finally:
        eng.dispose()
    finish(reports, day)


def _night(ctx: click.Context, settings: config_mod.Settings, as_of: date) -> date:
    """--as-of if given, else today in the queue's time zone (the night the nightly schedule means)."""
    if ctx.get_parameter_source("as_of") is click.core.ParameterSource.COMMANDLINE:
        return as_of
    from connector.queue import schedule

    return schedule.today(settings.queue.timezone)


def _url(settings: config_mod.Settings) -> str:
    from connector.queue import db

    return db.queue_url(settings)


def _engine(settings: config_mod.Settings) -> Any:
    from connector.queue import db

    return db.engine(_url(settings), pool_size=1)
