"""The advice figures over a half year worked out by hand (``advice_ledger.small_ledger``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from advice_ledger import FJORD, HAVN, KYST, small_ledger, step

from connector.credit.checks import CreditCheck
from connector.credit.facts import PEPPOL_DIRECTORY, AnswerStatus, EinvoiceReceiver, RegisterAnswer
from connector.credit.risk import RiskAssessment, RiskLevel, RiskReason
from connector.credit.thresholds import default_thresholds
from connector.model import Action, Facts
from connector.reconcile.matching import reconcile
from connector.reports.advice import (
    ClientAdvice,
    EinvoiceCandidate,
    Period,
    TermsShare,
    average,
    client_advice,
    median,
    peppol_wanted,
    portfolio,
)

HALF_YEAR = Period(date(2025, 7, 1), date(2025, 12, 31))


def receivers() -> dict[str, RegisterAnswer[EinvoiceReceiver]]:
    found = EinvoiceReceiver("945678909", "0192:945678909", "HAVN AS", "NO", invoices=True)
    return {
        HAVN: RegisterAnswer(PEPPOL_DIRECTORY, "0192:945678909", AnswerStatus.FOUND, date(2026, 1, 5), found),
        KYST: RegisterAnswer(PEPPOL_DIRECTORY, "0192:934567897", AnswerStatus.NOT_FOUND, date(2026, 1, 5)),
    }


def advise(
    checks: dict[str, CreditCheck] | None = None, with_receivers: bool = True, facts: Facts | None = None
) -> ClientAdvice:
    facts = facts or small_ledger()
    return client_advice(
        client_id="acme",
        name="Acme AS",
        country="NO",
        currency="NOK",
        ledger_kind="tripletex",
        facts=facts,
        recon=reconcile(facts.invoices, facts.payments, customers=facts.customers),
        period=HALF_YEAR,
        checks=checks or {},
        receivers=receivers() if with_receivers else None,
        thresholds=default_thresholds(),
    )


def test_invoices_of_the_period_and_their_terms() -> None:
    a = advise()
    assert (a.invoices, a.invoiced) == (7, Decimal("56000.00"))
    assert a.terms == (TermsShare(14, 4), TermsShare(30, 2)) and a.no_terms == 1


def test_dso_month_by_month() -> None:
    a = advise()
    assert [(p.on.month, p.receivables, p.sales, p.dso) for p in a.dso_points] == [
        (7, Decimal("0.00"), Decimal("14000.00"), Decimal("0.0")),
        (8, Decimal("10000.00"), Decimal("20000.00"), Decimal("45.0")),  # A2 still open, paid 15 Sept
        (9, Decimal("20000.00"), Decimal("30000.00"), Decimal("60.0")),
        (10, Decimal("25000.00"), Decimal("25000.00"), Decimal("90.0")),
        (11, Decimal("25000.00"), Decimal("8000.00"), Decimal("281.3")),  # A3 (1 Sept) left the 90-day window
        (12, Decimal("28000.00"), Decimal("11000.00"), Decimal("229.1")),  # 5000 came in on A3 on 1 Dec
    ]
    assert a.dso == Decimal("229.1") and a.dso_change == Decimal("229.1")


def test_days_from_delivery_to_invoice() -> None:
    a = advise()
    assert sorted(a.delivery_days) == [0, 11, 30]
    assert (average(a.delivery_days), median(a.delivery_days)) == (Decimal("13.7"), Decimal("11"))
    assert a.delivery_buckets() == [
        ("same day", 1),
        ("1–7 days", 0),
        ("8–14 days", 1),
        ("15–30 days", 1),
        ("more than 30 days", 0),
    ]


def test_e_invoices_and_who_could_receive_one() -> None:
    a = advise()
    assert a.einvoiced == 1 and a.einvoice_share == Decimal("0.1429")  # A1 travelled in a Peppol envelope
    assert a.einvoice_candidates == (EinvoiceCandidate(HAVN, "Havn AS", "945678909", 2, Decimal("3000.00"), "NOK"),)
    assert a.peppol == "asked"
    assert "The tripletex ledger does not say how an invoice was sent" not in " ".join(a.notes)  # one was seen
    assert [c.customer_id for c in peppol_wanted(small_ledger(), HALF_YEAR)] == [KYST, HAVN]  # not FJORD, not Ola


def test_without_registers_the_directory_is_not_asked() -> None:
    a = advise(with_receivers=False)
    assert a.peppol == "off" and a.einvoice_candidates == ()


def test_reminders_disputes_and_inkasso() -> None:
    a = advise()
    assert (a.reminded, a.paid_after_reminder, a.reminder_to_payment_days) == (2, 1, (17,))
    assert a.paid_after_reminder_share == Decimal("0.5000")
    assert (a.disputes_opened, a.dispute_days, a.disputes_open) == (2, (10,), 1)
    assert (a.inkasso_cases, a.inkasso_amount, a.inkasso_recovered) == (1, Decimal("20000.00"), Decimal("5000.00"))
    assert a.recovered_share == Decimal("0.2500")


def test_a_reminder_still_running_at_the_period_end_is_not_counted_as_one_that_failed() -> None:
    # A4 reminded on the period's last day, A5 fourteen days before, neither paid by money: only A5, whose
    # pay-by days are over, counts against "paid after the first reminder" (a run's own letters counted as
    # failed reminders that very day: "0.0 % of 3")
    facts = small_ledger()
    end = HALF_YEAR.end
    facts = replace(
        facts,
        steps=(*facts.steps, step("A4", Action.REMINDER, end), step("A5", Action.REMINDER, end - timedelta(days=14))),
    )
    a = advise(with_receivers=False, facts=facts)
    assert (a.reminded, a.paid_after_reminder) == (3, 1)  # A2 paid, A3 went on to a notice, A5 not paid


def test_the_riskiest_customers_from_the_ledger_and_from_kept_checks() -> None:
    [kyst] = advise().riskiest
    assert (kyst.customer_id, kyst.level, kyst.overdue) == (KYST, RiskLevel.WATCH, Decimal("15000.00"))
    assert kyst.checked_on is None  # the ledger alone
    assert kyst.reason.endswith("needed a collection notice or case.")
    bankrupt = RiskReason("bankrupt", RiskLevel.HIGH, "Bankrupt (konkurs) since 2025-12-01.", "enhetsregisteret")
    day = date(2025, 12, 20)
    check = CreditCheck("acme", FJORD, RiskAssessment(FJORD, "923456791", RiskLevel.HIGH, (bankrupt,), (), day), "m")
    first, second = advise({FJORD: check}).riskiest
    assert (first.customer_id, first.level, first.reason, first.checked_on) == (
        FJORD,
        RiskLevel.HIGH,
        "Bankrupt (konkurs) since 2025-12-01.",
        day,
    )
    assert second.customer_id == KYST


@pytest.mark.parametrize("clients", [1, 2])
def test_the_portfolio_pools_counts_and_sums_money_per_currency(clients: int) -> None:
    one = advise()
    p = portfolio(HALF_YEAR, [one] * clients)
    assert p.invoices == 7 * clients and p.einvoice_share == one.einvoice_share
    assert p.paid_after_reminder_share == Decimal("0.5000")
    [(currency, dso, handed, recovered)] = p.by_currency()
    assert (currency, dso, handed, recovered) == (
        "NOK",
        Decimal("229.1"),
        Decimal("20000.00") * clients,
        Decimal("5000.00") * clients,
    )
    assert len(p.riskiest) == clients
