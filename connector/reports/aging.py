"""Aged receivables per client and customer, with disputed and held amounts shown apart."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from connector.model import ZERO, Action, Customer, Decision, State
from connector.reports.freshness import ClientStatus, summary
from connector.reports.tables import Table, customer_label

BUCKETS = ("not_due", "1-30", "31-60", "61-90", "90+")


@dataclass
class AgingRow:
    client_id: str
    customer_id: str
    customer_name: str
    currency: str
    buckets: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(BUCKETS, ZERO))
    disputed: Decimal = ZERO
    held: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)


def bucket(due: date | None, as_of: date) -> str:
    if due is None or as_of <= due:
        return "not_due"
    days = (as_of - due).days
    return "1-30" if days <= 30 else "31-60" if days <= 60 else "61-90" if days <= 90 else "90+"


def aging_rows(
    client_id: str, customers: Mapping[str, Customer], decisions: Sequence[Decision], as_of: date
) -> list[AgingRow]:
    rows: dict[tuple[str, str], AgingRow] = {}
    for d in decisions:
        if d.open_amount <= ZERO:
            continue
        key = (d.customer_id, d.currency)
        if key not in rows:
            c = customers.get(d.customer_id)
            rows[key] = AgingRow(client_id, d.customer_id, c.name if c else d.customer_id, d.currency)
        row = rows[key]
        row.buckets[bucket(d.due_date, as_of)] += d.open_amount
        if d.state is State.DISPUTED:
            row.disputed += d.open_amount
        elif d.action in (Action.HOLD, Action.REVIEW) and d.state is not State.NOT_DUE:
            row.held += d.open_amount
    return sorted(rows.values(), key=lambda r: (r.client_id, r.customer_name, r.currency))


HEADERS = ["client", "customer", "name", "currency", *BUCKETS, "total", "disputed", "held"]


def _cells(r: AgingRow) -> list[str]:
    return [
        r.client_id,
        r.customer_id,
        r.customer_name,
        r.currency,
        *(str(r.buckets[b]) for b in BUCKETS),
        str(r.total),
        str(r.disputed),
        str(r.held),
    ]


def table(rows: Sequence[AgingRow], statuses: Sequence[ClientStatus] = ()) -> Table:
    """One row per client and customer (the customer as every command shows it: name and id)."""
    head = ["client", "customer", "currency", *BUCKETS, "total", "disputed", "held"]
    cells = [[r.client_id, customer_label(r.customer_name, r.customer_id), *_cells(r)[3:]] for r in rows]
    empty = "No open receivables."
    if any(not s.ok for s in statuses):
        empty = "No open receivables in the data that could be read."
    return Table(head, cells, right=set(range(3, len(head))), keep=[2, 9, 5, 6, 6, 6, 6, 6, 8, 4, 4], empty=empty)


def status_lines(statuses: Sequence[ClientStatus]) -> list[str]:
    """The failed and stale clients, above the figures: their amounts are missing or old, not zero."""
    return [s.line() for s in statuses if not s.ok]


def render_table(rows: Sequence[AgingRow], statuses: Sequence[ClientStatus] = ()) -> str:
    parts = [*status_lines(statuses)]
    if parts:
        parts.append("")
    parts.append(table(rows, statuses).plain())
    if statuses:
        parts.append(summary(statuses))
    return "\n".join(parts)


def render_csv(rows: Sequence[AgingRow], statuses: Sequence[ClientStatus] = ()) -> str:
    """The figures, plus a ``data`` column saying whether each client's figures can be trusted; a client
    that could not be read has a row of its own with empty amounts (never zeros)."""
    by_client = {s.client_id: s for s in statuses}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*HEADERS, "data"])
    with_rows = set()
    for r in rows:
        with_rows.add(r.client_id)
        writer.writerow([*_cells(r), _data(by_client.get(r.client_id))])
    for s in statuses:
        if s.client_id not in with_rows and not s.ok:
            writer.writerow([s.client_id, "", "", "", *([""] * (len(HEADERS) - 4)), _data(s)])
    return buf.getvalue()


def _data(status: ClientStatus | None) -> str:
    if status is None or status.ok:
        return "ok"
    return status.line().split(": ", 1)[1]


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;font-size:14px}
th,td{padding:4px 8px;border-bottom:1px solid #ddd;text-align:right}
th:nth-child(-n+3),td:nth-child(-n+3){text-align:left}
.bar{display:flex;height:14px;width:320px;background:#f3f3f3}
.bar span{display:block;height:100%}
.b0{background:#9ecae1}.b1{background:#fdd49e}.b2{background:#fc8d59}.b3{background:#e34a33}.b4{background:#b30000}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}
.apart{color:#666}
.nodata{color:#b30000;font-weight:bold}
"""


def render_html(rows: Sequence[AgingRow], as_of: date, statuses: Sequence[ClientStatus] = ()) -> str:
    """A self-contained page: one row per client and customer, a CSS bar per row (no JavaScript)."""
    from html import escape

    legend = "".join(f'<span class="b{i}"></span>{escape(b)}' for i, b in enumerate(BUCKETS))
    body = []
    for r in rows:
        total = r.total
        bars = "".join(
            f'<span class="b{i}" style="width:{(r.buckets[b] / total * 100):.1f}%" title="{escape(b)}: {r.buckets[b]}">'
            "</span>"
            for i, b in enumerate(BUCKETS)
            if total > ZERO and r.buckets[b] > ZERO
        )
        cells = "".join(f"<td>{escape(c)}</td>" for c in _cells(r))
        body.append(f'<tr>{cells}<td><div class="bar">{bars}</div></td></tr>')
    head = "".join(f"<th>{escape(h)}</th>" for h in HEADERS) + "<th>aging</th>"
    notices = "".join(f'<p class="nodata" role="alert">{escape(line)}</p>' for line in status_lines(statuses))
    figures = (
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        if rows
        else f"<p>{escape(table(rows, statuses).empty)}</p>"
    )
    closing = f"<p>{escape(summary(statuses))}</p>" if statuses else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Aged receivables {as_of.isoformat()}</title><style>{_CSS}</style></head><body>"
        f"<h1>Aged receivables as of {as_of.isoformat()}</h1>"
        f'<p class="legend">{legend}</p>'
        '<p class="apart">Disputed and held amounts are part of the buckets and shown apart in their own columns.</p>'
        f"{notices}{figures}{closing}</body></html>\n"
    )


def row_json(r: AgingRow) -> dict[str, object]:
    return {
        "client": r.client_id,
        "customer": r.customer_id,
        "name": r.customer_name,
        "currency": r.currency,
        "buckets": {b: str(r.buckets[b]) for b in BUCKETS},
        "total": str(r.total),
        "disputed": str(r.disputed),
        "held": str(r.held),
    }
