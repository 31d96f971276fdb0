"""Recording what the debtor said, and undoing it (POST, each behind ``form_post``: CSRF-checked, same-site
only): open / resolve a dispute, add / remove an agreement, add / end an exclusion.

Each is the command line's code path (``connector.actions.manual``, as ``arsync disputes/agreements/
exclude``), recorded there in the audit trail with the user, the time and the address. Only an approver
may act, and only on a client they may see (403 otherwise, before anything is read or written).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from connector.actions import manual
from connector.config import ClientConfig
from connector.errors import Refused
from connector.web.context import (
    LoginRequired,
    Workbench,
    address,
    field,
    form_post,
    local_path,
    require_approver,
    require_client,
    workbench,
)
from connector.web.sessions import Session
from connector.web.users import User

MAX_TEXT = 500  # a reason or a note: what fits on a phone-call's note, and what the forms allow
MAX_INSTALMENTS = 60  # as `arsync agreements add --instalments`


@dataclass(frozen=True)
class Who:
    """Whom the audit trail names for an action: the user, the time, the address the request came from."""

    actor: str
    now: datetime
    address: str


@dataclass(frozen=True)
class Recorded:
    """What an action shows on success: its line, and warnings about what it could not do (shown apart)."""

    line: str
    warnings: tuple[str, ...] = ()


# (workbench, client, form, who) → the line shown on success; raises Refused to record nothing.
Recorder = Callable[[Workbench, ClientConfig, FormData, Who], str | Recorded]


def _recorded(request: Request, session: Session, form: FormData, record: Recorder) -> Response:
    wb = workbench(request)
    user: User | None = session.user
    if user is None:
        raise LoginRequired()
    require_approver(user)
    client = require_client(request, user, field(form, "client_id"))
    who = Who(user.name, wb.now(), address(request))
    back = local_path(field(form, "back"))
    try:
        done = record(wb, client, form, who)
        done = done if isinstance(done, Recorded) else Recorded(done)
        session.flash.append(("ok", done.line))
        session.flash.extend(("warning", w) for w in done.warnings)
    except Refused as exc:
        session.flash.append(("error", f"Nothing was recorded: {exc}."))
        back = back.split("#", 1)[0]  # to the top of the page, where the message is (not down at the invoice)
    return RedirectResponse(back, status_code=303)


def action(record: Recorder) -> Callable[[Request], Awaitable[Response]]:
    """A POST endpoint that runs ``record`` for an approver who may see the form's client (the other
    workbench modules that record something use it too)."""

    async def handler(request: Request, session: Session, form: FormData) -> Response:
        return await run_in_threadpool(_recorded, request, session, form, record)

    handler.__name__ = record.__name__
    return form_post(handler)


def text(form: FormData, name: str, what: str, *, required: bool = True) -> str:
    """A text field of at most ``MAX_TEXT`` characters (``Refused`` names ``what`` otherwise)."""
    value = field(form, name)
    if required and not value:
        raise Refused(f"{what} is missing: write it in the box")
    if len(value) > MAX_TEXT:
        raise Refused(f"{what} is longer than {MAX_TEXT} characters")
    return value


def date_field(form: FormData, name: str, what: str, *, required: bool = True) -> date | None:
    """A YYYY-MM-DD field (``Refused`` names ``what`` when it is missing or not a date)."""
    value = field(form, name)
    if not value:
        if required:
            raise Refused(f"{what} is missing")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Refused(f"{what} '{value}' is not a date (YYYY-MM-DD)") from None


def whole(form: FormData, name: str, what: str, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high``."""
    value = field(form, name)
    if not value.isdigit() or not low <= int(value) <= high:
        raise Refused(f"{what} must be a whole number from {low} to {high}")
    return int(value)


# ---- disputes ------------------------------------------------------------------------------------


def open_dispute(wb: Workbench, client: ClientConfig, form: FormData, who: Who) -> Recorded:
    invoice = text(form, "invoice", "The invoice")
    reason = text(form, "reason", "What the debtor disputes")
    dispute = manual.open_dispute(
        wb.store, client.id, invoice, reason, wb.today(), actor=who.actor, now=who.now, address=who.address
    )
    return Recorded(
        f"Dispute {dispute.dispute_id} opened on invoice {invoice}: "
        "it holds all dunning of the invoice until resolved.",
        _agency_not_told(wb, client, "dispute", invoice=invoice),
    )


def resolve_dispute(wb: Workbench, client: ClientConfig, form: FormData, who: Who) -> str:
    ref = text(form, "dispute_id", "The dispute")
    note = text(form, "note", "How it was settled")  # required: dunning resumes on the invoice
    dispute = manual.resolve_dispute(
        wb.store, client.id, ref, note, wb.today(), actor=who.actor, now=who.now, address=who.address
    )
    return f"Dispute {dispute.dispute_id} on invoice {dispute.invoice_number} resolved: dunning of the invoice resumes."


# ---- agreements ----------------------------------------------------------------------------------


def add_agreement(wb: Workbench, client: ClientConfig, form: FormData, who: Who) -> Recorded:
    invoice = text(form, "invoice", "The invoice")
    note = text(form, "note", "The note", required=False)
    if field(form, "kind") == "plan":
        count = whole(form, "instalments", "The number of instalments", 2, MAX_INSTALMENTS)
        first = date_field(form, "first", "The first instalment's day")
        every = whole(form, "every", "The days between instalments", 1, 366)
        assert first is not None
        dates = manual.instalment_dates(first, count, every)
    else:
        promised = date_field(form, "promise_date", "The day the debtor promised to pay")
        assert promised is not None
        dates = (promised,)
    added = manual.add_agreement(
        wb.store, client.id, invoice, dates, note, wb.today(), actor=who.actor, now=who.now, address=who.address
    )
    what = "Promise to pay" if len(dates) == 1 else f"Plan of {len(dates)} instalments"
    replaced = "".join(f" {_sentence(line)}" for line in manual.superseded_lines(added.superseded))
    return Recorded(
        f"{what} recorded on invoice {invoice} ({added.agreement.agreement_id}): it holds dunning until broken or "
        f"removed.{replaced}",
        _agency_not_told(wb, client, "agreement", invoice=invoice),
    )


def remove_agreement(wb: Workbench, client: ClientConfig, form: FormData, who: Who) -> str:
    ref = text(form, "agreement_id", "The agreement")
    note = text(form, "note", "Why the agreement is removed")  # required: dunning resumes on its invoices
    agreement = manual.remove_agreement(
        wb.store, client.id, ref, note, wb.today(), actor=who.actor, now=who.now, address=who.address
    )
    return f"Agreement {agreement.agreement_id} on invoice {agreement.invoice_number} removed: its hold lifts today."


# ---- exclusions ----------------------------------------------------------------------------------


def add_exclusion(wb: Workbench, client: ClientConfig, form: FormData, who: Who) -> Recorded:
    invoice = field(form, "invoice") or None
    customer = field(form, "customer") or None
    if (invoice is None) == (customer is None):
        raise Refused("name either an invoice or a customer")
    reason = text(form, "reason", "Why")
    until = date_field(form, "until", "The last day", required=False)
    exclusion = manual.add_exclusion(
        wb.store,
        client.id,
        reason,
        wb.today(),
        invoice=invoice,
        customer=customer,
        until=until,
        actor=who.actor,
        now=who.now,
        address=who.address,
    )
    last = f" until {until.isoformat()}" if until else ""
    return Recorded(
        f"The {manual.excluded(exclusion)} is out of dunning{last} ({exclusion.exclusion_id}).",
        _agency_not_told(wb, client, "exclusion", invoice=invoice, customer=customer),
    )


def end_exclusion(wb: Workbench, client: ClientConfig, form: FormData, who: Who) -> str:
    ref = text(form, "exclusion_id", "The exclusion")
    exclusion = manual.end_exclusion(
        wb.store, client.id, ref, wb.today(), actor=who.actor, now=who.now, address=who.address
    )
    return f"Exclusion {exclusion.exclusion_id} ended: the {manual.excluded(exclusion)} is dunned again from today."


def _agency_not_told(
    wb: Workbench, client: ClientConfig, what: str, *, invoice: str | None = None, customer: str | None = None
) -> tuple[str, ...]:
    """A warning per case of the invoice (or customer) that is with the agency: what was just recorded does
    not reach it (``manual.agency_not_told``, as the command line says it)."""
    cases = manual.cases_with_the_agency(wb.store, client.id, invoice=invoice, customer=customer)
    return tuple(_sentence(manual.agency_not_told(client, c, what)) for c in cases)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


dispute_open = action(open_dispute)
dispute_resolve = action(resolve_dispute)
agreement_add = action(add_agreement)
agreement_remove = action(remove_agreement)
exclusion_add = action(add_exclusion)
exclusion_remove = action(end_exclusion)
