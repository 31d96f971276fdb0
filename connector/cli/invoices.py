"""``arsync invoices confirm``: the accountant checked an invoice by hand (step 1 of the playbook).

A confirmation lifts ``invoice_defect`` (the invoice is fit to remind on as it is) and ``partly_paid`` for the
payments known when it was given (the rest is owed); it is recorded with who, when and the note, and shown in
the invoice's evidence.
"""

from __future__ import annotations

from datetime import date

import click

from connector.cli.common import Env, actor, as_of_option, refuse
from connector.model import InvoiceCheck
from connector.store import audit
from connector.store import checks as checks_store
from connector.store.ledger import has_document


@click.group()
def invoices() -> None:
    """The accountant's own checks of an invoice."""


@invoices.command("confirm")
@click.argument("client_id")
@click.argument("invoice")
@click.option("--note", required=True, help="What was checked (kept and shown as evidence).")
@as_of_option
@click.pass_obj
def invoices_confirm(env: Env, client_id: str, invoice: str, note: str, as_of: date) -> None:
    """Mark an invoice checked: it is fit to remind on (lifts invoice_defect) and, if it was part-paid, the
    rest is owed (lifts partly_paid for the payments seen so far)."""
    env.settings.client(client_id)
    store = env.store
    at, who = store.now(), actor()
    with store.transaction() as conn:  # the check and its audit row commit together
        if not has_document(conn, client_id, invoice):
            raise refuse(  # one line, as every command refuses (no usage text: the command was typed right)
                f"client '{client_id}' has no invoice '{invoice}' in the store; check the number, or run `arsync sync`"
            )
        checks_store.add_check(conn, InvoiceCheck(client_id, invoice, as_of, who, note), at=at)
        audit.record(conn, audit.AuditEntry(at, who, "invoice.confirm", client_id, invoice, note))
    click.echo(f"invoice {invoice} of client {client_id} confirmed by {who} on {as_of.isoformat()}: {note}")
