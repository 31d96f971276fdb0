"""Policy check: a ladder that breaks the law on the command's day is a config error naming the rule.

``config.load`` only parses; ``policy.check_policies(settings, today)`` refuses the ladder, and the CLI
runs it for the command's --as-of day (today for commands without one) before any client is touched.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from connector.config import ConfigError, Settings
from connector.dunning import policy
from tests.builders import Workspace, client_table

TODAY = date(2026, 6, 1)


def checked(ws: Workspace, today: date = TODAY) -> Settings:
    settings = ws.settings()
    policy.check_policies(settings, today)
    return settings


def _steps(*steps: tuple[str, int, bool]) -> list[dict[str, Any]]:
    return [{"action": a, "days": d, "fee": f} for a, d, f in steps]


DK = {"country": "DK", "currency": "DKK", "org_no": "12345674"}


@pytest.mark.parametrize(
    ("overrides", "steps", "expected"),
    [
        (
            {},
            _steps(("reminder", 7, True)),
            ["policy.steps[0].days", "14 days after the due date", "inkassoforskriften § 1-2"],
        ),
        (
            {},
            _steps(("reminder", 14, False), ("collection_notice", 14, False), ("collection_case", 10, False)),
            ["policy.steps[2].days", "at least 14 days", "inkassoloven § 9"],
        ),
        (
            {},
            _steps(("reminder", 14, True), ("reminder", 14, True), ("collection_notice", 14, True)),
            ["policy.steps[2].fee", "at most 2", "inkassoforskriften § 1-3"],
        ),
        (
            DK,
            _steps(
                ("reminder", 1, True), ("reminder", 10, True), ("reminder", 10, True), ("collection_notice", 10, True)
            ),
            ["policy.steps[3].fee", "at most 3", "renteloven § 9 b"],
        ),
        (DK, _steps(("reminder", 1, True), ("reminder", 5, True)), ["10 days apart", "renteloven § 9 b"]),
        (
            DK,
            _steps(("reminder", 1, False), ("collection_notice", 10, False), ("collection_case", 7, False)),
            ["at least 10 days", "inkassoloven § 10"],
        ),
        ({"country": "SE", "currency": "SEK"}, _steps(("reminder", 5, True)), ["only if agreed", "fee_agreed"]),
    ],
)
def test_unlawful_ladders_are_config_errors(
    ws: Workspace, overrides: dict[str, Any], steps: Any, expected: list[str]
) -> None:
    table = client_table(**overrides)
    table["policy"] = {**table["policy"], "steps": steps}
    ws.write_config(table)
    with pytest.raises(ConfigError) as err:
        checked(ws)
    text = str(err.value)
    assert str(ws.config_path) in text and "client 'acme'" in text
    for part in expected:
        assert part in text


def test_lawful_ladders_load(ws: Workspace) -> None:
    dk = client_table(**DK)
    dk["policy"] = {
        **dk["policy"],
        "steps": _steps(
            ("reminder", 1, True),
            ("reminder", 10, True),
            ("reminder", 10, True),
            ("collection_notice", 10, False),
            ("collection_case", 10, False),
        ),
    }
    ws.write_config(client_table(), {**dk, "id": "dk"})
    assert len(checked(ws).clients) == 2


def test_a_swedish_client_without_a_ladder_of_its_own_gets_one_without_an_unagreed_fee(ws: Workspace) -> None:
    # The default ladder's reminder carries a fee (lawful in NO and DK); an SE client that wrote no steps was
    # refused for 'policy.steps[0].fee', a key not in its file (found trying an SE client)
    ws.write_config(client_table(country="SE", currency="SEK"))
    [client] = checked(ws).clients
    assert [(s.action, s.fee) for s in client.policy.steps] == [
        ("reminder", False),
        ("collection_notice", False),
        ("collection_case", False),
    ]
    ws.write_config(client_table(country="SE", currency="SEK", policy={"fee_agreed": True}))
    assert checked(ws).clients[0].policy.steps[0].fee is True  # agreed with the debt: the fee is lawful
    ws.write_config(client_table())
    assert checked(ws).clients[0].policy.steps[0].fee is True  # Norway's default as before


def test_unknown_channel_and_missing_email_table(ws: Workspace) -> None:
    table = client_table()
    table["policy"] = {**table["policy"], "steps": _steps(("reminder", 14, True))}
    table["policy"]["steps"][0]["channel"] = "email"
    ws.write_config(table)
    with pytest.raises(ConfigError, match=r"reminders\.email"):
        checked(ws)


def test_the_cli_refuses_an_unlawful_ladder_for_the_commands_day(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = client_table()
    table["policy"] = {**table["policy"], "steps": _steps(("reminder", 7, True))}
    ws.write_config(table)
    days: list[date] = []
    real = policy.check_policies

    def spy(settings: Settings, today: date) -> None:
        days.append(today)
        real(settings, today)

    monkeypatch.setattr(policy, "check_policies", spy)
    result = ws.cli("reconcile", "--no-sync", "--as-of", "2026-03-02")
    assert result.exit_code == 2
    assert f"config error: {ws.config_path}: client 'acme': policy.steps[0].days: " in result.stderr
    assert "inkassoforskriften § 1-2" in result.stderr
    assert days == [date(2026, 3, 2)]

    days.clear()
    listed = ws.cli("cases", "list")  # no --as-of: the ladder must obey the law in force today
    assert listed.exit_code == 2 and "policy.steps[0].days" in listed.stderr
    assert days == [date.today()]


def test_parsing_alone_does_not_judge_the_ladder(ws: Workspace) -> None:
    table = client_table()
    table["policy"] = {**table["policy"], "steps": _steps(("reminder", 7, True))}
    ws.write_config(table)
    assert [s.days for s in ws.settings().client("acme").policy.steps] == [7]
