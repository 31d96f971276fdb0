"""The accountant's config file: clear errors (file, client, key, what), lookup order, paths, secrets."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from connector import config as config_mod
from connector.cli import main
from connector.config import ConfigError
from tests.builders import Workspace, client_table, to_toml


def write(path: Path, *clients: dict[str, Any], **top: Any) -> Path:
    doc = {"store": {"url": "sqlite:///state/arsync.db"}, **top, "clients": list(clients)}
    path.write_text(to_toml(doc), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        config_mod.load(path)
    return info.value.problems


def only_problem(path: Path) -> str:
    problems = problems_of(path)
    assert len(problems) == 1, problems
    return problems[0]


def test_the_example_config_loads(tmp_path: Path) -> None:
    settings = config_mod.load(Path(__file__).parents[1] / "config.example.toml")
    assert [c.id for c in settings.clients] == ["nordlys"]


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    msg = only_problem(missing)
    assert str(missing) in msg
    assert "not found" in msg


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "arsync.toml"
    bad.write_text('[store]\nurl = "sqlite:///x.db\n', encoding="utf-8")
    msg = only_problem(bad)
    assert msg.startswith(f"{bad}: ")
    assert "TOML" in msg


def test_unknown_key_names_file_client_and_key(tmp_path: Path) -> None:
    cfg = write(tmp_path / "arsync.toml", client_table("acme", policy={"grace_dayz": 3}))
    msg = only_problem(cfg)
    assert msg.startswith(f"{cfg}: client 'acme': `policy.grace_dayz`: ")
    assert "unknown key" in msg


def test_missing_required_key(tmp_path: Path) -> None:
    table = client_table("acme")
    del table["org_no"]
    msg = only_problem(write(tmp_path / "arsync.toml", table))
    assert "client 'acme': `org_no`: required key is missing" in msg


def test_wrong_country(tmp_path: Path) -> None:
    msg = only_problem(write(tmp_path / "arsync.toml", client_table("acme", country="FI")))
    assert "client 'acme': `country`: " in msg
    assert "'NO'" in msg


@pytest.mark.parametrize("currency", ["NKO", "nok", "XXX"])
def test_a_currency_that_is_no_iso_4217_code_is_refused_naming_it(tmp_path: Path, currency: str) -> None:
    msg = only_problem(write(tmp_path / "arsync.toml", client_table("acme", currency=currency)))
    assert msg == (
        f"{tmp_path / 'arsync.toml'}: client 'acme': `currency`: '{currency}' is not an ISO 4217 currency code "
        "(e.g. NOK, DKK, SEK, EUR)"
    )


@pytest.mark.parametrize("currency", ["NOK", "DKK", "SEK", "EUR", "USD", "ISK"])
def test_a_real_currency_is_accepted(tmp_path: Path, currency: str) -> None:
    assert config_mod.load(write(tmp_path / "arsync.toml", client_table("acme", currency=currency)))


@pytest.mark.parametrize(
    ("overrides", "top", "says"),
    [
        ({"policy": {"grace_days": "3"}}, {}, '`policy.grace_days`: must be a whole number, not "3" (written without'),
        ({"policy": {"auto_approve": "no"}}, {}, '`policy.auto_approve`: must be true or false, not "no" (written'),
        ({"policy": {"auto_approve": 0}}, {}, "`policy.auto_approve`: must be true or false, not 0"),
        ({"policy": {"steps": [{"action": "reminder", "days": 14, "fee": "yes"}]}}, {}, "`policy.steps[0].fee`: must"),
        ({"registry": {"enabled": "true"}}, {}, '`registry.enabled`: must be true or false, not "true"'),
        ({"policy": {"settle_days": 2.5}}, {}, "`policy.settle_days`: must be a whole number, not 2.5"),
        ({}, {"run": {"workers": "4"}}, '`run.workers`: must be a whole number, not "4"'),
        ({}, {"http": {"read_timeout": "30"}}, '`http.read_timeout`: must be a number, not "30"'),
    ],
)
def test_a_number_or_true_false_written_in_quotes_is_refused_not_converted(
    tmp_path: Path, overrides: dict[str, Any], top: dict[str, Any], says: str
) -> None:
    msg = only_problem(write(tmp_path / "arsync.toml", client_table("acme", **overrides), **top))
    assert says in msg


def test_numbers_stay_numbers_and_amounts_may_be_exact_text(tmp_path: Path) -> None:
    """A float key takes a whole number (timeouts of 10), and an amount in quotes is how TOML writes an exact
    decimal: both still load."""
    policy = {"auto_approve": True, "auto_approve_max_amount": "999.99", "payment_tolerance": "0.50"}
    settings = config_mod.load(
        write(tmp_path / "arsync.toml", client_table("acme", policy=policy), http={"connect_timeout": 10})
    )
    acme = settings.client("acme")
    assert (acme.policy.auto_approve, acme.policy.auto_approve_max_amount) == (True, Decimal("999.99"))
    assert acme.http.connect_timeout == 10.0 and isinstance(acme.http.connect_timeout, float)


def test_inline_secret_is_refused_and_points_to_token_env(tmp_path: Path) -> None:
    table = client_table("acme", ledger={"kind": "tripletex", "token": "s3cr3t-value"})
    msg = only_problem(write(tmp_path / "arsync.toml", table))
    assert "client 'acme'" in msg
    assert "ledger" in msg and "token" in msg
    assert "token_env" in msg
    assert "s3cr3t-value" not in msg  # the secret itself never ends up in a log


def test_bad_env_name(tmp_path: Path) -> None:
    table = client_table("acme", ledger={"kind": "tripletex", "token_env": "tripletex-token"})
    msg = only_problem(write(tmp_path / "arsync.toml", table))
    assert "client 'acme': `ledger.token_env`: " in msg
    # The value is never echoed: what is written where a variable name belongs may be a pasted token.
    assert "the value of `token_env` is not a variable name (not shown)" in msg
    assert "tripletex-token" not in msg


def test_duplicate_client_ids(tmp_path: Path) -> None:
    msg = only_problem(write(tmp_path / "arsync.toml", client_table("acme"), client_table("acme")))
    assert str(tmp_path / "arsync.toml") in msg
    assert "'acme'" in msg and "twice" in msg


def test_ladder_out_of_order(tmp_path: Path) -> None:
    steps = [{"action": "collection_notice", "days": 14}, {"action": "reminder", "days": 14}]
    msg = only_problem(write(tmp_path / "arsync.toml", client_table("acme", policy={"steps": steps})))
    assert "client 'acme': `policy.steps`: " in msg
    assert "ladder" in msg


def test_case_without_a_notice_before_it_is_refused(tmp_path: Path) -> None:
    steps = [{"action": "reminder", "days": 14}, {"action": "collection_case", "days": 14}]
    msg = only_problem(write(tmp_path / "arsync.toml", client_table("acme", policy={"steps": steps})))
    assert "client 'acme': `policy.steps`: " in msg
    assert "collection_notice" in msg


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    bad = client_table("acme", country="FI", policy={"grace_dayz": 1})
    other = client_table("beta", currency="kroner")
    problems = problems_of(write(tmp_path / "arsync.toml", bad, other))
    assert len(problems) == 3
    assert sum("client 'acme'" in p for p in problems) == 2
    assert sum("client 'beta': `currency`" in p for p in problems) == 1


def test_cli_prints_one_line_per_problem_and_exits_2(tmp_path: Path) -> None:
    cfg = write(tmp_path / "arsync.toml", client_table("acme", country="FI", policy={"grace_dayz": 1}))
    result = CliRunner().invoke(main, ["--config", str(cfg), "reconcile", "--as-of", "2026-06-29"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith(f"config error: {cfg}: client 'acme': ") for line in lines)
    assert result.stdout == ""


def test_check_refuses_a_wrong_currency_and_a_quoted_number(tmp_path: Path) -> None:
    cfg = write(tmp_path / "arsync.toml", client_table("acme", currency="NKO", policy={"grace_days": "3"}))
    result = CliRunner().invoke(main, ["--config", str(cfg), "check"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"config error: {cfg}: client 'acme': `currency`: 'NKO' is not an ISO 4217 currency code (e.g. NOK, DKK, "
        "SEK, EUR)",
        f"config error: {cfg}: client 'acme': `policy.grace_days`: must be a whole number, not \"3\" (written without "
        "quotes)",
    ]
    assert result.stdout == ""


def test_cli_missing_config_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["reconcile", "--as-of", "2026-06-29"])
    assert result.exit_code == 2
    assert "arsync.toml" in result.stderr
    assert "ARSYNC_CONFIG" in result.stderr


# ---- where the file is found ---------------------------------------------------------------------


def test_config_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write(tmp_path / "arsync.toml", client_table("from-cwd"))
    env_file = write(tmp_path / "a" / "env.toml", client_table("from-env"))
    explicit = write(tmp_path / "b" / "explicit.toml", client_table("from-flag"))
    monkeypatch.chdir(tmp_path)

    assert config_mod.load(None).clients[0].id == "from-cwd"
    assert config_mod.load(None).source_file == Path("arsync.toml")
    monkeypatch.setenv("ARSYNC_CONFIG", str(env_file))
    assert config_mod.load(None).clients[0].id == "from-env"
    assert config_mod.load(explicit).clients[0].id == "from-flag"


def test_cli_honours_arsync_config(ws: Workspace) -> None:
    ws.write_config(client_table("acme"))
    result = CliRunner().invoke(
        main, ["cases", "list", "--client", "nobody"], env={"ARSYNC_CONFIG": str(ws.config_path)}
    )
    # the file was found through the variable: the unknown client is reported against it
    assert result.exit_code == 2
    assert f"{ws.config_path}: no client with id 'nobody'" in result.stderr


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "office"
    folder.mkdir()
    cfg = write(folder / "arsync.toml", client_table("acme"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    settings = config_mod.load(Path("..") / "office" / "arsync.toml")
    acme = settings.client("acme")
    base = cfg.resolve().parent
    assert acme.ledger.path == base / "clients/acme/ehf"
    assert acme.bank[0].path == base / "clients/acme/bank"
    assert acme.collection.path == base / "clients/acme/outbox/cases"
    assert acme.reminders.path == base / "clients/acme/outbox/reminders"
    assert settings.store.url == f"sqlite:///{base / 'state/arsync.db'}"


def test_absolute_paths_and_memory_urls_are_kept(tmp_path: Path) -> None:
    table = client_table("acme", ledger={"path": "/srv/ehf"})
    settings = config_mod.load(write(tmp_path / "arsync.toml", table, store={"url": "sqlite:///:memory:"}))
    assert settings.client("acme").ledger.path == Path("/srv/ehf")
    assert settings.store.url == "sqlite:///:memory:"


def test_reminders_folder_defaults_next_to_the_cases_folder(tmp_path: Path) -> None:
    table = client_table("acme")
    del table["reminders"]
    acme = config_mod.load(write(tmp_path / "arsync.toml", table)).client("acme")
    assert acme.reminders.path == tmp_path.resolve() / "clients/acme/outbox/reminders"


def test_min_amount_is_exact_decimal_even_when_written_as_toml_float(tmp_path: Path) -> None:
    cfg = tmp_path / "arsync.toml"
    write(cfg, client_table("acme"))
    cfg.write_text(cfg.read_text().replace("min_amount = 100", "min_amount = 100.1"))
    assert config_mod.load(cfg).client("acme").policy.min_amount == Decimal("100.1")


def test_defaults_are_safe(tmp_path: Path) -> None:
    table = client_table("acme")
    del table["policy"]
    policy = config_mod.load(write(tmp_path / "arsync.toml", table)).client("acme").policy
    assert policy.auto_approve is False
    assert [s.action for s in policy.steps] == ["reminder", "collection_notice", "collection_case"]


# ---- secrets ------------------------------------------------------------------------------------


def test_secret_from_environment_then_secrets_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "TRIPLETEX_TOKEN").write_text("from-file\n", encoding="utf-8")
    monkeypatch.setenv("ARSYNC_SECRETS_DIR", str(tmp_path))
    assert config_mod.secret("TRIPLETEX_TOKEN") == "from-file"
    monkeypatch.setenv("TRIPLETEX_TOKEN", "from-env")
    assert config_mod.secret("TRIPLETEX_TOKEN") == "from-env"


def test_missing_secret_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    monkeypatch.setenv("ARSYNC_SECRETS_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match="NOT_SET_ANYWHERE"):
        config_mod.secret("NOT_SET_ANYWHERE")
