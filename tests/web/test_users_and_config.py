"""`arsync users add` and the [web] table of the config: what an accountant writes and what is refused."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from workbench_builders import PASSWORD, user, write_config

from connector.cli import main
from connector.config import ConfigError
from connector.web.users import MIN_PASSWORD_LENGTH, UserRefused, user_snippet, verify_password
from tests.builders import Workspace, client_table

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def arsync(ws: Workspace, *args: str, stdin: str = "") -> Any:
    """``arsync --config … ARGS`` as the accountant types it, with ``stdin`` typed in."""
    return CliRunner().invoke(main, ["--config", str(ws.config_path), *args], input=stdin)


def test_the_snippet_is_toml_that_loads_and_whose_hash_checks_the_password(ws: Workspace) -> None:
    ws.write_config(client_table("acme"), client_table("beta"))
    snippet = user_snippet("kari", "approver", PASSWORD, ["acme", "acme"], hasher=FAST)
    assert PASSWORD not in snippet
    [table] = tomllib.loads(snippet)["web"]["users"]
    assert table["name"] == "kari" and table["role"] == "approver" and table["clients"] == ["acme"]
    assert table["password_hash"].startswith("$argon2id$")
    assert verify_password(table["password_hash"], PASSWORD)
    assert not verify_password(table["password_hash"], PASSWORD + "!")
    ws.config_path.write_text(ws.config_path.read_text(encoding="utf-8") + "\n" + snippet, encoding="utf-8")
    [loaded] = ws.settings().web.users
    assert (loaded.name, loaded.role, loaded.clients) == ("kari", "approver", ["acme"])


@pytest.mark.parametrize(
    ("name", "role", "password", "problem"),
    [
        ("kari", "approver", "short", f"shorter than {MIN_PASSWORD_LENGTH}"),
        ("kari", "admin", PASSWORD, "role 'admin' is not one of viewer, approver"),
        ('ka"ri', "viewer", PASSWORD, "is not a user name"),
    ],
)
def test_a_user_that_cannot_be_added_is_refused_in_one_line(name: str, role: str, password: str, problem: str) -> None:
    with pytest.raises(UserRefused, match=problem):
        user_snippet(name, role, password, hasher=FAST)


def test_users_add_prints_only_the_snippet_on_stdout(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    result = arsync(ws, "users", "add", "vera", "--client", "acme", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    table = tomllib.loads(result.stdout)["web"]["users"][0]
    assert (table["name"], table["role"], table["clients"]) == ("vera", "viewer", ["acme"])

    prompted = arsync(ws, "users", "add", "kari", "--role", "approver", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    assert tomllib.loads(prompted.stdout)["web"]["users"][0]["role"] == "approver"

    short = arsync(ws, "users", "add", "kari", "--password-stdin", stdin="short\n")
    assert short.exit_code == 2 and "shorter than" in short.stderr and short.stdout == ""
    unknown = arsync(ws, "users", "add", "kari", "--client", "nosuch", "--password-stdin", stdin=PASSWORD + "\n")
    # a config error like everywhere: one line, exit status 2
    assert unknown.exit_code == 2 and "no client with id 'nosuch'" in unknown.stderr
    assert unknown.stdout == ""


def test_users_list_names_each_user_with_role_and_clients_never_the_hash(ws: Workspace) -> None:
    ws.write_config(client_table("acme"), client_table("beta"))
    settings = write_config(ws, {"users": [user("kari", "approver"), user("anna", "viewer", ["acme"], locale="sv")]})
    listed = arsync(ws, "users", "list")
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines() == [
        "kari: approver; every client; nb numbers and dates",
        "anna: viewer; acme; sv numbers and dates",
    ]
    as_json = json.loads(arsync(ws, "users", "list", "--json").stdout)["items"]
    assert [(u["name"], u["clients"]) for u in as_json] == [("kari", None), ("anna", ["acme"])]
    for u in settings.web.users:
        assert u.password_hash not in listed.stdout and u.password_hash.split("$")[-1] not in json.dumps(as_json)


@pytest.mark.parametrize("command", [["serve"], ["users", "add", "kari", "--password-stdin"]])
def test_without_the_web_extra_the_command_says_how_to_install_it(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    ws.write_config(client_table("acme"))
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if not installed: importing it raises ImportError
    result = arsync(ws, *command, stdin=PASSWORD + "\n")
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert "needs the web extra (uvicorn is not installed)" in line and 'pip install -e ".[web]"' in line
    assert result.stdout == ""


def test_serve_refuses_a_public_address_without_users_before_listening(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    result = arsync(ws, "serve", "--host", "0.0.0.0", "--port", "8765")
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0" in result.stderr and "arsync users add" in result.stderr


def test_serve_refuses_a_store_that_was_never_created(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    result = arsync(ws, "serve")
    assert result.exit_code == 2
    assert "no store at" in result.stderr and "state/arsync.db" in result.stderr


def config_problem(ws: Workspace, web: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        write_config(ws, web)
    [problem] = info.value.problems
    return problem


def test_the_web_table_is_checked_like_the_rest_of_the_config(ws: Workspace, tmp_path: Path) -> None:
    ws.write_config(client_table("acme"))
    bad_hash = config_problem(ws, {"users": [{"name": "kari", "password_hash": PASSWORD, "role": "viewer"}]})
    assert "`web.users[0].password_hash`" in bad_hash
    assert "not an argon2 hash (make one with `arsync users add" in bad_hash
    assert "is used twice" in config_problem(ws, {"users": [user("kari", "viewer"), user("KARI", "approver")]})
    assert "user 'anna': no client with id 'beta'" in config_problem(ws, {"users": [user("anna", "viewer", ["beta"])]})
    assert "`web.users[0].role`" in config_problem(ws, {"users": [user("kari", "admin")]})
    assert "web.password" in config_problem(ws, {"password": "x"})  # a typo or a secret: unknown key
    settings = write_config(ws, {"host": "0.0.0.0", "port": 9000, "undo_minutes": 5, "users": [user("kari", "viewer")]})
    assert (settings.web.host, settings.web.port, settings.web.undo_minutes) == ("0.0.0.0", 9000, 5)
    assert write_config(ws, {}).web.users == []  # no [web] table: loopback only, defaults
