"""Letters of every kind and language, as the send path will build them (shared by tests and the bench)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connector.letters.model import (
    Charge,
    ChargeKind,
    CreditApplied,
    Creditor,
    Debtor,
    FollowUp,
    Handover,
    Instalment,
    InvoiceLine,
    Language,
    Letter,
    LetterKind,
    Money,
    NextAction,
    NextStep,
    PaymentDetails,
    PaymentReceived,
    PostalAddress,
)

COUNTRY = {"nb": "NO", "da": "DK", "sv": "SE"}
CURRENCY = {"nb": "NOK", "da": "DKK", "sv": "SEK"}
NOTICE_BASIS = {"nb": "inkassoloven § 9", "da": "inkassoloven § 10", "sv": "inkassolagen (1974:182) 5 §"}
FEE_BASIS = {
    "nb": "inkassoforskriften § 1-2",
    "da": "renteloven § 9 b",
    "sv": "lagen (1981:739) om ersättning för inkassokostnader m.m.",
}
INTEREST_BASIS = {"nb": "forsinkelsesrenteloven § 3", "da": "renteloven § 5", "sv": "räntelagen (1975:635) 6 §"}
SENT = date(2026, 3, 10)
PAY_BY = date(2026, 3, 24)


def m(amount: str, language: Language = "nb") -> Money:
    return Money(Decimal(amount), CURRENCY[language])


def creditor(language: Language = "nb") -> Creditor:
    return Creditor(
        name="Ærlige Østfold Regnskap & Søn AS",
        org_no="987654325",
        address=PostalAddress(("Storgata 1", "Postboks 12 Sentrum"), "0155", "Oslo", COUNTRY[language]),
        bank_account="1234.56.78903",
        iban="NO9312345678903",
        bic="DNBANOKK",
        email="regnskap@aerlige.example",
        phone="+47 22 00 00 00",
        contact_person="Åse Ødegård",
    )


def debtor(language: Language = "nb") -> Debtor:
    return Debtor(
        name="Bølgen & Måken Café ÄÖ AB",
        address=PostalAddress(("Kjøpmannsgata 7",), "7013", "Trondheim", COUNTRY[language]),
        customer_no="K-1042",
        org_no="912345678",
        attention="Björn Ärlig",
    )


def invoices(language: Language = "nb") -> tuple[InvoiceLine, ...]:
    return (
        InvoiceLine(
            number="10023",
            issue_date=date(2026, 1, 20),
            due_date=date(2026, 2, 3),
            amount=m("12500.00", language),
            payments=(PaymentReceived(date(2026, 2, 20), m("5000.00", language)),),
            credits=(CreditApplied("K-77", date(2026, 2, 25), m("1000.00", language)),),
            payment_reference="1002300008",
        ),
        InvoiceLine(
            number="10031",
            issue_date=date(2026, 1, 28),
            due_date=date(2026, 2, 11),
            amount=m("2349.50", language),
            payment_reference="1003100006",
        ),
    )


def charges(language: Language = "nb") -> tuple[Charge, ...]:
    return (
        Charge(ChargeKind.REMINDER_FEE, m("35.00", language), FEE_BASIS[language]),
        Charge(
            ChargeKind.LATE_INTEREST,
            m("46.16", language),
            INTEREST_BASIS[language],
            invoice_number="10023",
            rate=Decimal("12.00"),
            period_from=date(2026, 2, 4),
            period_to=SENT,
        ),
    )


def letter(kind: LetterKind, language: Language = "nb", **changes: object) -> Letter:
    base: dict[str, object] = dict(
        kind=kind,
        language=language,
        sent_on=SENT,
        reference=f"{kind.value[:2].upper()}-K1042-20260310",
        creditor=creditor(language),
        debtor=debtor(language),
        currency=CURRENCY[language],
        invoices=invoices(language),
        payment=PaymentDetails(account="1234.56.78903", iban="NO9312345678903", bic="DNBANOKK"),
    )
    if kind is LetterKind.REMINDER:
        base.update(charges=charges(language), pay_by=PAY_BY, next_step=NextStep(NextAction.COLLECTION_NOTICE))
    elif kind is LetterKind.COLLECTION_NOTICE:
        base.update(
            charges=charges(language),
            pay_by=PAY_BY,
            next_step=NextStep(NextAction.COLLECTION_CASE, agency="Kravia"),
            notice_basis=NOTICE_BASIS[language],
        )
    elif kind is LetterKind.COLLECTION_CASE:
        base.update(handover=Handover("Kravia AS", "post@kravia.example", "KR-2026-0042"), payment=None)
    elif kind is LetterKind.FOLLOW_UP:
        plan = (
            Instalment(date(2026, 3, 20), m("4000.00", language)),
            Instalment(date(2026, 4, 20), m("4849.50", language)),
        )
        base.update(
            pay_by=plan[0].due,
            next_step=NextStep(NextAction.COLLECTION_NOTICE),
            follow_up=FollowUp(
                agreed_on=date(2026, 3, 9),
                agreed_with="Björn Ärlig",
                plan=plan,
                follow_up_on=date(2026, 3, 23),
                confirm_by=date(2026, 3, 13),
            ),
        )
    base.update(changes)
    return Letter(**base)  # type: ignore[arg-type]
