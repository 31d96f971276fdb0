"""What the store could not vouch for, indexed once per client for the hold rules ``conflicting_document``
and ``unreadable_row`` (``connector.dunning.hold_rules``). Pure.

Documents that contradict each other (``Facts.conflicts``, kept by ``connector.store.conflicts``): two
documents carry one number with different content; the first is kept, the other refused and named. The
invoice — for a credit note, the invoices either version credits — is held ``conflicting_document``, a
review: a person decides which document is right.

Stored rows that cannot be read (``Facts.unreadable_rows``): the store skips such a row rather than dying
on it, and what it said is unknown, so nothing it could have changed is dunned:
- a payment could have paid any invoice: the client's dunning waits (``bank_data_stale``, as for a bank
  file that does not read — ``connector.dunning.unreadable``);
- any other row (a credit note, customer, Invoice Response, dispute, agreement, exclusion, step, case,
  document conflict, file record) holds its invoice, else its customer's invoices, else every invoice of
  the client, with ``unreadable_document``: something that could change the invoice cannot be read. Not
  ``ledger_stale``: that lifts with the next good sync and sends the accountant to the sync, while this
  lifts only when the row reads again (the document delivered again rewrites it, or the value is
  corrected), which the evidence says, naming table, key and column.
An invoice that cannot be read is left out of the receivables (never dunned). Register answers, sync
state and the accountant's invoice checks need nothing: without them more is held, not less.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from connector.model import DocKind, DocumentConflict, Evidence, Hold, UnreadableRow

HoldEvidence = tuple[Hold, Evidence]

# Rows whose absence holds by itself (or holds more): skipping them needs no hold of its own.
SELF_HOLDING = frozenset({"registry_cache", "sync_state", "invoice_checks"})


def conflict_holds(conflicts: Iterable[DocumentConflict]) -> dict[str, tuple[HoldEvidence, ...]]:
    """Invoice number → its ``conflicting_document`` holds, each naming both documents and the way out."""
    out: dict[str, list[HoldEvidence]] = {}
    for c in conflicts:
        numbers = [c.number] if c.kind is DocKind.INVOICE else list(c.credits)
        kept = c.kept_ref or "the kept document"
        detail = (
            f"{Hold.CONFLICTING_DOCUMENT}: {c.describe()}; a person decides which is right. Lifts when "
            f"{c.other_ref} leaves the ledger folder or the ledger agrees with {kept} again, or when the "
            f"accountant takes one of them out of consideration: arsync files quarantine {c.client_id} "
            f"{c.other_ref} --reason TEXT (quarantining {kept} instead makes {c.other_ref} the invoice)"
        )
        held = (Hold.CONFLICTING_DOCUMENT, Evidence("hold", detail, c.other_ref, on=c.found_on))
        for number in numbers:
            out.setdefault(number, []).append(held)
    return {k: tuple(v) for k, v in out.items()}


@dataclass(frozen=True)
class RowHolds:
    """The ``unreadable_document`` holds of a client's stored rows that cannot be read, by how far each reaches."""

    by_invoice: Mapping[str, tuple[HoldEvidence, ...]] = field(default_factory=dict)
    by_customer: Mapping[str, tuple[HoldEvidence, ...]] = field(default_factory=dict)
    everyone: tuple[HoldEvidence, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.by_invoice or self.by_customer or self.everyone)

    def holds_for(self, invoice_number: str, customer_id: str) -> list[HoldEvidence]:
        found = [*self.by_invoice.get(invoice_number, ()), *self.by_customer.get(customer_id, ()), *self.everyone]
        return list(dict.fromkeys(found))


def row_holds(rows: Iterable[UnreadableRow]) -> RowHolds:
    """The ``unreadable_document`` holds of the rows that are not payments (those hold the whole client:
    :func:`payment_row_holds`)."""
    by_invoice: dict[str, list[HoldEvidence]] = {}
    by_customer: dict[str, list[HoldEvidence]] = {}
    everyone: list[HoldEvidence] = []
    for row in rows:
        if row.table in SELF_HOLDING or row.table == "payments" or (row.table == "invoices" and row.invoice_number):
            continue
        if row.invoice_number:
            reach, into = f"holds invoice {row.invoice_number}", by_invoice.setdefault(row.invoice_number, [])
        elif row.customer_id:
            reach, into = (
                f"holds every invoice of customer {row.customer_id}",
                by_customer.setdefault(row.customer_id, []),
            )
        else:
            reach, into = "nothing identifiable: holds every invoice of the client", everyone
        detail = (
            f"{Hold.UNREADABLE_DOCUMENT}: {row.describe()}; it could change what is owed, so it {reach}. {_WAY_OUT}"
        )
        into.append((Hold.UNREADABLE_DOCUMENT, Evidence("hold", detail, row.key)))
    return RowHolds(
        {k: tuple(v) for k, v in by_invoice.items()}, {k: tuple(v) for k, v in by_customer.items()}, tuple(everyone)
    )


def payment_row_holds(rows: Iterable[UnreadableRow]) -> list[HoldEvidence]:
    """A stored payment that cannot be read may be the one that settles any invoice: unpaid cannot be proven."""
    return [
        (
            Hold.BANK_DATA_STALE,
            Evidence(
                "hold",
                f"{Hold.BANK_DATA_STALE}: {row.describe()}; it may be the payment of any invoice, so unpaid cannot "
                f"be proven. {_WAY_OUT}",
                row.key,
            ),
        )
        for row in rows
        if row.table == "payments"
    ]


_WAY_OUT = "Lifts when the row reads again: the document delivered again rewrites it, or the stored value is corrected"
