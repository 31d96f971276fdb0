"""What every accounting-system adapter shares: the sync plan (full or incremental), the cursor,
and building canonical records from mapped fields.

The cursor is per client and system (stored by the pipeline in ``sync_state``). A run is *full*
when there is no cursor, when it belongs to another system, or when the last full sync is older
than ``full_resync_days``; a full run lists every document in the history window and marks the
batch a complete snapshot, so documents that vanished upstream are closed. Otherwise the run is
*incremental* from the last successful run minus ``overlap_days`` (date-only change filters and
clock skew make the overlap necessary; upserts are idempotent, so re-reading costs nothing else).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from connector.config import LedgerConfig
from connector.model import Customer as CustomerRecord
from connector.model import DocKind, Invoice, Payment
from connector.sources.base import LedgerBatch, Snapshot, SyncContext
from connector.sources.mapping import Mapping, MappingError

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


def finish(batch: LedgerBatch, ctx: SyncContext, system: str, p: Plan, mapping_failed: bool, **state: Any) -> None:
    batch.cursor = cursor(ctx, system, p, **state)
    # A record we could not read might be an open invoice: never close anything on a partial list.
    if p.full and not mapping_failed:
        batch.complete_snapshot = Snapshot(system, p.window_start)


def customer(m: Mapping, client_id: str, raw: dict[str, Any]) -> CustomerRecord:
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
    )


def invoice(
    m: Mapping,
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
    m: Mapping, entity: str, client_id: str, raw: dict[str, Any], *, invoice_number: str | None = None, **extra: Any
) -> Payment:
    f = m.fields(entity, raw)
    return Payment(
        client_id=client_id,
        source=m.system,
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


def base_url(ledger: LedgerConfig, default: str) -> str:
    return (ledger.base_url or default).rstrip("/")


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
