"""A client's page and a customer's page (GET): the open items decided afresh from the store with their
state, action and holds; the evidence of each in prose (``arsync explain``'s text); the disputes,
agreements and exclusions that hold them; the collection cases with the provider's status; the credit
level; the call list, the calls logged and the letters sent. Nothing here decides anything: it reads
through ``connector.web.data``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import Response

from connector.actions import letter_service
from connector.collection.approval import approval_window, undo_open
from connector.credit.checks import credit_line
from connector.model import ZERO, Case, Decision
from connector.reports.explain import explain
from connector.web import data
from connector.web.context import BadRequest, NotFound, render, require_client, require_user, workbench

PAGE_SIZE = 200
EXPLAIN_WIDTH = 100  # as `arsync explain` on a wide terminal
OPEN_EXPLAINED = 5  # a customer with more open invoices shows each one's evidence folded (a click opens it)


def anchor(invoice_number: str) -> str:
    """An HTML id for an invoice's block on its customer's page: letters, digits, '-', '_' kept, any other
    character written as its code point (so two numbers never share an id)."""
    return "invoice-" + re.sub(r"[^A-Za-z0-9_-]", lambda m: f".{ord(m.group()):x}.", invoice_number)


def _page_number(request: Request) -> int:
    value = request.query_params.get("page", "1")
    if not value.isdigit() or int(value) < 1:
        raise BadRequest(f"'{value}' is not a page number.")
    return int(value)


def _undoable(cases: Sequence[Case], request: Request) -> dict[str, object]:
    now = workbench(request).now()
    return {c.case_id: w for c in cases if (w := approval_window(c)) is not None and undo_open(w, now)}


@dataclass(frozen=True)
class Totals:
    currency: str
    open: Decimal


def _open_totals(decisions: Sequence[Decision]) -> list[Totals]:
    out: dict[str, Decimal] = {}
    for d in decisions:
        if d.open_amount > ZERO:
            out[d.currency] = out.get(d.currency, ZERO) + d.open_amount
    return [Totals(c, out[c]) for c in sorted(out)]


# ---- the client ---------------------------------------------------------------------------------


def client_page(request: Request) -> Response:
    session, user = require_user(request)
    wb = workbench(request)
    client = require_client(request, user, request.path_params["client_id"])
    show_all = request.query_params.get("show") == "all"
    page = _page_number(request)
    view = data.client_view(wb.store, client, wb.today())
    rows = view.decisions if show_all else [d for d in view.decisions if data.needs_attention(d)]
    customers = view.decided.facts.customers if view.decided else {}
    context = {
        "client": client,
        "view": view,
        "fresh": data.stored_freshness(wb.store, client, wb.today()),
        "rows": rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        "total": len(rows),
        "show_all": show_all,
        "page": page,
        "pages": max(1, -(-len(rows) // PAGE_SIZE)),
        "customers": customers,
        "provider": data.provider_status(wb.store, view.cases),
        "undoable": _undoable(view.cases, request),
        "anchor": anchor,
        "credit": {cid: check.level for cid, check in view.credit.items()},
        "files": data.files(wb.store, [client]),
        "calls": data.client_calls(wb.store, view, wb.today()),
    }
    return render(request, "client.html", context, session=session)


# ---- the customer -------------------------------------------------------------------------------


def customer_page(request: Request) -> Response:
    session, user = require_user(request)
    wb = workbench(request)
    client = require_client(request, user, request.path_params["client_id"])
    customer_id = request.path_params["customer_id"]
    as_of = wb.today()
    view = data.client_view(wb.store, client, as_of)
    facts = view.decided.facts if view.decided else None
    customer = facts.customers.get(customer_id) if facts else None
    known = customer is not None or view.error is not None or any(c.customer_id == customer_id for c in view.cases)
    if not known:  # (a client whose decisions failed still shows its page, with why)
        raise NotFound(f"Client {client.id} has no customer {customer_id}.")
    numbers = {i.number for i in facts.invoices if i.customer_id == customer_id} if facts else set()
    decisions = [d for d in view.decisions if d.customer_id == customer_id]
    shown = [d for d in decisions if d.open_amount > ZERO or data.needs_attention(d)]
    check = view.credit.get(customer_id)
    context = {
        "client": client,
        "customer_id": customer_id,
        "customer": customer,
        "name": customer.name if customer else customer_id,
        "error": view.error,
        "fresh": data.stored_freshness(wb.store, client, as_of),
        "decisions": shown,
        "totals": _open_totals(decisions),
        "explained": {d.invoice_number: explain(client, facts, d, as_of, EXPLAIN_WIDTH) for d in shown}
        if facts
        else {},
        "anchor": anchor,
        "OPEN_EXPLAINED": OPEN_EXPLAINED,
        "credit_check": check,
        "credit_text": credit_line(check) if check else None,
        "disputes": [d for d in view.disputes if d.invoice_number in numbers],
        "agreements": [a for a in view.agreements if a.invoice_number in numbers],
        "exclusions": [
            e for e in view.exclusions if e.customer_id == customer_id or (e.invoice_number or "") in numbers
        ],
        "customer_excluded": any(e.customer_id == customer_id for e in view.exclusions),
        "cases": [c for c in view.cases if c.customer_id == customer_id],
        "provider": data.provider_status(wb.store, [c for c in view.cases if c.customer_id == customer_id]),
        "undoable": _undoable(view.cases, request),
        "call": next((e for e in data.client_calls(wb.store, view, as_of) if e.customer_id == customer_id), None),
        "calls": data.customer_calls(wb.store, client.id, customer_id),
        "letters": data.letters_sent(wb.store, client, customer_id),
        "WRITTEN": letter_service.WRITTEN,
        "tomorrow": as_of + timedelta(days=1),  # an agreement on a call is for a day after the call
    }
    return render(request, "customer.html", context, session=session)
