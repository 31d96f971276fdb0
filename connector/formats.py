"""Numbers and dates as a Norwegian, Danish or Swedish reader writes them: the one definition, for the
debtor's letters, the reports and the workbench alike.

Amounts: bokmål and Swedish group thousands with a space, Danish with a full stop; all three use a
decimal comma (1 234,50 / 1.234,50) (Språkrådet; Språkrådet i Sverige; Retskrivningsordbogen). The space
is a no-break space so an amount never breaks across lines; a negative amount takes the minus sign
U+2212; rounding is half up, in Decimal (never through a float). A percentage has a space before the
sign. Dates: bokmål and Danish write 10.03.2026; Swedish writes the ISO form 2026-03-10.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

Language = Literal["nb", "da", "sv"]  # the same three as connector.config.Language

NBSP = "\u00a0"
MINUS = "\u2212"
NONE = "–"  # a value that does not exist (no due date, no figure)
_GROUPING: dict[str, str] = {"nb": NBSP, "da": ".", "sv": NBSP}


def amount(value: Decimal | int, language: str, places: int = 2) -> str:
    """``Decimal("-1234.5")`` → ``"−1 234,50"`` (nb); ``places=0`` for whole units."""
    q = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    whole, _, fraction = f"{abs(q):.{places}f}".partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    text = _GROUPING.get(language, NBSP).join(groups) + ("," + fraction if fraction else "")
    return (MINUS + text) if q < 0 else text


def money(value: Decimal | int, currency: str, language: str, places: int = 2) -> str:
    """``Decimal("1234.5"), "NOK"`` → ``"1 234,50 NOK"`` (the currency always travels with the amount)."""
    return f"{amount(value, language, places)}{NBSP}{currency}"


def percent(value: Decimal, language: str, places: int = 2) -> str:
    """A rate given in percent: ``Decimal("12.5")`` → ``"12,50 %"``."""
    return f"{amount(value, language, places)}{NBSP}%"


def share(fraction: Decimal | None, language: str) -> str:
    """A fraction as a percentage to one place: ``0.4567`` → ``"45,7 %"``; None → ``"–"``."""
    return NONE if fraction is None else percent(fraction * 100, language, 1)


def days(value: Decimal | int | None, language: str, places: int = 1) -> str:
    return NONE if value is None else f"{amount(value, language, places)}{NBSP}days"


def day(value: date | None, language: str) -> str:
    if value is None:
        return NONE
    if language == "sv":
        return value.isoformat()
    return f"{value.day:02d}.{value.month:02d}.{value.year}"


def month(value: date, language: str) -> str:
    """The month of a date, short: "01.26" (nb, da), "26-01" (sv)."""
    return value.strftime("%y-%m") if language == "sv" else value.strftime("%m.%y")


def moment(value: datetime | None, language: str) -> str:
    """A timestamp in the server's local time zone, to the minute; None → "never"."""
    if value is None:
        return "never"
    local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone()
    return f"{day(local.date(), language)} {local:%H:%M}"
