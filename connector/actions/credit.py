"""Credit checks of a client's customers: the nightly stage (:func:`check_credit`) and the assessment of
one customer that ``arsync credit check`` shares with it (:func:`assess`).

Nightly, only with ``[clients.registry] enabled``, a customer is checked when
- it is new: never checked, and its first invoice was issued in the last ``NEW_WITHIN_DAYS`` days (so
  the first night does not look up the whole ledger at once);
- it has a new invoice of at least ``credit_check_min_amount`` (in the invoice's currency);
- its last check was ``high`` and it has new invoices since.
"New" is measured against the invoices the customer's last check had seen (``CreditCheck.new_invoices``).
Each check is stored; a ``high`` customer with new invoices is put before the accountant in the run
report ("credit stop?"). arsync never blocks a sale: nothing else follows from the level.

Register answers go through the dated cache (``connector.store.credit``: not asked again the same
day; an outage keeps the previous answer and says so) and, within one run, through
:class:`CreditLookups`: one lookup per org no per run, across customers and clients.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol

from connector.config import ClientConfig
from connector.credit.checks import HIGH_WITH_NEW_INVOICES, NEW_CUSTOMER, CreditCheck, watermark
from connector.credit.facts import CreditFacts, LedgerHistory
from connector.credit.history import ledger_history
from connector.credit.risk import RiskAssessment, RiskLevel, evaluate
from connector.credit.thresholds import Thresholds, load_thresholds
from connector.model import Customer, Dispute, DocKind, DunningStep, Facts, Invoice
from connector.reconcile.matching import Reconciliation
from connector.registry.credit_lookup import RegisterFacts, lookup_register_facts
from connector.registry.registers import registers_for
from connector.reports.run import ClientReport
from connector.store import Store
from connector.store.credit import org_key
from connector.store.credit_checks import latest_checks, save_check
from connector.store.ledger import load_invoices

log = logging.getLogger("arsync.credit")

NEW_WITHIN_DAYS = 31  # a customer whose first invoice is older was not new when arsync met it


@dataclass
class CreditLookups:
    """The register answers of one run, per (country, org no): asked once per run even when the
    register is down (the dated cache only remembers definite answers)."""

    found: dict[tuple[str, str], RegisterFacts] = field(default_factory=dict)

    def registers(self, store: Store, client: ClientConfig, org_no: str, country: str, as_of: date) -> RegisterFacts:
        key = (country, org_key(org_no))
        if key not in self.found:
            settings = client.registry
            registers = registers_for(
                country,
                enhetsregisteret_url=settings.base_url,
                regnskapsregisteret_url=settings.regnskap_base_url,
                today=lambda: as_of,
            )
            self.found[key] = lookup_register_facts(store, registers, org_no, as_of)
        return self.found[key]


def thresholds_for(client: ClientConfig) -> Thresholds:
    """The shipped table, or the client's override file laid over it (ThresholdsError names file and key)."""
    return load_thresholds(client.registry.credit_thresholds)


def assess(
    store: Store,
    client: ClientConfig,
    lookups: CreditLookups,
    as_of: date,
    thresholds: Thresholds,
    *,
    customer_id: str | None,
    org_no: str | None,
    country: str,
    ledger: LedgerHistory | None,
    is_person: bool = False,
) -> RiskAssessment:
    """One customer's (or one org no's) level and reasons: the registers through the cache, the ledger
    history as given. A private person's name is never sent to a public register."""
    company = accounts = None
    asked = org_no if org_no and not is_person else None
    if asked is not None:
        found = lookups.registers(store, client, asked, country, as_of)
        company, accounts = found.company, found.accounts
    result = evaluate(CreditFacts(customer_id, asked, country, company, accounts, ledger), thresholds, as_of)
    if is_person:
        notes = ("A private person: the public registers were not asked.",)
        result = replace(result, org_no=org_no, notes=notes + result.notes[1:])
    return result


class Ledger:
    """A client's facts indexed by customer once, so checking many customers stays linear."""

    def __init__(self, facts: Facts, recon: Reconciliation):
        self.facts, self.recon = facts, recon
        self.invoices: dict[str, list[Invoice]] = defaultdict(list)
        for i in facts.invoices:
            self.invoices[i.customer_id].append(i)
        self.steps: dict[str, list[DunningStep]] = defaultdict(list)
        for s in facts.steps:
            self.steps[s.invoice_number].append(s)
        self.disputes: dict[str, list[Dispute]] = defaultdict(list)
        for d in facts.disputes:
            self.disputes[d.invoice_number].append(d)

    def history(self, customer_id: str, as_of: date, thresholds: Thresholds, country: str) -> LedgerHistory:
        mine = self.invoices.get(customer_id, [])
        numbers = {i.number for i in mine}
        return ledger_history(
            customer_id,
            mine,
            self.recon,
            [s for n in numbers for s in self.steps.get(n, ())],
            [d for n in numbers for d in self.disputes.get(n, ())],
            as_of,
            months=thresholds.history.months,
            country=country,
        )


def check_customer(
    store: Store,
    client: ClientConfig,
    ledger: Ledger,
    customer_id: str,
    as_of: date,
    thresholds: Thresholds,
    lookups: CreditLookups,
    trigger: str,
) -> CreditCheck:
    """Assess one customer of the client with its ledger history, and store the check."""
    customer = ledger.facts.customers.get(customer_id)
    country = (customer.country if customer else None) or client.country
    assessment = assess(
        store,
        client,
        lookups,
        as_of,
        thresholds,
        customer_id=customer_id,
        org_no=customer.org_no if customer else None,
        country=country,
        ledger=ledger.history(customer_id, as_of, thresholds, client.country),
        is_person=bool(customer and customer.is_person),
    )
    through, seen = watermark(i for i in ledger.invoices.get(customer_id, ()) if i.issue_date <= as_of)
    check = CreditCheck(client.id, customer_id, assessment, trigger, through, seen)
    with store.transaction() as conn:
        save_check(conn, check, at=store.now())
    return check


# ---- the nightly stage ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """A customer to check tonight, why, and the invoices its last check had not seen."""

    customer_id: str
    trigger: str
    new: tuple[Invoice, ...]


def due_checks(
    invoices: Iterable[Invoice], last: dict[str, CreditCheck], as_of: date, min_amount: Decimal
) -> list[Due]:
    """Which customers to check tonight (pure). ``invoices`` are streamed: of each customer only its first
    issue date and its new invoices are kept (the new ones: since its last check, or in the window)."""
    window_start = as_of - timedelta(days=NEW_WITHIN_DAYS)
    first: dict[str, date] = {}
    new: dict[str, list[Invoice]] = defaultdict(list)
    for i in invoices:
        if i.kind is not DocKind.INVOICE or i.issue_date > as_of:
            continue
        customer_id = i.customer_id
        if customer_id not in first or i.issue_date < first[customer_id]:
            first[customer_id] = i.issue_date
        previous = last.get(customer_id)
        if i.issue_date >= window_start if previous is None else previous.new_invoices((i,)):
            new[customer_id].append(i)
    due = []
    for customer_id in sorted(first):
        fresh = new.get(customer_id, [])
        previous = last.get(customer_id)
        trigger = None
        if previous is None:
            if fresh and first[customer_id] >= window_start:
                trigger = NEW_CUSTOMER
        elif fresh and previous.level is RiskLevel.HIGH:
            trigger = HIGH_WITH_NEW_INVOICES
        large = [i for i in fresh if i.amount >= min_amount]
        if trigger is None and large:
            biggest = max(large, key=lambda i: (i.amount, i.number))
            trigger = f"invoice {biggest.number} ({biggest.amount} {biggest.currency})"
        if trigger is not None:
            due.append(Due(customer_id, trigger, tuple(sorted(fresh, key=lambda i: (i.issue_date, i.number)))))
    return due


class Matched(Protocol):
    """Facts and their reconciliation: the whole client, or one slice of its customers (``connector.engine``)."""

    facts: Facts
    recon: Reconciliation


# The client's facts matched, in parts that each hold every fact of their customers: only the parts holding one
# of the customers given need be read (a very large client is read one slice at a time, not whole).
ReadMatched = Callable[[frozenset[str]], Iterable[Matched]]


def check_credit(
    store: Store, client: ClientConfig, as_of: date, report: ClientReport, lookups: CreditLookups, matched: ReadMatched
) -> None:
    """The nightly credit checks of one client (nothing without ``[clients.registry] enabled``).

    Which customers are due is found from the invoices streamed from the store; only then, and only if any
    is, are the facts read and matched (``matched``), a slice of customers at a time for a very large client
    — a customer's invoices, steps and disputes are all in its slice, so its check is as in one piece."""
    if not client.registry.enabled:
        return
    last = store.read(latest_checks, client.id)
    with store.connect() as conn:
        due = due_checks(load_invoices(conn, client.id), last, as_of, client.policy.credit_check_min_amount)
    if not due:
        return
    thresholds = thresholds_for(client)
    waiting = {item.customer_id: item for item in due}
    flagged: list[tuple[str, str]] = []
    for part in matched(frozenset(waiting)):
        ledger = Ledger(part.facts, part.recon)
        for customer_id in sorted(waiting.keys() & ledger.invoices.keys()):
            item = waiting.pop(customer_id)
            check = check_customer(store, client, ledger, customer_id, as_of, thresholds, lookups, item.trigger)
            log.info("client %s: customer %s: credit risk %s (%s)", client.id, customer_id, check.level, item.trigger)
            if check.level is RiskLevel.HIGH and item.new:
                flagged.append((customer_id, credit_stop(part.facts.customers.get(customer_id), check, item.new)))
    report.attention.extend(line for _, line in sorted(flagged))  # by customer, however the slices fell


def credit_stop(customer: Customer | None, check: CreditCheck, new: tuple[Invoice, ...]) -> str:
    """The run report's line for a high-risk customer with new invoices: a question, not a block."""
    who = f"customer {check.customer_id}"
    if customer is not None:
        who += f" {customer.name}"
    if check.assessment.org_no:
        who += f" (org no {check.assessment.org_no})"
    reasons = "; ".join(r.text.rstrip(".") for r in check.assessment.reasons[:2]) or "high risk"
    shown = ", ".join(f"{i.number} ({i.amount} {i.currency})" for i in new[:5])
    more = f" and {len(new) - 5} more" if len(new) > 5 else ""
    return f"credit stop? {who}: credit risk high — {reasons}. New invoices: {shown}{more}."
