"""Waiting document events (an Invoice Response or MLR whose document is not stored yet) are linked when a
later sync brings what they quote, or a later batch of the same sync, and linking while one waits costs no
more for a client with many invoices than for one with few.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from connector.model import ENVELOPE, INVOICE_RESPONSE, MLR, DocKind, DocumentEvent, Invoice
from connector.store import Store
from connector.store.conflicts import store_invoices
from connector.store.documents import settle_events, store_events
from connector.store.facts import load_facts

DAY = date(2026, 5, 2)
AT = datetime(2026, 5, 2, 6, 0, tzinfo=UTC)


def _invoice(number: str) -> Invoice:
    return Invoice("acme", number, DocKind.INVOICE, "c1", DAY, DAY, "NOK", Decimal("100.00"), "ehf", source_ref=number)


def _response(key: str, number: str, code: str = "UQ") -> DocumentEvent:
    return DocumentEvent("acme", key, INVOICE_RESPONSE, code, DAY, number, "380")


def _store_batch(conn: object, invoices: list[Invoice], events: list[DocumentEvent]) -> None:
    """As a sync of one batch stores it and then links (``pipeline.store_fetched``)."""
    store_invoices(conn, "acme", invoices, at=AT)  # type: ignore[arg-type]
    store_events(conn, "acme", events)  # type: ignore[arg-type]


def _events(store: Store) -> dict[str, tuple[str | None, str]]:
    return {e.event_key: (e.invoice_number, e.detail) for e in store.read(load_facts, "acme").document_events}


def test_a_response_waits_for_its_invoice_and_is_linked_by_the_sync_that_brings_it(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/a.db")
    with store.transaction() as conn:
        _store_batch(conn, [_invoice("1")], [_response("ir-2", "2"), _response("ir-9", "9")])
    assert _events(store) == {
        "ir-2": (None, "referenced invoice 2 is unknown"),
        "ir-9": (None, "referenced invoice 9 is unknown"),
    }
    with store.transaction() as conn:  # another sync: invoice 2 arrives, 9 still not
        _store_batch(conn, [_invoice("2"), _invoice("3")], [])
    assert _events(store) == {"ir-2": ("2", ""), "ir-9": (None, "referenced invoice 9 is unknown")}
    store.close()


def test_an_mlr_waits_for_its_envelope_and_is_linked_by_the_sync_that_brings_it(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/a.db")
    mlr = DocumentEvent("acme", "mlr-1", MLR, "RE", DAY, "ENV-1")
    with store.transaction() as conn:
        _store_batch(conn, [], [mlr])
    assert _events(store)["mlr-1"] == (None, "no sent document with SBDH InstanceIdentifier ENV-1 is known")
    envelope = DocumentEvent("acme", "env-1", ENVELOPE, "SENT", DAY, "ENV-1", invoice_number="7")
    with store.transaction() as conn:  # the envelope of invoice 7 (sent in an SBDH) comes in a later sync
        _store_batch(conn, [_invoice("7")], [envelope])
    assert _events(store)["mlr-1"] == ("7", "")
    store.close()


def test_a_response_and_its_invoice_in_different_batches_of_one_sync_are_linked(tmp_path: Path) -> None:
    """A folder is stored in batches in one transaction; the events are linked after the last."""
    store = Store(f"sqlite:///{tmp_path}/a.db")
    with store.transaction() as conn:
        store_events(conn, "acme", [_response("ir-5", "5")], link=False)  # the response in an early batch
        store_invoices(conn, "acme", [_invoice("5")], at=AT)  # its invoice in a later one
        settle_events(conn, "acme")
    assert _events(store) == {"ir-5": ("5", "")}
    store.close()


def _work_to_store_a_part(tmp_path: Path, stored_before: int) -> int:
    """SQLite's work (virtual machine steps) to store and link an event after 200 more invoices, for
    a client with ``stored_before`` invoices stored (each with its envelope event) and an Invoice Response and
    an MLR still waiting."""
    store = Store(f"sqlite:///{tmp_path}/{stored_before}.db")
    # each invoice was sent in an SBDH envelope, as from an access point: an event per invoice
    envelopes = [
        DocumentEvent("acme", f"env-{i}", ENVELOPE, "SENT", DAY, f"E{i}", None, str(i)) for i in range(stored_before)
    ]
    with store.transaction() as conn:
        waiting = [_response("ir-x", "x"), DocumentEvent("acme", "mlr-x", MLR, "RE", DAY, "E-x")]
        _store_batch(conn, [_invoice(str(i)) for i in range(stored_before)], waiting + envelopes)
        part = [_invoice(str(stored_before + i)) for i in range(200)]
        store_invoices(conn, "acme", part, at=AT)
        steps = [0]
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.set_progress_handler(lambda: steps.__setitem__(0, steps[0] + 1) or 0, 1)
        store_events(conn, "acme", [_response(f"ir-{stored_before}", str(stored_before))])
        raw.set_progress_handler(None, 0)
    assert _events(store)[f"ir-{stored_before}"] == (str(stored_before), "")
    assert _events(store)["ir-x"] == (None, "referenced invoice x is unknown")
    store.close()
    return steps[0]


def test_linking_after_a_part_costs_the_same_however_many_invoices_the_client_has(tmp_path: Path) -> None:
    """With one event waiting, every part of a folder read the client's invoices and envelopes whole, and
    wrote every waiting event again: the square of the folder's size. Finding the waiting events must not
    scan the client's events either (an SBDH folder has one per invoice)."""
    small, large = _work_to_store_a_part(tmp_path, 500), _work_to_store_a_part(tmp_path, 20_000)
    assert small > 0 and large < 2 * small, (small, large)
