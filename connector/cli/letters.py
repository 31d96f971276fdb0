"""``arsync letters list/cancel`` and ``arsync statement``: the letters written to debtors, voiding an outbox
letter that was not posted, and a customer's statement of account.

Posted: an outbox letter is posted once its PDF has left the outbox folder — moved into ``posted/`` beside it
(or anywhere else) by the accountant or the print service. Until then ``letters cancel`` voids it: its files
move into ``cancelled/`` and it no longer counts as a step (the ladder is where it was before it). What it charged
is taken back: a charge only planned is void, one booked into the booking file is reversed there by a line
arsync writes, one booked into a ledger is named for the accountant to reverse (``letter_service.charge_notes``).
"""

from __future__ import annotations

import json
import sys
from datetime import date

import click

from connector.actions import letter_service as service
from connector.cli.common import Env, as_of_option, client_option, json_option, output_file, refuse
from connector.cli.files import actor
from connector.cli.output import show
from connector.engine.decisions import decide_client
from connector.files import write_atomic
from connector.reports.freshness import OK, freshness
from connector.reports.tables import Table, customer_label
from connector.store.files import unreadable_files
from connector.store.sync import sync_status


@click.group()
def letters() -> None:
    """The letters written to debtors: list them, void one not yet posted.

    \b
    An outbox letter is posted once its PDF has left the outbox folder (moved into posted/ beside it, or
    anywhere else); until then `arsync letters cancel CLIENT LETTER` voids it: its files move into
    cancelled/ and it does not count as a step."""


@letters.command("list")
@client_option
@click.option("--customer", "customer_id", metavar="ID", help="Only this customer's letters.")
@json_option
@click.pass_obj
def letters_list(env: Env, client_ids: tuple[str, ...], customer_id: str | None, as_json: bool) -> None:
    """Every letter written (reminders, notices, follow-ups, handovers), oldest first, with where it is:
    written (still in the outbox: may be cancelled), posted, sent (e-mail), cancelled."""
    views = service.list_letters(env.store, env.settings.select(client_ids), customer_id=customer_id)
    if as_json:
        click.echo(json.dumps({"items": [v.as_json() for v in views]}, indent=2, ensure_ascii=False))
        return
    rows = [
        [
            v.record.client_id,
            v.record.letter_id,
            v.record.kind,
            customer_label(v.customer, v.record.customer_id),
            ", ".join(v.record.invoices),
            v.record.sent_on.isoformat(),
            v.record.pay_by.isoformat() if v.record.pay_by else "-",
            f"{v.record.total} {v.record.currency}",
            v.record.channel,
            v.state,
        ]
        for v in views
    ]
    head = ["client", "letter", "kind", "customer", "invoices", "sent", "pay by", "total", "channel", "state"]
    show(Table(head, rows, right={7}, keep=[3, 9, 8, 6, 7, 4, 8, 5, 2, 9], empty="No letters."))


@letters.command("cancel")
@click.argument("client_id", metavar="CLIENT")
@click.argument("letter_id", metavar="LETTER")
@click.option("--note", default="cancelled by the accountant", show_default=True, help="Why (kept with the letter).")
@as_of_option
@click.pass_obj
def letters_cancel(env: Env, client_id: str, letter_id: str, note: str, as_of: date) -> None:
    """Void an outbox letter not yet posted (its PDF still in the outbox folder): its files move into
    cancelled/, it no longer counts as a step, and the invoices are decided afresh at the next run (record a
    dispute, agreement or exclusion if they should not be reminded again). A fee or interest it booked into
    the booking file is reversed there (a line of its own); one booked into the ledger is named, to reverse."""
    client = env.settings.client(client_id)
    cancelled = service.cancel_letter(env.store, client, letter_id, by=actor(), note=note, on=as_of)
    where = f" (files in {cancelled.path.parent})" if cancelled.path else ""
    click.echo(
        f"letter {letter_id} of client {client_id} cancelled{where}: invoice(s) "
        f"{', '.join(cancelled.record.invoices)} are decided afresh at the next run"
    )
    for note in service.charge_notes(env.store, client, cancelled.record):
        click.echo(f"  {note}")


@click.command("statement")
@click.argument("client_id", metavar="CLIENT")
@click.argument("customer_id", metavar="CUSTOMER")
@as_of_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "pdf"]), default="text", show_default=True, help="Text or PDF."
)
@click.option("--output", "output", metavar="FILE", help="Write it to FILE (a PDF needs one unless piped).")
@click.pass_obj
def statement(env: Env, client_id: str, customer_id: str, as_of: date, fmt: str, output: str | None) -> None:
    """A customer's statement of account (kontoutskrift) as of --as-of: every open invoice with the payments
    and credit notes applied to it, and the balance; in the client's language. Nothing is sent or recorded."""
    target = output_file(output) if output else None
    client = env.settings.client(client_id)
    decisions = decide_client(env.store, client, as_of)
    letter = service.statement(env.store, client, customer_id, as_of, decisions)
    fresh = freshness(
        client, env.store.read(sync_status, client.id), as_of, env.store.read(unreadable_files, client.id)
    )
    if fresh.state != OK:  # it is the accountant's to send: said before a debtor is told a paid invoice is open
        env.problems.warning(
            f"client {client.id}: the data is {fresh.state} ({'; '.join(fresh.problems)}): a payment or credit note "
            "since may be missing from this statement"
        )
    if fmt == "pdf":
        data = service.statement_pdf(client, letter)
        if target is not None:
            write_atomic(target, data)
            click.echo(
                f"statement of {customer_id} written to {output} (balance {service.balance(letter)} {letter.currency})"
            )
        elif not sys.stdout.isatty():
            sys.stdout.buffer.write(data)
        else:
            raise refuse("a PDF is not printed on a terminal: give --output FILE (or pipe it)")
        return
    text = service.statement_text(client, letter)
    body = f"{text.subject}\n\n{text.body}"
    if target is not None:
        write_atomic(target, body.encode("utf-8"))
        click.echo(f"statement of {customer_id} written to {output}")
    else:
        click.echo(body, nl=False)
