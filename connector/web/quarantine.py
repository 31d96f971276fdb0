"""Quarantine and release a file arsync cannot go by (POST, each behind ``form_post``: CSRF-checked,
same-site only), as ``arsync files quarantine/release``: ``connector.actions.files`` decides and records
it in the audit trail with the user, the time and the address. Only an approver may act, and only on a
client they may see (``records.action``)."""

from __future__ import annotations

from starlette.datastructures import FormData

from connector.actions import files as files_service
from connector.config import ClientConfig
from connector.web.context import Workbench
from connector.web.records import Who, action, text


def _sentence(line: str) -> str:
    return line[:1].upper() + line[1:] + "."


def quarantine_file(wb: Workbench, client: ClientConfig, form: FormData, who: Who) -> str:
    path = text(form, "path", "The file")
    reason = text(form, "reason", "Why the file is taken out of consideration")
    done = files_service.quarantine(
        wb.store, client, path, reason, wb.today(), actor=who.actor, now=who.now, address=who.address
    )
    return _sentence(done)


def release_file(wb: Workbench, client: ClientConfig, form: FormData, who: Who) -> str:
    path = text(form, "path", "The file")
    reason = text(form, "reason", "Why the quarantine ends")
    done = files_service.release(
        wb.store, client, path, reason, wb.today(), actor=who.actor, now=who.now, address=who.address
    )
    return _sentence(done)


file_quarantine = action(quarantine_file)
file_release = action(release_file)
