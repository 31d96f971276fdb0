"""What one client's night produced, for the CLI to print: the decisions, what was sent, warnings, errors."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from connector.model import Decision

log = logging.getLogger("arsync")
dunning_log = logging.getLogger("arsync.dunning")


@dataclass
class ClientReport:
    client_id: str
    ok: bool = True
    errors: list[str] = field(default_factory=list)  # the client failed (a source, or a stage)
    warnings: list[str] = field(default_factory=list)  # single bad files/records; the run went on
    decisions: list[Decision] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)  # what the act stage did, one line each
    # for the accountant to decide, one line each (a high-risk customer with new invoices: "credit stop?")
    attention: list[str] = field(default_factory=list)
    customer_names: dict[str, str] = field(default_factory=dict)

    def fail(self, message: str) -> None:
        self.ok = False
        self.errors.append(message)
        log.error("client %s: %s", self.client_id, message)


def log_broken_agreements(client_id: str, decisions: list[Decision]) -> list[str]:
    """Broken agreements lift their hold; say so in the log and (returned) in the run report."""
    lines = []
    for d in decisions:
        for e in d.evidence:
            if e.kind == "agreement_broken":
                dunning_log.warning("client %s: invoice %s: %s", client_id, d.invoice_number, e.detail)
                lines.append(f"invoice {d.invoice_number}: {e.detail}")
    return lines
