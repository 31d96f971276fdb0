"""The ``tripletex`` reminder channel: Tripletex creates and dispatches the reminder itself.

``PUT /invoice/{id}/:createReminder?type=…&date=…&includeCharge=…&includeInterest=false&dispatchTypes=…``
Tripletex computes its own charge; we ask for one only when the rule pack allows a fee for this step.
The invoice id is the ledger's API id (``source_ref``) or found by invoice number.
"""

from __future__ import annotations

import requests

from connector.channels.base import ChannelError, ReminderMessage, SendResult
from connector.channels.settings import TripletexSettings
from connector.config import secret
from connector.model import ZERO, Action

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
        ref = message.invoice.source_ref
        if ref and ref.isdigit():
            return ref
        inv = message.invoice
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
        if resp.status_code != 200:
            raise ChannelError(f"tripletex: looking up invoice {inv.number} failed: HTTP {resp.status_code}")
        values = [v for v in resp.json().get("values", []) if str(v.get("invoiceNumber")) == inv.number]
        if len(values) != 1:
            raise ChannelError(f"tripletex: invoice {inv.number} found {len(values)} times, expected once")
        return str(values[0]["id"])

    def deliver(self, message: ReminderMessage) -> SendResult:
        kind = TYPES.get(message.letter.step)
        if kind is None:
            raise ChannelError(f"tripletex: no reminder type for {message.letter.step}")
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
