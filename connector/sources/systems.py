"""The accounting-system ledger sources by config ``kind`` (the pipeline and ``arsync check`` use it)."""

from __future__ import annotations

from typing import Any

from connector.config import ClientConfig
from connector.sources.economic import EconomicSource
from connector.sources.fiken import FikenSource
from connector.sources.poweroffice import PowerOfficeSource
from connector.sources.tripletex import TripletexSource

API_LEDGERS: dict[str, Any] = {
    "tripletex": TripletexSource,
    "fiken": FikenSource,
    "poweroffice": PowerOfficeSource,
    "economic": EconomicSource,
}


def api_ledger(client: ClientConfig) -> Any:
    """A ledger source for an API kind; reads the client's secrets now (a missing one fails this client)."""
    return API_LEDGERS[client.ledger.kind].from_config(client)
