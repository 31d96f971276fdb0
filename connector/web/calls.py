"""Log a call and its outcome (POST, behind ``form_post``: CSRF-checked, same-site only), as ``arsync calls
log``: ``connector.actions.calls.log_call`` records the call and what it makes (an agreement, disputes, the
call step, a retry or a review) with its audit row (the user, the time, the address). Only an approver may
log, and only on a client they may see (``records.action``).

The form has every outcome's fields; only those of the outcome chosen are passed on (a date typed for a
promise is not an instalment plan's), and the one an outcome needs is asked for in words before the service
is called.
"""

from __future__ import annotations

from starlette.datastructures import FormData

from connector.actions import calls as calls_service
from connector.config import ClientConfig
from connector.engine.decisions import decide_client
from connector.errors import Refused
from connector.model import CallOutcome
from connector.web.context import Workbench, field
from connector.web.records import MAX_INSTALMENTS, Who, action, date_field, text, whole


def _outcome(form: FormData) -> CallOutcome:
    value = field(form, "outcome")
    try:
        return CallOutcome(value)
    except ValueError:
        raise Refused("choose how the call ended") from None


def log_call(wb: Workbench, client: ClientConfig, form: FormData, who: Who) -> str:
    customer_id = text(form, "customer", "The customer")
    outcome = _outcome(form)
    notes = text(form, "notes", "The notes", required=False)
    promise_date = first = None
    instalments, every, reason = None, 30, ""
    if outcome is CallOutcome.PROMISE:
        promise_date = date_field(form, "promise_date", "The day the debtor promised to pay")
    elif outcome is CallOutcome.INSTALMENTS:
        instalments = whole(form, "instalments", "The number of instalments", 2, MAX_INSTALMENTS)
        first = date_field(form, "first", "The first instalment's day")
        every = whole(form, "every", "The days between instalments", 1, 366)
    elif outcome is CallOutcome.DISPUTE:
        reason = text(form, "reason", "What the debtor disputes")
    as_of = wb.today()
    logged = calls_service.log_call(
        wb.store,
        client,
        decide_client(wb.store, client, as_of),
        customer_id,
        outcome,
        as_of,
        by=who.actor,
        promise_date=promise_date,
        instalments=instalments,
        first=first,
        every_days=every,
        reason=reason,
        notes=notes,
        now=who.now,
        address=who.address,
    )
    return " ".join(line[:1].upper() + line[1:] + "." for line in logged.lines)


call_log = action(log_call)
