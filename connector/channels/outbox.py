"""The ``outbox`` reminder channel: a plain-text letter per reminder or notice, written to a folder.

One file per (client, invoice, step, day), written atomically: running twice on a day rewrites the
same letter instead of sending a second one.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from connector.channels.letters import Letter
from connector.files import safe_name, write_atomic


class OutboxChannel:
    name = "outbox"

    def __init__(self, folder: Path):
        self.folder = folder

    def send(self, client_id: str, letter: Letter, sent_on: date) -> Path:
        name = f"{safe_name(client_id)}--{safe_name(letter.invoice)}--{letter.step}--{sent_on.isoformat()}.txt"
        path = self.folder / name
        write_atomic(path, letter.render().encode("utf-8"))
        return path
