"""The pages (GET): Today, the aging report with its drill-down and CSV, activity (a client's and a
customer's pages are in ``clients``).
Each reads through ``connector.web.data`` or a store function; nothing here decides anything."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import Response

from connector.collection.approval import approval_window, undo_open
from connector.config import ClientConfig
from connector.model import ZERO, CaseStatus
from connector.reports import aging
from connector.reports.freshness import client_status
from connector.store import audit
from connector.store import decisions as saved_decisions
from connector.store.cases import load_cases
from connector.store.files import unreadable_files
from connector.store.ledger import load_customers
from connector.store.sync import sync_status
from connector.web import data
from connector.web.clients import anchor
from connector.web.context import BadRequest, as_of_param, render, require_client, require_user, workbench

_STATE_ORDER = {"failed": 0, "never": 1, "stale": 2, "ok": 3}


def _names(request: Request, client_ids: Iterable[str]) -> dict[tuple[str, str], str]:
    store = workbench(request).store
    return {(cid, c.customer_id): c.name for cid in set(client_ids) for c in store.read(load_customers, cid)}


# ---- Today --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientLine:
    client: ClientConfig
    fresh: data.Freshness
    actions: dict[str, int]


def today(request: Request) -> Response:
    session, user = require_user(request)
    wb = workbench(request)
    clients = wb.clients(user)
    lines = [
        ClientLine(
            c,
            data.stored_freshness(wb.store, c, wb.today()),
            wb.store.read(saved_decisions.action_counts, c.id),
        )
        for c in clients
    ]
    lines.sort(key=lambda line: _STATE_ORDER[line.fresh.state])  # what failed first
    cases = wb.store.read(load_cases, [c.id for c in clients])
    now = wb.now()
    proposed = [c for c in cases if c.status is CaseStatus.PROPOSED]
    undoable = [(c, w) for c in cases if (w := approval_window(c)) is not None and undo_open(w, now)]
    waiting = data.approved_waiting(wb.store, cases, now)
    review = data.stored_queue(wb.store, clients, action="review")
    broken = data.stored_queue(wb.store, clients, evidence_kind="agreement_broken")
    disputes = data.open_disputes(wb.store, clients)
    files = [f for f in data.files(wb.store, clients) if f.holding]
    calls = data.calls_due(wb.store, clients, wb.today())
    unposted = data.letters_unposted(wb.store, clients, wb.today())
    context = {
        "lines": lines,
        "proposed": proposed,
        "undoable": undoable,
        "waiting": waiting,
        "review": review,
        "broken": broken,
        "disputes": disputes,
        "files": files,
        "calls": calls,
        "unposted": unposted,
        "names": _names(
            request,
            [c.client_id for c in proposed]
            + [c.client_id for c, _ in undoable]
            + [w.case.client_id for w in waiting]
            + [i.client.id for i in (*review, *broken)]
            + [d.client_id for d, _ in disputes],
        ),
        "anchor": anchor,
        "client_names": {c.id: c.name for c in clients},
    }
    return render(request, "today.html", context, session=session)


# ---- aging ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    bucket: int  # index into aging.BUCKETS (the colour)
    x: float  # percent of the bar's width
    width: float
    amount: Decimal


def bar(buckets: dict[str, Decimal], scale: Decimal) -> list[Segment]:
    """A stacked bar: each bucket's share of ``scale`` (the largest total in the table, same currency)."""
    out: list[Segment] = []
    x = 0.0
    if scale <= ZERO:
        return out
    for i, b in enumerate(aging.BUCKETS):
        amount = buckets[b]
        if amount > ZERO:
            width = float(amount / scale * 100)  # a drawing coordinate, never money
            out.append(Segment(i, x, width, amount))
            x += width
    return out


def _scales(items: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    scales: dict[str, Decimal] = {}
    for currency, total in items:
        scales[currency] = max(scales.get(currency, ZERO), total)
    return scales


def _aging_context(request: Request, as_of: date) -> dict[str, object]:
    return {"as_of": as_of, "buckets": aging.BUCKETS, "segments": bar}


def _freshness(request: Request, clients: Sequence[ClientConfig]) -> dict[str, data.Freshness]:
    wb = workbench(request)
    return {c.id: data.stored_freshness(wb.store, c, wb.today()) for c in clients}


def aging_overview(request: Request) -> Response:
    session, user = require_user(request)
    wb = workbench(request)
    as_of = as_of_param(request)
    clients = wb.clients(user)
    results = [data.client_aging(wb.store, c, as_of) for c in clients]
    per_client = [(r, t) for r in results for t in data.totals(r.rows)]
    context = {
        **_aging_context(request, as_of),
        "results": results,
        "per_client": per_client,
        "overall": data.totals([row for r in results for row in r.rows]),
        "scales": _scales((t.currency, t.total) for _, t in per_client),
        "fresh": _freshness(request, clients),
    }
    return render(request, "aging.html", context, session=session)


def aging_client(request: Request) -> Response:
    session, user = require_user(request)
    wb = workbench(request)
    client = require_client(request, user, request.path_params["client_id"])
    as_of = as_of_param(request)
    result = data.client_aging(wb.store, client, as_of)
    context = {
        **_aging_context(request, as_of),
        "client": client,
        "result": result,
        "overall": data.totals(result.rows),
        "scales": _scales((r.currency, r.total) for r in result.rows),
        "fresh": _freshness(request, [client])[client.id],
    }
    return render(request, "aging_client.html", context, session=session)


def aging_customer(request: Request) -> Response:
    session, user = require_user(request)
    wb = workbench(request)
    client = require_client(request, user, request.path_params["client_id"])
    customer_id = request.path_params["customer_id"]
    as_of = as_of_param(request)
    result = data.client_aging(wb.store, client, as_of)
    rows = [r for r in result.rows if r.customer_id == customer_id]
    invoices = data.open_invoices(result, customer_id)
    context = {
        **_aging_context(request, as_of),
        "client": client,
        "customer_id": customer_id,
        "customer_name": rows[0].customer_name if rows else customer_id,
        "rows": rows,
        "error": result.error,
        "invoices": invoices,
        "bucket_of": lambda d: aging.bucket(d.due_date, as_of),
        "days_late": lambda d: (as_of - d.due_date).days if d.due_date and as_of > d.due_date else 0,
    }
    return render(request, "aging_customer.html", context, session=session)


def aging_csv(request: Request) -> Response:
    """The same CSV as ``arsync report aging --format csv`` for the clients this user may see (or one)."""
    _session, user = require_user(request)
    wb = workbench(request)
    as_of = as_of_param(request)
    wanted = request.query_params.get("client")
    clients = [require_client(request, user, wanted)] if wanted else wb.clients(user)
    rows: list[aging.AgingRow] = []
    statuses = []  # the `data` column: a stale or failed client's figures are not trusted (as the CLI's CSV)
    for client in clients:
        result = data.client_aging(wb.store, client, as_of)
        if result.error:
            raise BadRequest(f"Client {client.id}: the aging could not be computed: {result.error}")
        rows.extend(result.rows)
        unreadable = wb.store.read(unreadable_files, client.id)
        statuses.append(client_status(client, wb.store.read(sync_status, client.id), as_of, unreadable=unreadable))
    name = f"aging-{wanted + '-' if wanted else ''}{as_of.isoformat()}.csv"
    return Response(
        aging.render_csv(rows, statuses),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# ---- activity -------------------------------------------------------------------------------------


def activity(request: Request) -> Response:
    session, user = require_user(request)
    wb = workbench(request)
    ids = None if user.clients is None else [c.id for c in wb.clients(user)]
    entries = wb.store.read(audit.entries, ids)
    if ids is not None:  # a limited user also sees their own log-ins (no client on those)
        mine = [e for e in wb.store.read(audit.entries, None) if e.client_id is None and e.actor == user.name]
        entries = sorted([*entries, *mine], key=lambda e: e.at, reverse=True)[:200]
    return render(request, "activity.html", {"entries": entries}, session=session)
