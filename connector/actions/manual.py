"""What the accountant records by hand, and undoes: disputes (hold ``disputed``), promises to pay and
instalment plans (hold ``agreement``), exclusions (hold ``excluded``).

One code path for the command line (``arsync disputes/agreements/exclude``) and the workbench: the
checks (the invoice exists, a promise is not in the past, one record matches a reference), the write and
its audit entry — who (``cli:<login>`` or the workbench user), when and from where — commit together.
A request the recorded state does not allow raises ``Refused`` (one line, nothing written). An invoice has
at most one open agreement: a new one closes the one before as superseded (:func:`supersede`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import Connection

from connector.config import ClientConfig
from connector.errors import Refused
from connector.model import Agreement, Case, CaseStatus, Customer, Dispute, DisputeSource, Exclusion, Facts
from connector.store import Store, audit
from connector.store import cases as case_store
from connector.store import disputes as disputes_store
from connector.store.ledger import has_document, load_customers

T = TypeVar("T")


# ---- what is in force (pure; the lists and the pages show these) -------------------------------------


def open_disputes(facts: Facts) -> list[Dispute]:
    return [d for d in facts.disputes if d.is_open]


def active_agreements(facts: Facts) -> list[Agreement]:
    return [a for a in facts.agreements if a.cancelled_on is None]


def in_force(exclusion: Exclusion, as_of: date) -> bool:
    """Holds dunning on ``as_of``, exactly as the hold rules read it (``Exclusion.in_force``)."""
    return exclusion.in_force(as_of)


def exclusions_in_force(exclusions: Iterable[Exclusion], as_of: date) -> list[Exclusion]:
    return [e for e in exclusions if in_force(e, as_of)]


def exclusions_not_over(exclusions: Iterable[Exclusion], as_of: date) -> list[Exclusion]:
    """In force, or from a later day (recorded with a later --as-of): what will still hold, so what is listed
    and what can be ended."""
    return [e for e in exclusions if not e.is_over(as_of)]


def instalment_dates(first: date, count: int, every_days: int) -> tuple[date, ...]:
    """An instalment plan's dates: ``count`` of them, ``every_days`` apart from ``first``."""
    return tuple(first + timedelta(days=every_days * k) for k in range(count))


def one(found: Sequence[T], missing: str, ident: Callable[[T], str], what: str) -> T:
    """The one record a reference names; refused when none or several (then naming them)."""
    if not found:
        raise Refused(missing)
    if len(found) > 1:
        raise Refused(f"several {what} match: {', '.join(ident(x) for x in found)}; give the id")
    return found[0]


# ---- disputes ------------------------------------------------------------------------------------


def open_dispute(
    store: Store,
    client_id: str,
    invoice: str,
    reason: str,
    as_of: date,
    *,
    actor: str,
    now: datetime,
    address: str | None = None,
    force: bool = False,
) -> Dispute:
    """A dispute on an invoice: it holds all dunning of the invoice until resolved."""
    reason = reason.strip()
    if not reason:
        raise Refused("a dispute needs a reason: what the debtor disputes (it is kept and shown as evidence)")
    dispute = Dispute(client_id, invoice, f"manual-{uuid.uuid4().hex[:8]}", as_of, reason, DisputeSource.MANUAL)
    with store.transaction() as conn:
        # A typo would put the dispute on nothing while the real invoice keeps being dunned.
        if not force and not has_document(conn, client_id, invoice):
            raise Refused(
                f"client '{client_id}' has no invoice '{invoice}' in the store; check the number, run "
                "`arsync sync` first, or pass --force to record it anyway"
            )
        # One open dispute per invoice from the accountant: a second would add no hold, only make the
        # invoice number name several disputes (so `disputes resolve INVOICE` could not resolve it).
        # Disputes from other sources (an Invoice Response, the provider) end on their own, so a person's
        # word is still recorded beside them.
        already = [
            d
            for d in disputes_store.load_disputes(conn, client_id)
            if d.is_open and d.invoice_number == invoice and d.source is DisputeSource.MANUAL
        ]
        if already:
            d = already[0]
            raise Refused(
                f"invoice {invoice} of client '{client_id}' is already disputed: {d.dispute_id} "
                f"(opened {d.opened_on.isoformat()}: {d.reason}); resolve it first to record another"
            )
        disputes_store.add_dispute(conn, dispute)
        _audit(conn, now, actor, "dispute.open", client_id, invoice, f"{dispute.dispute_id}: {reason}", address)
    return dispute


def resolve_dispute(
    store: Store,
    client_id: str,
    ref: str,
    note: str,
    as_of: date,
    *,
    actor: str,
    now: datetime,
    address: str | None = None,
) -> Dispute:
    """Resolve the open dispute ``ref`` names (its id, or the invoice number): dunning of the invoice resumes."""
    note = note.strip() or "resolved"
    with store.transaction() as conn:
        open_ones = [d for d in disputes_store.load_disputes(conn, client_id) if d.is_open]
        dispute = one(
            [d for d in open_ones if d.dispute_id == ref] or [d for d in open_ones if d.invoice_number == ref],
            f"no open dispute '{ref}' for client '{client_id}' (by id or invoice number; see `arsync disputes list`)",
            lambda d: d.dispute_id,
            "open disputes",
        )
        _not_before(as_of, dispute.opened_on, f"dispute {dispute.dispute_id} was opened on", "be resolved")
        if not disputes_store.resolve_dispute(conn, client_id, dispute.dispute_id, as_of, note):
            raise Refused(f"dispute {dispute.dispute_id} was resolved in the meantime")
        detail = f"{dispute.dispute_id}: {note}"
        _audit(conn, now, actor, "dispute.resolve", client_id, dispute.invoice_number, detail, address)
    return dispute


def client_of_open_dispute(store: Store, dispute_id: str, client_ids: Iterable[str]) -> str | None:
    """The client whose open dispute has this id: an id names its dispute without ``--client`` (an invoice
    number does not). None when no client has it open; refused when several do."""
    with store.connect() as conn:
        found = disputes_store.clients_with_open_dispute(conn, dispute_id, client_ids)
    if len(found) > 1:
        raise Refused(f"dispute '{dispute_id}' is open in clients {', '.join(found)}; give --client ID")
    return found[0] if found else None


# ---- agreements ----------------------------------------------------------------------------------


PROMISE_HORIZON = timedelta(days=366)  # the furthest first date of a promise or plan accepted


@dataclass(frozen=True)
class AgreementAdded:
    agreement: Agreement
    superseded: tuple[Agreement, ...]  # the open agreements on the invoice it closed (:func:`supersede`)


def supersede(
    conn: Connection,
    client_id: str,
    invoices: Collection[str],
    by: str,
    as_of: date,
    *,
    actor: str,
    now: datetime,
    address: str | None = None,
) -> tuple[Agreement, ...]:
    """Close the open agreements on ``invoices`` as superseded by agreement ``by``, each with its audit row.
    An invoice has one open agreement, so one written confirmation: the later conversation is what was agreed
    (two promises in force would send two letters with different dates). A plan's rows on other invoices stay."""
    found = tuple(
        a
        for a in disputes_store.load_agreements(conn, client_id)
        if a.cancelled_on is None and a.invoice_number in invoices
    )
    for a in found:
        what = f"agreement {a.agreement_id} on invoice {a.invoice_number} was made on"
        _not_before(as_of, a.created_on, what, "be replaced")
        disputes_store.cancel_agreement(conn, client_id, a.agreement_id, as_of, f"superseded by {by}")
        detail = f"{a.agreement_id}: superseded by {by}"
        _audit(conn, now, actor, "agreement.supersede", client_id, a.invoice_number, detail, address)
    return found


def superseded_lines(found: Iterable[Agreement]) -> list[str]:
    """One line per agreement a new one replaced (a plan's rows together), for the accountant."""
    by_key: dict[str, list[Agreement]] = {}
    for a in found:
        by_key.setdefault(a.key, []).append(a)
    out = []
    for key, rows in by_key.items():
        dates = ", ".join(d.isoformat() for d in rows[0].due_dates)
        numbers = ", ".join(a.invoice_number for a in rows)
        out.append(f"it replaces agreement {key} on invoice(s) {numbers} (pay on {dates}): closed as superseded")
    return out


def add_agreement(
    store: Store,
    client_id: str,
    invoice: str,
    due_dates: Sequence[date],
    note: str,
    as_of: date,
    *,
    actor: str,
    now: datetime,
    address: str | None = None,
) -> AgreementAdded:
    """A promise to pay (one date) or an instalment plan (several): it holds dunning until broken or removed.
    It replaces an open agreement on the invoice (:func:`supersede`)."""
    dates = tuple(sorted(due_dates))
    if not dates:
        raise Refused("an agreement needs the day the debtor promised to pay, or the instalments' dates")
    # A promise already broken the day it is recorded would hold nothing (and lift at once).
    if dates[0] < as_of:
        what = "the promised day" if len(dates) == 1 else "the first instalment"
        raise Refused(f"{what} {dates[0].isoformat()} is before {as_of.isoformat()}: a promise must be in the future")
    if dates[0] > as_of + PROMISE_HORIZON:  # a typo in the year would hold dunning for decades
        what = "the promised day" if len(dates) == 1 else "the first instalment"
        raise Refused(
            f"{what} {dates[0].isoformat()} is more than a year after {as_of.isoformat()}: check the year "
            "(an agreement holds dunning until its dates)"
        )
    agreement = Agreement(client_id, invoice, f"agreement-{uuid.uuid4().hex[:8]}", as_of, dates, note.strip())
    with store.transaction() as conn:
        if not has_document(conn, client_id, invoice):
            raise Refused(f"client '{client_id}' has no invoice '{invoice}' in the store (run `arsync sync` first?)")
        superseded = supersede(
            conn, client_id, [invoice], agreement.agreement_id, as_of, actor=actor, now=now, address=address
        )
        disputes_store.add_agreement(conn, agreement)
        detail = f"{agreement.agreement_id}: pay on {', '.join(d.isoformat() for d in dates)}"
        _audit(conn, now, actor, "agreement.add", client_id, invoice, detail + _also(note), address)
    return AgreementAdded(agreement, superseded)


def remove_agreement(
    store: Store,
    client_id: str,
    ref: str,
    note: str,
    as_of: date,
    *,
    actor: str,
    now: datetime,
    address: str | None = None,
) -> Agreement:
    """Remove an agreement recorded by mistake (by its id or the invoice number): its hold lifts on ``as_of``."""
    with store.transaction() as conn:
        active = [a for a in disputes_store.load_agreements(conn, client_id) if a.cancelled_on is None]
        agreement = one(
            [a for a in active if a.agreement_id == ref] or [a for a in active if a.invoice_number == ref],
            f"no agreement '{ref}' for client '{client_id}' (by id or invoice number; see `arsync agreements list`)",
            lambda a: a.agreement_id,
            "agreements",
        )
        _not_before(as_of, agreement.created_on, f"agreement {agreement.agreement_id} was made on", "be removed")
        disputes_store.cancel_agreement(conn, client_id, agreement.agreement_id, as_of, note.strip())
        detail = f"{agreement.agreement_id}: removed" + _also(note)
        _audit(conn, now, actor, "agreement.remove", client_id, agreement.invoice_number, detail, address)
    return agreement


# ---- exclusions ----------------------------------------------------------------------------------


def exclusions(store: Store, client_id: str) -> list[Exclusion]:
    """Every exclusion of the client, ended and removed ones too (filter with :func:`exclusions_in_force`)."""
    with store.connect() as conn:
        return list(disputes_store.load_exclusions(conn, client_id))


def add_exclusion(
    store: Store,
    client_id: str,
    reason: str,
    as_of: date,
    *,
    invoice: str | None = None,
    customer: str | None = None,
    until: date | None = None,
    force: bool = False,
    actor: str,
    now: datetime,
    address: str | None = None,
) -> Exclusion:
    """Take an invoice, or every invoice of a customer, out of dunning (until ``until``, or until ended)."""
    if (invoice is None) == (customer is None):
        raise ValueError("exactly one of invoice and customer")
    reason = reason.strip()
    if not reason:
        raise Refused("an exclusion needs a reason (it is kept and shown as evidence)")
    if until is not None and until < as_of:
        raise Refused(f"the last day {until.isoformat()} is before {as_of.isoformat()}")
    exclusion = Exclusion(client_id, f"exclusion-{uuid.uuid4().hex[:8]}", invoice, customer, as_of, until, reason)
    with store.transaction() as conn:
        # A typo (or a customer's name instead of its id) would exclude nothing while dunning goes on.
        if not force and invoice is not None and not has_document(conn, client_id, invoice):
            raise Refused(f"client '{client_id}' has no invoice '{invoice}' in the store (or pass --force)")
        if not force and customer is not None:
            customers = load_customers(conn, client_id)
            if customer not in {c.customer_id for c in customers}:
                raise Refused(f"client '{client_id}' has no customer '{customer}'{_did_you_mean(customers, customer)}")
        disputes_store.add_exclusion(conn, exclusion)
        detail = f"{exclusion.exclusion_id}: {reason}" + (f" (until {until.isoformat()})" if until else "")
        _audit(conn, now, actor, "exclusion.add", client_id, excluded(exclusion), detail, address)
    return exclusion


def end_exclusion(
    store: Store,
    client_id: str,
    ref: str,
    as_of: date,
    *,
    actor: str,
    now: datetime,
    address: str | None = None,
) -> Exclusion:
    """End an exclusion (by its id, the invoice number or the customer id): dunning resumes on ``as_of``.
    It stays on record, with the day it ended (``ended_on``; its last day as given is kept), as evidence of
    what held the invoice. Ended the day it began, it is on record as never in force."""
    with store.transaction() as conn:
        # one from a later day is found too, to be refused by name below rather than "not found"
        active = exclusions_not_over(disputes_store.load_exclusions(conn, client_id), as_of)
        exclusion = one(
            [e for e in active if e.exclusion_id == ref]
            or [e for e in active if ref in (e.invoice_number, e.customer_id)],
            f"no exclusion '{ref}' in force for client '{client_id}' (see `arsync exclude list`)",
            lambda e: e.exclusion_id,
            "exclusions",
        )
        _not_before(as_of, exclusion.created_on, f"exclusion {exclusion.exclusion_id} begins on", "end")
        if not disputes_store.end_exclusion(conn, client_id, exclusion.exclusion_id, as_of):
            raise Refused(f"exclusion {exclusion.exclusion_id} was ended in the meantime")
        detail = f"{exclusion.exclusion_id}: ended, dunning resumes {as_of.isoformat()}"
        _audit(conn, now, actor, "exclusion.remove", client_id, excluded(exclusion), detail, address)
    return exclusion


def excluded(exclusion: Exclusion) -> str:
    """ "invoice 1002" or "customer 934567897": what an exclusion takes out of dunning."""
    if exclusion.invoice_number:
        return f"invoice {exclusion.invoice_number}"
    return f"customer {exclusion.customer_id}"


# ---- what the agency is not told ----------------------------------------------------------------------


def cases_with_the_agency(
    store: Store, client_id: str, *, invoice: str | None = None, customer: str | None = None
) -> list[Case]:
    """The invoice's (or the customer's) collection cases that are with the inkasso provider (pushed)."""
    with store.connect() as conn:
        found = case_store.load_cases(conn, [client_id])
    return [
        c for c in found if c.status is CaseStatus.PUSHED and (c.invoice_number == invoice or c.customer_id == customer)
    ]


def agency_not_told(client: ClientConfig, case: Case, what: str) -> str:
    """What the accountant must do about a ``what`` ("dispute", "agreement", "exclusion") just recorded on an
    invoice whose case is with the agency: it holds arsync's own dunning, but after the push arsync reports
    only payments and credit notes to the provider (and withdraws only a case settled in full), so the
    agency goes on collecting until it is told or the case is withdrawn."""
    cfg = client.collection
    since = next((e.on for e in reversed(case.events) if e.status is CaseStatus.PUSHED), case.created_on)
    # The outbox is a folder: whoever takes its case files to an agency must tell that agency.
    who = cfg.agency or ("the agency" if cfg.provider == "outbox" else cfg.provider)
    where = f" ({cfg.agency})" if cfg.agency else ""
    what_ref = "case file" if cfg.provider == "outbox" else "ref"
    ref = f", {what_ref} {case.provider_ref}" if case.provider_ref else ""
    return (
        f"invoice {case.invoice_number} is in collection: case {case.case_id} was pushed to {cfg.provider}{where} "
        f"on {since.isoformat()}{ref}. arsync does not pass this {what} on, so {who} goes on collecting: "
        f"tell {who}, or withdraw the case (`arsync cases withdraw {case.case_id} --note …`)"
    )


# ---- shared --------------------------------------------------------------------------------------


def _not_before(as_of: date, began: date, what: str, verb: str) -> None:
    """A record is not undone on a day before it was recorded (a wrong --as-of): its history would run
    backwards (a dispute resolved in -5 days, an exclusion "from 11 December until 5 December")."""
    if as_of < began:
        raise Refused(f"{what} {began.isoformat()}: it cannot {verb} on {as_of.isoformat()} (check --as-of)")


def _did_you_mean(customers: Iterable[Customer], given: str) -> str:
    by_name = [c for c in customers if c.name.casefold() == given.casefold()]
    if by_name:
        return f"; did you mean --customer {by_name[0].customer_id} ({by_name[0].name})?"
    return " (give the id shown in brackets after the name, or --force)"


def _also(note: str) -> str:
    return f" — {note.strip()}" if note.strip() else ""


def _audit(
    conn: Connection,
    now: datetime,
    actor: str,
    action: str,
    client_id: str,
    subject: str,
    detail: str,
    address: str | None,
) -> None:
    audit.record(conn, audit.AuditEntry(now, actor, action, client_id, subject, detail, address))
