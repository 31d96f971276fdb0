"""``arsync explain codes`` and ``arsync explain CLIENT INVOICE``: the vocabulary, and one decision with all
its evidence in prose (decided afresh from the store, as ``reconcile --no-sync`` would; nothing is written)."""

from __future__ import annotations

import json
from datetime import date

import click

from connector.cli.common import Env, as_of_option, json_option, one_client_option
from connector.cli.output import terminal_width
from connector.engine.decisions import decided
from connector.reports import glossary
from connector.reports.explain import explain as explain_decision
from connector.reports.freshness import client_status
from connector.store.files import unreadable_files
from connector.store.sync import sync_status


class _InvoiceByDefault(click.Group):
    """``arsync explain CLIENT INVOICE`` (as documented) means ``arsync explain invoice CLIENT INVOICE``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["invoice", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_InvoiceByDefault)
def explain() -> None:
    """The vocabulary (`explain codes`) and one invoice's decision in prose (`explain CLIENT INVOICE`)."""


@explain.command("codes")
@json_option
def explain_codes(as_json: bool) -> None:
    """Every state, action and hold code: what it means and what lifts it."""
    if as_json:
        click.echo(json.dumps({"items": glossary.as_json()}, indent=2, ensure_ascii=False))
    else:
        click.echo(glossary.render_codes(min(terminal_width(), 100)), nl=False)


@explain.command("invoice")
@one_client_option
@click.argument("args", nargs=-1, metavar="CLIENT INVOICE")
@as_of_option
@json_option
@click.pass_obj
def explain_invoice(env: Env, client_opt: str | None, args: tuple[str, ...], as_of: date, as_json: bool) -> None:
    """One invoice's decision with all its evidence: payments, credits, responses, letters, disputes,
    agreements, exclusions, the register, the case and the next ladder step with its date."""
    if client_opt is not None and len(args) == 1:
        client_id, invoice = client_opt, args[0]
    elif client_opt is None and len(args) == 2:
        client_id, invoice = args
    else:
        raise click.UsageError("give CLIENT INVOICE (or --client CLIENT INVOICE)")
    client = env.settings.client(client_id)
    found = decided(env.store, client, as_of)
    decision, facts = found.decision(invoice), found.facts
    unreadable = env.store.read(unreadable_files, client.id)
    status = client_status(client, env.store.read(sync_status, client.id), as_of, unreadable=unreadable)
    text = explain_decision(client, facts, decision, as_of, width=min(terminal_width(), 100))
    if as_json:
        payload = {"as_of": as_of.isoformat(), "decision": decision.as_json(), "client": status.as_json(), "text": text}
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    if not status.ok:
        click.echo(status.line())
        click.echo()
    click.echo(text, nl=False)
