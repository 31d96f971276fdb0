"""Fake Debitura Customer API v1: the calls arsync uses.

From the published OpenAPI (api-evangelist/debitura) and the official MCP server: ``XApiKey``
header; ``POST /cases`` with ``Idempotency-Key`` (same key + same body replays the stored terminal
response, a different body is 422 ``IdempotencyConflict``, 400 validation errors are not stored);
typed 422 business errors ``{type, message, solutionUrl, businessErrors[]}``; ``DuplicateCreditorReference``;
``GET /cases/{id}``, ``GET /cases/by-creditor-reference/{ref}``, ``GET /cases?Sort=DateUpdated:desc``;
lifecycle and close codes as documented.

⚠ The public customer API shows no write endpoints for direct payments or withdrawal; the fake
implements ``POST /cases/{id}/payments`` (``paymentRecipient: Creditor``) and
``POST /cases/{id}/close`` (``closeCode: WithdrawnByClient``) as the adapter assumes them
(research §3.2). Confirm with Debitura before production use.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tests.fakes.server import FakeServer, Request, require

CLOSE_CODES = {
    "Paid",
    "PartiallyPaid",
    "DebtorInsolventBankrupt",
    "DebtorUntraceable",
    "DisputedLegalActionDeclinedByClient",
    "WithdrawnByClient",
    "PreLegalExhaustedNoPayment",
    "StatuteOfLimitationsExpired",
    "SettlementRejectedByClient",
    "UnresponsiveClient",
    "UneconomicalToPursue",
    "Other",
}


@dataclass
class DebituraCase:
    id: str
    reference: str
    body: dict[str, Any]
    remainder: Decimal
    lifecycle: str = "Active"
    close_code: str | None = None
    updated: str = ""

    def dto(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "creditorReference": self.body.get("creditorReference"),
            "grossAmount": self.body.get("amountToRecover"),
            "remainder": self.remainder,
            "currency": self.body.get("currencyCode"),
            "lifecycle": self.lifecycle,
            "closeCode": self.close_code,
            "dateUpdated": self.updated,
            "debtor": self.body.get("debtor"),
        }


class FakeDebitura(FakeServer):
    def __init__(self, api_key: str = "debitura-test-key", latency: float = 0.0):
        super().__init__(latency)
        self.api_key = api_key
        self.cases: dict[str, DebituraCase] = {}
        self.idempotency: dict[str, tuple[str, int, Any]] = {}
        self.payments: dict[str, list[dict[str, Any]]] = {}
        self.files: dict[str, list[str]] = {}
        self.next_business_errors: list[tuple[str, str, str | None]] = []  # refuse the next creates
        self._clock = datetime(2026, 1, 1, tzinfo=UTC)
        self.route("POST", "/cases", self._create)
        self.route("GET", "/cases", self._list)
        self.route("GET", "/cases/by-creditor-reference/{ref}", self._by_ref)
        self.route("GET", "/cases/{id}", self._get)
        self.route("POST", "/cases/{id}/payments", self._payment)
        self.route("POST", "/cases/{id}/close", self._close)
        self.route("POST", "/cases/{id}/files", self._file)

    @property
    def base_url(self) -> str:
        return self.url

    # ---- test helpers ---------------------------------------------------------------------------

    def by_creditor_reference(self) -> dict[str, list[DebituraCase]]:
        with self.lock:
            out: dict[str, list[DebituraCase]] = {}
            for c in self.cases.values():
                out.setdefault(str(c.body.get("creditorReference")), []).append(c)
            return out

    def set_lifecycle(self, case_id: str, lifecycle: str, close_code: str | None = None) -> None:
        with self.lock:
            c = self.cases[case_id]
            c.lifecycle, c.close_code, c.updated = lifecycle, close_code, self._tick()

    # ---- handlers -------------------------------------------------------------------------------

    def _tick(self) -> str:
        self._clock = max(self._clock + timedelta(microseconds=1), datetime.now(UTC))
        return self._clock.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _auth(self, req: Request) -> None:
        require(req.headers.get("XApiKey") == self.api_key, 401, {"error": "Unauthorized"})

    def _case(self, req: Request) -> DebituraCase:
        c = self.cases.get(req.params["id"])
        require(c is not None, 404, {"error": "NotFound", "message": "Case not found"})
        assert c is not None
        return c

    def _create(self, req: Request) -> tuple[int, Any]:
        self._auth(req)
        key = req.headers.get("Idempotency-Key")
        digest = hashlib.sha256(req.raw).hexdigest()
        if key:
            require(len(key) <= 255, 400, {"errors": {"Idempotency-Key": ["At most 255 characters."]}})
            if key in self.idempotency:
                stored_digest, status, body = self.idempotency[key]
                require(stored_digest == digest, 422, _business("IdempotencyConflict", "Key reused, body differs"))
                return status, body
        status, body = self._create_case(req.body or {})
        if key and status != 400:  # validation errors are not stored: fix and retry with the same key
            self.idempotency[key] = (digest, status, body)
        return status, body

    def _create_case(self, b: dict[str, Any]) -> tuple[int, Any]:
        errors: dict[str, list[str]] = {}
        debtor = b.get("debtor") or {}
        if not b.get("currencyCode"):
            errors["currencyCode"] = ["The CurrencyCode field is required."]
        if debtor.get("type") not in ("Company", "Private"):
            errors["debtor.type"] = ["Must be Company or Private."]
        if not debtor.get("name"):
            errors["debtor.name"] = ["The Name field is required."]
        if not debtor.get("countryAlpha2"):
            errors["debtor.countryAlpha2"] = ["The CountryAlpha2 field is required."]
        if Decimal(str(b.get("amountToRecover") or 0)) <= 0:
            errors["amountToRecover"] = ["Must be greater than 0."]
        if len(str(b.get("creditorReference") or "")) > 50:
            errors["creditorReference"] = ["At most 50 characters."]
        if errors:
            return 400, {"error": "ValidationError", "errors": errors}
        if self.next_business_errors:
            kind, message, url = self.next_business_errors.pop(0)
            return 422, _business(kind, message, url)
        ref = b.get("creditorReference")
        if ref and any(c.body.get("creditorReference") == ref and c.lifecycle != "Closed" for c in self.cases.values()):
            return 422, _business("DuplicateCreditorReference", f"A case with creditorReference {ref} exists")
        case_id = str(uuid.uuid4())
        c = DebituraCase(case_id, case_id[:8].upper(), dict(b), Decimal(str(b["amountToRecover"])))
        c.updated = self._tick()
        self.cases[case_id] = c
        return 200, c.dto()

    def _list(self, req: Request) -> tuple[int, Any]:
        self._auth(req)
        page, size = int(req.q("Page", "1") or 1), min(int(req.q("PageSize", "10") or 10), 100)
        items = sorted(self.cases.values(), key=lambda c: c.updated, reverse=True)  # Sort=DateUpdated:desc
        chunk = items[(page - 1) * size : page * size]
        return 200, {
            "page": {"totalResults": len(items), "currentPage": page, "pageSize": size},
            "cases": [c.dto() for c in chunk],
        }

    def _get(self, req: Request) -> tuple[int, Any]:
        self._auth(req)
        return 200, self._case(req).dto()

    def _by_ref(self, req: Request) -> tuple[int, Any]:
        self._auth(req)
        found = [c for c in self.cases.values() if c.body.get("creditorReference") == req.params["ref"]]
        require(bool(found), 404, {"error": "NotFound", "message": "No case with that creditor reference"})
        return 200, sorted(found, key=lambda c: c.updated)[-1].dto()

    def _payment(self, req: Request) -> tuple[int, Any]:
        self._auth(req)
        c = self._case(req)
        b = req.body or {}
        key = req.headers.get("Idempotency-Key") or ""
        done = self.payments.setdefault(c.id, [])
        if key and any(p["key"] == key for p in done):
            return 200, {"caseId": c.id, "remainder": c.remainder}
        require(
            c.lifecycle != "Closed" or bool(b.get("reopenCaseIfNeeded")),
            409,
            _business("CaseClosed", "The case is closed; pass reopenCaseIfNeeded to reopen it"),
        )
        recipient_ok = b.get("paymentRecipient") in ("Creditor", "CollectionPartner")
        require(recipient_ok, 400, {"errors": {"paymentRecipient": ["Creditor or CollectionPartner"]}})
        amount = Decimal(str(b.get("amount") or 0))
        require(amount > 0, 400, {"errors": {"amount": ["Must be greater than 0."]}})
        c.remainder = max(Decimal("0"), c.remainder - amount)
        done.append({"key": key, "amount": amount, "reference": b.get("reference"), "recipient": b["paymentRecipient"]})
        if c.remainder == 0:
            c.lifecycle, c.close_code = "Closed", "Paid"
        c.updated = self._tick()
        return 200, {"caseId": c.id, "remainder": c.remainder}

    def _close(self, req: Request) -> tuple[int, Any]:
        self._auth(req)
        c = self._case(req)
        code = (req.body or {}).get("closeCode")
        require(code in CLOSE_CODES, 400, {"errors": {"closeCode": [f"Unknown close code {code}"]}})
        if c.lifecycle != "Closed":
            c.lifecycle, c.close_code, c.updated = "Closed", code, self._tick()
        return 200, c.dto()

    def _file(self, req: Request) -> tuple[int, Any]:
        self._auth(req)
        c = self._case(req)
        self.files.setdefault(c.id, []).append(str(len(req.raw)))
        return 200, {"caseId": c.id}


def _business(kind: str, message: str, url: str | None = None) -> dict[str, Any]:
    err = {"type": kind, "message": message, "solutionUrl": url}
    return {**err, "businessErrors": [err]}
