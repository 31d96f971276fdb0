"""A night for the queue's tests: a scratch PostgreSQL database, the accounting systems, an SMTP server and
Kravia as local fakes, a config of clients that share credentials, and real ``arsync worker`` processes.

Every fake counts what it receives: requests per credential and any beyond the system's documented limit
(``tests.fakes.ledgers``), e-mails per invoice (a reminder twice would be two), cases per invoice at Kravia
(no idempotency key there: a case pushed twice would be two).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from connector import http
from connector.model import Action, DunningStep
from connector.store import Store
from connector.store.sends import record_steps
from tests.builders import camt, to_toml
from tests.fakes import FakeKravia
from tests.fakes.ledger_world import World, realistic
from tests.fakes.ledgers import ENV, FAKES, FakeSystem, ledger_table

BASE_URL = os.environ.get("ARSYNC_TEST_POSTGRES_URL")  # read at import: the autouse fixture clears ARSYNC_*
REPO = Path(__file__).resolve().parents[2]
needs_postgres = pytest.mark.skipif(
    not BASE_URL, reason="set ARSYNC_TEST_POSTGRES_URL to run the queue tests (they need PostgreSQL)"
)

AS_OF = date(2026, 11, 20)
# e-conomic is left out: on PostgreSQL its customers fail to store (the mapping puts the country's name,
# "Danmark", into the two-letter country column; SQLite lets it pass). Reported to the lead (issue 16).
KINDS = ("tripletex", "fiken", "poweroffice")
KRAVIA_TOKEN = "kravia-queue-token-123"
CASE_INVOICE = "10045"  # the realistic ledger's overdue invoice: a reminder, or a case where the ladder is walked


@contextmanager
def scratch_database(base: str | None = None, prefix: str = "arsync_q_", options: str = "") -> Iterator[str]:
    """A fresh database of its own (``<prefix><random>``) on the server of ``base`` (default: the tests'
    PostgreSQL), dropped afterwards whatever happened. The distributed bench uses it too. ``options``: of
    CREATE DATABASE (a collation)."""
    base = base or BASE_URL
    assert base is not None
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" {options}'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        _drop(admin, name)
        admin.dispose()


def _drop(admin: Any, name: str) -> None:
    """DROP … WITH (FORCE), tried again a few times: it fails while an autovacuum worker (another role) is
    in the database, which ends on its own within moments."""
    for attempt in range(20):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except Exception:
            if attempt == 19:
                raise
            time.sleep(0.5)


class Smtp:
    """A real local SMTP server (aiosmtpd) keeping every message it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.received: list[bytes] = []
        received = self.received

        class Handler:
            async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
                received.append(envelope.original_content)
                return "250 OK"

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, ready_timeout=5)

    def __enter__(self) -> Smtp:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def message_ids(self) -> list[str]:
        return [str(message_from_bytes(m)["Message-ID"]) for m in self.received]


class Fleet:
    """The fakes on loopback and clients pointing at them, ``groups`` credentials per system shared round-robin.

    Client ``c042`` uses system ``KINDS[42 % 3]`` and credential ``(42 // 3) % groups`` of it. Tripletex clients
    carry their number in ``company_id`` (the Basic-auth user), so a test can tell whose sync a request is.
    Every second Tripletex client had its reminder and collection notice sent long ago: tonight its invoice
    becomes a case, approved by its rule and pushed to Kravia (Tripletex gives the postal address Kravia
    requires); the others get a reminder by e-mail.
    """

    def __init__(
        self, root: Path, *, latency: float = 0.0, groups: int = 4, limits: bool = True, world: World | None = None
    ):
        """``world``: every client's ledger (default: ``realistic()``, whose invoice 10045 the ladder walks)."""
        self.root = root
        self.groups = groups
        self.stack = ExitStack()
        limit = (lambda kind: http.SYSTEM_LIMITS[kind]) if limits else (lambda kind: None)
        self.fakes: dict[str, FakeSystem] = {
            kind: self.stack.enter_context(FAKES[kind](world or realistic(), latency=latency, limits=limit(kind)))
            for kind in KINDS
        }
        self.smtp = self.stack.enter_context(Smtp())
        self.kravia = FakeKravia(token=KRAVIA_TOKEN)
        self.stack.enter_context(self.kravia)
        self.env = {**ENV, "KRAVIA_TOKEN": KRAVIA_TOKEN}
        for g in range(groups):
            self._credentials(g)

    def close(self) -> None:
        self.stack.close()

    def _credentials(self, g: int) -> None:
        tt, fiken, po = (self.fakes[k] for k in KINDS)
        self.env[f"TT_EMPLOYEE_{g}"] = f"tt-employee-{g}-token-5678"
        tt.employees.add(self.env[f"TT_EMPLOYEE_{g}"])  # type: ignore[attr-defined]
        self.env[f"FIKEN_TOKEN_{g}"] = f"fiken-token-{g}-abcdef123456"
        fiken.valid_tokens.add(self.env[f"FIKEN_TOKEN_{g}"])
        self.env[f"PO_SUB_{g}"] = f"po-subscription-{g}-333333"
        po.sub_keys.add(self.env[f"PO_SUB_{g}"])  # type: ignore[attr-defined]

    @staticmethod
    def client_id(i: int) -> str:
        return f"c{i:03d}"

    @staticmethod
    def walked(i: int) -> bool:
        """The client whose invoice is at the case step tonight."""
        return i % 6 == 0

    def client(self, i: int) -> dict[str, Any]:
        kind, g = KINDS[i % 3], (i // 3) % self.groups
        cid = self.client_id(i)
        ledger = ledger_table(kind, self.fakes[kind])
        ledger.update(
            {
                "tripletex": {"employee_token_env": f"TT_EMPLOYEE_{g}", "company_id": str(1000 + i)},
                "fiken": {"token_env": f"FIKEN_TOKEN_{g}"},
                "poweroffice": {"subscription_key_env": f"PO_SUB_{g}"},
            }[kind]
        )
        bank = self.root / "bank" / cid
        bank.mkdir(parents=True, exist_ok=True)
        (bank / "heartbeat.xml").write_text(camt([], created=AS_OF, message="camt.054"), encoding="utf-8")
        return {
            "id": cid,
            "name": f"Klient {i} AS",
            "org_no": "923456783",
            "country": "NO",
            "currency": "NOK",
            "ledger": ledger,
            "bank": [{"kind": "camt", "path": str(bank)}],
            "policy": {
                "auto_approve": True,
                "steps": [
                    {"action": "reminder", "days": 14, "fee": True, "channel": "email"},
                    {"action": "collection_notice", "days": 14},
                    {"action": "collection_case", "days": 14},
                ],
            },
            "reminders": {
                "path": str(self.root / "outbox" / cid),
                "email": {
                    "host": "127.0.0.1",
                    "port": self.smtp.port,
                    "starttls": False,
                    "from_address": f"purring@{cid}.example",
                },
            },
            # the account the letters ask to be paid to (issue 15): without one a letter cannot say where to pay
            "creditor": {"bank_account": "15032080119", "contact_email": f"post@{cid}.example"},
            "collection": {
                "provider": "kravia",
                "base_url": self.kravia.base_url,
                "token_env": "KRAVIA_TOKEN",
                "creditor_id": 10759,
                "timeout_seconds": 5.0,
                "retry_initial_wait": 0.05,
            },
        }

    def write_config(self, n: int, store_url: str, *, broken: tuple[int, ...] = (), **queue: Any) -> Path:
        """``n`` clients; the ``broken`` ones name a secret nobody set (their sync fails, every time)."""
        path = self.root / "arsync.toml"
        clients = [self.client(i) for i in range(n)]
        for i in broken:
            ledger = clients[i]["ledger"]
            key = next(k for k in ledger if k.endswith("_env"))
            ledger[key] = "NO_SUCH_SECRET"
        doc = {
            "store": {"url": store_url},
            # A killed worker's request holds its credential until connect + read timeout have passed.
            "http": {"connect_timeout": 1.0, "read_timeout": 3.0, "client_deadline": 60.0},
            # Quick to find a dead worker, yet not so quick that a live one on a loaded machine seems dead.
            "queue": {"heartbeat_seconds": 0.5, "stalled_seconds": 4.0, "retry_wait_seconds": 0, **queue},
            "clients": clients,
        }
        path.write_text(to_toml(doc), encoding="utf-8")
        return path

    def walk_ladders(self, store_url: str, n: int) -> None:
        """Reminder and notice of the walked clients' invoice sent long ago: tonight it is a case."""
        store = Store(store_url)
        try:
            with store.transaction() as conn:
                steps = [
                    step
                    for i in range(n)
                    if self.walked(i)
                    for step in (
                        DunningStep(
                            self.client_id(i), CASE_INVOICE, Action.REMINDER, date(2026, 9, 1), "email", currency="NOK"
                        ),
                        DunningStep(
                            self.client_id(i),
                            CASE_INVOICE,
                            Action.COLLECTION_NOTICE,
                            date(2026, 9, 20),
                            "outbox",
                            currency="NOK",
                        ),
                    )
                ]
                record_steps(conn, steps)
        finally:
            store.close()

    def breaches(self) -> list[str]:
        return [b for f in self.fakes.values() for b in f.breaches]


def arsync_argv(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "connector.cli", "--config", str(config), *args]


def start_workers(
    config: Path, env: dict[str, str], n: int, concurrency: int, logs: Path
) -> list[subprocess.Popen[bytes]]:
    """``n`` real ``arsync worker`` processes, their output in ``logs``/worker-<i>.log."""
    logs.mkdir(parents=True, exist_ok=True)
    full = {**_clean_env(), **env, "PYTHONPATH": str(REPO)}
    procs = []
    for i in range(n):
        out = (logs / f"worker-{i}.log").open("wb")
        procs.append(
            subprocess.Popen(
                arsync_argv(config, "-v", "worker", "--concurrency", str(concurrency)),
                env=full,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=REPO,
            )
        )
    return procs


def stop_workers(procs: list[subprocess.Popen[bytes]], timeout: float = 30) -> list[int | None]:
    """SIGTERM each live worker and wait for it (killed if it will not stop); their exit statuses."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    codes: list[int | None] = []
    for p in procs:
        try:
            codes.append(p.wait(timeout=timeout))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            codes.append(None)
    return codes


def run_cli(config: Path, env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        arsync_argv(config, *args),
        env={**_clean_env(), **env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ARSYNC_")}
