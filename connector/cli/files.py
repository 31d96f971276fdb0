"""``arsync files list/quarantine/release``: ledger and bank files that do not read or were refused, and the
accountant's decision about each (hold codes ``unreadable_document`` and ``bank_data_stale``).

Quarantine takes a file's content out of consideration — recorded with who, when and why; the file itself is
never touched — so its holds lift at the next decision; release undoes it. A quarantine covers the content
it was given for: a file that changes is read afresh.
"""

from __future__ import annotations

import json
import os
from datetime import date

import click

from connector.cli.common import Env, actor, as_of_option, client_option, json_option
from connector.config import ClientConfig
from connector.dunning.unreadable import in_config, scope_of
from connector.model import ENVELOPE, FileRole, UnreadableFile
from connector.reports import tables
from connector.store import audit
from connector.store import files as files_store


@click.group()
def files() -> None:
    """Files that do not read or were refused, and what holds on them; quarantine or release one."""


def _status(f: UnreadableFile) -> str:
    if f.quarantined:
        return "quarantined"
    refused = ("DOCTYPE", "link leading out", "larger than", "refused")
    return "refused" if any(word in f.error for word in refused) else "unreadable"


def _holds(f: UnreadableFile, client: ClientConfig, envelopes: dict[str, str]) -> str:
    """What the file holds at the next decision, in words."""
    if not in_config(f, client):
        return "nothing: its folder is no longer in the config"
    if f.quarantined:
        return f"nothing: {f.quarantined}"
    if f.role is FileRole.BANK:
        return "every invoice of the client (bank_data_stale)"
    return f"unreadable_document: it {scope_of(f, envelopes).describe()}"


@files.command("list")
@client_option
@json_option
@click.pass_obj
def files_list(env: Env, client_ids: tuple[str, ...], as_json: bool) -> None:
    """Every unreadable, refused or quarantined file, what it holds and why."""
    out = []
    for client in env.settings.select(client_ids):
        facts = env.store.facts(client.id)
        envelopes = {
            e.ref_id: e.invoice_number
            for e in facts.document_events
            if e.kind == ENVELOPE and e.ref_id and e.invoice_number
        }
        for f in facts.unreadable:
            out.append((client, f, _holds(f, client, envelopes)))
    if as_json:
        payload = [
            {
                "client": c.id,
                "role": str(f.role),
                "status": _status(f),
                "path": f.path,
                "name": f.name,
                "first_seen": f.first_seen.isoformat(),
                "error": f.error,
                "kind": f.salvaged.kind if f.salvaged else None,
                "number": f.salvaged.number if f.salvaged else None,
                "holds": holds,
                "quarantined": f.quarantined,
            }
            for c, f, holds in out
        ]
        click.echo(json.dumps({"files": payload}, indent=2, ensure_ascii=False))
        return
    if not out:
        click.echo("No unreadable, refused or quarantined files.")
        return
    rows = [[c.id, str(f.role), _status(f), f.path, f.first_seen.isoformat(), f.error, holds] for c, f, holds in out]
    click.echo(tables.render(["client", "kind", "status", "path", "since", "problem", "holds"], rows))


def _find(env: Env, client_id: str, path: str) -> UnreadableFile:
    env.settings.client(client_id)
    wanted = {os.path.abspath(path), os.path.realpath(path)}
    known = env.store.facts(client_id).unreadable
    for f in known:
        if f.path in wanted or os.path.realpath(f.path) in wanted:
            return f
    raise click.UsageError(
        f"client '{client_id}' has no unreadable or refused file '{path}' "
        f"(see `arsync files list --client {client_id}`)"
    )


def _record(env: Env, f: UnreadableFile, action: str, reason: str, on: date) -> None:
    store = env.store
    at = store.now()
    who = actor()
    with store.transaction() as conn:  # the decision and its audit row commit together
        files_store.record_decision(
            conn, files_store.FileDecision(f.client_id, f.path, f.file_hash, action, reason, who, on, at)
        )
        audit.record(conn, audit.AuditEntry(at, who, f"file.{action}", f.client_id, f.path, reason))


@files.command("quarantine")
@click.argument("client_id")
@click.argument("path")
@click.option("--reason", required=True, help="Why the file is taken out of consideration (kept and shown).")
@as_of_option
@click.pass_obj
def files_quarantine(env: Env, client_id: str, path: str, reason: str, as_of: date) -> None:
    """Take an unreadable file out of consideration: its holds lift at the next run. The file is untouched."""
    f = _find(env, client_id, path)
    if f.quarantined:
        raise click.UsageError(f"{f.path} is already {f.quarantined}")
    _record(env, f, files_store.QUARANTINE, reason, as_of)
    click.echo(f"quarantined {f.path} for client {client_id}: its holds lift at the next run or reconcile")


@files.command("release")
@click.argument("client_id")
@click.argument("path")
@click.option("--reason", required=True, help="Why the quarantine ends (kept and shown).")
@as_of_option
@click.pass_obj
def files_release(env: Env, client_id: str, path: str, reason: str, as_of: date) -> None:
    """Undo a quarantine: the file holds again what it could change, until it reads."""
    f = _find(env, client_id, path)
    if not f.quarantined:
        raise click.UsageError(f"{f.path} is not quarantined")
    _record(env, f, files_store.RELEASE, reason, as_of)
    click.echo(f"released {f.path} for client {client_id}: it holds again at the next run or reconcile")
