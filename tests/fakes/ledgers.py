"""Local fake accounting systems on 127.0.0.1 (real sockets), one per system, rendering a
:class:`ledger_world.World` in each system's wire format as its public spec describes it (one
module per system: ``ledger_tripletex``, ``ledger_fiken``, ``ledger_poweroffice``, ``ledger_economic``;
the shared plumbing, faults and hostile paging in ``ledger_base``). This module gathers them.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.ledger_base import FakeSystem, Fault, PagingFault, Reply
from tests.fakes.ledger_economic import FakeEconomic
from tests.fakes.ledger_fiken import FakeFiken
from tests.fakes.ledger_poweroffice import FakePowerOffice
from tests.fakes.ledger_tripletex import FakeTripletex

__all__ = [
    "ENV",
    "FAKES",
    "SECRETS",
    "FakeEconomic",
    "FakeFiken",
    "FakePowerOffice",
    "FakeSystem",
    "FakeTripletex",
    "Fault",
    "PagingFault",
    "Reply",
    "ledger_table",
]

FAKES = {"tripletex": FakeTripletex, "fiken": FakeFiken, "poweroffice": FakePowerOffice, "economic": FakeEconomic}


def ledger_table(kind: str, fake: FakeSystem) -> dict[str, Any]:
    """The [clients.ledger] table (and the env it needs) pointing a client at a fake."""
    if kind == "tripletex":
        return {
            "kind": kind,
            "base_url": f"{fake.url}/v2",
            "company_id": "0",
            "consumer_token_env": "TT_CONSUMER",
            "employee_token_env": "TT_EMPLOYEE",
        }
    if kind == "fiken":
        return {
            "kind": kind,
            "base_url": f"{fake.url}/api/v2",
            "company_id": FakeFiken.slug,
            "token_env": "FIKEN_TOKEN",
        }
    if kind == "poweroffice":
        return {
            "kind": kind,
            "base_url": f"{fake.url}/v2",
            "auth_url": f"{fake.url}/OAuth/Token",
            "application_key_env": "PO_APP",
            "client_key_env": "PO_CLIENT",
            "subscription_key_env": "PO_SUB",
        }
    return {
        "kind": kind,
        "base_url": fake.url,
        "app_secret_token_env": "EC_APP",
        "agreement_grant_token_env": "EC_GRANT",
    }


ENV = {
    "TT_CONSUMER": FakeTripletex.consumer,
    "TT_EMPLOYEE": FakeTripletex.employee,
    "FIKEN_TOKEN": FakeFiken.token,
    "PO_APP": FakePowerOffice.app_key,
    "PO_CLIENT": FakePowerOffice.client_key,
    "PO_SUB": FakePowerOffice.sub_key,
    "EC_APP": FakeEconomic.app,
    "EC_GRANT": FakeEconomic.grant,
}

SECRETS = tuple(ENV.values())
