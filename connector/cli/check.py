"""``arsync check``: is everything the nightly run needs where the config says?

Verifies, one line each: the store, and per client its ledger folder or API credentials (logging in and
showing what the token can see), its bank folders, its outbox folders, and every secret its config names
(all the missing ones, not the first). Read-only: nothing is created or written. Exit 1 if any fails.

From the store it also shows each source's newest data, and says — by the rules and in the words of the
run (``reports.freshness``) — when the client's data is stale or its last sync failed. That is the run's
state, not a fault of the set-up: like ``run``, which counts a stale client apart from failed ones and
exits 0, it does not change the exit status.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import click
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import SQLAlchemyError

from connector.bank.feed import CamtFolderFeed, OcrFolderFeed
from connector.cli import stores
from connector.cli.common import EXIT_CLIENT_FAILED, Env, as_of_option, client_option
from connector.config import ClientConfig, missing_secrets, missing_secrets_message, secret_keys
from connector.errors import StoreUnavailable
from connector.letters.templates import letter_template_problems
from connector.model import SyncStatus, UnreadableFile
from connector.reports.freshness import LEDGER, NEVER, OK, ClientStatus, SourceData, client_status, sources_data
from connector.sources import ehf
from connector.sources.systems import API_LEDGERS, check_ledger
from connector.store.files import unreadable_files
from connector.store.sync import sync_status


@dataclass
class Finding:
    item: str
    ok: bool
    detail: str
    more: list[str] = field(default_factory=list)
    stale: bool = False  # reachable, but its data is too old to dun on (not a failure: the exit status stays 0)

    def lines(self) -> list[str]:
        word = "FAILED" if not self.ok else "STALE" if self.stale else "ok"
        return [f"  {self.item}: {word} — {self.detail}", *(f"    {m}" for m in self.more)]


@click.command()
@client_option
@as_of_option
@click.pass_obj
def check(env: Env, client_ids: tuple[str, ...], as_of: date) -> None:
    """Verify the store, each client's ledger (folder or API login), bank folders, outboxes and secrets;
    show each source's newest data and whether it is stale (as of --as-of, default today)."""
    settings = env.settings
    failed = False
    store = _store(settings.store.url)
    click.echo(f"store: {'ok' if store.ok else 'FAILED'} — {store.detail}")
    failed |= not store.ok
    clients = settings.select(client_ids)
    stored, unread = _stored(settings.store.url, [c.id for c in clients]) if store.ok else ({}, None)
    for client in clients:
        sync, unreadable = stored.get(client.id, ({}, []))
        status = client_status(client, sync, as_of, unreadable=unreadable)
        findings = client_findings(client, sources_data(client, sync, as_of) if status.status != NEVER else None)
        bad = [f for f in findings if not f.ok]
        failed |= bool(bad)
        verdict = _verdict(findings, bad, status) if unread is None else f"{'FAILED' if bad else 'ok'} ({unread})"
        click.echo(f"{client.id} ({client.name}): {verdict}")
        for f in findings:
            for line in f.lines():
                click.echo(line)
    if failed:
        sys.exit(EXIT_CLIENT_FAILED)


def _verdict(findings: list[Finding], bad: list[Finding], status: ClientStatus) -> str:
    """``ok``, ``FAILED (1 of 8)``, and the run's own line when the data is stale or its sync failed."""
    setup = f"FAILED ({len(bad)} of {len(findings)})" if bad else "ok"
    if status.status == NEVER:
        return f"{setup} (not synced yet)"
    if status.status == OK:
        return setup
    return f"{setup}; {status.text()}" if bad else status.text()


Stored = dict[str, tuple[dict[str, SyncStatus], list[UnreadableFile]]]


def _stored(url: str, client_ids: list[str]) -> tuple[Stored, str | None]:
    """Each client's sync state and unreadable files (none before the first sync), read without opening the
    store as the run does (that would bring an old schema forward: a write); or why they could not be read."""
    try:
        if not stores.exists(url):
            return {}, None
        engine = create_engine(url)
    except (StoreUnavailable, SQLAlchemyError, ImportError):
        return {}, None  # the store's own line says what is wrong
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("sync_state"):
                return {}, None
            return {c: (sync_status(conn, c), unreadable_files(conn, c)) for c in client_ids}, None
    except SQLAlchemyError as exc:
        return {}, f"how fresh its data is could not be read from the store: {exc.__class__.__name__}"
    finally:
        engine.dispose()


def client_findings(client: ClientConfig, data: dict[str, SourceData] | None = None) -> list[Finding]:
    """``data``: each source's newest data (``sources_data``), None before the first sync."""
    data = data or {}
    out = [_secrets(client), _with_data(_ledger(client), data.get(LEDGER))]
    for bank in client.bank:
        suffixes = CamtFolderFeed.suffixes if bank.kind == "camt" else OcrFolderFeed.suffixes
        folder = _folder(f"bank ({bank.kind})", bank.path, must_exist=True, suffixes=suffixes)
        out.append(_with_data(folder, data.get(bank.source_name), bank_data=True))
    if client.reminders.path is not None and _uses_outbox(client):
        out.append(_folder("reminders outbox", client.reminders.path, must_exist=False))
    if client.collection.provider == "outbox" and client.collection.path is not None:
        out.append(_folder("collection outbox", client.collection.path, must_exist=False))
    elif client.collection.provider != "outbox":
        out.append(Finding(f"collection ({client.collection.provider})", True, f"API at {client.collection.base_url}"))
    out.append(_letters(client))
    return out


def _passed_over(folder: Path, suffixes: tuple[str, ...]) -> list[str]:
    """A drop folder's files the sync passes over for their name (it reads only ``suffixes``; hidden files are
    partial uploads): named here, the one place that says so, since a bank file without ``.xml`` is no error."""
    names = sorted(
        p.name
        for p in folder.iterdir()
        if not p.name.startswith(".") and p.suffix.lower() not in suffixes and p.is_file()
    )
    if not names:
        return []
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return [f"not read (the sync reads only files ending in {' / '.join(suffixes)}): {shown}"]


def _with_data(finding: Finding, data: SourceData | None, *, bank_data: bool = False) -> Finding:
    """A source's line with the newest day its data covers; a stale source is said to be, in the run's words
    (``bank_data_stale`` / ``ledger_stale`` hold the client's dunning). Stale is no failure of the set-up."""
    if data is None or not finding.ok:
        return finding
    if data.stale is None:
        newest = data.newest.isoformat() if data.newest else "none"
        return Finding(finding.item, True, f"{finding.detail}; newest data {newest}", finding.more)
    code = "bank_data_stale" if bank_data else "ledger_stale"
    if data.newest is not None and data.newest.isoformat() not in data.stale:
        code += f"; newest data {data.newest.isoformat()}"
    return Finding(finding.item, True, f"{finding.detail}; {data.stale} ({code})", finding.more, stale=True)


def _letters(client: ClientConfig) -> Finding:
    """The client's letter texts read (its own, if any) and the account its letters ask to be paid to."""
    templates = client.reminders.letter_templates
    if templates is not None and not templates.is_dir():
        return Finding("letters", False, f"letter_templates folder {templates} does not exist")
    problems = letter_template_problems(client.language, templates)
    if problems:
        return Finding("letters", False, f"{len(problems)} letter template(s) do not read", problems)
    where = f"own texts in {templates}" if templates is not None else "arsync's texts"
    account = client.creditor.bank_account or next((b.account for b in client.bank if b.account), None)
    if account:
        return Finding("letters", True, f"{client.language}, {where}; debtors pay to {account}")
    return Finding(
        "letters",
        True,
        f"{client.language}, {where}; no account in the config: a letter asks to be paid to the account the "
        "invoice names, and an invoice naming none is held invoice_defect (set [clients.creditor] bank_account)",
    )


def _secrets(client: ClientConfig) -> Finding:
    named = secret_keys(client)
    missing = missing_secrets(client)
    if missing:
        return Finding("secrets", False, missing_secrets_message(missing))
    if not named:
        return Finding("secrets", True, "none needed")
    return Finding("secrets", True, f"{len(named)} set: " + ", ".join(v for _k, v in named))


def _ledger(client: ClientConfig) -> Finding:
    kind = client.ledger.kind
    if kind not in API_LEDGERS:
        assert client.ledger.path is not None
        return _folder(f"ledger ({kind})", client.ledger.path, must_exist=True, count_files=True, suffixes=ehf.SUFFIXES)
    if missing_secrets(client, "ledger."):
        return Finding(f"ledger ({kind})", False, "not tried: its secrets are not set (see above)")
    ok, lines = check_ledger(client)
    return Finding(f"ledger ({kind})", ok, "logged in" if ok else "login failed", lines)


def _folder(
    item: str, path: Path, *, must_exist: bool, count_files: bool = False, suffixes: tuple[str, ...] = ()
) -> Finding:
    if path.is_dir():
        if not os.access(path, os.R_OK | os.X_OK):
            return Finding(item, False, f"folder {path} cannot be read")
        if not must_exist and not os.access(path, os.W_OK):
            return Finding(item, False, f"folder {path} cannot be written to")
        files = f" ({sum(1 for p in path.iterdir() if p.is_file())} files)" if count_files else ""
        return Finding(item, True, f"folder {path}{files}", _passed_over(path, suffixes) if suffixes else [])
    if path.exists():
        return Finding(item, False, f"{path} is not a folder")
    if must_exist:
        return Finding(item, False, f"folder {path} does not exist")
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is None or not os.access(parent, os.W_OK):
        return Finding(item, False, f"folder {path} does not exist and cannot be created")
    return Finding(item, True, f"folder {path} (created on the first send)")


def _uses_outbox(client: ClientConfig) -> bool:
    return client.reminders.channel == "outbox" or any(s.channel == "outbox" for s in client.policy.steps)


def _store(url: str) -> Finding:
    where = stores.where(url)
    try:
        if stores.exists(url):
            return Finding("store", True, where)
    except StoreUnavailable as exc:
        return Finding("store", False, str(exc))
    file = stores.sqlite_file(url)
    parent = next((p for p in (file.parents if file else ()) if p.exists()), None)
    if file is not None and (parent is None or not os.access(parent, os.W_OK)):
        return Finding("store", False, f"{where} does not exist and cannot be created")
    return Finding("store", True, f"{where} (not created yet: the first `arsync sync` creates it)")
