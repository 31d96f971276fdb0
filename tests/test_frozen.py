"""``connector.frozen.fast_init``: the cheaper constructor keeps everything a frozen dataclass promises."""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError, dataclass, field, fields, replace
from datetime import date
from decimal import Decimal

import pytest

from connector.frozen import fast_init
from connector.model import Action, Customer, Decision, DocKind, Invoice, Payment, PaymentSource, PaymentStatus, State


def _payment(**changes: object) -> Payment:
    values: dict[str, object] = {
        "client_id": "c",
        "source": PaymentSource.CAMT,
        "account": "1503",
        "bank_ref": "R1",
        "ordinal": 0,
        "booking_date": date(2024, 3, 4),
        "amount": Decimal("10.00"),
        "currency": "NOK",
    }
    values.update(changes)
    return Payment(**values)  # type: ignore[arg-type]


def test_instances_are_of_the_frozen_class_and_refuse_assignment() -> None:
    p = _payment()
    assert type(p) is Payment
    with pytest.raises(FrozenInstanceError):
        p.amount = Decimal("1.00")  # type: ignore[misc]
    assert p.amount == Decimal("10.00")


def test_defaults_positional_and_keyword_arguments_as_the_dataclass_takes_them() -> None:
    p = _payment()
    assert (p.status, p.free_text, p.reversal, p.value_date) == (PaymentStatus.BOOKED, "", False, None)
    positional = Payment("c", PaymentSource.CAMT, "1503", "R1", 0, date(2024, 3, 4), Decimal("10.00"), "NOK")
    assert positional == p and hash(positional) == hash(p)
    assert p.key == "camt|1503|R1|0|2024-03-04"  # the init=False field starts at its default (None) and fills in
    with pytest.raises(TypeError):
        Payment("c")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _payment(no_such_field=1)


def test_replace_pickle_and_repr_are_the_dataclass_s() -> None:
    p = _payment(free_text="Faktura 1")
    changed = replace(p, amount=Decimal("5.00"))
    assert type(changed) is Payment and changed.amount == Decimal("5.00") and changed.free_text == "Faktura 1"
    assert pickle.loads(pickle.dumps(p)) == p
    assert repr(p).startswith("Payment(client_id='c', source=")
    d = Decision("c", "1", "C1", "NOK", Decimal(1), Decimal(1), None, State.OVERDUE, Action.REMINDER)
    assert pickle.loads(pickle.dumps(d)) == d and d.holds == ()


def test_the_records_a_reading_helper_sends_come_back_equal_with_every_field() -> None:
    """A folder's invoices and customers cross from a reading helper pickled (connector.forked)."""
    invoice = Invoice(
        "c", "1001", DocKind.CREDIT_NOTE, "C1", date(2024, 3, 1), None, "EUR", Decimal("12.50"), "ehf",
        kid="1234", credits=("1000",), ledger_open_amount=Decimal("3.00"), delivery_date=date(2024, 2, 28),
        payee_account="15032080119",
    )  # fmt: skip
    customer = Customer("c", "C1", "Kunde AS", "923456783", "NO", address=("Gate 1", "Bygg B"), is_person=True)
    for record in (invoice, customer):
        back = pickle.loads(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
        assert back == record and type(back) is type(record)
        assert [getattr(back, f.name) for f in fields(back)] == [getattr(record, f.name) for f in fields(record)]


def test_refuses_what_it_cannot_build_faithfully() -> None:
    @dataclass(slots=True)
    class Mutable:
        a: int

    @dataclass(frozen=True, slots=True)
    class WithFactory:
        a: list[int] = field(default_factory=list)

    @dataclass(frozen=True, slots=True)
    class WithPostInit:
        a: int

        def __post_init__(self) -> None:
            pass

    for cls in (Mutable, WithFactory, WithPostInit):
        with pytest.raises(TypeError):
            fast_init(cls)


def test_a_subclass_is_built_by_the_dataclass_s_own_init_and_stays_itself() -> None:
    @fast_init
    @dataclass(frozen=True, slots=True)
    class Base:
        a: int
        b: str = "x"

    class Sub(Base):
        __slots__ = ("extra",)

    sub = Sub(1)
    assert type(sub) is Sub and (sub.a, sub.b) == (1, "x")
    with pytest.raises(FrozenInstanceError):
        sub.a = 2  # type: ignore[misc]
