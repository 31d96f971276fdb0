"""Reading register JSON defensively: a field missing, null or of the wrong type is None, never a crash
(the registers omit what is not registered, and their shapes drift)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any


def dig(body: Any, *path: str) -> Any:
    """``dig(b, "a", "b")`` is ``b["a"]["b"]``, or None where any step is missing or not an object."""
    for key in path:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


def as_date(value: Any) -> date | None:
    """ISO dates; the registers sometimes add a time ("2010-01-01 00:00:00")."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def as_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def as_decimal(value: Any) -> Decimal | None:
    """Amounts arrive as JSON numbers (parsed to Decimal or int by connector.http, never float)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None  # a float would mean someone parsed the body without parse_float=Decimal


def as_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
