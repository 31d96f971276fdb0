"""The reminder-channel interface: one message per reminder or notice, one result per send."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol

from connector.channels.letters import Letter
from connector.model import Attachment, Customer, Invoice


@dataclass(frozen=True)
class ReminderMessage:
    client_id: str
    creditor_name: str
    creditor_org_no: str
    country: str
    invoice: Invoice
    customer: Customer
    letter: Letter
    fee: Decimal
    sent_on: date
    attachments: tuple[Attachment, ...] = field(default=())


@dataclass(frozen=True)
class SendResult:
    channel: str
    ref: str  # file name, message id or the accounting system's reminder id — stored as the step's detail


class ReminderChannel(Protocol):
    name: str

    def deliver(self, message: ReminderMessage) -> SendResult: ...


class ChannelError(RuntimeError):
    """The channel refused or failed; nothing was recorded as sent."""
