"""``arsync disputes …``, ``arsync agreements …`` and ``arsync exclude …``: what the accountant learned on
the phone, recorded so that it holds dunning (hold codes ``disputed``, ``agreement``, ``excluded``) — and
listed and undone the same way.

Each takes the client as ``--client ID``; the older positional ``CLIENT`` still works for a release (with a
deprecation line). A dispute, an agreement or an exclusion is named by its id or by the invoice number.
"""

from __future__ import annotations

import json
import re
from datetime import date

import click

from connector.actions import manual
from connector.cli.common import (
    Env,
    actor,
    as_of_option,
    client_option,
    json_option,
    one_client_option,
    optional_date,
    split_client,
)
from connector.cli.output import show
from connector.config import ClientConfig
from connector.model import Agreement, Dispute, Exclusion
from connector.reports import tables
from connector.reports.tables import Table, customer_label
from connector.store.facts import load_facts

# ---- disputes ------------------------------------------------------------------------------------


@click.group()
def disputes() -> None:
    """Record what the accountant learned on the phone: a dispute stops all dunning of the invoice."""


@disputes.command("open")
@one_client_option
@click.argument("args", nargs=-1, metavar="INVOICE")
@click.option("--reason", required=True, help="What the debtor disputes (kept and shown as evidence).")
@click.option("--force", is_flag=True, help="Record it even though the invoice is not in the store yet.")
@as_of_option
@click.pass_obj
def disputes_open(
    env: Env, client_opt: str | None, args: tuple[str, ...], reason: str, force: bool, as_of: date
) -> None:
    """Open a dispute on an invoice: it holds all dunning of the invoice until resolved."""
    client_id, invoice = split_client(env, client_opt, args, ["invoice"])
    client = env.settings.client(client_id)
    dispute = manual.open_dispute(
        env.store, client_id, invoice, reason, as_of, force=force, actor=actor(), now=env.store.now()
    )
    click.echo(f"dispute {dispute.dispute_id} opened on {client_id} invoice {invoice}")
    _tell_the_agency(env, client, "dispute", invoice=invoice)


@disputes.command("resolve")
@one_client_option
@click.argument("args", nargs=-1, metavar="DISPUTE_ID|INVOICE")
@click.option("--note", default="resolved", show_default=True, help="How it was settled (kept with the dispute).")
@as_of_option
@click.pass_obj
def disputes_resolve(env: Env, client_opt: str | None, args: tuple[str, ...], note: str, as_of: date) -> None:
    """Resolve an open dispute (by its id, or by the invoice number): dunning of the invoice resumes.

    A dispute's id alone names its client; an invoice number needs --client ID."""
    if client_opt is None and len(args) == 1:
        client_opt = manual.client_of_open_dispute(env.store, args[0], [c.id for c in env.settings.clients])
    hint = f" ('{args[0]}' is no open dispute's id; an invoice number needs --client)" if len(args) == 1 else ""
    client_id, ref = split_client(env, client_opt, args, ["dispute_id|invoice"], hint)
    env.settings.client(client_id)
    dispute = manual.resolve_dispute(env.store, client_id, ref, note, as_of, actor=actor(), now=env.store.now())
    click.echo(f"dispute {dispute.dispute_id} on invoice {dispute.invoice_number} resolved")


@disputes.command("list")
@client_option
@click.option("--all", "show_all", is_flag=True, help="Include resolved disputes.")
@json_option
@click.pass_obj
def disputes_list(env: Env, client_ids: tuple[str, ...], show_all: bool, as_json: bool) -> None:
    """List the open disputes (--all: the resolved ones too)."""
    rows: list[Dispute] = []
    for client in env.settings.select(client_ids):
        facts = env.store.read(load_facts, client.id)
        rows.extend(facts.disputes if show_all else manual.open_disputes(facts))
    if as_json:
        _json([tables.dispute_json(d) for d in rows])
    else:
        show(tables.dispute_table(rows))


# ---- agreements ----------------------------------------------------------------------------------


def _every(_ctx: click.Context, _param: click.Parameter, value: str) -> int:
    m = re.fullmatch(r"(\d+)d?", value.strip())
    if not m or int(m.group(1)) < 1:
        raise click.BadParameter(f"'{value}' is not an interval in days (e.g. 30d)")
    return int(m.group(1))


@click.group()
def agreements() -> None:
    """Promises to pay and instalment plans: they hold dunning until broken or removed."""


@agreements.command("add")
@one_client_option
@click.argument("args", nargs=-1, metavar="INVOICE")
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
    client_opt: str | None,
    args: tuple[str, ...],
    promise_date: date | None,
    instalments: int | None,
    first: date | None,
    every: int,
    note: str,
    as_of: date,
) -> None:
    """Record a promise to pay (--promise-date) or a plan (--instalments N --first DATE --every 30d)."""
    client_id, invoice = split_client(env, client_opt, args, ["invoice"])
    client = env.settings.client(client_id)
    if promise_date is not None and instalments is None and first is None:
        dates: tuple[date, ...] = (promise_date,)
    elif promise_date is None and instalments is not None and first is not None:
        dates = manual.instalment_dates(first, instalments, every)
    else:
        raise click.UsageError("give either --promise-date, or --instalments with --first (and --every)")
    added = manual.add_agreement(env.store, client_id, invoice, dates, note, as_of, actor=actor(), now=env.store.now())
    click.echo(
        f"agreement {added.agreement.agreement_id} on {client_id} invoice {invoice}: "
        + ", ".join(d.isoformat() for d in dates)
    )
    for line in manual.superseded_lines(added.superseded):
        click.echo(line)
    _tell_the_agency(env, client, "agreement", invoice=invoice)


@agreements.command("list")
@client_option
@click.argument("legacy_client", required=False, metavar="[CLIENT]")
@click.option("--all", "show_all", is_flag=True, help="Include removed agreements.")
@json_option
@click.pass_obj
def agreements_list(
    env: Env, client_ids: tuple[str, ...], legacy_client: str | None, show_all: bool, as_json: bool
) -> None:
    """List the promises to pay and instalment plans (every client unless --client)."""
    if legacy_client is not None:
        click.echo("warning: `arsync agreements list CLIENT` is deprecated; use `--client CLIENT`", err=True)
        client_ids = (*client_ids, legacy_client)
    found = [
        a
        for client in env.settings.select(client_ids)
        for facts in [env.store.read(load_facts, client.id)]
        for a in (facts.agreements if show_all else manual.active_agreements(facts))
    ]
    if as_json:
        _json([_agreement_json(a) for a in found])
        return
    rows = [
        [
            a.client_id,
            a.agreement_id,
            a.invoice_number,
            a.created_on.isoformat(),
            ", ".join(d.isoformat() for d in a.due_dates),
            a.note,
            a.cancelled_on.isoformat() if a.cancelled_on else "-",
        ]
        for a in found
    ]
    head = ["client", "agreement", "invoice", "created", "dates", "note", "removed"]
    show(Table(head, rows, keep=[4, 9, 9, 3, 8, 5, 6], empty="No agreements."))


@agreements.command("remove")
@one_client_option
@click.argument("args", nargs=-1, metavar="AGREEMENT_ID|INVOICE")
@click.option("--note", default="", help="Why (kept with the agreement).")
@as_of_option
@click.pass_obj
def agreements_remove(env: Env, client_opt: str | None, args: tuple[str, ...], note: str, as_of: date) -> None:
    """Remove an agreement recorded by mistake (by its id or the invoice number): its hold lifts today."""
    client_id, ref = split_client(env, client_opt, args, ["agreement_id|invoice"])
    env.settings.client(client_id)
    agreement = manual.remove_agreement(env.store, client_id, ref, note, as_of, actor=actor(), now=env.store.now())
    click.echo(f"agreement {agreement.agreement_id} on invoice {agreement.invoice_number} removed")


def _agreement_json(a: Agreement) -> dict[str, object]:
    return {
        "client": a.client_id,
        "agreement_id": a.agreement_id,
        "invoice": a.invoice_number,
        "created_on": a.created_on.isoformat(),
        "dates": [d.isoformat() for d in a.due_dates],
        "note": a.note,
        "removed_on": a.cancelled_on.isoformat() if a.cancelled_on else None,
    }


# ---- exclusions ----------------------------------------------------------------------------------


class _AddByDefault(click.Group):
    """``arsync exclude CLIENT --invoice N …`` (the first form) still means ``arsync exclude add …``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["add", *args]
        return super().parse_args(ctx, args)


@click.group("exclude", cls=_AddByDefault)
def exclude() -> None:
    """Take an invoice or a customer out of dunning (hold: excluded), list and remove exclusions."""


@exclude.command("add")
@one_client_option
@click.argument("args", nargs=-1, metavar="")
@click.option("--invoice", help="Exclude this invoice.")
@click.option("--customer", help="Exclude every invoice of this customer (its id, as shown in brackets).")
@click.option(
    "--until", callback=optional_date, metavar="YYYY-MM-DD", help="Last day of the exclusion (default: open)."
)
@click.option("--reason", required=True, help="Why (kept with the exclusion and shown as evidence).")
@click.option("--force", is_flag=True, help="Record it even though the invoice/customer is not in the store yet.")
@as_of_option
@click.pass_obj
def exclude_add(
    env: Env,
    client_opt: str | None,
    args: tuple[str, ...],
    invoice: str | None,
    customer: str | None,
    until: date | None,
    reason: str,
    force: bool,
    as_of: date,
) -> None:
    """Take an invoice (--invoice) or every invoice of a customer (--customer) out of dunning."""
    (client_id,) = split_client(env, client_opt, args, [])
    client = env.settings.client(client_id)
    if (invoice is None) == (customer is None):
        raise click.UsageError("give exactly one of --invoice or --customer")
    exclusion = manual.add_exclusion(
        env.store, client_id, reason, as_of, invoice=invoice, customer=customer, until=until, force=force,
        actor=actor(), now=env.store.now(),
    )  # fmt: skip
    click.echo(
        f"{exclusion.exclusion_id}: {client_id} {manual.excluded(exclusion)} excluded"
        + (f" until {until.isoformat()}" if until else "")
    )
    _tell_the_agency(env, client, "exclusion", invoice=invoice, customer=customer)


@exclude.command("list")
@client_option
@click.option("--all", "show_all", is_flag=True, help="Include exclusions that ended or were removed.")
@json_option
@as_of_option
@click.pass_obj
def exclude_list(env: Env, client_ids: tuple[str, ...], show_all: bool, as_json: bool, as_of: date) -> None:
    """List the exclusions in force or from a later day (--all: ended and removed ones too)."""
    found: list[tuple[Exclusion, str]] = []
    for client in env.settings.select(client_ids):
        exclusions = manual.exclusions(env.store, client.id)
        if not show_all:
            exclusions = manual.exclusions_not_over(exclusions, as_of)
        customers = env.store.read(load_facts, client.id).customers if exclusions else {}
        for e in exclusions:
            c = customers.get(e.customer_id or "")
            found.append((e, customer_label(c.name if c else None, e.customer_id) if e.customer_id else ""))
    if as_json:
        _json([_exclusion_json(e, as_of) for e, _label in found])
        return
    rows = [
        [
            e.client_id,
            e.exclusion_id,
            f"invoice {e.invoice_number}" if e.invoice_number else f"customer {label}",
            e.created_on.isoformat(),
            f"ended {e.ended_on.isoformat()}" if e.ended_on else e.until.isoformat() if e.until else "open",
            e.reason,
        ]
        for e, label in found
    ]
    head = ["client", "exclusion", "what", "from", "until", "reason"]
    show(Table(head, rows, keep=[4, 9, 9, 3, 8, 6], empty="No exclusions."))


@exclude.command("remove")
@one_client_option
@click.argument("args", nargs=-1, metavar="EXCLUSION_ID|INVOICE|CUSTOMER")
@as_of_option
@click.pass_obj
def exclude_remove(env: Env, client_opt: str | None, args: tuple[str, ...], as_of: date) -> None:
    """End an exclusion today (by its id, the invoice number or the customer id): dunning resumes.

    The exclusion stays on record (with the day it ended) as evidence of what held the invoice."""
    client_id, ref = split_client(env, client_opt, args, ["exclusion_id|invoice|customer"])
    env.settings.client(client_id)
    exclusion = manual.end_exclusion(env.store, client_id, ref, as_of, actor=actor(), now=env.store.now())
    click.echo(
        f"{exclusion.exclusion_id}: {client_id} {manual.excluded(exclusion)} no longer excluded "
        f"from {as_of.isoformat()}"
    )


def _exclusion_json(e: Exclusion, as_of: date) -> dict[str, object]:
    return {
        "client": e.client_id,
        "exclusion_id": e.exclusion_id,
        "invoice": e.invoice_number,
        "customer": e.customer_id,
        "created_on": e.created_on.isoformat(),
        "until": e.until.isoformat() if e.until else None,
        "ended_on": e.ended_on.isoformat() if e.ended_on else None,
        "in_force": manual.in_force(e, as_of),
        "reason": e.reason,
    }


# ---- shared --------------------------------------------------------------------------------------


def _tell_the_agency(
    env: Env, client: ClientConfig, what: str, *, invoice: str | None = None, customer: str | None = None
) -> None:
    """A warning per case of the invoice (or customer) that is with the agency: what was just recorded does
    not reach it (``manual.agency_not_told``)."""
    for case in manual.cases_with_the_agency(env.store, client.id, invoice=invoice, customer=customer):
        env.problems.warning(manual.agency_not_told(client, case, what))


def _json(items: list[dict[str, object]]) -> None:
    click.echo(json.dumps({"items": items}, indent=2, ensure_ascii=False))
