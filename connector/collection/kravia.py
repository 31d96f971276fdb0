"""Kravia (Norway) API v2 adapter. Docs: developer.kravia.ai → how-to guides → manage collection cases.

Kravia has **no idempotency key**. A create is therefore never retried blindly: a pending push is
resolved by the documented delta search (``/invoice/search?lastUpdatedTime=…``) filtered on our
``accountingInvoiceId`` (the case id), which Kravia recommends "for reconciliation".

⚠ Not in the public docs, read defensively: the response shapes, status names, KID, invoice-PDF
upload, and any API to pause or withdraw a case (their web has "pause/trekke sak"). Two public
clients of Kravia's own v2 API (KnutAaboe/Kravia-Code-Case, 579683/Kravia-Debt-Collection) read
answers wrapped as ASP.NET results: a list under ``data`` (search) and an object under ``value``
(details, creditors), the invoice's own fields under ``invoice``, its id as ``id``. So every answer
is unwrapped (``value``/``data``/``items`` or bare), the id read as ``invoiceId`` or ``id``, and a
search is paged until an empty page: the server may cap ``top`` (the docs' example asks 20).
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
        data = _unwrap(reply.data)
        ref = data if isinstance(data, int) and not isinstance(data, bool) else _invoice_id(data)
        if ref is None:
            raise ProviderError("kravia: /invoice/register answered without an invoiceId", ambiguous=True)
        return PushResult(str(ref), created=True)

    def find(self, payload: CasePayload, since: datetime | None) -> PushResult | None:
        # A day of margin: Kravia's timestamps carry no zone (⚠) and clocks drift.
        start = (since - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S") if since else None
        for item in self._search(start):
            if _is_ours(item, payload, self.creditor_id) and (ref := _invoice_id(item)) is not None:
                return PushResult(str(ref), created=False)
        return None

    # ---- status ---------------------------------------------------------------------------------

    def get(self, provider_ref: str) -> ProviderCase | None:
        reply = self.http.request("GET", f"/invoice/{provider_ref}/details", ok_statuses=(404,))
        return None if reply.status == 404 else _case(reply.data, provider_ref)

    def changes(self, cursor: str | None) -> tuple[list[ProviderCase], str | None]:
        found = [_case(item) for item in self._search(cursor)]
        newest = max((c.updated_at for c in found if c.updated_at), default=cursor)
        return found, newest

    def _search(self, since: str | None) -> list[dict[str, Any]]:
        """Every invoice updated since ``since``, page by page until a page is empty (or the total
        says all came): a short page is no end, as the server may give fewer than ``top``."""
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        while True:
            params: dict[str, Any] = {"orderBy": 11, "byAscending": "True", "skip": len(out), "top": PAGE}
            if since:
                params["lastUpdatedTime"] = since
            data = self.http.request("GET", "/invoice/search", params=params).data
            items = [item for item in _list(data) if isinstance(item, dict)]
            keys = {str(_invoice_id(item)) for item in items}
            if not items or keys <= seen:  # the end, or a server that ignores skip: nothing new
                return out
            seen |= keys
            out.extend(items)
            total = _total(data)
            if total is not None and len(out) >= total:
                return out

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


def _unwrap(data: Any) -> Any:
    """An ASP.NET result envelope (``{"value": …}``) → what it carries; anything else as it is."""
    if isinstance(data, dict) and "value" in data and len(data) <= 4:  # value, plus e.g. statusCode, errors
        return data["value"]
    return data


def _list(data: Any) -> list[Any]:
    """A search answer's items: a bare list, or under ``data``/``items``/``value`` (maybe enveloped)."""
    data = _unwrap(data)
    if isinstance(data, list):
        return data
    for key in ("data", "items", "value", "results"):
        found = _get(data, key)
        if isinstance(found, list):
            return found
    return []


def _total(data: Any) -> int | None:
    for key in ("totalCount", "total", "count", "totalItems"):
        found = _get(_unwrap(data), key)
        if isinstance(found, int) and not isinstance(found, bool):
            return found
    return None


def _fields(data: Any) -> dict[str, Any]:
    """An invoice's fields, flat: details carry them under ``invoice`` beside timeline, payments …"""
    data = _unwrap(data)
    if not isinstance(data, dict):
        return {}
    inner = _get(data, "invoice")
    return {**inner, **{k: v for k, v in data.items() if k != "invoice"}} if isinstance(inner, dict) else data


def _invoice_id(item: Any) -> Any:
    fields = _fields(item)
    found = _get(fields, "invoiceId")
    return found if found is not None else _get(fields, "id")


def _is_ours(item: dict[str, Any], payload: CasePayload, creditor_id: int) -> bool:
    """A search item is the case we sent: by our ``accountingInvoiceId`` when the item carries it;
    otherwise by the creditor's invoice number (one case per invoice at one creditor)."""
    fields = _fields(item)
    ours = _get(fields, "accountingInvoiceId")
    if ours is not None:
        return str(ours) == payload.case.case_id
    creditor = _get(fields, "creditorId")
    if creditor is not None and str(creditor) != str(creditor_id):
        return False
    number = _get(fields, "invoiceNo")
    return number is not None and str(number) == payload.invoice.number


def _case(data: Any, provider_ref: str | None = None) -> ProviderCase:
    data = _fields(data)
    raw = str(_get(data, "status") or "")
    moves = (_get(data, "payments") or []) + (_get(data, "creditNotes") or [])
    refs = {str(_get(m, "accountingPaymentId")) for m in moves}
    outstanding = _get(data, "outstandingAmount")
    ref = _invoice_id(data)
    return ProviderCase(
        provider_ref=str(ref if ref is not None else provider_ref),
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
