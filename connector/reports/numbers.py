"""Numbers and dates in a report as a Norwegian, Danish or Swedish reader writes them.

Bokmål and Swedish group thousands with a no-break space, Danish with a full stop; all three use a
decimal comma and the minus sign U+2212, and write a percentage with a space before the sign.
Dates: bokmål and Danish 31.01.2026, Swedish 2026-01-31. (The same conventions as
``connector.web.formats`` and ``connector.letters.formats``, with the places a report figure needs.)
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

NBSP = "\u00a0"
_GROUP = {"nb": NBSP, "da": ".", "sv": NBSP}


def num(value: Decimal | int, lang: str, places: int = 0) -> str:
    """``Decimal("-1234.56")``, "nb", 1 → "−1 234,6"."""
    q = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    whole, _, frac = f"{abs(q):.{places}f}".partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    text = _GROUP.get(lang, NBSP).join(groups) + ("," + frac if frac else "")
    return ("\u2212" + text) if q < 0 else text


def money(value: Decimal, currency: str, lang: str) -> str:
    """Whole units: a report's amounts are for comparing, not for booking."""
    return f"{num(value, lang)}{NBSP}{currency}"


def pct(fraction: Decimal | None, lang: str) -> str:
    """0.4567 → "45,7 %"; None → "–"."""
    return "–" if fraction is None else f"{num(fraction * 100, lang, 1)}{NBSP}%"


def days(value: Decimal | int | None, lang: str, places: int = 1) -> str:
    return "–" if value is None else f"{num(value, lang, places)}{NBSP}days"


def day(value: date, lang: str) -> str:
    return value.isoformat() if lang == "sv" else value.strftime("%d.%m.%Y")


def month(value: date, lang: str) -> str:
    """The month of a date, short: "01.26" (nb, da), "26-01" (sv)."""
    return value.strftime("%y-%m") if lang == "sv" else value.strftime("%m.%y")
