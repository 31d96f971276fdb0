"""The EHF folder through the real sync: invoices, responses and delivery statuses become facts,
holds follow, re-reading changes nothing, and a bad file never blocks the others."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from einvoice_corpus import peppol_file

from connector.config import ClientConfig
from connector.engine.decisions import decide_client
from connector.model import DocKind, Hold, Invoice
from connector.pipeline import sync_client
from connector.reports.explain import explain
from connector.reports.run import ClientReport
from connector.store import Store
from connector.store.conflicts import store_invoices
from connector.store.documents import unlinked_events
from connector.store.facts import load_facts
from connector.store.ledger import load_attachments

IR = "invoice-response/"
DAY = date(2017, 11, 13)
INSTANCE = "90f14eff-3705-4869-ad3c-caae270a234e"  # the envelope the corpus MLS files answer


def client(folder: Path) -> ClientConfig:
    return ClientConfig.model_validate(
        {
            "id": "acme",
            "name": "The Sellercompany ASA",
            "org_no": "123456785",
            "country": "NO",
            "currency": "NOK",
            "ledger": {"kind": "ehf", "path": str(folder)},
            "collection": {"provider": "outbox", "path": str(folder.parent / "cases")},
        }
    )


def invoice_bytes(number: str = "inv021") -> bytes:
    data = peppol_file("bis3/Norwegian-example-1.xml").read_bytes()
    return data.replace(b"<cbc:ID>TOSL108</cbc:ID>", f"<cbc:ID>{number}</cbc:ID>".encode(), 1)


def in_sbdh(payload: bytes, instance_id: str) -> bytes:
    inner = payload.split(b"?>", 1)[1]
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<StandardBusinessDocument xmlns="http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader">'
        b"<StandardBusinessDocumentHeader><HeaderVersion>1.0</HeaderVersion><DocumentIdentification>"
        b"<InstanceIdentifier>" + instance_id.encode() + b"</InstanceIdentifier></DocumentIdentification>"
        b"</StandardBusinessDocumentHeader>" + inner + b"</StandardBusinessDocument>"
    )


class Env:
    def __init__(self, tmp_path: Path):
        self.folder = tmp_path / "ehf"
        self.folder.mkdir()
        self.client = client(self.folder)
        self.store = Store(f"sqlite:///{tmp_path / 'arsync.db'}")

    def put(self, name: str, data: bytes) -> None:
        (self.folder / name).write_bytes(data)

    def put_corpus(self, name: str, rel: str, *, replace: tuple[bytes, bytes] | None = None) -> None:
        data = peppol_file(rel).read_bytes()
        if replace:
            data = data.replace(*replace)
        self.put(name, data)

    def sync(self, as_of: date = date(2018, 1, 10)) -> ClientReport:
        report = ClientReport(self.client.id)
        sync_client(self.store, self.client, as_of, report)
        assert report.ok, report.errors
        return report

    def holds(self, as_of: date, number: str = "inv021") -> tuple[Hold, ...]:
        decisions = {d.invoice_number: d for d in decide_client(self.store, self.client, as_of)}
        return decisions[number].holds


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(tmp_path)


def test_under_query_opens_a_dispute_and_a_later_accept_closes_it(env: Env) -> None:
    env.put("a-invoice.xml", invoice_bytes())
    env.put_corpus("b-uq.xml", IR + "T111-uc006a-Under query missing information.xml")
    env.sync()
    [dispute] = env.store.read(load_facts, "acme").disputes
    assert (dispute.invoice_number, dispute.source, dispute.opened_on) == (
        "inv021",
        "invoice_response",
        date(2017, 12, 1),
    )
    assert dispute.reason.startswith("UQ REF/PIN [BT-13=PO0001]")
    assert dispute.is_open
    assert Hold.DISPUTED in env.holds(date(2018, 1, 10))

    env.put_corpus("c-ap.xml", IR + "T111-uc003-Invoice is accepted.xml")
    env.sync()
    [dispute] = env.store.read(load_facts, "acme").disputes
    assert dispute.resolved_on == date(2017, 12, 1)
    assert dispute.resolution == "buyer answered Invoice Response AP"
    assert Hold.DISPUTED not in env.holds(date(2018, 1, 10))


def test_rejection_is_a_dispute_that_stays_open(env: Env) -> None:
    env.put("a-invoice.xml", invoice_bytes())
    env.put_corpus("b-re.xml", IR + "T111-uc004b-Rejected requesting reissue.xml")
    env.put_corpus("c-ap.xml", IR + "T111-uc003-Invoice is accepted.xml")
    env.sync()
    [dispute] = env.store.read(load_facts, "acme").disputes
    assert dispute.reason.startswith("RE REF/NIN")
    assert dispute.is_open  # RE is final; a person resolves it
    assert Hold.DISPUTED in env.holds(date(2018, 1, 10))


def test_paid_response_holds_as_buyer_reports_paid(env: Env) -> None:
    env.put("a-invoice.xml", invoice_bytes())
    env.put_corpus("b-pd.xml", IR + "T111-uc007-Payment has been initiated.xml")
    env.sync()
    assert Hold.BUYER_REPORTS_PAID in env.holds(date(2018, 1, 10))
    [ev] = env.store.read(load_facts, "acme").document_events
    assert (ev.kind, ev.code, ev.invoice_number, ev.effective_date) == (
        "invoice_response",
        "PD",
        "inv021",
        date(2017, 12, 30),
    )
    assert not env.store.read(load_facts, "acme").disputes


def test_conditional_accept_moves_the_due_date(env: Env) -> None:
    env.put("a-invoice.xml", invoice_bytes())
    env.put_corpus("b-ca.xml", IR + "T111-uc005-Invoice is conditionally accepted.xml")
    env.sync()
    [ev] = env.store.read(load_facts, "acme").document_events
    assert ev.conditions == (("BT-9", "2018-01-15"),)
    assert Hold.NOT_DUE in env.holds(date(2018, 1, 10))  # the invoice's own due date was 2013-07-20
    assert Hold.NOT_DUE not in env.holds(date(2018, 2, 1))


@pytest.mark.parametrize(
    "rel",
    [
        "T111-uc001-Invoice in process.xml",
        "T111-uc002a-Additional reference data.xml",
        "T111-uc002b-In process but postponed.xml",
        "T111-uc003-Invoice is accepted.xml",
        "T111-uc008-Invoice is accepted by third party.xml",
    ],
)
def test_informational_responses_are_recorded_without_holds(env: Env, rel: str) -> None:
    env.put("a-invoice.xml", invoice_bytes())
    env.put_corpus("b.xml", IR + rel)
    env.sync()
    [ev] = env.store.read(load_facts, "acme").document_events
    assert ev.invoice_number == "inv021" and ev.code in {"IP", "AP"}
    holds = set(env.holds(date(2018, 1, 10)))
    assert not holds & {Hold.DISPUTED, Hold.BUYER_REPORTS_PAID, Hold.NOT_DELIVERED, Hold.NOT_DUE}


def test_mls_rejection_is_not_delivered_until_a_later_positive_status(env: Env) -> None:
    env.put("a-invoice.xml", in_sbdh(invoice_bytes(), INSTANCE))
    env.put_corpus("b-mls-re.xml", "mlr-mls/MessageLevelStatus_Example_RE.xml")
    env.sync()
    facts = env.store.read(load_facts, "acme")
    mls = next(e for e in facts.document_events if e.kind == "mls")
    assert (mls.code, mls.invoice_number, mls.ref_id) == ("RE", "inv021", INSTANCE)
    assert Hold.NOT_DELIVERED in env.holds(date(2025, 3, 12))

    # The corpus AP file has the same id and time; give it a later day, as a re-delivery would have.
    env.put_corpus("c-mls-ap.xml", "mlr-mls/MessageLevelStatus_Example_AP.xml", replace=(b"2025-03-11", b"2025-03-12"))
    env.sync()
    assert Hold.NOT_DELIVERED not in env.holds(date(2025, 3, 13))


def test_mlr_for_an_unknown_envelope_is_kept_with_a_clear_record(env: Env) -> None:
    env.put_corpus("mlr.xml", "mlr-mls/MessageLevelResponse_Example.xml")
    env.sync()
    with env.store.connect() as conn:
        [ev] = unlinked_events(conn, "acme")
    assert (ev.kind, ev.code, ev.ref_id, ev.invoice_number) == ("mlr", "RE", "EnvelopeID-12456789", None)
    assert ev.detail == "no sent document with SBDH InstanceIdentifier EnvelopeID-12456789 is known"


def test_a_waiting_response_is_linked_by_the_next_sync_whatever_stored_its_invoice(env: Env) -> None:
    """Each stored batch tries only the waiting events it could have made linkable; an invoice that reached
    the store another way (a repair, a future path) is found by the full pass every sync ends with."""
    env.put_corpus("pd.xml", IR + "T111-uc007-Payment has been initiated.xml")
    env.sync()
    repaired = Invoice("acme", "inv021", DocKind.INVOICE, "c1", DAY, DAY, "NOK", Decimal("100.00"), "repair")
    with env.store.transaction() as conn:
        store_invoices(conn, "acme", [repaired], at=env.store.now())
        [ev] = unlinked_events(conn, "acme")  # this write alone links nothing
    env.sync()  # nothing new in the folder
    [ev] = env.store.read(load_facts, "acme").document_events
    assert (ev.invoice_number, ev.detail) == ("inv021", "")


def test_response_before_its_invoice_is_linked_later(env: Env) -> None:
    env.put_corpus("pd.xml", IR + "T111-uc007-Payment has been initiated.xml")
    env.sync()
    with env.store.connect() as conn:
        [ev] = unlinked_events(conn, "acme")
    assert ev.detail == "referenced invoice inv021 is unknown"
    env.put("z-invoice.xml", invoice_bytes())
    env.sync()
    [ev] = env.store.read(load_facts, "acme").document_events
    assert (ev.invoice_number, ev.detail) == ("inv021", "")
    assert Hold.BUYER_REPORTS_PAID in env.holds(date(2018, 1, 10))


def test_reminder_is_a_step_not_a_receivable(env: Env) -> None:
    # the corpus reminder's seller (GB983294) made the client (another seller's is refused: test_other_seller)
    env.put_corpus("rem.xml", "ehf/Reminder-Example-with-REM.xml", replace=(b"GB983294", b"123456785"))
    report = env.sync()
    facts = env.store.read(load_facts, "acme")
    assert facts.invoices == ()
    [step] = facts.steps
    assert (step.invoice_number, str(step.step), step.sent_on, step.channel) == (
        "006",
        "reminder",
        date(2017, 11, 13),
        "ehf",
    )
    assert not report.warnings


def test_payment_request_and_purchase_invoice_are_ignored(env: Env) -> None:
    env.put_corpus("pr.xml", "ehf/PaymentRequest-example-1.xml")
    # The client (123456785) as the *buyer* of someone else's invoice: a purchase, never a receivable.
    purchase = invoice_bytes("P-1").replace(b"123456785", b"999888777").replace(b"987654325", b"123456785")
    env.put("purchase.xml", purchase)
    env.sync()
    assert env.store.read(load_facts, "acme").invoices == ()
    with env.store.connect() as conn:
        rows = {
            r.filename: (r.status, r.detail)
            for r in conn.execute(__import__("sqlalchemy").text("select * from seen_files"))
        }
    assert rows["pr.xml"][0] == "ignored" and "Payment Request" in rows["pr.xml"][1]
    assert rows["purchase.xml"] == ("ignored", "P-1: a purchase document (the client is the buyer)")


def test_bad_files_are_reported_and_never_block_the_others(env: Env) -> None:
    env.put("a-empty.xml", b"")
    env.put("b-truncated.xml", invoice_bytes()[:2000])
    env.put("c-xxe.xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')
    env.put("d-catalogue.xml", b'<Catalogue xmlns="urn:oasis:names:specification:ubl:schema:xsd:Catalogue-2"/>')
    env.put("e-invoice.xml", invoice_bytes())
    report = env.sync()
    assert [i.number for i in env.store.read(load_facts, "acme").invoices] == ["inv021"]
    joined = "\n".join(report.warnings)
    assert "a-empty.xml: empty file" in joined
    assert "b-truncated.xml: not well-formed XML" in joined
    assert "c-xxe.xml: DOCTYPE declarations are not accepted" in joined
    assert "d-catalogue.xml: not a recognised e-invoice document" in joined


def test_rereading_an_unchanged_folder_changes_nothing(env: Env) -> None:
    env.put("a-invoice.xml", invoice_bytes())
    env.put_corpus("b-uq.xml", IR + "T111-uc006a-Under query missing information.xml")
    env.sync()
    before = env.store.read(load_facts, "acme")
    report = env.sync()
    after = env.store.read(load_facts, "acme")
    assert (after.invoices, after.disputes, after.document_events) == (
        before.invoices,
        before.disputes,
        before.document_events,
    )
    assert not report.warnings
    assert env.store.read(load_attachments, "acme", "inv021")[0].filename == "Hours-spent.csv"


@pytest.mark.parametrize("ahead", [1, 2, 256])  # files read ahead of parsing: the order never changes
def test_a_file_over_the_size_bound_is_listed_as_failed_and_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ahead: int
) -> None:
    from datetime import UTC, datetime

    from connector.sources import ehf
    from connector.sources.base import SyncContext

    folder = tmp_path / "ehf"
    folder.mkdir()
    small = invoice_bytes("F-1")
    (folder / "a.xml").write_bytes(small)
    big = invoice_bytes("F-2") + b" " * 100
    (folder / "b.xml").write_bytes(big)
    (folder / ".partial.xml").write_bytes(b"<Invoice")  # hidden: not listed at all
    (folder / "notes.txt").write_bytes(b"not an invoice")  # other suffixes are not ours
    (folder / "c.XML").write_bytes(invoice_bytes("F-3"))
    monkeypatch.setattr(ehf, "MAX_FILE_BYTES", len(small) + 50)
    monkeypatch.setattr(ehf, "AHEAD_FILES", ahead)
    now = datetime.now(UTC)
    batch = ehf.EhfFolderSource(folder).fetch(SyncContext(client=client(folder), as_of=now.date(), now=now))
    assert [i.number for i in batch.invoices] == ["F-1", "F-3"]
    assert [(f.name, f.status) for f in batch.files] == [("a.xml", "ok"), ("b.xml", "failed"), ("c.XML", "ok")]
    assert batch.errors == [f"b.xml: {len(big)} bytes is larger than the {len(small) + 50}-byte limit, skipped"]


def test_explain_names_the_envelope_the_invoice_went_out_in_and_its_delivery_status(env: Env) -> None:
    env.put("a-invoice.xml", in_sbdh(invoice_bytes(), INSTANCE))
    env.put_corpus("b-mls-re.xml", "mlr-mls/MessageLevelStatus_Example_RE.xml")
    env.sync()
    as_of = date(2025, 3, 12)
    [decision] = [d for d in decide_client(env.store, env.client, as_of) if d.invoice_number == "inv021"]
    text = " ".join(explain(env.client, env.store.read(load_facts, "acme"), decision, as_of).split())
    assert f"2013-06-30: sent by Peppol in envelope {INSTANCE} (a-invoice.xml)" in text  # was "sent SENT"
    assert "2025-03-11: MLS RE (BV) Rejected due to validation errors" in text
