"""``--json`` is written as it is encoded (issue 18): still one valid document, every item once, to the
character what encoding it whole gave."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import click
from click.testing import CliRunner

from connector.cli.output import echo_json
from tests.builders import Workspace, client_table

ISSUE = date(2026, 6, 1)
DUE = date(2026, 6, 15)
AS_OF = DUE + timedelta(days=14)


def _printed(fields: list[tuple[str, object]]) -> str:
    @click.command()
    def command() -> None:
        echo_json(fields)

    return CliRunner().invoke(command).output


def test_streamed_json_is_exactly_what_encoding_it_whole_gives() -> None:
    items = [
        {"invoice": str(n), "holds": [], "evidence": [{"kind": "kid", "detail": 'å\nø "x"'}], "e": {}}
        for n in range(3000)
    ]
    whole = {"as_of": "2026-06-29", "items": items, "clients": [{"actions": []}], "summary": {"ok": 1}}
    fields: list[tuple[str, object]] = [(k, iter(v) if k == "items" else v) for k, v in whole.items()]
    assert _printed(fields) == json.dumps(whole, indent=2, ensure_ascii=False) + "\n"
    assert _printed([("items", iter([]))]) == json.dumps({"items": []}, indent=2) + "\n"
    assert _printed([]) == "{}\n"


def test_reconcile_json_of_a_larger_client_lists_every_invoice_once(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    numbers = [str(5000 + n) for n in range(300)]  # well past one write's worth of output
    for n, number in enumerate(numbers):
        ws.add_invoice(number, issue=ISSUE, due=DUE, amount=f"{1000 + n}.00")
    ws.bank_heartbeat(AS_OF)
    result, payload = ws.reconcile_json(AS_OF)  # json.loads of the whole output: it is one valid document
    assert result.exit_code == 0, result.output
    assert sorted(i["invoice"] for i in payload["items"]) == numbers
    amounts = {i["invoice"]: Decimal(i["open_amount"]) for i in payload["items"]}
    assert amounts["5299"] == Decimal("1299.00")
    assert [c["client"] for c in payload["clients"]] == ["acme"]
    assert payload["summary"]["ok"] == 1


def test_each_item_is_indented_to_the_character_as_json_dumps_writes_it() -> None:
    # the items are indented by our own encoder (the standard library's is pure Python): every kind of
    # value, escapes and non-ASCII text, empty and nested containers, and what it leaves to json.dumps
    # (floats, keys that are not strings) must come out exactly as json.dumps(indent=2) writes them
    items: list[object] = [
        {"a": 'æøå "q" \\ \n\t\u2028 \x01 😀', "n": None, "t": True, "f": False, "i": -12, "big": 10**30},
        {"empty": {}, "none": [], "nested": [[], {}, [{"k": [1, "2", None]}], ("tuple", 3)]},
        [],
        {},
        "just a string",
        7,
        None,
        {"float": 1.5, "nan": float("nan"), "inf": float("-inf")},
        {1: "int key", None: "none key", 2.5: "float key", False: "bool key"},
        [{"deep": {"deeper": {"deepest": ["x", {"y": {}}]}}}],
    ]
    whole = {"items": items, "tail": {"k": [{"v": "w"}]}}
    fields: list[tuple[str, object]] = [("items", iter(items)), ("tail", whole["tail"])]
    assert _printed(fields) == json.dumps(whole, indent=2, ensure_ascii=False) + "\n"
