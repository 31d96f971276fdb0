"""Fiken API v2 ledger source.

Auth: ``Authorization: Bearer <token>`` (a personal API token or an OAuth access token), every path
under ``/companies/{slug}``. Fiken allows one request in flight per token and slows callers above
4/s; the shared limiter in :mod:`connector.http` enforces both. Amounts are integer øre.

Full run: customers (contacts), every invoice and credit note in the history window. Incremental
run: contacts and invoices by ``lastModifiedGe`` (date granularity, hence the overlap), the open
invoices (``settled=false``) every time, new credit notes by issue date (credit notes have no
lastModified filter), and each invoice that was open last time and is neither open nor modified now
is re-read by id (it was settled). Payments come embedded in each invoice's sale. Paging:
``page``/``pageSize`` (≤100), page count in the ``Fiken-Api-Page-Count`` header.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connector.config import secret
from connector.http import ApiClient, ApiError, StaticAuth, key_of
from connector.model import Invoice
from connector.sources import api, mapping
from connector.sources.base import LedgerBatch, SyncContext

SYSTEM = "fiken"
DEFAULT_BASE_URL = "https://api.fiken.no/api/v2"
MAX_PAGE_SIZE = 100
MAX_PAGES = 10_000


class FikenSource:
    name = "ledger"

    def __init__(self, client_id: str, client: ApiClient, slug: str, page_size: int = MAX_PAGE_SIZE):
        self.client_id = client_id
        self.http = client
        self.slug = slug
        self.page_size = min(page_size, MAX_PAGE_SIZE)
        self.map = mapping.load(SYSTEM)

    @classmethod
    def from_config(cls, ctx_client: Any) -> FikenSource:
        ledger = ctx_client.ledger
        assert ledger.token_env and ledger.company_id
        token = secret(ledger.token_env)
        url = api.base_url(ledger, DEFAULT_BASE_URL)
        http = ApiClient(SYSTEM, url, StaticAuth({"Authorization": f"Bearer {token}"}), key_of(url, token))
        return cls(ctx_client.id, http, ledger.company_id, ledger.page_size or MAX_PAGE_SIZE)

    def pages(self, resource: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        path = f"companies/{self.slug}/{resource}"
        for page in range(MAX_PAGES):
            resp = self.http.get(path, {**params, "page": page, "pageSize": self.page_size})
            if not isinstance(resp.data, list):
                raise ApiError(f"{SYSTEM} {resource}: answer is not a list")
            yield from resp.data
            count = resp.headers.get("fiken-api-page-count")
            if count is not None and count.isdigit():
                if page + 1 >= int(count):
                    return
            elif len(resp.data) < self.page_size:  # no header: a short page ends the list
                return
            if not resp.data:
                return
        raise ApiError(f"{SYSTEM} {resource}: more than {MAX_PAGES} pages; refusing to loop forever")

    def fetch(self, ctx: SyncContext) -> LedgerBatch:
        p = api.plan(ctx, SYSTEM)
        batch = LedgerBatch()
        col = api.Collector(batch, SYSTEM)
        since = (p.since.date() if p.since else p.window_start).isoformat()

        contact_params: dict[str, Any] = {"customer": "true"}
        if p.since:
            contact_params["lastModifiedGe"] = since
        for raw in self.pages("contacts", contact_params):
            c = col.add("contact", raw, lambda raw=raw: api.customer(self.map, self.client_id, raw))
            if c:
                batch.customers.append(c)

        raws: dict[str, dict[str, Any]] = {}
        if p.full:
            for raw in self.pages("invoices", {"issueDateGe": since}):
                raws[str(raw.get("invoiceId"))] = raw
        else:
            for params in ({"lastModifiedGe": since}, {"settled": "false"}):
                for raw in self.pages("invoices", params):
                    raws[str(raw.get("invoiceId"))] = raw
            was_open: dict[str, str] = p.previous.get("open", {})
            for invoice_id in sorted(set(was_open.values()) - set(raws)):
                raws[invoice_id] = self._one(f"invoices/{invoice_id}")

        numbers = {}
        for raw in raws.values():
            inv = col.add("invoice", raw, lambda raw=raw: api.invoice(self.map, "invoice", self.client_id, raw))
            if inv is None:
                continue
            numbers[inv.source_ref] = inv.number
            batch.invoices.append(inv)
            for pay in mapping.lookup(raw, "sale.salePayments") or []:
                payment = col.add("payment", pay, lambda pay=pay, inv=inv: self._payment(pay, inv))
                if payment:
                    batch.payments.append(payment)

        known: dict[str, str] = p.previous.get("numbers", {})
        for raw in self.pages("creditNotes", {"issueDateGe": since}):
            target = str(raw.get("associatedInvoiceId") or "")
            number = numbers.get(target) or known.get(target) if target else None
            if target and number is None:
                number = self._number_of(target)
            credits = (number,) if number else ()
            note = col.add("credit note", raw, lambda raw=raw, credits=credits: self._credit_note(raw, credits))
            if note:
                batch.invoices.append(note)

        open_now = {i.number: i.source_ref for i in batch.invoices if _is_open(i)}
        if not p.full:
            closed = {i.number for i in batch.invoices if not _is_open(i)}
            open_now = {**{n: r for n, r in p.previous.get("open", {}).items() if n not in closed}, **open_now}
        # Invoice ids of open invoices let a credit note find its target without a request.
        api.finish(batch, ctx, SYSTEM, p, col.failed, open=open_now, numbers={r: n for n, r in open_now.items()})
        return batch

    def _payment(self, raw: dict[str, Any], inv: Invoice) -> Any:
        return api.payment(self.map, "payment", self.client_id, raw, invoice_number=inv.number, currency=inv.currency)

    def _credit_note(self, raw: dict[str, Any], credits: tuple[str, ...]) -> Invoice:
        return api.invoice(self.map, "credit_note", self.client_id, raw, credit=True, credits=credits)

    def _one(self, resource: str) -> dict[str, Any]:
        data = self.http.get(f"companies/{self.slug}/{resource}").data
        if not isinstance(data, dict):
            raise ApiError(f"{SYSTEM} {resource}: answer is not an object")
        return data

    def _number_of(self, invoice_id: str) -> str | None:
        try:
            raw = self._one(f"invoices/{invoice_id}")
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return str(mapping.lookup(raw, "invoiceNumber") or "") or None

    def check(self) -> list[str]:
        company = self.http.get(f"companies/{self.slug}").data or {}
        lines = [f"token works: company {company.get('name')} (org no {company.get('organizationNumber')})"]
        lines.append(f"customers visible: {sum(1 for _ in self.pages('contacts', {'customer': 'true'}))}")
        lines.append(f"open invoices: {sum(1 for _ in self.pages('invoices', {'settled': 'false'}))}")
        return lines


def _is_open(inv: Invoice) -> bool:
    return inv.kind.value == "invoice" and (inv.ledger_open_amount or 0) > 0
