"""The ``outbox`` provider: one JSON file per approved case (plus the invoice PDF) in a folder.

Idempotent by construction: the file name is the case id, written atomically (temp file + rename),
so pushing the same case again replaces that one file and never creates a second case file. Each
attachment is written beside it as ``<case id>--<file name>``, and the case file's ``attachments`` lists
those names. Two attachments that would be one file (the same name, names alike but for characters a file
name cannot carry, or for case on a share that ignores it) are both written, the later ones numbered
(``…--vedlegg-2.pdf``); the names follow from the attachments alone, in whatever order they come, so a
second push rewrites the same files.
Direct payments, credits and withdrawals are written as their own files next to the case, named
by our reference, so re-reporting one rewrites the same file. There is no remote state to pull.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from connector.collection.base import CasePayload, ProviderCase, PushResult, Transfer
from connector.files import safe_name, write_atomic
from connector.model import Attachment


class OutboxProvider:
    name = "outbox"

    def __init__(self, folder: Path):
        self.folder = folder

    def case_file(self, case_id: str) -> Path:
        return self.folder / f"{safe_name(case_id)}.json"

    def submit(self, payload: CasePayload, idem_key: str = "") -> PushResult:
        target = self.case_file(payload.case.case_id)
        existed = target.exists()
        written = []
        for name, att in attachment_files(payload.case.case_id, payload.attachments):
            write_atomic(self.folder / name, att.content)
            written.append(name)
        # The case file names its attachments as written (beside it), not as the ledger called them.
        self._write(target, {**payload.as_json(), "attachments": written})
        return PushResult(provider_ref=target.name, created=not existed)

    def find(self, payload: CasePayload, since: datetime | None) -> PushResult | None:
        target = self.case_file(payload.case.case_id)
        return PushResult(target.name, created=False) if target.exists() else None

    def get(self, provider_ref: str) -> ProviderCase | None:
        return None  # files have no status to pull

    def changes(self, cursor: str | None) -> tuple[list[ProviderCase], str | None]:
        return [], cursor

    def register_payment(self, provider_ref: str, payment: Transfer, idem_key: str) -> None:
        self._event(provider_ref, "payment", payment.ref, _transfer(payment))

    def credit(self, provider_ref: str, credit: Transfer, idem_key: str) -> None:
        self._event(provider_ref, "credit", credit.ref, _transfer(credit))

    def withdraw(self, provider_ref: str, reason: str, idem_key: str) -> None:
        self._event(provider_ref, "withdraw", "case", {"reason": reason})

    def _event(self, provider_ref: str, kind: str, ref: str, body: dict[str, Any]) -> None:
        stem = provider_ref.removesuffix(".json")
        self._write(self.folder / f"{stem}--{kind}--{safe_name(ref)}.json", {"case": stem, "kind": kind, **body})

    @staticmethod
    def _write(target: Path, body: dict[str, Any]) -> None:
        text = json.dumps(body, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        write_atomic(target, text.encode("utf-8"))


def attachment_files(case_id: str, attachments: Iterable[Attachment]) -> list[tuple[str, Attachment]]:
    """Each attachment's file name, ``<case id>--<file name>``, none two alike even ignoring case: a name
    taken already (by an attachment first in a fixed order: by name, then content) gets the first free
    number (``-2``, ``-3``, …) before its extension. Deterministic: the same attachments, the same names."""
    prefix = f"{safe_name(case_id)}--"
    ordered = sorted(attachments, key=lambda a: (a.filename, hashlib.sha256(a.content).hexdigest()))
    taken: set[str] = set()
    named: list[tuple[str, Attachment]] = []
    later: list[Attachment] = []
    for att in ordered:  # every name that is free keeps it, whatever comes after it
        name = prefix + safe_name(att.filename)
        if name.casefold() in taken:
            later.append(att)
        else:
            taken.add(name.casefold())
            named.append((name, att))
    for att in later:
        plain = Path(safe_name(att.filename))
        n = 2
        while (name := f"{prefix}{plain.stem}-{n}{plain.suffix}").casefold() in taken:
            n += 1
        taken.add(name.casefold())
        named.append((name, att))
    return named


def _transfer(t: Transfer) -> dict[str, Any]:
    return {
        "ref": t.ref,
        "amount": str(t.amount),
        "currency": t.currency,
        "date": t.on.isoformat(),
        "description": t.description,
    }
