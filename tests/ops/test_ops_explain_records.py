"""Issue 17 items 8 and 9: the glossary covers every code, `explain` tells one decision with its evidence,
customers look the same everywhere; what was recorded can be listed (--json) and undone."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import click
import pytest

from connector.actions import manual
from connector.cli import COMMANDS, main
from connector.model import Action, Case, CaseStatus, Exclusion, Hold, State
from connector.reports import glossary, tables
from connector.store.facts import load_facts
from tests.builders import Entry, Workspace, client_table, kid

ISSUE = date(2026, 6, 1)
DUE = date(2026, 6, 15)
AS_OF = DUE + timedelta(days=14)
ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ROOT.parent / "shared" / "design" / "PRODUCT.md"


def test_every_state_action_and_hold_has_a_glossary_entry() -> None:
    assert glossary.missing() == []
    for kind, enum in (("state", State), ("action", Action), ("hold", Hold)):
        for member in enum:
            assert glossary.meaning(kind, member.value) != "(no glossary entry)"


def test_every_code_of_the_product_spec_is_in_the_glossary() -> None:
    if not PRODUCT.is_file():
        pytest.skip(f"{PRODUCT} not found")
    text = PRODUCT.read_text(encoding="utf-8")
    holds = set(re.findall(r"^\| `([a-z_]+)` \|", text, re.M))
    assert len(holds) >= 20
    assert {h for h in holds if glossary.entry("hold", h) is None} == set()
    states = re.search(r"`state` \(([^)]*)\)", text)
    actions = re.search(r"`action` \(([^)]*)\)", text)
    assert states and actions
    for kind, found in (("state", states), ("action", actions)):
        for code in re.findall(r"`([a-z_]+)`", found.group(1)):
            assert glossary.entry(kind, code) is not None, f"{kind} {code}"


def test_the_readme_glossary_lists_every_entry() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Glossary", 1)[1].split("\n## ", 1)[0]
    for e in glossary.known():
        assert f"| `{e.code}` | {e.meaning} |" in section


def test_explain_codes(ws: Workspace) -> None:
    result = ws.cli("explain", "codes", config=False)
    assert result.exit_code == 0
    for code in ("settled", "collection_notice", "awaiting_approval", "ledger_stale"):
        assert f"  {code}\n" in result.stdout
    data = json.loads(ws.cli("explain", "codes", "--json", config=False).stdout)
    assert {(i["kind"], i["code"]) for i in data["items"]} >= {("hold", h.value) for h in Hold}


def scene(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="1000.00", customer="Fjord Handel AS", org="974760673")
    ws.add_invoice("1002", issue=ISSUE, due=DUE, amount="800.00", customer="Fjord Handel AS", org="974760673")
    ws.add_bank_file("camt054.xml", [Entry("R1", "300.00", DUE, kid("1001"))], created=AS_OF)
    assert ws.cli("sync", "--as-of", AS_OF.isoformat()).exit_code == 0


def test_explain_one_invoice_tells_every_piece_of_evidence(ws: Workspace) -> None:
    scene(ws)
    opened = ws.cli(
        "disputes", "open", "--client", "acme", "1001", "--reason", "wrong hours", "--as-of", DUE.isoformat()
    )
    assert opened.exit_code == 0
    promise = (AS_OF + timedelta(days=10)).isoformat()
    added = ws.cli(
        "agreements", "add", "--client", "acme", "1001", "--promise-date", promise, "--as-of", AS_OF.isoformat()
    )
    assert added.exit_code == 0, added.output
    result = ws.cli("explain", "acme", "1001", "--as-of", AS_OF.isoformat())
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("Invoice 1001 to Fjord Handel AS (974760673) — client acme (Acme AS)")
    assert "Still open: 700.00 NOK" in text
    assert "Payments and credits:\n- " in text and "300.00 NOK" in text and "[kid]" in text
    assert "Disputes:\n- manual-" in text and "wrong hours" in text
    assert "Agreements:\n- agreement-" in text and promise in text
    assert "- disputed: " in text and "Way out:" in text
    assert "Letters and steps taken: none." in text and "Business register: not asked." in text
    assert "Next step: reminder" in text
    same = ws.cli("explain", "invoice", "--client", "acme", "1001", "--as-of", AS_OF.isoformat())
    assert same.stdout == text
    data = json.loads(ws.cli("explain", "acme", "1001", "--json", "--as-of", AS_OF.isoformat()).stdout)
    assert data["decision"]["invoice"] == "1001" and data["text"] == text


def test_explain_names_the_ladder_date(ws: Workspace) -> None:
    scene(ws)
    text = ws.cli("explain", "acme", "1002", "--as-of", DUE.isoformat()).stdout
    assert f"Next step: reminder, which is due from {(DUE + timedelta(days=14)).isoformat()}" in text


def test_a_settled_invoice_is_explained_with_the_day_it_was_paid(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    ws.add_invoice("1003", issue=ISSUE, due=DUE, amount="500.00", customer="Fjord Handel AS", org="974760673")
    paid_on = DUE - timedelta(days=2)
    ws.add_bank_file("camt054.xml", [Entry("R3", "500.00", paid_on, kid("1003"))], created=AS_OF)
    assert ws.cli("sync", "--as-of", AS_OF.isoformat()).exit_code == 0

    text = " ".join(ws.cli("explain", "acme", "1003", "--as-of", AS_OF.isoformat()).stdout.split())
    assert f"Payments and credits: - {paid_on.isoformat()}: mod10 reference" in text  # was without its day
    item = ws.items(AS_OF)["1003"]
    [invoice] = [e for e in item["evidence"] if e["kind"] == "invoice"]
    # the evidence's date is the due date: its text names both days, not the issue day alone
    assert invoice["detail"] == f"ehf invoice issued {ISSUE.isoformat()}, due {DUE.isoformat()}"
    assert invoice["date"] == item["due_date"] == DUE.isoformat()


def test_explain_and_cases_show_name_the_payment_reference_as_the_clients_country_does(ws: Workspace) -> None:
    # found trying DK and SE clients: a Danish FIK line and a Swedish OCR number were each called a KID
    fik = "+71<000000000010017+87654321<"
    dk = client_table("dk", country="DK", currency="DKK")
    se = client_table("se", country="SE", currency="SEK")
    ws.write_config(client_table("acme"), dk, se)
    ws.add_invoice("1001", issue=ISSUE, due=DUE, amount="500.00")
    ws.add_invoice(
        "1001",
        client_id="dk",
        issue=ISSUE,
        due=DUE,
        amount="500.00",
        currency="DKK",
        kid_value=fik.replace("<", "&lt;"),
    )
    ws.add_invoice("1001", client_id="se", issue=ISSUE, due=DUE, amount="500.00", currency="SEK", kid_value="200105")
    assert ws.cli("sync").exit_code == 0

    def about(client: str) -> str:
        return " ".join(ws.cli("explain", client, "1001", "--as-of", AS_OF.isoformat()).stdout.split())

    assert f"500.00 DKK, FIK {fik}." in about("dk")
    assert "500.00 SEK, OCR 200105." in about("se")
    assert f"500.00 NOK, KID {kid('1001')}." in about("acme")  # Norway's as before
    facts = ws.store.read(load_facts, "se")
    inv = facts.invoices[0]
    case = Case("se-1001", "se", "1001", inv.customer_id, "SEK", inv.amount, inv.amount, CaseStatus.PROPOSED, AS_OF)
    assert "500.00 SEK (OCR 200105)" in tables.case_detail(case, facts, "SE")


def test_explain_refuses_an_unknown_invoice(ws: Workspace) -> None:
    scene(ws)
    result = ws.cli("explain", "acme", "9999")
    assert result.exit_code == 2 and "no invoice '9999'" in result.stderr


def test_customers_are_shown_the_same_way_everywhere(ws: Workspace) -> None:
    scene(ws)
    label = "Fjord Handel AS (974760673)"
    assert label in ws.cli("reconcile", "--no-sync", "--as-of", AS_OF.isoformat()).stdout
    assert label in ws.cli("report", "aging", "--as-of", AS_OF.isoformat()).stdout
    assert label in ws.cli("explain", "acme", "1002", "--as-of", AS_OF.isoformat()).stdout
    excluded = ws.cli("exclude", "add", "--client", "acme", "--customer", "974760673", "--reason", "key account")
    assert excluded.exit_code == 0, excluded.output
    assert label in ws.cli("exclude", "list").stdout


def test_exclusions_are_listed_and_removed(ws: Workspace) -> None:
    scene(ws)
    day = AS_OF.isoformat()
    added = ws.cli("exclude", "add", "--client", "acme", "--invoice", "1002", "--reason", "talks", "--as-of", day)
    assert added.exit_code == 0, added.output
    assert ws.items(AS_OF, "--no-sync")["1002"]["holds"] == ["excluded"]
    listed = json.loads(ws.cli("exclude", "list", "--json", "--as-of", day).stdout)["items"]
    assert [(e["invoice"], e["in_force"]) for e in listed] == [("1002", True)]
    removed = ws.cli("exclude", "remove", "--client", "acme", "1002", "--as-of", day)
    assert removed.exit_code == 0, removed.output
    assert "excluded" not in ws.items(AS_OF, "--no-sync")["1002"]["holds"]
    assert json.loads(ws.cli("exclude", "list", "--json", "--as-of", day).stdout)["items"] == []
    assert len(json.loads(ws.cli("exclude", "list", "--all", "--json", "--as-of", day).stdout)["items"]) == 1
    assert ws.cli("exclude", "remove", "--client", "acme", "1002", "--as-of", day).exit_code == 2


def test_an_exclusion_ended_the_day_it_began_is_stored_as_never_in_force(ws: Workspace) -> None:
    """Recorded by mistake and ended the same day: it holds nothing from that day on, and its record never
    reads as ending before it began ("from 29 June until 28 June")."""
    scene(ws)
    day = AS_OF.isoformat()
    assert (
        ws.cli("exclude", "add", "--client", "acme", "--invoice", "1002", "--reason", "x", "--as-of", day).exit_code
        == 0
    )
    assert ws.cli("exclude", "remove", "--client", "acme", "1002", "--as-of", day).exit_code == 0
    [listed] = json.loads(ws.cli("exclude", "list", "--all", "--json", "--as-of", day).stdout)["items"]
    assert listed["until"] is None or listed["until"] >= listed["created_on"]
    assert listed["created_on"] == day and listed["ended_on"] == day and listed["in_force"] is False
    stored = ws.store.read(load_facts, "acme").exclusions
    assert [e.until for e in stored if e.until is not None and e.until < e.created_on] == []
    assert "excluded" not in ws.items(AS_OF, "--no-sync")["1002"]["holds"]
    text = ws.cli("explain", "acme", "1002", "--as-of", day).stdout
    assert f"excluded from {day}; ended {day}" in text and (AS_OF - timedelta(days=1)).isoformat() not in text


def test_an_exclusion_ended_later_holds_until_the_day_before_it_ended(ws: Workspace) -> None:
    scene(ws)
    ended = AS_OF + timedelta(days=3)
    assert (
        ws.cli(
            "exclude", "add", "--client", "acme", "--invoice", "1002", "--reason", "x", "--until",
            (AS_OF + timedelta(days=30)).isoformat(), "--as-of", AS_OF.isoformat(),
        ).exit_code
        == 0
    )  # fmt: skip
    assert ws.cli("exclude", "remove", "--client", "acme", "1002", "--as-of", ended.isoformat()).exit_code == 0
    assert ws.items(ended - timedelta(days=1), "--no-sync")["1002"]["holds"] == ["excluded"]
    assert "excluded" not in ws.items(ended, "--no-sync")["1002"]["holds"]
    [listed] = json.loads(ws.cli("exclude", "list", "--all", "--json", "--as-of", ended.isoformat()).stdout)["items"]
    assert (listed["ended_on"], listed["in_force"]) == (ended.isoformat(), False)


def test_what_is_listed_in_force_is_exactly_what_holds_dunning() -> None:
    """``exclude list``, its --json ``in_force`` and the workbench (``manual.in_force``) say "in force" on exactly
    the days the hold rules hold an invoice with it (``Exclusion.covers``): from its first day, not before."""
    day = AS_OF
    cases = [
        Exclusion("acme", "open", "1002", None, day, None, "r"),
        Exclusion("acme", "until", "1002", None, day, day + timedelta(days=3), "r"),
        Exclusion("acme", "ended", "1002", None, day, None, "r", ended_on=day + timedelta(days=2)),
        Exclusion("acme", "same-day", "1002", None, day, None, "r", ended_on=day),
        Exclusion("acme", "customer", None, "974760673", day, day + timedelta(days=1), "r"),
    ]
    for e in cases:
        for d in (day + timedelta(days=k) for k in range(-3, 6)):
            assert manual.in_force(e, d) == e.covers("1002", "974760673", d), (e.exclusion_id, d)
    assert manual.exclusions_in_force(cases, day - timedelta(days=1)) == []
    # what is listed and can be ended: everything that will still hold (not the one ended on its first day)
    will_hold = [e.exclusion_id for e in manual.exclusions_not_over(cases, day - timedelta(days=1))]
    assert will_hold == ["open", "until", "ended", "customer"]
    assert [e.exclusion_id for e in manual.exclusions_not_over(cases, day + timedelta(days=2))] == ["open", "until"]


def test_an_exclusion_from_a_later_day_is_listed_as_not_yet_in_force_and_can_be_ended(ws: Workspace) -> None:
    scene(ws)
    starts, today = AS_OF + timedelta(days=5), AS_OF.isoformat()
    added = ws.cli(
        "exclude", "add", "--client", "acme", "--invoice", "1002", "--reason", "x", "--as-of", starts.isoformat()
    )
    assert added.exit_code == 0, added.output
    assert "excluded" not in ws.items(AS_OF, "--no-sync")["1002"]["holds"]
    [listed] = json.loads(ws.cli("exclude", "list", "--json", "--as-of", today).stdout)["items"]
    assert (listed["created_on"], listed["in_force"]) == (starts.isoformat(), False)  # listed: it will hold
    [listed] = json.loads(ws.cli("exclude", "list", "--json", "--as-of", starts.isoformat()).stdout)["items"]
    assert listed["in_force"] is True and "excluded" in ws.items(starts, "--no-sync")["1002"]["holds"]
    early = ws.cli("exclude", "remove", "--client", "acme", "1002", "--as-of", today)
    assert early.exit_code == 2 and f"begins on {starts.isoformat()}: it cannot end on {today}" in early.stderr
    assert ws.cli("exclude", "remove", "--client", "acme", "1002", "--as-of", starts.isoformat()).exit_code == 0
    assert json.loads(ws.cli("exclude", "list", "--json", "--as-of", today).stdout)["items"] == []


def test_agreements_are_removed_and_a_past_promise_is_refused(ws: Workspace) -> None:
    scene(ws)
    day = AS_OF.isoformat()
    past = ws.cli("agreements", "add", "--client", "acme", "1002", "--promise-date", DUE.isoformat(), "--as-of", day)
    assert past.exit_code == 2 and "before" in past.stderr and "Usage:" not in past.output
    first = ws.cli("agreements", "add", "--client", "acme", "1002", "--instalments", "2", "--first", DUE.isoformat())
    assert first.exit_code == 2  # the first instalment in the past, too
    promise = (AS_OF + timedelta(days=7)).isoformat()
    ok = ws.cli("agreements", "add", "--client", "acme", "1002", "--promise-date", promise, "--as-of", day)
    assert ok.exit_code == 0, ok.output
    assert ws.items(AS_OF, "--no-sync")["1002"]["holds"] == ["agreement"]
    listed = json.loads(ws.cli("agreements", "list", "--json").stdout)["items"]
    assert [(a["invoice"], a["dates"]) for a in listed] == [("1002", [promise])]
    removed = ws.cli("agreements", "remove", "--client", "acme", "1002", "--note", "typo", "--as-of", day)
    assert removed.exit_code == 0, removed.output
    assert "agreement" not in ws.items(AS_OF, "--no-sync")["1002"]["holds"]
    assert json.loads(ws.cli("agreements", "list", "--json").stdout)["items"] == []


def test_disputes_by_invoice_number_and_json(ws: Workspace) -> None:
    scene(ws)
    assert ws.cli("disputes", "open", "--client", "acme", "1002", "--reason", "wrong goods").exit_code == 0
    listed = json.loads(ws.cli("disputes", "list", "--json").stdout)["items"]
    assert [(d["invoice"], d["reason"], d["resolved_on"]) for d in listed] == [("1002", "wrong goods", None)]
    resolved = ws.cli("disputes", "resolve", "--client", "acme", "1002", "--note", "credited")
    assert resolved.exit_code == 0 and "on invoice 1002 resolved" in resolved.stdout
    assert json.loads(ws.cli("disputes", "list", "--json").stdout)["items"] == []


def test_a_record_cannot_end_before_it_began(ws: Workspace) -> None:
    """A dispute resolved, an exclusion ended or an agreement removed on a day before it was recorded (a
    wrong --as-of) is refused with one line; the record stays as it was."""
    scene(ws)
    opened_on, before = AS_OF, (AS_OF - timedelta(days=5)).isoformat()
    day = opened_on.isoformat()
    assert ws.cli("disputes", "open", "--client", "acme", "1002", "--reason", "r", "--as-of", day).exit_code == 0
    resolved = ws.cli("disputes", "resolve", "--client", "acme", "1002", "--as-of", before)
    assert resolved.exit_code == 2
    [dispute] = json.loads(ws.cli("disputes", "list", "--json").stdout)["items"]
    assert resolved.stderr == (
        f"error: dispute {dispute['dispute_id']} was opened on {day}: it cannot be resolved on {before} "
        "(check --as-of)\n"
    )
    assert dispute["resolved_on"] is None

    assert (
        ws.cli("exclude", "add", "--client", "acme", "--invoice", "1001", "--reason", "r", "--as-of", day).exit_code
        == 0
    )
    ended = ws.cli("exclude", "remove", "--client", "acme", "1001", "--as-of", before)
    assert ended.exit_code == 2
    [exclusion] = json.loads(ws.cli("exclude", "list", "--json", "--as-of", day).stdout)["items"]
    assert ended.stderr == (
        f"error: exclusion {exclusion['exclusion_id']} begins on {day}: it cannot end on {before} (check --as-of)\n"
    )
    assert exclusion["until"] is None

    promise = (AS_OF + timedelta(days=7)).isoformat()
    added = ws.cli("agreements", "add", "--client", "acme", "1002", "--promise-date", promise, "--as-of", day)
    assert added.exit_code == 0
    removed = ws.cli("agreements", "remove", "--client", "acme", "1002", "--as-of", before)
    assert removed.exit_code == 2
    [agreement] = json.loads(ws.cli("agreements", "list", "--json").stdout)["items"]
    assert removed.stderr == (
        f"error: agreement {agreement['agreement_id']} was made on {day}: it cannot be removed on {before} "
        "(check --as-of)\n"
    )
    assert agreement["removed_on"] is None

    # on the day itself all three can be undone
    assert ws.cli("disputes", "resolve", "--client", "acme", "1002", "--as-of", day).exit_code == 0
    assert ws.cli("exclude", "remove", "--client", "acme", "1001", "--as-of", day).exit_code == 0
    assert ws.cli("agreements", "remove", "--client", "acme", "1002", "--as-of", day).exit_code == 0


def test_the_positional_client_still_works_with_a_deprecation_line(ws: Workspace) -> None:
    scene(ws)
    old = ws.cli("disputes", "open", "acme", "1002", "--reason", "x")
    assert old.exit_code == 0, old.output
    assert "deprecated" in old.stderr and "arsync disputes open --client ID INVOICE" in old.stderr
    legacy = ws.cli("exclude", "acme", "--invoice", "1001", "--reason", "y")
    assert legacy.exit_code == 0 and "deprecated" in legacy.stderr
    assert ws.cli("agreements", "list", "acme").exit_code == 0


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    """Every command under ``group``, as the command line finds them (the top level loads each on demand)."""
    ctx = click.Context(group)
    out = []
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, f"{' '.join((*prefix, name))} is listed but cannot be loaded"
        out.append(((*prefix, name), cmd))
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, (*prefix, name)))
    return out


def test_every_command_has_help_and_every_list_has_json() -> None:
    assert {path[0] for path, _cmd in _commands(main)} == set(COMMANDS)
    for path, cmd in _commands(main):
        assert (cmd.help or "").strip(), f"{' '.join(path)} has no help"
        for p in cmd.params:
            if isinstance(p, click.Option):
                assert (p.help or "").strip(), f"{' '.join(path)} {p.opts} has no help"
        if path[-1] == "list":
            assert any("--json" in p.opts for p in cmd.params if isinstance(p, click.Option)), path
