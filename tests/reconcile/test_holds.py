"""What matching feeds into the holds, through ``decide()`` on hand-built facts (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from recon_helpers import inv, pay

from connector.config import ClientConfig
from connector.dunning.decide import decide
from connector.model import Action, Decision, Facts, Hold, Payment, PaymentStatus, SyncStatus
from connector.reconcile import reconcile
from connector.references import kid_mod10
from connector.store import Store
from connector.store.facts import load_facts
from connector.store.payments import upsert_payments

D = Decimal
TODAY = date(2024, 4, 2)  # due 2024-03-01: well past the reminder day
K1 = kid_mod10("1001")


def client(bank: list[dict[str, Any]] | None = None, **policy: Any) -> ClientConfig:
    return ClientConfig.model_validate(
        {
            "id": "c",
            "name": "C AS",
            "org_no": "923456783",
            "country": "NO",
            "currency": "NOK",
            "ledger": {"kind": "ehf", "path": "/tmp/ehf"},
            "bank": bank if bank is not None else [{"kind": "camt", "path": "/tmp/bank"}],
            "collection": {"provider": "outbox", "path": "/tmp/out"},
            "creditor": {"bank_account": "15032080119"},  # where a letter asks to be paid (issue 15)
            "policy": {"grace_days": 3, "min_amount": 0, "bank_max_age_days": 3, **policy},
        }
    )


def sync(**accounts: date) -> dict[str, SyncStatus]:
    at = datetime.combine(TODAY, datetime.min.time(), UTC)
    out = {
        "ledger": SyncStatus("ledger", at, at, None, TODAY, None),
        "bank:camt:/tmp/bank": SyncStatus("bank:camt:/tmp/bank", at, at, None, TODAY, None),
    }
    for account, through in accounts.items():
        key = f"bank-account:{account.lstrip('_')}"
        out[key] = SyncStatus(key, at, at, None, through, None)
    return out


def decide_one(
    payments: list[Payment], cfg: ClientConfig | None = None, sync_state: dict[str, SyncStatus] | None = None
) -> Decision:
    cfg = cfg or client()
    facts = Facts("c", {}, (inv("1001", "A", "500.00", K1),), tuple(payments), (), (), (), (), sync_state or sync())
    recon = reconcile(facts.invoices, facts.payments, tolerance=cfg.policy.payment_tolerance)
    (d,) = decide(facts, cfg, TODAY, recon)
    return d


def holds_saying(d: Decision, text: str) -> list[str]:
    return [e.detail for e in d.evidence if e.kind == "hold" and text in e.detail]


# -- (c) paid with difference ------------------------------------------------------------------------


def test_paid_with_difference_is_held_with_evidence_never_reminded_never_written_off():
    d = decide_one([pay("R1", "497.00", structured_ref=K1)], client(payment_tolerance="5"))
    assert d.open_amount == D("3.00")  # not written off
    assert d.action is not Action.REMINDER and Hold.PAYMENT_PENDING in d.holds
    (detail,) = holds_saying(d, "paid with difference")
    assert "3.00 NOK" in detail and "never reminded" in detail


def test_a_short_payment_beyond_the_tolerance_is_not_called_paid_with_difference():
    d = decide_one([pay("R1", "400.00", structured_ref=K1)], client(payment_tolerance="5"))
    assert d.open_amount == D("100.00") and not holds_saying(d, "paid with difference")
    assert d.holds == () and d.action is Action.REMINDER  # partly paid: the rest is reminded (issue 14)


def test_a_full_payment_leaves_nothing_to_hold():
    d = decide_one([pay("R1", "500.00", structured_ref=K1)], client(payment_tolerance="5"))
    assert d.open_amount == D("0.00") and d.holds == ()


# -- (d) bank_data_stale per account -----------------------------------------------------------------


def test_unpaid_invoice_is_reminded_when_every_account_is_fresh():
    d = decide_one([], sync_state=sync(_15030012345=TODAY, _15030099999=TODAY - timedelta(days=3)))
    assert d.action is Action.REMINDER and d.holds == ()


def test_one_stale_account_holds_even_when_another_feed_is_fresh():
    d = decide_one([], sync_state=sync(_15030012345=TODAY, _15030099999=TODAY - timedelta(days=4)))
    assert d.holds == (Hold.BANK_DATA_STALE,) and d.action is Action.HOLD
    (detail,) = holds_saying(d, "15030099999")
    assert "2024-03-29" in detail


def test_a_configured_account_no_file_ever_covered_holds():
    cfg = client(bank=[{"kind": "camt", "path": "/tmp/bank", "account": "1503 00 12345"}])
    assert decide_one([], cfg, sync()).holds == (Hold.BANK_DATA_STALE,)
    assert decide_one([], cfg, sync(_15030012345=TODAY)).holds == ()


# -- (f) the candidate payments behind a hold, with why ----------------------------------------------


def test_pending_hold_names_the_candidate_payment_and_why():
    p = pay("P1", "500.00", structured_ref=K1, status=PaymentStatus.PENDING)
    d = decide_one([p])
    assert d.open_amount == D("500.00") and Hold.PAYMENT_PENDING in d.holds
    (ev,) = [e for e in d.evidence if e.ref == p.key]
    assert "pending: mod10 reference" in ev.detail and ev.on == p.booking_date


# -- (e) end_to_end_id / return_reason are stored --------------------------------------------------


def test_end_to_end_id_and_return_reason_survive_the_store(tmp_path: Path):
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    p = pay("R9", "750.00", structured_ref=K1, reversal=True, end_to_end_id="E2E-1", return_reason="AC04 Tilbakeført")
    with store.transaction() as conn:
        upsert_payments(conn, [p])
    with store.transaction() as conn:  # idempotent: the same payment again changes nothing
        upsert_payments(conn, [p])
    (back,) = store.read(load_facts, "c").payments
    assert back == p
    store.close()
