"""What ``arsync report advice`` reads for one client before the pure figures are computed: the stored
facts and their reconciliation, the kept credit checks, and — only with ``[clients.registry] enabled`` —
the Peppol Directory's answers for the customers that got no e-invoice (through the dated cache)."""

from __future__ import annotations

from datetime import date, timedelta

import click

from connector.actions.credit import thresholds_for
from connector.config import ClientConfig
from connector.credit.months import months_before
from connector.credit.thresholds import ThresholdsError
from connector.reconcile.for_client import reconcile_facts
from connector.registry.peppol import lookup_receivers
from connector.reports.advice import ClientAdvice, Period, peppol_wanted
from connector.reports.advice import client_advice as compute
from connector.store import Store
from connector.store.credit_checks import latest_checks
from connector.store.facts import load_facts


def period(start: date | None, end: date | None, today: date) -> Period:
    """--from/--to; by default the year up to today."""
    end = end or today
    start = start or months_before(end, 12) + timedelta(days=1)
    if start > end:
        raise click.UsageError(f"--from {start.isoformat()} is after --to {end.isoformat()}")
    return Period(start, end)


def client_advice(store: Store, client: ClientConfig, span: Period, today: date) -> ClientAdvice:
    facts = store.read(load_facts, client.id)
    try:
        thresholds = thresholds_for(client)
    except ThresholdsError as exc:
        raise click.UsageError(str(exc)) from None
    receivers = None
    if client.registry.enabled:
        wanted = peppol_wanted(facts, span)
        receivers = lookup_receivers(store, client.registry.peppol_directory_url, wanted, client.country, today)
    return compute(
        client_id=client.id,
        name=client.name,
        country=client.country,
        currency=client.currency,
        ledger_kind=client.ledger.kind,
        facts=facts,
        recon=reconcile_facts(facts, client),
        period=span,
        checks=store.read(latest_checks, client.id),
        receivers=receivers,
        thresholds=thresholds,
    )
