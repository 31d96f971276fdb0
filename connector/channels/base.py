"""The channel interface: where a letter to a debtor goes, and one result per send.

Arsync's own letters (``outbox``, ``email``) travel as a :class:`LetterMessage`: the rendered letter (PDF and
text) with the EHF Reminder documents and invoice copies that go with it. ``tripletex`` writes its own
reminder per invoice from a :class:`ReminderMessage`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol

from connector.model import Action, Attachment, Customer, Invoice


@dataclass(frozen=True)
class LetterMessage:
    """One letter, rendered: what the outbox writes and the e-mail carries."""

    client_id: str
    letter_id: str  # our reference, printed on the letter
    stem: str  # the start of the outbox file names (and of the e-mail's Message-ID)
    kind: str  # connector.letters.LetterKind
    customer: Customer
    sent_on: date
    subject: str
    body: str  # the letter as plain text (the e-mail's body)
    pdf: bytes  # the letter, then the invoice copies: one file (the outbox's)
    letter_pdf: bytes  # the letter alone (the e-mail's first attachment)
    copies: tuple[Attachment, ...] = ()  # the invoice copies as PDFs (the e-mail's further attachments)
    documents: tuple[tuple[str, bytes], ...] = ()  # (file name, EHF Reminder XML), one per invoice named
    invoices: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ReminderMessage:
    """One invoice's reminder or notice, for a channel that writes the letter itself (Tripletex)."""

    client_id: str
    invoice: Invoice
    customer: Customer
    step: Action
    fee: Decimal
    sent_on: date


@dataclass(frozen=True)
class SendResult:
    channel: str
    ref: str  # file name, message id or the accounting system's reminder id — stored as the step's detail


class LetterChannel(Protocol):
    name: str

    def deliver_letter(self, message: LetterMessage) -> SendResult: ...


class ReminderChannel(Protocol):
    name: str

    def deliver(self, message: ReminderMessage) -> SendResult: ...


Channel = LetterChannel | ReminderChannel


class ChannelError(RuntimeError):
    """The channel refused or failed; nothing was recorded as sent."""
