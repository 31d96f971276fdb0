"""The accountant's advice report: what would get each client paid faster — pure figures over model types.

Per client, for a period (``start``..``end``, both inclusive), from the stored facts, the
reconciliation, the kept credit checks and (optionally) the Peppol Directory's answers:
- DSO (days sales outstanding) at each month's end: receivables open that day ÷ what was invoiced in
  the 90 days up to it × 90, in the client's currency; the headline is the last point, the trend the
  change over the period;
- days from delivery (BT-72 / invoice period end) to invoice, over the invoices that state it;
- payment terms in use (due date − issue date) and their shares;
- the share of invoices sent as e-invoices (an EHF document or a Peppol envelope/status arsync read),
  and the customers in the Peppol Directory as invoice receivers that were sent none;
- the share of invoices paid after their first reminder, before any further step;
- disputes opened in the period and the days they took to resolve;
- cases handed to inkasso in the period, and what has come in on them since;
- the riskiest customers: the newest credit check, else the ledger alone.
Nothing here reads a clock, the store or the network; rendering is in ``advice_render``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from connector.credit.checks import CreditCheck
from connector.credit.facts import AnswerStatus, CreditFacts, EinvoiceReceiver, RegisterAnswer
from connector.credit.history import ledger_history
from connector.credit.risk import RiskLevel, evaluate
from connector.credit.thresholds import Thresholds
from connector.dunning.rules import RulePackError, pack_on
from connector.model import (
    ENVELOPE,
    MLR,
    MLS,
    ZERO,
    Action,
    Allocation,
    CaseStatus,
    Customer,
    Dispute,
    DocKind,
    DunningStep,
    Facts,
    Invoice,
)
from connector.reconcile.matching import Reconciliation

DSO_WINDOW_DAYS = 90
DELIVERY_BUCKETS = (("same day", 0, 0), ("1–7 days", 1, 7), ("8–14 days", 8, 14), ("15–30 days", 15, 30))
OVER_30 = "more than 30 days"
RISKY_SHOWN = 10
_RANK = {RiskLevel.HIGH: 2, RiskLevel.WATCH: 1, RiskLevel.LOW: 0}
_E_EVENTS = (ENVELOPE, MLS, MLR)  # a Peppol envelope or delivery status: the invoice travelled by Peppol


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def month_ends(self) -> list[date]:
        """Each month's last day within the period, and the period's end."""
        out, day = [], self.start
        while day <= self.end:
            nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
            out.append(min(nxt - timedelta(days=1), self.end))
            day = nxt
        return out


@dataclass(frozen=True)
class DsoPoint:
    on: date
    receivables: Decimal
    sales: Decimal  # invoiced in the DSO_WINDOW_DAYS up to ``on``
    dso: Decimal | None  # None: nothing invoiced in the window


@dataclass(frozen=True)
class TermsShare:
    days: int
    invoices: int


@dataclass(frozen=True)
class EinvoiceCandidate:
    customer_id: str
    name: str
    org_no: str
    invoices: int  # invoices in the period, none of them as an e-invoice
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class RiskyCustomer:
    client_id: str
    customer_id: str
    name: str
    level: RiskLevel
    reason: str
    overdue: Decimal  # in the client's currency
    currency: str
    checked_on: date | None  # None: the ledger alone, as of the report's end


@dataclass(frozen=True)
class ClientAdvice:
    client_id: str
    name: str
    country: str
    currency: str
    period: Period
    invoices: int  # invoices issued in the period (credit notes left out)
    invoiced: Decimal  # their amount in the client's currency
    dso_points: tuple[DsoPoint, ...]
    delivery_days: tuple[int, ...]  # per invoice stating a delivery date (invoiced before delivery: 0)
    terms: tuple[TermsShare, ...]  # most used first
    no_terms: int  # invoices without a due date
    einvoiced: int
    einvoice_candidates: tuple[EinvoiceCandidate, ...]
    peppol: str  # how the directory was asked: "asked", "off", or why not all
    reminded: int  # invoices whose first reminder went out in the period
    paid_after_reminder: int  # … paid before any further step
    reminder_to_payment_days: tuple[int, ...]
    disputes_opened: int
    dispute_days: tuple[int, ...]  # of those resolved
    disputes_open: int  # of those still open at the period's end
    inkasso_cases: int
    inkasso_amount: Decimal
    inkasso_recovered: Decimal
    riskiest: tuple[RiskyCustomer, ...]
    notes: tuple[str, ...] = ()

    @property
    def dso(self) -> Decimal | None:
        return self.dso_points[-1].dso if self.dso_points else None

    @property
    def dso_change(self) -> Decimal | None:
        known = [p.dso for p in self.dso_points if p.dso is not None]
        return known[-1] - known[0] if len(known) >= 2 else None

    @property
    def einvoice_share(self) -> Decimal | None:
        return share(self.einvoiced, self.invoices)

    @property
    def paid_after_reminder_share(self) -> Decimal | None:
        return share(self.paid_after_reminder, self.reminded)

    @property
    def recovered_share(self) -> Decimal | None:
        return share(self.inkasso_recovered, self.inkasso_amount)

    def delivery_buckets(self) -> list[tuple[str, int]]:
        return delivery_buckets(self.delivery_days)


@dataclass(frozen=True)
class PortfolioAdvice:
    """The clients together: counts and days pooled; money only summed within one currency."""

    period: Period
    clients: tuple[ClientAdvice, ...]
    riskiest: tuple[RiskyCustomer, ...] = field(default=())

    def _sum(self, name: str) -> int:
        return sum(getattr(c, name) for c in self.clients)

    def _pooled(self, name: str) -> tuple[int, ...]:
        return tuple(d for c in self.clients for d in getattr(c, name))

    @property
    def invoices(self) -> int:
        return self._sum("invoices")

    @property
    def einvoice_share(self) -> Decimal | None:
        return share(self._sum("einvoiced"), self.invoices)

    @property
    def reminded(self) -> int:
        return self._sum("reminded")

    @property
    def paid_after_reminder_share(self) -> Decimal | None:
        return share(self._sum("paid_after_reminder"), self.reminded)

    @property
    def delivery_days(self) -> tuple[int, ...]:
        return self._pooled("delivery_days")

    @property
    def dispute_days(self) -> tuple[int, ...]:
        return self._pooled("dispute_days")

    @property
    def disputes_opened(self) -> int:
        return self._sum("disputes_opened")

    @property
    def disputes_open(self) -> int:
        return self._sum("disputes_open")

    @property
    def einvoice_candidates(self) -> int:
        return sum(len(c.einvoice_candidates) for c in self.clients)

    def terms(self) -> list[TermsShare]:
        counts: Counter[int] = Counter()
        for c in self.clients:
            for t in c.terms:
                counts[t.days] += t.invoices
        return [TermsShare(d, n) for d, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    def by_currency(self) -> list[tuple[str, Decimal | None, Decimal, Decimal]]:
        """Per currency: (currency, DSO at the end, handed to inkasso, recovered)."""
        out = []
        for currency in sorted({c.currency for c in self.clients}):
            mine = [c for c in self.clients if c.currency == currency]
            ends = [c.dso_points[-1] for c in mine if c.dso_points]
            receivables = sum((p.receivables for p in ends), ZERO)
            sales = sum((p.sales for p in ends), ZERO)
            handed = sum((c.inkasso_amount for c in mine), ZERO)
            recovered = sum((c.inkasso_recovered for c in mine), ZERO)
            out.append((currency, dso(receivables, sales), handed, recovered))
        return out


# ---- small statistics ------------------------------------------------------------------------------


def share(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """part ÷ whole as a fraction with four places (0.4567), None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def average(values: Sequence[int]) -> Decimal | None:
    return (Decimal(sum(values)) / len(values)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if values else None


def median(values: Sequence[int]) -> Decimal | None:
    if not values:
        return None
    ordered, mid = sorted(values), len(values) // 2
    if len(ordered) % 2:
        return Decimal(ordered[mid])
    return (Decimal(ordered[mid - 1] + ordered[mid]) / 2).quantize(Decimal("0.1"))


def dso(receivables: Decimal, sales: Decimal) -> Decimal | None:
    if sales <= ZERO:
        return None
    return (receivables / sales * DSO_WINDOW_DAYS).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def delivery_buckets(days: Iterable[int]) -> list[tuple[str, int]]:
    counts = dict.fromkeys([b[0] for b in DELIVERY_BUCKETS] + [OVER_30], 0)
    for d in days:
        label = next((name for name, low, high in DELIVERY_BUCKETS if low <= d <= high), OVER_30)
        counts[label] += 1
    return list(counts.items())


# ---- one client ------------------------------------------------------------------------------------


def client_advice(
    *,
    client_id: str,
    name: str,
    country: str,
    currency: str,
    ledger_kind: str,
    facts: Facts,
    recon: Reconciliation,
    period: Period,
    checks: Mapping[str, CreditCheck],
    receivers: Mapping[str, RegisterAnswer[EinvoiceReceiver]] | None,
    thresholds: Thresholds,
) -> ClientAdvice:
    """``receivers``: customer id → the directory's answer (None: not asked, ``[clients.registry]`` off)."""
    notes: list[str] = []
    invoices = [i for i in facts.invoices if i.kind is DocKind.INVOICE]
    issued = [i for i in invoices if i.issue_date in period]
    ours = [i for i in issued if i.currency == currency]
    foreign = len(issued) - len(ours)
    if foreign:
        notes.append(f"{foreign} invoices in other currencies than {currency} are left out of DSO and amounts.")
    dated = _allocation_dates(facts, recon)
    e_numbers = _einvoiced(facts, invoices)
    if ledger_kind != "ehf" and not any(i.number in e_numbers for i in issued):
        notes.append(
            f"The {ledger_kind} ledger does not say how an invoice was sent: only invoices arsync read as "
            "EHF or saw travel by Peppol count as e-invoices."
        )
    candidates, peppol = _candidates(facts.customers, issued, e_numbers, receivers)
    reminded, paid, to_payment = _reminders(
        facts.steps, {i.number: i for i in invoices}, recon, period, _pay_by_days(country, period.end)
    )
    opened = [d for d in facts.disputes if d.opened_on in period]
    resolved = [(d.resolved_on - d.opened_on).days for d in opened if d.resolved_on and d.resolved_on <= period.end]
    cases, handed, recovered = _inkasso(facts, dated, period, currency)
    return ClientAdvice(
        client_id=client_id,
        name=name,
        country=country,
        currency=currency,
        period=period,
        invoices=len(issued),
        invoiced=sum((i.amount for i in ours), ZERO),
        dso_points=tuple(_dso_point(invoices, currency, recon, dated, day) for day in period.month_ends()),
        delivery_days=tuple(max(0, (i.issue_date - i.delivery_date).days) for i in issued if i.delivery_date),
        terms=_terms(issued),
        no_terms=sum(1 for i in issued if i.due_date is None),
        einvoiced=sum(1 for i in issued if i.number in e_numbers),
        einvoice_candidates=candidates,
        peppol=peppol,
        reminded=reminded,
        paid_after_reminder=paid,
        reminder_to_payment_days=tuple(to_payment),
        disputes_opened=len(opened),
        dispute_days=tuple(resolved),
        disputes_open=len(opened) - len(resolved),
        inkasso_cases=cases,
        inkasso_amount=handed,
        inkasso_recovered=recovered,
        riskiest=riskiest(client_id, currency, country, facts, recon, checks, thresholds, period.end),
        notes=tuple(notes),
    )


def portfolio(period: Period, clients: Sequence[ClientAdvice]) -> PortfolioAdvice:
    risky = sorted(
        (r for c in clients for r in c.riskiest),
        key=lambda r: (-_RANK[r.level], -r.overdue, r.client_id, r.name),
    )
    return PortfolioAdvice(period, tuple(clients), tuple(risky[:RISKY_SHOWN]))


# ---- the figures' parts ----------------------------------------------------------------------------


Dated = Mapping[str, list[tuple[date, Allocation]]]


def _allocation_dates(facts: Facts, recon: Reconciliation) -> dict[str, list[tuple[date, Allocation]]]:
    """Invoice → each allocation with its day: a payment's booking day, a credit note's issue day (an
    allocation of unknown origin counts as made before anything this report looks at)."""
    when = {p.key: p.booking_date for p in facts.payments}
    when.update({i.number: i.issue_date for i in facts.invoices if i.kind is DocKind.CREDIT_NOTE})
    return {
        number: [(when.get(a.source_key, date.min), a) for a in allocations]
        for number, allocations in recon.allocations.items()
    }


def _open_on(inv: Invoice, recon: Reconciliation, dated: Dated, day: date) -> Decimal:
    """What was open of an invoice at the end of ``day``: open now, plus what came in after that day."""
    if inv.issue_date > day:
        return ZERO
    later = sum((a.amount for on, a in dated.get(inv.number, ()) if on > day), ZERO)
    return min(inv.amount, max(ZERO, recon.open_amount.get(inv.number, inv.amount) + later))


def _dso_point(
    invoices: Sequence[Invoice],
    currency: str,
    recon: Reconciliation,
    dated: Dated,
    day: date,
) -> DsoPoint:
    since = day - timedelta(days=DSO_WINDOW_DAYS - 1)
    mine = [i for i in invoices if i.currency == currency]
    receivables = sum((_open_on(i, recon, dated, day) for i in mine), ZERO)
    sales = sum((i.amount for i in mine if since <= i.issue_date <= day), ZERO)
    return DsoPoint(day, receivables, sales, dso(receivables, sales))


def _terms(issued: Sequence[Invoice]) -> tuple[TermsShare, ...]:
    counts = Counter((i.due_date - i.issue_date).days for i in issued if i.due_date is not None)
    return tuple(TermsShare(d, n) for d, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _einvoiced(facts: Facts, invoices: Sequence[Invoice]) -> set[str]:
    numbers = {i.number for i in invoices if i.source == "ehf"}
    numbers.update(e.invoice_number for e in facts.document_events if e.kind in _E_EVENTS and e.invoice_number)
    return numbers


def peppol_wanted(facts: Facts, period: Period) -> list[Customer]:
    """The customers worth asking the Peppol Directory about: invoiced in the period, none of it as an
    e-invoice, with an organisation number, not a private person."""
    invoices = [i for i in facts.invoices if i.kind is DocKind.INVOICE]
    e_numbers = _einvoiced(facts, invoices)
    by_customer: dict[str, list[Invoice]] = defaultdict(list)
    for i in invoices:
        if i.issue_date in period:
            by_customer[i.customer_id].append(i)
    out = []
    for customer_id, mine in sorted(by_customer.items()):
        customer = facts.customers.get(customer_id)
        if customer is None or not customer.org_no or customer.is_person:
            continue
        if not any(i.number in e_numbers for i in mine):
            out.append(customer)
    return out


def _candidates(
    customers: Mapping[str, Customer],
    issued: Sequence[Invoice],
    e_numbers: set[str],
    receivers: Mapping[str, RegisterAnswer[EinvoiceReceiver]] | None,
) -> tuple[tuple[EinvoiceCandidate, ...], str]:
    if receivers is None:
        return (), "off"
    by_customer: dict[str, list[Invoice]] = defaultdict(list)
    for i in issued:
        by_customer[i.customer_id].append(i)
    out, failed = [], 0
    for customer_id, mine in by_customer.items():
        if any(i.number in e_numbers for i in mine):
            continue
        answer = receivers.get(customer_id)
        if answer is None:
            continue
        if answer.status is AnswerStatus.UNAVAILABLE:
            failed += 1
        if answer.facts is None or not answer.facts.invoices:
            continue
        customer = customers.get(customer_id)
        currency = mine[0].currency
        out.append(
            EinvoiceCandidate(
                customer_id,
                customer.name if customer else customer_id,
                answer.facts.org_no,
                len(mine),
                sum((i.amount for i in mine if i.currency == currency), ZERO),
                currency,
            )
        )
    out.sort(key=lambda c: (-c.amount, c.name))
    status = f"asked; {failed} could not be looked up" if failed else "asked"
    return tuple(out), status


def _pay_by_days(country: str, on: date) -> int:
    """The fewest days a reminder gives to pay (the rule pack's); 14 where no pack is in force."""
    try:
        return pack_on(country, on).letter_min_deadline_days
    except RulePackError:
        return 14


def _reminders(
    steps: Iterable[DunningStep],
    invoices: Mapping[str, Invoice],
    recon: Reconciliation,
    period: Period,
    pay_by_days: int,
) -> tuple[int, int, list[int]]:
    """(invoices first reminded in the period, of those paid before a further step, days to payment).

    A reminder still running at the period's end (unpaid, no further step, its pay-by days not yet over)
    counts in neither: whether it gets the invoice paid is not known yet (one sent on the last day is no
    reminder that failed)."""
    by_invoice: dict[str, list[DunningStep]] = defaultdict(list)
    for s in steps:
        if s.invoice_number in invoices:
            by_invoice[s.invoice_number].append(s)
    reminded = paid = 0
    days: list[int] = []
    for number, mine in by_invoice.items():
        reminders = sorted(s.sent_on for s in mine if s.step is Action.REMINDER)
        if not reminders or reminders[0] not in period:
            continue
        first = reminders[0]
        reminded += 1
        further = min((s.sent_on for s in mine if s.step is not Action.REMINDER and s.sent_on >= first), default=None)
        settled = recon.last_settled_on.get(number)
        paid_off = recon.open_amount.get(number, invoices[number].amount) <= ZERO and isinstance(settled, date)
        by_money = any(a.tier != "credit_note" for a in recon.allocations.get(number, ()))
        if paid_off and by_money and isinstance(settled, date) and (further is None or settled <= further):
            paid += 1
            days.append(max(0, (settled - first).days))
        elif further is None and (period.end - first).days < pay_by_days:
            reminded -= 1  # still running
    return reminded, paid, days


def _inkasso(facts: Facts, dated: Dated, period: Period, currency: str) -> tuple[int, Decimal, Decimal]:
    """Cases pushed in the period (client currency): count, amount handed over, paid since (not credits)."""
    count, handed, recovered = 0, ZERO, ZERO
    for case in facts.cases:
        pushed = min((e.on for e in case.events if e.status is CaseStatus.PUSHED), default=None)
        if pushed is None or pushed not in period or case.currency != currency:
            continue
        count += 1
        handed += case.open_amount
        mine = dated.get(case.invoice_number, ())
        since = sum((a.amount for on, a in mine if on >= pushed and a.tier != "credit_note"), ZERO)
        recovered += min(case.open_amount, max(ZERO, since))
    return count, handed, recovered


def riskiest(
    client_id: str,
    currency: str,
    country: str,
    facts: Facts,
    recon: Reconciliation,
    checks: Mapping[str, CreditCheck],
    thresholds: Thresholds,
    as_of: date,
) -> tuple[RiskyCustomer, ...]:
    """Customers at watch or high: their newest credit check, else the ledger alone as of ``as_of``."""
    invoices: dict[str, list[Invoice]] = defaultdict(list)
    for i in facts.invoices:
        invoices[i.customer_id].append(i)
    steps: dict[str, list[DunningStep]] = defaultdict(list)
    for s in facts.steps:
        steps[s.invoice_number].append(s)
    disputes: dict[str, list[Dispute]] = defaultdict(list)
    for d in facts.disputes:
        disputes[d.invoice_number].append(d)
    out = []
    for customer_id, mine in invoices.items():
        numbers = {i.number for i in mine}
        history = ledger_history(
            customer_id,
            mine,
            recon,
            [s for n in numbers for s in steps.get(n, ())],
            [d for n in numbers for d in disputes.get(n, ())],
            as_of,
            months=thresholds.history.months,
            country=country,
        )
        check = checks.get(customer_id)
        if check is not None:
            assessment, checked_on = check.assessment, check.checked_on
        else:
            assessment = evaluate(CreditFacts(customer_id, None, country, ledger=history), thresholds, as_of)
            checked_on = None
        if assessment.level is RiskLevel.LOW:
            continue
        customer = facts.customers.get(customer_id)
        out.append(
            RiskyCustomer(
                client_id,
                customer_id,
                customer.name if customer else customer_id,
                assessment.level,
                assessment.reasons[0].text if assessment.reasons else "",
                history.overdue_in(currency),
                currency,
                checked_on,
            )
        )
    out.sort(key=lambda r: (-_RANK[r.level], -r.overdue, r.name))
    return tuple(out[:RISKY_SHOWN])
