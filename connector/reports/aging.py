"""Aged receivables per client and customer, with disputed and held amounts shown apart."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from connector.model import ZERO, Action, Customer, Decision, State
from connector.reports.tables import render

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


def render_table(rows: Sequence[AgingRow]) -> str:
    if not rows:
        return "No open receivables."
    return render(HEADERS, [_cells(r) for r in rows], right=set(range(4, len(HEADERS))))


def render_csv(rows: Sequence[AgingRow]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADERS)
    writer.writerows(_cells(r) for r in rows)
    return buf.getvalue()


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
"""


def render_html(rows: Sequence[AgingRow], as_of: date) -> str:
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
    table = (
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        if rows
        else ("<p>No open receivables.</p>")
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Aged receivables {as_of.isoformat()}</title><style>{_CSS}</style></head><body>"
        f"<h1>Aged receivables as of {as_of.isoformat()}</h1>"
        f'<p class="legend">{legend}</p>'
        '<p class="apart">Disputed and held amounts are part of the buckets and shown apart in their own columns.</p>'
        f"{table}</body></html>\n"
    )
