"""Does a payment's text name a deduction or a complaint? The words are data (``deduction_words.toml``). Pure."""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def deduction_words() -> dict[str, tuple[str, ...]]:
    """Language → the words, as ``deduction_words.toml`` lists them."""
    text = resources.files("connector.dunning").joinpath("deduction_words.toml").read_text(encoding="utf-8")
    return {lang: tuple(str(w) for w in table["words"]) for lang, table in tomllib.loads(text).items()}


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    words = sorted({w.casefold() for ws in deduction_words().values() for w in ws}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(w) for w in words) + r")\w*", re.IGNORECASE)


def deduction_word(text: str | None) -> str | None:
    """The first deduction or complaint word in ``text`` (as written there), or None."""
    if not text:
        return None
    found = _pattern().search(text)
    return found.group(0) if found else None
