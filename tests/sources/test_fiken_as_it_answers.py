"""Fiken as it really answers, from its OpenAPI spec (Fiken's own swagger.yaml as of 2026-05, public
copy ``kradalby/fiken-go`` ``api/fiken-openapi.yaml``; the 2024 copy ``okane-no/fiken-sdk`` agrees where
both have a field): the spec's own example values, a sale's outstanding balance in NOK beside the one
in a foreign-currency invoice's own currency, a contact's phone number only on its contact persons,
the flag Fiken writes in front of a journal entry's description, and an empty list's page count of 0."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import responses

from connector import http
from connector.sources.base import LedgerBooking, SyncContext
from connector.sources.fiken import FikenSource
from connector.sources.systems import api_ledger
from connector.store import Store
from connector.store.facts import load_facts
from tests.fakes.ledger_world import realistic
from tests.fakes.ledgers import FakeFiken
from tests.sources.ledger_helpers import client_for, fast_http, sync


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> Any:
    with fast_http(monkeypatch) as waits:
        yield waits


def _store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'fk.db'}")


# ---- the spec's own examples, through `responses` --------------------------------------------------

FK = "http://fake.local/api/v2/companies/fiken-as"

# Every value is the `example:` the spec gives for that field (contact, address, invoiceResult,
# saleResult, payment, creditNoteResult); the examples do not add up (a settled sale with 145 øre
# outstanding), as a real ledger's rounding can leave them.
SPEC_CONTACT = {
    "contactId": 2747365,
    "createdDate": "2018-04-03",
    "lastModifiedDate": "2018-04-03",
    "name": "Fiken AS",
    "email": "kontakt@fiken.gmail",
    "organizationNumber": "913312465",
    "customerNumber": 51248,
    "customerAccountCode": "1500:20001",
    "customer": True,
    "supplier": False,
    "language": "Norwegian",
    "inactive": True,
    "daysUntilInvoicingDueDate": 15,
    "address": {"streetAddress": "Karl Johan 34", "city": "Oslo", "postCode": "0550", "country": "Norway"},
    "contactPerson": [
        {"contactPersonId": 2747365, "name": "Betty Boop", "email": "bb@gmail.com", "phoneNumber": "98573564"}
    ],
}
SPEC_SALE = {
    "saleId": 2888156,
    "lastModifiedDate": "2018-04-03",
    "transactionId": 3458156,
    "saleNumber": "XK455L",
    "date": "2018-04-03",
    "kind": "external_invoice",
    "netAmount": 4500,
    "vatAmount": 5400,
    "settled": True,
    "settledDate": "2023-04-03",
    "writeOff": False,
    "totalPaid": 524500,
    "totalPaidInCurrency": 634550,
    "outstandingBalance": 145,
    "outstandingBalanceInCurrency": 65,
    "customer": SPEC_CONTACT,
    "currency": "NOK",
    "dueDate": "2018-04-03",
    "kid": "5855454756",
    "salePayments": [
        {"paymentId": 2888156, "date": "2018-04-03", "account": "1920:10001", "amount": 34000, "amountInNok": 500000}
    ],
    "paymentDate": "2018-04-03",
}
SPEC_INVOICE = {
    "invoiceId": 2888156,
    "createdDate": "2023-04-03",
    "lastModifiedDate": "2018-04-03",
    "invoiceNumber": 10001,
    "kid": "5855454756",
    "issueDate": "2018-04-03",
    "dueDate": "2018-04-03",
    "originalDueDate": "2018-04-03",
    "net": 25000,
    "vat": 5000,
    "gross": 30000,
    "netInNok": 25000,
    "vatInNok": 5000,
    "grossInNok": 30000,
    "cash": True,
    "currency": "NOK",
    "bankAccountNumber": "11112233334",
    "sentManually": False,
    "associatedCreditNotes": [2888157],
    "customer": SPEC_CONTACT,
    "sale": SPEC_SALE,
}
SPEC_CREDIT_NOTE = {
    "creditNoteId": 2888157,
    "creditNoteNumber": 10002,
    "kid": "5855454756",
    "customer": SPEC_CONTACT,
    "net": 25000,
    "vat": 5000,
    "gross": 30000,
    "netInNok": 25000,
    "vatInNok": 5000,
    "grossInNok": 30000,
    "address": SPEC_CONTACT["address"],
    "currency": "NOK",
    "issueDate": "2018-04-03",
    "lastModifiedDate": "2024-04-03",
    "settled": True,
    "associatedInvoiceId": 2888156,
}


class _Url:
    url = "http://fake.local"


def _listed(rows: list[dict[str, Any]]) -> Any:
    """A Fiken list: a bare array, its paging in the four Fiken-Api-* headers."""

    def page(request: Any) -> tuple[int, dict[str, str], str]:
        p, size = int(request.params["page"]), int(request.params["pageSize"])
        headers = {
            "Fiken-Api-Page": str(p),
            "Fiken-Api-Page-Size": str(size),
            "Fiken-Api-Page-Count": str(-(-len(rows) // size)),  # 0 for an empty list
            "Fiken-Api-Result-Count": str(len(rows)),
        }
        return 200, headers, json.dumps(rows[p * size : (p + 1) * size])

    return page


def _fetch(tmp_path: Path, invoices: list[dict[str, Any]], notes: list[dict[str, Any]] | None = None) -> Any:
    responses.add_callback(responses.GET, f"{FK}/contacts", callback=_listed([SPEC_CONTACT]))
    responses.add_callback(responses.GET, f"{FK}/invoices", callback=_listed(invoices))
    responses.add_callback(responses.GET, f"{FK}/creditNotes", callback=_listed(notes or []))
    auth = http.StaticAuth({"Authorization": "Bearer fiken-spec-token-123"})
    source = FikenSource("acme", http.ApiClient("fiken", "http://fake.local/api/v2", auth, "fk"), "fiken-as")
    ctx = SyncContext(client=client_for("fiken", _Url(), tmp_path), as_of=date(2026, 7, 2), now=datetime.now(UTC))
    return source.fetch(ctx)


@responses.activate
def test_the_specs_example_invoice_credit_note_payment_and_contact_are_read(tmp_path: Path) -> None:
    batch = _fetch(tmp_path, [SPEC_INVOICE], [SPEC_CREDIT_NOTE])
    assert not batch.errors and batch.complete_snapshot is not None
    (customer,) = batch.customers
    assert (customer.customer_id, customer.name, customer.org_no, customer.email) == (
        "2747365",
        "Fiken AS",
        "913312465",
        "kontakt@fiken.gmail",
    )
    assert (customer.address, customer.postal_code, customer.city, customer.country) == (
        ("Karl Johan 34",),
        "0550",
        "Oslo",
        "NO",
    )
    invoice, note = sorted(batch.invoices, key=lambda i: i.number)
    # Øre: gross 30000 is 300.00; the sale is settled, so nothing is outstanding whatever the balance says.
    assert (invoice.number, invoice.amount, invoice.currency, invoice.kid) == (
        "10001",
        Decimal("300.00"),
        "NOK",
        "5855454756",
    )
    assert (invoice.issue_date, invoice.due_date, invoice.ledger_open_amount) == (
        date(2018, 4, 3),
        date(2018, 4, 3),
        Decimal("0.00"),
    )
    assert (note.kind.value, note.number, note.amount, note.credits) == (
        "credit_note",
        "10002",
        Decimal("300.00"),
        ("10001",),
    )
    (payment,) = batch.payments
    assert (payment.invoice_number, payment.bank_ref, payment.booking_date) == ("10001", "2888156", date(2018, 4, 3))
    assert (payment.amount, payment.currency) == (Decimal("340.00"), "NOK")


@responses.activate
def test_a_foreign_currency_sale_is_outstanding_in_its_own_currency_not_in_nok(tmp_path: Path) -> None:
    """outstandingBalance is in NOK (as totalPaid); outstandingBalanceInCurrency in the sale's currency."""
    sale = {**SPEC_SALE, "settled": False, "currency": "EUR", "outstandingBalance": 1150000}
    sale["outstandingBalanceInCurrency"] = 100000
    eur = {**SPEC_INVOICE, "currency": "EUR", "gross": 120000, "grossInNok": 1380000, "sale": sale}
    batch = _fetch(tmp_path, [eur])
    (invoice,) = batch.invoices
    assert (invoice.currency, invoice.amount, invoice.ledger_open_amount) == (
        "EUR",
        Decimal("1200.00"),
        Decimal("1000.00"),
    )


@responses.activate
def test_a_foreign_currency_sale_without_its_own_outstanding_leaves_it_unknown(tmp_path: Path) -> None:
    """Never a NOK figure read as euros: without outstandingBalanceInCurrency the open amount is not
    known (payments decide it), and the invoice stays watched as open."""
    sale = {k: v for k, v in SPEC_SALE.items() if k != "outstandingBalanceInCurrency"}
    sale.update(settled=False, currency="EUR", outstandingBalance=1150000)
    eur = {**SPEC_INVOICE, "currency": "EUR", "gross": 120000, "sale": sale}
    batch = _fetch(tmp_path, [eur])
    (invoice,) = batch.invoices
    assert (invoice.currency, invoice.ledger_open_amount) == ("EUR", None)
    assert batch.cursor["open"] == {"10001": "2888156"} and batch.cursor["sales"] == {"2888156": "2888156"}


@responses.activate
def test_an_empty_list_has_a_page_count_of_0_and_is_complete(tmp_path: Path) -> None:
    batch = _fetch(tmp_path, [])
    assert batch.invoices == [] and not batch.errors and batch.complete_snapshot is not None
    assert len([c for c in responses.calls if "/invoices" in str(c.request.url)]) == 1


# ---- against the fake built from the spec ----------------------------------------------------------


def test_a_part_paid_foreign_currency_invoice_keeps_its_currency_and_outstanding(tmp_path: Path) -> None:
    world = realistic()
    eur = world.add_invoice(10060, world.customers[0], date(2026, 9, 1), Decimal("1200.00"), "0001006056", "EUR")
    eur.rate = Decimal("11.50")  # the client's books are in NOK: the sale's outstandingBalance is NOK
    world.pay(10060, Decimal("200.00"), date(2026, 9, 20))
    with FakeFiken(world) as fake:
        store = _store(tmp_path)
        assert sync(store, client_for("fiken", fake, tmp_path)).ok
    facts = store.read(load_facts, "acme")
    inv = next(i for i in facts.invoices if i.number == "10060")
    assert (inv.currency, inv.amount, inv.ledger_open_amount) == ("EUR", Decimal("1200.00"), Decimal("1000.00"))
    [pay] = [p for p in facts.payments if p.invoice_number == "10060"]
    assert (pay.currency, pay.amount) == ("EUR", Decimal("200.00"))


def test_the_phone_number_comes_from_the_contact_person(tmp_path: Path) -> None:
    """A contact's own phoneNumber is write-only: Fiken never answers it."""
    world = realistic()
    world.customers[0].phone = "98573564"
    with FakeFiken(world) as fake:
        store = _store(tmp_path)
        assert sync(store, client_for("fiken", fake, tmp_path)).ok
    phones = {c.org_no: c.phone for c in store.read(load_facts, "acme").customers.values()}
    assert phones == {"913312465": "98573564", "923456783": None}


def test_a_long_fee_text_is_booked_within_the_200_characters_fikens_flag_leaves(tmp_path: Path) -> None:
    """Fiken writes "Fri postering registrert via API: " in front of the description, and the whole must
    fit in 200 characters; the reference that finds the entry again stays whole."""
    world = realistic()
    text = "Reminder fee, invoice 10045 (" + "purring " * 30 + ")"
    charge = LedgerBooking(
        "arsync-0123456789abcdef01234567",
        date(2026, 11, 20),
        str(world.customers[1].id),
        "10045",
        "8070",
        Decimal("37.50"),
        "NOK",
        text,
    )
    fake = FakeFiken(world)
    with fake:
        source = api_ledger(client_for("fiken", fake, tmp_path))
        booked = source.book(charge)
        assert source.find_booking(charge) == booked
        [entry] = fake.journal_entries
    assert entry["description"].startswith("Fri postering registrert via API: [arsync-0123456789abcdef01234567] ")
    assert len(entry["description"]) <= 200
    assert entry["lines"] == [{"amount": 3750, "debitAccount": "1500:10018", "creditAccount": "8070"}]
