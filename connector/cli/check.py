"""``arsync check``: is everything the nightly run needs where the config says?

Verifies, one line each: the store, and per client its ledger folder or API credentials (logging in and
showing what the token can see), its bank folders, its outbox folders, and every secret its config names
(all the missing ones, not the first). Read-only: nothing is created or written. Exit 1 if any fails.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click

from connector.cli import stores
from connector.cli.common import EXIT_CLIENT_FAILED, Env, client_option
from connector.config import ClientConfig, missing_secrets, missing_secrets_message, secret_keys
from connector.errors import StoreUnavailable
from connector.letters.templates import letter_template_problems
from connector.sources.systems import API_LEDGERS, check_ledger


@dataclass
class Finding:
    item: str
    ok: bool
    detail: str
    more: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"  {self.item}: {'ok' if self.ok else 'FAILED'} — {self.detail}", *(f"    {m}" for m in self.more)]


@click.command()
@client_option
@click.pass_obj
def check(env: Env, client_ids: tuple[str, ...]) -> None:
    """Verify the store, each client's ledger (folder or API login), bank folders, outboxes and secrets."""
    settings = env.settings
    failed = False
    store = _store(settings.store.url)
    click.echo(f"store: {'ok' if store.ok else 'FAILED'} — {store.detail}")
    failed |= not store.ok
    for client in settings.select(client_ids):
        findings = client_findings(client)
        bad = [f for f in findings if not f.ok]
        failed |= bool(bad)
        click.echo(f"{client.id} ({client.name}): {'ok' if not bad else f'FAILED ({len(bad)} of {len(findings)})'}")
        for f in findings:
            for line in f.lines():
                click.echo(line)
    if failed:
        sys.exit(EXIT_CLIENT_FAILED)


def client_findings(client: ClientConfig) -> list[Finding]:
    out = [_secrets(client), _ledger(client)]
    for bank in client.bank:
        out.append(_folder(f"bank ({bank.kind})", bank.path, must_exist=True))
    if client.reminders.path is not None and _uses_outbox(client):
        out.append(_folder("reminders outbox", client.reminders.path, must_exist=False))
    if client.collection.provider == "outbox" and client.collection.path is not None:
        out.append(_folder("collection outbox", client.collection.path, must_exist=False))
    elif client.collection.provider != "outbox":
        out.append(Finding(f"collection ({client.collection.provider})", True, f"API at {client.collection.base_url}"))
    out.append(_letters(client))
    return out


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
        return _folder(f"ledger ({kind})", client.ledger.path, must_exist=True, count_files=True)
    if missing_secrets(client, "ledger."):
        return Finding(f"ledger ({kind})", False, "not tried: its secrets are not set (see above)")
    ok, lines = check_ledger(client)
    return Finding(f"ledger ({kind})", ok, "logged in" if ok else "login failed", lines)


def _folder(item: str, path: Path, *, must_exist: bool, count_files: bool = False) -> Finding:
    if path.is_dir():
        if not os.access(path, os.R_OK | os.X_OK):
            return Finding(item, False, f"folder {path} cannot be read")
        if not must_exist and not os.access(path, os.W_OK):
            return Finding(item, False, f"folder {path} cannot be written to")
        files = f" ({sum(1 for p in path.iterdir() if p.is_file())} files)" if count_files else ""
        return Finding(item, True, f"folder {path}{files}")
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
