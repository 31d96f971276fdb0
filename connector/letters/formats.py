"""Numbers and dates as the debtor's language writes them.

Amounts: bokmål and Swedish group thousands with a space and use a decimal comma (1 234,50), Danish
groups with a point (1.234,50) (Språkrådet; Språkrådet i Sverige; Retskrivningsordbogen). The space
is a no-break space so an amount never breaks across lines; a negative amount takes the minus sign
U+2212. Dates: bokmål and Danish write 10.03.2026; Swedish writes the ISO form 2026-03-10.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from connector.letters.model import Language, Money

NBSP = "\u00a0"
MINUS = "\u2212"
_GROUPING: dict[str, str] = {"nb": NBSP, "da": ".", "sv": NBSP}
_CENT = Decimal("0.01")


def amount(value: Decimal, language: Language) -> str:
    """``Decimal("-1234.5")`` → ``"−1 234,50"`` (nb)."""
    q = value.quantize(_CENT, rounding=ROUND_HALF_UP)
    whole, _, cents = f"{abs(q):.2f}".partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    text = _GROUPING[language].join(groups) + "," + cents
    return (MINUS + text) if q < 0 else text


def money(value: Money, language: Language) -> str:
    """``Money(1234.5, "NOK")`` → ``"1 234,50 NOK"``."""
    return f"{amount(value.amount, language)}{NBSP}{value.currency}"


def day(value: date, language: Language) -> str:
    if language == "sv":
        return value.isoformat()
    return f"{value.day:02d}.{value.month:02d}.{value.year}"


def percent(value: Decimal, language: Language) -> str:
    """``Decimal("12.5")`` → ``"12,50 %"``."""
    return f"{amount(value, language)}{NBSP}%"
