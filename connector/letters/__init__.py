"""Letters to debtors: reminders, collection notices, handover letters, call follow-ups and statements.

One content model (:mod:`.model`, pure data) is worded by a Jinja2 template per language and kind
(``templates/<nb|da|sv>/<kind>.j2``, overridable per client: :mod:`.templates`) and rendered twice
from that one wording: as an A4 PDF typeset by Typst (:mod:`.pdf`) and as plain text for the e-mail
body (:mod:`.text`). :mod:`.attach` puts the invoice copy behind the letter. The pay-by date a letter
states is computed in the core from the rule packs (:func:`connector.dunning.deadlines.pay_by_date`).

    letter = Letter(kind=LetterKind.REMINDER, language="nb", ...)
    pdf = with_invoice_copies(render_pdf(letter, override_dir), [invoice_pdf])
    mail = render_text(letter, override_dir)  # .subject, .body
"""

from connector.letters.attach import invoice_pdf, is_pdf, with_invoice_copies
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
from connector.letters.pdf import RenderError, render_pdf
from connector.letters.templates import TemplateError, compose, environment
from connector.letters.text import TextLetter, render_text

__all__ = [
    "Charge",
    "ChargeKind",
    "CreditApplied",
    "Creditor",
    "Debtor",
    "FollowUp",
    "Handover",
    "Instalment",
    "InvoiceLine",
    "Language",
    "Letter",
    "LetterKind",
    "Money",
    "NextAction",
    "NextStep",
    "PaymentDetails",
    "PaymentReceived",
    "PostalAddress",
    "RenderError",
    "TemplateError",
    "TextLetter",
    "compose",
    "environment",
    "invoice_pdf",
    "is_pdf",
    "render_pdf",
    "render_text",
    "with_invoice_copies",
]
