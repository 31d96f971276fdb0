"""Holds for stored rows that could not be read (``Facts.unreadable``). Pure.

The store skips such a row rather than dying on it; what the row said is then unknown, so nothing it could
have changed is dunned: a payment could have paid any invoice (the client's dunning waits:
``bank_data_stale``); a credit note, customer, dispute, agreement, exclusion, step, case or status could
concern its invoice or customer (those wait: ``ledger_stale``), or the whole client when even that cannot
be read. An invoice that cannot be read is simply left out of the receivables (never dunned); register and
sync rows need nothing (a missing answer or sync holds by itself). The evidence names table, key and column.
"""

from __future__ import annotations

from connector.dunning.documents import DocumentHold
from connector.model import DocKind, Evidence, Facts, Hold, UnreadableRow

SELF_HOLDING = frozenset({"registry_cache", "sync_state"})


def _detail(row: UnreadableRow) -> str:
    return f"{row.describe()}; nothing it could change is dunned until it is corrected"


def unreadable_holds(facts: Facts) -> tuple[list[tuple[Hold, Evidence]], dict[str, list[DocumentHold]]]:
    """(holds for the whole client, holds per invoice number)."""
    client: list[tuple[Hold, Evidence]] = []
    per_invoice: dict[str, list[DocumentHold]] = {}
    by_customer: dict[str, list[str]] | None = None
    for row in facts.unreadable:
        if row.table in SELF_HOLDING or (row.table == "invoices" and row.invoice_number):
            continue
        code = Hold.BANK_DATA_STALE if row.table == "payments" else Hold.LEDGER_STALE
        if row.table != "payments" and row.invoice_number:
            numbers = [row.invoice_number]
        elif row.table != "payments" and row.customer_id:
            if by_customer is None:
                by_customer = {}
                for inv in facts.invoices:
                    if inv.kind is DocKind.INVOICE:
                        by_customer.setdefault(inv.customer_id, []).append(inv.number)
            numbers = by_customer.get(row.customer_id, [])
        else:
            client.append((code, Evidence("hold", f"{code}: {_detail(row)}")))
            continue
        for number in numbers:
            per_invoice.setdefault(number, []).append(DocumentHold(code, _detail(row), None, None))
    return client, per_invoice
