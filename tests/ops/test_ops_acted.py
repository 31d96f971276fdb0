"""Issue 17 item 6: everything that acted is reported, in text and JSON; a stop (SIGINT/SIGTERM)
finishes the item in hand, reports what was done and exits 130/143."""

from __future__ import annotations

import json
import os
import signal
from datetime import date, timedelta
from typing import Any

import pytest

from connector.channels.outbox import OutboxChannel
from connector.model import Action, DunningStep
from connector.store.sends import record_steps
from tests.builders import Workspace, client_table

ISSUE = date(2026, 6, 1)
DUE = date(2026, 6, 15)
REMIND = DUE + timedelta(days=14)
NOTICE = REMIND + timedelta(days=14)
# the notice's 14-day deadline, the first business day after it and `settle_days` (2 business days) more
CASE = NOTICE + timedelta(days=21)


def letters(ws: Workspace, client_id: str) -> set[str]:
    """The invoices a reminder letter was written for."""
    return {name.split("--")[1] for name in ws.letters(client_id)}


def setup(ws: Workspace, *, auto_approve: bool = True) -> None:
    """1001 reaches its reminder on CASE, 1002 (reminder and notice sent) its collection case."""
    table = client_table("acme")
    table["policy"] = {**table["policy"], "auto_approve": auto_approve}
    ws.write_config(table)
    ws.add_invoice("1001", issue=ISSUE, due=CASE - timedelta(days=14), amount="700.00")
    ws.add_invoice("1002", issue=ISSUE, due=DUE, amount="1000.00")
    ws.bank_heartbeat(CASE)
    assert ws.cli("sync", "--as-of", CASE.isoformat()).exit_code == 0
    with ws.store.transaction() as conn:
        record_steps(
            conn,
            [
                DunningStep("acme", "1002", Action.REMINDER, REMIND, "outbox", currency="NOK"),
                DunningStep("acme", "1002", Action.COLLECTION_NOTICE, NOTICE, "outbox", currency="NOK"),
            ],
        )


def test_run_json_reports_sends_proposals_and_pushes(ws: Workspace) -> None:
    setup(ws)
    result = ws.cli("run", "--json", "--as-of", CASE.isoformat())
    assert result.exit_code == 0, result.output
    (client,) = json.loads(result.stdout)["clients"]
    kinds = [(a["kind"], a.get("invoice")) for a in client["actions"]]
    assert ("send", "1001") in kinds
    assert ("proposal", "1002") in kinds
    assert ("push", "1002") in kinds  # auto-approved and pushed in the same run: never silent
    push = next(a for a in client["actions"] if a["kind"] == "push")
    assert push["case"] == "acme-1002" and "pushed to" in push["detail"]


def test_run_text_lists_what_was_done(ws: Workspace) -> None:
    setup(ws)
    result = ws.cli("run", "--as-of", CASE.isoformat())
    assert result.exit_code == 0, result.output
    done = result.stdout.split("Done:\n", 1)[1].splitlines()
    assert any("reminder for invoice 1001" in line for line in done)
    assert any("collection case acme-1002 proposed" in line for line in done)
    assert any("case acme-1002 pushed to" in line for line in done)
    again = ws.cli("run", "--as-of", CASE.isoformat())
    assert "Done: nothing was sent, proposed, pushed or withdrawn." in again.stdout


def test_cases_push_json_reports_the_push(ws: Workspace) -> None:
    setup(ws, auto_approve=False)
    assert ws.cli("run", "--as-of", CASE.isoformat()).exit_code == 0
    assert ws.cli("cases", "approve", "acme-1002", "--as-of", CASE.isoformat()).exit_code == 0
    result = ws.cli("cases", "push", "--json", "--as-of", CASE.isoformat())
    assert result.exit_code == 0, result.output
    (client,) = json.loads(result.stdout)["clients"]
    assert [a["kind"] for a in client["actions"]] == ["push"]


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stop_finishes_the_send_in_hand_reports_it_and_exits(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, signum: int, status: int
) -> None:
    ws.write_config(client_table("acme"), client_table("beta"))
    for number, org in (("1001", "934567897"), ("1002", "974760673"), ("1003", "987654325")):  # three customers
        ws.add_invoice(number, issue=ISSUE, due=DUE, amount="700.00", customer=f"Kunde {number} AS", org=org)
    ws.bank_heartbeat(REMIND)
    ws.bank_heartbeat(REMIND, client_id="beta")
    ws.add_invoice("2001", client_id="beta", issue=ISSUE, due=DUE, amount="700.00")
    real = OutboxChannel.deliver_letter
    sent: list[Any] = []

    def send_then_signal(self: OutboxChannel, message: Any) -> Any:
        result = real(self, message)
        sent.append(result)
        if len(sent) == 1:  # the operator presses Ctrl-C (or systemd stops the unit) mid-run, mid-batch
            os.kill(os.getpid(), signum)
        return result

    monkeypatch.setattr(OutboxChannel, "deliver_letter", send_then_signal)
    result = ws.cli("run", "--as-of", REMIND.isoformat())
    assert result.exit_code == status
    assert len(sent) == 1  # the letter in hand finished; no other started
    (first,) = letters(ws, "acme")
    assert letters(ws, "beta") == set()
    assert f"reminder for invoice {first}" in result.stdout  # what was done is printed
    assert "stopped by signal: clients done: acme; not started: beta" in result.stderr
    assert signal.getsignal(signal.SIGTERM) is not None  # handlers restored

    assert "1 client: 1 ok" in result.stdout
    again = ws.cli("run", "--as-of", REMIND.isoformat())  # the next run completes the rest
    assert again.exit_code == 0, again.output
    assert letters(ws, "acme") == {"1001", "1002", "1003"} and letters(ws, "beta") == {"2001"}
    # the batch's letters not sent when the stop came were released, not failed: no second id, no failure
    records = ws.letter_records("acme")
    assert [r.status for r in records] == ["sent"] * 3 and not any(r.letter_id.endswith("-2") for r in records)
