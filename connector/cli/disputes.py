"""``arsync disputes …``, ``arsync agreements …`` and ``arsync exclude …``: what the accountant learned on
the phone, recorded so that it holds dunning (hold codes ``disputed``, ``agreement``, ``excluded``) — and
listed and undone the same way.

Each takes the client as ``--client ID``; the older positional ``CLIENT`` still works for a release (with a
deprecation line). A dispute, an agreement or an exclusion is named by its id or by the invoice number.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import click

from connector.cli.common import (
    Env,
    as_of_option,
    client_option,
    json_option,
    one_client_option,
    optional_date,
    refuse,
    split_client,
)
from connector.cli.output import show
from connector.model import Agreement, Dispute, Exclusion, Facts
from connector.reports import tables
from connector.reports.tables import Table, customer_label
from connector.store import dunning as dunning_store
from connector.store import manual

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
    env.settings.client(client_id)
    # A typo would put the dispute on nothing while the real invoice keeps being dunned.
    if invoice not in _invoice_numbers(env, client_id) and not force:
        raise refuse(
            f"client '{client_id}' has no invoice '{invoice}' in the store; check the number, run "
            "`arsync sync` first, or pass --force to record it anyway"
        )
    dispute_id = f"manual-{uuid.uuid4().hex[:8]}"
    env.store.add_dispute(Dispute(client_id, invoice, dispute_id, as_of, reason, "manual"))
    click.echo(f"dispute {dispute_id} opened on {client_id} invoice {invoice}")


@disputes.command("resolve")
@one_client_option
@click.argument("args", nargs=-1, metavar="DISPUTE_ID|INVOICE")
@click.option("--note", default="resolved", show_default=True, help="How it was settled (kept with the dispute).")
@as_of_option
@click.pass_obj
def disputes_resolve(env: Env, client_opt: str | None, args: tuple[str, ...], note: str, as_of: date) -> None:
    """Resolve an open dispute (by its id, or by the invoice number): dunning of the invoice resumes."""
    client_id, ref = split_client(env, client_opt, args, ["dispute_id|invoice"])
    env.settings.client(client_id)
    open_ones = [d for d in env.store.facts(client_id).disputes if d.is_open]
    dispute = _one(
        [d for d in open_ones if d.dispute_id == ref] or [d for d in open_ones if d.invoice_number == ref],
        f"no open dispute '{ref}' for client '{client_id}' (by id or invoice number; see `arsync disputes list`)",
        lambda d: d.dispute_id,
        "open disputes",
    )
    env.store.resolve_dispute(client_id, dispute.dispute_id, as_of, note)
    click.echo(f"dispute {dispute.dispute_id} on invoice {dispute.invoice_number} resolved")


@disputes.command("list")
@client_option
@click.option("--all", "show_all", is_flag=True, help="Include resolved disputes.")
@json_option
@click.pass_obj
def disputes_list(env: Env, client_ids: tuple[str, ...], show_all: bool, as_json: bool) -> None:
    """List the open disputes (--all: the resolved ones too)."""
    rows = []
    for client in env.settings.select(client_ids):
        for d in env.store.facts(client.id).disputes:
            if show_all or d.is_open:
                rows.append(d)
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
    env.settings.client(client_id)
    if promise_date is not None and instalments is None and first is None:
        dates: tuple[date, ...] = (promise_date,)
    elif promise_date is None and instalments is not None and first is not None:
        dates = tuple(first + timedelta(days=every * k) for k in range(instalments))
    else:
        raise click.UsageError("give either --promise-date, or --instalments with --first (and --every)")
    # A promise already broken the day it is recorded would hold nothing (and lift at once).
    if dates[0] < as_of:
        option = "--promise-date" if promise_date is not None else "--first"
        raise refuse(f"{option} {dates[0].isoformat()} is before {as_of.isoformat()}: a promise must be in the future")
    if invoice not in _invoice_numbers(env, client_id):
        raise refuse(f"client '{client_id}' has no invoice '{invoice}' in the store (run `arsync sync` first?)")
    agreement_id = f"agreement-{uuid.uuid4().hex[:8]}"
    env.store.add_agreement(Agreement(client_id, invoice, agreement_id, as_of, dates, note))
    click.echo(f"agreement {agreement_id} on {client_id} invoice {invoice}: " + ", ".join(d.isoformat() for d in dates))


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
        for a in env.store.facts(client.id).agreements
        if show_all or a.cancelled_on is None
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
    active = [a for a in env.store.facts(client_id).agreements if a.cancelled_on is None]
    agreement = _one(
        [a for a in active if a.agreement_id == ref] or [a for a in active if a.invoice_number == ref],
        f"no agreement '{ref}' for client '{client_id}' (by id or invoice number; see `arsync agreements list`)",
        lambda a: a.agreement_id,
        "agreements",
    )
    with env.store.transaction() as conn:
        manual.cancel_agreement(conn, client_id, agreement.agreement_id, as_of, note)
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
    env.settings.client(client_id)
    if (invoice is None) == (customer is None):
        raise click.UsageError("give exactly one of --invoice or --customer")
    if until is not None and until < as_of:
        raise refuse(f"--until {until.isoformat()} is before {as_of.isoformat()}")
    if not force:
        # A typo (or a customer's name instead of its id) would exclude nothing while dunning goes on.
        facts = env.store.facts(client_id)
        if invoice is not None and invoice not in {i.number for i in facts.invoices}:
            raise refuse(f"client '{client_id}' has no invoice '{invoice}' in the store (or pass --force)")
        if customer is not None and customer not in facts.customers:
            raise refuse(f"client '{client_id}' has no customer '{customer}'{_did_you_mean(facts, customer)}")
    exclusion_id = f"exclusion-{uuid.uuid4().hex[:8]}"
    with env.store.transaction() as conn:
        dunning_store.add_exclusion(conn, Exclusion(client_id, exclusion_id, invoice, customer, as_of, until, reason))
    what = f"invoice {invoice}" if invoice else f"customer {customer}"
    click.echo(f"{exclusion_id}: {client_id} {what} excluded" + (f" until {until.isoformat()}" if until else ""))


@exclude.command("list")
@client_option
@click.option("--all", "show_all", is_flag=True, help="Include exclusions that ended or were removed.")
@json_option
@as_of_option
@click.pass_obj
def exclude_list(env: Env, client_ids: tuple[str, ...], show_all: bool, as_json: bool, as_of: date) -> None:
    """List the exclusions in force (--all: ended and removed ones too)."""
    found: list[tuple[Exclusion, str]] = []
    for client in env.settings.select(client_ids):
        with env.store.transaction() as conn:
            exclusions = list(dunning_store.load_exclusions(conn, client.id))
        customers = env.store.facts(client.id).customers if exclusions else {}
        for e in exclusions:
            if show_all or e.until is None or e.until >= as_of:
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
            e.until.isoformat() if e.until else "open",
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
    with env.store.transaction() as conn:
        active = [e for e in dunning_store.load_exclusions(conn, client_id) if e.until is None or e.until >= as_of]
    exclusion = _one(
        [e for e in active if e.exclusion_id == ref] or [e for e in active if ref in (e.invoice_number, e.customer_id)],
        f"no exclusion '{ref}' in force for client '{client_id}' (see `arsync exclude list`)",
        lambda e: e.exclusion_id,
        "exclusions",
    )
    with env.store.transaction() as conn:
        dunning_store.end_exclusion(conn, client_id, exclusion.exclusion_id, as_of - timedelta(days=1))
    what = f"invoice {exclusion.invoice_number}" if exclusion.invoice_number else f"customer {exclusion.customer_id}"
    click.echo(f"{exclusion.exclusion_id}: {client_id} {what} no longer excluded from {as_of.isoformat()}")


def _exclusion_json(e: Exclusion, as_of: date) -> dict[str, object]:
    return {
        "client": e.client_id,
        "exclusion_id": e.exclusion_id,
        "invoice": e.invoice_number,
        "customer": e.customer_id,
        "created_on": e.created_on.isoformat(),
        "until": e.until.isoformat() if e.until else None,
        "in_force": e.until is None or e.until >= as_of,
        "reason": e.reason,
    }


# ---- shared --------------------------------------------------------------------------------------


def _one(found: Sequence[Any], missing: str, ident: Any, what: str) -> Any:
    """The one record a reference names; refused when none or several (then naming them)."""
    if not found:
        raise refuse(missing)
    if len(found) > 1:
        raise refuse(f"several {what} match: {', '.join(ident(x) for x in found)}; give the id")
    return found[0]


def _did_you_mean(facts: Facts, given: str) -> str:
    by_name = [c for c in facts.customers.values() if c.name.casefold() == given.casefold()]
    if by_name:
        return f"; did you mean --customer {by_name[0].customer_id} ({by_name[0].name})?"
    return " (give the id shown in brackets after the name, or --force)"


def _invoice_numbers(env: Env, client_id: str) -> set[str]:
    return {i.number for i in env.store.facts(client_id).invoices}


def _json(items: list[dict[str, object]]) -> None:
    click.echo(json.dumps({"items": items}, indent=2, ensure_ascii=False))
