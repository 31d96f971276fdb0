"""e-conomic REST ledger source (Denmark).

Auth: static headers ``X-AppSecretToken`` (the integration) and ``X-AgreementGrantToken`` (the
customer's grant) on every call. A credit note is a booked invoice with negative amounts. A booked
invoice's ``remainder`` is what is left to pay, in the invoice's currency.

Payments (issue 16, item 8): ``/accounting-years/:year/entries`` lists every entry line with its
``entryType``; a ``customerPayment`` line on the customer's side carries the customer and the
``invoiceNumber`` it settles, with its date and amount (REST docs, "Accounting Years"; filterable by
``entryType``, ``date``, ``customer.customerNumber``). Those lines become payment records, so a
remainder below the gross is explained by dated payments. ``remainder`` still becomes
``ledger_open_amount``, which caps the reconciled open amount.

Full run: customers, every booked invoice of the history window, and the entries of the accounting
years the window spans (their payments; and the highest entry number, for the next run).
Incremental run — three requests when nothing changed: customers
by ``lastUpdated`` (a *date* in the filter syntax, not a timestamp), the unpaid collection (small;
it also shows an invoice booked with an earlier date), and the entries booked since the last run
(payments, new invoices and credit notes), or numbered above the highest entry number the last run
read in that year (``$or:entryNumber$gt:``: an entry booked since with an earlier date, such as a
credit note dated back). Invoices those entries name and invoices unpaid last time
but not now (paid, or credited later) are re-read one by one. The accounting years are remembered
in the bookmark and asked for again only when the run passes the last one known. Paging:
``skippages``/``pagesize``, following ``pagination.nextPage`` — only on our own host (the generic
loop refuses any other), so the tokens never travel to a URL a response made up.
"""

from __future__ import annotations

from datetime import date
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

# Every e-conomic list: {"collection": [...], "pagination": {..., "results", "nextPage"}} (§4).
RECORDS = "collection"
PAGES = NextLinkPaginator(skip="skippages", size="pagesize", link="pagination.nextPage", total="pagination.results")

CUSTOMERS = Stream(
    path="customers",
    name="customer",
    records=RECORDS,
    paginator=PAGES,
    since=Since("filter", style="date", template="lastUpdated$gte:{}"),  # lastUpdated is a full-date
    entity="customer",
    key="customerNumber",
)
BOOKED_INVOICES = Stream(
    path="invoices/booked",
    name="invoice",
    records=RECORDS,
    paginator=PAGES,
    since=Since("filter", template="date$gte:{}", on_full=True),  # the history window, by issue date
    entity="invoice",
    key="bookedInvoiceNumber",
)
UNPAID_INVOICES = Stream(
    path="invoices/unpaid",
    name="invoice",
    records=RECORDS,
    paginator=PAGES,
    entity="invoice",
    key="bookedInvoiceNumber",
)
YEARS = Stream(path="accounting-years", name="accounting year", records=RECORDS, paginator=PAGES, key="year")
# Customer-side entry lines: payments (customerPayment) and documents (customerInvoice).
PAYMENT, DOCUMENT = "customerPayment", "customerInvoice"
CUSTOMER = "customer.customerNumber"


def entries(year: str) -> Stream:
    """The entries of one accounting year ("2025" or "2025/2026": a "/" is written "_6_" in a path)."""
    return Stream(
        path=f"accounting-years/{year.replace('/', '_6_')}/entries",
        name=f"entry of {year}",
        records=RECORDS,
        paginator=PAGES,
        key="entryNumber",
    )


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

        since = p.since.date() if p.since else p.window_start
        years = self._years(run, since)
        raws: dict[str, dict[str, Any]] = {}
        lines: list[dict[str, Any]] = []
        if p.full:
            for raw in run.read(BOOKED_INVOICES):
                raws[_key(raw)] = raw
            # every entry, not only payments: the highest entry number read is then the year's highest
            only = f"date$gte:{since.isoformat()}"
        else:
            for raw in run.read(UNPAID_INVOICES):
                raws[_key(raw)] = raw
            only = f"date$gte:{since.isoformat()}"
        # The highest entry number read per accounting year: an entry booked since with an earlier date (a
        # credit note dated back, which may be a customer's credit) has a higher number, not a later date.
        numbered: dict[str, int] = {} if p.full else dict(p.previous.get("entry_numbers", {}))
        for year, _start, end in years:
            if end >= since:
                known = numbered.get(year)
                query = only if p.full or known is None else f"{only}$or:entryNumber$gt:{known}"
                for e in run.read(entries(year), filter=query):
                    number = e.get("entryNumber")
                    if isinstance(number, int):
                        numbered[year] = max(numbered.get(year, number), number)
                    if mapping.lookup(e, "customer.customerNumber"):
                        lines.append(e)
        if not p.full:
            # Booked since the last run but not unpaid now, or unpaid last time and not now: re-read.
            booked = {
                _key(e, "invoiceNumber") for e in lines if e.get("entryType") == DOCUMENT and e.get("invoiceNumber")
            }
            gone = set(p.previous.get("open", [])) - set(raws)
            for number in sorted((booked | gone) - set(raws), key=_sort_key):
                raws[number] = self.one(f"invoices/booked/{number}")
        for raw in raws.values():
            inv = run.map("invoice", raw)
            if inv:
                batch.invoices.append(inv)
        for line in lines:
            if line.get("entryType") == PAYMENT and line.get("invoiceNumber"):
                pay = run.map("payment", line)
                if pay:
                    batch.payments.append(pay)
        still_open = sorted(i.number for i in batch.invoices if i.kind.value == "invoice" and i.ledger_open_amount)
        return run.finish(
            open=still_open, years=[[y, a.isoformat(), b.isoformat()] for y, a, b in years], entry_numbers=numbered
        )

    def _years(self, run: api.Sync, since: date) -> list[tuple[str, date, date]]:
        """The accounting years from ``since`` to today: from the bookmark while it covers today, else asked."""
        known = [
            (str(y), date.fromisoformat(a), date.fromisoformat(b)) for y, a, b in run.plan.previous.get("years", [])
        ]
        if known and max(b for _y, _a, b in known) >= run.plan.today and min(a for _y, a, _b in known) <= since:
            return known
        found = []
        for raw in run.read(YEARS, filter=f"toDate$gte:{min(since, run.plan.window_start).isoformat()}"):
            f = self.map.fields("accounting_year", raw)
            found.append((f["year"], f["from_date"], f["to_date"]))
        return sorted(found, key=lambda y: y[1])

    def check(self) -> list[str]:
        me = self.http.get("self").data or {}
        company = mapping.lookup(me, "company.name") or mapping.lookup(me, "agreementNumber") or "?"
        lines = [f"tokens work: agreement {me.get('agreementNumber', '?')} ({company})"]
        lines.append(f"customers visible: {sum(1 for _ in self.pages('customers', {}))}")
        lines.append(f"unpaid invoices: {sum(1 for _ in self.pages('invoices/unpaid', {}))}")
        return lines


def _key(raw: dict[str, Any], field: str = "bookedInvoiceNumber") -> str:
    value = raw.get(field)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    return str(int(value)) if isinstance(value, int | float) else str(value)


def _sort_key(number: str) -> tuple[int, str]:
    return (int(number), "") if number.isdigit() else (0, number)
