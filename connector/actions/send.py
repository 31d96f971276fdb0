"""Sending a letter: the content (``connector.actions.letters``), the PDF and text (``connector.letters``), the
channel, and every step it takes recorded as a fact.

The act stage (:mod:`connector.actions.act`) calls :func:`send_letters` with the night's letters — each one
customer's invoices due for the same step (``connector.actions.letters.groups``) — and the follow-up stage
:func:`send_document` for the letters that are not ladder steps (the written follow-up of an agreement, the
handover to the agency).

Exactly once, per invoice and per letter: a step already recorded for an invoice today is never sent again,
and an invoice whose earlier send is unresolved is left out of the letter (the others still get it). Letters
go in bounded batches (:data:`BATCH_LETTERS`): each letter is written ahead (``connector.store.letters``,
``pending``) with each invoice's send intent (``connector.store.sends``, a compare-and-set claim), the
batch's in one transaction committed before any channel is called; after the channel, one transaction
records every invoice's step and settles the intents and the letters. A crash anywhere in between is
resolved by :mod:`connector.actions.resolve` on the next run, never by sending blindly (an outbox letter
whose PDF exists is done; one whose PDF is missing is written again). A channel failure (``ChannelError``)
settles the letter and its intents ``failed`` and records no step: the caller reports it and goes on; the
next run tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection

from connector import interrupt
from connector.actions import letters as content
from connector.actions.bookings import plan_charges
from connector.channels import ehf_reminder
from connector.channels.base import Channel, ChannelError, LetterChannel, LetterMessage, ReminderMessage, SendResult
from connector.channels.email import EmailChannel
from connector.channels.outbox import OutboxChannel
from connector.channels.tripletex import TripletexChannel
from connector.config import ClientConfig, ConfigError
from connector.dunning.calendar import effective_due_date
from connector.dunning.fees import fee_for
from connector.dunning.ladder import next_step
from connector.letters import (
    ChargeKind,
    Letter,
    RenderError,
    TemplateError,
    invoice_pdf,
    render_pdf,
    render_text,
    with_invoice_copies,
)
from connector.letters.serial import to_json
from connector.model import ZERO, Action, Attachment, Customer, Decision, DocKind, DunningStep, Facts, Invoice
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


# ---- ladder letters, in batches ---------------------------------------------------------------------

# Letters claimed, written and recorded together: the store commits a few times per batch, not several
# times per letter, and the outbox folder is fsynced once per batch. Bounded, so a crash leaves at most
# one batch to resolve (each letter exactly, by its PDF) and little rendered output is held at once.
BATCH_LETTERS = 200
BATCH_BYTES = 64 * 1024 * 1024
# Channels whose letters are recorded sent for the whole batch at once: the outbox, whose PDF proves a letter
# complete after a crash (connector.actions.resolve). An e-mail cannot be checked afterwards ("may have been
# sent"), so each is recorded as soon as it went: a crash leaves at most the one in hand unconfirmed.
BATCHED = ("outbox",)


@dataclass(frozen=True)
class Outcome:
    """What became of one group's letter: the (invoice, report line) of each invoice it named ([] when none
    was sent), or the error that kept it from being sent (the caller reports it; the next run tries again)."""

    group: content.Group
    lines: list[tuple[str, str]]
    error: Exception | None = None


@dataclass(frozen=True)
class _Ready:
    """A letter rendered and about to be claimed: its record, message and the intents it claims."""

    group: content.Group
    record: LetterRecord
    message: LetterMessage
    demand: content.Demand
    channel: LetterChannel
    intents: tuple[SendIntent, ...]


def send_letters(
    store: Store,
    client: ClientConfig,
    facts: Facts,
    groups: Iterable[content.Group],
    as_of: date,
    channels: dict[str, Channel],
    warnings: list[str] | None = None,
    *,
    decisions: Collection[Decision] = (),
    fee_letters: Mapping[str, Sequence[tuple[date, Decimal]]] | None = None,
) -> list[Outcome]:
    """Send the groups' letters, in order, in batches of :data:`BATCH_LETTERS`; one outcome per group handled.

    Per batch: the letters are rendered; then one transaction begins them and claims every invoice's intent
    (compare-and-set: of two runs only one holds a letter); one plans their charges; then each is written or
    sent; the folder is fsynced once; and one transaction records them sent. A stop asked for
    (``connector.interrupt``) is honoured between letters: the letter in hand finishes, the batch's letters
    not yet sent are released (their rows removed, their intents failed: nothing reached a debtor) and the
    batch's bookkeeping is written. ``decisions``: the night's, for the statement of account that goes with
    a reminder when the policy says so; ``fee_letters``: :func:`connector.store.letters.fee_letters`, read
    once for the night by the caller (read here when not given)."""
    if fee_letters is None:
        fee_letters = store.read(book.fee_letters, client.id)
    statements = None
    if client.policy.statement_with_reminder and decisions:
        groups = list(groups)
        statements = _open_by_customer(decisions, {g.customer_id for g in groups if g.step is Action.REMINDER})
    night = _Night(
        store, client, facts, as_of, channels, warnings, statements, fee_letters,
        content.steps_by_invoice(facts.steps), {i.number: i for i in facts.invoices if i.kind is DocKind.INVOICE},
    )  # fmt: skip
    outcomes: list[Outcome] = []
    batch: list[_Ready] = []
    held = 0
    for group in groups:
        if interrupt.requested():  # the operator asked to stop: nothing of this batch is claimed yet
            return outcomes
        if group.channel == "tripletex":
            outcomes.append(_by_tripletex_group(night, group))
            continue
        try:
            ready = _prepare(night, group)
        except (content.LetterError, RenderError, TemplateError) as exc:
            outcomes.append(Outcome(group, [], exc))
            continue
        if ready is None:
            outcomes.append(Outcome(group, []))
            continue
        batch.append(ready)
        held += len(ready.message.pdf)
        if len(batch) >= BATCH_LETTERS or held >= BATCH_BYTES:
            outcomes.extend(_send_batch(night, batch))
            batch, held, night.pending = [], 0, None
    if batch:
        outcomes.extend(_send_batch(night, batch))
    return outcomes


def send_letter(
    store: Store,
    client: ClientConfig,
    facts: Facts,
    group: content.Group,
    as_of: date,
    channels: dict[str, Channel],
    warnings: list[str] | None = None,
    *,
    decisions: Collection[Decision] = (),
    fee_letters: Mapping[str, Sequence[tuple[date, Decimal]]] | None = None,
) -> list[tuple[str, str]]:
    """One group's letter (:func:`send_letters`); (invoice, report line) for each invoice it named, [] when
    none was sent (already sent today, or every invoice's earlier send unresolved — then a line goes to
    ``warnings``). What kept it from being sent is raised (``ChannelError``, ``LetterError`` …)."""
    outcomes = send_letters(
        store, client, facts, [group], as_of, channels, warnings, decisions=decisions, fee_letters=fee_letters
    )
    for outcome in outcomes:
        if outcome.error is not None:
            raise outcome.error
    return outcomes[0].lines if outcomes else []


def _open_by_customer(decisions: Iterable[Decision], customers: set[str]) -> dict[str, list[Decision]]:
    """The open decisions of these customers, by customer: one pass over the night's decisions (which may be
    on disk, connector.engine.spool), not one per letter."""
    out: dict[str, list[Decision]] = {c: [] for c in customers}
    for d in decisions:
        if d.customer_id in out and d.open_amount > ZERO:
            out[d.customer_id].append(d)
    return out


def _statement_decisions(night: _Night, group: content.Group) -> Collection[Decision]:
    if night.statements is None:
        return group.decisions
    return night.statements.get(group.customer_id, ())


@dataclass
class _Night:
    """What every letter of the night's batches reads: the client, its facts and indexes over them."""

    store: Store
    client: ClientConfig
    facts: Facts
    as_of: date
    channels: dict[str, Channel]
    warnings: list[str] | None
    # the night's open decisions of each customer a reminder goes to, for its statement of account (None:
    # none given, a letter's own decisions are its statement's)
    statements: dict[str, list[Decision]] | None
    fee_letters: Mapping[str, Sequence[tuple[date, Decimal]]]
    done: dict[str, list[DunningStep]]
    invoices: dict[str, Invoice]
    pending: dict[str, list[SendIntent]] | None = None  # unresolved intents by invoice, read once per batch
    ids: dict[str, set[str]] = field(default_factory=dict)  # letter ids taken, by kind and day, read once

    def letter_ids(self, prefix: str) -> set[str]:
        """The ids of the client's letters starting with ``prefix`` (kind and day): read once for the night,
        then kept up to date with the letters this run begins (another run's new one loses it the claim)."""
        if prefix not in self.ids:
            self.ids[prefix] = self.store.read(book.ids_from, self.client.id, prefix)
        return self.ids[prefix]

    def unresolved(self) -> dict[str, list[SendIntent]]:
        if self.pending is None:
            self.pending = {}
            for intent in self.store.read(sends.intents, self.client.id, status=sends.PENDING):
                self.pending.setdefault(intent.invoice_number, []).append(intent)
        return self.pending


def _prepare(night: _Night, group: content.Group) -> _Ready | None:
    """The group's letter rendered, with what it will claim; None when no invoice of it is to be sent now.
    Reads only: nothing is claimed yet (its id is kept from the night's next letters at once)."""
    store, client, facts, as_of = night.store, night.client, night.facts, night.as_of
    todo = [
        d
        for d in group.decisions
        if not any(s.step is group.step and s.sent_on == as_of for s in night.done.get(d.invoice_number, []))
    ]
    pending = night.unresolved()
    todo = [d for d in todo if not _unresolved(night, pending.get(d.invoice_number, ()), d.invoice_number, group.step)]
    if not todo:
        return None
    group = replace(group, decisions=tuple(todo))
    channel = _channel(client, group.channel, night.channels)
    kind = content.LetterKind(group.step.value)
    base = content.reference(kind, group.customer_id, as_of)
    prefix = content.reference_prefix(kind, as_of)
    letter_id = book.next_free(base, night.letter_ids(prefix))
    attachments = {n: store.read(load_attachments, client.id, n) for n in group.numbers}
    copies = invoice_copies(store, client.id, group.numbers, attachments)
    demand = content.demand_letter(
        client,
        facts,
        group,
        as_of,
        letter_id,
        fee_letters=night.fee_letters,
        copies_attached=len(copies) == len(group.numbers),
        invoices=night.invoices,
        done=night.done,
    )
    letter = demand.letter
    extra = []
    if client.policy.statement_with_reminder and group.step is Action.REMINDER:
        statement = content.statement_letter(
            client, facts, _statement_decisions(night, group), group.customer_id, as_of, letter_id
        )
        if statement is not None:
            statement = _with_todays_fees(statement, letter, as_of)
        extra = [statement] if statement is not None else []
    rendered = render(client, letter, [copies[n] for n in group.numbers if n in copies], extra)
    customer = content.customer_of(client, facts, group.customer_id)
    stem = content.stem(client.id, group.customer_id, kind, as_of, letter_id)
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
        if line.number in night.invoices
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
    intents = tuple(
        SendIntent(
            client.id,
            d.invoice_number,
            group.step,
            as_of,
            group.channel,
            sends.PENDING,
            demand.fees[d.invoice_number],
            d.currency,
        )
        for d in group.decisions
    )
    night.letter_ids(prefix).add(letter_id)  # this night's from now on (begun, or lost to a run)
    return _Ready(group, record, message, demand, channel, intents)  # type: ignore[arg-type]


def _send_batch(night: _Night, batch: list[_Ready]) -> list[Outcome]:
    """Claim, plan, send and record one batch of letters (see :func:`send_letters`)."""
    store, client = night.store, night.client
    outcomes: dict[str, Outcome] = {r.record.letter_id: Outcome(r.group, []) for r in batch}
    # Every letter's row and its invoices' intents are claimed, and committed, before any is sent.
    claimed = _claim(night, batch)
    with store.transaction() as conn:  # the fee and interest each invoice's step charges, written ahead (issue 16)
        at = store.now()
        for ready in claimed:
            for intent in ready.intents:
                inv = night.invoices[intent.invoice_number]
                interest = ready.demand.interest.get(intent.invoice_number)
                plan_charges(conn, client, intent, inv, interest, letter_id=ready.record.letter_id, at=at)
    delivered: list[tuple[_Ready, SendResult]] = []
    failed: list[tuple[_Ready, str]] = []
    left = list(claimed)
    try:
        while left and not interrupt.requested():
            ready = left.pop(0)  # the letter in hand: an unexpected error leaves it pending, for resolve
            try:
                result = ready.channel.deliver_letter(ready.message)
            except ChannelError as exc:
                outcomes[ready.record.letter_id] = Outcome(ready.group, [], exc)
                if ready.group.channel in BATCHED:
                    failed.append((ready, str(exc)))
                else:
                    store.write(book.fail, ready.record, ready.intents, str(exc), at=store.now())
                continue
            outcomes[ready.record.letter_id] = Outcome(ready.group, _lines(ready, result))
            if ready.group.channel in BATCHED:
                delivered.append((ready, result))
            else:
                _complete(store, [(ready, result)], [], [])
    finally:
        # Once per batch: the folder's new names are durable before the letters are recorded sent.
        for name in {r.group.channel for r, _ in delivered}:
            flush = getattr(night.channels.get(name), "flush", None)
            if flush is not None:
                flush()
        _complete(store, delivered, failed, left)
    for ready, result in delivered:
        log.info(
            "client %s: %s %s for invoices %s via %s",
            client.id,
            ready.group.step,
            ready.record.letter_id,
            ", ".join(ready.group.numbers),
            result.channel,
        )
    return [outcomes[r.record.letter_id] for r in batch]


def _claim(night: _Night, batch: list[_Ready]) -> list[_Ready]:
    """One transaction: each letter begun (its id inserted once) and every invoice's intent claimed
    (compare-and-set); the letters this run now holds whole. A letter one of whose invoices another run
    claimed first is settled failed (ours released: the next run regroups)."""
    store, client = night.store, night.client
    owner = store.run.key
    claimed: list[_Ready] = []
    with store.transaction() as conn:
        at = store.now()
        pending: dict[str, list[SendIntent]] = {}
        for prior in sends.intents(conn, client.id, status=sends.PENDING):  # as of now, not the batch's start
            pending.setdefault(prior.invoice_number, []).append(prior)
        for ready in batch:
            record = book.begin(conn, ready.record, owner=owner, at=at)
            if record is None:  # another run took this letter's id first: that run writes it
                log.info("client %s: letter %s was begun by another run", client.id, ready.record.letter_id)
                continue
            intents: list[SendIntent] = []
            for intent in ready.intents:
                mine = _claim_intent(conn, night, intent, pending.get(intent.invoice_number, ()), at)
                if mine is None:  # another run took it after all: this letter is not sent
                    error = f"the send of invoice {intent.invoice_number} was begun elsewhere"
                    book.fail(conn, record, intents, error, at=at)
                    break
                intents.append(mine)
            else:
                claimed.append(replace(ready, record=record, intents=tuple(intents)))
    return claimed


def _claim_intent(
    conn: Connection, night: _Night, intent: SendIntent, prior: Iterable[SendIntent], at: datetime
) -> SendIntent | None:
    """Claim one invoice's send intent; None when it must not be sent now (as :func:`_begin`)."""
    store, client = night.store, night.client
    for p in prior:
        if not store.may_resolve(client.id, p.claimed_by):
            log.info(
                "client %s: invoice %s: the %s is being sent by another arsync run", client.id, p.invoice_number, p.step
            )
            return None
        same = p.step is intent.step and p.sent_on == intent.sent_on and p.channel == intent.channel == "outbox"
        if same:  # an interrupted outbox send of today: writing the same files completes it
            return sends.take_over(conn, p, owner=store.run.key, at=at)
        _warn_unresolved(night.client.id, p, intent.invoice_number, intent.step, night.warnings)
        return None
    claimed = sends.begin(conn, intent, owner=store.run.key, at=at)
    if claimed is None:
        log.info(
            "client %s: invoice %s: the %s of %s was sent or begun by another run",
            client.id,
            intent.invoice_number,
            intent.step,
            intent.sent_on,
        )
    return claimed


def _complete(
    store: Store,
    delivered: Sequence[tuple[_Ready, SendResult]],
    failed: Sequence[tuple[_Ready, str]],
    released: Sequence[_Ready],
) -> None:
    """One transaction: the letters sent recorded (every invoice's step, intents and letter settled), those a
    channel refused settled failed, those never started released."""
    if not (delivered or failed or released):
        return
    with store.transaction() as conn:
        at = store.now()
        for ready, result in delivered:
            intents = [replace(i, channel=result.channel) for i in ready.intents]
            book.complete(conn, ready.record, intents, sends.SENT, ref=result.ref, detail=result.ref, at=at)
        for ready, error in failed:
            book.fail(conn, ready.record, ready.intents, error, at=at)
        for ready in released:
            book.release(conn, ready.record, ready.intents, "not sent: the run was stopped first", at=at)


def _lines(ready: _Ready, result: SendResult) -> list[tuple[str, str]]:
    letter_id, step = ready.record.letter_id, ready.group.step
    lines = []
    for d in ready.group.decisions:
        fee = ready.demand.fees[d.invoice_number]
        lines.append(
            (
                d.invoice_number,
                f"{step} for invoice {d.invoice_number} via {result.channel} ({result.ref}), letter {letter_id}, "
                f"fee {fee} {d.currency}",
            )
        )
    return lines


def _by_tripletex_group(night: _Night, group: content.Group) -> Outcome:
    """Tripletex writes its own reminder per invoice (one decision per group), each claimed on its own."""
    try:
        lines = [
            line
            for d in group.decisions
            if (
                line := _by_tripletex(
                    night.store, night.client, night.facts, d, night.as_of, night.channels, night.warnings
                )
            )
        ]
    except ChannelError as exc:
        return Outcome(group, [], exc)
    return Outcome(group, lines)


def _unresolved(night: _Night, prior: Iterable[SendIntent], number: str, step: Action) -> bool:
    """An earlier send of the invoice is still pending: it is left out of tonight's letter (never sent twice)."""
    for p in prior:
        if not night.store.may_resolve(night.client.id, p.claimed_by):  # another run's send in flight: no alarm
            log.info(
                "client %s: invoice %s: the %s is being sent by another arsync run", night.client.id, number, p.step
            )
            return True
        _warn_unresolved(night.client.id, p, number, step, night.warnings)
        return True
    return False


def _warn_unresolved(client_id: str, prior: SendIntent, number: str, step: Action, warnings: list[str] | None) -> None:
    message = (
        f"invoice {number}: {step} not sent: the {prior.step} of {prior.sent_on.isoformat()} "
        f"via {prior.channel} is unresolved"
    )
    log.warning("client %s: %s", client_id, message)
    if warnings is not None:
        warnings.append(message)


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
    """Send a follow-up or handover letter through the client's channel, written ahead like a ladder letter;
    exactly once per ``about`` (the caller checks the book first, and the letter's row is claimed by it:
    ``letters.begin_once``); returns the report line."""
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
    # Claimed by what it is about, not only by its id: a run that found it unsent after another began it
    # (under another id) sends nothing.
    claimed = store.write(book.begin_once, record, owner=store.run.key, at=store.now())
    if claimed is None:
        return f"{letter.kind.value} letter {letter.reference}: begun by another run, not sent again"
    record = claimed
    try:
        result = channel.deliver_letter(message)  # type: ignore[union-attr]
    except ChannelError as exc:
        store.write(book.fail, record, [], str(exc), at=store.now())
        raise
    flush = getattr(channel, "flush", None)
    if flush is not None:
        flush()  # the folder's new names durable before the letter is recorded sent
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
        _warn_unresolved(client.id, prior, invoice_number, step, warnings)
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


def _with_todays_fees(statement: Letter, letter: Letter, as_of: date) -> Letter:
    """The statement sent behind a reminder owes that reminder's fee too (the night's facts were read before
    its step is recorded), dated as the letter; never twice (a step of the day already counted keeps it)."""
    if any(c.kind is ChargeKind.REMINDER_FEE and c.charged_on == as_of for c in statement.charges):
        return statement
    todays = tuple(
        replace(c, charged_on=as_of)
        for c in letter.charges
        if c.kind is ChargeKind.REMINDER_FEE and c.charged_on is None
    )
    return replace(statement, charges=(*statement.charges, *todays)) if todays else statement


__all__ = ["Outcome", "channel_for", "render", "send_document", "send_letter", "send_letters"]
