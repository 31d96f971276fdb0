"""Nets OCR giro files (fixed width, ISO-8859-1) via ``netsgiro``, wrapped for the gaps it has.

- netsgiro rejects a MOD11 KID whose check character is ``-`` and aborts the whole file; we swap
  the ``-`` for a digit before parsing and put the real KID back afterwards.
- ``Transaction.amount`` is always positive: the ``sign`` field and the reversing transaction types
  (18 reversing with KID, 20 reversing with text) are applied here as ``reversal=True``.
- A truncated file makes netsgiro fail with a bare ``AssertionError``; netsgiro never checks the
  control totals. Both are checked here first (:func:`_check_totals`): a file that ends early or whose
  end records (88 per assignment, 89 for the transmission) do not match its records is refused as a
  whole, with the file and the total that does not add up named.
- An amount beyond ``[limits] max_amount`` refuses that record (``OcrFile.refused``); the rest is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import netsgiro
from netsgiro import records as ocr_records
from netsgiro.enums import AssignmentType, ServiceCode

from connector.amounts import DEFAULT_MAX_AMOUNT, amount_problem
from connector.model import Payment, PaymentSource, money

REVERSING_TYPES = frozenset({18, 20})
# Record type 30 (amount item 1): transaction number at 8:15, sign at 31, KID right-aligned at 49:74.
_TX_NUMBER = slice(8, 15)
_SIGN = 31
_KID_END = 73


class OcrError(ValueError):
    pass


@dataclass(frozen=True)
class OcrFile:
    transmission: str
    payments: tuple[Payment, ...]
    total: dict[str, object]  # per assignment number: the total netsgiro computes (for checks)
    refused: tuple[str, ...] = ()  # records not read, one line each (file, record, why)


def _mend(text: str) -> tuple[str, dict[str, str]]:
    """Replace a trailing '-' in KID fields by '0'; return the new text and the KIDs to restore."""
    lines = text.splitlines()
    restore: dict[str, str] = {}
    for i, line in enumerate(lines):
        if len(line) == 80 and line.startswith("NY") and line[6:8] == "30" and line[_KID_END] == "-":
            restore[line[_TX_NUMBER]] = line[49:74].strip()
            lines[i] = line[:_KID_END] + "0" + line[_KID_END + 1 :]
    return "\n".join(lines) + "\n", restore


def read_ocr(data: bytes, name: str = "OCR file", max_amount: Decimal = DEFAULT_MAX_AMOUNT) -> OcrFile:
    try:
        text = data.decode("iso-8859-1")
    except UnicodeDecodeError as exc:  # every byte decodes in Latin-1; kept for clarity
        raise OcrError(f"{name}: {exc}") from None
    mended, restore = _mend(text.replace("\r\n", "\n"))
    try:
        _check_lines(mended, name)
        records: list[Any] = ocr_records.parse(mended)
        _check_totals(records, name)
        transmission = netsgiro.Transmission.from_records(records)
    except OcrError:
        raise
    except ValueError as exc:
        raise OcrError(f"{name}: not a valid Nets OCR giro file: {exc}") from None
    except Exception as exc:  # netsgiro's bare asserts and the like: the file is named, never a traceback
        raise OcrError(f"{name}: not a valid Nets OCR giro file ({exc.__class__.__name__}: {exc})") from None
    payments: list[Payment] = []
    refused: list[str] = []
    totals: dict[str, object] = {}
    for assignment in transmission.assignments:
        totals[str(assignment.number)] = assignment.get_total_amount()
        account = str(assignment.account or "")
        for tx in assignment.transactions:
            if not isinstance(tx, netsgiro.Transaction):  # AvtaleGiro agreements/claims carry no money in
                continue
            number = f"{int(tx.number):07d}"
            problem = amount_problem(tx.amount, "NOK", max_amount)
            if problem:
                refused.append(
                    f"{name}: assignment {assignment.number} transaction {number}: amount {tx.amount} {problem}; "
                    "the record is refused"
                )
                continue
            kid = restore.get(number, tx.kid)
            reversal = int(tx.type) in REVERSING_TYPES or (tx.sign == "-")
            booking: date = tx.date
            payer = str(tx.debit_account) if tx.debit_account and int(tx.debit_account) else None
            payments.append(
                Payment(
                    client_id="",
                    source=PaymentSource.OCR,
                    account=account,
                    bank_ref=f"{transmission.number}/{assignment.number}/{number}",
                    ordinal=0,
                    booking_date=booking,
                    value_date=tx.bank_date,
                    amount=money(tx.amount),
                    currency="NOK",
                    structured_ref=kid.strip() if kid else None,
                    ref_type="KID" if kid else None,
                    free_text=(tx.text or "").strip(),
                    payer_account=payer,
                    reversal=reversal,
                )
            )
    return OcrFile(
        transmission=str(transmission.number), payments=tuple(payments), total=totals, refused=tuple(refused)
    )


def _check_lines(text: str, name: str) -> None:
    """A file cut inside its last record: say so (netsgiro only says a line is not 80 characters)."""
    lines = text.splitlines()
    if len(lines) > 1 and len(lines[-1]) < 80 and all(len(line) == 80 for line in lines[:-1]):
        raise OcrError(
            f"{name}: is truncated: its last record has {len(lines[-1])} of 80 characters; "
            "the file is refused (ask the bank for a complete copy)"
        )


class _Count:
    """Records, transactions and amounts (øre) counted since a start record."""

    def __init__(self) -> None:
        self.records = 1  # the start record
        self.transactions = 0
        self.plain = 0  # every amount as written (always positive)
        self.signed = 0  # reversals and '-' signs subtracted

    def add(self, record: Any) -> None:
        self.records += 1
        if isinstance(record, ocr_records.TransactionAmountItem1):
            self.transactions += 1
            amount = int(record.amount or 0)
            self.plain += amount
            negative = record.sign == "-" or int(record.transaction_type) in REVERSING_TYPES
            self.signed += -amount if negative else amount


def _check_totals(records: list[Any], name: str) -> None:
    """Refuse a file that ends early or whose end records do not add up (netsgiro checks neither)."""

    def refuse(why: str) -> OcrError:
        return OcrError(f"{name}: {why}; the file is refused (ask the bank for a complete copy)")

    if not records or not isinstance(records[0], ocr_records.TransmissionStart):
        raise refuse("does not begin with a transmission start record (type 10)")
    if not isinstance(records[-1], ocr_records.TransmissionEnd):
        raise refuse(f"is truncated: no transmission end record (type 89) after its {len(records)} records")
    whole = _Count()
    current: _Count | None = None
    start: Any = None
    only_giro = True  # amounts and counts are compared for OCR giro transactions; other kinds by records
    for record in records[1:-1]:
        whole.add(record)
        if isinstance(record, ocr_records.AssignmentStart):
            if current is not None:
                raise refuse(f"assignment {start.assignment_number} has no end record (type 88)")
            current, start = _Count(), record
            continue
        if current is None:
            raise refuse(f"a {type(record).__name__} record outside any assignment")
        current.add(record)
        if isinstance(record, ocr_records.AssignmentEnd):
            giro = start.service_code == ServiceCode.OCR_GIRO and start.assignment_type == AssignmentType.TRANSACTIONS
            only_giro = only_giro and giro
            where = f"assignment {start.assignment_number} (end record 88)"
            _compare(refuse, where, "records", record.num_records, current.records)
            if giro:
                _compare(refuse, where, "transactions", record.num_transactions, current.transactions)
                _compare_amount(refuse, where, record.total_amount, current)
            current = None
    if current is not None:
        raise refuse(f"is truncated: assignment {start.assignment_number} has no end record (type 88)")
    end = records[-1]
    whole.records += 1  # the end record itself
    where = "the transmission (end record 89)"
    _compare(refuse, where, "records", end.num_records, whole.records)
    if only_giro:
        _compare(refuse, where, "transactions", end.num_transactions, whole.transactions)
        _compare_amount(refuse, where, end.total_amount, whole)


def _compare(refuse: Any, where: str, what: str, said: Any, counted: int) -> None:
    if int(said or 0) != counted:
        raise refuse(f"{where} says {int(said or 0)} {what}, the file holds {counted}")


def _compare_amount(refuse: Any, where: str, said: Any, count: _Count) -> None:
    # ⚠ The Nets OCR specification we have does not say whether reversing transactions (18, 20, or a
    # '-' sign) count negative in the end record's total; either reading is accepted.
    total = int(said or 0)
    if total not in (count.plain, count.signed):
        raise refuse(
            f"{where} says a total of {Decimal(total) / 100:.2f} NOK, "
            f"the transactions add up to {Decimal(count.plain) / 100:.2f} NOK"
        )
