"""``arsync report …``: reports over the stored facts."""

from __future__ import annotations

from datetime import date

import click

from connector.cli.common import Env, as_of_option, client_option
from connector.engine.decisions import decide_client
from connector.reports import aging
from connector.store.facts import load_facts


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
@click.pass_obj
def report_aging(env: Env, client_ids: tuple[str, ...], as_of: date, fmt: str) -> None:
    """Aged receivables per client and customer (not due, 1–30, 31–60, 61–90, 90+)."""
    rows = []
    for client in env.settings.select(client_ids):
        decisions = decide_client(env.store, client, as_of)
        rows.extend(aging.aging_rows(client.id, env.store.read(load_facts, client.id).customers, decisions, as_of))
    if fmt == "html":
        click.echo(aging.render_html(rows, as_of), nl=False)
        return
    click.echo(aging.render_csv(rows) if fmt == "csv" else aging.render_table(rows), nl=fmt != "csv")
