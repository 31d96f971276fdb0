"""PowerOffice Go API v2 ledger source.

Auth: OAuth2 client credentials — ``POST /OAuth/Token`` with Basic ``applicationKey:clientKey`` and
the ``Ocp-Apim-Subscription-Key`` header — gives a 20-minute bearer token (no refresh token); it is
renewed at 80 % of its lifetime and once more on a 401. Every call carries the bearer token and the
subscription key. The limit (10 req/s) is per subscription key and shared by every client company
using it, so the limiter is keyed by the subscription key alone.

Full run: customers, outgoing invoices and credit notes of the history window, and the customer
ledger statement (payments). Incremental run (issue 16 item 7): customers and the customer-ledger
statement by ``lastChangedDateTimeOffsetGreaterThan`` — an entry's last-changed time moves with its
match state, so new invoices, credit notes and payments, and the invoices they settle, all show —
then only the invoices those entries name, by ``invoiceNos``. (``/OutgoingInvoices`` has no
``lastChangedDateTimeOffsetGreaterThan``; the API ignores parameters it does not have, so filtering
it so re-read every invoice each night.) Nothing changed: the token and two empty lists. There are
no webhooks. Paging: ``PageNumber`` (1-based) / ``PageSize``, bare arrays, until a short page; an
empty list is **204 with no body** (issue 16 item 5), which the stream loop reads as an empty page.

Currencies (issue 16 item 6): ``TotalAmount`` is in the invoice's currency, ``TotalPostedAmount`` and
``Balance`` in the client's; a ledger entry's ``Amount`` is the client's currency and
``CurrencyAmount`` the one it was posted in. The open amount in the invoice's currency is derived
from ``Balance`` by the invoice's own posting ratio (exact when unpaid or paid, proportional when
part paid — the API has no currency balance); payments are their ``CurrencyAmount``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import requests

from connector.config import secret
from connector.http import ApiClient, ApiError, StaticAuth, TransientError, basic, key_of, register_secret
from connector.model import PaymentSource, money
from connector.sources import api
from connector.sources.api import once
from connector.sources.base import LedgerBatch, LedgerBooking, SyncContext
from connector.sources.pagination import PageNumberPaginator
from connector.sources.streams import Since, Stream

SYSTEM = "poweroffice"
DEFAULT_BASE_URL = "https://goapi.poweroffice.net/v2"
DEFAULT_AUTH_URL = "https://goapi.poweroffice.net/OAuth/Token"
PAGE_SIZE = 1000  # default 5000, max 20 000; smaller pages keep one slow answer short
_DOCUMENT_TYPES = {"OutgoingInvoice", "OutgoingCreditNote"}

_tokens_lock = threading.Lock()
_TOKENS: dict[str, tuple[str, float]] = {}  # key pair → (access token, monotonic renew-after time)


@dataclass
class ClientCredentials:
    auth_url: str
    application_key: str
    client_key: str
    subscription_key: str
    limit_key: str

    def __post_init__(self) -> None:
        for value in (self.application_key, self.client_key, self.subscription_key):
            register_secret(value)
        self.cache_key = key_of(self.auth_url, self.application_key, self.client_key)

    def headers(self, session: requests.Session, force: bool = False) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._token(session, force)}",
            "Ocp-Apim-Subscription-Key": self.subscription_key,
        }

    def _token(self, session: requests.Session, force: bool) -> str:
        with _tokens_lock:
            cached = _TOKENS.get(self.cache_key)
            if cached and not force and time.monotonic() < cached[1]:
                return cached[0]
            bare = ApiClient(
                SYSTEM,
                self.auth_url,
                StaticAuth({"Ocp-Apim-Subscription-Key": self.subscription_key}),
                self.limit_key,
                session=session,
            )
            try:
                resp = bare.request(
                    "POST",
                    self.auth_url,
                    data={"grant_type": "client_credentials"},
                    headers={
                        "Authorization": basic(self.application_key, self.client_key),
                        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                    },
                )
            except TransientError as exc:
                raise ApiError(f"could not obtain a PowerOffice token: {exc}") from None
            data = resp.data if isinstance(resp.data, dict) else {}
            token = str(data.get("access_token") or "")
            if not token:
                raise ApiError("PowerOffice token endpoint answered without an access_token")
            register_secret(token)
            lifetime = float(data.get("expires_in") or 600)
            _TOKENS[self.cache_key] = (token, time.monotonic() + 0.8 * lifetime)  # renew at 80 %
            return token


def forget_tokens() -> None:
    with _tokens_lock:
        _TOKENS.clear()


# Every PowerOffice list is a bare array, PageNumber (1-based) / PageSize until a short page (§3).
RECORDS = None
PAGES = PageNumberPaginator(page="PageNumber", size="PageSize", first=1)
CHANGED = Since("lastChangedDateTimeOffsetGreaterThan", style="timestamp")

CUSTOMERS = Stream(
    path="Customers", name="customer", records=RECORDS, paginator=PAGES, since=CHANGED, entity="customer", key="Id"
)
# A full run reads the history window (the run adds fromDate/toDate); an incremental run the invoices
# the changed ledger entries name (invoiceNos).
INVOICES = Stream(path="OutgoingInvoices", name="invoice", records=RECORDS, paginator=PAGES, entity="invoice", key="Id")
# The customer ledger: payments, and (by last-changed time) what changed since the last run.
STATEMENT = Stream(
    path="Customerledger/Statement",
    name="ledger entry",
    records=RECORDS,
    paginator=PAGES,
    since=CHANGED,
    entity="ledger_entry",
    key="Id",
)
ACCOUNTS = Stream(path="GeneralLedgerAccounts", name="account", records=RECORDS, paginator=PAGES, key="Id")
MATCHED = Stream(
    path="Customerledger/EntriesByMatchId", name="matched entry", records=RECORDS, paginator=PAGES, key="Id"
)


class PowerOfficeSource(api.RestSource):
    system = SYSTEM
    records = RECORDS
    paginator = PAGES

    def __init__(self, client_id: str, client: ApiClient, page_size: int = PAGE_SIZE):
        super().__init__(client_id, client, page_size)

    @classmethod
    def from_config(cls, ctx_client: Any) -> PowerOfficeSource:
        ledger = ctx_client.ledger
        assert ledger.application_key_env and ledger.client_key_env and ledger.subscription_key_env
        app, client, sub = (
            secret(ledger.application_key_env),
            secret(ledger.client_key_env),
            secret(ledger.subscription_key_env),
        )
        url = api.base_url(ledger, DEFAULT_BASE_URL)
        key = key_of(sub)  # 10 req/s per subscription key, shared by all clients
        auth = ClientCredentials(ledger.auth_url or DEFAULT_AUTH_URL, app, client, sub, key)
        return cls(ctx_client.id, ApiClient(SYSTEM, url, auth, key), ledger.page_size or PAGE_SIZE)

    def fetch(self, ctx: SyncContext) -> LedgerBatch:
        run = self.begin(ctx)
        p, batch = run.plan, run.batch
        window = {"fromDate": p.window_start.isoformat(), "toDate": p.today.isoformat()}
        for raw in run.read(CUSTOMERS):
            customer = run.map("customer", _named(raw), what=CUSTOMERS.name)
            if customer is not None:
                batch.customers.append(customer)
        rows = [(raw, run.fields("ledger_entry", raw)) for raw in run.read(STATEMENT, **window)]
        entries = [(raw, f) for raw, f in rows if f is not None]
        by_match = self._matches(entries, run)

        if p.full:
            raws = list(run.read(INVOICES, **window))
            documents = {
                f["invoice_number"]
                for _r, f in entries
                if _is_document(f) and f.get("balance") and (f.get("voucher_date") or p.today) >= p.window_start
            }
            listed = {_text(r.get("InvoiceNo")) for r in raws}
            run.check_complete(INVOICES, documents, listed, "the customer ledger statement")
        else:
            raws = []
            numbers = sorted({n for _raw, f in entries if (n := _number_of(f, by_match))}, key=_sort_key)
            for group in api.chunks(numbers, 100):
                raws += run.read(INVOICES, invoiceNos=",".join(group))
        for raw in {str(r.get("Id")): r for r in raws}.values():
            related = raw.get("RelatedInvoiceNo")
            credits = (_text(related),) if related not in (None, "", 0) else ()
            inv = run.map("invoice", raw, credits=credits)
            if inv:
                f = self.map.fields("invoice", raw)
                same = inv.currency == ctx.client.currency
                left = _open(inv.amount, f["balance"], f["posted"], same)
                batch.invoices.append(replace(inv, ledger_open_amount=left))
        self._payments(entries, by_match, run)
        return run.finish()

    def _matches(self, entries: list[tuple[dict[str, Any], dict[str, Any]]], run: api.Sync) -> dict[str, str]:
        """MatchId → invoice number, from the invoice entries; a payment matched to an invoice whose
        entry is not among them (an incremental run) is looked up by its MatchId."""
        by_match: dict[str, str] = {}
        for _raw, f in entries:
            if f["voucher_type"] == "OutgoingInvoice" and f.get("invoice_number") and f.get("match_id"):
                by_match[f["match_id"]] = f["invoice_number"]
        missing = {
            f["match_id"]
            for _raw, f in entries
            if _is_payment(f) and not f.get("invoice_number") and f.get("match_id") and f["match_id"] not in by_match
        }
        for match_id in sorted(missing):
            for raw in run.read(MATCHED, matchId=match_id):
                found = run.fields("ledger_entry", raw)
                if found and found["voucher_type"] == "OutgoingInvoice" and found.get("invoice_number"):
                    by_match[match_id] = found["invoice_number"]
        return by_match

    def _payments(
        self, entries: list[tuple[dict[str, Any], dict[str, Any]]], by_match: dict[str, str], run: api.Sync
    ) -> None:
        """Incoming money from the customer ledger: entries that are not documents, matched to an
        invoice by its number or, failing that, through the invoice entry with the same MatchId."""
        for raw, f in entries:
            if not _is_payment(f) or f["write_off"] or not self.map.is_credit("ledger_entry", raw):
                continue  # invoices, credit notes, write-offs and debits (refunds) are not incoming money
            number = f.get("invoice_number") or by_match.get(f.get("match_id") or "")
            if not number:
                continue  # unmatched money: the bank side explains it
            run.batch.payments.append(
                api.Payment(
                    client_id=self.client_id,
                    source=PaymentSource.POWEROFFICE,
                    account="",
                    bank_ref=str(f["entry_id"]),
                    ordinal=0,
                    booking_date=f["booking_date"],
                    amount=f["amount"],  # CurrencyAmount: in the currency the payment was posted in
                    currency=f["currency"],
                    structured_ref=f.get("structured_ref"),
                    invoice_number=number,
                )
            )

    # ---- booking a charge back (issue 16) ------------------------------------------------------

    def book(self, booking: LedgerBooking) -> str:
        """A manual voucher posted directly (``POST /Vouchers/ManualJournals``): the customer's
        sub-ledger account debited, the income account credited, with the reference as its
        ``ExternalImportReference`` — "a duplicate check (only one instance of the reference can exist
        on the client)" — so posting it twice is refused by PowerOffice itself."""
        customers = list(self.read(CUSTOMERS, {"customerNos": booking.customer_id}))
        accounts = list(self.read(ACCOUNTS, {"accountNos": booking.account}))
        if not customers or customers[0].get("SubledgerAccountId") is None:
            raise ApiError(f"poweroffice: customer {booking.customer_id} has no sub-ledger account", 400)
        if not accounts or accounts[0].get("Id") is None:
            raise ApiError(f"poweroffice: no general ledger account {booking.account}", 400)
        on = booking.on.isoformat()
        line = {"PostingDate": on, "Description": booking.text, "VatId": None, "CurrencyCode": booking.currency}
        body = {
            "CurrencyCode": booking.currency,
            "Description": booking.text,
            "ExternalImportReference": booking.reference,
            "VoucherDate": on,
            "VoucherLines": [
                {**line, "AccountId": customers[0]["SubledgerAccountId"], "CurrencyAmount": booking.amount},
                {**line, "AccountId": accounts[0]["Id"], "CurrencyAmount": -booking.amount},
            ],
        }
        try:
            resp = once(self.http).request(
                "POST",
                "Vouchers/ManualJournals",
                data=api.json_body(body),
                headers={"Content-Type": "application/json"},
            )
        except ApiError as exc:
            found = self.find_booking(booking) if exc.status == 400 else None
            if found:  # refused as a duplicate of the reference: it was booked before
                return found
            raise
        data = resp.data if isinstance(resp.data, dict) else {}
        return str(data.get("Id") or booking.reference)

    def find_booking(self, booking: LedgerBooking) -> str | None:
        """The customer's ledger entry of that day carrying the reference (``ExternalImportReference``)."""
        on = booking.on.isoformat()
        day = {"fromDate": on, "toDate": on, "customerNos": booking.customer_id}
        for raw in self.read(STATEMENT, day):
            if raw.get("ExternalImportReference") == booking.reference:
                return str(raw.get("VoucherId") or raw.get("Id"))
        return None

    def check(self) -> list[str]:
        info = self.http.get("ClientIntegrationInformation").data or {}
        lines = [f"token works: client {info.get('ClientName') or '?'} (client id {info.get('ClientId') or '?'})"]
        missing = info.get("InvalidPrivileges") or []
        if missing:
            lines.append(f"privileges missing (module subscriptions?): {', '.join(map(str, missing))}")
        lines.append(f"customers visible: {sum(1 for _ in self.pages('Customers', {}))}")
        today = date.today().isoformat()
        items = sum(1 for _ in self.pages("Customerledger/OpenItems", {"date": today}))
        lines.append(f"open items in the customer ledger on {today}: {items}")
        return lines


def _named(raw: dict[str, Any]) -> dict[str, Any]:
    """A person's name from its first and last name: ``Name`` is "relevant and required if the customer
    is a company", so a person may come without one (CustomerDto)."""
    if raw.get("Name") or raw.get("LegalName"):
        return raw
    parts = [str(raw.get(k) or "").strip() for k in ("FirstName", "LastName")]
    return {**raw, "Name": " ".join(p for p in parts if p)} if any(parts) else raw


def _is_payment(f: dict[str, Any]) -> bool:
    return f["voucher_type"] not in _DOCUMENT_TYPES


def _is_document(f: dict[str, Any]) -> bool:
    return f["voucher_type"] in _DOCUMENT_TYPES and bool(f.get("invoice_number"))


def _number_of(f: dict[str, Any], by_match: dict[str, str]) -> str | None:
    """The invoice a changed ledger entry concerns: its own number, or its match's invoice."""
    return f.get("invoice_number") or by_match.get(f.get("match_id") or "")


def _open(amount: Decimal, balance: Decimal | None, posted: Decimal | None, same: bool) -> Decimal | None:
    """The open amount in the invoice's currency. ``Balance`` is in the client's currency; the
    invoice's own ratio (TotalAmount : TotalPostedAmount) converts it: exact when nothing or all is
    paid, proportional in between (the API gives no balance in the invoice's currency). ``same``:
    the invoice is in the client's currency, so the balance needs no conversion."""
    if balance is None:
        return None
    if balance == 0:
        return amount * 0
    if same:
        return balance
    if not posted:
        return None  # unknown rather than a client-currency amount labelled with another currency
    if balance == posted:
        return amount
    return money(amount * balance / posted)


def _text(value: Any) -> str:
    """InvoiceNo is a number in /OutgoingInvoices and a string in the ledger: compare as text."""
    if isinstance(value, int) or (isinstance(value, Decimal) and value == value.to_integral_value()):
        return str(int(value))
    return str(value)


def _sort_key(number: str) -> tuple[int, str]:
    return (int(number), "") if number.isdigit() else (0, number)
