"""PowerOffice Go API v2 ledger source.

Auth: OAuth2 client credentials — ``POST /OAuth/Token`` with Basic ``applicationKey:clientKey`` and
the ``Ocp-Apim-Subscription-Key`` header — gives a 20-minute bearer token (no refresh token); it is
renewed at 80 % of its lifetime and once more on a 401. Every call carries the bearer token and the
subscription key. The limit (10 req/s) is per subscription key and shared by every client company
using it, so the limiter is keyed by the subscription key alone.

Full run: customers, outgoing invoices and credit notes of the history window, and the customer
ledger statement (payments). Incremental run: the same lists filtered by
``lastChangedDateTimeOffsetGreaterThan`` plus invoices by ``balanceLastChangedDateTimeOffsetGreaterThan``
(payments change the balance, not the invoice). There are no webhooks. Paging:
``PageNumber`` (1-based) / ``PageSize``, bare arrays, until a short page.
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
from connector.model import PaymentSource
from connector.sources import api
from connector.sources.base import LedgerBatch, SyncContext
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
    path="Customers", name="customer", records=RECORDS, paginator=PAGES, since=CHANGED, entity="customer"
)
# A full run reads the history window (the run adds fromDate/toDate); an incremental run what changed,
# and what a payment changed: payments change the balance, not the invoice.
INVOICES = Stream(path="OutgoingInvoices", name="invoice", records=RECORDS, paginator=PAGES, entity="invoice")
CHANGED_INVOICES = replace(INVOICES, since=CHANGED)
REBALANCED_INVOICES = replace(INVOICES, since=Since("balanceLastChangedDateTimeOffsetGreaterThan", style="timestamp"))
STATEMENT = Stream(
    path="Customerledger/Statement",
    name="ledger entry",
    records=RECORDS,
    paginator=PAGES,
    since=CHANGED,
    entity="ledger_entry",
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
        batch.customers.extend(run.mapped(CUSTOMERS))

        raws: dict[str, dict[str, Any]] = {}
        for stream, params in [(INVOICES, window)] if p.full else [(CHANGED_INVOICES, {}), (REBALANCED_INVOICES, {})]:
            for raw in run.read(stream, **params):
                raws[str(raw.get("Id"))] = raw
        for raw in raws.values():
            related = raw.get("RelatedInvoiceNo")
            credits = (_text(related),) if related not in (None, "", 0) else ()
            inv = run.map("invoice", raw, credits=credits)
            if inv:
                batch.invoices.append(inv)

        self._payments(list(run.read(STATEMENT, **window)), run)
        return run.finish()

    def _payments(self, entries: list[dict[str, Any]], run: api.Sync) -> None:
        """Incoming money from the customer ledger: entries that are not documents, matched to an
        invoice by its number or, failing that, through the invoice entry with the same MatchId."""
        rows = [(raw, run.fields("ledger_entry", raw)) for raw in entries]
        by_match: dict[str, str] = {}
        for _raw, f in rows:
            if f and f["voucher_type"] == "OutgoingInvoice" and f.get("invoice_number") and f.get("match_id"):
                by_match[f["match_id"]] = f["invoice_number"]
        for raw, f in rows:
            if not f or f["voucher_type"] in _DOCUMENT_TYPES or not self.map.is_credit("ledger_entry", raw):
                continue  # invoices, credit notes and debits (refunds) are not incoming money
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
                    amount=f["amount"],
                    currency=f["currency"],
                    structured_ref=f.get("structured_ref"),
                    invoice_number=number,
                )
            )

    def check(self) -> list[str]:
        info = self.http.get("ClientIntegrationInformation").data or {}
        lines = [f"token works: client {info.get('ClientName') or info.get('ClientOrganizationNo') or '?'}"]
        missing = info.get("InvalidPrivileges") or []
        if missing:
            lines.append(f"privileges missing (module subscriptions?): {', '.join(map(str, missing))}")
        lines.append(f"customers visible: {sum(1 for _ in self.pages('Customers', {}))}")
        today = date.today().isoformat()
        items = sum(1 for _ in self.pages("Customerledger/OpenItems", {"date": today}))
        lines.append(f"open items in the customer ledger on {today}: {items}")
        return lines


def _text(value: Any) -> str:
    """InvoiceNo is a number in /OutgoingInvoices and a string in the ledger: compare as text."""
    if isinstance(value, int) or (isinstance(value, Decimal) and value == value.to_integral_value()):
        return str(int(value))
    return str(value)
