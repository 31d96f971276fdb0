"""What one client's night produced, for the CLI to print: the decisions, what was done, warnings, errors."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field

from connector.model import Decision

log = logging.getLogger("arsync")
dunning_log = logging.getLogger("arsync.dunning")

# What the act stage can do. Everything that reached a debtor, a provider or a ledger is reported.
SEND = "send"  # a reminder or collection notice went out
PROPOSAL = "proposal"  # a collection case was proposed (or auto-approved)
PUSH = "push"  # a case went to the inkasso provider
REVIEW = "review"  # an approved case went back to review
WITHDRAWAL = "withdrawal"  # a case was withdrawn at the provider
PROVIDER_REPORT = "provider_report"  # a direct payment or credit was reported to the provider
STATUS = "status"  # the provider reported a change
BOOKING = "booking"  # a fee or interest was booked into the client's ledger
OTHER = "other"


@dataclass(frozen=True)
class Acted:
    """One thing the run did, with what it concerned; ``str()`` is the line printed."""

    kind: str
    text: str
    invoice: str | None = None
    case: str | None = None

    def __str__(self) -> str:
        return self.text

    def as_json(self) -> dict[str, str]:
        out = {"kind": self.kind, "detail": self.text}
        if self.invoice:
            out["invoice"] = self.invoice
        if self.case:
            out["case"] = self.case
        return out


@dataclass
class ClientReport:
    client_id: str
    ok: bool = True
    errors: list[str] = field(default_factory=list)  # the client failed (a source, or a stage)
    warnings: list[str] = field(default_factory=list)  # single bad files/records; the run went on
    # in sort_decisions' order; a client decided in slices has them on disk (connector.engine.spool)
    decisions: Collection[Decision] = field(default_factory=list)
    sent: list[Acted] = field(default_factory=list)  # what the act stage did, one entry each
    # for the accountant to decide, one line each (a high-risk customer with new invoices: "credit stop?")
    attention: list[str] = field(default_factory=list)
    customer_names: dict[str, str] = field(default_factory=dict)
    # the decisions this run stored (connector.store.decisions), how many: None when it stored none (decide
    # failed). A queue job's report keeps this instead of the decisions; --wait reads them from the store.
    saved_decisions: int | None = None
    interrupted: bool = False  # a stop was asked for while this client ran: what is here is what was done

    def fail(self, message: str) -> None:
        self.ok = False
        self.errors.append(message)
        log.error("client %s: %s", self.client_id, message)

    def did(self, kind: str, text: str, *, invoice: str | None = None, case: str | None = None) -> None:
        self.sent.append(Acted(kind, text, invoice, case))


def log_broken_agreements(client_id: str, decisions: Iterable[Decision]) -> None:
    """Broken agreements lift their hold: logged each night the evidence stands (the run report's attention
    line says it once: ``actions.follow_up.note_agreement_checks``)."""
    for d in decisions:
        for e in d.evidence:
            if e.kind == "agreement_broken":
                dunning_log.info("client %s: invoice %s: %s", client_id, d.invoice_number, e.detail)


class AllDecisions(Collection[Decision]):
    """The decisions of every report, in report order, as often as they are iterated: a client decided in
    slices keeps its decisions on disk (connector.engine.spool), so this never lists them all in memory."""

    def __init__(self, reports: Iterable[ClientReport]):
        self._reports = list(reports)

    def __iter__(self) -> Iterator[Decision]:
        for r in self._reports:
            yield from r.decisions

    def __len__(self) -> int:
        return sum(len(r.decisions) for r in self._reports)

    def __contains__(self, item: object) -> bool:
        return any(item in r.decisions for r in self._reports)
