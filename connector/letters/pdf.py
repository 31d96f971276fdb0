"""A letter as an A4 PDF, typeset by Typst (the ``typst`` wheel) from ``templates/letter.typ``.

Why Typst and not fpdf2 (``bench/letters_bench.py --fpdf2``: 1,000 two-invoice reminders, one
thread, on this 2-core machine shared with other jobs, load average ~9.7, so absolute times are about
3× an idle run; the ratios hold):

=========================  =========  ==========  =======================================
renderer                   ms/letter  KiB/letter  notes
=========================  =========  ==========  =======================================
Typst (this module)            64         41      fonts embedded, tagged PDF, deterministic
fpdf2, core Helvetica          98          2      cp1252 only: no '−' (U+2212), font not embedded
fpdf2, embedded TTF           615         28      fpdf2 ships no font; fontTools subsets per letter
=========================  =========  ==========  =======================================

- quality: real typesetting (kerning, ligatures, a table whose header repeats when it breaks across
  pages, "Side x av y"), Libertinus Serif embedded in the wheel with æøåÆØÅäöÄÖ, '–', '€', '−', '§';
- determinism: the same letter gives the same bytes (fonts from the wheel only, system fonts ignored;
  the document date is the sending date); the merged PDF with the invoice copy too;
- install weight on a fresh venv: one 34 MB wheel (81 MB installed), no dependencies, no system
  package; fpdf2 needs 14 MB of wheels (fpdf2, fontTools, Pillow, defusedxml; 65 MB installed) plus a
  font we would have to ship. Typst's layout file is data a client can override like the texts.

The layout receives the content as JSON (``sys.inputs``), every string already formatted; Typst never
evaluates letter text as markup, so nothing in a name or an address needs escaping.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import typst

from connector.letters import parts
from connector.letters.model import Letter
from connector.letters.templates import Composed, TemplateError, compose, source

LAYOUT = "letter.typ"
_local = threading.local()


class RenderError(RuntimeError):
    """Typst could not typeset a letter (a broken override layout, most likely); names the letter."""


def _compiler() -> typst.Compiler:
    # One compiler per thread: it keeps fonts and the parsed layout between letters (about half the time
    # of a fresh compile); Typst's compiler object is not documented as thread-safe.
    compiler = getattr(_local, "compiler", None)
    if compiler is None:
        compiler = _local.compiler = typst.Compiler(ignore_system_fonts=True)
    return compiler


def layout_data(letter: Letter, composed: Composed) -> dict[str, Any]:
    """What ``letter.typ`` reads: every part of the letter as formatted strings."""
    labels = composed.labels
    table = parts.invoice_table(letter, labels)
    return {
        "lang": letter.language,
        "subject": composed.subject,
        "creditor": {
            "name": letter.creditor.name,
            "lines": parts.creditor_lines(letter),
            "facts": [list(f) for f in parts.creditor_facts(letter, labels)],
        },
        "address": parts.address_block(letter, labels),
        "box": [list(f) for f in parts.reference_box(letter, labels)],
        "blocks": [{"kind": b.kind, "lines": list(b.lines)} for b in composed.blocks],
        "table": {
            "head": list(table.head),
            "rows": [
                {"text": r.text, "date": r.date, "due": r.due, "amount": r.amount, "style": r.style, "note": r.note}
                for r in table.rows
            ],
        },
        "footer": parts.footer(letter, labels),
        "page": labels["head"]["page"],
        "of": labels["head"]["of"],
    }


def render_pdf(letter: Letter, override_dir: Path | None = None) -> bytes:
    """The letter as PDF bytes, from its language's template and the (possibly overridden) layout."""
    data = layout_data(letter, compose(letter, override_dir))
    layout = source(LAYOUT, override_dir).encode("utf-8")
    stamp = datetime.combine(letter.sent_on, time(0), tzinfo=UTC)  # same letter, same bytes
    try:
        pdf = _compiler().compile(
            layout, format="pdf", sys_inputs={"letter": json.dumps(data, ensure_ascii=False)}, timestamp=stamp
        )
    except typst.TypstError as exc:
        raise RenderError(f"letter {letter.reference}: typesetting failed: {exc.message}") from None
    if not isinstance(pdf, bytes):  # one PDF is one bytes object; a list only comes for per-page images
        raise RenderError(f"letter {letter.reference}: typst returned {type(pdf).__name__}, not a PDF")
    return pdf


__all__ = ["LAYOUT", "RenderError", "TemplateError", "layout_data", "render_pdf"]
