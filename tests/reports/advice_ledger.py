"""Ledgers for the advice report's tests: a small hand-made half year whose every figure is worked out
by hand (``small_ledger``), and a generated year for three clients (NO, DK, SE) stored through the real
store, for the CLI and the browser (``portfolio_scene``)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from connector.model import (
    ENVELOPE,
    Action,
    Case,
    CaseEvent,
    CaseStatus,
    Customer,
    Dispute,
    DocKind,
    DocumentEvent,
    DunningStep,
    Facts,
    Invoice,
    Payment,
)
from connector.store import Store
from connector.store.cases import add_case_event, propose_case
from connector.store.disputes import add_dispute
from connector.store.documents import store_events
from connector.store.ledger import upsert_customers, upsert_invoices
from connector.store.payments import upsert_payments
from connector.store.sends import record_steps
from tests.builders import Workspace, client_table, to_toml

FJORD, KYST, OLA, HAVN = "C1", "C2", "C3", "C4"


def invoice(
    number: str,
    customer: str,
    issued: date,
    term_days: int | None,
    amount: str,
    delivered: date | None = None,
    client: str = "acme",
    currency: str = "NOK",
) -> Invoice:
    due = issued + timedelta(days=term_days) if term_days is not None else None
    return Invoice(
        client, number, DocKind.INVOICE, customer, issued, due, currency, Decimal(amount), "tripletex",
        delivery_date=delivered,
    )  # fmt: skip


def paid(ref: str, number: str, on: date, amount: str, client: str = "acme", currency: str = "NOK") -> Payment:
    return Payment(client, "tripletex", "", ref, 0, on, Decimal(amount), currency, invoice_number=number)


def step(number: str, action: Action, on: date, client: str = "acme") -> DunningStep:
    return DunningStep(client, number, action, on, "outbox")


def small_ledger() -> Facts:
    """Half a year (July–December 2025) of client acme (NOK), tripletex ledger."""
    customers = {
        FJORD: Customer("acme", FJORD, "Fjord Bygg AS", org_no="923456791", country="NO"),
        KYST: Customer("acme", KYST, "Kyst AS", org_no="934567897", country="NO"),
        OLA: Customer("acme", OLA, "Ola Nordmann", is_person=True),
        HAVN: Customer("acme", HAVN, "Havn AS", org_no="945678909", country="NO"),
    }
    invoices = (
        invoice("A0", FJORD, date(2025, 6, 1), 14, "4000.00"),  # before the period
        invoice("A1", FJORD, date(2025, 7, 1), 14, "10000.00", delivered=date(2025, 6, 20)),  # 11 days
        invoice("A2", FJORD, date(2025, 8, 1), 14, "10000.00", delivered=date(2025, 8, 1)),  # same day
        invoice("A3", KYST, date(2025, 9, 1), 30, "20000.00"),
        invoice("A4", OLA, date(2025, 10, 1), 14, "5000.00", delivered=date(2025, 9, 1)),  # 30 days
        invoice("A5", KYST, date(2025, 12, 1), 30, "8000.00"),
        invoice("A7", HAVN, date(2025, 11, 1), 14, "2000.00"),
        invoice("A8", HAVN, date(2025, 11, 3), None, "1000.00"),  # no due date
    )
    payments = (
        paid("P0", "A0", date(2025, 6, 10), "4000.00"),
        paid("P1", "A1", date(2025, 7, 10), "10000.00"),
        paid("P2", "A2", date(2025, 9, 15), "10000.00"),  # 17 days after its reminder
        paid("P3", "A3", date(2025, 12, 1), "5000.00"),  # after the hand-over
        paid("P7", "A7", date(2025, 11, 10), "2000.00"),
        paid("P8", "A8", date(2025, 11, 20), "1000.00"),
    )
    steps = (
        step("A2", Action.REMINDER, date(2025, 8, 29)),
        step("A3", Action.REMINDER, date(2025, 10, 15)),
        step("A3", Action.COLLECTION_NOTICE, date(2025, 10, 29)),
    )
    disputes = (
        Dispute("acme", "A4", "D1", date(2025, 10, 20), "wrong hours", "manual", date(2025, 10, 30), "credited"),
        Dispute("acme", "A5", "D2", date(2025, 12, 5), "not delivered", "manual"),
    )
    case = Case(
        "K1", "acme", "A3", KYST, "NOK", Decimal("20000.00"), Decimal("20000.00"), CaseStatus.PUSHED,
        date(2025, 11, 12),
        events=(
            _event("K1", CaseStatus.PROPOSED, date(2025, 11, 12)),
            _event("K1", CaseStatus.APPROVED, date(2025, 11, 19)),
            _event("K1", CaseStatus.PUSHED, date(2025, 11, 20)),
        ),
    )  # fmt: skip
    envelope = DocumentEvent(
        "acme", f"{ENVELOPE}|SBDH-A1", ENVELOPE, "SENT", date(2025, 7, 1), "SBDH-A1", invoice_number="A1"
    )
    return Facts(
        "acme", customers, invoices, payments, disputes, (), steps, (case,), document_events=(envelope,)
    )  # fmt: skip


def _event(case_id: str, status: CaseStatus, on: date) -> CaseEvent:
    return CaseEvent(case_id, status, on)


# ---- into a real store ----------------------------------------------------------------------------


def write_facts(store: Store, facts: Facts) -> None:
    with store.transaction() as conn:
        at = store.now()
        upsert_customers(conn, facts.customers.values())
        upsert_invoices(conn, facts.invoices)
        upsert_payments(conn, facts.payments)
        record_steps(conn, facts.steps)
        for d in facts.disputes:
            add_dispute(conn, d)
        for case in facts.cases:
            propose_case(conn, case, at=at)
            for e in case.events:
                if e.status is not CaseStatus.PROPOSED:
                    add_case_event(conn, case.client_id, case.case_id, e.status, e.on, at=at)
        store_events(conn, facts.client_id, facts.document_events)


def write_config(ws: Workspace, *clients: dict[str, Any]) -> None:
    """The config file alone: API-ledger clients have no folders to make."""
    ws.clients = list(clients)
    ws.config_path.write_text(
        to_toml({"store": {"url": "sqlite:///state/arsync.db"}, "clients": ws.clients}), encoding="utf-8"
    )


def tripletex_client(client_id: str, name: str, country: str, currency: str, **extra: Any) -> dict[str, Any]:
    """A client on an API ledger: ``report advice`` never syncs, so no token is ever read."""
    table = client_table(client_id, name=name, country=country, currency=currency, **extra)
    table["ledger"] = {"kind": "tripletex", "consumer_token_env": "TT_CONSUMER", "employee_token_env": "TT_EMPLOYEE"}
    return table


# ---- a generated year for three clients -------------------------------------------------------------

SCENE_END = date(2026, 1, 31)
COMPANIES = {
    "NO": [("Fjord Bygg AS", "923456791"), ("Kyst Transport AS", "934567897"), ("Nordlys Design AS", "945678909"),
           ("Vest Elektro AS", "956789012"), ("Bergen Bakeri AS", "967890123"), ("Trondheim Rør AS", "978901234")],
    "DK": [("Havn Logistik ApS", "12345678"), ("Sønderby Tømrer A/S", "23456789"), ("Kbh Kaffe ApS", "34567890"),
           ("Aarhus Maskin A/S", "45678901")],
    "SE": [("Göta Bygg AB", "5560360793"), ("Norrland Trä AB", "5561234567"), ("Malmö Media AB", "5569876543"),
           ("Uppsala El AB", "5565554443")],
}  # fmt: skip


def generated_year(client_id: str, country: str, currency: str, seed: int) -> Facts:
    """About ten invoices a month for fifteen months up to SCENE_END (so a year's DSO has its 90 days of
    sales from the start), with habits per customer: terms, delivery lag, lateness; reminders for the late
    ones, a few disputes, cases handed to inkasso; every other customer gets its invoices by Peppol."""
    rng = random.Random(seed)
    customers = {
        f"{country}{n}": Customer(client_id, f"{country}{n}", name, org_no=org, country=country)
        for n, (name, org) in enumerate(COMPANIES[country])
    }
    habits = {
        cid: (rng.choice([14, 14, 30, 30, 10, 45]), rng.randint(0, 25), rng.choice([-5, 0, 5, 10, 20, 35, 60]))
        for cid in customers
    }
    peppol = {cid for i, cid in enumerate(customers) if i % 2 == 0}
    invoices: list[Invoice] = []
    payments: list[Payment] = []
    steps: list[DunningStep] = []
    disputes: list[Dispute] = []
    cases: list[Case] = []
    events: list[DocumentEvent] = []
    day, n = SCENE_END - timedelta(days=455), 0
    while day <= SCENE_END:
        for _ in range(rng.randint(0, 1)):
            n += 1
            cid = rng.choice(list(customers))
            terms, lag, late = habits[cid]
            number = f"{client_id[:2].upper()}{n:04d}"
            amount = Decimal(rng.randrange(2_000, 90_000, 500))
            delivered = day - timedelta(days=max(0, lag + rng.randint(-3, 3))) if rng.random() < 0.7 else None
            inv = invoice(number, cid, day, terms, str(amount), delivered, client_id, currency)
            invoices.append(inv)
            assert inv.due_date is not None
            if cid in peppol:
                key = f"SBDH-{number}"
                event = DocumentEvent(client_id, f"{ENVELOPE}|{key}", ENVELOPE, "SENT", day, key, invoice_number=number)
                events.append(event)
            lateness = late + rng.randint(-6, 10)
            paid_on = inv.due_date + timedelta(days=lateness)
            if lateness > 14:
                steps.append(step(number, Action.REMINDER, inv.due_date + timedelta(days=14), client_id))
            if lateness > 40:
                steps.append(step(number, Action.COLLECTION_NOTICE, inv.due_date + timedelta(days=28), client_id))
            if rng.random() < 0.04:
                opened = inv.due_date + timedelta(days=rng.randint(1, 10))
                resolved = opened + timedelta(days=rng.randint(3, 40)) if rng.random() < 0.7 else None
                disputes.append(Dispute(client_id, number, f"D{n}", opened, "price", "manual", resolved))
            if lateness > 60 and len(cases) < 3:
                pushed = inv.due_date + timedelta(days=50)
                history = (_event(f"K{n}", CaseStatus.PROPOSED, pushed), _event(f"K{n}", CaseStatus.PUSHED, pushed))
                case = Case(f"K{n}", client_id, number, cid, currency, amount, amount, CaseStatus.PUSHED, pushed)
                cases.append(replace(case, events=history))
            if paid_on <= SCENE_END:
                payments.append(paid(f"P{n}", number, paid_on, str(amount), client_id, currency))
        day += timedelta(days=rng.choice([1, 2, 3, 4]))
    return Facts(
        client_id,
        customers,
        tuple(invoices),
        tuple(payments),
        tuple(disputes),
        (),
        tuple(steps),
        tuple(cases),
        document_events=tuple(events),
    )


def portfolio_scene(ws: Workspace, **registry: Any) -> None:
    """Three clients with a generated year each, in the workspace's store."""
    write_config(
        ws,
        tripletex_client("acme", "Acme Regnskap AS", "NO", "NOK", registry=registry),
        tripletex_client("dansk", "Dansk Handel ApS", "DK", "DKK", registry=registry),
        tripletex_client("svensk", "Svensk Service AB", "SE", "SEK", registry=registry, policy={"fee_agreed": True}),
    )
    for client_id, country, currency, seed in (
        ("acme", "NO", "NOK", 1),
        ("dansk", "DK", "DKK", 2),
        ("svensk", "SE", "SEK", 3),
    ):
        write_facts(ws.store, generated_year(client_id, country, currency, seed))
