"""Numbers and dates as a Norwegian, Danish or Swedish reader writes them (the pages' words stay English,
like the command line). Amounts are Decimal in and text out; nothing here rounds through a float."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from connector.config import Language

# (thousands separator, decimal separator, date pattern). nb and sv group with a space (no-break, so
# an amount never wraps); Danish groups with a full stop.
_STYLE: dict[str, tuple[str, str, str]] = {
    "nb": ("\u00a0", ",", "%d.%m.%Y"),
    "da": (".", ",", "%d.%m.%Y"),
    "sv": ("\u00a0", ",", "%Y-%m-%d"),
}


def number(value: Decimal, locale: Language) -> str:
    group, point, _ = _STYLE[locale]
    text = f"{value:,.2f}"  # Decimal formats exactly: "1,234,567.50"
    return text.replace(",", "\0").replace(".", point).replace("\0", group).replace("-", "\u2212")


def money(value: Decimal, currency: str, locale: Language) -> str:
    return f"{number(value, locale)}\u00a0{currency}"


def day(value: date | None, locale: Language) -> str:
    return value.strftime(_STYLE[locale][2]) if value is not None else "–"


def moment(value: datetime | None, locale: Language) -> str:
    """A timestamp in the server's local time zone, to the minute."""
    if value is None:
        return "never"
    local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone()
    return f"{local.strftime(_STYLE[locale][2])} {local:%H:%M}"
