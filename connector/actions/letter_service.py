"""The letters written, for the accountant: list them, void an outbox letter not yet posted, get a letter's
PDF, and make a customer's statement of account. The CLI (``arsync letters``, ``arsync statement``) and the
workbench call these.

Where an outbox letter is: ``written`` (its PDF is in the outbox folder: it may still be voided), ``posted``
(its PDF was moved into ``posted/`` — or anywhere else out of the folder — by the accountant or the print
service: it went to the debtor), ``cancelled`` (voided: its files are in ``cancelled/`` and it does not count
as a step). An e-mailed letter is ``sent`` (or ``unconfirmed`` when a stopped run may have sent it).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from connector.actions import booking_file
from connector.actions import letters as content
from connector.actions.bookings import reverse_now
from connector.actions.send import free_letter_id, invoice_copies, render
from connector.channels.outbox import OutboxChannel
from connector.config import ClientConfig
from connector.errors import Refused
from connector.letters import Letter, LetterKind, TextLetter, render_text
from connector.letters.serial import from_json
from connector.model import Decision
from connector.store import Store, audit
from connector.store import bookings as charges_log
from connector.store import letters as book
from connector.store.facts import load_facts
from connector.store.ledger import load_customers

WRITTEN, POSTED, MOVED = "written", "posted", "posted (moved out of the outbox)"
# A letter with no pay-by date (a written follow-up, a handover) still in the outbox this long after it was
# written was forgotten: a letter is posted within days.
UNPOSTED_AFTER = timedelta(days=14)


@dataclass(frozen=True)
class LetterView:
    record: book.LetterRecord
    state: str  # written / posted / cancelled / sent / unconfirmed / pending / failed
    path: Path | None  # the PDF, when it is in the outbox, posted/ or cancelled/
    customer: str  # the customer's name

    def as_json(self) -> dict[str, Any]:
        r = self.record
        return {
            "client": r.client_id,
            "letter": r.letter_id,
            "kind": r.kind,
            "customer": r.customer_id,
            "customer_name": self.customer,
            "invoices": list(r.invoices),
            "sent_on": r.sent_on.isoformat(),
            "channel": r.channel,
            "status": r.status,
            "state": self.state,
            "total": str(r.total),
            "fee": str(r.fee),
            "currency": r.currency,
            "pay_by": r.pay_by.isoformat() if r.pay_by else None,
            "file": str(self.path) if self.path else None,
            "ref": r.ref,
            "about": r.about,
            "cancelled": (
                {"on": r.cancelled_on.isoformat(), "by": r.cancelled_by, "note": r.cancel_note}
                if r.cancelled_on
                else None
            ),
        }


def view(client: ClientConfig, record: book.LetterRecord, names: dict[str, str] | None = None) -> LetterView:
    name = (names or {}).get(record.customer_id, record.customer_id)
    if record.channel != "outbox" or client.reminders.path is None:
        return LetterView(record, record.status, None, name)
    found = OutboxChannel(client.reminders.path).where(record.stem)
    path = found[1] if found else None
    if record.status == book.CANCELLED:
        return LetterView(record, book.CANCELLED, path, name)
    if record.status not in (book.SENT, book.UNCONFIRMED):
        return LetterView(record, record.status, path, name)
    if found is None:
        return LetterView(record, MOVED, None, name)
    return LetterView(record, WRITTEN if found[0] == "outbox" else POSTED, path, name)


def list_letters(
    store: Store, clients: Iterable[ClientConfig], *, customer_id: str | None = None, kinds: Sequence[str] = ()
) -> list[LetterView]:
    """Every letter written to the clients' debtors (failed attempts left out), oldest first."""
    out: list[LetterView] = []
    for client in clients:
        names = {c.customer_id: c.name for c in store.read(load_customers, client.id)}
        for r in store.read(book.load, client.id, customer_id=customer_id):
            if r.status == book.FAILED or (kinds and r.kind not in kinds):
                continue
            out.append(view(client, r, names))
    return out


def unposted(store: Store, client: ClientConfig, as_of: date) -> list[LetterView]:
    """Outbox letters still in the outbox folder (written, never posted) whose pay-by date has passed (without
    one: written ``UNPOSTED_AFTER`` ago), oldest first. The ladder counts them as sent from the day they were
    written, so the next step falls due on letters the debtors never had."""
    late = [
        r for r in in_outbox(store, client) if r.sent_on <= as_of and (r.pay_by or r.sent_on + UNPOSTED_AFTER) < as_of
    ]
    if not late:
        return []
    names = {c.customer_id: c.name for c in store.read(load_customers, client.id)}
    folder = client.reminders.path
    assert folder is not None  # (letters in its outbox folder were found)
    return [LetterView(r, WRITTEN, folder / f"{r.stem}.pdf", names.get(r.customer_id, r.customer_id)) for r in late]


def in_outbox(store: Store, client: ClientConfig, kind: str | None = None) -> list[book.LetterRecord]:
    """The letters (of ``kind``) whose PDF is still in the outbox folder: written, not posted, oldest first."""
    folder = client.reminders.path
    if folder is None:
        return []
    try:  # one listing of the folder, not a look-up per letter: most letters were posted long ago
        with os.scandir(folder) as entries:
            present = {e.name for e in entries if e.name.endswith(".pdf")}
    except OSError:  # no folder yet (nothing written), or unreadable: `arsync letters list` says which
        return []
    if not present:
        return []
    return [
        r
        for r in store.read(book.load, client.id, kind=kind)
        if r.channel == "outbox" and r.status in (book.SENT, book.UNCONFIRMED) and f"{r.stem}.pdf" in present
    ]


def get_letter(store: Store, client: ClientConfig, letter_id: str) -> book.LetterRecord:
    record = store.read(book.get, client.id, letter_id)
    if record is None:
        raise Refused(f"client '{client.id}' has no letter '{letter_id}' (see `arsync letters list`)")
    return record


def cancel_letter(
    store: Store,
    client: ClientConfig,
    letter_id: str,
    *,
    by: str,
    note: str,
    on: date,
    now: datetime | None = None,
    address: str | None = None,
) -> LetterView:
    """Void an outbox letter that was not posted: its files move to ``cancelled/``, its steps are taken back
    (the ladder is where it was before the letter), the charges it only planned are void, those booked into the
    booking file are reversed there (:func:`charge_notes` says what became of each) and the record says who,
    when and why. Refused (nothing changed) for a letter posted, e-mailed, not sent or already cancelled."""
    record = get_letter(store, client, letter_id)
    if record.status == book.CANCELLED:
        raise Refused(f"letter {letter_id} was cancelled on {record.cancelled_on} already")
    if record.status not in (book.SENT, book.UNCONFIRMED):
        raise Refused(f"letter {letter_id} is {record.status}: only a letter written to the outbox can be cancelled")
    if record.channel != "outbox" or client.reminders.path is None:
        raise Refused(
            f"letter {letter_id} went by {record.channel} on {record.sent_on.isoformat()}: it cannot be called back"
        )
    box = OutboxChannel(client.reminders.path)
    found = box.where(record.stem)
    if found is None or found[0] == "posted":
        where = "its PDF is in posted/" if found else "its PDF is no longer in the outbox folder"
        raise Refused(
            f"letter {letter_id} was posted ({where}): it cannot be voided; record what the debtor should know "
            "instead (a dispute, an agreement, an exclusion)"
        )
    # files first: a letter whose PDF left the outbox can never be posted by mistake; a stop in between is
    # finished by cancelling again (its PDF is found in cancelled/)
    if found[0] == "outbox":
        box.cancel(record.stem)
    at = now or store.now()
    with store.transaction() as conn:  # the cancellation, its charges taken back and its audit row commit together
        book.cancel(conn, record, on=on, by=by, note=note, at=at)
        charges_log.take_back(conn, record, on=on, at=at)
        audit.record(conn, audit.AuditEntry(at, by, "letter.cancel", client.id, letter_id, note, address))
    reverse_now(store, client)
    return view(client, get_letter(store, client, letter_id))


def charge_notes(store: Store, client: ClientConfig, record: book.LetterRecord) -> list[str]:
    """What became of each fee and interest a cancelled letter had booked, or was booking, one line each for the
    accountant (a charge it only planned is void: nothing was booked, nothing to say). In the booking file
    arsync writes the reversal; in a ledger the accountant reverses the booking."""
    rows = store.read(charges_log.of_letter, record)
    reversals = {b.reverses: b for b in rows if b.reversal}
    notes = []
    for b in rows:
        if b.reversal or b.status not in (charges_log.BOOKED, charges_log.PENDING):
            continue
        what = f"the {b.label} of {b.amount} {b.currency} for invoice {b.invoice_number}"
        r = reversals.get(b.key)
        if r is None:  # booked into the ledger: arsync does not reverse a ledger's booking
            where = f"in {b.target} (entry {b.ref}, " if b.target != "file" else f"({b.ref}, "
            if b.status == charges_log.BOOKED:
                notes.append(f"{what} was booked {where}reference {b.reference}): reverse it there")
            else:
                notes.append(f"{what} was being booked in {b.target} (reference {b.reference}): if it was, reverse it")
            continue
        booked = f"was booked ({b.ref}, " if b.status == charges_log.BOOKED else "is being booked ("
        reversal = f"{what} {booked}reference {b.reference}): its reversal of {r.amount} {r.currency} ({r.reference})"
        if r.status == charges_log.BOOKED:
            notes.append(f"{reversal} is written to {r.ref}: import it into the ledger with that file")
        else:  # its charge is still being booked, or a run holds the client: the next run writes it
            assert client.bookings.path is not None  # (the charge went to a booking file)
            path = booking_file.file_for(client.bookings.path, client.id, r.on)
            notes.append(f"{reversal} goes into {path.name} at the next run: import it into the ledger with that file")
    return notes


def letter_pdf(store: Store, client: ClientConfig, letter_id: str) -> bytes:
    """The letter's PDF as the debtor got it: the file when it is still at hand (outbox, posted/, cancelled/),
    else made again from the letter's content as stored (with the invoice copies)."""
    record = get_letter(store, client, letter_id)
    found = view(client, record).path
    if found is not None and found.is_file():
        return found.read_bytes()
    letter = from_json(record.content)
    copies = invoice_copies(store, client.id, record.invoices)  # as the letter had them
    return render(client, letter, [copies[n] for n in record.invoices if n in copies]).pdf


def letter_content(store: Store, client: ClientConfig, letter_id: str) -> Letter:
    """What the letter said, as data (``connector.letters.Letter``)."""
    return from_json(get_letter(store, client, letter_id).content)


# ---- statement of account ------------------------------------------------------------------------------


def statement(
    store: Store, client: ClientConfig, customer_id: str, as_of: date, decisions: Sequence[Decision]
) -> Letter:
    """The customer's statement of account on ``as_of`` (kontoutskrift): every open invoice, the payments and
    credit notes applied to each, and the balance. ``decisions``: the client's, decided for ``as_of``."""
    facts = store.read(load_facts, client.id)
    if customer_id not in facts.customers:
        raise Refused(f"client '{client.id}' has no customer '{customer_id}'")
    letter_id = free_letter_id(store, client.id, LetterKind.STATEMENT, customer_id, as_of)
    letter = content.statement_letter(client, facts, decisions, customer_id, as_of, letter_id)
    if letter is None:
        raise Refused(f"customer '{customer_id}' of client '{client.id}' has nothing open on {as_of.isoformat()}")
    return letter


def statement_pdf(client: ClientConfig, letter: Letter) -> bytes:
    return render(client, letter, []).pdf


def statement_text(client: ClientConfig, letter: Letter) -> TextLetter:
    return render_text(letter, client.reminders.letter_templates)


def balance(letter: Letter) -> Decimal:
    return letter.total_owed.amount
