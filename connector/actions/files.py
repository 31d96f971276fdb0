"""Ledger and bank files arsync cannot go by, and the accountant's decision about each (``arsync files``).

Two kinds, one list and one pair of commands:
- files that do not read or were refused (hold codes ``unreadable_document`` and ``bank_data_stale``,
  ``connector.dunning.unreadable``): a quarantine takes a file's content out of consideration (recorded in
  ``store.files`` with who, when and why; the file itself is never touched); a changed file is read afresh;
- documents that carry a stored invoice number with other content (``conflicting_document``,
  ``connector.store.conflicts``): quarantining the refused one ends the conflict (the kept one stays the
  invoice); quarantining the kept one makes the other the invoice.
Release undoes a quarantine: the file holds again, the conflict is open again. Either way the holds move at
the next decision, and each decision commits with its audit row. A request the state does not allow raises
``Refused`` (one line, nothing written).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from connector.config import ClientConfig
from connector.dunning.unreadable import in_config, scope_of
from connector.errors import Refused
from connector.model import ENVELOPE, DocKind, DocumentConflict, FileRole, UnreadableFile
from connector.store import Store, audit
from connector.store import conflicts as conflicts_store
from connector.store import files as files_store
from connector.store.documents import load_events

UNREADABLE, REFUSED, QUARANTINED, CONFLICTING = "unreadable", "refused", "quarantined", "conflicting"


@dataclass(frozen=True)
class Listed:
    """One line of ``arsync files list``."""

    client_id: str
    role: FileRole
    status: str  # unreadable / refused / quarantined / conflicting
    path: str  # as the commands take it: the file in its folder, or an API ledger's document id
    name: str
    first_seen: date
    problem: str
    holds: str  # what it holds at the next decision, in words
    kind: str | None = None  # what the document is, as far as it could be read
    number: str | None = None
    quarantined: str | None = None  # who, when and why
    holding: bool = True  # it holds something at the next decision (a person has to decide about it)

    def as_json(self) -> dict[str, Any]:
        return {
            "client": self.client_id,
            "role": str(self.role),
            "status": self.status,
            "path": self.path,
            "name": self.name,
            "first_seen": self.first_seen.isoformat(),
            "error": self.problem,
            "kind": self.kind,
            "number": self.number,
            "holds": self.holds,
            "quarantined": self.quarantined,
        }


def listed(store: Store, clients: Iterable[ClientConfig]) -> list[Listed]:
    """Every unreadable, refused, conflicting or quarantined file of these clients, with what it holds."""
    out: list[Listed] = []
    for client in clients:
        with store.connect() as conn:  # one snapshot per client
            out.extend(_unreadable(conn, client))
            out.extend(_conflicts(conn, client))
    return out


def _unreadable(conn: Connection, client: ClientConfig) -> list[Listed]:
    files = list(files_store.load_unreadable(conn, client.id))
    if not files:
        return []
    envelopes = {
        e.ref_id: e.invoice_number
        for e in load_events(conn, client.id)
        if e.kind == ENVELOPE and e.ref_id and e.invoice_number
    }
    return [
        Listed(
            client.id,
            f.role,
            _status(f),
            f.path,
            f.name,
            f.first_seen,
            f.error,
            _holds(f, client, envelopes),
            f.salvaged.kind if f.salvaged else None,
            f.salvaged.number if f.salvaged else None,
            f.quarantined,
            in_config(f, client) and not f.quarantined,
        )
        for f in files
    ]


def _status(f: UnreadableFile) -> str:
    if f.quarantined:
        return QUARANTINED
    refused = ("DOCTYPE", "link leading out", "larger than", "refused")
    return REFUSED if any(word in f.error for word in refused) else UNREADABLE


def _holds(f: UnreadableFile, client: ClientConfig, envelopes: dict[str, str]) -> str:
    if not in_config(f, client):
        return "nothing: its folder is no longer in the config"
    if f.quarantined:
        return f"nothing: {f.quarantined}"
    if f.role is FileRole.BANK:
        return "every invoice of the client (bank_data_stale)"
    return f"unreadable_document: it {scope_of(f, envelopes).describe()}"


def _conflicts(conn: Connection, client: ClientConfig) -> list[Listed]:
    out = []
    for c in conflicts_store.open_conflicts(conn, client.id):
        holds = f"conflicting_document: {_held(c)} (a person decides which document is right)"
        out.append(_conflict_line(client, c, CONFLICTING, holds, None))
    for c, why in conflicts_store.quarantined_conflicts(conn, client.id):
        if _document_gone(client, c.other_ref):
            continue  # nothing left to release: the file is no longer in the folder
        out.append(_conflict_line(client, c, QUARANTINED, f"nothing: {why}", why))
    return out


def _conflict_line(client: ClientConfig, c: DocumentConflict, status: str, holds: str, why: str | None) -> Listed:
    return Listed(
        client.id,
        FileRole.LEDGER,
        status,
        _path(client, c.other_ref),
        c.other_ref,
        c.found_on,
        c.describe(),
        holds,
        str(c.kind),
        c.number,
        why,
        status == CONFLICTING,
    )


def _held(c: DocumentConflict) -> str:
    if c.kind is DocKind.INVOICE:
        return f"holds invoice {c.number}"
    if c.credits:
        return f"holds invoice(s) {', '.join(c.credits)}, which the credit note credits"
    return "holds nothing: the credit note names no invoice"


def _folder(client: ClientConfig) -> str | None:
    """The ledger folder its documents are files of (None: an API ledger's documents are ids)."""
    if client.ledger.kind == "ehf" and client.ledger.path is not None:
        return os.fspath(client.ledger.path)
    return None


def _path(client: ClientConfig, ref: str) -> str:
    folder = _folder(client)
    return os.path.join(folder, ref) if folder is not None else ref


def _document_gone(client: ClientConfig, ref: str) -> bool:
    folder = _folder(client)
    return folder is not None and not os.path.exists(os.path.join(folder, ref))


# ---- quarantine and release ------------------------------------------------------------------------


def quarantine(
    store: Store,
    client: ClientConfig,
    path: str,
    reason: str,
    as_of: date,
    *,
    actor: str,
    now: datetime,
    address: str | None = None,
) -> str:
    """Take a file or document out of consideration; returns what happened, in one line."""
    reason = _reason(reason)
    with store.transaction() as conn:  # the decision and its audit row commit together
        f = _unreadable_file(conn, client, path)
        if f is not None:
            if f.quarantined:
                raise Refused(f"{f.path} is already {f.quarantined}")
            _decide(conn, f, files_store.QUARANTINE, reason, as_of, actor, now, address)
            return f"quarantined {f.path} for client {client.id}: its holds lift at the next run or reconcile"
        open_before = conflicts_store.open_conflicts(conn, client.id)
        ref = _conflict_ref(client, path, open_before)
        if ref is None:
            raise _unknown(client, path)
        conflicts_store.quarantine_document(conn, client.id, ref, reason, by=actor, on=as_of, at=now)
        shown = _path(client, ref)
        entry = audit.AuditEntry(now, actor, f"file.{files_store.QUARANTINE}", client.id, shown, reason, address)
        audit.record(conn, entry)
    outcome = "; ".join(
        f"{c.other_ref} is the invoice now" if c.kept_ref == ref else f"{c.kept_ref or 'the kept document'} stays"
        for c in open_before
        if ref in (c.other_ref, c.kept_ref)
    )
    return (
        f"quarantined {shown} for client {client.id}: the conflict is over ({outcome}); its hold lifts at the "
        "next run or reconcile"
    )


def release(
    store: Store,
    client: ClientConfig,
    path: str,
    reason: str,
    as_of: date,
    *,
    actor: str,
    now: datetime,
    address: str | None = None,
) -> str:
    """Undo a quarantine: the file or document holds again; returns what happened, in one line."""
    reason = _reason(reason)
    with store.transaction() as conn:
        f = _unreadable_file(conn, client, path)
        if f is not None:
            if not f.quarantined:
                raise Refused(f"{f.path} is not quarantined")
            _decide(conn, f, files_store.RELEASE, reason, as_of, actor, now, address)
            return f"released {f.path} for client {client.id}: it holds again at the next run or reconcile"
        quarantined = [c for c, _why in conflicts_store.quarantined_conflicts(conn, client.id)]
        ref = _conflict_ref(client, path, quarantined, kept_too=False)
        if ref is None:
            if _conflict_ref(client, path, conflicts_store.open_conflicts(conn, client.id)) is not None:
                raise Refused(f"{path} is not quarantined")
            raise _unknown(client, path)
        conflicts_store.release_document(conn, client.id, ref, at=now)
        shown = _path(client, ref)
        entry = audit.AuditEntry(now, actor, f"file.{files_store.RELEASE}", client.id, shown, reason, address)
        audit.record(conn, entry)
    return (
        f"released {shown} for client {client.id}: it conflicts with the kept document again and holds at the "
        "next run or reconcile"
    )


def _reason(reason: str) -> str:
    if not reason.strip():
        raise Refused("a quarantine or release needs a reason (it is kept and shown)")
    return reason.strip()


def _unknown(client: ClientConfig, path: str) -> Refused:
    return Refused(
        f"client '{client.id}' has no unreadable, refused or conflicting file '{path}' "
        f"(see `arsync files list --client {client.id}`)"
    )


def _unreadable_file(conn: Connection, client: ClientConfig, path: str) -> UnreadableFile | None:
    wanted = {os.path.abspath(path), os.path.realpath(path)}
    for f in files_store.load_unreadable(conn, client.id):
        if f.path in wanted or os.path.realpath(f.path) in wanted:
            return f
    return None


def _conflict_ref(
    client: ClientConfig, path: str, conflicts: Iterable[DocumentConflict], *, kept_too: bool = True
) -> str | None:
    """The document of ``conflicts`` that ``path`` names: its path in the ledger folder, its file name, or an
    API ledger's document id; with ``kept_too`` the kept documents count as well."""
    wanted = {path, os.path.abspath(path), os.path.realpath(path)}
    for c in conflicts:
        for ref in (c.other_ref, c.kept_ref if kept_too else None):
            if ref and ({ref, _path(client, ref), os.path.realpath(_path(client, ref))} & wanted):
                return ref
    return None


def _decide(
    conn: Connection,
    f: UnreadableFile,
    action: str,
    reason: str,
    on: date,
    actor: str,
    now: datetime,
    address: str | None,
) -> None:
    decision = files_store.FileDecision(f.client_id, f.path, f.file_hash, action, reason, actor, on, now)
    files_store.record_decision(conn, decision)
    audit.record(conn, audit.AuditEntry(now, actor, f"file.{action}", f.client_id, f.path, reason, address))
