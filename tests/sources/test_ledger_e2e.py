"""End to end: each accounting system's fake on 127.0.0.1, through ``pipeline.sync_client`` into a
real SQLite store. Auth flows, paging, faults, incremental runs, equivalence with EHF."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.model import DocKind
from connector.reconcile import reconcile
from connector.sources.base import SyncContext
from connector.sources.ehf import EhfFolderSource
from connector.store import Store
from connector.store.facts import load_facts
from connector.store.sync import record_sync, sync_status
from tests.fakes.ledger_world import World, realistic, ubl
from tests.fakes.ledgers import FAKES, SECRETS, Fault
from tests.sources.ledger_helpers import client_for, fast_http, state, sync

KINDS = ["tripletex", "fiken", "poweroffice", "economic"]
# What the realistic world leaves open (principal): partly paid, settled, credited, open.
EXPECTED_OPEN = {
    "10042": Decimal("5000.00"),
    "10043": Decimal("0.00"),
    "10044": Decimal("0.00"),
    "10045": Decimal("8750.50"),
}


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> Any:
    with fast_http(monkeypatch) as waits:
        yield waits


def _store(tmp_path: Path, name: str = "a") -> Store:
    return Store(f"sqlite:///{tmp_path / name}.db")


def _open_amounts(store: Store, client_id: str) -> dict[str, Decimal]:
    facts = store.read(load_facts, client_id)
    recon = reconcile(facts.invoices, facts.payments)
    return {n: recon.open_amount[n] for n in EXPECTED_OPEN}


@pytest.mark.parametrize("kind", KINDS)
def test_full_sync_lands_the_realistic_ledger(kind: str, tmp_path: Path) -> None:
    with FAKES[kind](realistic()) as fake:
        store = _store(tmp_path)
        client = client_for(kind, fake, tmp_path, page_size=2)  # small pages: paging is exercised
        report = sync(store, client)
        assert report.ok, report.errors
        facts = store.read(load_facts, client.id)
        assert {c.org_no for c in facts.customers.values()} == {"913312465", "923456783"}
        kinds = {(i.number, i.kind) for i in facts.invoices}
        assert ("10051", DocKind.CREDIT_NOTE) in kinds and ("10042", DocKind.INVOICE) in kinds
        assert _open_amounts(store, client.id) == EXPECTED_OPEN
        paid = {(p.invoice_number, p.amount) for p in facts.payments}  # e-conomic: its customerPayment entries
        assert paid == {("10042", Decimal("7500.00")), ("10043", Decimal("3000.00"))}
        assert store.read(sync_status, client.id)["ledger"].cursor["system"] == kind


@pytest.mark.parametrize("kind", KINDS)
def test_same_canonical_rows_as_ehf(kind: str, tmp_path: Path) -> None:
    world = realistic()
    folder = tmp_path / "ehf"
    folder.mkdir()
    for d in world.docs:
        (folder / f"{d.number}.xml").write_text(ubl(d), encoding="utf-8")
    with FAKES[kind](world) as fake:
        client = client_for(kind, fake, tmp_path)
        store = _store(tmp_path)
        assert sync(store, client).ok
        facts = store.read(load_facts, client.id)
    ctx = SyncContext(client=client, as_of=date(2026, 11, 20), now=datetime.now(UTC))
    ehf = EhfFolderSource(folder).fetch(ctx)
    assert not ehf.errors, ehf.errors

    # e-conomic's booked invoices carry neither a payment reference nor a credit-note link.
    linkless = kind == "economic"

    def rows(invoices: Any, org_of: dict[str, str]) -> set[tuple[Any, ...]]:
        # customer ids differ by design (org no in EHF, the system's id in APIs): compare by org no
        return {
            (
                i.number,
                i.kind,
                org_of[i.customer_id],
                i.issue_date,
                i.due_date if i.kind is DocKind.INVOICE else None,
                i.currency,
                i.amount,
                None if linkless else (i.kid or None),
                () if linkless else i.credits,
            )
            for i in invoices
        }

    api_rows = rows(facts.invoices, {c.customer_id: c.org_no for c in facts.customers.values()})
    ehf_rows = rows(ehf.invoices, {c.customer_id: c.org_no for c in ehf.customers})
    assert api_rows == ehf_rows


# The requests an incremental night needs after one payment, one new invoice and one credit note:
# the change-filtered lists, the small open-item set, and a re-read of what left the open set.
NIGHTLY = {
    # Invoices whose open posts changed, by id; the new one and the credit note, from a date.
    "tripletex": ["/v2/customer", "/v2/invoice", "/v2/invoice", "/v2/ledger/posting/openPost"],
    # Contacts, sales, invoices and credit notes changed since (the new credit note among them, so not
    # read again through the invoice it credits); the paid invoice through its changed sale.
    # (Fiken addresses them by id: "{n}" stands for the id of document number n.)
    "fiken": [
        f"/api/v2/companies/nordlys-ror-as/{p}"
        for p in ("contacts", "creditNotes", "invoices", "invoices/{10042}", "sales")
    ],
    # The ledger entries changed since the last run name the invoices to re-read (one invoiceNos list).
    "poweroffice": ["/v2/Customerledger/Statement", "/v2/Customers", "/v2/OutgoingInvoices"],
    # The entries booked since the last run and the unpaid list; what left the unpaid list or was
    # booked since (the credit note) is re-read by number.
    "economic": [
        "/accounting-years/2026/entries",
        "/customers",
        "/invoices/booked/10042",
        "/invoices/booked/10045",
        "/invoices/booked/10052",
        "/invoices/unpaid",
    ],
}


@pytest.mark.parametrize("kind", KINDS)
def test_second_night_makes_only_the_needed_requests_and_equals_a_full_resync(kind: str, tmp_path: Path) -> None:
    world = realistic()
    with FAKES[kind](world) as fake:
        client = client_for(kind, fake, tmp_path)
        store = _store(tmp_path, "nightly")
        assert sync(store, client).ok
        first = len(fake.log)
        # A few upstream changes: a payment, a new invoice, a credit note on an open invoice.
        world.pay(10042, Decimal("5000.00"), date.today())
        world.add_invoice(10046, world.customers[0], date.today(), Decimal("990.00"), "0001004641")
        world.credit(10052, 10045, date.today())
        fake.reset_log()
        assert sync(store, client).ok
        second = len(fake.log)
        fake_paths = sorted(fake.requests())
        incremental = state(store, client.id)

        fresh = _store(tmp_path, "fresh")
        assert sync(fresh, client_for(kind, fake, tmp_path)).ok
        full = state(fresh, client.id)
    ids = {str(d.number): str(d.id) for d in world.docs}
    expected = sorted(re.sub(r"\{(\d+)\}", lambda m: ids[m.group(1)], p) for p in NIGHTLY[kind])
    assert fake_paths == expected, fake_paths
    assert second == len(NIGHTLY[kind]) and first >= 2
    assert incremental == full
    assert store.read(load_facts, client.id).sync["ledger"].cursor["full_on"] == date.today().isoformat()


@pytest.mark.parametrize("kind", KINDS)
def test_full_resync_closes_documents_that_vanished_upstream(kind: str, tmp_path: Path) -> None:
    world = realistic()
    with FAKES[kind](world) as fake:
        client = client_for(kind, fake, tmp_path, full_resync_days=1)
        store = _store(tmp_path)
        assert sync(store, client).ok
        world.doc(10045).deleted = True  # reversed/deleted upstream: change filters never see it
        cur = store.read(sync_status, client.id)["ledger"].cursor
        cur["full_on"] = (date.today() - timedelta(days=3)).isoformat()  # the weekly full run is due
        with store.transaction() as conn:
            record_sync(conn, client.id, "ledger", ok=True, cursor=cur, at=store.now())
        assert sync(store, client).ok
    inv = {i.number: i for i in store.read(load_facts, client.id).invoices if i.kind is DocKind.INVOICE}
    assert inv["10045"].ledger_open_amount == 0
    assert _open_amounts(store, client.id)["10045"] == 0


FAULTS = ["429", "429-after", "500", "502", "503", "timeout", "drop", "html", "badjson", "expire"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fault", FAULTS)
def test_transient_faults_are_retried_and_the_sync_completes(kind: str, fault: str, tmp_path: Path, _fast: Any) -> None:
    world = realistic()
    with FAKES[kind](world) as fake:
        client = client_for(kind, fake, tmp_path, page_size=2)
        store = _store(tmp_path)
        # Hit the second page of the invoice list (mid-sync, after auth and customers).
        path = {
            "tripletex": "/invoice",
            "fiken": "/invoices",
            "poweroffice": "/OutgoingInvoices",
            "economic": "/invoices/booked",
        }[kind]
        fake.faults.append(Fault(fault, path, times=1))
        report = sync(store, client)
        if fault == "expire" and kind in ("fiken", "economic"):
            # Static tokens cannot be renewed: the client fails cleanly, nothing half-written.
            assert not report.ok and "401" in report.errors[0]
            assert store.read(load_facts, client.id).invoices == ()
            return
        assert report.ok, report.errors
        assert _open_amounts(store, client.id) == EXPECTED_OPEN
    if fault == "429-after":
        assert 2.0 in _fast.asked  # Retry-After: 2 was honoured (recorded, not slept, in tests)


@pytest.mark.parametrize("kind", KINDS)
def test_persistent_failure_fails_the_client_cleanly_and_keeps_the_previous_state(kind: str, tmp_path: Path) -> None:
    world = realistic()
    with FAKES[kind](world) as fake:
        client = client_for(kind, fake, tmp_path, page_size=2)
        store = _store(tmp_path)
        assert sync(store, client).ok
        before = state(store, client.id)
        cursor = store.read(sync_status, client.id)["ledger"].cursor
        world.pay(10045, Decimal("100.00"), date.today())
        fake.faults.append(Fault("503", "", times=50))  # down for the whole run
        report = sync(store, client)
        assert not report.ok
        status = store.read(sync_status, client.id)["ledger"]
        assert status.last_error and "503" in status.last_error
        assert status.cursor == cursor  # the bookmark does not move past data we never stored
        assert state(store, client.id) == before  # never a half-written ledger


def test_wrong_credentials_fail_with_a_redacted_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with FAKES["fiken"](realistic()) as fake:
        monkeypatch.setenv("FIKEN_TOKEN", "wrong-token-value-0000")
        store = _store(tmp_path)
        report = sync(store, client_for("fiken", fake, tmp_path))
    assert not report.ok and "401" in report.errors[0]
    text = " ".join(report.errors) + caplog.text + str(store.read(sync_status, "acme")["ledger"].last_error)
    assert "wrong-token-value-0000" not in text


@pytest.mark.parametrize("kind", KINDS)
def test_no_secret_reaches_logs_errors_or_the_store(
    kind: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with FAKES[kind](realistic()) as fake:
        fake.faults.extend([Fault("500"), Fault("expire"), Fault("503", times=10)])
        store = _store(tmp_path)
        report = sync(store, client_for(kind, fake, tmp_path))
        session_tokens = set(getattr(fake, "valid_tokens", set()))
    dump = (
        Path(str(store.engine.url.database)).read_bytes().decode("latin-1")
        + caplog.text
        + " ".join(report.errors + report.warnings)
    )
    for secret in (*SECRETS, *session_tokens):
        if kind != "economic" or secret not in ("economic-grant-888888",):
            assert secret not in dump, secret


@pytest.mark.parametrize("kind", ["tripletex", "poweroffice"])
def test_expired_session_mid_sync_reauthenticates_once(kind: str, tmp_path: Path) -> None:
    with FAKES[kind](realistic()) as fake:
        client = client_for(kind, fake, tmp_path, page_size=2)
        fake.faults.append(Fault("expire", "/Customer" if kind == "poweroffice" else "/invoice"))
        store = _store(tmp_path)
        assert sync(store, client).ok
        auth_calls = [p for p in fake.requests() if "token/session/:create" in p or "OAuth/Token" in p]
    assert len(auth_calls) == 2  # the first session, and one renewal after the 401


def test_fiken_never_has_two_requests_in_flight(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with fast_http(monkeypatch, real_limits=True), FAKES["fiken"](realistic(), latency=0.01) as fake:
        clients = [client_for("fiken", fake, tmp_path, client_id=f"c{i}", page_size=2) for i in range(4)]
        store = _store(tmp_path)
        with ThreadPoolExecutor(4) as pool:
            reports = list(pool.map(lambda c: sync(store, c), clients))
        assert all(r.ok for r in reports)
        assert fake.max_in_flight == 1  # one token: one request at a time
        assert fake.peak_rate() <= 4


def test_world_helpers_are_consistent() -> None:
    w: World = realistic()
    assert sum(d.open for d in w.docs if d.kind == "invoice") == Decimal("13750.50")
