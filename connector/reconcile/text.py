"""Reading remittance free text: whole tokens only, never substrings ("14" must not match "1814")."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-/_][A-Za-z0-9]+)*")
MIN_NUMBER_LENGTH = 3  # shorter invoice numbers are too common in text to count as evidence


def tokens(text: str) -> set[str]:
    """Whole tokens, upper-cased; 'INV-1001' stays one token (its parts are not evidence: think dates)."""
    return {t for t in (m.group(0).upper() for m in _TOKEN.finditer(text or "")) if len(t) >= MIN_NUMBER_LENGTH}


def invoice_key(number: str) -> str:
    key = number.strip().upper()
    return number if key == number else key  # the number itself when already a key: no copy per invoice
