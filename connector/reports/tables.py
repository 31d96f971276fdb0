"""Tables for the terminal (English: the CLI is for the accountant).

Each table is built once as ``Table`` (headers, rows, which columns are numbers, which matter most) and
printed plain on a pipe (every column in full, for grep and mail) or fitted to the terminal by
``connector.cli.output.show`` (columns dropped by priority, long cells wrapped).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from connector.model import Call, Case, Decision, Dispute, Facts
from connector.references import reference_name


def customer_label(name: str | None, customer_id: str) -> str:
    """A customer as every command shows it: the name, and the id that commands accept (--customer)."""
    if not name or name == customer_id:
        return customer_id
    return f"{name} ({customer_id})"


@dataclass
class Table:
    """A table's content. ``keep``: per column, how much it matters (higher stays longer when the
    terminal is narrow); ``right``: columns of numbers; ``title``/``empty``: the line above it / instead."""

    headers: list[str]
    rows: list[list[str]]
    right: set[int] = field(default_factory=set)
    keep: list[int] | None = None
    title: str = ""
    empty: str = ""

    def plain(self) -> str:
        if not self.rows:
            return self.empty
        body = render(self.headers, self.rows, self.right)
        return f"{self.title}\n\n{body}" if self.title else body

    def __str__(self) -> str:
        return self.plain()


def render(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int] | None = None) -> str:
    return "\n".join(render_lines(headers, lambda: iter(rows), right))


def render_lines(
    headers: Sequence[str], rows: Callable[[], Iterator[Sequence[str]]], right: set[int] | None = None
) -> Iterator[str]:
    """``render``'s lines, one at a time, from ``rows()`` called twice (once for the column widths, once to
    print): the rows of a table of a million decisions are made as printed, never held all at once."""
    right = right or set()
    widths = [len(h) for h in headers]
    for row in rows():
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    yield line(headers)
    yield line(["-" * w for w in widths])
    for row in rows():
        yield line(row)


DECISION_HEADERS = ["client", "invoice", "customer", "due", "amount", "open", "state", "action", "holds"]
_DECISION_RIGHT = {4, 5}


def decision_table(
    decisions: Iterable[Decision], as_of: date, names: Mapping[tuple[str, str], str] | None = None
) -> Table:
    """One row per decision. Whether a client failed or is stale is said apart (``reports.freshness``):
    "no invoices" here only ever means "none in the data that was read"."""
    names = names or {}
    return Table(
        list(DECISION_HEADERS),
        [decision_row(d, names) for d in decisions],
        right=set(_DECISION_RIGHT),
        keep=[3, 9, 6, 4, 2, 8, 5, 9, 9],
        title=decision_title(as_of),
        empty=f"No open or recently settled invoices as of {as_of.isoformat()}.",
    )


def decision_title(as_of: date) -> str:
    return f"Decisions as of {as_of.isoformat()}"


def decision_row(d: Decision, names: Mapping[tuple[str, str], str]) -> list[str]:
    return [
        d.client_id,
        d.invoice_number,
        customer_label(names.get((d.client_id, d.customer_id)), d.customer_id),
        d.due_date.isoformat() if d.due_date else "-",
        f"{d.amount} {d.currency}",
        f"{d.open_amount} {d.currency}",
        str(d.state),
        str(d.action),
        ", ".join(str(h) for h in d.holds) or "-",
    ]


def decision_lines(
    decisions: Collection[Decision], as_of: date, names: Mapping[tuple[str, str], str] | None = None
) -> Iterator[str]:
    """``decision_table(…).plain()``'s lines (decisions given), each row made as it is printed."""
    names = names or {}
    yield decision_title(as_of)
    yield ""
    yield from render_lines(DECISION_HEADERS, lambda: (decision_row(d, names) for d in decisions), _DECISION_RIGHT)


def case_json(c: Case) -> dict[str, object]:
    return {
        "case_id": c.case_id,
        "client": c.client_id,
        "invoice": c.invoice_number,
        "customer": c.customer_id,
        "currency": c.currency,
        "amount": str(c.amount),
        "open_amount": str(c.open_amount),
        "status": str(c.status),
        "created_on": c.created_on.isoformat(),
        "provider_ref": c.provider_ref,
        "note": c.note,
    }


def case_table(cases: Sequence[Case], names: Mapping[tuple[str, str], str] | None = None) -> Table:
    names = names or {}
    rows = [
        [
            c.case_id,
            c.client_id,
            c.invoice_number,
            customer_label(names.get((c.client_id, c.customer_id)), c.customer_id),
            f"{c.open_amount} {c.currency}",
            str(c.status),
            c.created_on.isoformat(),
        ]
        for c in cases
    ]
    return Table(
        ["case", "client", "invoice", "customer", "open", "status", "created"],
        rows,
        right={4},
        keep=[9, 3, 5, 6, 8, 9, 2],
        empty="No cases.",
    )


def case_detail(case: Case, facts: Facts, country: str = "NO") -> str:
    """``country``: the client's, which names the invoice's payment reference (KID, FIK, OCR)."""
    lines = [f"Case {case.case_id} ({case.status})", ""]
    inv = next((i for i in facts.invoices if i.number == case.invoice_number), None)
    customer = facts.customers.get(case.customer_id)
    label = customer_label(customer.name if customer else None, case.customer_id)
    org_no = customer.org_no if customer and customer.org_no else "-"
    # an EHF customer's id is its org no: said once
    lines.append(f"Debtor:   {label}" + ("" if org_no == case.customer_id else f" (org no {org_no})"))
    if inv:
        due = inv.due_date.isoformat() if inv.due_date else "-"
        lines.append(
            f"Invoice:  {inv.number} issued {inv.issue_date.isoformat()} due {due}, "
            f"{inv.amount} {inv.currency} ({reference_name(inv.kid or '', country)} {inv.kid or '-'})"
        )
    lines.append(f"Open:     {case.open_amount} {case.currency}")
    steps = [s for s in facts.steps if s.invoice_number == case.invoice_number]
    if steps:
        lines.append("Steps:")
        lines.extend(f"  {s.sent_on.isoformat()}  {s.step} via {s.channel} {s.detail}" for s in steps)
    pays = [p for p in facts.payments if p.invoice_number == case.invoice_number]
    if pays:
        lines.append("Ledger payments:")
        lines.extend(f"  {p.booking_date.isoformat()}  {p.amount} {p.currency}" for p in pays)
    calls = [c for c in facts.calls if c.customer_id == case.customer_id]
    if calls:
        lines.append("Calls:")
        lines.extend(f"  {c.called_on.isoformat()}  {call_line(c)}" for c in calls)
    lines.append("History:")
    lines.extend(f"  {e.on.isoformat()}  {e.status}  {e.note}" for e in case.events)
    return "\n".join(lines)


def call_line(c: Call) -> str:
    """One call as the accountant reads it: number, outcome and what it made."""
    what = str(c.outcome)
    if c.promise_date is not None:
        what += f" to pay by {c.promise_date.isoformat()}"
    if c.instalment_dates:
        what += f": {len(c.instalment_dates)} from {c.instalment_dates[0].isoformat()}"
    if c.reason:
        what += f": {c.reason}"
    parts = [f"{c.call_id} to {c.phone or 'no number'}: {what}"]
    if c.agreement_id:
        parts.append(f"agreement {c.agreement_id}")
    if c.notes:
        parts.append(f"notes: {c.notes}")
    if c.by:
        parts.append(f"logged by {c.by}")
    return "; ".join(parts)


def dispute_table(disputes: Sequence[Dispute]) -> Table:
    rows = [
        [
            d.client_id,
            d.dispute_id,
            d.invoice_number,
            d.opened_on.isoformat(),
            d.source,
            d.reason,
            d.resolved_on.isoformat() if d.resolved_on else "open",
        ]
        for d in disputes
    ]
    return Table(
        ["client", "dispute", "invoice", "opened", "source", "reason", "resolved"],
        rows,
        keep=[4, 9, 9, 5, 2, 7, 8],
        empty="No disputes.",
    )


def dispute_json(d: Dispute) -> dict[str, object]:
    return {
        "client": d.client_id,
        "dispute_id": d.dispute_id,
        "invoice": d.invoice_number,
        "opened_on": d.opened_on.isoformat(),
        "source": d.source,
        "reason": d.reason,
        "resolved_on": d.resolved_on.isoformat() if d.resolved_on else None,
        "resolution": d.resolution,
    }
