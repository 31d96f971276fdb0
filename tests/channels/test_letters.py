"""What a debtor reads, per language: the content the law and good practice require in each letter."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connector.channels.letters import Letter
from connector.model import Action

SENT = date(2026, 2, 2)


def _letter(step: Action, language: str, *, fee: str = "0", deadline: date | None = None) -> Letter:
    return Letter(
        step=step,
        language=language,
        creditor="Acme AS",
        creditor_org_no="923456783",
        debtor="Kunde AS",
        invoice="7001",
        due=date(2026, 1, 5),
        amount=Decimal("10000.00"),
        currency="NOK" if language == "nb" else "DKK" if language == "da" else "SEK",
        fee=Decimal(fee),
        kid="0070013",
        deadline=deadline,
    )


# (not received, when can we expect payment, anything wrong with invoice or delivery)
REMINDER = {
    "nb": ("Vi har ikke mottatt betaling for faktura 7001 med forfallsdato 2026-01-05", "Når kan vi forvente betaling?",
           "Dersom noe er feil med fakturaen eller leveransen"),
    "da": ("Vi har ikke modtaget betaling for faktura 7001 med forfaldsdato 2026-01-05",
           "Hvornår kan vi forvente betaling?", "Hvis der er noget galt med fakturaen eller leverancen"),
    "sv": ("Vi har inte mottagit betalning för faktura 7001 med förfallodatum 2026-01-05",
           "När kan vi förvänta oss betalning?", "Om något är fel med fakturan eller leveransen"),
}  # fmt: skip


@pytest.mark.parametrize("language", ["nb", "da", "sv"])
def test_reminder_states_invoice_due_date_not_received_and_asks(language: str) -> None:
    text = _letter(Action.REMINDER, language, fee="35.00").render()
    for phrase in REMINDER[language]:
        assert phrase in text
    assert "10000.00" in text and "35.00" in text and "10035.00" in text  # amount, fee and the total
    assert "0070013" in text and "Acme AS" in text and "Kunde AS" in text
    assert "inkasso" not in text.lower()  # a reminder threatens nothing


def test_norwegian_inkassovarsel_section_9() -> None:
    deadline = date(2026, 2, 16)  # 14 days from sending
    text = _letter(Action.COLLECTION_NOTICE, "nb", deadline=deadline).render()
    assert text.startswith("Inkassovarsel")
    assert "Utestående beløp: 10000.00 NOK" in text  # the amount
    assert "ikke er betalt innen 2026-02-16" in text  # the deadline date
    assert "minst 14 dager fra dette varselet" in text
    assert "vil kravet bli overlevert til inkasso" in text  # collection follows
    assert "Dersom noe er feil med fakturaen eller leveransen" in text  # room for an objection
    assert "påminnelsen" not in text  # the letter is a varsel, not a reminder


def test_danish_inkassovarsel_section_10() -> None:
    text = _letter(Action.COLLECTION_NOTICE, "da", fee="100.00", deadline=date(2026, 2, 12)).render()
    assert text.startswith("Inkassovarsel")
    # the claim's details: which invoice, its due date, principal, fee, total
    assert "faktura 7001 med forfaldsdato 2026-01-05" in text
    assert "Udestående beløb: 10000.00 DKK" in text and "Rykkergebyr: 100.00 DKK" in text
    assert "I alt til betaling: 10100.00 DKK" in text
    assert "ikke er betalt senest 2026-02-12 (mindst 10 dage fra dette brev)" in text
    assert "overgives kravet til inkasso" in text and "yderligere omkostninger" in text


def test_swedish_collection_notice() -> None:
    text = _letter(Action.COLLECTION_NOTICE, "sv", deadline=date(2026, 2, 16)).render()
    assert text.startswith("Inkassovarning")
    assert "Utestående belopp: 10000.00 SEK" in text
    assert "inte är betalt senast 2026-02-16 kommer fordran att lämnas till inkasso" in text


@pytest.mark.parametrize("language", ["nb", "da", "sv"])
def test_notice_without_a_deadline_is_refused(language: str) -> None:
    with pytest.raises(ValueError, match="deadline"):
        _letter(Action.COLLECTION_NOTICE, language).render()
