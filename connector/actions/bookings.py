"""Fees and interest a letter charged, booked back where the client's books are (issue 16).

When arsync charges a reminder fee or late interest through a channel other than the ledger's own
reminder function, the ledger does not know it and the letter and the books disagree. So:

1. :func:`plan_charges` — called by the send (``actions/send.py``) after its own intent is committed
   and *before* the letter goes out — writes the charges ahead as ``planned``
   (:mod:`connector.store.bookings`). Late interest is cumulative from the due date in every letter,
   so only what this letter adds to what earlier letters charged is planned.
2. :func:`book_charges` — called by the act stage after the night's sends, and so also on the next
   run after a crash anywhere in between — books every planned charge whose letter was sent (or may
   have been: ``unconfirmed``), voids those whose letter failed, and settles the ones an interrupted
   run left ``pending`` by looking for them first: in the ledger by their unique reference, in the
   booking file by its reference column. A charge is booked exactly once: every move is a
   compare-and-set claim in the log (:mod:`connector.store.bookings`), so of two runs only one books it,
   and a charge another live run has in hand is left to it.
3. :func:`book_reversals` — a cancelled letter's charge booked into the booking file is reversed there: the
   cancellation planned the reversal (:func:`connector.store.bookings.take_back`), and it is written, in the
   same way, once the charge itself is booked — at once by ``arsync letters cancel`` (:func:`reverse_now`),
   else by the next run. A charge is its letter's: a letter written again after one was cancelled charges
   anew, and that is booked too. A booking in a ledger is the accountant's to reverse (they are told).

Where (``[clients.bookings] target``): the ledger, where its API books a charge exactly once (Fiken:
a general journal entry found again by its reference; PowerOffice: a manual voucher whose
ExternalImportReference PowerOffice itself refuses twice); otherwise a booking file per client and
day (:mod:`connector.actions.booking_file`), listed in the run report. Tripletex's own reminders
(channel ``tripletex``) book their charge themselves and plan nothing here.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection

from connector.actions import booking_file
from connector.config import ClientConfig, ConfigError
from connector.errors import ClientLocked
from connector.http import ApiError
from connector.model import SELF_BOOKING_CHANNELS, ZERO, Invoice
from connector.reports.run import BOOKING, ClientReport
from connector.sources.base import LedgerBooker, LedgerBooking
from connector.sources.systems import api_ledger
from connector.store import Store, sends
from connector.store import bookings as log_
from connector.store import letters as book
from connector.store.bookings import BOOKED, FEE, INTEREST, PENDING, PLANNED, VOID, FeeBooking
from connector.store.sends import SendIntent

log = logging.getLogger("arsync.dunning")

# Ledgers whose API books a charge exactly once (docs/ledgers.md, "Fees and interest booked back").
LEDGER_BOOKING = ("fiken", "poweroffice")


def target_of(client: ClientConfig) -> str:
    """``file``, or the ledger system the client's charges are booked into."""
    wanted, kind = client.bookings.target, client.ledger.kind
    if wanted != "file" and kind in LEDGER_BOOKING:
        return kind
    if wanted == "ledger":
        raise ConfigError(
            [f"client '{client.id}': bookings.target: the {kind} ledger cannot book charges through its API"]
        )
    return "file"


def plan_charges(
    conn: Connection,
    client: ClientConfig,
    intent: SendIntent,
    invoice: Invoice,
    interest: Decimal | None,
    *,
    letter_id: str,
    at: datetime,
) -> None:
    """Write the letter's charges ahead, in the caller's transaction committed before it is sent (the send's
    intent and the letter ``letter_id`` are committed already)."""
    if intent.channel in SELF_BOOKING_CHANNELS:
        return
    target = target_of(client)

    def charge(kind: str, amount: Decimal, account: str, text: str) -> FeeBooking:
        return FeeBooking(
            client.id,
            invoice.number,
            intent.step,
            intent.sent_on,
            kind,
            amount,
            invoice.currency,
            invoice.customer_id,
            account,
            text,
            target,
            letter_id=letter_id,
        )

    charges = []
    if intent.fee > ZERO:
        of = f"{intent.step} of {intent.sent_on.isoformat()}, letter {letter_id}"
        text = f"Reminder fee, invoice {invoice.number} ({of})"
        charges.append(charge(FEE, intent.fee, client.bookings.fee_account, text))
    added = (interest or ZERO) - log_.interest_charged(conn, client.id, invoice.number) if interest else ZERO
    if added > ZERO:
        text = f"Late interest, invoice {invoice.number}, through {intent.sent_on.isoformat()} (letter {letter_id})"
        charges.append(charge(INTEREST, added, client.bookings.interest_account, text))
    if charges:
        log_.plan(conn, charges, at=at)


def book_charges(
    store: Store,
    client: ClientConfig,
    report: ClientReport,
    booker_for: Callable[[ClientConfig], LedgerBooker] = api_ledger,
) -> None:
    """Book what the client's sent letters charged and is not booked yet; void what a failed or cancelled letter
    planned; then reverse what cancelled letters had booked (:func:`book_reversals`)."""
    rows = store.read(log_.bookings, client.id)
    charges = [b for b in rows if b.status not in (BOOKED, VOID) and not b.reversal]
    # Each charge follows its letter; a row from before v20 names none: its key's send intent says.
    letters = store.read(book.statuses, client.id, {b.letter_id for b in charges if b.letter_id})
    intents = {}
    if any(not b.letter_id for b in charges):
        intents = {(i.invoice_number, str(i.step), i.sent_on): i.status for i in store.read(sends.intents, client.id)}
    due: list[FeeBooking] = []
    for b in charges:
        letter = letters.get(b.letter_id) if b.letter_id else intents.get((b.invoice_number, str(b.step), b.sent_on))
        if b.status == PLANNED and letter in (sends.FAILED, book.CANCELLED, None):
            store.write(log_.settle, b, VOID, at=store.now(), error="the letter was not sent")
        elif b.status == PENDING:
            due.extend(_taken_over(store, client, b))  # booked even if its letter was cancelled since: then reversed
        elif letter in (sends.SENT, sends.UNCONFIRMED):
            due.append(b)  # (a planned charge of a letter still pending waits for its resolution)
    _book(store, client, due, report, booker_for)
    if any(b.reversal and b.status not in (BOOKED, VOID) for b in rows):
        book_reversals(store, client, report)


def book_reversals(store: Store, client: ClientConfig, report: ClientReport) -> None:
    """Write the reversal of each cancelled letter's charge that is booked into the booking file (planned by
    :func:`connector.store.bookings.take_back`); one whose charge was never booked after all is void. A charge
    still being booked keeps its reversal waiting."""
    rows = store.read(log_.bookings, client.id)
    charges = {b.key: b for b in rows}
    due: list[FeeBooking] = []
    for r in rows:
        if not r.reversal or r.status in (BOOKED, VOID):
            continue
        charge = charges.get(r.reverses)
        if r.status == PENDING:
            due.extend(_taken_over(store, client, r))
        elif charge is None or charge.status == VOID:
            store.write(log_.settle, r, VOID, at=store.now(), error="the charge was never booked")
        elif charge.status == BOOKED:
            due.append(r)
    if due:  # (only a charge booked into the file is reversed by arsync: take_back plans no other)
        _to_files(store, client, due, report)


def reverse_now(store: Store, client: ClientConfig) -> None:
    """:func:`book_reversals` for ``arsync letters cancel``, under the client's lock (every command that writes a
    booking file holds it: two writers would lose each other's lines). When a run holds it, that run or the
    next writes them; a file that cannot be written now is left to the next run too."""
    try:
        with store.lock(client.id, "letters cancel"):
            book_reversals(store, client, ClientReport(client.id))
    except ClientLocked as exc:
        log.info("client %s: reversals left to the run: %s", client.id, exc)
    except OSError as exc:
        log.warning("client %s: reversals not written yet (%s); the next run writes them", client.id, exc)


def _taken_over(store: Store, client: ClientConfig, b: FeeBooking) -> list[FeeBooking]:
    """A pending booking, this run's to look for and settle: unless a live other run has it in hand."""
    if not store.may_resolve(client.id, b.claimed_by):
        return []
    taken = store.write(log_.take_over, b, owner=store.run.key, at=store.now())
    return [taken] if taken is not None else []


def _book(
    store: Store,
    client: ClientConfig,
    due: list[FeeBooking],
    report: ClientReport,
    booker_for: Callable[[ClientConfig], LedgerBooker],
) -> None:
    to_file = [b for b in due if b.target == "file"]
    to_ledger = [b for b in due if b.target != "file"]
    if to_file:
        _to_files(store, client, to_file, report)
    if to_ledger:
        _to_ledger(store, client, to_ledger, report, booker_for)


def _claimed(store: Store, b: FeeBooking) -> FeeBooking | None:
    """``b`` pending and this run's, committed before it is booked: a planned one claimed (None when another
    run claimed it first); a pending one is this run's already (taken over in :func:`book_charges`)."""
    if b.status == PENDING:
        return b
    return store.write(log_.claim, b, owner=store.run.key, at=store.now())


def _to_files(store: Store, client: ClientConfig, charges: list[FeeBooking], report: ClientReport) -> None:
    folder = client.bookings.path
    if folder is None:
        report.fail("charges not booked: bookings.path is not set (nor a collection path to put it beside)")
        return
    by_day: dict[date, list[FeeBooking]] = defaultdict(list)
    for b in charges:
        by_day[b.on].append(b)
    for day, claimed in sorted(by_day.items()):
        path = booking_file.file_for(folder, client.id, day)
        # The day's charges claimed in one transaction and settled in one (each claim a compare-and-set, as
        # one by one): a crash in between leaves them pending, and the file is looked at before writing again.
        with store.transaction() as conn:
            at = store.now()
            mine = (b if b.status == PENDING else log_.claim(conn, b, owner=store.run.key, at=at) for b in claimed)
            todo = [b for b in mine if b is not None]
        added = booking_file.write(path, todo)  # a pending one already in the file is not written again
        with store.transaction() as conn:
            at = store.now()
            for b in todo:
                log_.settle(conn, b, BOOKED, at=at, ref=path.name)
        if added:
            totals: dict[str, Decimal] = {}
            for b in added:  # per currency: amounts in two currencies never add up to one
                totals[b.currency] = totals.get(b.currency, ZERO) + b.amount
            total = " + ".join(f"{amount} {currency}" for currency, amount in sorted(totals.items()))
            what = ", ".join(f"{b.label} {b.amount} {b.currency} for invoice {b.invoice_number}" for b in added[:3])
            more = " …" if len(added) > 3 else ""
            line = (
                f"booking file {path}: {len(added)} charge(s) to import into the ledger, {total} in all ({what}{more})"
            )
            report.did(BOOKING, line, invoice=added[0].invoice_number if len(added) == 1 else None)
            log.info("client %s: %d charge(s) written to %s", client.id, len(added), path)


def _to_ledger(
    store: Store,
    client: ClientConfig,
    charges: list[FeeBooking],
    report: ClientReport,
    booker_for: Callable[[ClientConfig], LedgerBooker],
) -> None:
    try:
        booker = booker_for(client)
    except (ApiError, ConfigError) as exc:
        report.warnings.append(f"charges not booked in the ledger yet ({exc}); tried again next run")
        return
    for b in charges:
        entry = LedgerBooking(
            b.reference, b.on, b.customer_id, b.invoice_number, b.account, b.amount, b.currency, b.text
        )
        what = f"{b.label} {b.amount} {b.currency} for invoice {b.invoice_number}"
        try:
            found = booker.find_booking(entry) if b.status == PENDING else None
            if found is None:
                claimed = _claimed(store, b)  # written ahead: a crash now is resolved by looking
                if claimed is None:
                    continue  # another run claimed it meanwhile
                b = claimed
                found = booker.book(entry)
        except ApiError as exc:
            definite = exc.status is not None and 400 <= exc.status < 500 and exc.status != 429
            # A refusal (4xx) booked nothing: planned again. Anything else may have booked: it stays
            # pending, and the next run looks for it before booking.
            store.write(log_.settle, b, PLANNED if definite else PENDING, at=store.now(), error=str(exc))
            report.warnings.append(f"{what} not booked in {b.target} yet ({exc}); tried again next run")
            continue
        store.write(log_.settle, b, BOOKED, at=store.now(), ref=found)
        report.did(BOOKING, f"booked in {b.target}: {what} ({found})", invoice=b.invoice_number)
        log.info("client %s: booked %s in %s (%s)", client.id, what, b.target, found)
