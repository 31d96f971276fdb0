"""Absurd amounts are refused where they enter, the rest of the file goes on (issue 13, item 3, the door).

Every case of ``absurd_amounts`` is tried in camt, UBL and CII (OCR amounts are whole øre: only their
size can be absurd, see test_hostile_bank). The defensive read from the store is a later step.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hostile_corpus import AmountCase, absurd_amounts, camt_file, cii_invoice, ubl_invoice

from connector.bank.camt import CamtHeader, iter_camt
from connector.einvoice.document import EDocument
from connector.einvoice.read import DocumentError, read_document
from tests.builders import Workspace, client_table, kid

CASES = absurd_amounts()
IDS = [f"{c.text[:20]} {c.currency}" for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_camt_refuses_the_record_and_reads_the_rest(case: AmountCase) -> None:
    data = camt_file([(case.text, case.currency, [case.text]), ("120.00", "NOK", ["100.00", "20.00"])])
    head = CamtHeader()
    payments = list(iter_camt(data, "camt054-hostile.xml", head))
    good = [p for p in payments if p.bank_ref == "E000002"]
    assert [p.amount for p in good] == [Decimal("100.00"), Decimal("20.00")]  # the rest of the file goes on
    suspect = [p for p in payments if p.bank_ref == "E000001"]
    if case.refused:
        assert suspect == []
        (line,) = head.refused
        assert line.startswith("camt054-hostile.xml: entry 1") and ": Amt " in line and "refused" in line
    else:
        assert head.refused == []
        assert [p.amount for p in suspect] == [Decimal(case.text)]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_refused_transaction_does_not_take_its_entry_with_it(case: AmountCase) -> None:
    data = camt_file([("120.00", case.currency, ["100.00", case.text, "20.00"])])
    head = CamtHeader()
    payments = list(iter_camt(data, "c.xml", head))
    if case.refused:
        assert [p.amount for p in payments] == [Decimal("100.00"), Decimal("20.00")]
        (line,) = head.refused
        assert line.startswith("c.xml: entry 1 transaction 2: Amt ")
    else:
        assert len(payments) == 3 and head.refused == []


@pytest.mark.parametrize("syntax", ["ubl", "cii"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_an_e_invoice_with_an_absurd_payable_amount_is_refused(syntax: str, case: AmountCase) -> None:
    build, field = (ubl_invoice, "PayableAmount") if syntax == "ubl" else (cii_invoice, "DuePayableAmount")
    data = build("7001", case.text, case.currency)
    if case.refused:
        with pytest.raises(DocumentError) as exc:
            read_document(data, "7001.xml")
        assert str(exc.value).startswith("7001.xml: ") and field in str(exc.value)
    else:
        doc = read_document(data, "7001.xml")
        assert isinstance(doc, EDocument) and doc.payable == Decimal(case.text)


def test_the_limit_is_the_clients(tmp_path: Path) -> None:
    data = camt_file([("2000.00", "NOK", ["2000.00"])])
    head = CamtHeader()
    assert list(iter_camt(data, "c.xml", head, max_amount=Decimal("1000"))) == []
    assert "larger than the limit of 1000" in head.refused[0]


ISSUE = date(2026, 6, 1)
DUE = date(2026, 6, 15)
REMIND = DUE + timedelta(days=14)


def test_one_absurd_amount_no_longer_disables_the_client(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="1000.00")
    ws.add_invoice("1002", issue=ISSUE, due=DUE, amount="500.00")
    (ws.ehf_dir() / "1003.xml").write_bytes(ubl_invoice("1003", "1E+30"))
    ws.bank_heartbeat(REMIND - timedelta(days=1))
    # 1002 paid with a 5-decimal amount that rounds to 500.00; another payment with an exponent.
    camt = camt_file([("499.99999", "NOK", ["499.99999"]), ("1E+30", "NOK", ["1E+30"])], created=REMIND)
    camt = re.sub(rb"<Ref>\d+</Ref>", b"<Ref>" + kid("1002").encode() + b"</Ref>", camt, count=1)
    (ws.bank_dir() / "camt054-poisoned.xml").write_bytes(camt)
    result = ws.cli("run", "--as-of", REMIND.isoformat())
    assert "1003.xml: 1003: PayableAmount 1E+30" in result.output
    assert "camt054-poisoned.xml: entry 1" in result.output and "camt054-poisoned.xml: entry 2" in result.output
    items = ws.items(REMIND, "--no-sync")  # every later read works: nothing absurd was stored
    assert "1003" not in items
    assert items["1002"]["open_amount"] == "500.00"  # never settled by a rounded 499.99999
    assert items["1002"]["action"] == "hold"  # the bank file counts as unread until corrected or quarantined
    assert "bank_data_stale" in items["1002"]["holds"]
    # 1003.xml is clearly an invoice: it cannot settle another invoice, so it holds nothing else (issue 14)
    assert not {"ledger_stale", "unreadable_document"} & set(items["1002"]["holds"])
    assert ws.cli("reconcile", "--as-of", REMIND.isoformat(), "--json").exit_code == 0
