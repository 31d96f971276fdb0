"""Adapter unit tests with ``responses``: payloads shaped like the research examples and OpenAPI
schemas, paging edges (empty, exact multiple of the page size, short last page, Tripletex's inexact
fullResultSize), the HTTP layer's retry/redaction rules, the mappings, and ``arsync check``."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import responses
from click.testing import CliRunner

from connector import http
from connector.model import DocKind
from connector.sources import mapping
from connector.sources.base import SyncContext
from connector.sources.economic import EconomicSource
from connector.sources.fiken import FikenSource
from connector.sources.poweroffice import PowerOfficeSource
from connector.sources.tripletex import TripletexSource
from tests.sources.ledger_helpers import client_for, fast_http


class _Url:
    url = "http://fake.local"


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> Any:
    with fast_http(monkeypatch) as waits:
        yield waits


def _ctx(kind: str, tmp_path: Path) -> SyncContext:
    return SyncContext(client=client_for(kind, _Url(), tmp_path), as_of=date(2026, 7, 2), now=datetime.now(UTC))


# ---- Tripletex ----------------------------------------------------------------------------------

TT = "http://fake.local/v2"
TT_INVOICES = {
    "fullResultSize": 2,
    "from": 0,
    "count": 2,
    "versionDigest": "9f3c1e0a",
    "values": [
        {
            "id": 1234567,
            "version": 4,
            "invoiceNumber": 10042,
            "invoiceDate": "2026-05-02",
            "invoiceDueDate": "2026-05-16",
            "kid": "0001004237",
            "customer": {"id": 987654, "name": "Fjordkraft Bygg AS"},
            "amount": 12500.0,
            "amountOutstanding": 5000.0,
            "amountOutstandingTotal": 5070.0,
            "isCreditNote": False,
            "creditedInvoice": 0,
            "isCredited": False,
            "currency": {"code": "NOK"},
        },
        {
            "id": 1234601,
            "version": 1,
            "invoiceNumber": 10051,
            "invoiceDate": "2026-05-20",
            "invoiceDueDate": "2026-05-20",
            "kid": "0001005130",
            "customer": {"id": 987654, "name": "Fjordkraft Bygg AS"},
            "amount": -2500.0,
            "amountOutstanding": 0.0,
            "amountOutstandingTotal": 0.0,
            "isCreditNote": True,
            "creditedInvoice": 1234555,
            "isCredited": False,
            "currency": {"code": "NOK"},
        },
    ],
}
TT_OPEN = {
    "from": 0,
    "count": 1,
    "versionDigest": "c0ffee12",
    "values": [
        {
            "id": 555001,
            "date": "2026-05-02",
            "amount": 5000.0,
            "invoiceNumber": "10042",
            "termOfPayment": "2026-05-16",
            "externalRef": "0001004237",
            "customer": {"id": 987654},
            "type": "OUTGOING_INVOICE_CUSTOMER_POSTING",
            "closeGroup": None,
        }
    ],
}


def _tripletex() -> TripletexSource:
    from connector.sources.tripletex import SessionAuth

    auth = SessionAuth(TT, "test-consumer-xyz", "test-employee-xyz", "0", "k")
    return TripletexSource("acme", http.ApiClient("tripletex", TT, auth, "k"), page_size=1000)


def _session() -> None:
    responses.put(f"{TT}/token/session/:create", json={"value": {"id": 1, "token": "test-eyJ0b2tlbklkIjox"}})


@responses.activate
def test_tripletex_research_example(tmp_path: Path) -> None:
    _session()
    responses.get(
        f"{TT}/customer",
        json={
            "fullResultSize": 1,
            "from": 0,
            "count": 1,
            "values": [{"id": 987654, "name": "Fjordkraft Bygg AS", "organizationNumber": "913312465"}],
        },
    )
    responses.get(f"{TT}/invoice", json=TT_INVOICES)
    responses.get(
        f"{TT}/invoice/1234555", json={"value": {**TT_INVOICES["values"][0], "id": 1234555, "invoiceNumber": 10040}}
    )
    responses.get(f"{TT}/ledger/posting", json={"from": 0, "count": 0, "values": []})
    responses.get(f"{TT}/ledger/posting/openPost", json=TT_OPEN)
    batch = _tripletex().fetch(_ctx("tripletex", tmp_path))
    inv = {i.number: i for i in batch.invoices}
    assert inv["10042"].amount == Decimal("12500.00") and inv["10042"].ledger_open_amount == Decimal("5000.00")
    assert inv["10051"].kind is DocKind.CREDIT_NOTE and inv["10051"].amount == Decimal("2500.00")
    assert inv["10051"].credits == ("10040",)  # creditedInvoice is an id, resolved to its number
    assert batch.cursor and batch.cursor["open"] == {"10042": ["1234567", "5000.00"]}
    basic = responses.calls[1].request.headers["Authorization"]
    assert basic.startswith("Basic ") and "test-eyJ" not in basic  # base64 of 0:<session>


@pytest.mark.parametrize(("total", "count", "expected_calls"), [(0, 3, 1), (6, 3, 3), (7, 3, 3), (2, 3, 1)])
@responses.activate
def test_tripletex_pages_until_a_short_page_whatever_fullresultsize_says(
    total: int, count: int, expected_calls: int
) -> None:
    _session()
    rows = [{"id": i} for i in range(total)]

    def page(request: Any) -> tuple[int, dict[str, str], str]:
        q = request.params
        start, n = int(q["from"]), int(q["count"])
        chunk = rows[start : start + n]
        return 200, {}, json.dumps({"fullResultSize": total + 11, "from": start, "count": len(chunk), "values": chunk})

    responses.add_callback(responses.GET, f"{TT}/customer", callback=page)
    src = _tripletex()
    src.page_size = count
    assert [r["id"] for r in src.pages("customer", {})] == list(range(total))
    assert len([c for c in responses.calls if "/customer" in c.request.url]) == expected_calls


# ---- Fiken --------------------------------------------------------------------------------------

FK = "http://fake.local/api/v2/companies/fjordkraft-bygg-as"
FK_INVOICE = {
    "invoiceId": 2888156,
    "createdDate": "2026-05-02",
    "lastModifiedDate": "2026-05-10",
    "invoiceNumber": 10042,
    "kid": "0001004237",
    "issueDate": "2026-05-02",
    "dueDate": "2026-05-16",
    "originalDueDate": "2026-05-16",
    "net": 1000000,
    "vat": 250000,
    "gross": 1250000,
    "netInNok": 1000000,
    "vatInNok": 250000,
    "grossInNok": 1250000,
    "cash": False,
    "currency": "NOK",
    "customer": {
        "contactId": 2747365,
        "name": "Nordlys Regnskap AS",
        "organizationNumber": "913312465",
        "customerNumber": 10017,
        "customerAccountCode": "1500:10017",
    },
    "sale": {
        "saleId": 3458156,
        "settled": False,
        "totalPaid": 750000,
        "outstandingBalance": 500000,
        "salePayments": [{"paymentId": 771, "date": "2026-05-15", "account": "1920:10001", "amount": 750000}],
    },
    "associatedCreditNotes": [],
    "sentManually": False,
}


def _fiken(page_size: int = 100) -> FikenSource:
    auth = http.StaticAuth({"Authorization": "Bearer 8f2c-secret-token"})
    return FikenSource(
        "acme", http.ApiClient("fiken", "http://fake.local/api/v2", auth, "f"), "fjordkraft-bygg-as", page_size
    )


def _fiken_pages(rows: list[dict[str, Any]], with_count: bool = True) -> Any:
    def page(request: Any) -> tuple[int, dict[str, str], str]:
        p, size = int(request.params["page"]), int(request.params["pageSize"])
        headers = {"Fiken-Api-Page": str(p), "Fiken-Api-Page-Size": str(size)}
        if with_count:
            headers["Fiken-Api-Page-Count"] = str(max(1, -(-len(rows) // size)))
            headers["Fiken-Api-Result-Count"] = str(len(rows))
        return 200, headers, json.dumps(rows[p * size : (p + 1) * size])

    return page


@responses.activate
def test_fiken_research_example_in_ore(tmp_path: Path) -> None:
    responses.add_callback(responses.GET, f"{FK}/contacts", callback=_fiken_pages([]))
    responses.add_callback(responses.GET, f"{FK}/invoices", callback=_fiken_pages([FK_INVOICE]))
    responses.add_callback(responses.GET, f"{FK}/creditNotes", callback=_fiken_pages([]))
    batch = _fiken().fetch(_ctx("fiken", tmp_path))
    (inv,) = batch.invoices
    assert inv.amount == Decimal("12500.00") and inv.ledger_open_amount == Decimal("5000.00")
    (pay,) = batch.payments
    assert (pay.invoice_number, pay.amount, pay.bank_ref, pay.source) == ("10042", Decimal("7500.00"), "771", "fiken")


@pytest.mark.parametrize(
    ("n", "size", "calls", "with_count"),
    [(0, 2, 1, True), (4, 2, 2, True), (5, 2, 3, True), (4, 2, 3, False), (3, 2, 2, False)],
)
@responses.activate
def test_fiken_paging_by_page_count_header(n: int, size: int, calls: int, with_count: bool) -> None:
    rows = [{"contactId": i, "name": f"K{i}"} for i in range(n)]
    responses.add_callback(responses.GET, f"{FK}/contacts", callback=_fiken_pages(rows, with_count))
    assert len(list(_fiken(size).pages("contacts", {}))) == n
    assert len(responses.calls) == calls


# ---- PowerOffice --------------------------------------------------------------------------------

PO = "http://fake.local/v2"
PO_ENTRY = {
    "Id": 884422,
    "VoucherId": "6d1b6f0e-2c7a-4c57-9a8e-0f3a1c2b9d11",
    "VoucherNo": 10234,
    "VoucherType": "OutgoingInvoice",
    "InvoiceNo": "10042",
    "CustomerAccountNo": 10017,
    "CustomerId": 5551234,
    "CustomerName": "Nordlys Regnskap AS",
    "PostingDate": "2026-05-02",
    "VoucherDate": "2026-05-02",
    "DueDate": "2026-05-16",
    "Amount": 12500.0,
    "Balance": 5000.0,
    "CurrencyAmount": 12500.0,
    "CurrencyCode": "NOK",
    "Cid": "0001004237",
    "MatchId": 77,
    "IsWriteOff": False,
}
PO_INVOICE = {
    "Id": "6d1b6f0e-2c7a-4c57-9a8e-0f3a1c2b9d11",
    "VoucherNo": 10234,
    "VoucherType": "OutgoingInvoice",
    "InvoiceNo": 10042,
    "CustomerId": 5551234,
    "CustomerNo": 10017,
    "VoucherDate": "2026-05-02",
    "DueDate": "2026-05-16",
    "Cid": "0001004237",
    "CurrencyCode": "NOK",
    "CurrencyExchangeRate": 1.0,
    "NetAmount": 10000.0,
    "TotalAmount": 12500.0,
    "NetPostedAmount": 10000.0,
    "TotalPostedAmount": 12500.0,
    "Balance": 5000.0,
    "MatchId": 77,
    "IsReversed": False,
}


def _poweroffice(size: int = 1000) -> PowerOfficeSource:
    from connector.sources.poweroffice import ClientCredentials

    auth = ClientCredentials("http://fake.local/OAuth/Token", "app-key-1", "client-key-1", "sub-key-1", "p")
    return PowerOfficeSource("acme", http.ApiClient("poweroffice", PO, auth, "p"), size)


@responses.activate
def test_poweroffice_string_and_number_invoice_numbers_meet(tmp_path: Path) -> None:
    responses.post(
        "http://fake.local/OAuth/Token",
        json={"access_token": "eyJhbGciOi.x.y", "token_type": "bearer", "expires_in": 1200},
    )
    responses.get(f"{PO}/Customers", json=[{"Id": 5551234, "Number": 10017, "Name": "Nordlys Regnskap AS"}])
    responses.get(f"{PO}/OutgoingInvoices", json=[PO_INVOICE])
    payment = {
        **PO_ENTRY,
        "Id": 884500,
        "VoucherType": "IncomingOcrGiro",
        "InvoiceNo": None,
        "Amount": -7500.0,
        "CurrencyAmount": -7500.0,
        "Balance": 0.0,
        "PostingDate": "2026-05-15",
    }
    responses.get(f"{PO}/Customerledger/Statement", json=[PO_ENTRY, payment])
    batch = _poweroffice().fetch(_ctx("poweroffice", tmp_path))
    (inv,) = batch.invoices
    assert (inv.number, inv.customer_id, inv.ledger_open_amount) == ("10042", "10017", Decimal("5000.00"))
    (pay,) = batch.payments  # matched through MatchId to the invoice entry's string InvoiceNo
    assert (pay.invoice_number, pay.amount) == ("10042", Decimal("7500.00"))
    token_call = responses.calls[0].request
    assert token_call.headers["Ocp-Apim-Subscription-Key"] == "sub-key-1"
    assert token_call.body == "grant_type=client_credentials"
    assert responses.calls[1].request.headers["Authorization"] == "Bearer eyJhbGciOi.x.y"


@pytest.mark.parametrize(("n", "size", "calls"), [(0, 2, 1), (4, 2, 3), (5, 2, 3)])
@responses.activate
def test_poweroffice_paging_until_a_short_page(n: int, size: int, calls: int) -> None:
    responses.post("http://fake.local/OAuth/Token", json={"access_token": "tok-abcdef", "expires_in": 1200})
    rows = [{"Id": i} for i in range(n)]

    def page(request: Any) -> tuple[int, dict[str, str], str]:
        number, s = int(request.params["PageNumber"]), int(request.params["PageSize"])
        return 200, {}, json.dumps(rows[(number - 1) * s : number * s])

    responses.add_callback(responses.GET, f"{PO}/Customers", callback=page)
    assert len(list(_poweroffice(size).pages("Customers", {}))) == n
    assert len(responses.calls) == calls + 1  # + the token


# ---- e-conomic ----------------------------------------------------------------------------------

EC = "http://fake.local"
EC_UNPAID = {
    "bookedInvoiceNumber": 20042,
    "date": "2026-05-02",
    "dueDate": "2026-05-16",
    "currency": "DKK",
    "exchangeRate": 100.0,
    "netAmount": 10000.00,
    "grossAmount": 12500.00,
    "vatAmount": 2500.00,
    "remainder": 5000.00,
    "remainderInBaseCurrency": 5000.00,
    "customer": {"customerNumber": 108, "self": f"{EC}/customers/108"},
    "self": f"{EC}/invoices/booked/20042",
}


def _economic(size: int = 1000) -> EconomicSource:
    auth = http.StaticAuth({"X-AppSecretToken": "demo-app-secret", "X-AgreementGrantToken": "demo-grant-1"})
    return EconomicSource("acme", http.ApiClient("economic", EC, auth, "e"), size)


def _ec_pages(path: str, rows: list[dict[str, Any]]) -> Any:
    def page(request: Any) -> tuple[int, dict[str, str], str]:
        skip, size = int(request.params["skippages"]), int(request.params["pagesize"])
        pag: dict[str, Any] = {"skipPages": skip, "pageSize": size, "results": len(rows)}
        if (skip + 1) * size < len(rows):
            pag["nextPage"] = f"{EC}{path}?skippages={skip + 1}&pagesize={size}"
        return 200, {}, json.dumps({"collection": rows[skip * size : (skip + 1) * size], "pagination": pag})

    return page


@responses.activate
def test_economic_negative_booked_invoice_is_a_credit_note(tmp_path: Path) -> None:
    credit = {**EC_UNPAID, "bookedInvoiceNumber": 20051, "grossAmount": -2500.0, "remainder": -2500.0}
    responses.add_callback(responses.GET, f"{EC}/customers", callback=_ec_pages("/customers", []))
    responses.add_callback(
        responses.GET, f"{EC}/invoices/booked", callback=_ec_pages("/invoices/booked", [EC_UNPAID, credit])
    )
    year = {"year": "2026", "fromDate": "2026-01-01", "toDate": "2026-12-31", "self": f"{EC}/accounting-years/2026"}
    responses.add_callback(responses.GET, f"{EC}/accounting-years", callback=_ec_pages("/accounting-years", [year]))
    path = "/accounting-years/2026/entries"
    responses.add_callback(responses.GET, f"{EC}{path}", callback=_ec_pages(path, []))
    batch = _economic().fetch(_ctx("economic", tmp_path))
    inv = {i.number: i for i in batch.invoices}
    assert inv["20042"].ledger_open_amount == Decimal("5000.00") and inv["20042"].currency == "DKK"
    assert inv["20051"].kind is DocKind.CREDIT_NOTE and inv["20051"].amount == Decimal("2500.00")
    assert responses.calls[0].request.headers["X-AgreementGrantToken"] == "demo-grant-1"


@pytest.mark.parametrize(("n", "size", "calls"), [(0, 2, 1), (4, 2, 2), (5, 2, 3)])
@responses.activate
def test_economic_follows_next_page(n: int, size: int, calls: int) -> None:
    rows = [{"customerNumber": i, "name": f"K{i}"} for i in range(n)]
    responses.add_callback(responses.GET, f"{EC}/customers", callback=_ec_pages("/customers", rows))
    assert len(list(_economic(size).pages("customers", {}))) == n
    assert len(responses.calls) == calls


@responses.activate
def test_economic_refuses_a_next_page_on_another_host() -> None:
    responses.get(
        f"{EC}/customers",
        json={
            "collection": [{"customerNumber": 1}],
            "pagination": {"nextPage": "https://evil.example/customers?skippages=1"},
        },
    )
    with pytest.raises(http.ApiError, match="another host"):
        list(_economic(1).pages("customers", {}))


# ---- the HTTP layer -----------------------------------------------------------------------------


@responses.activate
def test_retry_after_is_honoured_and_5xx_retried(_fast: Any) -> None:
    url = "http://fake.local/x"
    responses.get(url, status=429, headers={"Retry-After": "7"})
    responses.get(url, status=503)
    responses.get(url, json={"ok": 1.5})
    client = http.ApiClient("economic", "http://fake.local", http.StaticAuth({}), "r")
    assert client.get("x").data == {"ok": Decimal("1.5")}  # JSON numbers arrive as Decimal, never float
    assert _fast.asked[0] == 7.0 and len(_fast.asked) == 2


@responses.activate
def test_tripletex_quota_headers_pause_everyone_on_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "http://fake.local/x"
    responses.get(url, json={}, headers={"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": "3"})
    http.set_retry_policy(http.RetryPolicy(pause_scale=1.0))
    client = http.ApiClient("tripletex", "http://fake.local", http.StaticAuth({}), "q")
    client.get("x")
    import time

    assert client.limiter._paused_until - time.monotonic() > 2.5


@responses.activate
def test_secrets_are_redacted_from_errors_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = "http://fake.local/x"
    responses.get(url, status=401, json={"error": "bad token super-secret-token-42"})
    client = http.ApiClient(
        "fiken", "http://fake.local", http.StaticAuth({"Authorization": "Bearer super-secret-token-42"}), "s"
    )
    with pytest.raises(http.AuthError) as exc:
        client.get("x")
    assert "super-secret-token-42" not in str(exc.value) + caplog.text
    assert http.redact("Authorization: Basic dGVzdDp0b2tlbmxvbmc=") == "Authorization: Basic ***"


def test_mapping_units_signs_and_missing_fields() -> None:
    m = mapping.load("fiken")
    f = m.fields("invoice", FK_INVOICE)
    assert f["amount"] == Decimal("12500.00") and f["open_amount"] == Decimal("5000.00")
    assert isinstance(f["issue_date"], date)
    with pytest.raises(mapping.MappingError, match="invoiceNumber"):
        m.fields("invoice", {**FK_INVOICE, "invoiceNumber": None})
    with pytest.raises(mapping.MappingError, match="whole"):
        m.fields("invoice", {**FK_INVOICE, "gross": Decimal("1.5")})
    settled = {**FK_INVOICE, "sale": {**FK_INVOICE["sale"], "settled": True}}
    assert m.is_closed("invoice", settled) and not m.is_closed("invoice", FK_INVOICE)


def test_config_requires_each_systems_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="consumer_token_env"):
        client_for("tripletex", _Url(), tmp_path, consumer_token_env=None)
    with pytest.raises(ValueError, match="secret"):
        client_for("fiken", _Url(), tmp_path, token="inline-secret")


def test_arsync_check_prints_what_the_token_sees(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.cli import main
    from tests.fakes.ledger_world import realistic
    from tests.fakes.ledgers import FakeFiken, ledger_table

    with FakeFiken(realistic()) as fake:
        table = ledger_table("fiken", fake)
        lines = "\n".join(f'{k} = "{v}"' for k, v in table.items())
        cfg = tmp_path / "arsync.toml"
        cfg.write_text(
            f'[store]\nurl = "sqlite:///{tmp_path}/s.db"\n[[clients]]\nid = "acme"\nname = "A"\norg_no = "923456783"\n'
            f'country = "NO"\ncurrency = "NOK"\n[clients.ledger]\n{lines}\n[clients.collection]\npath = "cases"\n',
            encoding="utf-8",
        )
        ok = CliRunner().invoke(main, ["--config", str(cfg), "check", "--client", "acme"])
        monkeypatch.setenv("FIKEN_TOKEN", "wrong-secret-value-99")
        bad = CliRunner().invoke(main, ["--config", str(cfg), "check"])
    assert ok.exit_code == 0, ok.output
    assert "acme (A): ok" in ok.output and "ledger (fiken): ok" in ok.output
    assert "customers visible: 2" in ok.output and "open invoices: 2" in ok.output
    assert bad.exit_code == 1 and "FAILED" in bad.output and "wrong-secret-value-99" not in bad.output
