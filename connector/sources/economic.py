"""e-conomic REST ledger source (Denmark).

Auth: static headers ``X-AppSecretToken`` (the integration) and ``X-AgreementGrantToken`` (the
customer's grant) on every call. A credit note is a booked invoice with negative amounts and no
link to what it credits. ``remainder`` is what is left to pay.

Why no payment records (checked against research §4 and the e-conomic docs, issue 4): a booked
invoice in the REST API carries ``remainder``/``remainderInBaseCurrency`` only — no list of the
payments or credit notes that settled it, and ``remainder`` is not even filterable. Payments exist
upstream only as customer-ledger entries: in the REST ``/accounting-years/{year}/entries`` (entry
lines, no settled-invoice link we could verify) and in the separate OpenAPI *BookedEntries* service
(apis.e-conomic.com/bookedentriesapi, v3.x: ``CustomerInvoiceNumber`` since 2.0.0, ``Remainder``
since 3.2.0, invoice matching since 3.1.0). Neither service's filter, paging and matching semantics
are documented in what we hold, so emitting payments from them would mean guessing which entry
settled which invoice — a made-up link is worse than none. Until that service is verified against
its OpenAPI spec, e-conomic contributes open amounts, not payment records, and decisions stay safe:
``remainder`` becomes ``ledger_open_amount``, which caps the reconciled open amount
(``reconcile.matching._cap_by_ledger``: a partly paid invoice is open by exactly its remainder, a
credited one is closed, with "economic reports … outstanding" as the evidence), and the unpaid
collection is re-read every run so a payment booked upstream closes the invoice the next night.

Full run: customers and every booked invoice in the history window. Incremental run: customers by
``lastUpdated``, booked invoices by date (new ones), the unpaid collection (small, re-read every
run), and each invoice that was unpaid last time and is not unpaid now is re-read (it was paid).
Paging: ``skippages``/``pagesize``, following ``pagination.nextPage`` — only on our own host, so
the tokens never travel to a URL a response made up.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from connector.config import secret
from connector.http import ApiClient, ApiError, StaticAuth, key_of
from connector.sources import api, mapping
from connector.sources.base import LedgerBatch, SyncContext

SYSTEM = "economic"
DEFAULT_BASE_URL = "https://restapi.e-conomic.com"
PAGE_SIZE = 1000  # maxPageSizeAllowed
MAX_PAGES = 10_000


class EconomicSource:
    name = "ledger"

    def __init__(self, client_id: str, client: ApiClient, page_size: int = PAGE_SIZE):
        self.client_id = client_id
        self.http = client
        self.page_size = page_size
        self.map = mapping.load(SYSTEM)

    @classmethod
    def from_config(cls, ctx_client: Any) -> EconomicSource:
        ledger = ctx_client.ledger
        assert ledger.app_secret_token_env and ledger.agreement_grant_token_env
        app, grant = secret(ledger.app_secret_token_env), secret(ledger.agreement_grant_token_env)
        url = api.base_url(ledger, DEFAULT_BASE_URL)
        auth = StaticAuth({"X-AppSecretToken": app, "X-AgreementGrantToken": grant})
        return cls(ctx_client.id, ApiClient(SYSTEM, url, auth, key_of(url, grant)), ledger.page_size or PAGE_SIZE)

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        url: str | None = path
        query: dict[str, Any] | None = {**params, "skippages": 0, "pagesize": self.page_size}
        own = urlsplit(self.http.base_url).netloc
        for _ in range(MAX_PAGES):
            assert url is not None
            resp = self.http.get(url, query)
            data = resp.data if isinstance(resp.data, dict) else {}
            items = data.get("collection")
            if not isinstance(items, list):
                raise ApiError(f"{SYSTEM} {path}: answer without a 'collection' list")
            yield from items
            url = mapping.lookup(data, "pagination.nextPage")
            if not url or not items:
                return
            if urlsplit(url).netloc != own:
                raise ApiError(f"{SYSTEM} {path}: nextPage points to another host; not following it")
            query = None  # nextPage carries its own query string
        raise ApiError(f"{SYSTEM} {path}: more than {MAX_PAGES} pages; refusing to loop forever")

    def fetch(self, ctx: SyncContext) -> LedgerBatch:
        p = api.plan(ctx, SYSTEM)
        batch = LedgerBatch()
        col = api.Collector(batch, SYSTEM)
        since = p.since.date() if p.since else p.window_start

        customers = {"filter": f"lastUpdated$gte:{p.since.strftime('%Y-%m-%dT%H:%M:%SZ')}"} if p.since else {}
        for raw in self.pages("customers", customers):
            c = col.add("customer", raw, lambda raw=raw: api.customer(self.map, self.client_id, raw))
            if c:
                batch.customers.append(c)

        raws: dict[str, dict[str, Any]] = {}
        for raw in self.pages("invoices/booked", {"filter": f"date$gte:{since.isoformat()}"}):
            raws[_key(raw)] = raw
        if not p.full:
            for raw in self.pages("invoices/unpaid", {}):
                raws[_key(raw)] = raw
            for number in sorted(set(p.previous.get("open", [])) - set(raws), key=_sort_key):
                raws[number] = self._one(number)
        for raw in raws.values():
            inv = col.add("invoice", raw, lambda raw=raw: api.invoice(self.map, "invoice", self.client_id, raw))
            if inv:
                batch.invoices.append(inv)
        still_open = sorted(i.number for i in batch.invoices if i.kind.value == "invoice" and i.ledger_open_amount)
        api.finish(batch, ctx, SYSTEM, p, col.failed, open=still_open)
        return batch

    def _one(self, number: str) -> dict[str, Any]:
        data = self.http.get(f"invoices/booked/{number}").data
        if not isinstance(data, dict):
            raise ApiError(f"{SYSTEM} invoices/booked/{number}: answer is not an object")
        return data

    def check(self) -> list[str]:
        me = self.http.get("self").data or {}
        company = mapping.lookup(me, "company.name") or mapping.lookup(me, "agreementNumber") or "?"
        lines = [f"tokens work: agreement {me.get('agreementNumber', '?')} ({company})"]
        lines.append(f"customers visible: {sum(1 for _ in self.pages('customers', {}))}")
        lines.append(f"unpaid invoices: {sum(1 for _ in self.pages('invoices/unpaid', {}))}")
        return lines


def _key(raw: dict[str, Any]) -> str:
    value = raw.get("bookedInvoiceNumber")
    return str(int(value)) if isinstance(value, int | float) or hasattr(value, "to_integral_value") else str(value)


def _sort_key(number: str) -> tuple[int, str]:
    return (int(number), "") if number.isdigit() else (0, number)
