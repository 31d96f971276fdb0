"""The plain-text rendering of a letter: the e-mail body (and subject) carrying the PDF's content."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from connector.letters import parts
from connector.letters.model import Letter
from connector.letters.templates import compose


@dataclass(frozen=True, slots=True)
class TextLetter:
    subject: str
    body: str


def _table_lines(table: parts.Table) -> list[str]:
    rows = [(f"  {r.text}" if r.style == "detail" else r.text, r.date, r.due, r.amount) for r in table.rows]
    cells = [table.head, *rows]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]

    def line(c: tuple[str, str, str, str]) -> str:
        return f"{c[0]:<{widths[0]}}  {c[1]:<{widths[1]}}  {c[2]:<{widths[2]}}  {c[3]:>{widths[3]}}".rstrip()

    out = [line(table.head), "-" * len(line(table.head).ljust(sum(widths) + 6))]
    for row, cell in zip(table.rows, rows, strict=True):
        if row.style == "total":
            out.append("-" * (sum(widths) + 6))
        out.append(line(cell))
        if row.note:
            out.append(f"    {row.note}")
    return out


def render_text(letter: Letter, override_dir: Path | None = None) -> TextLetter:
    """Subject and body of ``letter`` as plain text, from the same template as the PDF."""
    composed = compose(letter, override_dir)
    labels = composed.labels
    out = [*parts.address_block(letter, labels), ""]  # whom the letter is to, as on paper
    out += [f"{label}: {value}" for label, value in parts.reference_box(letter, labels)]
    for block in composed.blocks:
        out.append("")
        if block.kind == "table":
            out += _table_lines(parts.invoice_table(letter, labels))
        elif block.kind == "heading":
            out += [block.lines[0].upper(), *block.lines[1:]]
        else:
            out += block.lines
    c = letter.creditor
    contact = " · ".join(x for x in (c.email, c.phone) if x)
    out += ["", "--", parts.footer(letter, labels), ", ".join(parts.creditor_lines(letter))]
    if contact:
        out.append(contact)
    return TextLetter(composed.subject, "\n".join(out) + "\n")
