"""The act stage for one client: send the night's reminders and collection notices, propose collection
cases, then run the collection workflow. Acts on the decisions it is given; never decides."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from connector import interrupt
from connector.actions.bookings import book_charges
from connector.actions.collection import case_id_for, propose_case, run_collection
from connector.actions.send import send_step
from connector.channels.base import ChannelError, ReminderChannel
from connector.config import ClientConfig
from connector.model import Action, Decision, DocKind, DunningStep
from connector.reports.run import PROPOSAL, SEND, ClientReport
from connector.store import Store
from connector.store.facts import load_facts

_ACTS = (Action.REMINDER, Action.COLLECTION_NOTICE, Action.COLLECTION_CASE)


def act_client(
    store: Store,
    client: ClientConfig,
    as_of: date,
    decisions: list[Decision],
    report: ClientReport,
    redecide: Callable[[], list[Decision]],
    channels: dict[str, ReminderChannel] | None = None,
) -> None:
    """``redecide``: the client's decisions made afresh from the store, for the collection push re-check;
    ``channels``: reminder channels already opened this run (resolving interrupted sends opens some)."""
    channels = channels if channels is not None else {}
    # Most nights most invoices call for nothing: only those that do are walked, and with none (the usual
    # night of most clients) the client's facts are not read again at all.
    acting = [d for d in decisions if d.action in _ACTS]
    facts = store.read(load_facts, client.id) if acting else None
    invoices = {i.number: i for i in facts.invoices if i.kind is DocKind.INVOICE} if facts is not None else {}
    steps: dict[str, list[DunningStep]] = {}
    for s in facts.steps if facts is not None else ():
        steps.setdefault(s.invoice_number, []).append(s)
    with_case = {c.invoice_number for c in facts.cases} if facts is not None else set()
    for d in acting:
        assert facts is not None
        if interrupt.requested():  # the operator asked to stop: the send in hand finished, start no other
            report.interrupted = True
            return
        if d.action in (Action.REMINDER, Action.COLLECTION_NOTICE):
            # Fee from the rule pack in force today, interest shown, channel per ladder step (issue 6).
            try:
                line = send_step(
                    store,
                    client,
                    facts,
                    d,
                    as_of,
                    channels,
                    report.warnings,
                    invoice=invoices[d.invoice_number],
                    done=steps.get(d.invoice_number, []),
                )
            except ChannelError as exc:  # not recorded, retried next run; the other invoices go on
                report.fail(f"invoice {d.invoice_number}: {d.action} not sent: {exc}")
                continue
            if line:
                report.did(SEND, line, invoice=d.invoice_number)
        elif d.action is Action.COLLECTION_CASE and d.invoice_number not in with_case:
            line = propose_case(store, client, as_of, d, facts.customers.get(d.customer_id))
            if line:
                report.did(PROPOSAL, line, invoice=d.invoice_number, case=case_id_for(client.id, d.invoice_number))
    if interrupt.requested():
        report.interrupted = True
        return
    book_charges(store, client, report)  # the fees and interest the letters charged, into the books (issue 16)
    run_collection(store, client, as_of, report, redecide)
