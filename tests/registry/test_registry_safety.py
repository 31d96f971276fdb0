"""A register outage never forgets a known bankruptcy, and org numbers in VAT form are still checked."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from connector.actions.registry import refresh
from connector.config import ClientConfig
from connector.dunning.holds import needs_registry
from connector.model import Customer, RegistryFact
from connector.store import Store
from connector.store.registry import load_registry, save_registry
from tests.builders import client_table


class DownRegister:
    def lookup(self, org: str) -> RegistryFact:
        return RegistryFact("brreg", org, datetime(2026, 3, 1, tzinfo=UTC), ok=False, status="error", detail="500")


def test_an_outage_keeps_a_cached_bankruptcy(tmp_path: Path) -> None:
    client = ClientConfig.model_validate(client_table(registry={"enabled": True, "max_age_days": 1}))
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    konkurs = RegistryFact(
        "brreg",
        "923456791",
        datetime(2026, 1, 15, tzinfo=UTC),
        ok=True,
        insolvent=True,
        status="konkurs",
        detail="konkursdato 2026-01-12",
    )
    with store.transaction() as conn:
        save_registry(conn, [konkurs])
    refresh(client, store, ["923456791"], datetime(2026, 3, 1).date(), api=DownRegister())  # type: ignore[arg-type]
    with store.connect() as conn:
        kept = load_registry(conn, "brreg")["923456791"]
    assert (kept.ok, kept.insolvent, kept.status) == (True, True, "konkurs")


@pytest.mark.parametrize("written", ["923456791", "923 456 791", "NO923456791MVA", "no 923456791 mva"])
def test_org_numbers_in_any_ledger_form_are_looked_up(written: str) -> None:
    customer = Customer("acme", "c1", "Drammen Transport AS", org_no=written, country="NO")
    assert needs_registry(customer) == "923456791"
