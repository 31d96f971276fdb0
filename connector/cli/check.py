"""``arsync check``: do the ledger credentials work, and what can they see?

Read-only: no sync state is written. Prints one line per finding; secrets never appear.
"""

from __future__ import annotations

import sys

import click

from connector.cli.common import EXIT_CLIENT_FAILED, Env, client_option
from connector.sources.systems import check_ledger


@click.command()
@client_option
@click.pass_obj
def check(env: Env, client_ids: tuple[str, ...]) -> None:
    """Verify each client's accounting-system credentials and show what the token can see."""
    failed = False
    for client in env.settings.select(client_ids):
        ok, lines = check_ledger(client)
        failed |= not ok
        click.echo(f"{client.id} ({client.ledger.kind}): {'ok' if ok else 'FAILED'}")
        for line in lines:
            click.echo(f"  {line}")
    if failed:
        sys.exit(EXIT_CLIENT_FAILED)
