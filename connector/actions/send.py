"""Sending a letter: the content (``connector.actions.letters``), the PDF and text (``connector.letters``), the
channel, and every step it takes recorded as a fact.

The act stage (:mod:`connector.actions.act`) calls :func:`send_letter` once per letter of the night — one
customer's invoices due for the same step (``connector.actions.letters.groups``) — and :func:`send_document`
for the letters that are not ladder steps (the written follow-up of an agreement, the handover to the agency).

Exactly once, per invoice and per letter: a step already recorded for an invoice today is never sent again,
and an invoice whose earlier send is unresolved is left out of the letter (the others still get it). The
letter is written ahead (``connector.store.letters``, ``pending``), then each invoice's send intent
(``connector.store.sends``, unchanged), then the channel is called; after it, one transaction records every
invoice's step and settles the intents and the letter. A crash anywhere in between is resolved by
:mod:`connector.actions.resolve` on the next run, never by sending blindly. A channel failure
(``ChannelError``) settles the letter and its intents ``failed``, records no step and propagates: the caller
reports it and goes on; the next run tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from connector.actions import letters as content
from connector.actions.bookings import plan_charges
from connector.channels import ehf_reminder
from connector.channels.base import Channel, ChannelError, LetterMessage, ReminderMessage
from connector.channels.email import EmailChannel
from connector.channels.outbox import OutboxChannel
from connector.channels.tripletex import TripletexChannel
from connector.config import ClientConfig, ConfigError
from connector.dunning.calendar import effective_due_date
from connector.dunning.fees import fee_for
from connector.dunning.ladder import next_step
from connector.letters import Letter, invoice_pdf, render_pdf, render_text, with_invoice_copies
from connector.letters.serial import to_json
from connector.model import Action, Attachment, Customer, Decision, DocKind, Facts
from connector.store import Store, sends
from connector.store import letters as book
from connector.store.ledger import load_attachments
from connector.store.letters import LetterRecord
from connector.store.sends import SendIntent

log = logging.getLogger("arsync.dunning")


def channel_for(client: ClientConfig, name: str) -> Channel:
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


def _channel(client: ClientConfig, name: str, channels: dict[str, Channel]) -> Channel:
    if name not in channels:
        channels[name] = channel_for(client, name)
    return channels[name]


# ---- rendering ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    pdf: bytes  # the letter (and statement), then the invoice copies
    letter_pdf: bytes  # the letter (and statement) alone
    copies: tuple[Attachment, ...]
    subject: str
    body: str


def invoice_copies(
    store: Store, client_id: str, numbers: Sequence[str], read: Mapping[str, Sequence[Attachment]] | None = None
) -> dict[str, Attachment]:
    """Each invoice's copy as a readable PDF, when its e-invoice carried one (``letters.invoice_pdf``);
    ``read``: the invoices' attachments when the caller has them."""
    out: dict[str, Attachment] = {}
    for number in numbers:
        if read is not None and number in read:
            attachments = read[number]
        else:
            attachments = store.read(load_attachments, client_id, number)
        pdf = invoice_pdf(attachments)
        if pdf is not None:
            name = next((a.filename for a in attachments if a.content == pdf), f"{number}.pdf")
            out[number] = Attachment(client_id, number, name, "application/pdf", pdf)
    return out


def render(
    client: ClientConfig, letter: Letter, copies: Sequence[Attachment], extra: Sequence[Letter] = ()
) -> Rendered:
    """The letter's PDF (with ``extra`` letters behind it, e.g. a statement) and its text, in the client's
    templates when it has its own (``[clients.reminders] letter_templates``)."""
    templates = client.reminders.letter_templates
    pdf = render_pdf(letter, templates)
    if extra:
        pdf = with_invoice_copies(pdf, [render_pdf(x, templates) for x in extra])  # merged the same way
    text = render_text(letter, templates)
    return Rendered(with_invoice_copies(pdf, [c.content for c in copies]), pdf, tuple(copies), text.subject, text.body)


# ---- a ladder letter ------------------------------------------------------------------------------------


def send_letter(
    store: Store,
    client: ClientConfig,
    facts: Facts,
    group: content.Group,
    as_of: date,
    channels: dict[str, Channel],
    warnings: list[str] | None = None,
    *,
    decisions: Sequence[Decision] = (),
    fee_letters: Mapping[str, Sequence[tuple[date, Decimal]]] | None = None,
) -> list[tuple[str, str]]:
    """Send the group's letter; (invoice, report line) for each invoice it named, [] when none was sent
    (already sent today, or every invoice's earlier send unresolved — then a line goes to ``warnings``).

    ``decisions``: the night's decisions, for the statement of account that goes with a reminder when the
    policy says so (``statement_with_reminder``); ``fee_letters``: :func:`connector.store.letters.fee_letters`,
    read once for the night by the caller (read here when not given)."""
    if group.channel == "tripletex":
        return [
            line for d in group.decisions if (line := _by_tripletex(store, client, facts, d, as_of, channels, warnings))
        ]
    done = content.steps_by_invoice(facts.steps)
    todo = [
        d
        for d in group.decisions
        if not any(s.step is group.step and s.sent_on == as_of for s in done.get(d.invoice_number, []))
    ]
    todo = [d for d in todo if not _unresolved(store, client, d.invoice_number, group.step, warnings)]
    if not todo:
        return []
    group = replace(group, decisions=tuple(todo))
    channel = _channel(client, group.channel, channels)
    kind = content.LetterKind(group.step.value)
    letter_id = store.read(book.free_id, client.id, content.reference(kind, group.customer_id, as_of))
    attachments = {n: store.read(load_attachments, client.id, n) for n in group.numbers}
    copies = invoice_copies(store, client.id, group.numbers, attachments)
    if fee_letters is None:
        fee_letters = store.read(book.fee_letters, client.id)
    demand = content.demand_letter(
        client,
        facts,
        group,
        as_of,
        letter_id,
        fee_letters=fee_letters,
        copies_attached=len(copies) == len(group.numbers),
    )
    letter = demand.letter
    extra = []
    if client.policy.statement_with_reminder and group.step is Action.REMINDER:
        statement = content.statement_letter(
            client, facts, decisions or group.decisions, group.customer_id, as_of, letter_id
        )
        extra = [statement] if statement is not None else []
    rendered = render(client, letter, [copies[n] for n in group.numbers if n in copies], extra)
    customer = content.customer_of(client, facts, group.customer_id)
    stem = content.stem(client.id, group.customer_id, kind, as_of, letter_id)
    invoices = {i.number: i for i in facts.invoices if i.kind is DocKind.INVOICE}
    documents = tuple(
        (
            f"{stem}--{line.number}.xml",
            ehf_reminder.build(
                letter,
                line,
                document_id=f"{letter_id}-{line.number}" if len(letter.invoices) > 1 else letter_id,
                country=client.country,
                customer=customer,
                note=rendered.subject,
                attachments=attachments.get(line.number, ()),
            ),
        )
        for line in letter.invoices
        if line.number in invoices
    )
    message = LetterMessage(
        client.id, letter_id, stem, kind.value, customer, as_of, rendered.subject, rendered.body, rendered.pdf,
        rendered.letter_pdf, rendered.copies, documents, group.numbers,
    )  # fmt: skip
    record = LetterRecord(
        client.id, letter_id, kind.value, group.customer_id, as_of, group.channel, book.PENDING, group.numbers,
        group.currency, letter.total_owed.amount, sum(demand.fees.values(), start=Decimal("0.00")), stem,
        to_json(letter), pay_by=letter.pay_by,
    )  # fmt: skip
    claimed = store.write(book.begin, record, owner=store.run.key, at=store.now())
    if claimed is None:  # another run took this letter's id first: that run writes it
        log.info("client %s: letter %s was begun by another run", client.id, letter_id)
        return []
    record = claimed
    # Every invoice's intent is claimed (compare-and-set) before the channel is called: of two runs only one
    # ever holds them all, so one letter is never sent twice.
    intents: list[SendIntent] = []
    for d in group.decisions:
        intent = _begin(
            store, client, d.invoice_number, group.step, as_of, group.channel, demand.fees[d.invoice_number],
            d.currency, warnings,
        )  # fmt: skip
        if intent is None:  # (another run took it after all): this letter is not sent; the next run regroups
            error = f"the send of invoice {d.invoice_number} was begun elsewhere"
            store.write(book.fail, record, intents, error, at=store.now())
            return []
        intents.append(intent)
    invoices_by_number = {i.number: i for i in facts.invoices if i.kind is DocKind.INVOICE}
    for intent in intents:  # the fee and interest each invoice's step charges, written ahead (issue 16)
        inv = invoices_by_number[intent.invoice_number]
        plan_charges(store, client, intent, inv, demand.interest.get(intent.invoice_number))
    try:
        result = channel.deliver_letter(message)  # type: ignore[union-attr]
    except ChannelError as exc:
        store.write(book.fail, record, intents, str(exc), at=store.now())
        raise
    # Anything else leaves the letter pending: the next run resolves it (may have been sent).
    intents = [replace(i, channel=result.channel) for i in intents]
    store.write(book.complete, record, intents, sends.SENT, ref=result.ref, detail=result.ref, at=store.now())
    log.info(
        "client %s: %s %s for invoices %s via %s",
        client.id,
        group.step,
        letter_id,
        ", ".join(group.numbers),
        result.channel,
    )
    lines = []
    for d in group.decisions:
        fee = demand.fees[d.invoice_number]
        lines.append(
            (
                d.invoice_number,
                f"{group.step} for invoice {d.invoice_number} via {result.channel} ({result.ref}), letter {letter_id}, "
                f"fee {fee} {d.currency}",
            )
        )
    return lines


def _unresolved(store: Store, client: ClientConfig, number: str, step: Action, warnings: list[str] | None) -> bool:
    """An earlier send of the invoice is still pending: it is left out of tonight's letter (never sent twice)."""
    for prior in store.read(sends.intents, client.id, status=sends.PENDING):
        if prior.invoice_number != number:
            continue
        if not store.may_resolve(client.id, prior.claimed_by):  # another run's send in flight: left to it, no alarm
            log.info("client %s: invoice %s: the %s is being sent by another arsync run", client.id, number, prior.step)
            return True
        message = (
            f"invoice {number}: {step} not sent: the {prior.step} of {prior.sent_on.isoformat()} "
            f"via {prior.channel} is unresolved"
        )
        log.warning("client %s: %s", client.id, message)
        if warnings is not None:
            warnings.append(message)
        return True
    return False


# ---- letters that are not ladder steps ------------------------------------------------------------------


def send_document(
    store: Store,
    client: ClientConfig,
    facts: Facts,
    letter: Letter,
    *,
    channel_name: str,
    about: str,
    channels: dict[str, Channel],
) -> str:
    """Send a follow-up or handover letter through the client's channel, written ahead like a ladder letter
    (exactly once per ``about``: the caller checks the book first); returns the report line."""
    numbers = tuple(line.number for line in letter.invoices)
    copies = invoice_copies(store, client.id, numbers)
    rendered = render(client, letter, [copies[n] for n in numbers if n in copies])
    customer = content.customer_of(client, facts, letter.debtor.customer_no)
    stem = content.stem(client.id, customer.customer_id, letter.kind, letter.sent_on, letter.reference)
    message = LetterMessage(
        client.id, letter.reference, stem, letter.kind.value, customer, letter.sent_on, rendered.subject,
        rendered.body, rendered.pdf, rendered.letter_pdf, rendered.copies, (), numbers,
    )  # fmt: skip
    record = LetterRecord(
        client.id, letter.reference, letter.kind.value, customer.customer_id, letter.sent_on, channel_name,
        book.PENDING, numbers, letter.currency, letter.total_owed.amount, Decimal("0.00"), stem, to_json(letter),
        pay_by=letter.pay_by, about=about,
    )  # fmt: skip
    channel = _channel(client, channel_name, channels)
    claimed = store.write(book.begin, record, owner=store.run.key, at=store.now())
    if claimed is None:  # another run took this letter's id first: that run writes it
        return f"{letter.kind.value} letter {letter.reference}: begun by another run, not sent again"
    record = claimed
    try:
        result = channel.deliver_letter(message)  # type: ignore[union-attr]
    except ChannelError as exc:
        store.write(book.fail, record, [], str(exc), at=store.now())
        raise
    store.write(book.complete, record, [], sends.SENT, ref=result.ref, detail=result.ref, at=store.now())
    return f"{letter.kind.value} letter {letter.reference} to {customer.name} via {result.channel} ({result.ref})"


def free_letter_id(store: Store, client_id: str, kind: content.LetterKind, customer_id: str, as_of: date) -> str:
    return store.read(book.free_id, client_id, content.reference(kind, customer_id, as_of))


# ---- Tripletex writes its own reminders -------------------------------------------------------------------


def _by_tripletex(
    store: Store,
    client: ClientConfig,
    facts: Facts,
    d: Decision,
    as_of: date,
    channels: dict[str, Channel],
    warnings: list[str] | None,
) -> tuple[str, str] | None:
    inv = next(i for i in facts.invoices if i.number == d.invoice_number and i.kind is DocKind.INVOICE)
    done = [s for s in facts.steps if s.invoice_number == inv.number]
    if any(s.step is d.action and s.sent_on == as_of for s in done):
        return None
    effective = effective_due_date(inv.due_date or inv.issue_date, client.country)
    nxt = next_step(client.policy.steps, done, effective)
    step = nxt.step if nxt is not None and nxt.action is d.action else None
    fee = fee_for(
        d.action,
        bool(step and step.fee),
        country=client.country,
        currency=inv.currency,
        due=effective,
        sent_on=as_of,
        previous=done,
        fee_agreed=client.policy.fee_agreed,
    )
    customer = facts.customers.get(inv.customer_id) or Customer(client.id, inv.customer_id, inv.customer_id)
    message = ReminderMessage(client.id, inv, customer, d.action, fee.amount, as_of)
    channel = _channel(client, "tripletex", channels)
    intent = _begin(store, client, inv.number, d.action, as_of, "tripletex", fee.amount, inv.currency, warnings)
    if intent is None:
        return None
    try:
        result = channel.deliver(message)  # type: ignore[union-attr]
    except ChannelError as exc:
        with store.transaction() as conn:
            sends.settle(conn, intent, sends.FAILED, at=store.now(), error=str(exc))
        raise
    # Tripletex's own reminder function charges and books its fee itself: nothing planned here (issue 16).
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
    line = f"{d.action} for invoice {inv.number} via {result.channel} ({result.ref}), fee {fee.amount} {inv.currency}"
    return inv.number, line


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


__all__ = ["channel_for", "render", "send_document", "send_letter"]
