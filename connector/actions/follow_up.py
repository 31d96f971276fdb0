"""After the call (playbook step 4): the written follow-up of every agreement, and the check of each promised
date; and the letter telling a debtor their claim went to the agency.

- The follow-up: an agreement made on a call (a promise or a plan) or added by hand gets one confirmation
  letter in the debtor's language, through the client's channel, exactly once (``connector.store.letters``,
  keyed by the agreement). Agreements older than :data:`FOLLOW_UP_DAYS` days are left alone (an older
  arsync's agreements are not all confirmed at once), and so is one whose first date has passed. It asks for
  what the statement says is owed: the open invoices and the fees their letters charged. An invoice with two
  open agreements (recorded before a new one replaced the one before) gets no letter until one is removed.
- Each promised date is checked against the bank from the day after it (the decision's evidence,
  ``connector.dunning.holds.agreement_holds``): kept → the agreement moves on to its next date, or closes
  after the last; broken → its hold lifts, dunning resumes at the step it interrupted, and the accountant is
  told once (an attention line in the run report; ``agreement_checks``).
- A case pushed to the inkasso provider gets one letter telling the debtor whom to talk to now.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import date, timedelta

from sqlalchemy import Connection

from connector.actions import letters as content
from connector.actions.send import free_letter_id, send_document
from connector.channels.base import Channel, ChannelError
from connector.config import ClientConfig, ConfigError
from connector.letters import LetterKind, RenderError, TemplateError
from connector.model import Agreement, CaseStatus, Customer, Decision, Facts
from connector.reports.run import OTHER, SEND, ClientReport
from connector.store import Store
from connector.store import calls as calls_store
from connector.store import letters as book
from connector.store.cases import load_cases
from connector.store.disputes import load_agreements
from connector.store.ledger import load_customers
from connector.store.rows import Skipped

log = logging.getLogger("arsync.dunning")

FOLLOW_UP_DAYS = 14  # an agreement made longer ago than this gets no follow-up letter any more


def letter_channel(client: ClientConfig, preferred: str, customer: Customer | None = None) -> str | None:
    """The channel a follow-up or handover letter goes by: ``preferred`` when it carries arsync's own letters
    (e-mail: when the customer has an address), else the outbox when there is one (Tripletex writes only its
    own reminders)."""
    reachable = customer is None or bool(customer.email)
    if preferred == "email" and client.reminders.email is not None and reachable:
        return "email"
    if client.reminders.path is not None:
        return "outbox"
    return "email" if client.reminders.email is not None else None


def _call_rung_channel(client: ClientConfig) -> str:
    rung = next((s for s in client.policy.steps if s.action == "call"), None)
    return rung.channel if rung is not None else client.reminders.channel


def _agreements(conn: Connection, client_id: str) -> list[Agreement]:
    """The client's agreements as its facts hold them (a row that cannot be read is left out there too)."""
    return list(load_agreements(conn, client_id, Skipped()))


def _sent(store: Store, client_id: str, kind: LetterKind) -> set[str]:
    return {r.about or "" for r in store.read(book.load, client_id, kind=kind.value) if r.status in book.COUNTS}


def send_follow_ups(
    store: Store,
    client: ClientConfig,
    read_facts: Callable[[], Facts],
    decisions: Collection[Decision],
    as_of: date,
    channels: dict[str, Channel],
    report: ClientReport,
) -> None:
    """One confirmation letter per new agreement (a plan made on a call is one agreement over its invoices).
    ``read_facts``: the client's facts, read only when there is an agreement to confirm."""
    agreements: dict[str, list[Agreement]] = {}
    in_force: dict[str, set[str]] = {}  # invoice → the open agreements on it
    since = as_of - timedelta(days=FOLLOW_UP_DAYS)
    for a in store.read(_agreements, client.id):
        if a.cancelled_on is None:
            in_force.setdefault(a.invoice_number, set()).add(a.key)
            if since <= a.created_on <= as_of:
                agreements.setdefault(a.key, []).append(a)
    if not agreements:
        return
    done = _sent(store, client.id, LetterKind.FOLLOW_UP)
    facts = read_facts()
    agreed = {a.invoice_number for rows in agreements.values() for a in rows}
    by_invoice = {d.invoice_number: d for d in decisions if d.invoice_number in agreed}  # not every decision
    calls = {c.agreement_id: c for c in facts.calls if c.agreement_id}
    owner = {i.number: i.customer_id for i in facts.invoices}
    preferred = _call_rung_channel(client)
    for key, rows in sorted(agreements.items()):
        if key in done:
            continue
        # A new agreement closes the one before it on the invoice; two still open (recorded by an older arsync)
        # would confirm two different plans: neither is confirmed until the accountant removes one.
        rivals = {a.invoice_number: sorted(in_force[a.invoice_number] - {key}) for a in rows}
        rivals = {n: keys for n, keys in rivals.items() if keys}
        if rivals:
            both = "; ".join(f"invoice {n} also has {', '.join(keys)}" for n, keys in sorted(rivals.items()))
            report.attention.append(
                f"agreement {key}: no follow-up letter: {both}; remove the agreement that no longer holds "
                f"(arsync agreements remove --client {client.id} ID)"
            )
            continue
        customer = owner.get(rows[0].invoice_number, key)
        channel = letter_channel(client, preferred, facts.customers.get(customer))
        if channel is None:
            report.warnings.append(f"agreement {key}: no follow-up letter: the client has no outbox or e-mail channel")
            continue
        try:
            letter_id = free_letter_id(store, client.id, LetterKind.FOLLOW_UP, customer, as_of)
            letter = content.follow_up_letter(client, facts, rows, by_invoice, as_of, letter_id, call=calls.get(key))
            if letter is None:
                continue
            line = send_document(store, client, facts, letter, channel_name=channel, about=key, channels=channels)
        except (ChannelError, content.LetterError, RenderError, TemplateError, ConfigError) as exc:
            report.fail(f"agreement {key}: follow-up letter not sent: {exc}")
            continue
        report.did(SEND, f"{line} (confirms agreement {key})", invoice=rows[0].invoice_number)


def note_agreement_checks(
    store: Store, client: ClientConfig, decisions: Collection[Decision], as_of: date, report: ClientReport
) -> None:
    """Each promised date's outcome, once: kept (a report line) or broken (an attention line: dunning resumed)."""
    seen = _outcomes(decisions)
    if not seen:
        return
    names = {c.customer_id: c.name for c in store.read(load_customers, client.id)}
    with store.transaction() as conn:
        for (key, due), (outcome, detail, customer_id) in sorted(seen.items()):
            check = calls_store.AgreementCheck(client.id, key, due, outcome, as_of, detail)
            if not calls_store.note_check(conn, check, at=store.now()):
                continue
            who = f"{names.get(customer_id, customer_id)} ({customer_id})"
            if outcome == calls_store.KEPT:
                report.did(OTHER, f"agreement {key} of {who}: the payment due {due.isoformat()} arrived (kept)")
            else:
                report.attention.append(f"agreement broken: {who}: {detail}")


def tell_broken_agreements(
    store: Store, client: ClientConfig, decisions: Collection[Decision], report: ClientReport
) -> None:
    """For a run that does not act (``arsync reconcile``): the broken agreements no run has told yet, as
    attention lines; nothing is noted (the next acting run tells them once)."""
    broken = {k: v for k, v in _outcomes(decisions).items() if v[0] == calls_store.BROKEN}
    if not broken:
        return
    noted = {(c.agreement_id, c.due_on) for c in store.read(calls_store.load_checks, client.id)}
    names = {c.customer_id: c.name for c in store.read(load_customers, client.id)}
    for (key, due), (_outcome, detail, customer_id) in sorted(broken.items()):
        if (key, due) not in noted:
            report.attention.append(
                f"agreement broken: {names.get(customer_id, customer_id)} ({customer_id}): {detail}"
            )


def _outcomes(decisions: Collection[Decision]) -> dict[tuple[str, date], tuple[str, str, str]]:
    """(agreement, promised date) → (kept or broken, the evidence's words, the customer), from the decisions."""
    seen: dict[tuple[str, date], tuple[str, str, str]] = {}
    for d in decisions:
        for e in d.evidence:
            if e.kind in ("agreement_kept", "agreement_broken") and e.ref and e.on is not None:
                outcome = calls_store.KEPT if e.kind == "agreement_kept" else calls_store.BROKEN
                seen.setdefault((e.ref, e.on), (outcome, e.detail, d.customer_id))
    return seen


def send_case_letters(
    store: Store,
    client: ClientConfig,
    read_facts: Callable[[], Facts],
    decisions: Collection[Decision],
    as_of: date,
    channels: dict[str, Channel],
    report: ClientReport,
) -> None:
    """One letter per case pushed to the provider, telling the debtor the claim is with the agency.
    ``read_facts``: the client's facts, read only when a case was pushed."""
    pushed = [c for c in store.read(load_cases, [client.id]) if c.status is CaseStatus.PUSHED]
    if not pushed:
        return
    done = _sent(store, client.id, LetterKind.COLLECTION_CASE)
    if all(case.case_id in done for case in pushed):
        return
    facts = read_facts()
    cased = {case.invoice_number for case in pushed}
    by_invoice = {d.invoice_number: d for d in decisions if d.invoice_number in cased}  # not every decision
    rung = next((s for s in client.policy.steps if s.action == "collection_notice"), None)
    preferred = rung.channel if rung is not None else client.reminders.channel
    for case in pushed:
        d = by_invoice.get(case.invoice_number)
        channel = letter_channel(client, preferred, facts.customers.get(case.customer_id))
        if case.case_id in done or d is None or channel is None:
            continue
        try:
            letter_id = free_letter_id(store, client.id, LetterKind.COLLECTION_CASE, case.customer_id, as_of)
            letter = content.case_letter(client, facts, case, d, as_of, letter_id)
            if letter is None:
                log.info(
                    "client %s: case %s: no handover letter ([clients.collection] agency unknown)",
                    client.id,
                    case.case_id,
                )
                continue
            line = send_document(
                store, client, facts, letter, channel_name=channel, about=case.case_id, channels=channels
            )
        except (ChannelError, content.LetterError, RenderError, TemplateError, ConfigError) as exc:
            report.fail(f"case {case.case_id}: handover letter not sent: {exc}")
            continue
        report.did(SEND, f"{line} (case {case.case_id} handed over)", invoice=case.invoice_number, case=case.case_id)
