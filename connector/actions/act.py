"""The act stage for one client: send the night's letters (one per customer and step), put the customers
whose call is due on the call list, propose collection cases, run the collection workflow, then the letters
that follow from it (the written follow-up of new agreements, the handover of pushed cases) and the check of
promised dates. Acts on the decisions it is given; never decides."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import date
from decimal import Decimal
from functools import cache

from connector import interrupt
from connector.actions import letters as content
from connector.actions.bookings import book_charges
from connector.actions.collection import Afresh, case_id_for, propose_case, run_collection
from connector.actions.follow_up import note_agreement_checks, send_case_letters, send_follow_ups
from connector.actions.letter_service import in_outbox, unposted
from connector.actions.send import send_letters
from connector.channels.base import Channel
from connector.config import ClientConfig
from connector.letters import LetterKind
from connector.model import ZERO, Action, Decision, DocKind, Facts
from connector.reports.run import PROPOSAL, SEND, ClientReport
from connector.store import Store
from connector.store import letters as book
from connector.store.facts import load_facts


def act_client(
    store: Store,
    client: ClientConfig,
    as_of: date,
    decisions: Collection[Decision],
    report: ClientReport,
    afresh: Afresh,
    channels: dict[str, Channel] | None = None,
) -> None:
    """``afresh``: invoices matched and decided afresh from the store, for the collection push re-check;
    ``channels``: channels already opened this run (resolving interrupted sends opens some)."""
    channels = channels if channels is not None else {}
    # The client's facts are read the first time something acts on them: a night with nothing to send,
    # propose or follow up reads none (issue 18: at a million invoices, that read alone is a gigabyte).
    facts = cache(lambda: store.read(load_facts, client.id))
    if any(d.action in content.LETTER_ACTIONS for d in decisions):
        fee_letters = store.read(book.fee_letters, client.id)  # read once: the fee limits of every letter tonight
        # Fee from the rule pack in force today, interest shown, channel per ladder step (issue 6); in batches.
        outcomes = send_letters(
            store,
            client,
            facts(),
            content.groups(client, facts(), decisions, as_of),
            as_of,
            channels,
            report.warnings,
            decisions=decisions,
            fee_letters=fee_letters,
        )
        for outcome in outcomes:
            group = outcome.group
            if outcome.error is not None:  # not recorded, retried next run; the other letters went on
                report.fail(f"{group.step} for invoice {', '.join(group.numbers)}: not sent: {outcome.error}")
            for number, text in outcome.lines:
                report.did(SEND, text, invoice=number)
    if interrupt.requested():  # the operator asked to stop: the letter in hand finished, no other started
        report.interrupted = True
        return
    call_list_lines(client, decisions, report, facts, as_of)
    with_case: set[str] | None = None  # the invoices with a case: read when a decision proposes one
    # … and the collection notices still in the outbox, by invoice: read when a case would be proposed
    notices = cache(lambda: {n: r for r in in_outbox(store, client, LetterKind.COLLECTION_NOTICE) for n in r.invoices})
    for d in decisions:
        if d.action is not Action.COLLECTION_CASE:
            continue
        if with_case is None:
            with_case = {c.invoice_number for c in facts().cases}
        if d.invoice_number not in with_case:
            notice = notices().get(d.invoice_number)
            if notice is not None:  # a case only after the notice the law requires went to the debtor
                report.attention.append(notice_not_posted(client, d.invoice_number, notice))
                continue
            line = propose_case(store, client, as_of, d, facts().customers.get(d.customer_id))
            if line:
                report.did(PROPOSAL, line, invoice=d.invoice_number, case=case_id_for(client.id, d.invoice_number))
    if interrupt.requested():
        report.interrupted = True
        return
    book_charges(store, client, report)  # the fees and interest the letters charged, into the books (issue 16)
    run_collection(store, client, as_of, report, afresh)
    if interrupt.requested():
        report.interrupted = True
        return
    send_follow_ups(store, client, facts, decisions, as_of, channels, report)
    send_case_letters(store, client, facts, decisions, as_of, channels, report)
    note_agreement_checks(store, client, decisions, as_of, report)
    note_unposted_letters(store, client, as_of, report)


def call_list_lines(
    client: ClientConfig,
    decisions: Iterable[Decision],
    report: ClientReport,
    facts: Callable[[], Facts],
    as_of: date,
) -> None:
    """One attention line per customer whose call is due (the call list: ``arsync calls list``), with what
    those invoices come to: their open amounts and the fees their letters charged, as the statement says."""
    due: dict[str, list[Decision]] = {}
    for d in decisions:
        if d.action is Action.CALL:
            due.setdefault(d.customer_id, []).append(d)
    if not due:
        return
    invoices = {i.number: i for i in facts().invoices if i.kind is DocKind.INVOICE}
    called = [invoices[d.invoice_number] for ds in due.values() for d in ds if d.invoice_number in invoices]
    fees = content.fees_owed(client, facts(), called, as_of)
    for customer_id, ds in due.items():
        owed: dict[str, Decimal] = {}
        charged: dict[str, Decimal] = {}
        for d in ds:
            fee = fees.get(d.invoice_number, ZERO)
            owed[d.currency] = owed.get(d.currency, ZERO) + d.open_amount + fee
            charged[d.currency] = charged.get(d.currency, ZERO) + fee
        amounts = ", ".join(
            f"{v} {k}" + (f" ({v - charged[k]} + fees {charged[k]})" if charged[k] > ZERO else "")
            for k, v in sorted(owed.items())
        )
        name = report.customer_names.get(customer_id, customer_id)
        report.attention.append(
            f"call {name} ({customer_id}): {len(ds)} invoice(s), {amounts} — arsync calls list --client {client.id}"
        )


def note_unposted_letters(store: Store, client: ClientConfig, as_of: date, report: ClientReport) -> None:
    """One attention line while outbox letters wait past their pay-by date to be posted: each night, as it is
    the accountant's to post or void them, and the ladder goes on counting them as sent."""
    waiting = unposted(store, client, as_of)
    if not waiting:
        return
    first = waiting[0]
    r = first.record
    when = f"written {r.sent_on.isoformat()}" + (f", pay by {r.pay_by.isoformat()}" if r.pay_by else "")
    who = f"{first.customer} ({r.customer_id})"
    if len(waiting) == 1:
        report.attention.append(
            f"letter {r.letter_id} to {who}, {when}, is still in the outbox, not posted, though the ladder counts "
            f"it as sent: post it (move its PDF into posted/) or void it: arsync letters cancel {client.id} "
            f"{r.letter_id} --note …"
        )
        return
    report.attention.append(
        f"{len(waiting)} letters are still in the outbox past their pay-by date, not posted, though the ladder "
        f"counts them as sent (the oldest: {r.letter_id} to {who}, {when}): post them (move the PDFs into "
        f"posted/) or void them: arsync letters list --client {client.id}"
    )


def notice_not_posted(client: ClientConfig, number: str, notice: book.LetterRecord) -> str:
    return (
        f"no collection case proposed for invoice {number}: its collection notice {notice.letter_id} (written "
        f"{notice.sent_on.isoformat()}) is still in the outbox, not posted, and a case may only follow a notice "
        f"the debtor was sent: post it, or void it (arsync letters cancel {client.id} {notice.letter_id} --note …) "
        "and the ladder sends the notice again"
    )
