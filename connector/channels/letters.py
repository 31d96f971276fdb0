"""Letter texts that reach a debtor, in the client's language (bokmål, Danish, Swedish).

A reminder states the invoice number and due date, says payment has not been received, asks when
payment can be expected and whether anything is wrong with the invoice or the delivery. A
collection notice (inkassovarsel: NO inkassoloven § 9, DK § 10) also states the amount and, when a
fee is added, the total, that the claim goes to collection (inkasso) when it is not paid by the
deadline, the deadline date and its legal minimum (NO ≥ 14, DK ≥ 10 days from sending); a notice
without a deadline is refused. Amounts are printed with their currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from connector.model import Action

TEXTS: dict[str, dict[str, str]] = {
    "nb": {
        "reminder_title": "Betalingspåminnelse",
        "notice_title": "Inkassovarsel",
        "greeting": "Til {debtor}",
        "body": (
            "Vi har ikke mottatt betaling for faktura {invoice} med forfallsdato {due}.\n"
            "Utestående beløp: {amount} {currency}.\n"
        ),
        "fee": "Purregebyr: {fee} {currency}.\n",
        "total": "Å betale i alt: {total} {currency}.\n",
        "interest": (
            "Forsinkelsesrente etter forsinkelsesrenteloven er påløpt med {interest} {currency} "
            "per {through} ({rate}).\n"
        ),
        "question": (
            "Når kan vi forvente betaling? Dersom noe er feil med fakturaen eller leveransen, "
            "ber vi deg kontakte oss snarest, så ser vi på saken.\n"
            "Har du allerede betalt, kan du se bort fra dette brevet.\n"
        ),
        "notice": (
            "Dersom beløpet ikke er betalt innen {deadline} (minst 14 dager fra dette varselet), "
            "vil kravet bli overlevert til inkasso. Det kan medføre ytterligere kostnader.\n"
        ),
        "payment": "Bruk KID {kid} ved betaling.\n",
        "closing": "Med vennlig hilsen\n{creditor} (org.nr. {org_no})\n",
    },
    "da": {
        "reminder_title": "Betalingspåmindelse (rykker)",
        "notice_title": "Inkassovarsel",
        "greeting": "Til {debtor}",
        "body": (
            "Vi har ikke modtaget betaling for faktura {invoice} med forfaldsdato {due}.\n"
            "Udestående beløb: {amount} {currency}.\n"
        ),
        "fee": "Rykkergebyr: {fee} {currency}.\n",
        "total": "I alt til betaling: {total} {currency}.\n",
        "interest": "Morarente efter renteloven udgør {interest} {currency} pr. {through} ({rate}).\n",
        "question": (
            "Hvornår kan vi forvente betaling? Hvis der er noget galt med fakturaen eller leverancen, "
            "bedes du kontakte os hurtigst muligt.\n"
            "Har du allerede betalt, kan du se bort fra dette brev.\n"
        ),
        "notice": (
            "Hvis beløbet ikke er betalt senest {deadline} (mindst 10 dage fra dette brev), "
            "overgives kravet til inkasso, hvilket kan medføre yderligere omkostninger.\n"
        ),
        "payment": "Angiv betalingsreference {kid} ved betaling.\n",
        "closing": "Med venlig hilsen\n{creditor} (CVR {org_no})\n",
    },
    "sv": {
        "reminder_title": "Betalningspåminnelse",
        "notice_title": "Inkassovarning",
        "greeting": "Till {debtor}",
        "body": (
            "Vi har inte mottagit betalning för faktura {invoice} med förfallodatum {due}.\n"
            "Utestående belopp: {amount} {currency}.\n"
        ),
        "fee": "Påminnelseavgift: {fee} {currency}.\n",
        "total": "Att betala totalt: {total} {currency}.\n",
        "interest": "Dröjsmålsränta enligt räntelagen uppgår till {interest} {currency} per {through} ({rate}).\n",
        "question": (
            "När kan vi förvänta oss betalning? Om något är fel med fakturan eller leveransen, "
            "kontakta oss så snart som möjligt.\n"
            "Har du redan betalat kan du bortse från detta brev.\n"
        ),
        "notice": (
            "Om beloppet inte är betalt senast {deadline} kommer fordran att lämnas till inkasso, "
            "vilket kan medföra ytterligare kostnader.\n"
        ),
        "payment": "Ange referens {kid} vid betalning.\n",
        "closing": "Med vänliga hälsningar\n{creditor} (org.nr {org_no})\n",
    },
}


@dataclass(frozen=True)
class Letter:
    step: Action
    language: str
    creditor: str
    creditor_org_no: str
    debtor: str
    invoice: str
    due: date
    amount: Decimal
    currency: str
    fee: Decimal
    kid: str | None
    deadline: date | None  # collection notices only
    interest: Decimal | None = None  # accrued late interest, shown (from the rule pack; never guessed)
    interest_through: date | None = None
    interest_rate: str = ""  # e.g. "142 d at 12.00 %"

    def render(self) -> str:
        t = TEXTS[self.language]
        notice = self.step is Action.COLLECTION_NOTICE
        if notice and self.deadline is None:  # inkassoloven NO § 9 / DK § 10: the deadline must be stated
            raise ValueError(f"collection notice for invoice {self.invoice} needs a payment deadline")
        parts = [
            t["notice_title" if notice else "reminder_title"] + "\n\n",
            t["greeting"].format(debtor=self.debtor) + "\n\n",
            t["body"].format(
                invoice=self.invoice, due=self.due.isoformat(), amount=self.amount, currency=self.currency
            ),
        ]
        if self.fee:
            parts.append(t["fee"].format(fee=self.fee, currency=self.currency))
            parts.append(t["total"].format(total=self.amount + self.fee, currency=self.currency))
        if self.interest and self.interest_through is not None:
            parts.append(
                t["interest"].format(
                    interest=self.interest,
                    currency=self.currency,
                    through=self.interest_through.isoformat(),
                    rate=self.interest_rate,
                )
            )
        parts.append("\n" + t["question"])
        if self.deadline is not None and notice:
            parts.append("\n" + t["notice"].format(deadline=self.deadline.isoformat()))
        if self.kid:
            parts.append("\n" + t["payment"].format(kid=self.kid))
        parts.append("\n" + t["closing"].format(creditor=self.creditor, org_no=self.creditor_org_no))
        return "".join(parts)
