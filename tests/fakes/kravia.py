"""Fake Kravia API v2: the calls arsync uses (developer.kravia.ai how-to guides).

Like the real one as far as the docs say: ``Authorization: <token>``; ``POST /invoice/register``
has **no idempotency** (two posts make two cases); direct payments and credit notes cover principal
and close the case when nothing is left; ``GET /invoice/search`` filters on ``lastUpdatedTime``.
The docs show no answer bodies. The envelopes are as two public clients of Kravia's v2 API read them
(KnutAaboe/Kravia-Code-Case ``Cases.js``/``Case.js``, 579683/Kravia-Debt-Collection ``App.js``):
a search answers ``{"data": [...]}`` with each invoice's id as ``id``; details answer
``{"value": {"invoice": {...}, ..., "availableActions": {name: bool}}}``. Field names inside
(``accountingInvoiceId``, ``status``, ``outstandingAmount``, ``lastUpdatedTime``) and status names
stay guesses, read defensively by ``connector.collection.kravia``. ``max_top`` caps a page below
what was asked (the docs' example pages by 20), as a server may.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tests.fakes.server import FakeServer, Request, require

PREFIX = "/api/v2"


@dataclass
class KraviaInvoice:
    invoice_id: int
    body: dict[str, Any]
    outstanding: Decimal
    status: str = "Active"  # Active, Paused, Closed
    closed_reason: str | None = None
    updated: str = ""
    payments: list[dict[str, Any]] = field(default_factory=list)
    credits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accounting_invoice_id(self) -> str | None:
        return self.body.get("accountingInvoiceId")


class FakeKravia(FakeServer):
    def __init__(
        self,
        token: str = "kravia-test-token",
        creditor_id: int = 10759,
        latency: float = 0.0,
        max_top: int | None = None,
    ):
        super().__init__(latency)
        self.token = token
        self.creditor_id = creditor_id
        self.max_top = max_top
        self.invoices: dict[int, KraviaInvoice] = {}
        self._next_id = 308457
        self._clock = datetime(2026, 1, 1, tzinfo=UTC)
        self.route("POST", PREFIX + "/invoice/register", self._register)
        self.route("POST", PREFIX + "/invoice/payment", self._payment)
        self.route("POST", PREFIX + "/invoice/creditnote", self._creditnote)
        self.route("GET", PREFIX + "/invoice/search", self._search)
        self.route("GET", PREFIX + "/invoice/{id}/details", self._details)

    @property
    def base_url(self) -> str:
        return self.url + PREFIX

    # ---- test helpers ---------------------------------------------------------------------------

    def by_accounting_id(self) -> dict[str, list[KraviaInvoice]]:
        with self.lock:
            out: dict[str, list[KraviaInvoice]] = {}
            for inv in self.invoices.values():
                out.setdefault(str(inv.accounting_invoice_id), []).append(inv)
            return out

    def set_status(self, invoice_id: int, status: str, reason: str | None = None) -> None:
        with self.lock:
            inv = self.invoices[invoice_id]
            inv.status, inv.closed_reason, inv.updated = status, reason, self._tick()

    # ---- handlers -------------------------------------------------------------------------------

    def _tick(self) -> str:
        self._clock = max(self._clock + timedelta(microseconds=1), datetime.now(UTC))
        return self._clock.strftime("%Y-%m-%dT%H:%M:%S.%f")

    def _auth(self, req: Request) -> None:
        require(req.headers.get("Authorization") == self.token, 401, {"message": "Unauthorized"})

    def _register(self, req: Request) -> tuple[int, Any]:
        self._auth(req)
        b = req.body or {}
        errors: dict[str, list[str]] = {}
        for key in ("claimType", "creditorId", "debtorName", "invoiceNo", "invoiceDate", "dueDate", "currencyCode"):
            if b.get(key) in (None, ""):
                errors[key] = [f"The {key} field is required."]
        if b.get("creditorId") not in (None, self.creditor_id):
            errors["creditorId"] = ["Unknown creditor."]
        private = str(b.get("isPrivateIndividual")).lower() == "true"
        if not private and not b.get("organizationNumber"):
            errors["organizationNumber"] = ["Organization number is required for B2B claims."]
        addr = b.get("postalAddress") or {}
        if not addr.get("addressPostalCode") or not addr.get("addressCity"):
            errors["postalAddress"] = ["A postal address is required."]
        amount = Decimal(str(b.get("originalAmount") or 0))
        if amount <= 0:
            errors["originalAmount"] = ["Must be positive."]
        require(not errors, 400, {"title": "One or more validation errors occurred.", "errors": errors})
        self._next_id += 1
        inv = KraviaInvoice(self._next_id, dict(b), amount, updated=self._tick())
        self.invoices[inv.invoice_id] = inv
        return 200, {"value": self._summary(inv)}

    def _apply(self, req: Request, kind: str) -> tuple[int, Any]:
        self._auth(req)
        b = req.body or {}
        lines = b.get("invoices") or b.get("Invoices") or []
        ref = b.get("AccountingPaymentId") or b.get("accountingPaymentId")
        require(bool(lines), 400, {"errors": {"invoices": ["At least one invoice is required."]}})
        for line in lines:
            inv_id = int(line.get("invoiceId") or line.get("InvoiceId") or 0)
            require(inv_id in self.invoices, 404, {"message": f"Invoice {inv_id} not found"})
        for line in lines:
            inv = self.invoices[int(line.get("invoiceId") or line.get("InvoiceId"))]
            amount = abs(Decimal(str(line.get("amount") if "amount" in line else line.get("Amount"))))
            covered = min(amount, inv.outstanding)  # principal only; any excess is ignored
            inv.outstanding -= covered
            (inv.payments if kind == "payment" else inv.credits).append({"accountingPaymentId": ref, "amount": covered})
            if inv.outstanding <= 0 and inv.status != "Closed":
                inv.status, inv.closed_reason = "Closed", "Paid" if kind == "payment" else "Credited"
            inv.updated = self._tick()
        return 200, {"success": True}

    def _payment(self, req: Request) -> tuple[int, Any]:
        return self._apply(req, "payment")

    def _creditnote(self, req: Request) -> tuple[int, Any]:
        return self._apply(req, "credit")

    def _search(self, req: Request) -> tuple[int, Any]:
        self._auth(req)
        since = req.q("lastUpdatedTime")
        skip, top = int(req.q("skip", "0") or 0), int(req.q("top", "20") or 20)
        top = min(top, self.max_top) if self.max_top else top
        items = sorted(self.invoices.values(), key=lambda i: i.updated)
        if since:
            items = [i for i in items if i.updated >= since]
        if (req.q("byAscending") or "True").lower() != "true":
            items.reverse()
        return 200, {"data": [self._summary(i) for i in items[skip : skip + top]]}

    def _details(self, req: Request) -> tuple[int, Any]:
        self._auth(req)
        inv = self.invoices.get(int(req.params["id"]))
        require(inv is not None, 404, {"message": "Invoice not found"})
        assert inv is not None
        open_ = inv.status != "Closed"
        return 200, {
            "value": {
                "invoice": self._summary(inv),
                "payments": inv.payments,
                "creditNotes": inv.credits,
                "statusCodeHistory": [],
                "availableActions": {"registerPayment": open_, "creditInvoice": open_},
            }
        }

    @staticmethod
    def _summary(inv: KraviaInvoice) -> dict[str, Any]:
        return {
            "id": inv.invoice_id,
            "accountingInvoiceId": inv.accounting_invoice_id,
            "invoiceNo": inv.body.get("invoiceNo"),
            "originalAmount": inv.body.get("originalAmount"),
            "outstandingAmount": inv.outstanding,
            "currencyCode": inv.body.get("currencyCode"),
            "status": inv.status,
            "closedReason": inv.closed_reason,
            "lastUpdatedTime": inv.updated,
        }
