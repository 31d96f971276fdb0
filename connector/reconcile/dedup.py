"""The same money counted once, however many bank messages report it (pure).

Keys are the bank's own: account + bank reference + ordinal + booking date — never date+amount+name,
because two real payments can share those (firefly-iii #9098).
- exact key twins (camt.054 and camt.053 of the same entry) collapse to one, booked preferred;
- a booked entry supersedes a pending twin (same account and reference, booked within ``TWIN_DAYS``);
- an entry read without TxDtls (ordinal -1, e.g. a summed camt.053 post) gives way to the same entry's
  TxDtls from another message;
- across sources (Nets OCR giro and camt report the same KID payment with different bank references),
  an OCR payment is the camt payment with the same KID, amount, currency, direction and creditor
  account (``account_key``: OCR writes the 11 digits where camt may write the IBAN) booked within
  ``CROSS_SOURCE_DAYS``; each camt payment absorbs at most one OCR twin, and
  nothing without a KID is ever paired (never on date+amount+name).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import TypeVar

from connector.accounts import account_key
from connector.model import PaymentSource, PaymentStatus, PaymentView
from connector.references import compact

TWIN_DAYS = 10
CROSS_SOURCE_DAYS = 3
P = TypeVar("P", bound=PaymentView)  # a Payment, or the store's lighter routing row


def dedup(payments: Iterable[P]) -> list[P]:
    by_key: dict[str, P] = {}
    for p in payments:
        seen = by_key.get(p.key)
        if seen is None or (seen.status is PaymentStatus.PENDING and p.status is PaymentStatus.BOOKED):
            by_key[p.key] = p
    groups: dict[tuple[str, str, str], list[P]] = {}
    for p in by_key.values():
        groups.setdefault(group_key(p), []).append(p)
    out: list[P] = []
    for group in groups.values():
        out.extend(keep_of_group(group))
    return ocr_camt_twins(out)


def group_key(p: PaymentView) -> tuple[str, str, str]:
    """Reports of one bank entry share these (the pending and booked twin, the summed post and its details)."""
    return (p.source, p.account, p.bank_ref)


def keep_of_group(group: list[P]) -> list[P]:
    """The payments of one ``group_key`` group (distinct keys) that are counted."""
    if len(group) == 1:
        return group
    booked = [p for p in group if p.status is PaymentStatus.BOOKED]
    detailed = {p.booking_date for p in booked if p.ordinal >= 0}
    out = []
    for p in group:
        if p.status is PaymentStatus.PENDING:
            if any(abs((b.booking_date - p.booking_date).days) <= TWIN_DAYS for b in booked):
                continue
        elif p.ordinal < 0 and p.booking_date in detailed:
            continue
        out.append(p)
    return out


_Twin = tuple[str, Decimal, str, bool]


def twin_key(p: PaymentView) -> _Twin | None:
    if not p.structured_ref or p.status is not PaymentStatus.BOOKED:
        return None
    return compact(p.structured_ref), p.amount, p.currency, p.reversal


def _same_account(a: str, b: str) -> bool:
    a, b = account_key(a), account_key(b)
    return not a or not b or a == b


def ocr_camt_twins(payments: list[P]) -> list[P]:
    """Drop each OCR payment that is a camt payment already (see module doc); order independent."""
    ocr = [p for p in payments if p.source == PaymentSource.OCR and twin_key(p) is not None]
    if not ocr:
        return payments
    camt: dict[_Twin, list[P]] = defaultdict(list)
    for p in payments:
        key = twin_key(p) if p.source == PaymentSource.CAMT else None
        if key is not None:
            camt[key].append(p)
    if not camt:
        return payments
    taken: set[str] = set()
    dropped: set[str] = set()
    for p in sorted(ocr, key=lambda q: (q.booking_date, q.key)):
        candidates = [
            c
            for c in camt.get(twin_key(p), ())  # type: ignore[arg-type]
            if c.key not in taken
            and abs((c.booking_date - p.booking_date).days) <= CROSS_SOURCE_DAYS
            and _same_account(c.account, p.account)
        ]
        if candidates:
            twin = min(candidates, key=lambda c: (abs((c.booking_date - p.booking_date).days), c.key))
            taken.add(twin.key)
            dropped.add(p.key)
    return [p for p in payments if p.key not in dropped] if dropped else payments
