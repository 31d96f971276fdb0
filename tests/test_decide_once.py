"""One decision per client per night: flagged short payments, fresh register answers and sends resolved from
an interrupted run are facts the night decides *with*, not after. Only the push of an approved case decides
again, against facts read afresh just before it leaves for the provider."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from connector.config import ClientConfig
from connector.dunning.decide import decide, registry_debtors
from connector.dunning.holds import REGISTRY_STEPS, needs_registry
from connector.engine import afresh, slices
from connector.engine import decisions as engine
from connector.model import (
    Action,
    Case,
    CaseStatus,
    Customer,
    Dispute,
    DocKind,
    DunningStep,
    Facts,
    Invoice,
    Payment,
    RegistryFact,
    SyncStatus,
)
from connector.reconcile.for_client import reconcile_facts
from connector.store import sends
from connector.store.cases import add_case_event, load_cases, propose_case
from connector.store.facts import load_facts
from tests.builders import Entry, Workspace, client_table, kid

DUE = date(2026, 1, 5)  # Monday
COMPLAINT = date(2026, 1, 8)
PAID = date(2026, 1, 12)
REMINDED = date(2026, 1, 14)  # a reminder (sent outside arsync) asking for payment by Wednesday 28 January
NIGHT = date(2026, 2, 2)  # … its collection notice day: the first business day after it + 2 settle days
DEBTOR_ORG = "934567897"


class _ActiveRegister(BaseHTTPRequestHandler):
    """Brønnøysund's answer for an active company, for every org no asked (the shape of /enheter/{orgnr})."""

    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        org = self.path.rstrip("/").rsplit("/", 1)[-1]
        self.asked.append(org)
        body = json.dumps(
            {"organisasjonsnummer": org, "navn": "KUNDE AS", "konkurs": False, "organisasjonsform": {"kode": "AS"}}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def register() -> Iterator[str]:
    _ActiveRegister.asked = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ActiveRegister)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/enhetsregisteret/api"
    server.shutdown()
    server.server_close()


@pytest.fixture
def decide_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every call the engine makes of the pure core's ``decide``, per client."""
    calls: Counter[str] = Counter()
    real = engine.decide

    def counting(facts: Facts, *args: Any, **kwargs: Any) -> Any:
        calls[facts.client_id] += 1
        return real(facts, *args, **kwargs)

    monkeypatch.setattr(engine, "decide", counting)
    monkeypatch.setattr(afresh, "decide", counting)  # the push re-check's (connector.engine.afresh)
    return calls


def _night_with_everything(ws: Workspace, client_id: str) -> None:
    """Before the night: a short payment after the buyer's complaint (flagged tonight), an invoice at its
    collection notice (the register is asked tonight) and an e-mail reminder a crashed run left pending
    (resolved tonight)."""
    ws.add_invoice("7001", client_id=client_id, issue=date(2025, 12, 22), due=DUE, amount="10000.00")
    ws.add_invoice("7002", client_id=client_id, issue=date(2025, 12, 22), due=DUE, amount="3000.00")
    ws.add_invoice("7003", client_id=client_id, issue=date(2025, 12, 22), due=DUE, amount="2000.00")
    assert ws.cli("sync", "--client", client_id, "--as-of", COMPLAINT.isoformat()).exit_code == 0
    opened = ws.cli(
        "disputes", "open", "--client", client_id, "7001", "--reason", "broken chairs", "--as-of", COMPLAINT.isoformat()
    )
    assert opened.exit_code == 0, opened.output
    dispute_id = opened.output.split()[1]
    assert ws.cli("disputes", "resolve", "--client", client_id, dispute_id, "--as-of", "2026-01-09").exit_code == 0
    ws.add_bank_file(
        "camt-paid.xml", [Entry("P-1", "8000.00", PAID, kid=kid("7001"))], created=PAID, client_id=client_id
    )
    with ws.store.transaction() as conn:
        sends.record_steps(conn, [DunningStep(client_id, "7002", Action.REMINDER, REMINDED, "outbox", currency="NOK")])
    intent = sends.SendIntent(client_id, "7003", Action.REMINDER, REMINDED, "email", "", Decimal("0"), "NOK")
    ws.store.write(sends.begin, intent, owner=ws.store.run.key, at=ws.store.now())
    ws.bank_heartbeat(NIGHT, client_id=client_id)


def _approved_case(ws: Workspace, client_id: str) -> None:
    ws.add_invoice("7004", client_id=client_id, issue=date(2025, 12, 1), due=date(2025, 12, 8), amount="4000.00")
    case = Case(
        f"{client_id}-7004", client_id, "7004", DEBTOR_ORG, "NOK", Decimal("4000.00"), Decimal("4000.00"),
        CaseStatus.PROPOSED, date(2026, 1, 26),
    )  # fmt: skip
    with ws.store.transaction() as conn:
        propose_case(conn, case, at=ws.store.now())
        add_case_event(
            conn, client_id, case.case_id, CaseStatus.APPROVED, date(2026, 1, 27), "approved", at=ws.store.now()
        )


def test_each_client_is_decided_once_a_night_and_again_only_to_re_check_a_push(
    ws: Workspace, register: str, decide_calls: Counter[str]
) -> None:
    checked = {"enabled": True, "base_url": register, "timeout_seconds": 2}
    ws.write_config(client_table("acme", registry=checked), client_table("beta", registry=checked))
    for client_id in ("acme", "beta"):
        _night_with_everything(ws, client_id)
    _approved_case(ws, "acme")  # beta has nothing to push
    decide_calls.clear()

    result = ws.cli("run", "--as-of", NIGHT.isoformat(), "--json")

    assert result.exit_code == 0, result.output
    assert decide_calls == {"acme": 2, "beta": 1}
    # … and that one decision was made with everything the night found:
    items = {(i["client"], i["invoice"]): i for i in json.loads(result.stdout)["items"]}
    for client_id in ("acme", "beta"):
        assert items[(client_id, "7001")]["state"] == "disputed"  # the short payment flagged tonight
        assert any(e["kind"] == "registry" for e in items[(client_id, "7002")]["evidence"])  # asked tonight
        assert items[(client_id, "7002")]["action"] == "collection_notice"
        assert items[(client_id, "7003")]["action"] != "reminder"  # resolved tonight: sent-unconfirmed
        disputes = [d for d in ws.store.read(load_facts, client_id).disputes if d.source == "short_payment"]
        assert [(d.invoice_number, d.is_open) for d in disputes] == [("7001", True)]  # … and stored
    assert _ActiveRegister.asked == [DEBTOR_ORG]  # once: the cache answers for the second client
    [case] = [c for c in ws.store.read(load_cases, ["acme"]) if c.invoice_number == "7004"]
    assert case.status is not CaseStatus.APPROVED  # the re-check ran: pushed, or back to review


def test_a_night_without_a_case_to_push_decides_once(ws: Workspace, decide_calls: Counter[str]) -> None:
    ws.write_config(client_table("acme"))
    _night_with_everything(ws, "acme")
    decide_calls.clear()
    assert ws.cli("run", "--as-of", NIGHT.isoformat()).exit_code == 0
    assert decide_calls == {"acme": 1}


# ---- the register is asked about exactly the debtors the decision escalates -----------------------------

NO_ORGS = ("934567897", "923456791", "987654325", "923456783")


def _random_book(rnd: random.Random) -> tuple[Facts, date]:
    """A small client's book in random states: due or not, reminded, noticed, paid in part or in full,
    disputed, with cases in every status, for companies, persons and foreign debtors."""
    as_of = date(2026, 3, 1) + timedelta(days=rnd.randrange(120))
    customers = {
        f"C{i}": Customer(
            "acme",
            f"C{i}",
            f"Kunde {i}",
            org_no=rnd.choice((*NO_ORGS, None, "NO 934 567 897 MVA")),
            country=rnd.choice(("NO", "NO", "NO", "SE", None)),
            is_person=rnd.random() < 0.2,
        )
        for i in range(4)
    }
    invoices, payments, steps, cases, disputes = [], [], [], [], []
    for n in range(12):
        number = str(7000 + n)
        due = None if rnd.random() < 0.1 else as_of - timedelta(days=rnd.randrange(-20, 90))
        amount = Decimal(rnd.choice(("1000.00", "2500.00", "40.00")))
        invoices.append(
            Invoice("acme", number, DocKind.INVOICE, rnd.choice(list(customers)), date(2026, 1, 2), due, "NOK",
                    amount, "ehf", kid=kid(number))
        )  # fmt: skip
        paid = rnd.random()
        if paid < 0.3:
            part = amount if paid < 0.15 else amount / 2
            payments.append(
                Payment("acme", "camt", "15032080119", f"B{n}", 0, as_of - timedelta(days=3), part, "NOK",
                        structured_ref=kid(number))
            )  # fmt: skip
        anchor = due or date(2026, 1, 2)
        for step, days in ((Action.REMINDER, 14), (Action.COLLECTION_NOTICE, 28)):
            if rnd.random() < 0.5 and anchor + timedelta(days=days) <= as_of:
                steps.append(DunningStep("acme", number, step, anchor + timedelta(days=days), "outbox", currency="NOK"))
        if rnd.random() < 0.3:
            status = rnd.choice(list(CaseStatus))
            case = Case(f"acme-{number}", "acme", number, "C0", "NOK", amount, amount, status, as_of, events=())
            cases.append(case)
        if rnd.random() < 0.15:
            disputes.append(Dispute("acme", number, f"d-{number}", as_of - timedelta(days=1), "phone", "manual"))
    synced = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC)
    sync = {
        "ledger": SyncStatus("ledger", synced, synced, None, as_of, None),
        "bank:camt:/bank": SyncStatus("bank:camt:/bank", synced, synced, None, as_of, None),
    }
    registry = {
        org: RegistryFact("brreg", org, synced - timedelta(days=rnd.randrange(3)), ok=rnd.random() < 0.8,
                          insolvent=org == "923456791", status="active")
        for org in NO_ORGS
        if rnd.random() < 0.5
    }  # fmt: skip
    facts = Facts("acme", customers, tuple(invoices), tuple(payments), tuple(disputes), (), tuple(steps),
                  tuple(cases), sync, registry=registry)  # fmt: skip
    return facts, as_of


def test_the_register_is_asked_about_exactly_the_debtors_the_decision_escalates() -> None:
    """``registry_debtors`` (asked before deciding) names the debtors of exactly the decisions whose action or
    next step is a collection notice or case (what was asked after a first decision before): register
    answers change holds, never the step, so asking first changes nothing."""
    cfg = ClientConfig.model_validate(client_table(registry={"enabled": True}))
    rnd = random.Random(12)
    escalating = 0
    for _ in range(300):
        facts, as_of = _random_book(rnd)
        recon = reconcile_facts(facts, cfg)
        expected = {
            org
            for d in decide(facts, cfg, as_of, recon)
            if (d.action in REGISTRY_STEPS or d.next_step in REGISTRY_STEPS)
            and (org := needs_registry(facts.customers.get(d.customer_id)))
        }
        assert registry_debtors(facts, cfg, recon) == expected
        escalating += bool(expected)
    assert escalating > 50  # the books do reach notices and cases


def test_a_sliced_client_with_the_register_on_is_decided_once_with_what_the_night_found(
    ws: Workspace, decide_calls: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client too big for one piece is read and matched once to flag and to find who to ask, then once more
    to decide (bounded memory): each slice is decided once, with the flags and answers kept in memory — the
    same decisions as deciding it whole."""
    ws.write_config(client_table(registry={"enabled": True}))
    _night_with_everything(ws, "acme")
    for number, org in (("7005", "923456791"), ("7006", "987654325")):
        ws.add_invoice(number, customer=f"Kunde {org}", org=org, issue=date(2025, 12, 22), due=DUE, amount="900.00")
    assert ws.cli("sync", "--as-of", NIGHT.isoformat()).exit_code == 0
    with ws.store.transaction() as conn:
        sends.record_steps(conn, [DunningStep("acme", "7005", Action.REMINDER, REMINDED, "outbox", currency="NOK")])
    client = ws.client("acme")
    asked: list[set[str]] = []

    def lookup(orgs: set[str]) -> list[RegistryFact]:  # answers in memory only: nothing is stored
        asked.append(orgs)
        at = datetime(2026, 2, 2, 1, tzinfo=UTC)
        return [RegistryFact("brreg", o, at, ok=True, insolvent=o == "923456791", status="active") for o in orgs]

    whole = engine.decide_night(ws.store, client, NIGHT, lookup=lookup)
    assert decide_calls["acme"] == 1
    decide_calls.clear()
    monkeypatch.setattr(slices, "SLICE_DOCUMENTS", 2)
    monkeypatch.setattr(slices, "PARALLEL_SLICES", 1)  # every call counted here (a forked helper counts its own)
    run = slices.SlicedRun(ws.store, client)
    assert sum(1 for _ in run) > 1  # the book really is sliced
    sliced = engine.decide_night(ws.store, client, NIGHT, lookup=lookup)

    assert decide_calls["acme"] == run.slices  # every slice decided once
    assert asked == [{DEBTOR_ORG, "923456791"}] * 2
    assert [d.as_json() for d in sliced.decisions] == [d.as_json() for d in whole.decisions]
    assert sliced.flagged == whole.flagged and [d.invoice_number for d in whole.flagged] == ["7001"]
    by_number = {d.invoice_number: d for d in whole.decisions}
    assert by_number["7001"].state == "disputed" and by_number["7005"].action == Action.REVIEW  # insolvent
    assert ws.store.read(load_facts, "acme").registry == {}  # … from memory, not from a re-read

    monkeypatch.setattr(slices, "PARALLEL_SLICES", 2)  # surveyed and decided in two processes where it can fork
    in_processes = engine.decide_night(ws.store, client, NIGHT, lookup=lookup)
    assert [d.as_json() for d in in_processes.decisions] == [d.as_json() for d in whole.decisions]
    assert in_processes.flagged == whole.flagged
