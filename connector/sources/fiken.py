"""Fiken API v2 ledger source.

Auth: ``Authorization: Bearer <token>`` (a personal API token or an OAuth access token), every path
under ``/companies/{slug}``. Fiken allows one request in flight per token and slows callers above
4/s; the shared limiter in :mod:`connector.http` enforces both. Amounts are integer øre.

Full run: customers (contacts), every invoice and credit note in the history window. Payments come
embedded in each invoice's ``sale``, which also holds the invoice's payment state.

Incremental run (issue 16, "only what changed"; four requests when nothing changed): contacts,
sales, invoices and credit notes by ``lastModifiedGe`` (date granularity, hence the overlap). A
payment changes the *sale* (its ``lastModifiedDate``), not the invoice, so each changed sale of an
invoice that was open is re-read through its invoice by id; a new credit note is listed as changed
(``/creditNotes`` has lastModified filters since the 2026 spec: a credit note of no invoice is the
customer's credit, which must hold its reminders the night it appears), and one an invoice names
(``associatedCreditNotes``) but the list did not is read by id. The open invoices are no longer
re-listed every night. Paging: ``page``/``pageSize`` (≤100), page
count in the ``Fiken-Api-Page-Count`` header (0 for an empty list).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from connector.config import secret
from connector.http import ApiClient, ApiError, StaticAuth, key_of
from connector.model import Invoice
from connector.sources import api, mapping
from connector.sources.api import once
from connector.sources.base import LedgerBatch, LedgerBooking, SyncContext
from connector.sources.pagination import PageNumberPaginator
from connector.sources.streams import Since, Stream

SYSTEM = "fiken"
DEFAULT_BASE_URL = "https://api.fiken.no/api/v2"
MAX_PAGE_SIZE = 100

# A journal entry's description holds 200 characters, and Fiken puts this flag in front of one made
# through the API: "This must be taken into account in the max length" (spec 2026, journalEntry).
DESCRIPTION_MAX = 200
API_FLAG = "Fri postering registrert via API: "

# Every Fiken list is a bare array; page (0-based) and pageSize, the page count in a header (§2).
RECORDS = None
PAGES = PageNumberPaginator(
    page="page",
    size="pageSize",
    first=0,
    count_header="Fiken-Api-Page-Count",
    total_header="Fiken-Api-Result-Count",
)

# lastModified* filters have date granularity (hence the plan's overlap).
CONTACTS = Stream(
    path="contacts",
    name="contact",
    records=RECORDS,
    paginator=PAGES,
    params={"customer": "true"},
    since=Since("lastModifiedGe"),
    entity="customer",
    key="contactId",
)
INVOICES = Stream(path="invoices", name="invoice", records=RECORDS, paginator=PAGES, entity="invoice", key="invoiceId")
ISSUED_INVOICES = replace(INVOICES, since=Since("issueDateGe", on_full=True))  # a full run: the history window
CHANGED_INVOICES = replace(INVOICES, since=Since("lastModifiedGe"))
# A sale holds an invoice's payment state: a payment modifies the sale, not the invoice.
CHANGED_SALES = Stream(
    path="sales", name="sale", records=RECORDS, paginator=PAGES, since=Since("lastModifiedGe"), key="saleId"
)
JOURNAL_ENTRIES = Stream(
    path="journalEntries", name="journal entry", records=RECORDS, paginator=PAGES, key="journalEntryId"
)
CREDIT_NOTES = Stream(
    path="creditNotes",
    name="credit note",
    records=RECORDS,
    paginator=PAGES,
    since=Since("issueDateGe", on_full=True),
    entity="credit_note",
    key="creditNoteId",
)
CHANGED_CREDIT_NOTES = replace(CREDIT_NOTES, since=Since("lastModifiedGe"))


class FikenSource(api.RestSource):
    system = SYSTEM
    records = RECORDS
    paginator = PAGES
    max_page_size = MAX_PAGE_SIZE

    def __init__(self, client_id: str, client: ApiClient, slug: str, page_size: int = MAX_PAGE_SIZE):
        super().__init__(client_id, client, page_size)
        self.slug = slug
        self.root = f"companies/{slug}"

    @classmethod
    def from_config(cls, ctx_client: Any) -> FikenSource:
        ledger = ctx_client.ledger
        assert ledger.token_env and ledger.company_id
        token = secret(ledger.token_env)
        url = api.base_url(ledger, DEFAULT_BASE_URL)
        http = ApiClient(SYSTEM, url, StaticAuth({"Authorization": f"Bearer {token}"}), key_of(url, token))
        return cls(ctx_client.id, http, ledger.company_id, ledger.page_size or MAX_PAGE_SIZE)

    def fetch(self, ctx: SyncContext) -> LedgerBatch:
        run = self.begin(ctx)
        p, batch = run.plan, run.batch
        batch.customers.extend(run.mapped(CONTACTS))

        raws: dict[str, dict[str, Any]] = {}
        notes: list[dict[str, Any]] = []
        if p.full:
            raws = {str(raw.get("invoiceId")): raw for raw in run.read(ISSUED_INVOICES)}
            notes = list(run.read(CREDIT_NOTES))
        else:
            open_sales: dict[str, str] = p.previous.get("sales", {})
            settled = [
                open_sales[s] for s in (str(r.get("saleId")) for r in run.read(CHANGED_SALES)) if s in open_sales
            ]
            raws = {str(raw.get("invoiceId")): raw for raw in run.read(CHANGED_INVOICES)}
            for invoice_id in sorted(set(settled) - set(raws)):
                raws[invoice_id] = self.one(f"invoices/{invoice_id}")
            # A new credit note is listed as changed; one crediting an invoice also shows on that invoice. One of
            # no invoice is the customer's credit, which holds its reminders: never left for the next full run.
            by_id = {str(raw.get("creditNoteId")): raw for raw in run.read(CHANGED_CREDIT_NOTES)}
            for note_id in sorted({str(n) for raw in raws.values() for n in raw.get("associatedCreditNotes") or []}):
                if note_id not in by_id:
                    by_id[note_id] = self.one(f"creditNotes/{note_id}")
            notes = [by_id[k] for k in sorted(by_id)]

        numbers: dict[str, str] = {}
        sales: dict[str, str] = {}
        for raw in raws.values():
            inv = run.map("invoice", raw)
            if inv is None:
                continue
            inv = self._open_in_its_currency(inv, raw)
            numbers[inv.source_ref or ""] = inv.number
            sale_id = mapping.lookup(raw, "sale.saleId")
            if sale_id is not None:
                sales[str(sale_id)] = inv.source_ref or ""
            batch.invoices.append(inv)
            # Payments come embedded in the invoice's sale.
            for pay in mapping.lookup(raw, "sale.salePayments") or []:
                payment = run.map("payment", pay, invoice_number=inv.number, currency=inv.currency)
                if payment:
                    batch.payments.append(payment)

        known: dict[str, str] = p.previous.get("numbers", {})
        for raw in notes:
            target = str(raw.get("associatedInvoiceId") or "")
            number = numbers.get(target) or known.get(target) if target else None
            if target and number is None:
                number = self._number_of(target)
            credits = (number,) if number else ()
            note = run.map("credit_note", raw, credits=credits)
            if note:
                batch.invoices.append(note)

        open_now = {i.number: i.source_ref for i in batch.invoices if _is_open(i)}
        closed = {i.number for i in batch.invoices if not _is_open(i)}
        if not p.full:
            open_now = {**{n: r for n, r in p.previous.get("open", {}).items() if n not in closed}, **open_now}
        open_ids = set(open_now.values())
        previous_sales = {} if p.full else p.previous.get("sales", {})
        open_sales = {s: i for s, i in {**previous_sales, **sales}.items() if i in open_ids}
        # Invoice ids of open invoices let a credit note find its target, and a changed sale its
        # invoice, without a request.
        return run.finish(open=open_now, numbers={r: n for n, r in open_now.items()}, sales=open_sales)

    # ---- booking a charge back (issue 16) ------------------------------------------------------

    def book(self, booking: LedgerBooking) -> str:
        """A general journal entry: the customer's reskontro account (``customerAccountCode``, e.g.
        "1500:10017") debited, the income account credited, in øre; the reference leads the text, so
        :meth:`find_booking` finds it again. POST answers 201 with an empty body and a Location."""
        if booking.currency != "NOK":
            raise ApiError(f"fiken: a journal entry is booked in NOK, the charge is in {booking.currency}")
        contact = self.one(f"contacts/{booking.customer_id}")
        reskontro = contact.get("customerAccountCode")
        if not reskontro:
            raise ApiError(f"fiken contact {booking.customer_id} has no customerAccountCode", 400)
        text = f"[{booking.reference}] {booking.text}"[: DESCRIPTION_MAX - len(API_FLAG)]
        body = {
            "description": text,
            "journalEntries": [
                {
                    "description": text,
                    "date": booking.on.isoformat(),
                    "lines": [
                        {
                            "amount": int(booking.amount * 100),
                            "debitAccount": str(reskontro),
                            "creditAccount": booking.account,
                        }
                    ],
                }
            ],
        }
        resp = once(self.http).request("POST", f"{self.root}/generalJournalEntries", json=body)
        return resp.headers.get("location", "").rstrip("/").rsplit("/", 1)[-1] or booking.reference

    def find_booking(self, booking: LedgerBooking) -> str | None:
        for entry in self.read(JOURNAL_ENTRIES, {"date": booking.on.isoformat()}):
            if f"[{booking.reference}]" in str(entry.get("description") or ""):
                return str(entry.get("journalEntryId"))
        return None

    def _open_in_its_currency(self, inv: Invoice, raw: dict[str, Any]) -> Invoice:
        """A foreign-currency invoice's outstanding in its own currency. ``sale.outstandingBalance`` is in
        NOK, like ``totalPaid``; ``outstandingBalanceInCurrency`` is the invoice currency's (spec 2026).
        Without it the outstanding is unknown (None), never a NOK figure read as euros."""
        if inv.currency == "NOK" or self.map.is_closed("invoice", raw):
            return inv
        return replace(inv, ledger_open_amount=self.map.fields("invoice", raw).get("open_amount_in_currency"))

    def _number_of(self, invoice_id: str) -> str | None:
        try:
            raw = self.one(f"invoices/{invoice_id}")
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
    # An outstanding Fiken did not state (a foreign-currency sale without outstandingBalanceInCurrency)
    # counts as open: its sale is watched for payments like any open one.
    return inv.kind.value == "invoice" and (inv.ledger_open_amount is None or inv.ledger_open_amount > 0)
