"""Letters: time to render a batch of PDFs (and the e-mail text), bytes per letter, determinism.

    .venv/bin/python -m bench.letters_bench [--letters 1000] [--fpdf2]

Renders ``--letters`` reminders (two invoices, a part payment, a credit, fee and interest; the same
content the tests check), cycling the three languages, one thread. ``--fpdf2`` also times a comparable
one-page letter with fpdf2 (when installed: ``pip install fpdf2``), with its unembedded core font and
with an embedded TTF (DejaVu Sans from the system, as fpdf2 ships none) — the figures behind the
library choice in ``connector/letters/pdf.py``. Prints a table; nothing is written.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from connector.letters import Letter, LetterKind, render_pdf, render_text
from connector.letters.parts import invoice_table
from connector.letters.templates import compose
from tests.letters.letter_samples import letter

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _letters(count: int) -> list[Letter]:
    languages = ("nb", "da", "sv")
    return [letter(LetterKind.REMINDER, languages[i % 3], reference=f"P-{i:06d}") for i in range(count)]


def _fpdf2(ttf: bool) -> Callable[[Letter], bytes] | None:
    try:
        from fpdf import FPDF
    except ImportError:
        return None
    if ttf and not (DEJAVU.is_file() and DEJAVU.with_name("DejaVuSans-Bold.ttf").is_file()):
        return None

    def safe(text: str) -> str:
        # the core fonts are cp1252: no U+2212 minus (an error otherwise); the letter gets a hyphen
        return text if ttf else text.replace("\u2212", "-")

    def render(lt: Letter) -> bytes:
        composed = compose(lt)
        pdf = FPDF(format="A4")
        pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))
        if ttf:
            pdf.add_font("body", "", str(DEJAVU))
            pdf.add_font("body", "B", str(DEJAVU.with_name("DejaVuSans-Bold.ttf")))
            family = "body"
        else:
            pdf.core_fonts_encoding = "windows-1252"
            family = "Helvetica"
        pdf.add_page()
        pdf.set_font(family, size=14)
        pdf.cell(text=lt.creditor.name, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, size=10)
        pdf.set_y(46)
        pdf.multi_cell(85, 5, "\n".join([lt.debtor.name, *lt.debtor.address.lines]), new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(88)
        table = invoice_table(lt, composed.labels)
        for block in composed.blocks:
            if block.kind == "table":
                with pdf.table(col_widths=(80, 25, 25, 30), text_align=("LEFT", "LEFT", "LEFT", "RIGHT")) as t:
                    for row in (table.head, *((r.text, r.date, r.due, r.amount) for r in table.rows)):
                        cells = t.row()
                        for value in row:
                            cells.cell(safe(value))
            else:
                pdf.multi_cell(0, 5, safe("\n".join(block.lines)), new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())

    return render


def _time(name: str, render: Callable[[Letter], bytes | object], letters: list[Letter]) -> tuple[str, ...]:
    render(letters[0])  # warm-up: fonts, templates, layout
    start = time.perf_counter()
    outputs = [render(lt) for lt in letters]
    elapsed = time.perf_counter() - start
    size = sum(len(o) for o in outputs if isinstance(o, bytes)) / len(letters)
    same = render(letters[0]) == outputs[0]
    digest = hashlib.sha256(outputs[0] if isinstance(outputs[0], bytes) else b"").hexdigest()[:8]
    return (
        name,
        str(len(letters)),
        f"{elapsed:.2f}",
        f"{elapsed / len(letters) * 1000:.1f}",
        f"{size / 1024:.1f}" if size else "-",
        "yes" if same else "NO",
        digest,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--letters", type=int, default=1000)
    parser.add_argument("--fpdf2", action="store_true", help="also time fpdf2 (if installed)")
    args = parser.parse_args()
    letters = _letters(args.letters)
    rows = [
        _time("typst: render_pdf", render_pdf, letters),
        _time("text: render_text", lambda lt: render_text(lt).body.encode(), letters),
    ]
    if args.fpdf2:
        for ttf, label in ((False, "fpdf2, core font"), (True, "fpdf2, DejaVu TTF")):
            renderer = _fpdf2(ttf)
            if renderer is None:
                print(f"({label}: fpdf2 or the font is not installed; skipped)")
                continue
            fpdf_letters = letters[: max(1, min(len(letters), 200))]  # it is slow: a sample is enough
            rows.append(_time(label, renderer, fpdf_letters))
    head = ("renderer", "letters", "seconds", "ms/letter", "KiB/letter", "deterministic", "sha256")
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    for r in (head, tuple("-" * w for w in widths), *rows):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (this process): {peak:.0f} MiB")


if __name__ == "__main__":
    main()
