"""The night's decisions read back from the store (``connector.store.decisions.night_decisions``): what
``arsync run --queue --wait`` prints in place of the decisions a job's report no longer carries. They must
come back as the run made them and in the order ``arsync run`` prints them, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from connector.dunning.decide import sort_decisions
from connector.model import Action, Decision, DocKind, Evidence, Hold, Invoice, State
from connector.store import Store
from connector.store.decisions import night_decisions, save_decisions, saved_night
from connector.store.ledger import upsert_invoices
from tests.queue.night_env import BASE_URL, scratch_database

AS_OF = date(2026, 11, 20)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 'store.db'}")
        yield s
        s.close()
        return
    if not BASE_URL:
        pytest.skip("set ARSYNC_TEST_POSTGRES_URL to read the decisions back from PostgreSQL too")
    # a Norwegian collation (as a server set up in Norway has): not the order `arsync run` prints in
    norwegian = "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'nb-NO' LOCALE 'C.UTF-8'"
    with scratch_database(options=norwegian) as url:
        s = Store(url)
        yield s
        s.close()


def _night() -> list[Decision]:
    """Invoice numbers whose order by code point differs from a locale's (case, digits, letters past z),
    shared due dates, an invoice without one, a settled one, holds and every kind of evidence field."""
    due = [date(2026, 10, 1), None, date(2026, 10, 1), date(2026, 9, 1), date(2026, 10, 1), date(2026, 9, 1)]
    numbers = ["b-7", "10", "B-7", "9", "Ø-1", "100"]
    out = []
    for i, (number, on) in enumerate(zip(numbers, due, strict=True)):
        amount = Decimal("1250.50") + i
        evidence = (
            Evidence("invoice", "issued via ehf", f"{number}.xml", amount, on),
            Evidence("payment", "KID match, «partial»", None, Decimal("250.00"), date(2026, 10, 3)),
            Evidence("hold", "the customer disputes it"),
        )
        settled = i == 3
        out.append(
            Decision(
                "acme",
                number,
                f"K{i % 2}",
                "NOK" if i % 3 else "SEK",
                amount,
                Decimal("0.00") if settled else amount - Decimal("250.00"),
                on,
                State.SETTLED if settled else State.OVERDUE,
                Action.NONE if settled else (Action.REVIEW if i % 2 else Action.REMINDER),
                () if settled or not i % 2 else (Hold.DISPUTED, Hold.PARTLY_PAID),
                evidence,
                None if settled else Action.REMINDER,
            )
        )
    return sort_decisions(out)


def _invoices(decisions: list[Decision]) -> list[Invoice]:
    return [
        Invoice(
            "acme",
            d.invoice_number,
            DocKind.INVOICE,
            d.customer_id,
            date(2026, 8, 1),
            d.due_date,
            d.currency,
            d.amount,
            "ehf",
        )
        for d in decisions
    ]


def test_the_night_comes_back_as_decided_in_the_order_run_prints_it(store: Store) -> None:
    decided = _night()
    with store.transaction() as conn:
        upsert_invoices(conn, _invoices(decided))
        # a credit note of the same number is no decision's invoice: it must not double a row
        upsert_invoices(conn, [replace(_invoices(decided)[0], kind=DocKind.CREDIT_NOTE)])
    store.write(save_decisions, "acme", AS_OF, decided)

    with store.connect() as conn:
        back = list(night_decisions(conn, "acme", AS_OF))
        assert saved_night(conn, "acme") == (AS_OF, len(decided))
        assert list(night_decisions(conn, "acme", date(2026, 11, 21))) == []  # another night's: none
        assert saved_night(conn, "other") == (None, 0)
    # next_step is not stored (nothing prints it); everything else is as the run made it, in its order
    assert back == [replace(d, next_step=None) for d in decided]
    assert [d.as_json() for d in back] == [d.as_json() for d in decided]
    assert [d.invoice_number for d in back][:3] == ["10", "100", "9"]  # no due date first, then by code point
