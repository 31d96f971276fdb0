"""The ``tripletex`` reminder channel: Tripletex creates and dispatches the reminder itself.

``PUT /invoice/{id}/:createReminder?type=…&date=…&includeCharge=…&includeInterest=false&dispatchTypes=…``
Tripletex computes its own charge; we ask for one only when the rule pack allows a fee for this step.
The invoice id is the ledger's API id (``source_ref``) or found by invoice number.

After a crash between the request and recording the step, :meth:`TripletexChannel.find_reminder` asks
``GET /reminder?invoiceId=…&dateFrom=…&dateTo=…`` whether the reminder exists, so it is never
created twice.
"""

from __future__ import annotations

from datetime import date, timedelta

import requests

from connector.channels.base import ChannelError, ReminderMessage, SendResult
from connector.config import TripletexSettings, secret
from connector.model import ZERO, Action, Invoice

TYPES = {Action.REMINDER: "REMINDER", Action.COLLECTION_NOTICE: "NOTICE_OF_DEBT_COLLECTION"}


class TripletexChannel:
    name = "tripletex"

    def __init__(self, settings: TripletexSettings, session: requests.Session | None = None):
        self.settings = settings
        self.session = session or requests.Session()

    def _auth(self) -> tuple[str, str]:
        return (self.settings.company_id, secret(self.settings.session_token_env))

    def _url(self, path: str) -> str:
        return self.settings.base_url.rstrip("/") + path

    def invoice_id(self, message: ReminderMessage) -> str:
        return self._invoice_id(message.invoice)

    def _invoice_id(self, inv: Invoice) -> str:
        ref = inv.source_ref
        if ref and ref.isdigit():
            return ref
        try:
            resp = self.session.get(
                self._url("/invoice"),
                params={
                    "invoiceNumber": inv.number,
                    "invoiceDateFrom": inv.issue_date.isoformat(),
                    "invoiceDateTo": inv.issue_date.replace(year=inv.issue_date.year + 1).isoformat(),
                    "fields": "id,invoiceNumber",
                },
                auth=self._auth(),
                timeout=self.settings.timeout_seconds,
            )
        except requests.RequestException as exc:  # this invoice's send fails, not the client's whole act stage
            raise ChannelError(f"tripletex: looking up invoice {inv.number} failed: {exc.__class__.__name__}") from None
        if resp.status_code != 200:
            raise ChannelError(f"tripletex: looking up invoice {inv.number} failed: HTTP {resp.status_code}")
        values = [v for v in resp.json().get("values", []) if str(v.get("invoiceNumber")) == inv.number]
        if len(values) != 1:
            raise ChannelError(f"tripletex: invoice {inv.number} found {len(values)} times, expected once")
        return str(values[0]["id"])

    def deliver(self, message: ReminderMessage) -> SendResult:
        kind = TYPES.get(message.step)
        if kind is None:
            raise ChannelError(f"tripletex: no reminder type for {message.step}")
        invoice_id = self.invoice_id(message)
        params = {
            "type": kind,
            "date": message.sent_on.isoformat(),
            "includeCharge": "true" if message.fee > ZERO else "false",
            "includeInterest": "false",
            "dispatchTypes": self.settings.dispatch_types,
        }
        if message.customer.email and "EMAIL" in self.settings.dispatch_types:
            params["email"] = message.customer.email
        try:
            resp = self.session.put(
                self._url(f"/invoice/{invoice_id}/:createReminder"),
                params=params,
                auth=self._auth(),
                timeout=self.settings.timeout_seconds,
            )
        except requests.RequestException as exc:
            raise ChannelError(f"tripletex: createReminder failed: {exc.__class__.__name__}") from None
        if resp.status_code not in (200, 201):
            raise ChannelError(
                f"tripletex: createReminder for invoice {message.invoice.number}: HTTP {resp.status_code}"
            )
        value = resp.json().get("value") if resp.content else None
        return SendResult(self.name, f"tripletex reminder {value}" if value is not None else "tripletex reminder")

    def find_reminder(self, invoice: Invoice, step: Action, on: date) -> str | None:
        """The id of a reminder of this step's type created for the invoice on ``on``, or None.

        Raises ``ChannelError`` when Tripletex cannot be asked: the caller must then not send.
        """
        kind = TYPES.get(step)
        try:
            invoice_id = self._invoice_id(invoice)
            resp = self.session.get(
                self._url("/reminder"),
                params={
                    "invoiceId": invoice_id,
                    "dateFrom": on.isoformat(),
                    "dateTo": (on + timedelta(days=1)).isoformat(),  # exclusive in Tripletex
                    "fields": "id,reminderDate,type",
                },
                auth=self._auth(),
                timeout=self.settings.timeout_seconds,
            )
        except requests.RequestException as exc:
            raise ChannelError(f"tripletex: listing reminders failed: {exc.__class__.__name__}") from None
        if resp.status_code != 200:
            raise ChannelError(f"tripletex: listing reminders of invoice {invoice.number}: HTTP {resp.status_code}")
        for value in resp.json().get("values", []):
            same_day = str(value.get("reminderDate", on.isoformat()))[:10] == on.isoformat()
            if value.get("type", kind) == kind and same_day:
                return f"tripletex reminder {value.get('id')}"
        return None
