"""The provider transport: retries only when safe, honours Retry-After, never leaks the secret."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from email.utils import formatdate

import pytest

from connector.collection.base import ProviderError
from connector.collection.transport import Transport, TransportConfig, encode_body
from tests.fakes import Failure, FakeKravia

TOKEN = "s3cret-kravia-token"


def transport(fake: FakeKravia, sleeps: list[float], **kw: object) -> Transport:
    cfg = TransportConfig(base_url=fake.base_url, headers={"Authorization": TOKEN}, sleep=sleeps.append, **kw)  # type: ignore[arg-type]
    return Transport("kravia", cfg)


def test_429_is_retried_after_the_servers_retry_after_even_for_a_write() -> None:
    sleeps: list[float] = []
    with FakeKravia(token=TOKEN) as fake:
        fake.fail(Failure("status", route="/api/v2/invoice/payment", status=429, headers={"Retry-After": "7"}))
        reply = transport(fake, sleeps).request(
            "POST", "/invoice/payment", json_body={"invoices": [{"invoiceId": 1, "amount": 1}]}, ok_statuses=(404,)
        )
    assert reply.status == 404  # reached the handler on the second try (the invoice does not exist)
    assert sleeps == [7.0]


def test_429_with_retry_after_as_an_http_date_waits_until_then() -> None:
    sleeps: list[float] = []
    when = formatdate(time.time() + 30, usegmt=True)  # RFC 9110 §10.2.3: an HTTP-date is allowed too
    with FakeKravia(token=TOKEN) as fake:
        fake.fail(Failure("status", route="/api/v2/invoice/payment", status=429, headers={"Retry-After": when}))
        reply = transport(fake, sleeps).request(
            "POST", "/invoice/payment", json_body={"invoices": [{"invoiceId": 1, "amount": 1}]}, ok_statuses=(404,)
        )
    assert reply.status == 404 and len(sleeps) == 1 and 25 <= sleeps[0] <= 30


def test_a_write_without_idempotency_key_is_not_retried_after_a_500() -> None:
    sleeps: list[float] = []
    with FakeKravia(token=TOKEN) as fake:
        fake.fail(Failure("status", route="/api/v2/invoice/register", status=500))
        with pytest.raises(ProviderError) as caught:
            transport(fake, sleeps).request("POST", "/invoice/register", json_body={})
        assert caught.value.ambiguous  # it may have been processed: resolve by lookup
        assert len(fake.calls("POST", "/api/v2/invoice/register")) == 1 and sleeps == []


def test_reads_are_retried_on_5xx_and_dropped_connections() -> None:
    sleeps: list[float] = []
    with FakeKravia(token=TOKEN) as fake:
        fake.fail(Failure("status", route="/api/v2/invoice/search", status=502))
        fake.fail(Failure("drop_before", route="/api/v2/invoice/search"))
        reply = transport(fake, sleeps, attempts=3).request("GET", "/invoice/search")
        assert reply.status == 200 and len(sleeps) == 2


def test_the_secret_never_appears_in_errors() -> None:
    with FakeKravia(token="another-token") as fake, pytest.raises(ProviderError) as caught:
        transport(fake, []).request("GET", "/invoice/search")
    assert caught.value.status == 401 and TOKEN not in str(caught.value)


def test_the_rate_limit_spaces_requests() -> None:
    with FakeKravia(token=TOKEN) as fake:
        t = transport(fake, [], rate_per_second=20.0)
        start = time.monotonic()
        for _ in range(5):
            t.request("GET", "/invoice/search")
        assert time.monotonic() - start >= 4 / 20.0 - 0.01


def test_amounts_go_to_providers_as_exact_json_numbers() -> None:
    body = json.loads(
        encode_body({"a": Decimal("3750.50"), "b": Decimal("12500.00"), "c": Decimal("0.10")}), parse_float=Decimal
    )
    assert body == {"a": Decimal("3750.5"), "b": 12500, "c": Decimal("0.1")}  # numbers, not strings, exact
    assert all(not isinstance(v, str) for v in body.values())
    with pytest.raises(ValueError, match="digits"):
        encode_body({"a": Decimal("1234567890123456.78")})
