"""Sending one ladder step: the lawful fee, the letter, the channel, and the step recorded as a fact.

The act stage (:mod:`connector.actions.act`) calls :func:`send_step` for each decision whose action is a
reminder or a collection notice. A step already recorded for the invoice today is never sent again (``run``
twice a day).

Every send is written ahead (:mod:`connector.store.sends`): the intent is committed as ``pending``
before the channel is called and settled with the recorded step after it, so a crash in between is
resolved by :mod:`connector.actions.resolve` on the next run instead of sending twice. A channel
failure (``ChannelError``) settles the intent as ``failed``, records no step and propagates: the
caller reports it and goes on; the next run tries again.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from decimal import Decimal

from connector.actions.bookings import plan_charges
from connector.channels.base import ChannelError, ReminderChannel, ReminderMessage
from connector.channels.email import EmailChannel
from connector.channels.letters import Letter
from connector.channels.outbox import OutboxChannel
from connector.channels.tripletex import TripletexChannel
from connector.config import ClientConfig, ConfigError
from connector.dunning.calendar import effective_due_date
from connector.dunning.fees import fee_for
from connector.dunning.interest import late_interest
from connector.dunning.ladder import next_step, stated_deadline
from connector.model import Action, Customer, Decision, DunningStep, Facts, Invoice
from connector.store import Store, sends
from connector.store.ledger import load_attachments
from connector.store.sends import SendIntent

log = logging.getLogger("arsync.dunning")


def channel_for(client: ClientConfig, name: str) -> ReminderChannel:
    r = client.reminders
    if name == "outbox":
        if r.path is None:
            raise ConfigError([f"client '{client.id}': reminders.path: the outbox channel needs a folder"])
        return OutboxChannel(r.path)
    if name == "email" and r.email is not None:
        return EmailChannel(r.email)
    if name == "tripletex" and r.tripletex is not None:
        return TripletexChannel(r.tripletex)
    raise ConfigError([f"client '{client.id}': channel '{name}' is not configured under [clients.reminders]"])


def send_step(
    store: Store,
    client: ClientConfig,
    facts: Facts,
    d: Decision,
    as_of: date,
    channels: dict[str, ReminderChannel] | None = None,
    warnings: list[str] | None = None,
    *,
    invoice: Invoice | None = None,
    done: list[DunningStep] | None = None,
) -> str | None:
    """Send the decision's step; returns a report line, or None when it was not sent (already sent
    today, or an earlier send of the invoice is unresolved — then a line goes to ``warnings``).

    ``invoice`` / ``done``: the decision's invoice and its steps, when the caller has them indexed (a run
    with many sends would otherwise scan all the client's invoices once per send)."""
    inv = invoice or next(i for i in facts.invoices if i.number == d.invoice_number and i.kind.value == "invoice")
    if done is None:
        done = [s for s in facts.steps if s.invoice_number == inv.number]
    if any(s.step is d.action and s.sent_on == as_of for s in done):
        return None
    effective = effective_due_date(inv.due_date or inv.issue_date, client.country)
    nxt = next_step(client.policy.steps, done, effective)
    step = nxt.step if nxt is not None and nxt.action is d.action else None
    wants_fee = bool(step and step.fee)
    channel_name = step.channel if step else "outbox"
    fee = fee_for(
        d.action,
        wants_fee,
        country=client.country,
        currency=inv.currency,
        due=effective,
        sent_on=as_of,
        previous=done,
        fee_agreed=client.policy.fee_agreed,
    )
    interest = late_interest(d.open_amount, effective, as_of, client.country, inv.currency)
    customer = facts.customers.get(inv.customer_id) or Customer(client.id, inv.customer_id, inv.customer_id)
    letter = Letter(
        step=d.action,
        language=client.language,
        creditor=client.name,
        creditor_org_no=client.org_no,
        debtor=customer.name,
        invoice=inv.number,
        due=inv.due_date or inv.issue_date,
        amount=d.open_amount,
        currency=d.currency,
        fee=fee.amount,
        kid=inv.kid,
        # the pay-by date the case timing waits for (connector.dunning.ladder): one definition for both
        deadline=stated_deadline(client, d.action, as_of),
        interest=interest.amount,
        interest_through=interest.through if interest.amount else None,
        interest_rate=interest.detail if interest.amount else "",
    )
    message = ReminderMessage(
        client_id=client.id,
        creditor_name=client.name,
        creditor_org_no=client.org_no,
        country=client.country,
        invoice=inv,
        customer=customer,
        letter=letter,
        fee=fee.amount,
        sent_on=as_of,
        attachments=tuple(store.read(load_attachments, client.id, inv.number)),
    )
    channels = channels if channels is not None else {}
    if channel_name not in channels:
        channels[channel_name] = channel_for(client, channel_name)
    intent = _begin(store, client, inv.number, d.action, as_of, channel_name, fee.amount, inv.currency, warnings)
    if intent is None:
        return None
    plan_charges(store, client, intent, inv, interest.amount)  # its fee and interest, written ahead (issue 16)
    try:
        result = channels[channel_name].deliver(message)
    except ChannelError as exc:
        with store.transaction() as conn:
            sends.settle(conn, intent, sends.FAILED, at=store.now(), error=str(exc))
        raise
    # Anything else leaves the intent pending: the next run resolves it (may have been sent).
    store.write(
        sends.complete,
        replace(intent, channel=result.channel),
        sends.SENT,
        ref=result.ref,
        detail=result.ref,
        at=store.now(),
    )
    log.info(
        "client %s: %s for invoice %s via %s (fee %s)", client.id, d.action, inv.number, result.channel, fee.amount
    )
    return f"{d.action} for invoice {inv.number} via {result.channel} ({result.ref}), fee {fee.amount} {inv.currency}"


def _begin(
    store: Store,
    client: ClientConfig,
    invoice_number: str,
    step: Action,
    as_of: date,
    channel: str,
    fee: Decimal,
    currency: str,
    warnings: list[str] | None,
) -> SendIntent | None:
    """Commit (claim) the send intent; None when it must not be sent now: an earlier send of the invoice is
    unresolved, another run is sending it, or it was sent meanwhile."""
    for prior in store.read(sends.intents, client.id, status=sends.PENDING):
        if prior.invoice_number != invoice_number:
            continue
        if not store.may_resolve(client.id, prior.claimed_by):
            # another run's send in flight: left to it, no alarm
            log.info(
                "client %s: invoice %s: the %s is being sent by another arsync run",
                client.id,
                invoice_number,
                prior.step,
            )
            return None
        same = prior.step is step and prior.sent_on == as_of and prior.channel == channel == "outbox"
        if same:  # an interrupted outbox send of today: writing the same files completes it
            return store.write(sends.take_over, prior, owner=store.run.key, at=store.now())
        message = (
            f"invoice {invoice_number}: {step} not sent: the {prior.step} of {prior.sent_on.isoformat()} "
            f"via {prior.channel} is unresolved"
        )
        log.warning("client %s: %s", client.id, message)
        if warnings is not None:
            warnings.append(message)
        return None
    intent = SendIntent(client.id, invoice_number, step, as_of, channel, sends.PENDING, fee, currency)
    claimed = store.write(sends.begin, intent, owner=store.run.key, at=store.now())
    if claimed is None:
        log.info(
            "client %s: invoice %s: the %s of %s was sent or begun by another run",
            client.id,
            invoice_number,
            step,
            as_of,
        )
    return claimed
