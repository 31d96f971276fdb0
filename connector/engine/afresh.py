"""Invoices matched and decided afresh from the store, for the collection step (``connector.actions.collection``):
the push re-checks each approved case against them, and the follow-up reports the money they were paid since.

Read as the night decides (``connector.engine.slices``): a client in one piece is read, matched and decided
once; a very large one slice of customers at a time, keeping of each slice only the invoices asked for — so
``arsync cases push`` on a client of a million invoices holds one slice, not the client.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date

from connector.config import ClientConfig
from connector.dunning.decide import decide
from connector.engine.slices import Slice, SlicedRun
from connector.model import DocKind, InvoiceAfresh
from connector.store import Store


def invoices_afresh(
    store: Store,
    client: ClientConfig,
    as_of: date,
    numbers: Collection[str],
    *,
    decided: bool = True,
    quiesce: Callable[[], bool] | None = None,
) -> dict[str, InvoiceAfresh]:
    """The invoices ``numbers`` (invoice numbers), as the store has them now; an invoice the store does not
    have is not in the result. ``decided``: with their decisions (the push re-check); without, matched only
    (the follow-up needs what was paid, not a decision)."""
    wanted = frozenset(numbers)
    if not wanted:
        return {}

    def work(part: Slice) -> dict[str, InvoiceAfresh]:
        facts, recon = part.facts, part.recon
        mine = {i.number: i for i in facts.invoices if i.number in wanted and i.kind is DocKind.INVOICE}
        if not mine:
            return {}
        decisions = (
            {d.invoice_number: d for d in decide(facts, client, as_of, recon) if d.invoice_number in mine}
            if decided
            else {}
        )
        payments = {p.key: p for p in facts.payments}
        notes = {i.number: i for i in facts.invoices if i.kind is DocKind.CREDIT_NOTE}
        out = {}
        for number, inv in mine.items():
            allocations = tuple(recon.allocations.get(number, ()))
            keys = {a.source_key for a in allocations}
            out[number] = InvoiceAfresh(
                decision=decisions.get(number),
                invoice=inv,
                customer=facts.customers.get(inv.customer_id),
                steps=tuple(s for s in facts.steps if s.invoice_number == number),
                allocations=allocations,
                open_amount=recon.open_amount.get(number),
                payments={k: payments[k] for k in keys if k in payments},
                credit_notes={k: notes[k] for k in keys if k in notes},
            )
        return out

    found: dict[str, InvoiceAfresh] = {}
    for part in SlicedRun(store, client, quiesce=quiesce).map(work):
        found.update(part)
    return found
