"""Tripletex API v2 ledger source.

Auth: consumer + employee token → a session token (``PUT /token/session/:create``), then Basic
``<companyId>:<sessionToken>`` on every call — one accountant session serves every client company
it has login access to, so sessions are cached per token pair and shared by all clients.

Full run: customers, all invoices and credit notes in the history window (``GET /invoice`` needs an
invoice-date window and has no change filter), incoming-payment postings, and the open posts of the
customer ledger as the baseline. Incremental run: customers ``changedSince``, invoices and payment
postings of the recent window, and the open posts again; invoices whose open posts changed since
the last run (paid, credited, re-opened) are re-read by id. Paging: ``from``/``count`` until a short
page — ``fullResultSize`` is deprecated and inexact.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import requests

from connector.config import secret
from connector.http import ApiClient, ApiError, StaticAuth, TransientError, basic, key_of, register_secret
from connector.model import Invoice
from connector.sources import api, mapping
from connector.sources.base import LedgerBatch, SyncContext
from connector.sources.pagination import OffsetPaginator
from connector.sources.streams import Since, Stream

SYSTEM = "tripletex"
DEFAULT_BASE_URL = "https://tripletex.no/v2"
MAX_COUNT = 1000  # 422/23000 "Result Set Too Large" above this

CUSTOMER_FIELDS = (
    "id,name,organizationNumber,email,invoiceEmail,phoneNumber,phoneNumberMobile,isPrivateIndividual,postalAddress(*)"
)
INVOICE_FIELDS = (
    "id,invoiceNumber,invoiceDate,invoiceDueDate,kid,customer(id),amount,amountCurrency,amountOutstanding,"
    "amountCurrencyOutstanding,isCreditNote,creditedInvoice,currency(code)"
)
POSTING_FIELDS = "id,date,amount,amountCurrency,invoiceNumber,externalRef,type,customer(id),currency(code)"
OPEN_POST_FIELDS = "id,amount,invoiceNumber,customer(id),closeGroup(id)"

_sessions_lock = threading.Lock()
_SESSIONS: dict[str, tuple[str, date]] = {}  # token pair → (session token, expiration date)


@dataclass
class SessionAuth:
    base_url: str
    consumer_token: str
    employee_token: str
    company_id: str
    limit_key: str

    def __post_init__(self) -> None:
        register_secret(self.consumer_token)
        register_secret(self.employee_token)

    def headers(self, session: requests.Session, force: bool = False) -> dict[str, str]:
        token = self._session_token(session, force)
        return {"Authorization": basic(self.company_id, token)}

    def _session_token(self, session: requests.Session, force: bool) -> str:
        today = date.today()
        with _sessions_lock:
            cached = _SESSIONS.get(self.limit_key)
            if cached and not force and cached[1] > today:
                return cached[0]
            # Created under the lock so concurrent clients of one accountant make one session.
            bare = ApiClient(SYSTEM, self.base_url, StaticAuth({}), self.limit_key, session=session)
            expires = today + timedelta(days=2)  # renewed when less than a day is left
            try:
                resp = bare.request(
                    "PUT",
                    "token/session/:create",
                    params={
                        "consumerToken": self.consumer_token,
                        "employeeToken": self.employee_token,
                        "expirationDate": expires.isoformat(),
                    },
                )
            except TransientError as exc:
                raise ApiError(f"could not create a Tripletex session: {exc}") from None
            token = str(mapping.lookup(resp.data, "value.token") or "")
            if not token:
                raise ApiError("Tripletex session create answered without a token")
            register_secret(token)
            _SESSIONS[self.limit_key] = (token, expires - timedelta(days=1))
            return token


def forget_sessions() -> None:
    with _sessions_lock:
        _SESSIONS.clear()


# Every Tripletex list: {"fullResultSize", "from", "count", "values": [...]}, paged by from/count
# until a short page (fullResultSize is deprecated and inexact, research §1).
RECORDS = "values"
PAGES = OffsetPaginator(offset="from", count="count")

CUSTOMERS = Stream(
    path="customer",
    name="customer",
    records=RECORDS,
    paginator=PAGES,
    params={"fields": CUSTOMER_FIELDS},
    since=Since("changedSince"),  # the only list with a change filter
    entity="customer",
)
# GET /invoice has no change filter but needs an invoice-date window: the run adds its end.
INVOICES = Stream(
    path="invoice",
    name="invoice",
    records=RECORDS,
    paginator=PAGES,
    params={"fields": INVOICE_FIELDS},
    since=Since("invoiceDateFrom", on_full=True),
    entity="invoice",
)
INVOICES_IN_WINDOW = replace(INVOICES, since=None)  # re-reads by id or number over the whole history window
PAYMENTS = Stream(
    path="ledger/posting",
    name="payment",
    records=RECORDS,
    paginator=PAGES,
    params={"type": "INCOMING_PAYMENT", "fields": POSTING_FIELDS},
    since=Since("dateFrom", on_full=True),
    entity="payment",
)
OPEN_POSTS = Stream(
    path="ledger/posting/openPost",
    name="open post",
    records=RECORDS,
    paginator=PAGES,
    params={"sorted": "false", "fields": OPEN_POST_FIELDS},
    entity="open_post",
)


class TripletexSource(api.RestSource):
    system = SYSTEM
    records = RECORDS
    paginator = PAGES
    max_page_size = MAX_COUNT

    def __init__(self, client_id: str, client: ApiClient, page_size: int = MAX_COUNT):
        super().__init__(client_id, client, page_size)

    @classmethod
    def from_config(cls, ctx_client: Any) -> TripletexSource:
        ledger = ctx_client.ledger
        assert ledger.consumer_token_env and ledger.employee_token_env
        consumer, employee = secret(ledger.consumer_token_env), secret(ledger.employee_token_env)
        url = api.base_url(ledger, DEFAULT_BASE_URL)
        key = key_of(url, consumer, employee)  # the limit is per employee per consumer
        auth = SessionAuth(url, consumer, employee, ledger.company_id or "0", key)
        return cls(ctx_client.id, ApiClient(SYSTEM, url, auth, key), ledger.page_size or MAX_COUNT)

    # ---- fetch ----------------------------------------------------------------------------------

    def fetch(self, ctx: SyncContext) -> LedgerBatch:
        run = self.begin(ctx)
        p, batch = run.plan, run.batch
        until = (p.today + timedelta(days=1)).isoformat()  # "to" dates are exclusive

        batch.customers.extend(run.mapped(CUSTOMERS))
        raws = list(run.read(INVOICES, invoiceDateTo=until))
        for raw in run.read(PAYMENTS, dateTo=until):
            if not raw.get("invoiceNumber"):
                continue  # unallocated money in the ledger: the bank side explains it, not us
            pay = run.map("payment", raw)
            if pay:
                batch.payments.append(pay)

        # The open-post diff: invoices whose open posts changed since the last run (paid, credited,
        # re-opened) are re-read, as GET /invoice cannot be asked what changed.
        open_now = self._open_posts(until)
        previous: dict[str, list[Any]] = p.previous.get("open", {}) if not p.full else {}
        if not p.full:
            seen = {_number(r.get("invoiceNumber")) for r in raws}
            changed = {n for n in set(previous) | set(open_now) if _amount(previous.get(n)) != open_now.get(n)}
            changed |= {pay.invoice_number for pay in batch.payments if pay.invoice_number}
            raws += self._reread(sorted(changed - seen), previous, p, until)

        invoices = self._invoices(raws, run)
        batch.invoices.extend(invoices)
        ids = {i.number: i.source_ref for i in invoices if i.kind.value == "invoice"}
        ids.update({n: v[0] for n, v in previous.items() if n not in ids})
        state = {n: [ids.get(n), str(a)] for n, a in sorted(open_now.items())}
        return run.finish(open=state)

    def _open_posts(self, until: str) -> dict[str, Decimal]:
        sums: dict[str, Decimal] = {}
        for raw in self.read(OPEN_POSTS, {"date": until}):
            if not raw.get("customer") or not raw.get("invoiceNumber"):
                continue  # other ledgers' open posts (suppliers, bank) share the endpoint
            f = self.map.fields("open_post", raw)
            sums[f["invoice_number"]] = sums.get(f["invoice_number"], Decimal(0)) + f["amount"]
        return {n: s for n, s in sums.items() if s != 0}

    def _reread(
        self, numbers: list[str], previous: dict[str, list[Any]], p: api.Plan, until: str
    ) -> list[dict[str, Any]]:
        """Invoices whose open posts changed: by id when we know it, else by number."""
        window = {"invoiceDateFrom": p.window_start.isoformat(), "invoiceDateTo": until}
        known = [str(previous[n][0]) for n in numbers if previous.get(n) and previous[n][0]]
        unknown = [n for n in numbers if not (previous.get(n) and previous[n][0])]
        out: list[dict[str, Any]] = []
        for group in api.chunks(known, 100):
            out += self.read(INVOICES_IN_WINDOW, {**window, "id": ",".join(group)})
        for number in unknown:
            out += self.read(INVOICES_IN_WINDOW, {**window, "invoiceNumber": number})
        return out

    def _invoices(self, raws: list[dict[str, Any]], run: api.Sync) -> list[Invoice]:
        by_id = {str(r.get("id")): r for r in raws}
        out: dict[str, Invoice] = {}
        for raw in by_id.values():
            credited = str(raw.get("creditedInvoice") or "")
            credits: tuple[str, ...] = ()
            if credited and credited != "0":
                target = by_id.get(credited) or self._one(credited)
                if target and target.get("invoiceNumber") is not None:
                    credits = (str(self.map.fields("invoice", target)["number"]),)
            inv = run.map("invoice", raw, credits=credits)
            if inv:
                out[f"{inv.kind}:{inv.number}"] = inv
        return list(out.values())

    def _one(self, invoice_id: str) -> dict[str, Any] | None:
        resp = self.http.get(f"invoice/{invoice_id}", {"fields": INVOICE_FIELDS})
        value = resp.data.get("value") if isinstance(resp.data, dict) else None
        return value if isinstance(value, dict) else None

    # ---- check ----------------------------------------------------------------------------------

    def check(self) -> list[str]:
        who = self.http.get("token/session/>whoAmI").data.get("value", {})
        lines = [f"session works: employee {mapping.lookup(who, 'employeeId')}, company {who.get('companyId')}"]
        try:
            companies = list(self.pages("company/>withLoginAccess", {"fields": "id,name"}))
            lines.append(f"client companies this token can act for: {len(companies)}")
        except ApiError as exc:
            lines.append(f"client companies: not visible ({exc})")
        customers = sum(1 for _ in self.pages("customer", {"fields": "id"}))
        lines.append(f"customers visible: {customers}")
        until = (date.today() + timedelta(days=1)).isoformat()
        lines.append(f"invoices with open posts: {len(self._open_posts(until))}")
        return lines


def _amount(entry: list[Any] | None) -> Decimal | None:
    return Decimal(entry[1]) if entry else None


def _number(value: Any) -> str:
    """Invoice numbers are numbers in /invoice and strings in postings: compare them as text."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    return str(value)
