"""A workbench scenario over a real store: three clients after a nightly run, users of each kind.

- acme (Acme AS): invoice 1001 ready for collection (a case is proposed), 1002 overdue, 1003 not due,
  two customers;
- beta (Beta AS): invoice 2001 ready for collection;
- gamma (Gamma AS): its ledger folder is gone, so last night's sync failed.

``files_in_trouble`` adds a file that does not read (acme) and a conflicting document (beta).

``call_scenario`` is another firm's morning, for the call step (issue 15): acme's ladder has a call after the
reminder; Kunde AS (two invoices, phone +47 900 11 222, ask for Kari Kunde) was reminded on 19 January and is
to be called on CALL_DAY, the nightly run of that day done.

Users (cheap argon2 parameters: the hash format and the check are the real ones): kari approves
everywhere, vera only views, anna approves but sees only acme.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from argon2 import PasswordHasher
from starlette.testclient import TestClient

from connector.config import Settings
from connector.model import Action, DunningStep
from connector.store.sends import record_steps
from connector.web.users import hash_password
from tests.builders import Workspace, client_table, to_toml, ubl_credit_note, ubl_invoice

ISSUE = date(2026, 6, 1)
DUE = date(2026, 6, 15)
REMIND = DUE + timedelta(days=7)
NOTICE = REMIND + timedelta(days=14)  # Monday 6 July: its deadline Monday 20 July
CASE = NOTICE + timedelta(days=21)  # the day of the nightly run the pages show: past the deadline + settle days
NOON = datetime.combine(CASE, time(12, 0), tzinfo=UTC)

PASSWORD = "correct horse battery"
_FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def user(name: str, role: str, clients: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    table: dict[str, Any] = {"name": name, "password_hash": hash_password(PASSWORD, _FAST), "role": role, **extra}
    if clients is not None:
        table["clients"] = clients
    return table


def default_users() -> list[dict[str, Any]]:
    return [user("kari", "approver"), user("vera", "viewer"), user("anna", "approver", ["acme"])]


def write_config(ws: Workspace, web: dict[str, Any] | None = None) -> Settings:
    """The workspace's clients plus a [web] table (default: the three users)."""
    web = {"users": default_users()} if web is None else web
    doc: dict[str, Any] = {"store": {"url": "sqlite:///state/arsync.db"}, "clients": ws.clients}
    if web:
        doc["web"] = web
    ws.config_path.write_text(to_toml(doc), encoding="utf-8")
    return ws.settings()


def _ready_for_collection(ws: Workspace, client_id: str, number: str) -> None:
    with ws.store.transaction() as conn:
        record_steps(
            conn,
            [
                DunningStep(client_id, number, Action.REMINDER, REMIND, "outbox", currency="NOK"),
                DunningStep(client_id, number, Action.COLLECTION_NOTICE, NOTICE, "outbox", currency="NOK"),
            ],
        )


def scenario(ws: Workspace, web: dict[str, Any] | None = None) -> Settings:
    """Config, files and one nightly run on CASE; returns the settings."""
    ws.write_config(client_table("acme"), client_table("beta"), client_table("gamma"))
    settings = write_config(ws, web)
    ws.add_invoice("1001", client_id="acme", issue=ISSUE, due=DUE, amount="1000.00")
    ws.add_invoice(
        "1002",
        client_id="acme",
        customer="Fjord Handel AS",
        org="987654325",
        issue=CASE - timedelta(days=40),
        due=CASE - timedelta(days=20),
        amount="12345.50",
    )
    ws.add_invoice(
        "1003", client_id="acme", issue=CASE - timedelta(days=5), due=CASE + timedelta(days=9), amount="250.00"
    )
    ws.add_invoice(
        "2001", client_id="beta", customer="Havbris AS", org="912345674", issue=ISSUE, due=DUE, amount="4200.00"
    )
    ws.add_invoice("3001", client_id="gamma", issue=ISSUE, due=DUE, amount="777.00")
    _ready_for_collection(ws, "acme", "1001")
    _ready_for_collection(ws, "beta", "2001")
    for client_id in ("acme", "beta", "gamma"):
        ws.bank_heartbeat(CASE, client_id)
    for f in ws.ehf_dir("gamma").iterdir():  # gamma's ledger folder disappears: its sync fails
        f.unlink()
    ws.ehf_dir("gamma").rmdir()
    result = ws.cli("run", "--as-of", CASE.isoformat())
    assert result.exit_code == 1, result.output  # gamma failed, the others ran
    return settings


def files_in_trouble(ws: Workspace) -> None:
    """acme's credit note 5001 on Fjord Handel's invoice 1002 arrives cut off (it holds 1002: it could
    change it), and a second document with beta's invoice number 2001 and another amount arrives (it holds
    2001: a person decides which is right); then acme's and beta's night again."""
    credit = ubl_credit_note(
        "5001", "1002", customer="Fjord Handel AS", org="987654325", issue=CASE - timedelta(days=3), amount="500.00"
    )
    (ws.ehf_dir("acme") / "5001-credit.xml").write_text(credit[: len(credit) - 400], encoding="utf-8")
    other = ubl_invoice("2001", customer="Havbris AS", org="912345674", issue=ISSUE, due=DUE, amount="4300.00")
    (ws.ehf_dir("beta") / "b-2001.xml").write_text(other, encoding="utf-8")
    result = ws.cli("run", "--client", "acme", "--client", "beta", "--as-of", CASE.isoformat())
    assert result.exit_code == 0, result.output


CALL_LADDER = [
    {"action": "reminder", "days": 14, "fee": True},
    {"action": "call", "days": 7},
    {"action": "collection_notice", "days": 7},
    {"action": "collection_case", "days": 14},
]
CALL_REMINDED = date(2026, 1, 19)  # the reminder: pay by Monday 2 February
CALL_DAY = date(2026, 2, 5)  # the first business day after the pay-by + 2 settle days: the call is due
CALL_NOON = datetime.combine(CALL_DAY, time(12, 0), tzinfo=UTC)
KUNDE = "934567897"
KUNDE_PHONE = "+47 900 11 222"


def night(ws: Workspace, day: date) -> None:
    ws.bank_heartbeat(day)
    result = ws.cli("run", "--as-of", day.isoformat())
    assert result.exit_code == 0, result.output


def call_scenario(ws: Workspace) -> Settings:
    ws.write_config(client_table("acme", policy={"steps": CALL_LADDER}))
    settings = write_config(ws)
    for number, amount in (("7001", "3000.00"), ("7002", "2000.00")):
        ws.add_invoice(
            number,
            issue=date(2025, 12, 22),
            due=date(2026, 1, 5),
            amount=amount,
            phone=KUNDE_PHONE,
            contact="Kari Kunde",
        )
    for day in (CALL_REMINDED, CALL_DAY):
        night(ws, day)
    return settings


# ---- driving the app ---------------------------------------------------------------------------

# app_for(user=None, web=None, clock=…, **TestClient kwargs) -> TestClient (the fixture in conftest.py)
AppFactory = Callable[..., TestClient]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def log_in(client: TestClient, name: str, password: str = PASSWORD) -> Any:
    page = client.get("/login")
    return client.post(
        "/login", data={"csrf_token": csrf_of(page.text), "name": name, "password": password, "next": "/"}
    )
