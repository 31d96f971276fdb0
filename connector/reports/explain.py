"""One invoice's decision in prose, with every piece of evidence it rests on (``arsync explain CLIENT
INVOICE``; the workbench shows the same text).

It says, in this order: the invoice and its customer; the decision and what it means; why it is held
and what lifts each hold; the payments and credits; the letters and steps taken (with the deadlines they
stated); any other note (a credit check, a check by hand, payment terms); e-invoice responses and
delivery; disputes; agreements (each date kept or broken); the calls to the customer; exclusions; the business
register; the collection case; and the next
ladder step with its date. A section with nothing in it says "none", so a reader knows it was looked at.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from connector.config import ClientConfig
from connector.dunning.calendar import effective_due_date
from connector.dunning.decide import next_ladder_step
from connector.model import Action, Agreement, AllocationTier, CaseStatus, Decision, DocKind, Evidence, Facts, Invoice
from connector.references import reference_name
from connector.reports import glossary
from connector.reports.tables import call_line, customer_label

# Evidence kinds that are money applied to the invoice (the allocation tiers), the charges, the letters and
# steps with the deadlines they stated, and the kinds other sections tell; any other kind is a note.
_MONEY = frozenset(t.value for t in AllocationTier) | {"charges_paid"}  # + what paid the letters' charges
_CHARGES = ("fee", "interest", "compensation")
_STEPS = ("step", "deadline")
_TOLD_ELSEWHERE = frozenset({"invoice", "hold", "case", "registry", "agreement_broken", "agreement_kept", "call"})
_NOT_NOTES = _MONEY | _TOLD_ELSEWHERE | {*_CHARGES, *_STEPS}


def explain(client: ClientConfig, facts: Facts, decision: Decision, as_of: date, width: int = 100) -> str:
    d = decision
    invoice = next((i for i in facts.invoices if i.number == d.invoice_number and i.kind is DocKind.INVOICE), None)
    customer = facts.customers.get(d.customer_id)
    who = customer_label(customer.name if customer else None, d.customer_id)
    out: list[str] = [f"Invoice {d.invoice_number} to {who} — client {client.id} ({client.name})", ""]
    out.append(_about(invoice, d, client))
    out.append("")
    out.append(
        f"Decision as of {as_of.isoformat()}: {d.state} → {d.action}. "
        f"{glossary.meaning('state', d.state)} {glossary.meaning('action', d.action)}"
    )
    way = glossary.entry("action", d.action)
    if way and way.way_out:
        out.append(f"What to do: {way.way_out}")
    later = _recorded_after(facts, d, as_of)
    if later:  # an --as-of in the past: the facts are today's, what came after that day included
        out.append(
            f"Note: decided with everything recorded now, also what came after {as_of.isoformat()}: {'; '.join(later)}."
        )
    out.append("")

    held = [e for e in d.evidence if e.kind == "hold"]
    out.append("Holds:" if d.holds else "Holds: none.")
    for h in d.holds:
        e = glossary.entry("hold", h)
        out.append(f"- {h}: {e.meaning if e else ''}")
        if e and e.way_out:
            out.append(f"  Way out: {e.way_out}")
    if held:
        out.append("  Evidence:")
        out.extend(f"  - {_evidence(e)}" for e in held)

    money = [e for e in d.evidence if e.kind in _MONEY]
    _section(out, "Payments and credits", (f"{_evidence(e, d.currency)} [{e.kind}]" for e in money))
    charges = [e for e in d.evidence if e.kind in _CHARGES]
    if charges:
        # a charge's words carry its amount already: not repeated after them
        _section(out, "Fees and interest", (_evidence(replace(e, amount=None)) for e in charges))
    steps = sorted((e for e in d.evidence if e.kind in _STEPS), key=lambda e: e.on or date.min)  # by day
    _section(out, "Letters and steps taken", (_evidence(e, d.currency) for e in steps))
    notes = [e for e in d.evidence if e.kind not in _NOT_NOTES]
    if notes:
        _section(out, "Notes", (f"{_evidence(e, d.currency)} [{e.kind}]" for e in notes))
    events = sorted((e for e in facts.document_events if e.invoice_number == d.invoice_number), key=lambda e: e.order)
    _section(
        out,
        "E-invoice responses and delivery",
        (f"{e.issued_on.isoformat()}: {e.describe()}" + (f" ({e.source_ref})" if e.source_ref else "") for e in events),
    )
    disputes = [x for x in facts.disputes if x.invoice_number == d.invoice_number]
    _section(
        out,
        "Disputes",
        (
            f"{x.dispute_id}, opened {x.opened_on.isoformat()} ({x.source}): {x.reason}; "
            + (f"resolved {x.resolved_on.isoformat()}: {x.resolution}" if x.resolved_on else "open")
            for x in disputes
        ),
    )
    agreements = [a for a in facts.agreements if a.invoice_number == d.invoice_number]
    kept = {(e.ref, e.on) for e in d.evidence if e.kind == "agreement_kept"}
    broken = [e for e in d.evidence if e.kind == "agreement_broken"]
    _section(
        out,
        "Agreements",
        [
            *(
                f"{a.key}, made {a.created_on.isoformat()}: pay {', '.join(_plan(a, x, kept) for x in a.due_dates)}"
                + (f" — {a.note}" if a.note else "")
                + (f"; removed {a.cancelled_on.isoformat()}" if a.cancelled_on else "")
                for a in agreements
            ),
            *(_evidence(e) for e in broken),
        ],
    )
    calls = [c for c in facts.calls if c.customer_id == d.customer_id]
    _section(out, "Calls to the customer", (f"{c.called_on.isoformat()}: {call_line(c)}" for c in calls))
    exclusions = [x for x in facts.exclusions if x.invoice_number == d.invoice_number or x.customer_id == d.customer_id]
    _section(
        out,
        "Exclusions",
        (
            f"{x.exclusion_id}: {'invoice' if x.invoice_number else 'customer'} excluded"
            + f" from {x.created_on.isoformat()}"
            + (f" until {x.until.isoformat()}" if x.until else "")
            + (f"; ended {x.ended_on.isoformat()}" if x.ended_on else "")
            + f": {x.reason}"
            for x in exclusions
        ),
    )
    registry = [e for e in d.evidence if e.kind == "registry"]
    org = customer.org_no if customer else None
    fact = facts.registry.get(org) if org else None
    register_lines = [_evidence(e) for e in registry]
    if fact is not None and not registry:
        register_lines.append(
            f"{fact.register}: {fact.status or ('ok' if fact.ok else 'lookup failed')} "
            f"(asked {fact.fetched_at.date().isoformat()}){': ' + fact.detail if fact.detail else ''}"
        )
    _section(out, "Business register", register_lines, none="not asked" if org else "none (no organisation number)")
    cases = [c for c in facts.cases if c.invoice_number == d.invoice_number]
    _section(
        out,
        "Collection case",
        (
            f"{c.case_id}: {c.status} (created {c.created_on.isoformat()}, open {c.open_amount} {c.currency})"
            + (f", provider ref {c.provider_ref}" if c.provider_ref else "")
            for c in cases
        ),
    )
    out.append("")
    out.append(_ladder(client, facts, d, invoice, as_of))
    return "\n".join(_wrap(line, width) for line in out) + "\n"


def _plan(a: Agreement, day: date, kept: set[tuple[str | None, date | None]]) -> str:
    when = f"on {day.isoformat()}"
    if a.plan_id and len(a.amounts) == len(a.due_dates):
        when = f"{a.amounts[sorted(a.due_dates).index(day)]} by {day.isoformat()}"
    return when + (" (kept)" if (a.key, day) in kept else "")


def _about(invoice: Invoice | None, d: Decision, client: ClientConfig) -> str:
    if invoice is None:
        return f"Amount {d.amount} {d.currency}; open {d.open_amount} {d.currency}."
    due = "no due date"
    if invoice.due_date is not None:
        due = f"due {invoice.due_date.isoformat()}"
        effective = effective_due_date(invoice.due_date, client.country)
        if effective != invoice.due_date:
            due += f" (a weekend or holiday: effectively {effective.isoformat()})"
    source = f" from {invoice.source}" + (f" ({invoice.source_ref})" if invoice.source_ref else "")
    kid = f", {reference_name(invoice.kid, client.country)} {invoice.kid}" if invoice.kid else ""
    return (
        f"Issued {invoice.issue_date.isoformat()}{source}, {due}, {invoice.amount} {invoice.currency}{kid}. "
        f"Still open: {d.open_amount} {d.currency}."
    )


def _ladder(client: ClientConfig, facts: Facts, d: Decision, invoice: Invoice | None, as_of: date) -> str:
    if d.open_amount <= 0:
        return "Ladder: nothing open, no further step."
    done = [s for s in facts.steps if s.invoice_number == d.invoice_number]
    taken = ", ".join(f"{s.step} on {s.sent_on.isoformat()}" for s in sorted(done, key=lambda s: s.sent_on))
    start = f"Ladder: taken so far: {taken}." if taken else "Ladder: no step taken yet."
    due = invoice.due_date if invoice is not None else d.due_date
    effective = effective_due_date(due, client.country) if due is not None else None
    nxt = next_ladder_step(client, done, effective)
    if nxt is None:
        return f"{start} No further step on the client's ladder" + (
            "." if effective is not None else " (the invoice has no due date)."
        )
    case = next((c for c in reversed(facts.cases) if c.invoice_number == d.invoice_number), None)
    if nxt.action is Action.COLLECTION_CASE and case is not None:
        # The step was taken: the case is what happens now, not a step "due but held".
        since = case.events[-1].on if case.events else case.created_on
        now = _WITHDRAWN_THERE if case.status is CaseStatus.WITHDRAWN and case.provider_ref else _CASE_NOW[case.status]
        return (
            f"{start} Next step: {nxt.action} — case {case.case_id} is {case.status} (since {since.isoformat()}): "
            f"{now}."
        )
    when = "is due now" if nxt.due_on <= as_of else f"is due from {nxt.due_on.isoformat()}"
    blocked = " but held (see Holds)" if d.holds and nxt.due_on <= as_of and d.action != nxt.action else ""
    return f"{start} Next step: {nxt.action}, which {when}{blocked}."


# What a collection case's status means for the invoice, on the ladder line.
_CASE_NOW = {
    CaseStatus.PROPOSED: "it waits for the accountant's approval (`arsync cases approve`)",
    CaseStatus.APPROVED: "the next run (or `arsync cases push`) re-checks it and sends it to the provider",
    CaseStatus.PUSHED: "it is with the provider (see Collection case)",
    CaseStatus.REJECTED: "the accountant rejected it; `arsync cases reopen` proposes it again",
    CaseStatus.WITHDRAWN: "it was withdrawn from collection; `arsync cases reopen` proposes it again",
    CaseStatus.CLOSED: "the provider closed it",
}
_WITHDRAWN_THERE = (
    "it was withdrawn after it reached the provider; arsync never sends a case twice (register the claim again "
    "in the provider's portal to collect it)"
)


def _section(out: list[str], title: str, lines: Iterable[str], none: str = "none") -> None:
    items = list(lines)
    out.append("")
    if not items:
        out.append(f"{title}: {none}.")
        return
    out.append(f"{title}:")
    out.extend(f"- {line}" for line in items)


def _recorded_after(facts: Facts, d: Decision, as_of: date) -> list[str]:
    """What was recorded about the invoice (or its customer's calls and exclusions) on days after ``as_of``."""
    n = d.invoice_number
    out = [
        f"the {s.step} of {s.sent_on.isoformat()}" for s in facts.steps if s.invoice_number == n and s.sent_on > as_of
    ]
    out += [
        f"dispute {x.dispute_id} of {x.opened_on.isoformat()}"
        for x in facts.disputes
        if x.invoice_number == n and x.opened_on > as_of
    ]
    out += [
        f"agreement {a.agreement_id} of {a.created_on.isoformat()}"
        for a in facts.agreements
        if a.invoice_number == n and a.created_on > as_of
    ]
    out += [
        f"call {c.call_id} of {c.called_on.isoformat()}"
        for c in facts.calls
        if c.customer_id == d.customer_id and c.called_on > as_of
    ]
    out += [
        f"exclusion {x.exclusion_id} of {x.created_on.isoformat()}"
        for x in facts.exclusions
        if (x.invoice_number == n or x.customer_id == d.customer_id) and x.created_on > as_of
    ]
    out += [
        f"case {c.case_id} {e.status} on {e.on.isoformat()}"
        for c in facts.cases
        if c.invoice_number == n
        for e in c.events
        if e.on > as_of
    ]
    return out


def _evidence(e: Evidence, currency: str = "") -> str:
    parts = []
    if e.on is not None:
        parts.append(f"{e.on.isoformat()}:")
    parts.append(e.detail)
    if e.amount is not None and str(e.amount) not in e.detail:  # an amount the words say already: once
        parts.append(f"— {e.amount} {currency}".rstrip())
    if e.ref:
        parts.append(f"(ref {e.ref})")
    return " ".join(parts)


def _wrap(line: str, width: int) -> str:
    if len(line) <= width:
        return line
    indent = "  " if line.startswith(("- ", "  ")) else ""
    return "\n".join(textwrap.wrap(line, width, subsequent_indent=indent + ("  " if line.startswith("  -") else "")))
