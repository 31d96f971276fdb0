"""Kravia (Norway) API v2 adapter. Docs: developer.kravia.ai → how-to guides → manage collection cases.

Kravia has **no idempotency key**. A create is therefore never retried blindly: a pending push is
resolved by the documented delta search (``/invoice/search?lastUpdatedTime=…``) filtered on our
``accountingInvoiceId`` (the case id), which Kravia recommends "for reconciliation".

⚠ Not in the public docs, read defensively: the response shapes (``invoiceId``,
``accountingInvoiceId``, ``status``, ``outstandingAmount``, ``lastUpdatedTime``, ``items``),
status names, KID, invoice-PDF upload, and any API to pause or withdraw a case (their web has
"pause/trekke sak").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from connector.collection.base import (
    BusinessError,
    CasePayload,
    ProviderCase,
    ProviderError,
    ProviderStatus,
    PushResult,
    Transfer,
    Unsupported,
)
from connector.collection.transport import Transport

PAGE = 100
_STATUS = {"active": ProviderStatus.ACTIVE, "paused": ProviderStatus.PAUSED, "closed": ProviderStatus.CLOSED}


class KraviaProvider:
    name = "kravia"

    def __init__(self, transport: Transport, creditor_id: int):
        self.http = transport
        self.creditor_id = creditor_id

    # ---- create ---------------------------------------------------------------------------------

    def body(self, p: CasePayload) -> dict[str, Any]:
        d, inv = p.debtor, p.invoice
        steps = "; ".join(f"{s.step} {s.sent_on.isoformat()}" + (f" fee {s.fee}" if s.fee else "") for s in p.steps)
        return {
            "claimType": "CollectionCase",
            "creditorId": self.creditor_id,
            "accountingInvoiceId": p.case.case_id,
            "debtorName": d.name,
            "debtorNumber": d.customer_id,
            "email": d.email,
            "ssn": None,  # never stored by arsync
            "organizationNumber": None if d.is_person else d.org_no,
            "isPrivateIndividual": "true" if d.is_person else "false",
            "postalAddress": {
                "addressAddressLine1": d.address[0] if d.address else None,
                "addressPostalCode": d.postal_code,
                "addressCity": d.city,
                "addressCountryCode": d.country or "NO",
            },
            "invoiceNo": inv.number,
            "invoiceDate": inv.issue_date.isoformat(),
            "dueDate": (inv.due_date or inv.issue_date).isoformat(),
            "originalAmount": p.remaining,  # "overdue amount incl. VAT": what is still owed
            "currencyCode": inv.currency,
            "description": f"Invoice {inv.number} (original {inv.amount} {inv.currency}"
            + (f", KID {inv.kid}" if inv.kid else "")
            + (f"); notices: {steps}" if steps else ")"),
        }

    def submit(self, payload: CasePayload, idem_key: str) -> PushResult:
        # No idempotency key in Kravia's API (``idem_key`` is not sent): one create per case rests on the
        # op claim (only the run that claimed the intent sends) and on ``find`` before any resend.
        try:
            reply = self.http.request("POST", "/invoice/register", json_body=self.body(payload))
        except ProviderError as exc:
            raise _business(exc) from None
        ref = _get(reply.data, "invoiceId")
        if ref is None:
            raise ProviderError("kravia: /invoice/register answered without an invoiceId", ambiguous=True)
        return PushResult(str(ref), created=True)

    def find(self, payload: CasePayload, since: datetime | None) -> PushResult | None:
        # A day of margin: Kravia's timestamps carry no zone (⚠) and clocks drift.
        start = (since - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S") if since else None
        for item in self._search(start):
            if str(_get(item, "accountingInvoiceId")) == payload.case.case_id:
                return PushResult(str(_get(item, "invoiceId")), created=False)
        return None

    # ---- status ---------------------------------------------------------------------------------

    def get(self, provider_ref: str) -> ProviderCase | None:
        reply = self.http.request("GET", f"/invoice/{provider_ref}/details", ok_statuses=(404,))
        return None if reply.status == 404 else _case(reply.data)

    def changes(self, cursor: str | None) -> tuple[list[ProviderCase], str | None]:
        found = [_case(item) for item in self._search(cursor)]
        newest = max((c.updated_at for c in found if c.updated_at), default=cursor)
        return found, newest

    def _search(self, since: str | None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        skip = 0
        while True:
            params: dict[str, Any] = {"orderBy": 11, "byAscending": "True", "skip": skip, "top": PAGE}
            if since:
                params["lastUpdatedTime"] = since
            data = self.http.request("GET", "/invoice/search", params=params).data
            items = data if isinstance(data, list) else (_get(data, "items") or [])
            out.extend(items)
            if len(items) < PAGE:
                return out
            skip += PAGE

    # ---- after the push -------------------------------------------------------------------------

    def register_payment(self, provider_ref: str, payment: Transfer, idem_key: str) -> None:
        # No idempotency key here either: ``AccountingPaymentId`` (our ref) is looked up in the case's
        # payments (``get(...).payment_refs``) before a pending report is sent again.
        self.http.request(
            "POST",
            "/invoice/payment",
            json_body={
                "date": payment.on.isoformat(),
                "description": payment.description,
                "AccountingPaymentId": payment.ref,
                "amount": payment.amount,
                "invoices": [{"invoiceId": int(provider_ref), "amount": payment.amount}],
            },
        )

    def credit(self, provider_ref: str, credit: Transfer, idem_key: str) -> None:
        # As for payments: no idempotency key; deduplicated by ``AccountingPaymentId`` before a resend.
        self.http.request(
            "POST",
            "/invoice/creditnote",
            json_body={
                "Date": credit.on.isoformat() + "T00:00:00",
                "Amount": -credit.amount,
                "AccountingPaymentId": credit.ref,
                "Description": credit.description,
                "Invoices": [{"InvoiceId": int(provider_ref), "Amount": -credit.amount}],
            },
        )

    def withdraw(self, provider_ref: str, reason: str, idem_key: str) -> None:
        raise Unsupported(
            f"kravia: no API to withdraw case {provider_ref}; use 'pause/trekke sak' in Kravia's web, "
            "then record it with `arsync cases withdraw ID --note … --done-at-provider`"
        )


def _get(data: Any, key: str) -> Any:
    """Case-insensitive field access: Kravia's docs mix camelCase and PascalCase."""
    if not isinstance(data, dict):
        return None
    if key in data:
        return data[key]
    low = key.lower()
    return next((v for k, v in data.items() if k.lower() == low), None)


def _case(data: Any) -> ProviderCase:
    raw = str(_get(data, "status") or "")
    moves = (_get(data, "payments") or []) + (_get(data, "creditNotes") or [])
    refs = {str(_get(m, "accountingPaymentId")) for m in moves}
    outstanding = _get(data, "outstandingAmount")
    return ProviderCase(
        provider_ref=str(_get(data, "invoiceId")),
        our_ref=_get(data, "accountingInvoiceId"),
        status=_STATUS.get(raw.lower(), ProviderStatus.ACTIVE),
        raw_status=raw,
        close_code=_get(data, "closedReason"),
        remaining=Decimal(str(outstanding)) if outstanding is not None else None,
        updated_at=_get(data, "lastUpdatedTime"),
        payment_refs=frozenset(refs - {"None"}),
    )


def _business(exc: ProviderError) -> ProviderError:
    """A 400 from /invoice/register is a validation refusal: surface it, do not retry."""
    body = getattr(exc, "body", None)
    if exc.status == 400 and isinstance(body, dict):
        errors = body.get("errors") or {}
        detail = "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in errors.items())
        return BusinessError("ValidationError", detail or str(body.get("title") or exc), status=400)
    return exc
