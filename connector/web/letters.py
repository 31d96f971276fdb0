"""Letters written to a customer and their statement of account, through ``connector.actions.letter_service``
(as ``arsync letters list/cancel`` and ``arsync statement``):

- a letter's PDF as the debtor got it (GET), only to a user who may see its client;
- the customer's statement of account as a PDF (GET): made for today, nothing sent or recorded;
- voiding an outbox letter not yet posted (POST behind ``form_post``, approvers only): its files move to
  ``cancelled/``, its steps are taken back, and the service records it in the audit trail with the user,
  the time and the address.
"""

from __future__ import annotations

import re

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from connector.actions import letter_service
from connector.config import ClientConfig
from connector.engine.decisions import decide_client
from connector.errors import Refused
from connector.web.context import NotFound, Workbench, require_client, require_user, workbench
from connector.web.records import Who, action, text


def _pdf(data: bytes, name: str) -> Response:
    """A PDF shown in the browser (``inline``), saved under a plain file name."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return Response(data, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{safe}"'})


def letter_pdf(request: Request) -> Response:
    _session, user = require_user(request)
    wb = workbench(request)
    client = require_client(request, user, request.path_params["client_id"])
    letter_id = request.path_params["letter_id"]
    try:
        data = letter_service.letter_pdf(wb.store, client, letter_id)
    except Refused as exc:
        raise NotFound(f"{exc}.") from None
    return _pdf(data, f"{letter_id}.pdf")


def statement_pdf(request: Request) -> Response:
    _session, user = require_user(request)
    wb = workbench(request)
    client = require_client(request, user, request.path_params["client_id"])
    customer_id = request.path_params["customer_id"]
    as_of = wb.today()
    try:
        letter = letter_service.statement(wb.store, client, customer_id, as_of, decide_client(wb.store, client, as_of))
    except Refused as exc:
        raise NotFound(f"No statement: {exc}.") from None
    return _pdf(letter_service.statement_pdf(client, letter), f"statement-{client.id}-{customer_id}-{as_of}.pdf")


def void_letter(wb: Workbench, client: ClientConfig, form: FormData, who: Who) -> str:
    letter_id = text(form, "letter_id", "The letter")
    # required: a void resets the ladder and may leave a booked fee to reverse; the trail says why
    note = text(form, "note", "Why the letter is voided")
    voided = letter_service.cancel_letter(
        wb.store, client, letter_id, by=who.actor, note=note, on=wb.today(), now=who.now, address=who.address
    )
    record = voided.record
    out = [
        f"Letter {letter_id} voided: its files are in cancelled/ and it no longer counts as a step. "
        f"Invoice(s) {', '.join(record.invoices)} are decided afresh (a reminder may be due again tonight: "
        "record a dispute, an agreement or an exclusion if it should not go)."
    ]
    for note in letter_service.charge_notes(wb.store, client, record):
        out.append(f"{note[0].upper()}{note[1:]}.")
    return " ".join(out)


letter_void = action(void_letter)
