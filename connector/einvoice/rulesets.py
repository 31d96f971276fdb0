"""Which official rule release applies to a document: Peppol BIS Billing rules change on fixed dates, and
a document is judged by the rules in force on its issue date (research ehf-peppol.md: "accept invoices as
they were valid when sent").

``--rules DIR`` is either one release's XSLT folder, used for every document, or a folder with one
sub-folder per release named by its version (``3.0.21/``, ``3.1.0/``): each document is then checked with
the newest release in force on its issue date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from lxml import etree

from connector.einvoice.classify import unwrap_sbdh
from connector.safexml import parse_bytes

# (version, first day its rules apply). Peppol BIS Billing 3.1.0 is mandatory from 2027-02-22 ⚠ (the
# date OpenPeppol announced; check docs.peppol.eu before relying on it).
RELEASES: tuple[tuple[str, date], ...] = (
    ("3.0", date(2017, 1, 1)),
    ("3.1.0", date(2027, 2, 22)),
)
MARKER = "PEPPOL-EN16931-UBL.xslt"


@dataclass(frozen=True)
class RuleSet:
    folder: Path
    release: str | None  # None: a single folder given, release not known from its name
    note: str = ""


def release_on(day: date) -> str:
    """The Billing release whose rules apply to a document issued on ``day``."""
    return [v for v, start in RELEASES if start <= day][-1] if day >= RELEASES[0][1] else RELEASES[0][0]


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in name.split(".") if p.isdigit())


def rule_set(rules: Path, issued: date | None) -> RuleSet:
    """The folder to validate a document issued on ``issued`` with."""
    releases = sorted(
        (p for p in rules.iterdir() if p.is_dir() and (p / MARKER).is_file()), key=lambda p: _version_key(p.name)
    )
    if (rules / MARKER).is_file() or not releases:
        note = ""
        if issued is not None and release_on(issued) != RELEASES[0][0]:
            wanted = release_on(issued)
            note = f"issued {issued.isoformat()}: BIS Billing {wanted} rules apply; checked with the rules in {rules}"
        return RuleSet(rules, None, note)
    wanted = release_on(issued) if issued is not None else RELEASES[-1][0]
    # the newest folder of the release in force (3.0 → any 3.0.x folder), else the newest not after it
    fitting = [p for p in releases if _version_key(p.name)[: len(_version_key(wanted))] == _version_key(wanted)]
    older = [p for p in releases if _version_key(p.name) <= _version_key(wanted)]
    chosen = (fitting or older or releases)[-1]
    note = "" if fitting else f"no {wanted} rules in {rules}; checked with {chosen.name}"
    return RuleSet(chosen, chosen.name, note)


def issue_date(data: bytes, name: str) -> date | None:
    """The document's issue date (cbc:IssueDate, or CII's IssueDateTime), None when it has none."""
    try:
        root, _envelope = unwrap_sbdh(parse_bytes(data, name))
    except Exception:  # the validator reports an unreadable document itself
        return None
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        local = etree.QName(el).localname
        if local == "IssueDate" and el.text:
            return _date(el.text.strip())
        if local == "IssueDateTime":
            text = "".join(str(t) for t in el.itertext()).strip()
            if len(text) >= 8 and text[:8].isdigit():
                return _date(f"{text[:4]}-{text[4:6]}-{text[6:8]}")
    return None


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None
