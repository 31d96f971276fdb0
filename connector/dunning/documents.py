"""What the buyer and the network said about each sent invoice, folded into dunning holds. Pure.

Facts are the ``DocumentEvent`` values the e-invoice readers made from Invoice Responses (T111), MLR (T71),
MLS and the SBDH envelopes of sent invoices:
- T111 PD: the buyer says payment was initiated → ``buyer_reports_paid`` (the bank must confirm).
- T111 CA with a BT-9 condition: the buyer moved the due date → ``not_due`` until then.
- MLR/MLS RE: the invoice was never delivered → ``not_delivered``, until a later positive response
  (MLR/MLS AB/AP, or any T111: a buyer who answers has the invoice).
UQ/RE disputes are stored as ``Dispute`` facts and held by the dispute rule, not here.

And what the documents themselves contradict: two documents carrying one number with different content
(``DocumentConflict``) hold that invoice with ``conflicting_document`` until a person resolves it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from connector.model import ENVELOPE, INVOICE_RESPONSE, MLR, MLS, DocKind, DocumentConflict, DocumentEvent, Hold

POSITIVE_DELIVERY = frozenset({"AB", "AP"})


@dataclass(frozen=True)
class DocumentHold:
    hold: Hold
    detail: str
    ref: str | None
    on: date | None


def document_holds(events: Iterable[DocumentEvent], as_of: date) -> dict[str, list[DocumentHold]]:
    """Holds per invoice number from the events known on ``as_of``."""
    by_invoice: dict[str, list[DocumentEvent]] = {}
    for e in events:
        if e.invoice_number and e.kind != ENVELOPE and e.issued_on <= as_of:
            by_invoice.setdefault(e.invoice_number, []).append(e)
    out: dict[str, list[DocumentHold]] = {}
    for number, evs in by_invoice.items():
        holds = _holds(sorted(evs, key=lambda e: e.order), as_of)
        if holds:
            out[number] = holds
    return out


def _holds(events: list[DocumentEvent], as_of: date) -> list[DocumentHold]:
    holds: list[DocumentHold] = []
    responses = [e for e in events if e.kind == INVOICE_RESPONSE]
    latest = responses[-1] if responses else None
    if latest is not None and latest.code == "PD":
        paid_on = latest.effective_date or latest.issued_on
        holds.append(
            DocumentHold(
                Hold.BUYER_REPORTS_PAID,
                f"the buyer reports payment initiated on {paid_on.isoformat()} ({latest.describe()})",
                latest.event_key,
                latest.issued_on,
            )
        )
    for e in reversed(responses):
        moved = e.new_due_date if e.code == "CA" else None
        if moved is not None:
            if as_of <= moved:
                holds.append(
                    DocumentHold(
                        Hold.NOT_DUE,
                        f"the buyer accepted on condition of a new due date {moved.isoformat()}",
                        e.event_key,
                        moved,
                    )
                )
            break
    delivery = [e for e in events if e.kind in (MLR, MLS, INVOICE_RESPONSE)]
    rejected = None
    for e in delivery:
        if e.kind in (MLR, MLS) and e.code == "RE":
            rejected = e
        elif rejected is not None and (e.kind == INVOICE_RESPONSE or e.code in POSITIVE_DELIVERY):
            rejected = None  # a later positive answer proves delivery
    if rejected is not None:
        holds.append(
            DocumentHold(
                Hold.NOT_DELIVERED,
                f"rejected by the receiving side: {rejected.describe()}",
                rejected.event_key,
                rejected.issued_on,
            )
        )
    return holds


def conflict_holds(conflicts: Iterable[DocumentConflict]) -> dict[str, list[DocumentHold]]:
    """``conflicting_document`` per invoice: two documents carry its number with different content (both
    named), or — for a credit note — the invoices either version credits."""
    out: dict[str, list[DocumentHold]] = {}
    for c in conflicts:
        numbers = [c.number] if c.kind is DocKind.INVOICE else list(c.credits)
        for number in numbers:
            out.setdefault(number, []).append(
                DocumentHold(Hold.CONFLICTING_DOCUMENT, c.describe(), c.other_ref, c.found_on)
            )
    return out


def merged(*holds: dict[str, list[DocumentHold]]) -> dict[str, list[DocumentHold]]:
    out: dict[str, list[DocumentHold]] = {}
    for part in holds:
        for number, found in part.items():
            out.setdefault(number, []).extend(found)
    return out
