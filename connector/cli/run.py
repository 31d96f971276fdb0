"""``arsync sync``, ``arsync reconcile`` and ``arsync run``: the nightly job and its first stages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

import click

from connector import pipeline
from connector.cli import queue
from connector.cli.common import (
    ClientReport,
    Env,
    as_of_option,
    client_option,
    finish,
    json_option,
    progress,
    workers_option,
)
from connector.reports import tables


@click.command()
@client_option
@as_of_option
@workers_option
@click.pass_obj
def sync(env: Env, client_ids: tuple[str, ...], as_of: date, workers: int | None) -> None:
    """Pull ledger, e-invoice and bank data into the store."""
    clients = env.settings.select(client_ids)
    reports = []
    with progress(len(clients), "sync") as step:
        for report in pipeline.sync_clients(
            env.store, clients, as_of, workers=workers or env.settings.run.workers, progress=step
        ):
            status = "ok" if report.ok else "FAILED"
            click.echo(
                f"{report.client_id}: sync {status}"
                + (f" ({len(report.warnings)} warnings)" if report.warnings else "")
            )
            reports.append(report)
    finish(reports)


@click.command()
@client_option
@as_of_option
@json_option
@click.option("--no-sync", is_flag=True, help="Decide on what is stored; do not sync first.")
@workers_option
@click.pass_obj
def reconcile(
    env: Env, client_ids: tuple[str, ...], as_of: date, as_json: bool, no_sync: bool, workers: int | None
) -> None:
    """Sync, reconcile and decide; print the decision per open invoice. Never sends anything."""
    reports = _run(env, client_ids, as_of, sync=not no_sync, act=False, workers=workers)
    _print_decisions(reports, as_of, as_json)
    finish(reports)


@click.command()
@client_option
@as_of_option
@json_option
@workers_option
@click.option("--queue", "queued", is_flag=True, help="Enqueue one job per client for the workers and return.")
@click.option("--wait", is_flag=True, help="With --queue: wait for the workers and report as without --queue.")
@click.pass_context
def run(
    ctx: click.Context,
    client_ids: tuple[str, ...],
    as_of: date,
    as_json: bool,
    workers: int | None,
    queued: bool,
    wait: bool,
) -> None:
    """The nightly job: sync, reconcile, decide and act for every client."""
    env: Env = ctx.obj
    if queued:
        queue.run_queued(ctx, client_ids, as_of, wait, lambda reports, day: _report_run(reports, day, as_json))
        return
    if wait:
        raise click.UsageError("--wait goes with --queue")
    _report_run(_run(env, client_ids, as_of, sync=True, act=True, workers=workers), as_of, as_json)


def _report_run(reports: Sequence[ClientReport], as_of: date, as_json: bool) -> None:
    _print_decisions(reports, as_of, as_json)
    if not as_json:
        for r in reports:
            for line in r.sent:
                click.echo(f"{r.client_id}: {line}")
    finish(reports)


def _run(
    env: Env, client_ids: tuple[str, ...], as_of: date, *, sync: bool, act: bool, workers: int | None
) -> list[ClientReport]:
    clients = env.settings.select(client_ids)
    n = workers or env.settings.run.workers
    with progress(len(clients), "clients") as step:
        return pipeline.run(env.settings, env.store, clients, as_of, sync=sync, act=act, progress=step, workers=n)


def _print_decisions(reports: Sequence[ClientReport], as_of: date, as_json: bool) -> None:
    decisions = [d for r in reports for d in r.decisions]
    if as_json:
        payload = {"as_of": as_of.isoformat(), "items": [d.as_json() for d in decisions]}
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        names = {(r.client_id, k): v for r in reports for k, v in r.customer_names.items()}
        click.echo(tables.decision_table(decisions, as_of, names))
