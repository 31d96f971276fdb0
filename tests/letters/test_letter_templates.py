"""Template lookup: a client's folder overrides one text and falls back to the package for the rest;
a broken template fails with its name; data can never act as a template directive."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader

from connector.letters import LetterKind, TemplateError, compose, render_pdf, render_text
from connector.letters.model import LANGUAGES
from connector.letters.pdf import RenderError
from tests.letters.letter_samples import debtor, letter

PACKAGE_TEMPLATES = Path(__file__).resolve().parents[2] / "connector" / "letters" / "templates"


def test_every_language_has_every_kind_and_its_labels() -> None:
    for language in LANGUAGES:
        for kind in LetterKind:
            assert (PACKAGE_TEMPLATES / language / f"{kind.value}.j2").is_file()
        assert (PACKAGE_TEMPLATES / language / "labels.toml").is_file()
    assert (PACKAGE_TEMPLATES / "letter.typ").is_file()


def _write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return root


def test_a_client_overrides_one_text_and_keeps_the_rest(tmp_path: Path) -> None:
    own = _write(
        tmp_path,
        "nb/reminder.j2",
        '{% import "nb/_common.j2" as c with context %}\n'
        "Vennlig påminnelse fra {{ letter.creditor.name }}\n\n"
        "Hei! Vi savner betaling for {{ c.invoices_named(letter) }}.\n\n"
        "{{ invoice_table() }}\n\n"
        '{{ strong("Betal innen " ~ fmt.date(letter.pay_by)) }}\n\n'
        "{{ c.closing(letter) }}\n",
    )
    lt = letter(LetterKind.REMINDER, "nb")
    mail = render_text(lt, own)
    assert mail.subject == f"Vennlig påminnelse fra {lt.creditor.name}"
    assert "Hei! Vi savner betaling for fakturaene 10023, 10031." in mail.body
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(lt, own))).pages)
    assert "Vennlig påminnelse fra" in text and "Betal innen 24.03.2026" in text
    # the notice is not overridden: the package's text is used
    assert render_text(letter(LetterKind.COLLECTION_NOTICE, "nb"), own).subject.startswith("Inkassovarsel")


def test_labels_and_layout_can_be_overridden_too(tmp_path: Path) -> None:
    labels = (PACKAGE_TEMPLATES / "nb" / "labels.toml").read_text(encoding="utf-8")
    own = _write(tmp_path, "nb/labels.toml", labels.replace('total = "Å betale i alt"', 'total = "Totalt å betale"'))
    assert "Totalt å betale" in render_text(letter(LetterKind.REMINDER, "nb"), own).body
    layout = (PACKAGE_TEMPLATES / "letter.typ").read_text(encoding="utf-8")
    _write(tmp_path, "letter.typ", layout.replace("#v(body-top - margin-top)", '#v(body-top - margin-top)\n#"LOGO"'))
    assert "LOGO" in PdfReader(io.BytesIO(render_pdf(letter(LetterKind.REMINDER, "nb"), own))).pages[0].extract_text()


def test_a_misspelt_field_fails_with_the_template_name(tmp_path: Path) -> None:
    own = _write(tmp_path, "da/reminder.j2", "Rykker {{ letter.pay_byy }}\n")
    with pytest.raises(TemplateError, match=r"da/reminder\.j2"):
        render_text(letter(LetterKind.REMINDER, "da"), own)


def test_a_subject_over_two_lines_or_a_table_inside_a_paragraph_is_refused(tmp_path: Path) -> None:
    own = _write(tmp_path, "sv/statement.j2", "Kontoutdrag\nrad två\n\nText\n")
    with pytest.raises(TemplateError, match="subject"):
        compose(letter(LetterKind.STATEMENT, "sv"), own)
    inline = _write(tmp_path / "inline", "sv/statement.j2", "Kontoutdrag\n\nSe nedan:\n{{ invoice_table() }}\n")
    with pytest.raises(TemplateError, match="paragraph"):
        compose(letter(LetterKind.STATEMENT, "sv"), inline)


def test_a_broken_layout_fails_with_the_letter_reference(tmp_path: Path) -> None:
    own = _write(tmp_path, "letter.typ", "#let x = (\n")
    lt = letter(LetterKind.REMINDER, "nb")
    with pytest.raises(RenderError, match=lt.reference):
        render_pdf(lt, own)


def test_the_sandbox_keeps_a_template_away_from_the_interpreter(tmp_path: Path) -> None:
    own = _write(tmp_path, "nb/statement.j2", "X {{ letter.__class__.__init__.__globals__ }}\n")
    with pytest.raises(TemplateError):
        compose(letter(LetterKind.STATEMENT, "nb"), own)


def test_data_cannot_become_a_directive() -> None:
    sneaky = replace(debtor(), attention="\ue000table")  # greeting prints it at a paragraph's start
    composed = compose(letter(LetterKind.STATEMENT, "nb", debtor=sneaky))
    assert [b.kind for b in composed.blocks].count("table") == 1
