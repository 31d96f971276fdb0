"""``arsync sync``, ``arsync reconcile`` and ``arsync run``: the nightly job and its first stages.

Every output says which clients could not be read (``CLIENT: NO DATA — …``) before anything else, so a
failed client never looks like a client with nothing owed, and ends with the clients counted ok /
failed / stale. ``run`` also reports everything it did (sends, proposals, pushes, withdrawals, …).
"""

from __future__ import annotations

import sys
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
    quiet_option,
    statuses,
    stoppable,
    workers_option,
)
from connector.cli.output import echo_json, echo_lines, is_terminal, show
from connector.config import ClientConfig
from connector.dunning.interest import unpublished_since
from connector.reports import freshness, tables
from connector.reports.freshness import ClientStatus
from connector.reports.run import AllDecisions


@click.command()
@client_option
@as_of_option
@workers_option
@quiet_option
@click.pass_obj
def sync(env: Env, client_ids: tuple[str, ...], as_of: date, workers: int | None) -> None:
    """Pull ledger, e-invoice and bank data into the store (creates the store on the first run)."""
    clients = env.settings.select(client_ids)
    store = env.writable_store()
    reports: list[ClientReport] = []
    with stoppable(), progress(env, clients, "sync") as step:
        for report in pipeline.sync_clients(
            store, clients, as_of, workers=workers or env.settings.run.workers, progress=step
        ):
            reports.append(report)
            if report.ok:
                warned = f" ({len(report.warnings)} warnings)" if report.warnings else ""
                env.say(f"{report.client_id}: sync ok{warned}")
            else:
                env.say(f"{report.client_id}: sync FAILED — {'; '.join(report.errors)}")
    found = statuses(env, reports, as_of)
    env.say(freshness.summary(found))
    finish(env, reports, interrupted_clients=_not_started(clients, reports))


@click.command()
@client_option
@as_of_option
@json_option
@click.option("--no-sync", is_flag=True, help="Decide on what is stored; do not sync first.")
@workers_option
@quiet_option
@click.pass_obj
def reconcile(
    env: Env, client_ids: tuple[str, ...], as_of: date, as_json: bool, no_sync: bool, workers: int | None
) -> None:
    """Sync, reconcile and decide; print the decision per open invoice. Never sends anything.

    Failed and stale clients are listed first (NO DATA / STALE DATA), then one row per open or
    recently settled invoice, then the clients counted ok / failed / stale."""
    clients, reports = _run(env, client_ids, as_of, sync=not no_sync, act=False, workers=workers)
    _print(env, reports, as_of, as_json, acted=False)
    finish(env, reports, interrupted_clients=_not_started(clients, reports))


@click.command()
@client_option
@as_of_option
@json_option
@workers_option
@quiet_option
@click.option("--queue", "queued", is_flag=True, help="Enqueue one job per client for the workers and return.")
@click.option("--wait", is_flag=True, help="With --queue: wait for the workers, then report as without --queue.")
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
    """The nightly job: sync, reconcile, decide and act for every client.

    Prints the decisions, then everything done (sends, case proposals, pushes, withdrawals, reports to
    the provider, bookings), then the clients counted ok / failed / stale. Ctrl-C or SIGTERM finishes the
    send in hand, prints what was done and exits 130/143. With --queue the clients go to the workers
    (`arsync worker`, docs/scaling.md) instead; --wait then prints the same report when they are done."""
    env: Env = ctx.obj
    if queued:

        def report(reports: Sequence[ClientReport], day: date) -> None:
            _print(env, reports, day, as_json, acted=True)
            finish(env, reports)

        queue.run_queued(ctx, client_ids, as_of, wait, report)
        return
    if wait:
        raise click.UsageError("--wait goes with --queue")
    clients, reports = _run(env, client_ids, as_of, sync=True, act=True, workers=workers)
    _print(env, reports, as_of, as_json, acted=True)
    finish(env, reports, interrupted_clients=_not_started(clients, reports))


def _run(
    env: Env, client_ids: tuple[str, ...], as_of: date, *, sync: bool, act: bool, workers: int | None
) -> tuple[list[ClientConfig], list[ClientReport]]:
    clients = env.settings.select(client_ids)
    # reconcile --no-sync decides on what is stored: a missing store is a mistyped URL, not a first night
    # (an empty one made here would report every client "never synced" and exit 0)
    store = env.writable_store() if sync else env.store
    n = workers or env.settings.run.workers
    with stoppable(), progress(env, clients, "clients") as step:
        reports = pipeline.run(env.settings, store, clients, as_of, sync=sync, act=act, progress=step, workers=n)
    return clients, reports


def _print(env: Env, reports: Sequence[ClientReport], as_of: date, as_json: bool, *, acted: bool) -> None:
    found = statuses(env, reports, as_of)
    by_id = {s.client_id: s for s in found}
    if as_json:
        # each item encoded as it is written (connector.cli.output.echo_json): the output of a very large
        # client never sits in memory whole
        echo_json(
            [
                ("as_of", as_of.isoformat()),
                ("items", (d.as_json() for r in reports for d in r.decisions)),
                (
                    "clients",
                    [
                        {
                            **by_id[r.client_id].as_json(),
                            "actions": [a.as_json() for a in r.sent],
                            "attention": list(r.attention),
                            "interrupted": r.interrupted,
                        }
                        for r in reports
                    ],
                ),
                ("summary", freshness.counts(found)),
            ]
        )
    else:
        _print_text(env, reports, found, as_of, acted=acted)
    _warn_unpublished_interest(env, reports, as_of)


def _warn_unpublished_interest(env: Env, reports: Sequence[ClientReport], as_of: date) -> None:
    """A rule pack without the late-interest rate of a half-year up to ``as_of`` means no interest on
    letters, statements or cases for those days (never a guessed rate): said once per country, as long
    as one of its clients has an overdue invoice, so the money lost does not go unnoticed."""
    countries = {c.id: c.country for c in env.settings.clients}
    said: set[str] = set()
    for r in reports:
        country = countries.get(r.client_id)
        if country is None or country in said:
            continue
        since = unpublished_since(country, as_of)
        if since is None or not any(d.due_date and d.due_date < as_of and d.open_amount > 0 for d in r.decisions):
            continue
        said.add(country)
        env.problems.warning(
            f"late interest: the {country} rule pack has no published rate from {since.isoformat()}, so letters,"
            " statements and cases carry no interest for the days since (update arsync once the rate is out)"
        )


def _print_text(
    env: Env, reports: Sequence[ClientReport], found: Sequence[ClientStatus], as_of: date, *, acted: bool
) -> None:
    not_ok = [s for s in found if not s.ok]
    for s in not_ok:
        if env.quiet:  # cron mails problems only: a stale or failed client is one
            env.problems.warning(s.line())
        else:
            env.say(s.line())
    if not_ok and not env.quiet:
        env.say()
    names = {(r.client_id, k): v for r in reports for k, v in r.customer_names.items()}
    decisions = AllDecisions(reports)
    if decisions and not env.quiet and not is_terminal(sys.stdout):
        # on a pipe (cron, a file) the table is plain and whole: printed as its rows are made, so a client
        # with a million invoices never has a million rows of text in memory
        echo_lines(tables.decision_lines(decisions, as_of, names))
    else:
        table = tables.decision_table(decisions, as_of, names)
        if not table.rows and not_ok:
            table.empty = f"No invoices as of {as_of.isoformat()} from the clients that could be read."
        show(table, quiet=env.quiet)
    if acted:
        done = [(r.client_id, a) for r in reports for a in r.sent]
        if done:
            env.say()
            env.say("Done:")
            for client_id, a in done:
                env.say(f"  {client_id}: {a}")
        else:
            env.say("\nDone: nothing was sent, proposed, pushed or withdrawn.")
    for r in reports:  # for the accountant to decide (e.g. "credit stop?"): shown under --quiet too
        for line in r.attention:
            env.problems.warning(f"client {r.client_id}: {line}") if env.quiet else env.say(f"{r.client_id}: {line}")
    env.say(freshness.summary(found))


def _not_started(clients: Sequence[ClientConfig], reports: Sequence[ClientReport]) -> list[str]:
    done = {r.client_id for r in reports}
    return [c.id for c in clients if c.id not in done]
