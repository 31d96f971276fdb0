"""Render every letter kind in every language to PDF, and page 1 to PNG when pdftoppm is installed,
into ``examples/letters-preview/`` (git-ignored), to look at the letters as a debtor gets them.

    .venv/bin/python -m examples.letters_preview
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from connector.letters import LetterKind, render_pdf, render_text
from tests.letters.letter_samples import letter

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    out = REPO / "examples" / "letters-preview"
    out.mkdir(exist_ok=True)
    pdftoppm = shutil.which("pdftoppm")
    for language in ("nb", "da", "sv"):
        for kind in LetterKind:
            lt = letter(kind, language)
            stem = out / f"{language}_{kind.value}"
            stem.with_suffix(".pdf").write_bytes(render_pdf(lt))
            stem.with_suffix(".txt").write_text(render_text(lt).body, encoding="utf-8")
            if pdftoppm:
                subprocess.run(
                    [
                        pdftoppm,
                        "-r",
                        "80",
                        "-png",
                        "-f",
                        "1",
                        "-l",
                        "1",
                        "-singlefile",
                        str(stem.with_suffix(".pdf")),
                        str(stem),
                    ],
                    check=True,
                )
            print(stem.with_suffix(".png" if pdftoppm else ".pdf"))
    if not pdftoppm:
        print("pdftoppm not found (apt-get install poppler-utils): PDFs only")


if __name__ == "__main__":
    main()
