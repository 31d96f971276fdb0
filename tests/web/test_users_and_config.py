"""`arsync users add` and the [web] table of the config: what an accountant writes and what is refused."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import click
import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from workbench_builders import PASSWORD, user, write_config

from connector.cli import Env
from connector.config import ConfigError
from connector.web import cli as web_cli
from connector.web.users import MIN_PASSWORD_LENGTH, UserRefused, user_snippet, verify_password
from tests.builders import Workspace, client_table

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def arsync(ws: Workspace, *args: str, stdin: str = "") -> Any:
    """The two commands on a group of their own, as the CLI package will register them."""
    group = click.Group("arsync", commands={"users": web_cli.users, "serve": web_cli.serve})
    return CliRunner().invoke(group, list(args), input=stdin, obj=Env(str(ws.config_path)))


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
    # a ConfigError, which the CLI's group prints as one line with exit status 2
    assert isinstance(unknown.exception, ConfigError) and "no client with id 'nosuch'" in str(unknown.exception)
    assert unknown.stdout == ""


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
