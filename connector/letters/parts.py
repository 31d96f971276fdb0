"""The fixed parts of every letter, as formatted strings: letterhead, address block, reference box and
the table of invoices. The PDF and the text renderings lay out the same parts, so they cannot differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from connector import formats
from connector.letters.model import Charge, ChargeKind, Letter, LetterKind, Money
from connector.letters.templates import keep_section_sign

RowStyle = Literal["invoice", "detail", "remainder", "charge", "total"]


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    date: str  # issue date, payment date, credit date
    due: str
    amount: str
    style: RowStyle
    note: str = ""  # the legal basis of a charge, the interest period


@dataclass(frozen=True, slots=True)
class Table:
    head: tuple[str, str, str, str]
    rows: tuple[Row, ...]


def address_block(letter: Letter, labels: dict[str, Any]) -> list[str]:
    """The debtor's address as it shows in the envelope window (country only when abroad)."""
    d = letter.debtor
    lines = [d.name]
    if d.attention:
        lines.append(f"{labels['head']['attention']} {d.attention}")
    lines += [line for line in d.address.lines if line.strip()]
    lines.append(f"{d.address.postal_code} {d.address.city}".strip())
    if d.address.country and d.address.country != letter.creditor.address.country:
        lines.append(labels.get("countries", {}).get(d.address.country, d.address.country))
    return lines


def creditor_lines(letter: Letter) -> list[str]:
    a = letter.creditor.address
    return [*a.lines, f"{a.postal_code} {a.city}".strip()]


def creditor_facts(letter: Letter, labels: dict[str, Any]) -> list[tuple[str, str]]:
    """Org no, bank account and contact, for the letterhead."""
    c, h = letter.creditor, labels["head"]
    facts = [(h["org_no"], c.org_no), (h["account"], c.bank_account)]
    facts += [(h["iban"], c.iban)] if c.iban else []
    facts += [(h["bic"], c.bic)] if c.bic else []
    facts += [(h["email"], c.email)] if c.email else []
    facts += [(h["phone"], c.phone)] if c.phone else []
    return facts


def reference_box(letter: Letter, labels: dict[str, Any]) -> list[tuple[str, str]]:
    """Date, our reference, customer number and the pay-by date, beside the address."""
    h = labels["head"]
    box = [(h["date"], formats.day(letter.sent_on, letter.language)), (h["our_ref"], letter.reference)]
    if letter.debtor.customer_no:
        box.append((h["customer_no"], letter.debtor.customer_no))
    if letter.pay_by is not None:
        box.append((h["pay_by"], formats.day(letter.pay_by, letter.language)))
    return box


def footer(letter: Letter, labels: dict[str, Any]) -> str:
    c, h = letter.creditor, labels["head"]
    return f"{c.name} · {h['org_no']} {c.org_no} · {h['account']} {c.bank_account}"


def _charge_text(charge: Charge, letter: Letter, labels: dict[str, Any]) -> tuple[str, str]:
    lang, t = letter.language, labels["table"]
    text = labels["charge"][charge.kind.value]
    if charge.invoice_number and len(letter.invoices) > 1:
        text += f" ({t['invoice'].lower()} {charge.invoice_number})"
    note = keep_section_sign(charge.legal_basis)
    if charge.kind is ChargeKind.LATE_INTEREST and charge.rate is not None:
        note += f"; {formats.percent(charge.rate, lang)} {t['per_year']}"
        if charge.period_from and charge.period_to:
            note += f", {formats.day(charge.period_from, lang)}–{formats.day(charge.period_to, lang)}"
    return text, note


def invoice_table(letter: Letter, labels: dict[str, Any]) -> Table:
    """One row per invoice, then each payment and credit (negative), the remainder when anything was
    paid or credited, the charges with their legal basis, and the total owed now."""
    lang, t = letter.language, labels["table"]

    def amt(m: Money) -> str:
        return formats.amount(m.amount, lang)

    rows: list[Row] = []
    for inv in letter.invoices:
        rows.append(
            Row(
                f"{t['invoice']} {inv.number}",
                formats.day(inv.issue_date, lang),
                formats.day(inv.due_date, lang),
                amt(inv.amount),
                "invoice",
            )
        )
        for p in sorted(inv.payments, key=lambda p: p.on):
            text = t["payment"] + (f" ({p.reference})" if p.reference else "")
            rows.append(Row(text, formats.day(p.on, lang), "", formats.amount(-p.amount.amount, lang), "detail"))
        for c in sorted(inv.credits, key=lambda c: c.on):
            rows.append(
                Row(
                    f"{t['credit']} {c.number}",
                    formats.day(c.on, lang),
                    "",
                    formats.amount(-c.amount.amount, lang),
                    "detail",
                )
            )
        if inv.payments or inv.credits:
            rows.append(Row(f"{t['remainder']} {inv.number}", "", "", amt(inv.owed), "remainder"))
    for charge in letter.charges:
        text, note = _charge_text(charge, letter, labels)
        charged = formats.day(charge.charged_on, lang) if charge.charged_on else ""  # the letter that charged it
        rows.append(Row(text, charged, "", amt(charge.amount), "charge", note))
    total_label = t["balance"] if letter.kind is LetterKind.STATEMENT else t["total"]
    rows.append(Row(total_label, "", "", amt(letter.total_owed), "total"))  # the currency is in the head
    head = (t["text"], t["date"], t["due"], f"{t['amount']} ({letter.currency})")
    return Table(head, tuple(rows))
