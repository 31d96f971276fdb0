"""Every letter kind in every language, rendered to a real PDF and read back: everything the law and the
playbook require is on the page (and in the e-mail text), with amounts and dates as the language writes them."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

from connector import formats as f
from connector.letters import (
    InvoiceLine,
    Language,
    Letter,
    LetterKind,
    NextAction,
    PostalAddress,
    render_pdf,
    render_text,
)
from connector.letters.parts import address_block
from connector.letters.templates import labels
from tests.letters.letter_samples import debtor, letter, m

KINDS = list(LetterKind)
LANGUAGES: list[Language] = ["nb", "da", "sv"]

QUESTION = {
    "nb": "Når kan vi forvente betaling?",
    "da": "Hvornår kan vi forvente betaling?",
    "sv": "När kan vi förvänta oss betalning?",
}
QUESTIONS_WELCOME = {  # questions about the invoice, the goods and the payment methods are welcome
    "nb": ("fakturaen", "varene eller tjenestene", "betalingsmåten"),
    "da": ("fakturaen", "varerne eller ydelserne", "betalingsmåden"),
    "sv": ("fakturan", "varorna eller tjänsterna", "betalningssättet"),
}
NEXT_STEP = {  # the next ladder step, named
    ("nb", NextAction.COLLECTION_NOTICE): "sender vi inkassovarsel",
    ("nb", NextAction.COLLECTION_CASE): "overleverer vi kravet til inkasso (Kravia)",
    ("da", NextAction.COLLECTION_NOTICE): "sender vi et inkassovarsel",
    ("da", NextAction.COLLECTION_CASE): "overdrager vi kravet til inkasso (Kravia)",
    ("sv", NextAction.COLLECTION_NOTICE): "skickar vi en inkassovarning",
    ("sv", NextAction.COLLECTION_CASE): "lämnar vi fordran till inkasso (Kravia)",
}
CONFIRM = {
    "nb": "bekrefte avtalen skriftlig",
    "da": "bekræfte aftalen skriftligt",
    "sv": "bekräfta överenskommelsen skriftligt",
}
CHARGE_LABELS = {
    "nb": ("Purregebyr", "Forsinkelsesrente"),
    "da": ("Rykkergebyr", "Morarente"),
    "sv": ("Påminnelseavgift", "Dröjsmålsränta"),
}


def pdf_text(pdf: bytes) -> str:
    return normalise("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace(f.NBSP, " ")).strip()


def n(text: str) -> str:
    return normalise(text)


def required(letter: Letter) -> list[str]:
    """What a reader must find in ``letter``, built from its data (amounts and dates formatted)."""
    lang = letter.language
    c, d = letter.creditor, letter.debtor
    want = [c.name, c.org_no, c.bank_account, c.address.lines[0], f"{c.address.postal_code} {c.address.city}"]
    want += [c.email, c.phone, d.name, *d.address.lines, f"{d.address.postal_code} {d.address.city}"]
    for inv in letter.invoices:
        want += [inv.number, f.day(inv.issue_date, lang), f.day(inv.due_date, lang), f.amount(inv.amount.amount, lang)]
        for p in inv.payments:
            want += [f.day(p.on, lang), f.amount(-p.amount.amount, lang)]
        for cr in inv.credits:
            want += [cr.number, f.day(cr.on, lang), f.amount(-cr.amount.amount, lang)]
        if inv.payments or inv.credits:
            want.append(f.amount(inv.owed.amount, lang))  # the remainder, not only the original amount
    for ch in letter.charges:
        want += [f.amount(ch.amount.amount, lang), ch.legal_basis]
    want.append(f.amount(letter.total_owed.amount, lang))
    if letter.kind in (LetterKind.REMINDER, LetterKind.COLLECTION_NOTICE, LetterKind.FOLLOW_UP):
        assert letter.pay_by and letter.next_step and letter.payment
        want += [f.day(letter.pay_by, lang), letter.payment.account, letter.payment.iban]
        want += [inv.payment_reference for inv in letter.invoices]
    if letter.kind in (LetterKind.REMINDER, LetterKind.COLLECTION_NOTICE):
        assert letter.next_step
        want += [QUESTION[lang], *QUESTIONS_WELCOME[lang], NEXT_STEP[lang, letter.next_step.action]]
        want += [f.money(letter.total_owed.amount, letter.total_owed.currency, lang)]
        want += list(CHARGE_LABELS[lang])
    if letter.kind is LetterKind.COLLECTION_NOTICE:
        want.append(letter.notice_basis)
    if letter.kind is LetterKind.FOLLOW_UP:
        fu = letter.follow_up
        assert fu and letter.next_step
        for i in fu.plan:
            want += [f.money(i.amount.amount, i.amount.currency, lang), f.day(i.due, lang)]
        want += [f.day(fu.agreed_on, lang), f.day(fu.follow_up_on, lang), f.day(fu.confirm_by, lang), CONFIRM[lang]]
        want.append(NEXT_STEP[lang, letter.next_step.action])
    if letter.kind is LetterKind.COLLECTION_CASE:
        h = letter.handover
        assert h
        want += [h.agency, h.agency_contact, h.case_reference]
    return [n(w) for w in want]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_pdf_states_every_required_element(kind: LetterKind, language: Language) -> None:
    lt = letter(kind, language)
    pdf = render_pdf(lt)
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)  # A4
    text = pdf_text(pdf)
    missing = [w for w in required(lt) if w not in text]
    assert not missing, f"{language}/{kind}: not on the page: {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_email_text_states_the_same(kind: LetterKind, language: Language) -> None:
    lt = letter(kind, language)
    mail = render_text(lt)
    text = normalise(mail.subject + "\n" + mail.body)
    missing = [w for w in required(lt) if w not in text]
    assert not missing, f"{language}/{kind}: not in the e-mail: {missing}"
    assert mail.subject and "\n" not in mail.subject
    assert normalise(mail.subject) in pdf_text(render_pdf(lt))  # the PDF's heading is the e-mail's subject


def test_part_paid_invoice_shows_payment_and_remainder_and_total_is_the_remainder() -> None:
    lt = letter(LetterKind.REMINDER, "nb", charges=())
    inv = lt.invoices[0]
    assert inv.owed.amount == inv.amount.amount - 5000 - 1000
    text = pdf_text(render_pdf(lt))
    assert "Innbetalt 20.02.2026 −5 000,00" in text
    assert "Kreditnota K-77 25.02.2026 −1 000,00" in text
    assert "Rest faktura 10023 6 500,00" in text
    total = inv.owed.amount + lt.invoices[1].amount.amount
    assert f"Vi ber deg betale {n(f.money(total, 'NOK', 'nb'))} innen 24.03.2026." in text


def test_single_invoice_reminder_names_number_and_due_date_in_the_text() -> None:
    lt = letter(LetterKind.REMINDER, "nb", invoices=letter(LetterKind.REMINDER).invoices[1:], charges=())
    text = pdf_text(render_pdf(lt))
    assert "faktura 10031, som forfalt 11.02.2026" in text
    assert "Betalingspåminnelse – faktura 10031" in text


def test_invoice_copy_attached_or_where_to_find_it() -> None:
    attached = pdf_text(render_pdf(letter(LetterKind.REMINDER, "nb", invoice_copy_attached=True)))
    assert "Kopi av fakturaene er vedlagt." in attached
    hint = pdf_text(render_pdf(letter(LetterKind.REMINDER, "da", invoice_copy_hint="i jeres e-fakturaindbakke")))
    assert "Fakturaerne finder du i jeres e-fakturaindbakke." in hint
    ask = pdf_text(render_pdf(letter(LetterKind.REMINDER, "sv")))
    assert "Behöver du en kopia av fakturorna skickar vi den gärna" in ask


def test_special_characters_and_markup_print_as_written() -> None:
    name = "Æbelø & Smørrebrød #1 *ÄÖ* _åäö_ $5 @home <x> [y] \\z `q` // = – €"
    lt = letter(
        LetterKind.REMINDER,
        "nb",
        debtor=replace(debtor(), name=name, address=PostalAddress(("Øvre Ærø vei 3 – oppgang B",), "9999", "Å", "NO")),
        invoices=(
            InvoiceLine("ÆØÅ-€1", date(2026, 1, 2), date(2026, 1, 16), m("1000000.00")),
            *letter(LetterKind.REMINDER).invoices,
        ),
    )
    text = pdf_text(render_pdf(lt))
    for expected in (name, "Øvre Ærø vei 3 – oppgang B", "9999 Å", "Faktura ÆØÅ-€1", "1 000 000,00"):
        assert n(expected) in text
    assert n(name) in normalise(render_text(lt).body)


def test_debtor_abroad_gets_the_country_line() -> None:
    abroad = replace(debtor(), address=PostalAddress(("Drottninggatan 1",), "111 51", "Stockholm", "SE"))
    assert "111 51 Stockholm SVERIGE" in pdf_text(render_pdf(letter(LetterKind.REMINDER, "nb", debtor=abroad)))
    assert "SVERIGE" not in pdf_text(render_pdf(letter(LetterKind.REMINDER, "nb")))


def test_page_numbers_only_when_more_than_one_page() -> None:
    one = PdfReader(io.BytesIO(render_pdf(letter(LetterKind.STATEMENT, "nb"))))
    assert len(one.pages) == 1 and "Side 1" not in pdf_text(render_pdf(letter(LetterKind.STATEMENT, "nb")))
    many = tuple(
        InvoiceLine(
            f"2{i:04d}", date(2026, 1, 1) + timedelta(days=i), date(2026, 2, 1) + timedelta(days=i), m("999.90")
        )
        for i in range(45)
    )
    pdf = render_pdf(letter(LetterKind.STATEMENT, "nb", invoices=many))
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) >= 2
    for i, page in enumerate(pages, 1):
        assert f"Side {i} av {len(pages)}" in normalise(page.extract_text())
    text = pdf_text(pdf)
    assert all(inv.number in text for inv in many)
    assert n("Saldo " + f.amount(sum((i.amount.amount for i in many), Decimal(0)), "nb")) in text


def test_same_letter_same_bytes() -> None:
    assert render_pdf(letter(LetterKind.COLLECTION_NOTICE, "da")) == render_pdf(
        letter(LetterKind.COLLECTION_NOTICE, "da")
    )
    assert render_pdf(letter(LetterKind.REMINDER)) != render_pdf(letter(LetterKind.REMINDER, reference="other"))


def test_debtor_address_sits_in_the_envelope_window() -> None:
    """Every address line lies inside the window area shared by C5, C6/5, E65/DL and EC4 left-window
    envelopes: from 15 mm from the left, 40–70 mm from the top (see templates/letter.typ)."""
    lt = letter(LetterKind.REMINDER, "nb")
    page = PdfReader(io.BytesIO(render_pdf(lt))).pages[0]
    height = float(page.mediabox.height)
    found: dict[str, tuple[float, float]] = {}

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():
            x, y = tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]  # text origin on the page, in points
            found.setdefault(normalise(text), (x, y))

    page.extract_text(visitor_text=visit)
    mm = 72 / 25.4
    address = [n(line) for line in address_block(lt, labels(lt.language))]
    for line in address:
        x, y = next(pos for text, pos in found.items() if line in text)
        from_top = (height - y) / mm  # baseline
        assert 20 <= x / mm <= 25, (line, x / mm)
        assert 44 <= from_top <= 70, (line, from_top)
