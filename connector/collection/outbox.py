"""The ``outbox`` provider: one JSON file per approved case (plus the invoice PDF) in a folder.

Idempotent by construction: the file name is the case id, written atomically (temp file + rename),
so pushing the same case again replaces that one file and never creates a second case file.
"""

from __future__ import annotations

import json
from pathlib import Path

from connector.collection.base import CasePayload, PushResult
from connector.files import safe_name, write_atomic


class OutboxProvider:
    name = "outbox"

    def __init__(self, folder: Path):
        self.folder = folder

    def case_file(self, case_id: str) -> Path:
        return self.folder / f"{safe_name(case_id)}.json"

    def submit(self, payload: CasePayload) -> PushResult:
        target = self.case_file(payload.case.case_id)
        existed = target.exists()
        for att in payload.attachments:
            write_atomic(self.folder / f"{safe_name(payload.case.case_id)}--{safe_name(att.filename)}", att.content)
        body = json.dumps(payload.as_json(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        write_atomic(target, body.encode("utf-8"))
        return PushResult(provider_ref=target.name, created=not existed)
