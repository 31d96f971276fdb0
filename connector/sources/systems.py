"""The accounting-system ledger sources by config ``kind`` (the pipeline and ``arsync check`` use it)."""

from __future__ import annotations

from typing import Any

from connector.config import ClientConfig
from connector.http import ApiError, redact
from connector.sources.economic import EconomicSource
from connector.sources.fiken import FikenSource
from connector.sources.poweroffice import PowerOfficeSource
from connector.sources.tripletex import TripletexSource, end_sessions

API_LEDGERS: dict[str, Any] = {
    "tripletex": TripletexSource,
    "fiken": FikenSource,
    "poweroffice": PowerOfficeSource,
    "economic": EconomicSource,
}


def api_ledger(client: ClientConfig) -> Any:
    """A ledger source for an API kind; reads the client's secrets now (a missing one fails this client)."""
    return API_LEDGERS[client.ledger.kind].from_config(client)


def check_ledger(client: ClientConfig) -> tuple[bool, list[str]]:
    """(works, one line per finding) for the client's ledger credentials (``arsync check``); read-only.

    Secrets never appear: the HTTP layer redacts them from every message, and so is any other error's.
    """
    kind = client.ledger.kind
    if kind not in API_LEDGERS:
        return True, [f"ledger kind '{kind}' reads files; nothing to log in to"]
    try:
        source = api_ledger(client)
        return True, source.check()
    except ApiError as exc:
        return False, [f"{kind}: {exc}"]
    except Exception as exc:  # a config or network problem: say which, never the secret
        return False, [f"{kind}: {redact(str(exc) or exc.__class__.__name__)}"]


def end_api_sessions() -> list[str]:
    """At the end of a run: delete the sessions it created (Tripletex session tokens); one line per
    session that could not be deleted."""
    return end_sessions()
