"""The ``outbox`` reminder channel: per reminder or notice, an EHF Reminder 3.0 document, the
plain-text letter and a copy of the invoice PDF (when the store has one), written to a folder.

Files are named by (client, invoice, step, day) and written atomically: running twice on a day
rewrites the same files instead of sending a second reminder.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from connector.channels import ehf_reminder
from connector.channels.base import ReminderMessage, SendResult
from connector.channels.letters import Letter
from connector.files import safe_name, write_atomic


class OutboxChannel:
    name = "outbox"

    def __init__(self, folder: Path):
        self.folder = folder

    def stem(self, client_id: str, invoice: str, step: str, sent_on: date) -> str:
        """The shared start of the names of one send's files."""
        return f"{safe_name(client_id)}--{safe_name(invoice)}--{step}--{sent_on.isoformat()}"

    def send(self, client_id: str, letter: Letter, sent_on: date) -> Path:
        """The letter alone (kept for callers that have no full message)."""
        path = self.folder / f"{self.stem(client_id, letter.invoice, str(letter.step), sent_on)}.txt"
        write_atomic(path, letter.render().encode("utf-8"))
        return path

    def deliver(self, message: ReminderMessage) -> SendResult:
        stem = self.stem(message.client_id, message.invoice.number, str(message.letter.step), message.sent_on)
        write_atomic(self.folder / f"{stem}.xml", ehf_reminder.build(message))
        for att in message.attachments:
            write_atomic(self.folder / f"{stem}--{safe_name(att.filename)}", att.content)
        letter = self.folder / f"{stem}.txt"
        write_atomic(letter, message.letter.render().encode("utf-8"))  # last: its presence means complete
        return SendResult(self.name, letter.name)
