"""The ``outbox`` channel: each letter written to a folder for the accountant to print and post.

Per letter: the PDF (the letter, then a copy of each invoice it names: ``<stem>.pdf``) and, for a reminder or
collection notice, one EHF Reminder 3.0 document per invoice (``<stem>--<invoice>.xml``). Every file is
written atomically (to a temp file, fsynced, renamed) and the PDF last, so its presence proves the whole letter
was written (``connector.actions.resolve``); the folder itself is fsynced once per batch of letters
(:meth:`OutboxChannel.flush`), before they are recorded sent.

Posted: a letter is posted once its PDF has left the outbox folder — moved into ``posted/`` beside it (or
anywhere else) by the accountant or the print service. Until then it may be voided (``arsync letters
cancel``): its files move into ``cancelled/``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from connector.channels.base import LetterMessage, SendResult
from connector.files import fsync_dir, safe_name, write_atomic

POSTED = "posted"
CANCELLED = "cancelled"


class OutboxChannel:
    name = "outbox"

    def __init__(self, folder: Path):
        self.folder = folder
        self._unsynced = False  # letters written since the folder was last fsynced

    def stem(self, client_id: str, invoice: str, step: str, sent_on: date) -> str:
        """The file names' start of a send from before letters named several invoices (an unresolved intent
        of an older arsync)."""
        return f"{safe_name(client_id)}--{safe_name(invoice)}--{step}--{sent_on.isoformat()}"

    def pdf(self, stem: str) -> Path:
        return self.folder / f"{stem}.pdf"

    def files(self, stem: str) -> list[Path]:
        """The letter's files still in the outbox folder (PDF and EHF documents)."""
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if p.is_file() and _of(p.name, stem))

    def where(self, stem: str) -> tuple[str, Path] | None:
        """Where the letter's PDF is: ("outbox" | "posted" | "cancelled", path), or None (moved elsewhere)."""
        for state, folder in (
            ("outbox", self.folder),
            (POSTED, self.folder / POSTED),
            (CANCELLED, self.folder / CANCELLED),
        ):
            path = folder / f"{stem}.pdf"
            if path.is_file():
                return state, path
        return None

    def deliver_letter(self, message: LetterMessage) -> SendResult:
        for name, content in message.documents:
            write_atomic(self.folder / name, content)
        letter = self.pdf(message.stem)
        write_atomic(letter, message.pdf)  # last: its presence means the letter is complete
        self._unsynced = True
        return SendResult(self.name, letter.name)

    def flush(self) -> None:
        """Make the letters written since the last flush durable in the folder (one directory fsync for a
        batch; each file was fsynced before its rename): called before they are recorded sent."""
        if self._unsynced:
            fsync_dir(self.folder)
            self._unsynced = False

    def cancel(self, stem: str) -> list[Path]:
        """Move the letter's files into ``cancelled/``; the moved paths."""
        moved = []
        target = self.folder / CANCELLED
        for path in self.files(stem):
            target.mkdir(parents=True, exist_ok=True)
            dest = target / path.name
            path.replace(dest)
            moved.append(dest)
        return moved


def _of(name: str, stem: str) -> bool:
    return name == f"{stem}.pdf" or (name.startswith(f"{stem}--") and name.endswith(".xml"))
