"""Tripletex API v2 ledger source.

Auth: consumer + employee token → a session token (``PUT /token/session/:create``), then Basic
``<companyId>:<sessionToken>`` on every call — one accountant session serves every client company
it has login access to, so sessions are cached per token pair and shared by all clients.

Full run: active and inactive customers (``GET /customer`` leaves inactive ones out unless asked),
every invoice and credit note of the history window (``GET /invoice`` needs an invoice-date window
and has no change filter) with its customer and its postings expanded by the ``fields`` expression,
and the open posts of the customer ledger as the baseline. Payments are the invoices' own payment
postings (``Invoice.postings``), whatever their ``type`` — a payment registered by hand has none, so
a ``type=INCOMING_PAYMENT`` filter would lose it (issue 16, item 1).

Incremental run (issue 16, "only what changed"): customers ``changedSince`` and the open posts — two
requests when nothing changed; then only the invoices whose open posts changed since the last run
(paid, part paid, credited: re-read by id; new: read from their first posting's date), and the
credit notes issued since when one of them turns out credited. The open posts are asked with
``If-None-Match``: ``versionDigest`` is a checksum of the result only when that header is sent (else
a sentence), and the checksum the last run kept is answered 304 Not Modified when nothing changed
(tripletex-api2, examples/bash/checksum; changelog 2.59.0). Paging: ``from``/``count`` until a short page —
``fullResultSize`` is deprecated and inexact. The session tokens a run created are deleted when the
run ends (:func:`end_sessions`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
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

# Nested objects come back as {id, url} unless the fields expression expands them (spec, "Fields").
CUSTOMER_FIELDS = (
    "id,name,organizationNumber,email,invoiceEmail,phoneNumber,phoneNumberMobile,isPrivateIndividual,isInactive,"
    "postalAddress(addressLine1,postalCode,city,country(isoAlpha2Code))"
)
# Invoice.postings: "a posting for the invoice with a positive amount, and one or more posting for the
# payments with negative amounts" — every payment with its date and reference, whatever its type
# (a payment registered by hand has none).
POSTING_FIELDS = "id,date,amount,amountCurrency,invoiceNumber,externalRef,type,currency(code)"
INVOICE_FIELDS = (
    "id,invoiceNumber,invoiceDate,invoiceDueDate,kid,amount,amountCurrency,amountOutstanding,"
    "amountCurrencyOutstanding,isCreditNote,creditedInvoice,isCredited,currency(code),"
    f"customer({CUSTOMER_FIELDS}),postings({POSTING_FIELDS})"
)
OPEN_POST_FIELDS = "id,date,amount,invoiceNumber,customer(id),closeGroup(id)"
INVOICE_POSTING = "OUTGOING_INVOICE_CUSTOMER_POSTING"  # the document's own posting, not money

_sessions_lock = threading.Lock()


@dataclass
class _Session:
    token: str
    renew_on: date
    base_url: str


_SESSIONS: dict[str, _Session] = {}  # token pair → the session this process created for it


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
            if cached and not force and cached.renew_on > today:
                return cached.token
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
            _SESSIONS[self.limit_key] = _Session(token, expires - timedelta(days=1), self.base_url)
            return token


def end_sessions() -> list[str]:
    """Delete the session tokens this process created (``DELETE /token/session/{token}``) at the end of
    a run, so none outlives it; returns one line per session that could not be deleted (never the token)."""
    with _sessions_lock:
        sessions = list(_SESSIONS.items())
        _SESSIONS.clear()
    problems = []
    for key, found in sessions:
        http = ApiClient(SYSTEM, found.base_url, StaticAuth({"Authorization": basic("0", found.token)}), key)
        try:
            http.request("DELETE", f"token/session/{found.token}")
        except ApiError as exc:  # it expires on its own by its expiration date
            problems.append(f"tripletex: the session could not be deleted ({exc}); it expires by itself")
    return problems


def forget_sessions() -> None:
    with _sessions_lock:
        _SESSIONS.clear()


# Every Tripletex list: {"fullResultSize", "from", "count", "versionDigest", "values": [...]}, paged by
# from/count until a short page (fullResultSize is deprecated and inexact, research §1). versionDigest
# is a checksum only on a request with If-None-Match (tripletex-api2 examples/bash/checksum).
RECORDS = "values"
PAGES = OffsetPaginator(offset="from", count="count", digest="versionDigest", checksum_header="If-None-Match")

# GET /customer leaves inactive customers out unless asked (isInactive defaults to false).
CUSTOMERS = Stream(
    path="customer",
    name="customer",
    records=RECORDS,
    paginator=PAGES,
    params={"fields": CUSTOMER_FIELDS},
    since=Since("changedSince"),  # the only list with a change filter
    entity="customer",
    key="id",
)
INACTIVE_CUSTOMERS = replace(CUSTOMERS, name="inactive customer", params={**CUSTOMERS.params, "isInactive": "true"})
# GET /invoice has no change filter but needs an invoice-date window: the run adds its end.
INVOICES = Stream(
    path="invoice",
    name="invoice",
    records=RECORDS,
    paginator=PAGES,
    params={"fields": INVOICE_FIELDS},
    since=Since("invoiceDateFrom", on_full=True),
    entity="invoice",
    key="id",
)
INVOICES_IN_WINDOW = replace(INVOICES, since=None)  # re-reads by id, or from a date, over the history window
OPEN_POSTS = Stream(
    path="ledger/posting/openPost",
    name="open post",
    records=RECORDS,
    paginator=PAGES,
    params={"sorted": "false", "fields": OPEN_POST_FIELDS},
    entity="open_post",
    key="id",
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
        if p.full:
            batch.customers.extend(run.mapped(INACTIVE_CUSTOMERS))
        previous: dict[str, list[Any]] = p.previous.get("open", {}) if not p.full else {}
        # The open posts' checksum unchanged since the last run (304 Not Modified): nothing was paid,
        # credited or invoiced, and one request told us so.
        posts, listing = run.read_unless_unchanged(OPEN_POSTS, p.previous.get("open_digest"), date=until)
        first_seen: dict[str, date] = {}
        if listing.unchanged:
            open_now = {n: Decimal(v[1]) for n, v in previous.items()}
        else:
            open_now, first_seen = self._open_posts(posts)
        if p.full:
            raws = list(run.read(INVOICES, invoiceDateTo=until))
            in_window = {n for n in open_now if first_seen.get(n, p.today) >= p.window_start}
            listed = {_number(r.get("invoiceNumber")) for r in raws}
            run.check_complete(INVOICES, in_window, listed, "the customer ledger's open posts")
        else:
            raws = self._changed(run, previous, open_now, first_seen, until)

        invoices = self._invoices(raws, run)
        batch.invoices.extend(invoices)
        self._embedded(raws, invoices, run)
        ids = {i.number: i.source_ref for i in invoices if i.kind.value == "invoice"}
        ids.update({n: v[0] for n, v in previous.items() if n not in ids})
        state = {n: [ids.get(n), str(a)] for n, a in sorted(open_now.items())}
        return run.finish(open=state, open_digest=listing.digest)

    def _open_posts(self, posts: Iterable[dict[str, Any]]) -> tuple[dict[str, Decimal], dict[str, date]]:
        """Open amount per invoice number from the customer ledger's open posts, and each number's
        earliest posting date (where to look for a new invoice)."""
        sums: dict[str, Decimal] = {}
        first: dict[str, date] = {}
        for raw in posts:
            if not raw.get("customer") or not raw.get("invoiceNumber"):
                continue  # other ledgers' open posts (suppliers, bank) share the endpoint
            f = self.map.fields("open_post", raw)
            number = f["invoice_number"]
            sums[number] = sums.get(number, Decimal(0)) + f["amount"]
            if f.get("date") and (number not in first or f["date"] < first[number]):
                first[number] = f["date"]
        return {n: s for n, s in sums.items() if s != 0}, first

    def _changed(
        self,
        run: api.Sync,
        previous: dict[str, list[Any]],
        open_now: dict[str, Decimal],
        first_seen: dict[str, date],
        until: str,
    ) -> list[dict[str, Any]]:
        """The invoices whose open posts changed since the last run, as GET /invoice cannot be asked
        what changed: paid or credited (re-read by id), new (read from their first posting date),
        and the credit notes issued since the last run when an invoice turns out credited."""
        p = run.plan
        changed = {n for n in set(previous) | set(open_now) if _amount(previous.get(n)) != open_now.get(n)}
        known = sorted(str(previous[n][0]) for n in changed if previous.get(n) and previous[n][0])
        new = sorted(n for n in changed if not (previous.get(n) and previous[n][0]))
        out: list[dict[str, Any]] = []
        window = {"invoiceDateFrom": p.window_start.isoformat(), "invoiceDateTo": until}
        for group in api.chunks(known, 100):
            out += run.read(INVOICES_IN_WINDOW, **window, id=",".join(group))
        # New invoices are read from their first posting's date; when one turns out credited, the credit
        # notes issued since the last run are read too — in one listing from the earlier of the two.
        since = p.since.date() if p.since else p.window_start
        starts = [min((first_seen[n] for n in new if n in first_seen), default=since)] if new else []
        if any(r.get("isCredited") and not r.get("isCreditNote") for r in out):
            starts.append(since)
        if starts:
            start = max(min(starts), p.window_start)
            out += run.read(INVOICES_IN_WINDOW, invoiceDateFrom=start.isoformat(), invoiceDateTo=until)
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

    def _embedded(self, raws: list[dict[str, Any]], invoices: list[Invoice], run: api.Sync) -> None:
        """The customers and payments each invoice carries: every customer with an invoice arrives
        (inactive ones too), and every payment posting, typed or not, with its date and reference."""
        batch = run.batch
        have = {c.customer_id for c in batch.customers}
        by_ref = {i.source_ref: i for i in invoices if i.kind.value == "invoice"}
        for raw in {str(r.get("id")): r for r in raws}.values():
            customer = raw.get("customer")
            if isinstance(customer, dict) and str(customer.get("id")) not in have and customer.get("name"):
                found = run.map("customer", customer)
                if found:
                    batch.customers.append(found)
                    have.add(found.customer_id)
            inv = by_ref.get(str(raw.get("id")))
            if inv is None:
                continue
            for posting in raw.get("postings") or []:
                if not isinstance(posting, dict) or posting.get("type") == INVOICE_POSTING:
                    continue
                amount = posting.get("amountCurrency", posting.get("amount"))
                if amount is None or Decimal(str(amount)) >= 0:
                    continue  # the invoice's own posting (+); payments are negative
                pay = run.map("payment", posting, invoice_number=inv.number, currency=inv.currency)
                if pay:
                    batch.payments.append(pay)

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
        active = sum(1 for _ in self.pages("customer", {"fields": "id"}))
        inactive = sum(1 for _ in self.pages("customer", {"fields": "id", "isInactive": "true"}))
        lines.append(f"customers visible: {active} active, {inactive} inactive")
        until = (date.today() + timedelta(days=1)).isoformat()
        posts, _first = self._open_posts(self.read(OPEN_POSTS, {"date": until}))
        lines.append(f"invoices with open posts: {len(posts)}")
        return lines


def _amount(entry: list[Any] | None) -> Decimal | None:
    return Decimal(entry[1]) if entry else None


def _number(value: Any) -> str:
    """Invoice numbers are numbers in /invoice and strings in postings: compare them as text."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    return str(value)
