"""Brønnøysund lookups against a local fake serving recorded-shape JSON, and the pipeline gate."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connector.config import RegistrySettings
from connector.registry.brreg import BrregClient
from connector.store.facts import load_facts
from tests.builders import Workspace, client_table

ACTIVE = {
    "organisasjonsnummer": "934567897",
    "navn": "KUNDE AS",
    "konkurs": False,
    "underAvvikling": False,
    "underTvangsavviklingEllerTvangsopplosning": False,
    "organisasjonsform": {"kode": "AS"},
}
KONKURS = {**ACTIVE, "organisasjonsnummer": "923456791", "konkurs": True, "konkursdato": "2026-01-12"}
AVVIKLING = {**ACTIVE, "organisasjonsnummer": "987654325", "underAvvikling": True, "underAvviklingDato": "2026-01-02"}
ROUTES: dict[str, tuple[int, object]] = {
    "934567897": (200, ACTIVE),
    "923456791": (200, KONKURS),
    "987654325": (200, AVVIKLING),
    "989012347": (404, {"status": 404, "error": "Not Found"}),
    "945678909": (410, {"organisasjonsnummer": "945678909", "slettedato": "2025-11-30"}),
    "978901239": (500, {"status": 500}),
}
SLOW = "931234560"
# Sub-units (a business address, "bedrift"): ledgers often carry their number instead of the company's.
SUB_OF_BANKRUPT, SUB_OF_ACTIVE, SUB_DELETED = "973000004", "973000012", "973000020"
# A deleted sub-unit answers 200 with a stub naming no main unit (observed by several public clients).
DELETED_STUB = {
    "respons_klasse": "SlettetUnderEnhet",
    "organisasjonsnummer": SUB_DELETED,
    "navn": "KUNDE AS AVD BERGEN",
    "organisasjonsform": {"kode": "BEDR"},
    "slettedato": "2025-10-01",
}
SUBUNITS: dict[str, tuple[int, object]] = {
    SUB_DELETED: (200, DELETED_STUB),
    SUB_OF_BANKRUPT: (200, {"organisasjonsnummer": SUB_OF_BANKRUPT, "overordnetEnhet": "923456791"}),
    SUB_OF_ACTIVE: (200, {"organisasjonsnummer": SUB_OF_ACTIVE, "overordnetEnhet": "934567897"}),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        org = self.path.rstrip("/").rsplit("/", 1)[-1]
        if org == SLOW:
            time.sleep(1.0)
        routes = SUBUNITS if "/underenheter/" in self.path else ROUTES
        status, body = routes.get(org, (404, {"status": 404, "error": "Not Found"}))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def fake_brreg() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/enhetsregisteret/api"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("org", "ok", "insolvent", "status"),
    [
        ("934567897", True, False, "active"),
        ("923456791", True, True, "konkurs"),
        ("987654325", True, True, "under_avvikling"),
        ("989012347", True, False, "not_found"),
        ("945678909", True, True, "deleted"),
        ("978901239", False, False, "error"),
        (SLOW, False, False, "error"),
        (SUB_OF_BANKRUPT, True, True, "konkurs"),
        (SUB_OF_ACTIVE, True, False, "active"),
        (SUB_DELETED, True, False, "not_found"),  # a closed branch: the customer's org no needs correcting
    ],
)
def test_lookup(fake_brreg: str, org: str, ok: bool, insolvent: bool, status: str) -> None:
    fact = BrregClient(RegistrySettings(enabled=True, base_url=fake_brreg, timeout_seconds=0.3)).lookup(org)
    assert (fact.ok, fact.insolvent, fact.status) == (ok, insolvent, status)
    if org == "923456791":
        assert "konkursdato 2026-01-12" in fact.detail
    if org == "945678909":
        assert "slettedato 2025-11-30" in fact.detail
    if org == SUB_DELETED:
        assert "deleted sub-unit (slettedato 2025-10-01)" in fact.detail
    if org == SUB_OF_BANKRUPT:  # the main unit's bankruptcy, reported for the number the ledger holds
        assert fact.org_no == SUB_OF_BANKRUPT
        assert "sub-unit of 923456791" in fact.detail and "konkursdato 2026-01-12" in fact.detail


def _client(base_url: str) -> dict[str, object]:
    return client_table(registry={"enabled": True, "base_url": base_url, "timeout_seconds": 0.3})


# the reminder of 19 January asks for payment by 2 February: the notice from the first business day after it
# and the 2 settle days
NOTICE_DAY = date(2026, 2, 5)


def _at_notice(ws: Workspace, org: str) -> dict[str, object]:
    ws.add_invoice("7001", issue=date(2025, 12, 22), due=date(2026, 1, 5), amount="10000.00", org=org)
    ws.bank_heartbeat(date(2026, 1, 19))
    assert ws.cli("run", "--as-of", "2026-01-19").exit_code == 0  # the reminder: no register check needed
    ws.bank_heartbeat(NOTICE_DAY)
    assert ws.cli("run", "--as-of", NOTICE_DAY.isoformat()).exit_code == 0
    return ws.items(NOTICE_DAY, "--no-sync")["7001"]


def test_bankrupt_debtor_gets_review_not_a_notice(ws: Workspace, fake_brreg: str) -> None:
    ws.write_config(_client(fake_brreg))
    item = _at_notice(ws, "923456791")
    assert item["action"] == "review" and "debtor_insolvent" in item["holds"]
    assert any("lodge the claim" in e["detail"] for e in item["evidence"])
    assert [s.step.value for s in ws.store.read(load_facts, "acme").steps] == ["reminder"]


def test_active_debtor_gets_the_notice(ws: Workspace, fake_brreg: str) -> None:
    ws.write_config(_client(fake_brreg))
    _at_notice(ws, "934567897")
    assert [s.step.value for s in ws.store.read(load_facts, "acme").steps] == ["reminder", "collection_notice"]


def test_registry_outage_holds_escalation(ws: Workspace, fake_brreg: str) -> None:
    ws.write_config(_client(fake_brreg))
    item = _at_notice(ws, "978901239")  # HTTP 500
    assert item["action"] == "hold" and item["holds"] == ["debtor_insolvent"]
    assert [s.step.value for s in ws.store.read(load_facts, "acme").steps] == ["reminder"]


def test_registry_off_by_default_never_calls_out(ws: Workspace) -> None:
    ws.write_config(client_table())
    _at_notice(ws, "923456791")
    assert [s.step.value for s in ws.store.read(load_facts, "acme").steps] == ["reminder", "collection_notice"]


def test_sub_unit_of_a_bankrupt_company_gets_review_not_a_notice(ws: Workspace, fake_brreg: str) -> None:
    ws.write_config(_client(fake_brreg))
    item = _at_notice(ws, SUB_OF_BANKRUPT)
    assert item["action"] == "review" and "debtor_insolvent" in item["holds"]
    assert [s.step.value for s in ws.store.read(load_facts, "acme").steps] == ["reminder"]


def test_org_no_unknown_to_the_register_holds_the_notice(ws: Workspace, fake_brreg: str) -> None:
    """Neither a unit nor a sub-unit: a typo, or not this debtor. Its bankruptcy cannot be ruled out."""
    ws.write_config(_client(fake_brreg))
    item = _at_notice(ws, "989012347")
    assert item["action"] == "hold" and item["holds"] == ["debtor_insolvent"]
    assert any("not in Enhetsregisteret" in e["detail"] for e in item["evidence"])
    assert [s.step.value for s in ws.store.read(load_facts, "acme").steps] == ["reminder"]
