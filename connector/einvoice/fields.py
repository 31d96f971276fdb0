"""Small value parsers shared by the UBL and CII readers: text, dates, amounts, identifiers, schemes."""

from __future__ import annotations

import base64
import binascii
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TypeAlias

from lxml import etree

# Legacy and national scheme ids mapped to their ISO 6523 / EAS code, so parties compare across syntaxes.
SCHEME_ALIASES = {
    "NO:ORGNR": "0192",
    "9908": "0192",  # EHF 2.0's NO:ORGNR code, dropped from the EAS list
    "DK:CVR": "0184",
    "DK:SE": "0198",
    "GLN": "0088",
    "SE:ORGNR": "0007",
}


class ReadError(ValueError):
    """A required field is missing or malformed; the message names it."""


Node: TypeAlias = etree._Element


def text(node: Node | None, path: str) -> str | None:
    if node is None:
        return None
    found = node.find(path)
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    return value or None


def texts(node: Node, path: str) -> tuple[str, ...]:
    return tuple(v for v in ((e.text or "").strip() for e in node.iterfind(path)) if v)


def required(node: Node, path: str, what: str) -> str:
    value = text(node, path)
    if value is None:
        raise ReadError(f"missing {what}")
    return value


def compact(value: str | None) -> str | None:
    """Identifiers and accounts arrive with spaces (``NO93 8601 1117 947``); compare them without."""
    if value is None:
        return None
    if " " not in value and "\t" not in value and "\n" not in value:
        return value.strip() or None
    return "".join(value.split()) or None


def scheme(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return SCHEME_ALIASES.get(value.upper(), value) or None


def iso_date(value: str | None, what: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise ReadError(f"{what} '{value}' is not a date (YYYY-MM-DD)") from None


def cii_date(value: str | None, what: str) -> date | None:
    """CII format 102 is ``YYYYMMDD``; some senders write ISO dates anyway."""
    if value is None:
        return None
    v = value.strip()
    try:
        if len(v) == 8 and v.isdigit():
            return date(int(v[:4]), int(v[4:6]), int(v[6:]))
        return date.fromisoformat(v[:10])
    except ValueError:
        raise ReadError(f"{what} '{value}' is not a date (YYYYMMDD)") from None


def in_currency(node: Node | None, what: str, currency: str) -> Node | None:
    """``node`` (an amount element), refused when its ``currencyID`` names another currency than the
    document's: amounts in two currencies are not read, so nothing is ever dunned in the wrong currency."""
    if node is not None:
        stated = (node.get("currencyID") or "").strip()
        if stated and stated != currency.strip():
            raise ReadError(
                f"{what} is in {stated} (currencyID) but the document's currency is {currency}: "
                "amounts in two currencies"
            )
    return node


def node_text(node: Node | None) -> str | None:
    """An element's stripped text; None when absent or blank."""
    if node is None or node.text is None:
        return None
    return node.text.strip() or None


def amount(value: str | None, what: str) -> Decimal | None:
    if value is None:
        return None
    try:
        result = Decimal("".join(value.split()))
    except InvalidOperation:
        raise ReadError(f"{what} '{value}' is not an amount") from None
    if not result.is_finite():
        raise ReadError(f"{what} '{value}' is not an amount")
    return result


def decode_base64(value: str) -> bytes | None:
    """Embedded files may be wrapped across lines; None when the text is not base64 at all."""
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
