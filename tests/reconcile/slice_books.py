"""Random small clients for comparing a sliced run with the whole client (``connector.engine.slices``).

The generator aims at what routing has to get right: KIDs and invoice numbers shared across customers, numbers
that differ only by case, payer accounts learned from KID payments, org ids, inkasso payers, pending and
booked credits nobody can place (every slice sees them), reversals with and without references, ledger
payments and their bank twins, credit notes across customers, twins that deduplication drops. ``Outcome``
reduces a run to comparable values; ``check`` runs a book both ways and asserts they agree.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from connector.config import ClientConfig
from connector.dunning.decide import decide
from connector.engine.slices import SlicedRun
from connector.model import Action, Customer, Decision, Dispute, DocKind, DunningStep, Invoice, Payment, PaymentStatus
from connector.reconcile.for_client import reconcile_facts
from connector.reconcile.matching import Reconciliation
from connector.references import kid_mod10, kid_mod11
from connector.store import Store
from connector.store.bookings import FEE, FeeBooking, plan
from connector.store.disputes import add_dispute
from connector.store.facts import load_facts
from connector.store.ledger import upsert_customers, upsert_invoices
from connector.store.payments import upsert_payments
from connector.store.sends import record_steps
from connector.store.sync import record_sync
from tests.builders import client_table

D = Decimal
CID = "acme"
AS_OF = date(2024, 4, 2)
DAY0 = date(2024, 3, 1)  # payments are booked in the ten days from here
ISSUED = date(2024, 2, 1)  # invoices are issued in the four days from here
AMOUNTS = tuple(D(a) for a in ("100.00", "250.00", "500.00", "750.00", "1000.00", "1250.50"))
CURRENCIES = ("NOK", "NOK", "NOK", "EUR", "SEK")
ORGS = ("923456783", "934567897", "912345670")
CREDITOR_ACCOUNTS = ("15030012345", "15030099999")
PAYER_ACCOUNTS = ("12345678903", "1234.56.78903", "98765432109", "11112222333", "55556666777")
INKASSO_ACCOUNT = "55556666777"  # a payer account, and sometimes the client's configured inkasso payer
ISOLATED = "Z9"  # a customer nothing else touches: with it the client always splits into several slices
# how a payment is drawn: the reference or evidence it carries (weights by repetition)
KINDS = ("kid",) * 3 + ("kid_text", "number_text", "number_text") + ("payer",) * 3 + ("org", "nothing", "nothing")
KINDS += ("inkasso", "ledger", "zero", "reversal_ref", "reversal_plain", "reversal_plain")
# … and for payments placed by who paid: learned payer accounts, org ids, subset sums, plain reversals
PAYER_KINDS = ("kid", "payer", "payer", "payer", "org", "nothing", "ledger", "reversal_plain")


# -- building facts -------------------------------------------------------------------------------


def customer(customer_id: str, org_no: str | None = None) -> Customer:
    return Customer(CID, customer_id, f"Kunde {customer_id} AS", org_no=org_no)


def invoice(
    number: str,
    customer_id: str,
    amount: Decimal | str,
    kid: str | None = None,
    *,
    issued: date = ISSUED,
    due: date | None = ISSUED + timedelta(days=14),
    currency: str = "NOK",
    **kw: Any,
) -> Invoice:
    return Invoice(
        client_id=CID,
        number=number,
        kind=kw.pop("kind", DocKind.INVOICE),
        customer_id=customer_id,
        issue_date=issued,
        due_date=due,
        currency=currency,
        amount=D(amount),
        source="ehf",
        kid=kid,
        **kw,
    )


def credit_note(number: str, customer_id: str, amount: Decimal | str, credits: Sequence[str], **kw: Any) -> Invoice:
    return invoice(number, customer_id, amount, kind=DocKind.CREDIT_NOTE, credits=tuple(credits), due=None, **kw)


def payment(ref: str, amount: Decimal | str, on: date = DAY0, **kw: Any) -> Payment:
    source = kw.pop("source", "camt")
    return Payment(
        client_id=CID,
        source=source,
        account=kw.pop("account", CREDITOR_ACCOUNTS[0] if source in ("camt", "ocr") else ""),
        bank_ref=ref,
        ordinal=kw.pop("ordinal", 0),
        booking_date=on,
        amount=D(amount),
        currency=kw.pop("currency", "NOK"),
        **kw,
    )


def client_config(**policy: Any) -> ClientConfig:
    return ClientConfig.model_validate(client_table(CID, name="Acme AS", policy={"min_amount": 0, **policy}))


@dataclass
class Book:
    customers: list[Customer]
    invoices: list[Invoice]  # invoices and credit notes
    payments: list[Payment]
    policy: dict[str, Any] = field(default_factory=dict)
    steps: list[DunningStep] = field(default_factory=list)  # reminders sent: the ladder and customer interval
    disputes: list[Dispute] = field(default_factory=list)

    @property
    def documents(self) -> int:
        return len({(i.kind, i.number) for i in self.invoices})


def load(store: Store, book: Book) -> None:
    with store.transaction() as conn:
        upsert_customers(conn, book.customers)
        upsert_invoices(conn, book.invoices)
        upsert_payments(conn, book.payments)
        record_steps(conn, book.steps)
        # each reminder charged a fee: money beyond an invoice pays it first, in whichever slice matches it
        fees = [
            FeeBooking(
                CID, s.invoice_number, s.step, s.sent_on, FEE, Decimal("35.00"), "NOK", "?", "3900", "fee", "file"
            )
            for s in book.steps
        ]
        plan(conn, fees, at=store.now())
        for dispute in book.disputes:
            add_dispute(conn, dispute)
        for source in ("ledger", "bank:camt:/tmp/bank"):  # fresh data: decisions remind, not hold as stale
            record_sync(conn, CID, source, ok=True, data_through=AS_OF, at=store.now())


# -- the two runs, reduced to comparable values ----------------------------------------------------------


@dataclass
class Outcome:
    decisions: list[str] = field(default_factory=list)
    open_amount: dict[str, Decimal] = field(default_factory=dict)
    allocations: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    pending: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)  # invoice → (key, reason)
    pending_reason: dict[str, str] = field(default_factory=dict)
    last_settled_on: dict[str, Any] = field(default_factory=dict)
    with_difference: dict[str, Decimal] = field(default_factory=dict)
    paid_on_time: dict[str, bool] = field(default_factory=dict)
    ledger_twins: dict[str, str] = field(default_factory=dict)
    unallocated_credit: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    unapplied_credits: dict[str, list[str]] = field(default_factory=dict)
    overpaid: dict[str, Decimal] = field(default_factory=dict)
    charges_paid: dict[str, list[tuple[str, Decimal, Any]]] = field(default_factory=dict)
    unexplained: list[str] = field(default_factory=list)
    inkasso_payouts: set[str] = field(default_factory=set)
    unexplained_reversals: set[str] = field(default_factory=set)
    invoices: list[tuple[str, str]] = field(default_factory=list)
    slices: int = 1
    everywhere: int = 0  # credits every slice saw and none could place (sliced run only)

    def add(self, decisions: list[Decision], recon: Reconciliation, invoices: Sequence[Invoice]) -> None:
        """One slice's (or the whole client's) result; a slice owns its invoices and customers outright."""
        self.decisions += [json.dumps(d.as_json(), sort_keys=True) for d in decisions]
        self.invoices += [(str(i.kind), i.number) for i in invoices]
        _merge(self.open_amount, recon.open_amount)
        _merge(self.allocations, {n: [_allocation(a) for a in v] for n, v in recon.allocations.items()})
        pending = {n: [(p.key, recon.pending_reason.get(p.key)) for p in v] for n, v in recon.pending.items() if v}
        _merge(self.pending, pending)
        for key, why in recon.pending_reason.items():  # a payment every slice sees has one reason in all
            assert self.pending_reason.setdefault(key, why) == why, key
        _merge(self.last_settled_on, recon.last_settled_on)
        _merge(self.with_difference, recon.with_difference)
        _merge(self.paid_on_time, recon.paid_on_time)
        _merge(self.ledger_twins, recon.ledger_twins)
        _merge(self.unallocated_credit, {c: [_credit(x) for x in v] for c, v in recon.unallocated_credit.items()})
        _merge(self.unapplied_credits, {c: [cn.number for cn in v] for c, v in recon.unapplied_credits.items()})
        _merge(self.overpaid, recon.overpaid)
        _merge(self.charges_paid, recon.charges_paid)
        self.unexplained += [p.key for p in recon.unexplained]
        self.inkasso_payouts |= {p.key for p in recon.inkasso_payouts}
        self.unexplained_reversals |= {p.key for p in recon.unexplained_reversals}

    def done(self) -> Outcome:
        self.decisions.sort(key=_decision_order)
        self.unexplained.sort()
        self.invoices.sort()
        return self


def _merge(into: dict[str, Any], part: dict[str, Any]) -> None:
    clash = into.keys() & part.keys()
    assert not clash, f"in two slices: {sorted(clash)}"
    into.update(part)


def _allocation(a: Any) -> tuple[Any, ...]:
    return (a.invoice_number, a.amount, a.currency, a.tier, a.source_key, a.evidence)


def _credit(c: Any) -> tuple[Any, ...]:
    return (c.customer_id, c.kind, c.amount, c.currency, c.ref, c.on, c.detail)


def _decision_order(d: str) -> tuple[str, str]:
    j = json.loads(d)
    return (j["due_date"] or date.min.isoformat(), j["invoice"])


def whole(store: Store, client: ClientConfig) -> Outcome:
    facts = store.read(load_facts, CID)
    recon = reconcile_facts(facts, client)
    out = Outcome()
    out.add(decide(facts, client, AS_OF, recon), recon, facts.invoices)
    return out.done()


def sliced(store: Store, client: ClientConfig, k: int) -> Outcome:
    run = SlicedRun(store, client, slice_documents=k)
    out = Outcome()
    n = 0
    for s in run:
        out.add(decide(s.facts, client, AS_OF, s.recon), s.recon, s.facts.invoices)
        n += 1
    assert n == run.slices
    out.unexplained += run.unexplained_everywhere
    out.slices = run.slices
    out.everywhere = len(run.unexplained_everywhere)
    return out.done()


def assert_same(a: Outcome, b: Outcome) -> None:
    """Field by field, so a failure names what differs."""
    assert a.invoices == b.invoices  # every document in exactly one slice
    for name in (
        "open_amount",
        "allocations",
        "pending",
        "pending_reason",
        "last_settled_on",
        "with_difference",
        "paid_on_time",
        "ledger_twins",
        "unallocated_credit",
        "unapplied_credits",
        "overpaid",
        "charges_paid",
        "unexplained",
        "inkasso_payouts",
        "unexplained_reversals",
    ):
        assert getattr(a, name) == getattr(b, name), f"{name} differs (whole, sliced): {_diff(a, b, name)}"
    assert a.decisions == b.decisions


def labels(out: Outcome) -> set[str]:
    """What an outcome exercised (hypothesis events: the generator must keep reaching these)."""
    found = {f"allocation {a[3]}" for v in out.allocations.values() for a in v}
    found |= {f"credit {c[1]}" for v in out.unallocated_credit.values() for c in v}
    found |= {"pending: " + re.split(r"[:;,]", re.sub(r"\S*\d\S*", "#", why))[0] for why in out.pending_reason.values()}
    flags = {
        "unexplained": out.unexplained,
        "unexplained everywhere": out.everywhere,
        "inkasso payout": out.inkasso_payouts,
        "unexplained reversal": out.unexplained_reversals,
        "ledger twin": out.ledger_twins,
        "paid with difference": out.with_difference,
        "overpaid": out.overpaid,
        "unapplied credit note": out.unapplied_credits,
    }
    return found | {name for name, value in flags.items() if value}


def _diff(a: Outcome, b: Outcome, name: str) -> object:
    x, y = getattr(a, name), getattr(b, name)
    if isinstance(x, dict):
        return {k: (x.get(k), y.get(k)) for k in sorted(x.keys() | y.keys()) if x.get(k) != y.get(k)}
    return (x, y)


def check(book: Book, k: int, in_slices: Callable[[Store, ClientConfig, int], Outcome] | None = None) -> Outcome:
    """Reconcile ``book`` whole and sliced by ``k`` documents (``sliced`` unless ``in_slices`` is given);
    assert both agree; return the sliced outcome."""
    client = client_config(**book.policy)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'arsync.db'}")
        try:
            load(store, book)
            expected = whole(store, client)
            got = (in_slices or sliced)(store, client, k)
        finally:
            store.close()
    assert_same(expected, got)
    return got


# -- the generator -------------------------------------------------------------------------------


def _spaced(kid: str) -> str:
    """A KID as people type it: grouped with spaces."""
    return " ".join(kid[i : i + 4] for i in range(0, len(kid), 4))


@st.composite
def books(draw: st.DrawFn, kinds: Sequence[str] = KINDS) -> tuple[Book, int]:
    n_customers = draw(st.integers(2, 7))
    ids = [f"C{i}" for i in range(n_customers)]
    customers = [customer(c, draw(st.sampled_from((None, None, *ORGS)))) for c in ids]
    # the bank account each customer usually pays from (the few accounts are shared by several customers)
    home = {c: f"6000000000{draw(st.integers(0, n_customers))}" for c in ids}
    if draw(st.booleans()):  # a customer with no documents, known only by its org id
        customers.append(customer("C8", draw(st.sampled_from(ORGS))))

    # invoices: numbers from a few bases in several spellings (case twins), KIDs from a few bodies (shared)
    n_invoices = draw(st.integers(2, 14))
    invoices: dict[str, Invoice] = {}
    for _ in range(n_invoices):
        base = 100 + draw(st.integers(0, max(2, n_invoices // 2)))
        number = draw(st.sampled_from(("INV-{}", "inv-{}", "Inv-{}", "{}"))).format(base)
        if number in invoices:
            continue
        body = str(1000 + draw(st.integers(0, n_invoices)))
        kid = draw(st.sampled_from((None, kid_mod10(body), kid_mod10(body), kid_mod11(body))))
        due_days = draw(st.sampled_from((14, 14, 30, 70, None)))
        issued = ISSUED + timedelta(days=draw(st.integers(0, 3)))
        invoices[number] = invoice(
            number,
            draw(st.sampled_from(ids)),
            draw(st.sampled_from(AMOUNTS)),
            kid,
            issued=issued,
            due=None if due_days is None else issued + timedelta(days=due_days),
            currency=draw(st.sampled_from(CURRENCIES)),
            ledger_open_amount=draw(st.sampled_from((None,) * 8 + (D("0.00"), D("100.00")))),
        )
    main = list(invoices.values())
    numbers = [i.number for i in main]

    docs = list(main)
    for j in range(draw(st.integers(0, 3))):  # credit notes, often of another customer's invoices
        credits = draw(st.lists(st.sampled_from([*numbers, "INV-999"]), max_size=2, unique=True))
        docs.append(
            credit_note(
                f"CN-{j}",
                draw(st.sampled_from(ids)),
                draw(st.sampled_from(AMOUNTS)),
                credits,
                currency=draw(st.sampled_from(CURRENCIES)),
                issued=ISSUED + timedelta(days=draw(st.integers(0, 5))),
            )
        )

    own = {c: [i for i in main if i.customer_id == c] for c in ids}

    def payer_of(target: Invoice) -> str:
        """Mostly the customer's own account (sometimes written with dots), else any of a few."""
        account = home[target.customer_id]
        how = draw(st.sampled_from(("home", "home", "dotted", "any")))
        if how == "dotted":
            return f"{account[:4]}.{account[4:6]}.{account[6:]}"
        return account if how == "home" else draw(st.sampled_from(PAYER_ACCOUNTS))

    payments: list[Payment] = []
    targets: dict[str, Invoice] = {}  # payment key → the invoice it was made for
    for j in range(draw(st.integers(0, 16))):
        target = draw(st.sampled_from(main))
        other = draw(st.sampled_from(main))
        how = draw(st.sampled_from(("exact", "exact", "set", "short", "over", "half", "pair")))
        amount = {
            "exact": target.amount,
            "pair": target.amount + draw(st.sampled_from(own[target.customer_id])).amount,  # a subset sum
            "set": draw(st.sampled_from(AMOUNTS)),
            "short": target.amount - D("3.00"),
            "over": target.amount + D("100.00"),
            "half": (target.amount / 2).quantize(D("0.01")),
        }[how]
        kw: dict[str, Any] = {
            "currency": target.currency if draw(st.integers(0, 4)) else draw(st.sampled_from(CURRENCIES)),
            "account": draw(st.sampled_from(CREDITOR_ACCOUNTS)),
            "payer_name": "Kunde AS",
        }
        if draw(st.integers(0, 4)) == 0:
            kw["status"] = PaymentStatus.PENDING
        if draw(st.integers(0, 2)):
            kw["payer_account"] = payer_of(target)
        on = DAY0 + timedelta(days=draw(st.integers(0, 9)))
        if draw(st.integers(0, 3)) == 0:
            kw["value_date"] = on - timedelta(days=draw(st.integers(0, 30)))
        kind = draw(st.sampled_from(kinds))
        if kind == "kid":
            kid = target.kid or kid_mod10(str(1000 + draw(st.integers(0, n_invoices))))
            kw["structured_ref"] = _spaced(kid) if draw(st.integers(0, 4)) == 0 else kid
        elif kind == "kid_text" and target.kid:
            kw["free_text"] = f"KID: {target.kid}" + (f" og {other.number}" if draw(st.booleans()) else "")
        elif kind in ("number_text", "kid_text"):
            spelling = draw(st.sampled_from((str, str.upper, str.lower)))
            extra = f", faktura {other.number}" if draw(st.booleans()) else ""
            kw["free_text"] = f"Faktura {spelling(target.number)}{extra}"
        elif kind == "payer":  # no reference: placed by the payer account learned from KID payments
            kw["payer_account"] = payer_of(target)
            taught = [i for i in own[target.customer_id] if i.kid]
            if taught and draw(st.booleans()):  # a KID payment of the customer's from that account teaches it
                paid = draw(st.sampled_from(taught))
                teach = {"structured_ref": paid.kid, "payer_account": kw["payer_account"], "currency": paid.currency}
                payments.append(payment(f"T{j}", paid.amount, DAY0, **teach))
                targets[payments[-1].key] = paid
                rest = [i for i in own[target.customer_id] if i is not paid] or [target]
                one, two = draw(st.sampled_from(rest)), draw(st.sampled_from(rest))  # the items it pays
                amount = draw(st.sampled_from((one.amount, one.amount, one.amount + two.amount, amount)))
                kw["currency"] = one.currency
        elif kind == "org":
            org = draw(st.sampled_from(ORGS))
            kw["payer_org_id"] = draw(st.sampled_from((org, f"NO {org[:3]} {org[3:6]} {org[6:]} MVA")))
        elif kind == "inkasso":
            kw.update(draw(st.sampled_from(({"payer_name": "Kredinor AS"}, {"payer_account": INKASSO_ACCOUNT}))))
        elif kind == "ledger":
            kw.pop("account")
            kw["source"] = "tripletex"
            kw["invoice_number"] = draw(st.sampled_from((target.number, target.number, "INV-999", "CN-0")))
            kw["reversal"] = draw(st.integers(0, 5)) == 0
        elif kind == "zero":
            amount = D("0.00")
            kw["structured_ref"] = target.kid
        elif kind == "reversal_ref":
            kw["reversal"] = True
            if target.kid and draw(st.booleans()):
                kw["structured_ref"] = target.kid
            elif target.kid and draw(st.booleans()):
                kw["free_text"] = f"Retur KID {target.kid}"
            else:  # one number, or two (then it is no reference: the reversal takes back by payment)
                kw["free_text"] = f"Retur {target.number}" + (f" {other.number}" if draw(st.booleans()) else "")
        elif kind == "reversal_plain":
            earlier = [p for p in payments if p.source == "camt" and not p.reversal]
            if earlier:  # takes back an earlier credit: same account, payer account and amount; no reference
                original = draw(st.sampled_from(earlier))
                kw.update(account=original.account, payer_account=original.payer_account)
                kw.update(currency=original.currency, status=PaymentStatus.BOOKED, reversal=True)
                amount = original.amount
                on = original.booking_date + timedelta(days=draw(st.integers(0, 3)))
            kw.pop("value_date", None)
        p = payment(f"B{j}", amount, on, **kw)
        payments.append(p)
        targets[p.key] = target

    # twins of entries already drawn: dropped or kept by deduplication, in the store as the bank reports them
    bank = [p for p in payments if p.source == "camt"]
    for j in range(draw(st.integers(0, 4)) if bank else 0):
        p = draw(st.sampled_from(bank))
        twin = draw(st.sampled_from(("status", "status", "summary", "ocr", "ledger")))
        if twin == "status":  # the pending report and the booked one of the same entry, days apart
            days = draw(st.integers(1, 12)) * draw(st.sampled_from((1, -1)))
            flipped = PaymentStatus.BOOKED if p.status is PaymentStatus.PENDING else PaymentStatus.PENDING
            payments.append(replace(p, status=flipped, booking_date=p.booking_date + timedelta(days=days)))
        elif twin == "summary":  # the summed post of the entry (no TxDtls)
            payments.append(
                replace(p, ordinal=-1, booking_date=p.booking_date + timedelta(days=draw(st.integers(0, 1))))
            )
        elif twin == "ocr" and p.structured_ref:  # Nets OCR giro reporting the same KID payment
            payments.append(
                replace(
                    p,
                    source="ocr",
                    bank_ref=f"OCR{j}",
                    account=draw(st.sampled_from((p.account, ""))),
                    booking_date=p.booking_date + timedelta(days=draw(st.integers(-4, 4))),
                    status=PaymentStatus.BOOKED,
                )
            )
        else:  # the ledger booking the same money against the invoice it was made for
            target = targets[p.key]
            payments.append(
                payment(
                    f"L{j}",
                    p.amount,
                    p.booking_date + timedelta(days=draw(st.integers(-2, 16))),
                    source="tripletex",
                    invoice_number=target.number,
                    currency=p.currency,
                )
            )

    # the isolated customer: its own KID, amount and payer account, so it is never joined with another
    docs.append(invoice("ISO-1", ISOLATED, "4321.00", kid_mod10("99001")))
    customers.append(customer(ISOLATED))
    if draw(st.booleans()):
        payments.append(payment("ISO", "4321.00", DAY0, structured_ref=kid_mod10("99001"), payer_account="70000000001"))

    steps = [  # reminders already sent, some to a number no invoice has
        DunningStep(
            CID, draw(st.sampled_from([*numbers, "INV-999"])), Action.REMINDER, AS_OF - timedelta(days=d), "outbox"
        )
        for d in draw(st.lists(st.integers(1, 40), max_size=3, unique=True))  # some before payments (fees paid)
    ]
    disputes = [
        Dispute(CID, number, f"D{j}", AS_OF - timedelta(days=5), "not delivered", "manual")
        for j, number in enumerate(draw(st.lists(st.sampled_from(numbers), max_size=1)))
    ]
    policy: dict[str, Any] = {
        "payment_tolerance": draw(st.sampled_from(("0", "5"))),
        "kid_schemes": draw(st.sampled_from((["mod10", "mod11"], ["mod10"]))),
    }
    if draw(st.booleans()):
        policy["inkasso_payers"] = [INKASSO_ACCOUNT]
    return Book(customers, docs, payments, policy, steps, disputes), draw(st.integers(1, 6))
