"""A half-year whose late-interest rate the rule pack does not have means no interest on letters, statements
or cases for its days (never a guessed rate): ``reconcile`` and ``run`` say so once per country while an
invoice is overdue, so an accountant does not lose the interest without knowing."""

from __future__ import annotations

from datetime import date

from connector.dunning.interest import unpublished_since
from tests.builders import Workspace, client_table

UNPUBLISHED = date(2026, 7, 1)  # the NO pack has no rate from here (connector/dunning/rulepacks/no.toml)
WARNING = "late interest: the NO rule pack has no published rate from 2026-07-01"


def test_the_first_day_without_a_published_rate() -> None:
    assert unpublished_since("NO", date(2026, 6, 30)) is None
    assert unpublished_since("NO", UNPUBLISHED) == UNPUBLISHED
    assert unpublished_since("NO", date(2026, 11, 20)) == UNPUBLISHED


def test_an_overdue_invoice_in_days_without_a_rate_is_warned_about_once(ws: Workspace) -> None:
    ws.write_config(client_table("acme"), client_table("beta"))
    as_of = date(2026, 11, 20)
    for client_id in ("acme", "beta"):
        ws.add_invoice("1001", client_id=client_id, issue=date(2026, 10, 1), due=date(2026, 10, 15), amount="5000.00")
        ws.bank_heartbeat(as_of, client_id=client_id)

    for command in ("reconcile", "run"):
        result = ws.cli(command, "--as-of", as_of.isoformat(), "--quiet")
        assert result.exit_code == 0, result.output
        assert [line for line in result.stderr.splitlines() if WARNING in line] == [
            f"warning: {WARNING}, so letters,"
            " statements and cases carry no interest for the days since (update arsync once the rate is out)"
        ]


def test_nothing_is_said_while_every_overdue_day_has_a_rate(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    ws.add_invoice("1001", issue=date(2026, 3, 1), due=date(2026, 3, 15), amount="5000.00")
    ws.bank_heartbeat(date(2026, 4, 10))
    result = ws.cli("reconcile", "--as-of", "2026-04-10")  # overdue, in a half-year with its rate
    assert result.exit_code == 0, result.output
    assert "action" in result.stdout and "late interest" not in result.stderr


def test_nothing_is_said_while_nothing_is_overdue(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    ws.add_invoice("1001", issue=date(2026, 11, 1), due=date(2026, 11, 30), amount="5000.00")
    ws.bank_heartbeat(date(2026, 11, 20))
    result = ws.cli("reconcile", "--as-of", "2026-11-20")
    assert result.exit_code == 0, result.output
    assert "1001" in result.stdout and "late interest" not in result.stderr
