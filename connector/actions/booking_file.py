"""The booking file: charges a letter made that no ledger API books, for the accountant to import.

One CSV file per client and day (``<client>-bookings-<date>.csv`` in ``[clients.bookings] path``),
columns ``account, amount, currency, date, customer, invoice, text, reference``: the income
account, the charge (a Decimal written as it is, with its currency), the letter's day, the customer
and invoice as the ledger names them, a text, and the booking's unique reference. A cancelled letter's
charge is reversed by a line of its own: the amount negated, dated (and filed) the day it was cancelled,
the text starting "Reversal (letter cancelled):", its own reference. The file is
rewritten whole through a temporary file and an atomic rename, so a crash leaves either the old or
the new file, never half a line; a charge whose reference is already in the file is not added again.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from connector.store.bookings import FeeBooking

COLUMNS = ("account", "amount", "currency", "date", "customer", "invoice", "text", "reference")


def file_for(folder: Path, client_id: str, on: date) -> Path:
    return folder / f"{client_id}-bookings-{on.isoformat()}.csv"


def references(path: Path) -> set[str]:
    """The references already written to the file (none when there is no file yet)."""
    if not path.is_file():
        return set()
    with path.open(encoding="utf-8", newline="") as f:
        return {row["reference"] for row in csv.DictReader(f) if row.get("reference")}


def write(path: Path, charges: Iterable[FeeBooking]) -> list[FeeBooking]:
    """Add the charges not in the file yet; returns those added."""
    have = references(path)
    new = [b for b in charges if b.reference not in have]
    if not new:
        return []
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    if not old:
        w.writerow(COLUMNS)
    for b in new:
        w.writerow(
            [
                b.account,
                str(b.amount),
                b.currency,
                b.on.isoformat(),
                b.customer_id,
                b.invoice_number,
                b.text,
                b.reference,
            ]
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        f.write(old + out.getvalue())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return new
