"""The invoice copy behind the letter: one PDF, letter pages first; only a real PDF counts as a copy."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import typst
from pypdf import PdfReader

from connector.einvoice.document import EDocument
from connector.einvoice.read import read_document
from connector.letters import Letter, LetterKind, invoice_pdf, is_pdf, render_pdf, with_invoice_copies
from connector.model import Attachment
from tests.letters.letter_samples import letter

PEPPOL = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "peppol"


def fake_invoice(pages: int) -> bytes:
    """A stand-in for the invoice PDF an accounting system makes (typeset here, no file needed)."""
    body = "\n#pagebreak()\n".join(f"= ORIGINALFAKTURA 10023 side {i + 1}" for i in range(pages))
    return typst.compile(f'#set page(paper: "a4")\n{body}'.encode(), ignore_system_fonts=True)


def test_merged_pdf_is_the_letter_then_every_invoice_page() -> None:
    letter_pdf = render_pdf(letter(LetterKind.REMINDER, "nb", invoice_copy_attached=True))
    merged = with_invoice_copies(letter_pdf, [fake_invoice(2), fake_invoice(1)])
    pages = PdfReader(io.BytesIO(merged)).pages
    letter_pages = len(PdfReader(io.BytesIO(letter_pdf)).pages)
    assert len(pages) == letter_pages + 3
    assert "Betalingspåminnelse" in pages[0].extract_text()
    assert "Kopi av fakturaene er vedlagt." in " ".join(pages[0].extract_text().split())
    assert [("ORIGINALFAKTURA" in p.extract_text()) for p in pages] == [False] * letter_pages + [True] * 3
    assert "side 2" in pages[letter_pages + 1].extract_text()
    assert merged == with_invoice_copies(letter_pdf, [fake_invoice(2), fake_invoice(1)])  # same input, same bytes


def test_no_copy_leaves_the_letter_as_it_is_and_a_broken_copy_is_refused() -> None:
    letter_pdf = render_pdf(letter(LetterKind.REMINDER, "nb"))
    assert with_invoice_copies(letter_pdf, []) == letter_pdf
    with pytest.raises(ValueError, match="copy 1"):
        with_invoice_copies(letter_pdf, [b"%PDF-1.7 not really"])


def test_only_a_readable_pdf_attachment_is_the_invoice_copy() -> None:
    real = fake_invoice(1)
    fake = Attachment("c", "10023", "faktura.pdf", "application/pdf", b"Test base 64 encoding")
    csv = Attachment("c", "10023", "timer.csv", "text/csv", b"a;b\n1;2\n")
    good = Attachment("c", "10023", "10023.pdf", "application/pdf", real)
    assert invoice_pdf([fake, csv]) is None
    assert invoice_pdf([fake, csv, good]) == real
    assert not is_pdf(real[: len(real) // 3])  # truncated
    assert not is_pdf(b"")


@pytest.mark.parametrize("rel", ["ehf/ehf-3-faktura-1.xml", "bis3/Norwegian-example-1.xml"])
def test_official_ehf_examples_carry_no_usable_pdf_so_the_letter_says_where_to_find_the_invoice(rel: str) -> None:
    path = PEPPOL / rel
    if not path.is_file():
        pytest.skip(f"shared test corpus not found: {path}")
    doc = read_document(path.read_bytes(), rel)
    assert isinstance(doc, EDocument)
    declared_pdf = [a for a in doc.attachments if a.mime_type == "application/pdf"]
    assert declared_pdf, "the example declares a PDF attachment"
    found = invoice_pdf(Attachment("c", doc.number, a.filename, a.mime_type, a.content) for a in doc.attachments)
    assert found is None  # a few bytes of text, labelled application/pdf
    lt = letter(LetterKind.REMINDER, "nb", invoice_copy_attached=found is not None)
    assert "Trenger du en kopi av fakturaene" in " ".join(render_pdf_text(lt).split())


def render_pdf_text(lt: Letter) -> str:
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(lt))).pages)
