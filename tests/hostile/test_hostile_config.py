"""A token pasted into a ``*_env`` key is never echoed (issue 13, item 9); [http] and [limits] reach every client."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hostile_corpus import EnvSecretCase, env_secrets

from connector import config
from connector.cli import main
from tests.builders import client_table, to_toml

# Around each key, the other settings its table needs, so the pasted value is the only problem.
_TABLES: dict[str, dict[str, Any]] = {
    "ledger": {
        "kind": "tripletex",
        "consumer_token_env": "TT_CONSUMER",
        "employee_token_env": "TT_EMPLOYEE",
    },
    "collection": {
        "provider": "kravia",
        "base_url": "http://127.0.0.1:9",
        "token_env": "KRAVIA_TOKEN",
        "creditor_id": 7,
    },
    "reminders.email": {"host": "127.0.0.1", "from_address": "purring@example.no"},
    "reminders.tripletex": {"session_token_env": "TT_SESSION"},
}


def _config(tmp_path: Path, case: EnvSecretCase) -> Path:
    table = {**_TABLES[case.table], case.key: case.value}
    if case.key == "api_key_env":
        table = {"provider": "debitura", "base_url": "http://127.0.0.1:9", "api_key_env": case.value}
    if case.table.startswith("reminders."):
        client = client_table("acme", reminders={case.table.split(".")[1]: table})
    else:
        client = client_table("acme", **{case.table: table})
    path = tmp_path / "arsync.toml"
    path.write_text(to_toml({"clients": [client]}), encoding="utf-8")
    return path


@pytest.mark.parametrize("case", env_secrets(), ids=lambda c: f"{c.table}.{c.key}:{c.value[:6]}")
def test_a_value_pasted_where_a_variable_name_belongs_is_never_shown(tmp_path: Path, case: EnvSecretCase) -> None:
    with pytest.raises(config.ConfigError) as exc:
        config.load(_config(tmp_path, case))
    (problem,) = exc.value.problems
    assert f"the value of `{case.key}` is not a variable name (not shown)" in problem
    assert f"{case.table}.{case.key}" in problem  # the key is named, with its client
    # Not the value, nor any long piece of it.
    for piece in (case.value, *(case.value[i : i + 8] for i in range(0, len(case.value) - 8, 4))):
        assert piece not in problem


def test_the_command_line_does_not_echo_it_either(tmp_path: Path) -> None:
    case = env_secrets()[1]
    path = _config(tmp_path, case)
    result = CliRunner().invoke(main, ["--config", str(path), "sync"])
    assert result.exit_code == 2
    assert "not a variable name (not shown)" in result.output and case.value[:12] not in result.output


# ---- [http] and [limits]: top-level tables every client receives ----------------------------------


def test_http_and_limits_reach_every_client_and_a_client_may_override_them(tmp_path: Path) -> None:
    big = client_table("big", http={"client_deadline": 1800}, limits={"max_amount": 50_000_000_000})
    path = tmp_path / "arsync.toml"
    doc = {
        "http": {"read_timeout": 20, "client_deadline": 120},
        "limits": {"max_amount": 1_000_000},
        "clients": [client_table("small"), big],
    }
    path.write_text(to_toml(doc), encoding="utf-8")
    settings = config.load(path)
    small, large = settings.clients
    assert (small.http.connect_timeout, small.http.read_timeout, small.http.client_deadline) == (10.0, 20.0, 120.0)
    assert (large.http.read_timeout, large.http.client_deadline) == (20.0, 1800.0)
    assert small.limits.max_amount == Decimal("1000000") and large.limits.max_amount == Decimal("50000000000")


def test_the_defaults_give_up_on_a_client_within_minutes(tmp_path: Path) -> None:
    path = tmp_path / "arsync.toml"
    path.write_text(to_toml({"clients": [client_table("acme")]}), encoding="utf-8")
    (client,) = config.load(path).clients
    assert client.http.connect_timeout + client.http.read_timeout <= 60
    assert client.http.client_deadline <= 300
    assert client.limits.max_amount == Decimal("10000000000")


@pytest.mark.parametrize(
    ("table", "value", "says"),
    [
        ("http", {"read_timeout": 0}, "http.read_timeout"),
        ("http", {"client_deadline": -1}, "http.client_deadline"),
        ("http", {"deadline": 5}, "`http.deadline`: unknown key; did you mean `client_deadline`?"),
        ("limits", {"max_amount": 0}, "limits.max_amount"),
        ("limits", {"max_amount": 1e20}, "limits.max_amount"),
    ],
)
def test_a_bad_http_or_limits_value_is_one_clear_line(tmp_path: Path, table: str, value: Any, says: str) -> None:
    path = tmp_path / "arsync.toml"
    path.write_text(to_toml({table: value, "clients": [client_table("a"), client_table("b")]}), encoding="utf-8")
    with pytest.raises(config.ConfigError) as exc:
        config.load(path)
    (problem,) = exc.value.problems  # once, at the table, not once per client
    assert says in problem
