"""Nets OCR giro files (fixed width, ISO-8859-1) via ``netsgiro``, wrapped for two gaps it has.

- netsgiro rejects a MOD11 KID whose check character is ``-`` and aborts the whole file; we swap
  the ``-`` for a digit before parsing and put the real KID back afterwards.
- ``Transaction.amount`` is always positive: the ``sign`` field and the reversing transaction types
  (18 reversing with KID, 20 reversing with text) are applied here as ``reversal=True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import netsgiro

from connector.model import Payment, money

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


def _mend(text: str) -> tuple[str, dict[str, str]]:
    """Replace a trailing '-' in KID fields by '0'; return the new text and the KIDs to restore."""
    lines = text.splitlines()
    restore: dict[str, str] = {}
    for i, line in enumerate(lines):
        if len(line) == 80 and line.startswith("NY") and line[6:8] == "30" and line[_KID_END] == "-":
            restore[line[_TX_NUMBER]] = line[49:74].strip()
            lines[i] = line[:_KID_END] + "0" + line[_KID_END + 1 :]
    return "\n".join(lines) + "\n", restore


def read_ocr(data: bytes, name: str = "OCR file") -> OcrFile:
    try:
        text = data.decode("iso-8859-1")
    except UnicodeDecodeError as exc:  # every byte decodes in Latin-1; kept for clarity
        raise OcrError(f"{name}: {exc}") from None
    mended, restore = _mend(text.replace("\r\n", "\n"))
    try:
        transmission = netsgiro.parse(mended)
    except ValueError as exc:
        raise OcrError(f"{name}: not a valid Nets OCR giro file: {exc}") from None
    payments: list[Payment] = []
    totals: dict[str, object] = {}
    for assignment in transmission.assignments:
        totals[str(assignment.number)] = assignment.get_total_amount()
        account = str(assignment.account or "")
        for tx in assignment.transactions:
            number = f"{int(tx.number):07d}"
            kid = restore.get(number, tx.kid)
            reversal = int(tx.type) in REVERSING_TYPES or (tx.sign == "-")
            booking: date = tx.date
            payer = str(tx.debit_account) if tx.debit_account and int(tx.debit_account) else None
            payments.append(
                Payment(
                    client_id="",
                    source="ocr",
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
    return OcrFile(transmission=str(transmission.number), payments=tuple(payments), total=totals)
