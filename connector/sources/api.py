"""What every accounting-system adapter shares: the generic run (streams read page by page, records
mapped, the bookmark written), the sync plan (full or incremental) and building canonical records.

An adapter is a :class:`RestSource` that declares its streams (:mod:`connector.sources.streams`)
and keeps only what is its own: auth, and the few requests and diffs no stream describes. Its
``fetch`` starts a :class:`Sync`, which fills each stream's replication parameter from the plan,
maps records with the system's field map (a record that cannot be read is reported, not fatal)
and writes the bookmark at the end.

The cursor (bookmark) is per client and system (stored by the pipeline in ``sync_state``). A run is
*full* when there is no cursor, when it belongs to another system, or when the last full sync is
older than ``full_resync_days``; a full run lists every document in the history window and marks
the batch a complete snapshot, so documents that vanished upstream are closed. Otherwise the run is
*incremental* from the last successful run minus ``overlap_days`` (date-only change filters and
clock skew make the overlap necessary; upserts are idempotent, so re-reading costs nothing else).

The bookmark also remembers how much each list held on the last full sync (``listings``: records
and bytes per path), which bounds how far a listing may run (:func:`streams.budget_for`). A full
run whose listings did not all end consistently (:class:`streams.Listing`) closes nothing and
leaves the full re-sync due, so the next run tries it again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from connector import http
from connector.config import LedgerConfig
from connector.http import ApiClient, ApiError
from connector.model import Customer as CustomerRecord
from connector.model import DocKind, Invoice, Payment, PaymentSource
from connector.sources import mapping, streams
from connector.sources.base import LedgerBatch, Snapshot, SyncContext
from connector.sources.mapping import Mapping as FieldMap
from connector.sources.mapping import MappingError
from connector.sources.pagination import Paginator
from connector.sources.streams import Budget, Listing, Stream

CURSOR_VERSION = 1


@dataclass(frozen=True)
class Plan:
    full: bool
    today: date  # the real day of the run: change filters follow the clock, not --as-of
    since: datetime | None  # incremental lower bound, overlap already subtracted
    window_start: date  # oldest issue date a full run reads
    previous: dict[str, Any] = field(default_factory=dict)  # the last cursor (system-specific state)


def plan(ctx: SyncContext, system: str) -> Plan:
    ledger = ctx.client.ledger
    today = ctx.now.date()
    window_start = today - timedelta(days=ledger.history_days)
    cur = ctx.cursor or {}
    ok = cur.get("system") == system and cur.get("version") == CURSOR_VERSION and cur.get("synced_at")
    if ok:
        full_on = date.fromisoformat(str(cur.get("full_on")))
        if (today - full_on).days < ledger.full_resync_days:
            since = datetime.fromisoformat(cur["synced_at"]) - timedelta(days=ledger.overlap_days)
            return Plan(False, today, since, window_start, dict(cur))
    return Plan(True, today, None, window_start, dict(cur) if ok else {})


def cursor(ctx: SyncContext, system: str, p: Plan, **state: Any) -> dict[str, Any]:
    full_on = p.today if p.full else date.fromisoformat(str(p.previous["full_on"]))
    return {
        "system": system,
        "version": CURSOR_VERSION,
        "synced_at": ctx.now.isoformat(),
        "full_on": full_on.isoformat(),
        **state,
    }


NEVER = date(1970, 1, 1)  # "full_on" of a bookmark whose full sync is still to be done


def finish(
    batch: LedgerBatch,
    ctx: SyncContext,
    system: str,
    p: Plan,
    mapping_failed: bool,
    listings: list[Listing] | None = None,
    **state: Any,
) -> None:
    listings = listings or []
    incomplete = [x for x in listings if x.incomplete]
    for x in incomplete:
        batch.errors.append(
            f"{system} {x.stream}: {x.incomplete}; the listing is incomplete"
            + (", so nothing is closed as vanished upstream and the full re-sync is tried again" if p.full else "")
        )
    counts = _counts(p, listings)
    batch.cursor = cursor(ctx, system, p, **state, **({"listings": counts} if counts else {}))
    if p.full and incomplete:
        # The full re-sync did not see a complete list: it stays due (the next run is full again).
        batch.cursor["full_on"] = str(p.previous.get("full_on") or NEVER.isoformat())
    # A record we could not read might be an open invoice: never close anything on a partial list.
    if p.full and not mapping_failed and not incomplete:
        batch.complete_snapshot = Snapshot(system, p.window_start)


def _counts(p: Plan, listings: list[Listing]) -> dict[str, list[int]]:
    """Records and bytes per list path: from a full run, what it listed; otherwise the last full run's."""
    previous: dict[str, list[int]] = dict(p.previous.get("listings") or {})
    if not p.full:
        return previous
    now: dict[str, list[int]] = {}
    for x in listings:
        records, size = now.get(x.stream, [0, 0])
        now[x.stream] = [records + x.records, size + x.bytes]
    return {**previous, **now}


def customer(m: FieldMap, client_id: str, raw: dict[str, Any]) -> CustomerRecord:
    f = m.fields("customer", raw)
    address = (f["address"],) if f.get("address") else ()
    return CustomerRecord(
        client_id=client_id,
        customer_id=f["customer_id"],
        name=f["name"],
        org_no=f.get("org_no"),
        country=f.get("country"),
        email=f.get("email"),
        address=address,
        postal_code=f.get("postal_code"),
        city=f.get("city"),
        is_person=bool(f.get("is_person")),
        phone=f.get("phone"),
        contact=f.get("contact"),
    )


def invoice(
    m: FieldMap,
    entity: str,
    client_id: str,
    raw: dict[str, Any],
    *,
    credit: bool | None = None,
    credits: tuple[str, ...] = (),
) -> Invoice:
    f = m.fields(entity, raw)
    is_credit = m.is_credit(entity, raw) if credit is None else credit
    open_amount = f.get("open_amount")
    if m.is_closed(entity, raw):
        open_amount = f["amount"] * 0
    return Invoice(
        client_id=client_id,
        number=f["number"],
        kind=DocKind.CREDIT_NOTE if is_credit else DocKind.INVOICE,
        customer_id=f["customer_id"],
        issue_date=f["issue_date"],
        due_date=f.get("due_date"),
        currency=f["currency"],
        amount=f["amount"],
        source=m.system,
        kid=f.get("kid"),
        credits=credits if is_credit else (),
        ledger_open_amount=open_amount,
        source_ref=f.get("source_ref"),
    )


def payment(
    m: FieldMap, entity: str, client_id: str, raw: dict[str, Any], *, invoice_number: str | None = None, **extra: Any
) -> Payment:
    f = m.fields(entity, raw)
    return Payment(
        client_id=client_id,
        source=PaymentSource(m.system),
        account="",
        bank_ref=str(f["bank_ref"]),
        ordinal=0,
        booking_date=f["booking_date"],
        amount=f["amount"],
        currency=extra.get("currency") or f["currency"],
        structured_ref=f.get("structured_ref"),
        invoice_number=invoice_number or f.get("invoice_number"),
    )


class Collector:
    """Adds records to a batch; a record the mapping cannot read is reported, not fatal."""

    def __init__(self, batch: LedgerBatch, system: str):
        self.batch = batch
        self.system = system
        self.failed = False

    def add(self, what: str, raw: Any, build: Any) -> Any:
        try:
            return build()
        except MappingError as exc:
            self.failed = True
            ident = raw.get("id") or raw.get("Id") if isinstance(raw, dict) else None
            self.batch.errors.append(f"{what} {ident or ''}: {exc}".replace("  ", " "))
            return None


def once(client: ApiClient) -> ApiClient:
    """The same client without retries on failure, for a write: a POST that timed out may have been
    applied, so it is never simply sent again — the caller looks for it first (a 401 still renews the
    session once: a refused write was not applied)."""
    policy = http.retry_policy()
    return replace(client, policy=http.RetryPolicy(attempts=1, timeout_attempts=1, sleep=policy.sleep))


_DECIMAL = re.compile(r'"\\u0000dec:(-?[0-9]+(?:\.[0-9]+)?)"')


def json_body(value: Any) -> bytes:
    """JSON for a write, every Decimal as a JSON number with exactly its digits (never through float)."""

    def mark(v: Any) -> Any:
        if isinstance(v, Decimal):
            return f"\x00dec:{v}"
        if isinstance(v, dict):
            return {k: mark(x) for k, x in v.items()}
        if isinstance(v, list):
            return [mark(x) for x in v]
        return v

    return _DECIMAL.sub(r"\1", json.dumps(mark(value), ensure_ascii=False)).encode()


def base_url(ledger: LedgerConfig, default: str) -> str:
    return (ledger.base_url or default).rstrip("/")


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# Tables named after a canonical record build that record; other tables (Tripletex open_post,
# PowerOffice ledger_entry) are read field by field by their adapter (:meth:`Sync.fields`).
BUILDERS: dict[str, Callable[..., Any]] = {
    "customer": lambda m, client_id, raw: customer(m, client_id, raw),
    "invoice": lambda m, client_id, raw, **extra: invoice(m, "invoice", client_id, raw, **extra),
    "credit_note": lambda m, client_id, raw, **extra: invoice(m, "credit_note", client_id, raw, credit=True, **extra),
    "payment": lambda m, client_id, raw, **extra: payment(m, "payment", client_id, raw, **extra),
}


class RestSource:
    """An accounting system's ledger source: per client, an :class:`ApiClient` and a page size."""

    name = "ledger"  # key in sync_state
    system: ClassVar[str]
    records: ClassVar[str | None]  # where every list of this system keeps its records
    paginator: ClassVar[Paginator]  # how every list of this system is paged
    max_page_size: ClassVar[int | None] = None
    root = ""  # path prefix of every request (Fiken: the company)

    def __init__(self, client_id: str, client: ApiClient, page_size: int):
        self.client_id = client_id
        self.http = client
        self.page_size = min(page_size, self.max_page_size) if self.max_page_size else page_size
        self.map = mapping.load(self.system)

    def read(
        self,
        stream: Stream,
        params: Mapping[str, Any] | None = None,
        *,
        budget: Budget | None = None,
        listing: Listing | None = None,
        verify_end: bool = False,
        known_digest: str | None = None,
        ask_checksum: bool = False,
    ) -> Iterator[dict[str, Any]]:
        return streams.read(
            self.http,
            stream,
            self.page_size,
            params,
            root=self.root,
            budget=budget,
            listing=listing,
            verify_end=verify_end,
            known_digest=known_digest,
            ask_checksum=ask_checksum,
        )

    def pages(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Any list of this system, paged as its streams are (``arsync check`` counts with it)."""
        return self.read(Stream(path=path, name=path, records=self.records, paginator=self.paginator), params)

    def one(self, path: str) -> dict[str, Any]:
        """One object by its own URL (a bare object, no envelope)."""
        data = self.http.get(f"{self.root}/{path}" if self.root else path).data
        if not isinstance(data, dict):
            raise ApiError(f"{self.system} {path}: answer is not an object")
        return data

    def begin(self, ctx: SyncContext) -> Sync:
        return Sync(self, ctx)


class Sync:
    """One fetch of one client: its plan, the batch it fills, and the bookmark it leaves."""

    def __init__(self, source: RestSource, ctx: SyncContext):
        self.source = source
        self.ctx = ctx
        self.plan = plan(ctx, source.system)
        self.batch = LedgerBatch()
        self.collector = Collector(self.batch, source.system)
        self.listings: list[Listing] = []
        self._expected: dict[str, Any] = dict(self.plan.previous.get("listings") or {})

    def read(self, stream: Stream, **params: Any) -> Iterator[dict[str, Any]]:
        """The stream's records, its replication parameter filled in from the plan; the listing is
        bounded by what the bookmark says the list held, and counted for the next bookmark."""
        return self._read(stream, Listing(stream.path), None, params, ask_checksum=False)

    def read_unless_unchanged(
        self, stream: Stream, known_digest: str | None, **params: Any
    ) -> tuple[list[dict[str, Any]], Listing]:
        """The stream's records, unless the server says the whole result is the one the bookmark's
        checksum names (304 Not Modified): then no records and ``listing.unchanged``. The result's
        checksum is asked for on every run (``listing.digest``), for the next one."""
        listing = Listing(stream.path)
        known = None if self.plan.full else known_digest
        records = list(self._read(stream, listing, known, params, ask_checksum=True))
        return records, listing

    def _read(
        self,
        stream: Stream,
        listing: Listing,
        known_digest: str | None,
        params: dict[str, Any],
        *,
        ask_checksum: bool,
    ) -> Iterator[dict[str, Any]]:
        since = stream.since.value(self.plan.since, self.plan.window_start) if stream.since else None
        query = {stream.since.param: since, **params} if stream.since and since is not None else params
        expected = self._expected.get(stream.path)
        known = (int(expected[0]), int(expected[1])) if isinstance(expected, list) and len(expected) == 2 else None
        self.listings.append(listing)
        budget = streams.budget_for(known, self.source.page_size)
        # A full run's listings may close what they miss: their ends are made sure of.
        return self.source.read(
            stream,
            query,
            budget=budget,
            listing=listing,
            verify_end=self.plan.full,
            known_digest=known_digest,
            ask_checksum=ask_checksum,
        )

    def mapped(self, stream: Stream, **params: Any) -> Iterator[Any]:
        """The stream's records as canonical records of its mapping entity; unreadable ones are reported."""
        assert stream.entity, f"{stream.path} declares no mapping entity"
        for raw in self.read(stream, **params):
            record = self.map(stream.entity, raw, what=stream.name)
            if record is not None:
                yield record

    def map(self, entity: str, raw: dict[str, Any], *, what: str | None = None, **extra: Any) -> Any:
        """One raw object as the canonical record its mapping table builds; None (reported) when unreadable."""
        build = BUILDERS[entity]
        label = what or entity.replace("_", " ")
        return self.collector.add(label, raw, lambda: build(self.source.map, self.source.client_id, raw, **extra))

    def fields(self, entity: str, raw: dict[str, Any], *, what: str | None = None) -> dict[str, Any] | None:
        """The typed fields of one raw object; None (reported) when unreadable."""
        label = what or entity.replace("_", " ")
        found: dict[str, Any] | None = self.collector.add(label, raw, lambda: self.source.map.fields(entity, raw))
        return found

    def check_complete(self, stream: Stream, open_elsewhere: Iterable[str], listed: Iterable[str], where: str) -> None:
        """A full run's listing of ``stream`` must hold every document another list of the same ledger
        (``where``) shows open: paging alone cannot tell an empty last page from the end of a list."""
        missing = sorted(set(open_elsewhere) - set(listed))
        if self.plan.full and missing:
            shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
            why = f"{len(missing)} open document(s) in {where} are not in the list ({shown})"
            self.listings.append(Listing(stream.path, incomplete=why))

    def finish(self, **state: Any) -> LedgerBatch:
        """Write the bookmark (with the adapter's own state) into the batch and hand the batch over."""
        finish(self.batch, self.ctx, self.source.system, self.plan, self.collector.failed, self.listings, **state)
        return self.batch
