"""``arsync calls list`` and ``arsync calls log``: the call list (step 3 of the playbook) and each call's outcome.

A customer is on the list when one of their invoices reached a ``call`` rung of the ladder; the list gives
what the caller needs (phone, open invoices, letters, payments, disputes, agreements, how they paid before,
the credit level, the playbook's guidance). ``calls log`` records the call and what it makes: an agreement
(promise / instalments, confirmed in writing by the next run), a dispute, a retry after ``call_retry_days``
(no answer; after ``call_attempts`` the ladder goes on), or a review (wrong number).
"""

from __future__ import annotations

import json
import re
from datetime import date

import click

from connector.actions import calls as service
from connector.cli.common import Env, as_of_option, client_option, json_option, optional_date
from connector.cli.files import actor
from connector.engine.decisions import decide_client
from connector.model import CallOutcome


@click.group()
def calls() -> None:
    """The call list (step 3 of the playbook) and each call's outcome."""


@calls.command("list")
@client_option
@as_of_option
@json_option
@click.pass_obj
def calls_list(env: Env, client_ids: tuple[str, ...], as_of: date, as_json: bool) -> None:
    """Who to call today, per customer: phone and contact, every open invoice, letters sent, payments,
    disputes, agreements, earlier calls, how they paid before, the credit level and the playbook's guidance."""
    entries = []
    for client in env.settings.select(client_ids):
        entries.extend(service.call_list(env.store, client, decide_client(env.store, client, as_of), as_of))
    if as_json:
        click.echo(
            json.dumps(
                {"as_of": as_of.isoformat(), "items": [e.as_json() for e in entries]}, indent=2, ensure_ascii=False
            )
        )
        return
    if not entries:
        click.echo("Nobody to call.")
        return
    for n, e in enumerate(entries):
        if n:
            click.echo()
        click.echo(_entry_text(e))


def _entry_text(e: service.CallEntry) -> str:
    fees = dict(e.fees)
    owed = ", ".join(f"{a} {c}" + (f" ({a - fees[c]} + fees {fees[c]})" if c in fees else "") for c, a in e.owed)
    out = [f"{e.name} ({e.customer_id}) — client {e.client_id} — owes {owed}"]
    out.append(
        f"  phone: {e.phone or 'none in the ledger'}"
        + (f"; ask for {e.contact}" if e.contact else "")
        + (f"; e-mail {e.email}" if e.email else "")
    )
    out.append("  open invoices:")
    for i in e.invoices:
        due = i.due_date.isoformat() if i.due_date else "no due date"
        mark = " ← call" if i.call_due else (f" ({i.action}: {', '.join(i.holds)})" if i.holds else f" ({i.action})")
        out.append(f"    {i.number}  due {due}  {i.open_amount} {i.currency} of {i.amount}{mark}")
    out.append("  letters sent:" + ("" if e.letters else " none"))
    for r in e.letters:
        pay_by = f", pay by {r.pay_by.isoformat()}" if r.pay_by else ""
        out.append(f"    {r.sent_on.isoformat()}  {r.kind} {r.letter_id} ({', '.join(r.invoices)}){pay_by}")
    out.append("  payments and credits:" + ("" if e.payments else " none"))
    for day, amount, cur, number in e.payments:
        out.append(f"    {day.isoformat() if day else '?'}  {amount} {cur} to invoice {number}")
    if e.disputes:
        out.append("  disputes:")
        out.extend(
            f"    {d.opened_on.isoformat()}  {d.invoice_number}: {d.reason} ({'open' if d.is_open else 'resolved'})"
            for d in e.disputes
        )
    if e.agreements:
        out.append("  agreements:")
        for a in e.agreements:
            dates = ", ".join(x.isoformat() for x in a.due_dates)
            removed = f" (removed {a.cancelled_on.isoformat()})" if a.cancelled_on else ""
            out.append(f"    {a.created_on.isoformat()}  {a.key} on {a.invoice_number}: {dates}{removed}")
    if e.calls:
        out.append("  earlier calls:")
        out.extend(f"    {c.called_on.isoformat()}  {c.outcome}" + (f": {c.notes}" if c.notes else "") for c in e.calls)
    h = e.history
    late = f"{h.avg_days_late} days late on average" if h.avg_days_late is not None else "no paid invoice to judge by"
    out.append(
        f"  history since {h.since.isoformat()}: {h.paid} of {h.invoices} invoices paid, {late}; "
        f"{h.reminded} needed a reminder, {h.collection_steps} a collection step"
    )
    out.append(f"  credit: {e.credit_level or 'not checked'}; if no agreement: {e.next_step}")
    out.append("  guidance:")
    out.extend(f"    - {line}" for line in e.guidance)
    return "\n".join(out)


def _every(_ctx: click.Context, _param: click.Parameter, value: str) -> int:
    m = re.fullmatch(r"(\d+)d?", value.strip())
    if not m or int(m.group(1)) < 1:
        raise click.BadParameter(f"'{value}' is not an interval in days (e.g. 30d)")
    return int(m.group(1))


@calls.command("log")
@click.argument("client_id", metavar="CLIENT")
@click.argument("customer_id", metavar="CUSTOMER")
@click.option("--outcome", type=click.Choice([o.value for o in CallOutcome]), required=True, help="How the call ended.")
@click.option("--promise-date", callback=optional_date, metavar="YYYY-MM-DD", help="promise: the day they will pay.")
@click.option("--instalments", type=click.IntRange(1, 60), help="instalments: how many.")
@click.option("--first", callback=optional_date, metavar="YYYY-MM-DD", help="instalments: the first one's day.")
@click.option("--every", callback=_every, default="30d", show_default=True, help="instalments: the interval.")
@click.option("--reason", default="", help="dispute: what the customer disputes.")
@click.option("--notes", "--note", "notes", default="", help="Anything worth keeping (shown with the call).")
@as_of_option
@click.pass_obj
def calls_log(
    env: Env,
    client_id: str,
    customer_id: str,
    outcome: str,
    promise_date: date | None,
    instalments: int | None,
    first: date | None,
    every: int,
    reason: str,
    notes: str,
    as_of: date,
) -> None:
    """Record a call and what it makes: promise/instalments → an agreement (confirmed in writing by the next
    run); dispute → a dispute on the invoices talked about; no_answer → back on the list after
    call_retry_days (after call_attempts the ladder goes on); wrong_number → a review until the number is
    fixed in the ledger."""
    client = env.settings.client(client_id)
    decisions = decide_client(env.store, client, as_of)
    logged = service.log_call(
        env.store,
        client,
        decisions,
        customer_id,
        CallOutcome(outcome),
        as_of,
        by=actor(),
        promise_date=promise_date,
        instalments=instalments,
        first=first,
        every_days=every,
        reason=reason,
        notes=notes,
    )
    for line in logged.lines:
        click.echo(line)
