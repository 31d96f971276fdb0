"""Operational errors a command reports in one line, each with the exit status the README documents.

Any layer may raise them; the command line (``connector.cli.common.ArsyncGroup``) prints
``error: <message>`` and exits with ``exit_status``, without a traceback unless ``-v`` was given.
The message names the client, key or file and what to do; it never holds a secret.
"""

from __future__ import annotations

from datetime import datetime

EXIT_CLIENT_FAILED = 1  # a client failed, or the command could not act on it (the others still ran)
EXIT_USAGE = 2  # usage or config error: the accountant fixes the command line or the file


class ArsyncError(Exception):
    """A problem the accountant can act on; ``str(exc)`` is the one line printed."""

    exit_status = EXIT_CLIENT_FAILED


class Refused(ArsyncError):
    """The command asks for something the recorded state does not allow ("case … is withdrawn",
    "no open dispute …", a promise date in the past): nothing was changed."""

    exit_status = EXIT_USAGE


class StoreMissing(ArsyncError):
    """A command that only reads was pointed at a store that does not exist: an empty one would answer
    "no cases" where the real store is merely elsewhere. Only ``sync``/``reconcile``/``run`` create it
    (``reconcile --no-sync`` does not: it decides on what is stored)."""

    exit_status = EXIT_USAGE

    def __init__(self, where: str):
        self.where = where
        super().__init__(
            f"no store at {where}: check [store] url (or $ARSYNC_STORE__URL); `arsync sync` creates it on the first run"
        )


class StoreUnavailable(ArsyncError):
    """The store URL cannot be opened: a driver not installed, a server not reachable, a bad URL."""

    exit_status = EXIT_USAGE


class ClientLocked(ArsyncError):
    """Another arsync process holds the client's lock (issue 13): this command left the client alone."""

    exit_status = EXIT_CLIENT_FAILED

    def __init__(self, client_id: str, since: datetime | None = None, holder: str | None = None):
        self.client_id = client_id
        self.since = since
        self.holder = holder
        when = f" since {since.strftime('%Y-%m-%d %H:%M:%S %Z').strip()}" if since is not None else ""
        who = f" ({holder})" if holder else ""
        super().__init__(
            f"another arsync run holds client {client_id}{when}{who}; "
            "try again when it has finished (nothing was done for this client)"
        )
