"""A workspace whose client pushes to a local fake Kravia or Debitura, with invoices ready for collection."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connector import pipeline
from connector.collection import approval
from connector.collection.base import CasePayload
from connector.model import Action, Attachment, Case, CaseStatus, Customer, DocKind, DunningStep, Invoice
from connector.store import Store
from connector.store.cases import load_cases
from connector.store.sends import record_steps
from tests.builders import Workspace, client_table, pdf_bytes

ISSUE = date(2026, 6, 1)
DUE = date(2026, 6, 15)
REMIND = DUE + timedelta(days=14)
NOTICE = REMIND + timedelta(days=14)
# The notice's deadline is Monday 27 July: a case from the first business day after it + 2 settle days.
CASE = date(2026, 7, 30)
APPROVED_AT = datetime.combine(CASE, time(9, 0), tzinfo=UTC)  # a workbench approval, with an undo window
WINDOW = timedelta(minutes=10)
KRAVIA_TOKEN = "kravia-secret-token-123"
DEBITURA_KEY = "debitura-secret-key-456"


def provider_table(provider: str, base_url: str, **extra: Any) -> dict[str, Any]:
    common = {"base_url": base_url, "timeout_seconds": 2.0, "max_attempts": 3, "retry_initial_wait": 0.01}
    common = {**common, "concurrency": 1, **extra}
    if provider == "kravia":
        return {"provider": "kravia", "token_env": "KRAVIA_TOKEN", "creditor_id": 10759, **common}
    return {"provider": "debitura", "api_key_env": "DEBITURA_KEY", **common}


def setup_client(
    ws: Workspace,
    monkeypatch: pytest.MonkeyPatch,
    provider: str,
    base_url: str,
    *,
    invoices: tuple[str, ...] = ("1001",),
    policy: dict[str, Any] | None = None,
    collection: dict[str, Any] | None = None,
) -> None:
    """Reminder and inkassovarsel already sent for every invoice: cases may be proposed on CASE."""
    monkeypatch.setenv("KRAVIA_TOKEN", KRAVIA_TOKEN)
    monkeypatch.setenv("DEBITURA_KEY", DEBITURA_KEY)
    table = client_table("acme", collection=provider_table(provider, base_url, **(collection or {})))
    if policy:
        table["policy"] = {**table["policy"], **policy}
    ws.write_config(table)
    for number in invoices:
        ws.add_invoice(number, issue=ISSUE, due=DUE, amount="1000.00", pdf=pdf_bytes(f"Faktura {number}"))
    with ws.store.transaction() as conn:
        record_steps(
            conn,
            [
                step
                for number in invoices
                for step in (
                    DunningStep("acme", number, Action.REMINDER, REMIND, "outbox", currency="NOK"),
                    DunningStep("acme", number, Action.COLLECTION_NOTICE, NOTICE, "outbox", currency="NOK"),
                )
            ],
        )


def nightly(ws: Workspace, day: date) -> Any:
    ws.bank_heartbeat(day)
    return ws.cli("run", "--as-of", day.isoformat())


def statuses(ws: Workspace) -> dict[str, str]:
    return {c.invoice_number: str(c.status) for c in ws.store.read(load_cases, ["acme"])}


def push_at(ws: Workspace, when: datetime) -> list[str]:
    """``arsync cases push`` as it runs at ``when`` (the store's clock): the run report's warnings."""
    store = Store(ws.settings().store.url, clock=lambda: when)
    try:
        [report] = list(pipeline.push_clients(store, [ws.client("acme")], CASE))
    finally:
        store.close()
    assert report.ok, report.errors
    return list(report.warnings)


def approve_in_workbench(ws: Workspace, note: str = "approved in the workbench by kari") -> None:
    """Case acme-1001 approved by kari at ``APPROVED_AT`` with the workbench's undo window."""
    approval.decide_cases(
        ws.store, ["acme-1001"], CaseStatus.APPROVED, note, CASE, actor="kari", now=APPROVED_AT, undo_window=WINDOW
    )


def case_payload(*attachments: tuple[str, bytes], on: date = date(2026, 8, 3)) -> CasePayload:
    """What a provider is handed for acme's approved case on invoice 1001 (1000.00 NOK, Kunde AS), with these
    attachments (name, bytes): for a provider adapter's own tests, without a workspace."""
    case = Case(
        "acme-1001", "acme", "1001", "934567897", "NOK", Decimal("1000.00"), Decimal("1000.00"),
        CaseStatus.APPROVED, on,
    )  # fmt: skip
    invoice = Invoice(
        client_id="acme", number="1001", kind=DocKind.INVOICE, customer_id="934567897", issue_date=date(2026, 6, 1),
        due_date=date(2026, 6, 15), currency="NOK", amount=Decimal("1000.00"), source="ehf",
    )  # fmt: skip
    return CasePayload(
        case=case,
        creditor_name="Acme AS",
        creditor_org_no="923456783",
        debtor=Customer("acme", "934567897", "Kunde AS", org_no="934567897"),
        invoice=invoice,
        remaining=Decimal("1000.00"),
        steps=(),
        attachments=tuple(Attachment("acme", "1001", name, "application/pdf", data) for name, data in attachments),
        pushed_on=on,
    )
