"""Shared helpers for the ledger-source tests (no conftest: module names must stay unique)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from connector import http
from connector.config import ClientConfig
from connector.pipeline import sync_client
from connector.reports.run import ClientReport
from connector.sources import poweroffice, tripletex
from connector.store import Store
from connector.store.facts import load_facts
from tests.fakes.ledgers import ENV, ledger_table


class Waits:
    """Records the retry waits tenacity asked for instead of sleeping."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


REAL_LIMITS = dict(http.SYSTEM_LIMITS)
FAST_LIMITS = {
    k: http.Limits(rate_per_second=None, max_concurrent=v.max_concurrent) for k, v in http.SYSTEM_LIMITS.items()
}


@contextmanager
def fast_http(monkeypatch: Any, real_limits: bool = False, read_timeout: float = 0.3) -> Iterator[Waits]:
    """Tiny retry waits, recorded instead of slept; rate limits off unless ``real_limits``. A test that counts
    requests gives a ``read_timeout`` a busy machine's fake cannot miss: a timed-out try is sent again."""
    waits = Waits()
    monkeypatch.setattr(http, "SYSTEM_LIMITS", REAL_LIMITS if real_limits else FAST_LIMITS)
    previous = http.set_retry_policy(
        http.RetryPolicy(
            attempts=4,
            initial_wait=0.001,
            max_wait=0.004,
            connect_timeout=0.5,
            read_timeout=read_timeout,
            sleep=waits,
            pause_scale=0.0,
        )
    )
    http.reset_limiters()
    tripletex.forget_sessions()
    poweroffice.forget_tokens()
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    try:
        yield waits
    finally:
        http.set_retry_policy(previous)
        http.reset_limiters()


def client_for(kind: str, fake: Any, tmp_path: Path, client_id: str = "acme", **ledger: Any) -> ClientConfig:
    return ClientConfig(
        id=client_id,
        name="Nordlys Rør AS",
        org_no="923456783",
        country="NO",
        currency="NOK",
        ledger={**ledger_table(kind, fake), **ledger},
        collection={"provider": "outbox", "path": tmp_path / "cases"},
    )


def sync(store: Store, client: ClientConfig, as_of: date = date(2026, 11, 20)) -> ClientReport:
    report = ClientReport(client.id)
    sync_client(store, client, as_of, report)
    return report


def state(store: Store, client_id: str) -> dict[str, Any]:
    """What a sync leaves in the store, comparable between runs (no timestamps)."""
    facts = store.read(load_facts, client_id)
    return {
        "customers": sorted((c.customer_id, c.name, c.org_no) for c in facts.customers.values()),
        "invoices": sorted(
            (
                i.kind.value,
                i.number,
                i.customer_id,
                i.issue_date,
                i.due_date,
                i.amount,
                i.kid,
                i.credits,
                i.ledger_open_amount,
            )
            for i in facts.invoices
        ),
        "payments": sorted((p.key, p.amount, p.invoice_number) for p in facts.payments),
    }
