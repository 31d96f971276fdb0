"""A workspace whose client asks local fakes of Brønnøysund's registers: the companies the credit tests
know, and the config that points the client at the fakes."""

from __future__ import annotations

from typing import Any

from tests.builders import Workspace, client_table
from tests.fakes.registers import FakeRegisters, accounts, unit

SOUND, BANKRUPT, OLD = "923456791", "934567897", "945678909"
NAMES = {SOUND: "FJORD BYGG AS", BANKRUPT: "KYST KONKURS AS", OLD: "GAMMEL KUNDE AS"}


def fill(registers: FakeRegisters) -> None:
    registers.units[SOUND] = unit(SOUND, NAMES[SOUND])
    registers.accounts[SOUND] = [accounts(SOUND)]
    registers.units[BANKRUPT] = unit(BANKRUPT, NAMES[BANKRUPT], konkurs=True, konkursdato="2026-01-12")
    registers.accounts[BANKRUPT] = [accounts(BANKRUPT, equity=-350_000, result=-900_000)]
    registers.units[OLD] = unit(OLD, NAMES[OLD])
    registers.accounts[OLD] = [accounts(OLD)]


def configure(ws: Workspace, registers: FakeRegisters | None, *, enabled: bool = True, **policy: Any) -> None:
    registry: dict[str, Any] = {"enabled": enabled}
    if registers is not None:
        registry |= {
            "base_url": registers.enhetsregisteret_url,
            "regnskap_base_url": registers.regnskapsregisteret_url,
        }
    ws.write_config(client_table(registry=registry, policy={"credit_check_min_amount": 50000, **policy}))
