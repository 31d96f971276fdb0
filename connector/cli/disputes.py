"""``arsync disputes …``, ``arsync agreements …`` and ``arsync exclude``: what the accountant learned on
the phone, recorded so that it holds dunning (hold codes ``disputed``, ``agreement``, ``excluded``)."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import click

from connector.cli.common import Env, as_of_option, client_option, optional_date
from connector.model import Agreement, Dispute, Exclusion
from connector.reports import tables
from connector.store.disputes import add_agreement, add_dispute, add_exclusion, resolve_dispute
from connector.store.facts import load_facts

# ---- disputes ------------------------------------------------------------------------------------


@click.group()
def disputes() -> None:
    """Record what the accountant learned on the phone: a dispute stops all dunning of the invoice."""


@disputes.command("open")
@click.argument("client_id")
@click.argument("invoice")
@click.option("--reason", required=True, help="What the debtor disputes (kept and shown as evidence).")
@click.option("--force", is_flag=True, help="Record it even though the invoice is not in the store yet.")
@as_of_option
@click.pass_obj
def disputes_open(env: Env, client_id: str, invoice: str, reason: str, force: bool, as_of: date) -> None:
    """Open a dispute on an invoice: it holds all dunning of the invoice until resolved."""
    env.settings.client(client_id)
    # A typo would put the dispute on nothing while the real invoice keeps being dunned.
    if invoice not in _invoice_numbers(env, client_id) and not force:
        raise click.UsageError(
            f"client '{client_id}' has no invoice '{invoice}' in the store; check the number, run "
            "`arsync sync` first, or pass --force to record it anyway"
        )
    dispute_id = f"manual-{uuid.uuid4().hex[:8]}"
    env.store.write(add_dispute, Dispute(client_id, invoice, dispute_id, as_of, reason, "manual"))
    click.echo(f"dispute {dispute_id} opened on {client_id} invoice {invoice}")


@disputes.command("resolve")
@click.argument("client_id")
@click.argument("dispute_id")
@click.option("--note", default="resolved", show_default=True, help="How it was settled (kept with the dispute).")
@as_of_option
@click.pass_obj
def disputes_resolve(env: Env, client_id: str, dispute_id: str, note: str, as_of: date) -> None:
    """Resolve an open dispute: dunning of the invoice resumes."""
    env.settings.client(client_id)
    if not env.store.write(resolve_dispute, client_id, dispute_id, as_of, note):
        raise click.UsageError(f"no open dispute '{dispute_id}' for client '{client_id}'")
    click.echo(f"dispute {dispute_id} resolved")


@disputes.command("list")
@client_option
@click.option("--all", "show_all", is_flag=True, help="Include resolved disputes.")
@click.pass_obj
def disputes_list(env: Env, client_ids: tuple[str, ...], show_all: bool) -> None:
    """List the open disputes (--all: the resolved ones too)."""
    rows = []
    for client in env.settings.select(client_ids):
        for d in env.store.read(load_facts, client.id).disputes:
            if show_all or d.is_open:
                rows.append(d)
    click.echo(tables.dispute_table(rows))


# ---- agreements ----------------------------------------------------------------------------------


def _every(_ctx: click.Context, _param: click.Parameter, value: str) -> int:
    m = re.fullmatch(r"(\d+)d?", value.strip())
    if not m or int(m.group(1)) < 1:
        raise click.BadParameter(f"'{value}' is not an interval in days (e.g. 30d)")
    return int(m.group(1))


@click.group()
def agreements() -> None:
    """Promises to pay and instalment plans: they hold dunning until broken."""


@agreements.command("add")
@click.argument("client_id")
@click.argument("invoice")
@click.option(
    "--promise-date", callback=optional_date, metavar="YYYY-MM-DD", help="The day the debtor promised to pay."
)
@click.option("--instalments", type=click.IntRange(1, 60), help="Number of instalments.")
@click.option("--first", callback=optional_date, metavar="YYYY-MM-DD", help="Day of the first instalment.")
@click.option("--every", callback=_every, default="30d", show_default=True, help="Interval between instalments.")
@click.option("--note", default="", help="What was agreed (kept with the agreement).")
@as_of_option
@click.pass_obj
def agreements_add(
    env: Env,
    client_id: str,
    invoice: str,
    promise_date: date | None,
    instalments: int | None,
    first: date | None,
    every: int,
    note: str,
    as_of: date,
) -> None:
    """Record a promise to pay (--promise-date) or a plan (--instalments N --first DATE --every 30d)."""
    env.settings.client(client_id)
    if promise_date is not None and instalments is None and first is None:
        dates: tuple[date, ...] = (promise_date,)
    elif promise_date is None and instalments is not None and first is not None:
        dates = tuple(first + timedelta(days=every * k) for k in range(instalments))
    else:
        raise click.UsageError("give either --promise-date, or --instalments with --first (and --every)")
    if invoice not in _invoice_numbers(env, client_id):
        raise click.UsageError(f"client '{client_id}' has no invoice '{invoice}'")
    agreement_id = f"agreement-{uuid.uuid4().hex[:8]}"
    env.store.write(add_agreement, Agreement(client_id, invoice, agreement_id, as_of, dates, note))
    click.echo(f"agreement {agreement_id} on {client_id} invoice {invoice}: " + ", ".join(d.isoformat() for d in dates))


@agreements.command("list")
@click.argument("client_id")
@click.pass_obj
def agreements_list(env: Env, client_id: str) -> None:
    """List a client's promises to pay and instalment plans."""
    env.settings.client(client_id)
    rows = [
        [
            a.agreement_id,
            a.invoice_number,
            a.created_on.isoformat(),
            ", ".join(d.isoformat() for d in a.due_dates),
            a.note,
        ]
        for a in env.store.read(load_facts, client_id).agreements
    ]
    click.echo(tables.render(["agreement", "invoice", "created", "dates", "note"], rows) if rows else "No agreements.")


# ---- exclusions ----------------------------------------------------------------------------------


@click.command("exclude")
@click.argument("client_id")
@click.option("--invoice", help="Exclude this invoice.")
@click.option("--customer", help="Exclude every invoice of this customer (id as in the decision table).")
@click.option(
    "--until", callback=optional_date, metavar="YYYY-MM-DD", help="Last day of the exclusion (default: open)."
)
@click.option("--reason", required=True, help="Why (kept with the exclusion and shown as evidence).")
@click.option("--force", is_flag=True, help="Record it even though the invoice/customer is not in the store yet.")
@as_of_option
@click.pass_obj
def exclude(
    env: Env,
    client_id: str,
    invoice: str | None,
    customer: str | None,
    until: date | None,
    reason: str,
    force: bool,
    as_of: date,
) -> None:
    """Take an invoice or a customer out of dunning (hold: excluded)."""
    env.settings.client(client_id)
    if (invoice is None) == (customer is None):
        raise click.UsageError("give exactly one of --invoice or --customer")
    if not force:
        # A typo (or a customer's name instead of its id) would exclude nothing while dunning goes on.
        facts = env.store.read(load_facts, client_id)
        if invoice is not None and invoice not in {i.number for i in facts.invoices}:
            raise click.UsageError(f"client '{client_id}' has no invoice '{invoice}' in the store (or pass --force)")
        if customer is not None and customer not in facts.customers:
            raise click.UsageError(
                f"client '{client_id}' has no customer '{customer}' (use the id from the decision table, or --force)"
            )
    if until is not None and until < as_of:
        raise click.UsageError(f"--until {until.isoformat()} is before {as_of.isoformat()}")
    exclusion_id = f"exclusion-{uuid.uuid4().hex[:8]}"
    with env.store.transaction() as conn:
        add_exclusion(conn, Exclusion(client_id, exclusion_id, invoice, customer, as_of, until, reason))
    what = f"invoice {invoice}" if invoice else f"customer {customer}"
    click.echo(f"{exclusion_id}: {client_id} {what} excluded" + (f" until {until.isoformat()}" if until else ""))


def _invoice_numbers(env: Env, client_id: str) -> set[str]:
    return {i.number for i in env.store.read(load_facts, client_id).invoices}
