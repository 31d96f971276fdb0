"""Debitura (Denmark; collection network) Customer API v1 adapter.

Sources: the published OpenAPI (``api-evangelist/debitura``) and Debitura's MCP server. Create is
``POST /cases`` with an ``Idempotency-Key`` (a resend replays the stored response) and our invoice
number as ``creditorReference`` (≤ 50), so a pending push is resolved with
``GET /cases/by-creditor-reference/{ref}``. 422 business errors are typed
(``type``, ``message``, ``solutionUrl``) and surfaced as :class:`BusinessError`.

⚠ Assumed, not in the public customer API: ``POST /cases/{id}/payments`` with
``paymentRecipient = Creditor`` (direct payments) and ``POST /cases/{id}/close`` with
``closeCode = WithdrawnByClient`` (withdrawal). Partial credits have no API: a person reduces the
claim in Debitura's portal (reported as such); a full credit withdraws the case.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

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
_LIFECYCLE = {"active": ProviderStatus.ACTIVE, "paused": ProviderStatus.PAUSED, "closed": ProviderStatus.CLOSED}


class DebituraProvider:
    name = "debitura"

    def __init__(self, transport: Transport, *, test_mode: bool = False):
        self.http = transport
        self.test_mode = test_mode

    # ---- create ---------------------------------------------------------------------------------

    def body(self, p: CasePayload) -> dict[str, Any]:
        d, inv = p.debtor, p.invoice
        notices = "; ".join(
            f"{s.step} sent {s.sent_on.isoformat()} via {s.channel}"
            + (f", fee {s.fee} {inv.currency}" if s.fee else "")
            for s in p.steps
        )
        comments = [f"Original amount {inv.amount} {inv.currency}; remaining {p.remaining} {inv.currency}."]
        if inv.kid:
            comments.append(f"KID {inv.kid}.")
        if notices:
            comments.append(f"Notices: {notices}.")
        if p.fees or p.interest:
            comments.append(f"Fees claimed {p.fees}, interest claimed {p.interest} {inv.currency}.")
        body: dict[str, Any] = {
            "currencyCode": inv.currency,
            "date": inv.issue_date.isoformat(),
            "dueDate": (inv.due_date or inv.issue_date).isoformat(),
            "amountToRecover": p.remaining,
            "creditorReference": inv.number[:50],
            "claimDescription": f"Invoice {inv.number} from {p.creditor_name}",
            "comments": " ".join(comments),
            "debtor": {
                "type": "Private" if d.is_person else "Company",
                "name": d.name,
                "companyRegistrationNumber": None if d.is_person else d.org_no,
                "address": ", ".join(d.address) or None,
                "zipCode": d.postal_code,
                "city": d.city,
                "countryAlpha2": d.country or "DK",
                "email": d.email,
            },
        }
        if self.test_mode:
            body["isTest"] = True
        return body

    def submit(self, payload: CasePayload, idem_key: str) -> PushResult:
        try:
            reply = self.http.request(
                "POST", "/cases", json_body=self.body(payload), headers={"Idempotency-Key": idem_key}
            )
        except ProviderError as exc:
            err = _business(exc)
            if isinstance(err, BusinessError) and err.code in ("DuplicateCreditorReference", "IdempotencyConflict"):
                # The case is already there (created by an earlier attempt): adopt it.
                found = self.find(payload, None)
                if found is not None:
                    return found
            raise err from None
        return PushResult(str(reply.data["id"]), created=True)

    def find(self, payload: CasePayload, since: datetime | None) -> PushResult | None:
        ref = quote(payload.invoice.number[:50], safe="")
        reply = self.http.request("GET", f"/cases/by-creditor-reference/{ref}", ok_statuses=(404,))
        if reply.status == 404 or not isinstance(reply.data, dict):
            return None
        return PushResult(str(reply.data["id"]), created=False)

    # ---- status ---------------------------------------------------------------------------------

    def get(self, provider_ref: str) -> ProviderCase | None:
        reply = self.http.request("GET", f"/cases/{provider_ref}", ok_statuses=(404,))
        return None if reply.status == 404 else _case(reply.data)

    def changes(self, cursor: str | None) -> tuple[list[ProviderCase], str | None]:
        """Newest first (Sort=DateUpdated:desc) until a page reaches what we saw last time."""
        found: list[ProviderCase] = []
        page = 1
        while True:
            params = {"Sort": "DateUpdated:desc", "Page": page, "PageSize": PAGE}
            data = self.http.request("GET", "/cases", params=params).data or {}
            cases = [_case(c) for c in data.get("cases") or []]
            fresh = [c for c in cases if cursor is None or (c.updated_at or "") >= cursor]
            found.extend(fresh)
            if len(fresh) < len(cases) or len(cases) < PAGE:
                break
            page += 1
        newest = max((c.updated_at for c in found if c.updated_at), default=cursor)
        return found, newest

    # ---- after the push -------------------------------------------------------------------------

    def register_payment(self, provider_ref: str, payment: Transfer, idem_key: str) -> None:
        try:
            self.http.request(
                "POST",
                f"/cases/{provider_ref}/payments",
                json_body={
                    "amount": payment.amount,
                    "currencyCode": payment.currency,
                    "date": payment.on.isoformat(),
                    "paymentRecipient": "Creditor",  # the debtor paid the client directly
                    "reference": payment.ref,
                    "description": payment.description,
                },
                headers={"Idempotency-Key": idem_key},
            )
        except ProviderError as exc:
            raise _business(exc) from None

    def credit(self, provider_ref: str, credit: Transfer, idem_key: str) -> None:
        case = self.get(provider_ref)
        if case is not None and case.remaining is not None and credit.amount >= case.remaining:
            self.withdraw(provider_ref, f"credited in full: {credit.description}", idem_key)
            return
        raise Unsupported(
            f"debitura: no API for a partial credit on case {provider_ref}; reduce the claim by "
            f"{credit.amount} {credit.currency} in Debitura's portal ({credit.description})"
        )

    def withdraw(self, provider_ref: str, reason: str, idem_key: str) -> None:
        try:
            self.http.request(
                "POST",
                f"/cases/{provider_ref}/close",
                json_body={"closeCode": "WithdrawnByClient", "comment": reason},
                headers={"Idempotency-Key": idem_key},
            )
        except ProviderError as exc:
            raise _business(exc) from None


def _case(data: dict[str, Any]) -> ProviderCase:
    raw = str(data.get("lifecycle") or "")
    status = _LIFECYCLE.get(raw.lower(), ProviderStatus.PENDING_PROVIDER)
    close = data.get("closeCode")
    if raw.lower() == "merged":
        status, close = ProviderStatus.CLOSED, close or "Merged"
    remainder = data.get("remainder")
    return ProviderCase(
        provider_ref=str(data.get("id")),
        our_ref=data.get("creditorReference"),
        status=status,
        raw_status=raw,
        close_code=close,
        remaining=Decimal(str(remainder)) if remainder is not None else None,
        updated_at=data.get("dateUpdated"),
    )


def _business(exc: ProviderError) -> ProviderError:
    """422 → typed BusinessError; 400 → validation BusinessError; 409 → closed case. Others unchanged."""
    body = getattr(exc, "body", None)
    if not isinstance(body, dict) or exc.status not in (400, 409, 422):
        return exc
    errors = body.get("businessErrors") or []
    first = errors[0] if errors and isinstance(errors[0], dict) else body
    if exc.status == 400:
        fields = body.get("errors") or {}
        detail = "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in fields.items())
        return BusinessError("ValidationError", detail or str(body.get("message") or "invalid request"), status=400)
    return BusinessError(
        str(first.get("type") or body.get("error") or f"HTTP{exc.status}"),
        str(first.get("message") or body.get("message") or ""),
        first.get("solutionUrl"),
        status=exc.status,
    )
