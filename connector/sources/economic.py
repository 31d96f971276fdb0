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
Paging: ``skippages``/``pagesize``, following ``pagination.nextPage`` — only on our own host (the
generic loop refuses any other), so the tokens never travel to a URL a response made up.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connector.config import secret
from connector.http import ApiClient, StaticAuth, key_of
from connector.sources import api, mapping
from connector.sources.base import LedgerBatch, SyncContext
from connector.sources.pagination import NextLinkPaginator
from connector.sources.streams import Since, Stream

SYSTEM = "economic"
DEFAULT_BASE_URL = "https://restapi.e-conomic.com"
PAGE_SIZE = 1000  # maxPageSizeAllowed

# Every e-conomic list: {"collection": [...], "pagination": {..., "nextPage"}} (§4).
RECORDS = "collection"
PAGES = NextLinkPaginator(skip="skippages", size="pagesize", link="pagination.nextPage")

CUSTOMERS = Stream(
    path="customers",
    name="customer",
    records=RECORDS,
    paginator=PAGES,
    since=Since("filter", style="utc_seconds", template="lastUpdated$gte:{}"),
    entity="customer",
)
BOOKED_INVOICES = Stream(
    path="invoices/booked",
    name="invoice",
    records=RECORDS,
    paginator=PAGES,
    since=Since("filter", template="date$gte:{}", on_full=True),  # new ones, by issue date
    entity="invoice",
)
UNPAID_INVOICES = Stream(path="invoices/unpaid", name="invoice", records=RECORDS, paginator=PAGES, entity="invoice")


class EconomicSource(api.RestSource):
    system = SYSTEM
    records = RECORDS
    paginator = PAGES

    def __init__(self, client_id: str, client: ApiClient, page_size: int = PAGE_SIZE):
        super().__init__(client_id, client, page_size)

    @classmethod
    def from_config(cls, ctx_client: Any) -> EconomicSource:
        ledger = ctx_client.ledger
        assert ledger.app_secret_token_env and ledger.agreement_grant_token_env
        app, grant = secret(ledger.app_secret_token_env), secret(ledger.agreement_grant_token_env)
        url = api.base_url(ledger, DEFAULT_BASE_URL)
        auth = StaticAuth({"X-AppSecretToken": app, "X-AgreementGrantToken": grant})
        return cls(ctx_client.id, ApiClient(SYSTEM, url, auth, key_of(url, grant)), ledger.page_size or PAGE_SIZE)

    def fetch(self, ctx: SyncContext) -> LedgerBatch:
        run = self.begin(ctx)
        p, batch = run.plan, run.batch
        batch.customers.extend(run.mapped(CUSTOMERS))

        raws: dict[str, dict[str, Any]] = {}
        for raw in run.read(BOOKED_INVOICES):
            raws[_key(raw)] = raw
        if not p.full:
            for raw in run.read(UNPAID_INVOICES):
                raws[_key(raw)] = raw
            # Unpaid last time and not unpaid now: it was paid (or credited). Re-read it.
            for number in sorted(set(p.previous.get("open", [])) - set(raws), key=_sort_key):
                raws[number] = self.one(f"invoices/booked/{number}")
        for raw in raws.values():
            inv = run.map("invoice", raw)
            if inv:
                batch.invoices.append(inv)
        still_open = sorted(i.number for i in batch.invoices if i.kind.value == "invoice" and i.ledger_open_amount)
        return run.finish(open=still_open)

    def check(self) -> list[str]:
        me = self.http.get("self").data or {}
        company = mapping.lookup(me, "company.name") or mapping.lookup(me, "agreementNumber") or "?"
        lines = [f"tokens work: agreement {me.get('agreementNumber', '?')} ({company})"]
        lines.append(f"customers visible: {sum(1 for _ in self.pages('customers', {}))}")
        lines.append(f"unpaid invoices: {sum(1 for _ in self.pages('invoices/unpaid', {}))}")
        return lines


def _key(raw: dict[str, Any]) -> str:
    value = raw.get("bookedInvoiceNumber")
    return str(int(value)) if isinstance(value, int | float | Decimal) else str(value)


def _sort_key(number: str) -> tuple[int, str]:
    return (int(number), "") if number.isdigit() else (0, number)
