"""``arsync files list/quarantine/release``: ledger and bank files that do not read or were refused, documents
that conflict with a stored invoice, and the accountant's decision about each (hold codes
``unreadable_document``, ``bank_data_stale`` and ``conflicting_document``; ``connector.actions.files``).

Quarantine takes a file's content out of consideration — recorded with who, when and why; the file itself is
never touched — so its holds lift at the next decision; release undoes it. A quarantine covers the content
it was given for: a file that changes is read afresh.
"""

from __future__ import annotations

import json
from datetime import date

import click

from connector.actions import files as files_service
from connector.cli.common import Env, actor, as_of_option, client_option, json_option
from connector.reports import tables


@click.group()
def files() -> None:
    """Files that do not read, were refused or conflict, and what holds on them; quarantine or release one."""


@files.command("list")
@client_option
@json_option
@click.pass_obj
def files_list(env: Env, client_ids: tuple[str, ...], as_json: bool) -> None:
    """Every unreadable, refused, conflicting or quarantined file, what it holds and why."""
    out = files_service.listed(env.store, env.settings.select(client_ids))
    if as_json:
        click.echo(json.dumps({"files": [f.as_json() for f in out]}, indent=2, ensure_ascii=False))
        return
    if not out:
        click.echo("No unreadable, refused, conflicting or quarantined files.")
        return
    rows = [[f.client_id, str(f.role), f.status, f.path, f.first_seen.isoformat(), f.problem, f.holds] for f in out]
    click.echo(tables.render(["client", "kind", "status", "path", "since", "problem", "holds"], rows))


@files.command("quarantine")
@click.argument("client_id")
@click.argument("path")
@click.option("--reason", required=True, help="Why the file is taken out of consideration (kept and shown).")
@as_of_option
@click.pass_obj
def files_quarantine(env: Env, client_id: str, path: str, reason: str, as_of: date) -> None:
    """Take a file out of consideration: its holds lift at the next run (a conflicting document: the conflict
    is over; the kept one of two: the other becomes the invoice). The file is untouched."""
    client = env.settings.client(client_id)
    click.echo(files_service.quarantine(env.store, client, path, reason, as_of, actor=actor(), now=env.store.now()))


@files.command("release")
@click.argument("client_id")
@click.argument("path")
@click.option("--reason", required=True, help="Why the quarantine ends (kept and shown).")
@as_of_option
@click.pass_obj
def files_release(env: Env, client_id: str, path: str, reason: str, as_of: date) -> None:
    """Undo a quarantine: the file holds again what it could change, until it reads (a conflicting document:
    the conflict is open again)."""
    client = env.settings.client(client_id)
    click.echo(files_service.release(env.store, client, path, reason, as_of, actor=actor(), now=env.store.now()))
