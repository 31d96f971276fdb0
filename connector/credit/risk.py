"""The credit evaluation: facts → low / watch / high, with one readable sentence per reason.

Pure: no I/O, no clock (``today`` is passed in), thresholds passed in. The level is the highest of
the reasons' levels; no reason is ``low``. arsync never blocks a sale with it: the level and reasons
are advice for the accountant.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from connector.credit.facts import (
    REGISTER_NAMES,
    AccountsFacts,
    AnswerStatus,
    CompanyFacts,
    CreditFacts,
    LedgerHistory,
    RegisterAnswer,
)
from connector.credit.months import months_before, whole_months
from connector.credit.thresholds import Flag, Thresholds

LEDGER = "ledger"


class RiskLevel(StrEnum):
    LOW = "low"
    WATCH = "watch"
    HIGH = "high"


_RANK = {RiskLevel.LOW: 0, RiskLevel.WATCH: 1, RiskLevel.HIGH: 2}


@dataclass(frozen=True, slots=True)
class RiskReason:
    code: str  # the thresholds table's rule name: "bankrupt", "days_paid_after_due", …
    level: RiskLevel
    text: str  # one sentence with the figure
    source: str  # "enhetsregisteret", "regnskapsregisteret" or "ledger"
    as_of: date | None = None  # the day the fact is from (a register's answer date)

    def as_json(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "level": str(self.level),
            "text": self.text,
            "source": self.source,
            "as_of": self.as_of.isoformat() if self.as_of else None,
        }


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    customer_id: str | None
    org_no: str | None
    level: RiskLevel
    reasons: tuple[RiskReason, ...]  # highest level first, then in the order the rules are checked
    notes: tuple[str, ...]  # what could not be checked, stale answers, sub-unit lookups
    evaluated_on: date

    def as_json(self) -> dict[str, object]:
        return {
            "customer": self.customer_id,
            "org_no": self.org_no,
            "level": str(self.level),
            "reasons": [r.as_json() for r in self.reasons],
            "notes": list(self.notes),
            "evaluated_on": self.evaluated_on.isoformat(),
        }


def evaluate(facts: CreditFacts, thresholds: Thresholds, today: date) -> RiskAssessment:
    notes: list[str] = []
    reasons: list[RiskReason] = []
    if facts.org_no is None:
        notes.append("No organisation number in the ledger: the public registers were not asked.")
    company = facts.company.facts if facts.company else None
    for answer in (facts.company, facts.accounts):
        if answer is not None:
            reasons += _availability(answer, thresholds, notes)
    if facts.company is not None:
        reasons += _company_rules(facts.company, thresholds, today, notes)
    if facts.accounts is not None:
        reasons += _accounts_rules(facts.accounts, company, thresholds, today)
    if facts.ledger is not None:
        reasons += _ledger_rules(facts.ledger, thresholds)
    reasons.sort(key=lambda r: -_RANK[r.level])  # stable: rule order kept within a level
    level = reasons[0].level if reasons else RiskLevel.LOW
    return RiskAssessment(facts.customer_id, facts.org_no, level, tuple(reasons), tuple(notes), today)


# ---- helpers ------------------------------------------------------------------------------------


def _flag(rule: Flag, code: str, text: str, source: str, as_of: date | None) -> Iterator[RiskReason]:
    if rule.level != "off":
        yield RiskReason(code, RiskLevel(rule.level), text, source, as_of)


def _measured(
    code: str, level: RiskLevel | None, text: str, source: str, as_of: date | None = None
) -> list[RiskReason]:
    return [RiskReason(code, level, text, source, as_of)] if level else []


def _money(amount: Decimal, currency: str | None) -> str:
    """-350000 → "-350 000 NOK" (a space between thousands, as Norwegian accounts write it)."""
    spec = ",.0f" if amount == amount.to_integral_value() else ",.2f"
    text = format(amount, spec).replace(",", " ")
    return f"{text} {currency}" if currency else text


def _since(on: date | None) -> str:
    return f" since {on.isoformat()}" if on else ""


# ---- availability -------------------------------------------------------------------------------


def _availability(
    answer: RegisterAnswer[CompanyFacts] | RegisterAnswer[AccountsFacts], t: Thresholds, notes: list[str]
) -> list[RiskReason]:
    name = REGISTER_NAMES.get(answer.register, answer.register.upper())
    if answer.status is AnswerStatus.NOT_COVERED:
        notes.append(answer.detail or f"{name}: not covered.")
        return []
    if answer.stale_reason:
        notes.append(answer.stale_reason)
    if answer.status is AnswerStatus.UNAVAILABLE:
        why = f" ({answer.detail})" if answer.detail else ""
        text = f"{name} could not be asked{why} and nothing is known from before."
        return list(_flag(t.register_unavailable, "register_unavailable", text, answer.register, answer.fetched_on))
    return []


# ---- Enhetsregisteret ---------------------------------------------------------------------------


def _company_rules(
    answer: RegisterAnswer[CompanyFacts], t: Thresholds, today: date, notes: list[str]
) -> list[RiskReason]:
    src, on = answer.register, answer.fetched_on
    if answer.status is AnswerStatus.NOT_FOUND:
        text = f"Org no {answer.org_no} is not in Enhetsregisteret (neither a company nor a sub-unit)."
        if answer.detail and answer.detail.startswith("a sub-unit"):  # a closed branch: say which
            text = f"Org no {answer.org_no} is {answer.detail}."
        return list(_flag(t.not_found, "not_found", text, src, on))
    c = answer.facts
    if c is None:
        return []
    out: list[RiskReason] = []
    if c.looked_up_as:
        notes.append(
            f"Org no {c.looked_up_as} is a sub-unit of {c.org_no} ({c.name or 'main unit'}): its facts are used."
        )
    if c.deleted_on or c.removed:
        how = "removed from" if c.removed else "deleted from"
        when = f" on {c.deleted_on.isoformat()}" if c.deleted_on else ""
        out += _flag(t.deleted, "deleted", f"{c.name or c.org_no} was {how} Enhetsregisteret{when}.", src, on)
    if c.bankrupt or c.bankrupt_on:
        out += _flag(t.bankrupt, "bankrupt", f"Bankrupt (konkurs){_since(c.bankrupt_on)}.", src, on)
    if c.under_liquidation or c.under_liquidation_on:
        text = f"Under liquidation (avvikling){_since(c.under_liquidation_on)}."
        out += _flag(t.under_liquidation, "under_liquidation", text, src, on)
    if c.forced_dissolution:
        dates = f": {', '.join(c.forced_dissolution_dates)}" if c.forced_dissolution_dates else ""
        text = f"Under forced liquidation or dissolution (tvangsavvikling/tvangsoppløsning){dates}."
        out += _flag(t.forced_dissolution, "forced_dissolution", text, src, on)
    if c.reconstruction_on:
        text = f"In reconstruction negotiations (rekonstruksjonsforhandling) since {c.reconstruction_on.isoformat()}."
        out += _flag(t.reconstruction, "reconstruction", text, src, on)
    if c.foreign_insolvency_on:
        text = f"Under foreign insolvency proceedings since {c.foreign_insolvency_on.isoformat()}."
        out += _flag(t.reconstruction, "reconstruction", text, src, on)
    if c.deleted_on or c.removed:
        return out  # the rest describes a going concern
    started = c.age_from
    limit = t.young_company.watch_below_months
    if started and limit and started > months_before(today, limit):
        what = "Founded" if c.founded_on else "Registered"
        months = whole_months(started, today)
        text = f"{what} {started.isoformat()}: {months} months old (less than {limit})."
        out += _measured("young_company", RiskLevel.WATCH, text, src, on)
    if c.vat_registered is False:
        text = "Not registered in the VAT register (Merverdiavgiftsregisteret)."
        out += _flag(t.not_vat_registered, "not_vat_registered", text, src, on)
    rule = t.not_in_business_register
    if c.business_registered is False and c.organisation_form in rule.forms:
        text = f"An {c.organisation_form} not registered in the business register (Foretaksregisteret)."
        out += _flag(rule, "not_in_business_register", text, src, on)
    if c.has_registered_employees is False:
        out += _flag(t.no_employees, "no_employees", "No employees registered.", src, on)
    return out


# ---- Regnskapsregisteret ------------------------------------------------------------------------


def _accounts_rules(
    answer: RegisterAnswer[AccountsFacts], company: CompanyFacts | None, t: Thresholds, today: date
) -> list[RiskReason]:
    src, on = answer.register, answer.fetched_on
    outdated = t.accounts_outdated.watch_above_months
    if answer.status is AnswerStatus.NOT_FOUND:
        rule = t.no_accounts_filed
        form = company.organisation_form if company else None
        started = company.age_from if company else None
        too_young = started is not None and started > months_before(today, outdated)
        if form in rule.forms and not too_young:
            return list(
                _flag(rule, "no_accounts_filed", f"No annual accounts filed in Regnskapsregisteret ({form}).", src, on)
            )
        return []
    a = answer.facts
    if a is None:
        return []
    out: list[RiskReason] = []
    period = f"the period ending {a.period_end.isoformat()}" if a.period_end else "the latest period"
    if a.liquidation_accounts:
        text = f"The accounts for {period} are liquidation accounts (avviklingsregnskap)."
        out += _flag(t.liquidation_accounts, "liquidation_accounts", text, src, on)
    if a.period_end and outdated and a.period_end < months_before(today, outdated):
        months = whole_months(a.period_end, today)
        text = f"The latest annual accounts end {a.period_end.isoformat()}: {months} months ago (more than {outdated})."
        out += _measured("accounts_outdated", RiskLevel.WATCH, text, src, on)
    if a.equity is not None and a.equity < 0:
        out += _flag(
            t.negative_equity,
            "negative_equity",
            f"Negative equity of {_money(a.equity, a.currency)} in the accounts for {period}.",
            src,
            on,
        )
    if a.annual_result is not None and a.annual_result < 0:
        out += _flag(
            t.loss, "loss", f"A loss of {_money(-a.annual_result, a.currency)} in the accounts for {period}.", src, on
        )
    ratio, limit = a.current_ratio, t.current_ratio.watch_below
    if ratio is not None and ratio < limit and a.current_assets is not None and a.current_liabilities is not None:
        text = (
            f"Current ratio {ratio} (current assets {_money(a.current_assets, a.currency)} / current liabilities "
            f"{_money(a.current_liabilities, a.currency)}), below {limit}."
        )
        out += _measured("current_ratio", RiskLevel.WATCH, text, src, on)
    if a.auditor_report_missing and a.audit_opted_out is False:
        text = f"No auditor's report on the accounts for {period}, although the company did not opt out of audit."
        out += _flag(t.unaudited, "unaudited", text, src, on)
    if a.audit_opted_out:
        out += _flag(
            t.audit_opted_out,
            "audit_opted_out",
            f"The company opted out of audit for {period}.",
            src,
            on,
        )
    return out


# ---- the client's own ledger --------------------------------------------------------------------


def _ledger_rules(h: LedgerHistory, t: Thresholds) -> list[RiskReason]:
    out: list[RiskReason] = []
    window = f"since {h.since.isoformat()}"
    days = t.days_paid_after_due
    if h.avg_days_late is not None:
        level = _above(h.avg_days_late, days.watch_above, days.high_above)
        slowest = f"; the slowest {h.max_days_late} days" if h.max_days_late else ""
        text = f"Paid on average {h.avg_days_late} days after the due date ({h.paid} invoices paid {window}{slowest})."
        out += _measured("days_paid_after_due", level, text, LEDGER)
    rule = t.reminders_needed
    if h.invoices and h.invoices >= rule.min_invoices:
        share = Decimal(h.reminded) / h.invoices
        if share > rule.watch_above_share:
            text = (
                f"{h.reminded} of {h.invoices} invoices {window} needed a reminder "
                f"({share:.0%}, more than {rule.watch_above_share:.0%})."
            )
            out += _measured("reminders_needed", RiskLevel.WATCH, text, LEDGER)
    steps = t.collection_steps
    level = _from(h.collection_steps, steps.watch_from, steps.high_from)
    noun = "invoice" if h.collection_steps == 1 else "invoices"
    text = f"{h.collection_steps} {noun} {window} needed a collection notice or case."
    out += _measured("collection_steps", level, text, LEDGER)
    disputes = t.open_disputes
    level = _from(h.open_disputes, disputes.watch_from, disputes.high_from)
    noun = "dispute" if h.open_disputes == 1 else "disputes"
    out += _measured("open_disputes", level, f"{h.open_disputes} open {noun}.", LEDGER)
    rule_amount = t.overdue_amount
    noun = "invoice" if h.overdue_invoices == 1 else "invoices"
    count = f" ({h.overdue_invoices} {noun})" if len(h.overdue) == 1 else ""
    for currency, amount in h.overdue:
        level = _above(amount, rule_amount.watch_above.get(currency), rule_amount.high_above.get(currency))
        out += _measured("overdue_amount", level, f"{_money(amount, currency)} overdue today{count}.", LEDGER)
    return out


def _above(value: Decimal, watch: Decimal | int | None, high: Decimal | int | None) -> RiskLevel | None:
    if high is not None and value > high:
        return RiskLevel.HIGH
    if watch is not None and value > watch:
        return RiskLevel.WATCH
    return None


def _from(value: int, watch: int | None, high: int | None) -> RiskLevel | None:
    if high is not None and value >= high:
        return RiskLevel.HIGH
    if watch is not None and value >= watch:
        return RiskLevel.WATCH
    return None
