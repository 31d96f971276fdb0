"""The vocabulary, from data (``glossary.toml``): what each state, action and hold code means and what
lifts it. The codes themselves come from ``connector.model``; a code without an entry is a bug (a test
checks every member of ``Hold``, ``State`` and ``Action``)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

from connector.model import Action, Hold, State

KINDS: dict[str, type[StrEnum]] = {"state": State, "action": Action, "hold": Hold}
TITLES = {"state": "States", "action": "Actions", "hold": "Hold codes"}


@dataclass(frozen=True)
class Entry:
    kind: str  # state | action | hold
    code: str
    meaning: str
    way_out: str = ""


@cache
def entries() -> dict[tuple[str, str], Entry]:
    """Every entry in the data file, by (kind, code) — codes the model does not have yet included."""
    raw = tomllib.loads(resources.files("connector.reports").joinpath("glossary.toml").read_text(encoding="utf-8"))
    return {
        (kind, code): Entry(kind, code, text["meaning"], text.get("way_out", ""))
        for kind, table in raw.items()
        for code, text in table.items()
    }


def entry(kind: str, code: str) -> Entry | None:
    return entries().get((kind, str(code)))


def meaning(kind: str, code: str) -> str:
    e = entry(kind, code)
    return e.meaning if e else "(no glossary entry)"


def missing() -> list[str]:
    """``kind.code`` of every model member without an entry (should be empty)."""
    return [f"{kind}.{m.value}" for kind, enum in KINDS.items() for m in enum if entry(kind, m.value) is None]


def known() -> list[Entry]:
    """Every entry, states then actions then holds, in the data file's order (codes another part of arsync
    is about to use are listed too: the vocabulary is PRODUCT.md's)."""
    return [e for kind in KINDS for e in entries().values() if e.kind == kind]


def render_codes(width: int = 100) -> str:
    """``arsync explain codes``: every state, action and hold code with what it means and what lifts it."""
    import textwrap

    lines: list[str] = []
    for kind in KINDS:
        lines.append(TITLES[kind])
        lines.append("")
        for e in (x for x in known() if x.kind == kind):
            lines.append(f"  {e.code}")
            lines.extend(textwrap.wrap(e.meaning, width - 6, initial_indent="      ", subsequent_indent="      "))
            if e.way_out:
                lines.extend(
                    textwrap.wrap(
                        f"Way out: {e.way_out}", width - 6, initial_indent="      ", subsequent_indent="      "
                    )
                )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def as_json() -> list[dict[str, str]]:
    return [{"kind": e.kind, "code": e.code, "meaning": e.meaning, "way_out": e.way_out} for e in known()]
