"""Resolving sends a stopped run left ``pending`` (a letter or an intent committed, no step recorded).

Such a send may or may not have reached the debtor, so it is never simply sent again. Letters first
(``connector.store.letters``), each with the intents of the invoices it names:

- ``outbox``: the letter's PDF is written last, so its presence (in the outbox, or in ``posted/``
  already) proves the letter complete: every invoice's step is recorded. A letter of today without it
  never left the building: what it wrote is removed and it is settled failed, so tonight's decision
  writes the letter again (its invoices grouped afresh). An older one with only some files written is
  recorded as sent-unconfirmed; with none, it never happened.
- ``email``: treated as "may have been sent": recorded as sent-unconfirmed and the accountant is
  warned. A second e-mail is never sent.

Then the intents no letter covers (Tripletex's, and an older arsync's):

- ``outbox`` (an older arsync's ``.txt`` letter): the letter file's presence proves the send complete.
  Today's intent without it is completed by the normal send (same file names). An older
  one with only some files written is recorded as sent-unconfirmed; with none, it never happened.
- ``tripletex``: Tripletex is asked whether the reminder exists; yes → recorded as sent, no → it
  never happened (the invoice is decided afresh). When Tripletex cannot be asked, the intent stays
  pending and the invoice gets no reminder until it can.
- ``email`` (and anything else): treated as "may have been sent": the step is recorded as
  sent-unconfirmed and the accountant is warned. A second e-mail is never sent.

The pipeline resolves before the night's decision, so the steps recorded here are decided with.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from connector.actions.send import channel_for
from connector.channels.base import Channel, ChannelError
from connector.channels.outbox import OutboxChannel
from connector.channels.tripletex import TripletexChannel
from connector.config import ClientConfig
from connector.files import remove_unfinished
from connector.store import Store, sends
from connector.store import letters as book
from connector.store.facts import load_facts
from connector.store.sends import SendIntent

log = logging.getLogger("arsync.dunning")

UNCONFIRMED_DETAIL = "sent-unconfirmed: the run stopped while sending; check before contacting the debtor"


@dataclass
class Resolution:
    recorded: int = 0  # steps recorded from interrupted sends
    warnings: list[str] = field(default_factory=list)


def resolve_pending(
    store: Store, client: ClientConfig, as_of: date, channels: dict[str, Channel] | None = None
) -> Resolution:
    out = Resolution()
    channels = channels if channels is not None else {}
    remove_unfinished_files(client)
    _letters(store, client, as_of, out)
    # An intent of a letter still pending (another run's, in flight) is resolved with its letter, never alone.
    lettered = {
        (number, record.kind, record.sent_on)
        for record in store.read(book.load, client.id, status=book.PENDING)
        for number in record.invoices
    }
    for pending in store.read(sends.intents, client.id, status=sends.PENDING):
        if (pending.invoice_number, str(pending.step), pending.sent_on) in lettered:
            continue
        if not store.may_resolve(client.id, pending.claimed_by):
            continue  # another run's send in flight: not ours to resolve, and no alarm
        intent = store.write(sends.take_over, pending, owner=store.run.key, at=store.now())
        if intent is None:
            continue  # settled or taken by another run meanwhile
        if intent.channel == "outbox":
            _outbox(store, client, intent, as_of, out)
        elif intent.channel == "tripletex":
            _tripletex(store, client, intent, channels, out)
        else:
            _unconfirmed(store, intent, out, f"the {intent.channel} send was interrupted")
    return out


def remove_unfinished_files(client: ClientConfig) -> list[str]:
    """Temp files a stopped run left half-written in the client's outbox folders (reminders, and collection
    cases when the provider is the outbox): removed. The intents they belonged to are resolved as usual."""
    folders = [client.reminders.path]
    if client.collection.provider == "outbox":
        folders.append(client.collection.path)
    removed = []
    for folder in (f for f in folders if f is not None):
        for name in remove_unfinished(folder):
            log.info("client %s: removed %s, left unfinished by a run that stopped (%s)", client.id, name, folder)
            removed.append(str(folder / name))
    return removed


def _letters(store: Store, client: ClientConfig, as_of: date, out: Resolution) -> None:
    pending = store.read(book.load, client.id, status=book.PENDING)
    if not pending:
        return
    open_intents = store.read(sends.intents, client.id, status=sends.PENDING)
    for left in pending:
        if not store.may_resolve(client.id, left.claimed_by):
            continue  # another run's letter in flight: not ours to resolve, and no alarm
        record = store.write(book.take_over, left, owner=store.run.key, at=store.now())
        if record is None:
            continue  # settled or taken by another run meanwhile
        intents = _letter_intents(store, record, open_intents)
        if intents is None:
            continue  # one of its intents was taken by another run: that run resolves the letter
        if record.channel != "outbox":
            _letter_unconfirmed(store, record, intents, out, f"the {record.channel} send was interrupted")
            continue
        folder = client.reminders.path
        if folder is None:
            _letter_unconfirmed(store, record, intents, out, "the outbox folder is no longer configured")
            continue
        box = OutboxChannel(folder)
        found = box.where(record.stem)
        if found is not None and found[0] != "cancelled":
            ref = found[1].name
            store.write(book.complete, record, intents, sends.SENT, ref=ref, detail=ref, at=store.now())
            out.recorded += max(len(intents), 1)
            log.info("client %s: completed interrupted letter %s (%s)", client.id, record.letter_id, ref)
        elif record.sent_on == as_of:
            for path in box.files(record.stem):  # only arsync's own unfinished output; nothing was posted
                path.unlink(missing_ok=True)
            error = "interrupted before the letter was complete; it is written again"
            store.write(book.fail, record, intents, error, at=store.now())
        elif box.files(record.stem):
            _letter_unconfirmed(store, record, intents, out, "some of its files were written")
        else:
            store.write(book.fail, record, intents, "interrupted before any file was written", at=store.now())


def _letter_intents(store: Store, record: book.LetterRecord, open_intents: list[SendIntent]) -> list[SendIntent] | None:
    """The pending intents of the invoices the letter names, taken over by this run with the letter; None
    when one of them cannot be (another run holds it now)."""
    taken = []
    for intent in open_intents:
        named = intent.invoice_number in record.invoices and str(intent.step) == record.kind
        if not named or intent.sent_on != record.sent_on:
            continue
        mine = store.write(sends.take_over, intent, owner=store.run.key, at=store.now())
        if mine is None:
            return None
        taken.append(mine)
    return taken


def _letter_unconfirmed(
    store: Store, record: book.LetterRecord, intents: list[SendIntent], out: Resolution, why: str
) -> None:
    store.write(book.complete, record, intents, sends.UNCONFIRMED, ref="", detail=UNCONFIRMED_DETAIL, at=store.now())
    out.recorded += max(len(intents), 1)
    named = ", ".join(record.invoices)
    message = (
        f"letter {record.letter_id} ({record.kind} of {record.sent_on.isoformat()} for invoice {named}) via "
        f"{record.channel} may have been sent ({why}); recorded as sent-unconfirmed, not sent again — check with "
        "the debtor's copy before any follow-up"
    )
    log.warning("client %s: %s", record.client_id, message)
    out.warnings.append(message)


def _what(intent: SendIntent) -> str:
    return f"{intent.step} for invoice {intent.invoice_number} of {intent.sent_on.isoformat()}"


def _unconfirmed(store: Store, intent: SendIntent, out: Resolution, why: str) -> None:
    store.write(sends.complete, intent, sends.UNCONFIRMED, ref="", detail=UNCONFIRMED_DETAIL, at=store.now())
    out.recorded += 1
    message = (
        f"{_what(intent)} via {intent.channel} may have been sent ({why}); recorded as sent-unconfirmed, "
        "not sent again — check with the debtor's copy before any follow-up"
    )
    log.warning("client %s: %s", intent.client_id, message)
    out.warnings.append(message)


def _outbox(store: Store, client: ClientConfig, intent: SendIntent, as_of: date, out: Resolution) -> None:
    folder = client.reminders.path
    if folder is None:
        _unconfirmed(store, intent, out, "the outbox folder is no longer configured")
        return
    box = OutboxChannel(folder)
    stem = box.stem(intent.client_id, intent.invoice_number, str(intent.step), intent.sent_on)
    letter = folder / f"{stem}.txt"
    if letter.is_file():
        store.write(sends.complete, intent, sends.SENT, ref=letter.name, detail=letter.name, at=store.now())
        out.recorded += 1
        log.info("client %s: completed interrupted %s (%s)", intent.client_id, _what(intent), letter.name)
        return
    if intent.sent_on == as_of:
        return  # today's send writes the same files again, which completes it
    partial = folder.is_dir() and any(p.name.startswith(stem) for p in folder.iterdir())
    if partial:
        _unconfirmed(store, intent, out, "some of its files were written")
        return
    with store.transaction() as conn:
        sends.settle(conn, intent, sends.FAILED, at=store.now(), error="interrupted before any file was written")


def _tripletex(
    store: Store, client: ClientConfig, intent: SendIntent, channels: dict[str, Channel], out: Resolution
) -> None:
    try:
        if "tripletex" not in channels:
            channels["tripletex"] = channel_for(client, "tripletex")
        channel = channels["tripletex"]
        if not isinstance(channel, TripletexChannel):
            raise ChannelError("tripletex channel unavailable")
        invoices = store.read(load_facts, client.id).invoices
        invoice = next((i for i in invoices if i.number == intent.invoice_number and i.kind.value == "invoice"), None)
        if invoice is None:
            raise ChannelError(f"invoice {intent.invoice_number} is no longer in the ledger")
        found = channel.find_reminder(invoice, intent.step, intent.sent_on)
    except Exception as exc:  # cannot ask: keep it pending, and send nothing for the invoice
        message = f"{_what(intent)} via tripletex is unresolved ({exc}); no reminder for it until Tripletex answers"
        log.warning("client %s: %s", intent.client_id, message)
        out.warnings.append(message)
        return
    if found is not None:
        store.write(sends.complete, intent, sends.SENT, ref=found, detail=found, at=store.now())
        out.recorded += 1
        return
    with store.transaction() as conn:
        sends.settle(conn, intent, sends.FAILED, at=store.now(), error="interrupted; Tripletex has no such reminder")
