"""The real Nets OCR giro file (../shared/testdata/bank, read in place) beside camt files that write the same
creditor account as an IBAN, as Norwegian banks' camt files often do: one account, each payment counted once.

The OCR file's assignment account is 99991042764; its first transaction pays 1020.00 NOK with KID 0000531
(MOD11), booked 1992-01-20. ``NO9799991042764`` is the IBAN of that account.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from bank_testdata import TESTDATA

from tests.builders import Entry, Workspace, client_table, kid

OCR_FILE = TESTDATA / "ocr_giro_transactions.txt"
IBAN = "NO9799991042764"
BOOKED = date(1992, 1, 20)


@pytest.fixture
def ocr_folder() -> Path:
    if not OCR_FILE.is_file():
        pytest.skip(f"shared bank test data not found at {OCR_FILE} (see shared/testdata/bank/SOURCES.md)")
    return OCR_FILE.parent.resolve()  # the OCR feed reads the folder's *.txt: that file alone


def client(ocr_folder: Path, account: str | None = None) -> dict[str, object]:
    camt = {"kind": "camt", "path": "clients/acme/bank", **({"account": account} if account else {})}
    return client_table(bank=[camt, {"kind": "ocr", "path": str(ocr_folder)}])


def invoices(ws: Workspace) -> None:
    # 20001 is the invoice the OCR file's first payment pays; 20009 is the same customer's, of an amount no
    # payment in the file has (else any payment of that amount the file could not place might be its payment)
    ws.add_invoice("20001", issue=date(1991, 12, 15), due=date(1992, 1, 10), amount="1020.00", kid_value="0000531")
    ws.add_invoice("20009", issue=date(1991, 12, 15), due=date(1992, 1, 10), amount="777.00")


def test_the_same_kid_payment_in_ocr_and_in_a_camt_naming_the_account_by_its_iban_counts_once(
    ws: Workspace, ocr_folder: Path
) -> None:
    ws.write_config(client(ocr_folder))
    invoices(ws)
    ws.add_bank_file("camt054.xml", [Entry("C1", "1020.00", BOOKED, kid="0000531")], created=BOOKED, account=IBAN)
    items = ws.items(date(1992, 1, 22))
    assert items["20001"]["state"] == "settled"
    # counted twice, the OCR copy was 1020.00 paid beyond 20001: a credit holding the customer's 20009
    assert "unallocated_credit" not in items["20009"]["holds"], items["20009"]["evidence"]


def test_an_account_whose_camt_files_name_it_by_its_iban_is_fresh_when_no_ocr_payment_came(
    ws: Workspace, ocr_folder: Path
) -> None:
    ws.write_config(client(ocr_folder))
    invoices(ws)
    ws.add_bank_file("camt054-1.xml", [Entry("C1", "1020.00", BOOKED, kid="0000531")], created=BOOKED, account=IBAN)
    assert ws.cli("sync", "--as-of", "1992-01-21").exit_code == 0  # the nights the OCR file came
    ws.add_bank_file("camt054-2.xml", [], created=date(1992, 2, 4), account=IBAN)  # then only the camt
    items = ws.items(date(1992, 2, 5))
    assert "bank_data_stale" not in items["20009"]["holds"], items["20009"]["evidence"]


def test_a_configured_account_takes_its_camt_files_written_with_the_iban(ws: Workspace, ocr_folder: Path) -> None:
    ws.write_config(client(ocr_folder, account="9999.10.42764"))
    invoices(ws)
    ws.add_bank_file("camt054.xml", [Entry("C1", "1020.00", BOOKED, kid="0000531")], created=BOOKED, account=IBAN)
    paid = Entry("C2", "777.00", date(1992, 1, 21), kid=kid("20009"))
    ws.add_bank_file("camt054-2.xml", [paid], created=date(1992, 1, 21), account=IBAN)
    items = ws.items(date(1992, 1, 22))
    assert (items["20001"]["state"], items["20009"]["state"]) == ("settled", "settled")
    assert "bank_data_stale" not in items["20009"]["holds"]
