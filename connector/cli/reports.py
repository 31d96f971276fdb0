"""``arsync report …``: reports over the stored facts (no sync: each client's data is as fresh as its last
sync, and the report says so for every client that failed or is stale)."""

from __future__ import annotations

import json
from datetime import date

import click

from connector.cli import advice_inputs
from connector.cli.common import Env, as_of_option, client_option, json_option, optional_date
from connector.cli.output import show
from connector.engine.decisions import decide_client
from connector.reports import advice, advice_render, aging, freshness
from connector.reports.freshness import client_status
from connector.store.facts import load_facts
from connector.store.files import unreadable_files
from connector.store.sync import sync_status


@click.group()
def report() -> None:
    """Reports over the stored facts."""


@report.command("aging")
@client_option
@as_of_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "html"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@json_option
@click.pass_obj
def report_aging(env: Env, client_ids: tuple[str, ...], as_of: date, fmt: str, as_json: bool) -> None:
    """Aged receivables per client and customer (not due, 1–30, 31–60, 61–90, 90+).

    Clients whose last sync failed or is too old are named above the figures (NO DATA / STALE DATA):
    their amounts are missing or old, not zero."""
    rows = []
    statuses = []
    for client in env.settings.select(client_ids):
        unreadable = env.store.read(unreadable_files, client.id)
        statuses.append(client_status(client, env.store.read(sync_status, client.id), as_of, unreadable=unreadable))
        decisions = decide_client(env.store, client, as_of)
        rows.extend(aging.aging_rows(client.id, env.store.read(load_facts, client.id).customers, decisions, as_of))
    if as_json:
        payload = {
            "as_of": as_of.isoformat(),
            "items": [aging.row_json(r) for r in rows],
            "clients": [s.as_json() for s in statuses],
            "summary": freshness.counts(statuses),
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    elif fmt == "html":
        click.echo(aging.render_html(rows, as_of, statuses), nl=False)
    elif fmt == "csv":
        click.echo(aging.render_csv(rows, statuses), nl=False)
    else:
        for line in aging.status_lines(statuses):
            click.echo(line)
        if any(not s.ok for s in statuses):
            click.echo()
        show(aging.table(rows, statuses))
        click.echo(freshness.summary(statuses))


@report.command("advice")
@client_option
@click.option("--from", "start", callback=optional_date, metavar="YYYY-MM-DD", help="First day (default: a year back).")
@click.option("--to", "end", callback=optional_date, metavar="YYYY-MM-DD", help="Last day (default: --as-of).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "html"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@as_of_option
@click.pass_obj
def report_advice(
    env: Env, client_ids: tuple[str, ...], start: date | None, end: date | None, fmt: str, as_of: date
) -> None:
    """What would get each client paid faster, per client and across the portfolio: DSO and its trend,
    days from delivery to invoice, payment terms, e-invoices (and who could receive them), reminders,
    disputes, inkasso and the riskiest customers. The Peppol Directory is asked (cached) only for
    clients with [clients.registry] enabled."""
    period = advice_inputs.period(start, end, as_of)
    found = [
        advice_inputs.client_advice(env.store, client, period, as_of) for client in env.settings.select(client_ids)
    ]
    result = advice.portfolio(period, found)
    if fmt == "html":
        click.echo(advice_render.render_html(result, as_of), nl=False)
    elif fmt == "csv":
        click.echo(advice_render.render_csv(result), nl=False)
    else:
        click.echo(advice_render.render_table(result))
