"""Kravia's answers in the shapes its own public clients read (KnutAaboe/Kravia-Code-Case,
579683/Kravia-Debt-Collection): enveloped (``value``/``data``), ids as ``id``, the invoice's fields
under ``invoice``. The docs show no answer bodies, so the adapter must find its case in any of them."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import responses
from collection_env import case_payload

from connector.collection.base import ProviderStatus
from connector.collection.kravia import KraviaProvider
from connector.collection.transport import Transport, TransportConfig

BASE = "https://api.kravia.ai/api/v2"


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def kravia() -> KraviaProvider:
    config = TransportConfig(BASE, {"Authorization": "kravia-token"}, attempts=1, sleep=lambda _s: None)
    return KraviaProvider(Transport("kravia", config), creditor_id=10759)


def test_a_search_without_our_reference_finds_the_case_by_its_invoice_number(api: responses.RequestsMock) -> None:
    other_creditor = {"id": 7, "invoiceNo": "1001", "creditorId": 555, "claimType": "Open"}
    ours = {"id": 308458, "invoiceNo": "1001", "creditorId": 10759, "claimType": "Open"}
    api.get(f"{BASE}/invoice/search", json={"data": [{"id": 6, "invoiceNo": "999"}, other_creditor, ours]})
    api.get(f"{BASE}/invoice/search", json={"data": []})
    found = kravia().find(case_payload(), None)
    assert found is not None and found.provider_ref == "308458" and not found.created


def test_our_reference_when_given_decides_over_the_invoice_number(api: responses.RequestsMock) -> None:
    earlier = {"id": 300001, "invoiceNo": "1001", "accountingInvoiceId": "acme-1001-old"}
    api.get(f"{BASE}/invoice/search", json={"data": [earlier]})
    api.get(f"{BASE}/invoice/search", json={"data": []})
    assert kravia().find(case_payload(), None) is None


def test_a_create_answered_in_an_envelope_gives_the_case_id(api: responses.RequestsMock) -> None:
    api.post(f"{BASE}/invoice/register", json={"value": {"id": 308459, "invoiceNo": "1001"}, "statusCode": 200})
    result = kravia().submit(case_payload(), "unused")
    assert result.provider_ref == "308459" and result.created


def test_details_under_value_and_invoice_are_read(api: responses.RequestsMock) -> None:
    invoice = {"id": 308459, "accountingInvoiceId": "acme-1001", "status": "Closed", "outstandingAmount": 0}
    details = {"invoice": invoice, "payments": [{"accountingPaymentId": "p-1", "amount": 1000}], "creditNotes": []}
    api.get(f"{BASE}/invoice/308459/details", json={"value": {**details, "availableActions": {"creditInvoice": False}}})
    case = kravia().get("308459")
    assert case is not None and case.provider_ref == "308459" and case.our_ref == "acme-1001"
    assert case.status is ProviderStatus.CLOSED and case.remaining == Decimal("0")
    assert case.payment_refs == frozenset({"p-1"})


def test_a_search_that_ignores_skip_ends_instead_of_looping(api: responses.RequestsMock) -> None:
    page = {"data": [{"id": 1, "invoiceNo": "7"}, {"id": 2, "invoiceNo": "8"}]}
    api.get(f"{BASE}/invoice/search", json=page)
    api.get(f"{BASE}/invoice/search", json=page)
    assert kravia().find(case_payload(), None) is None
    assert len(api.calls) == 2
