"""Issue 17 items 11 and 12: config messages (org no check digit, nearest known key, one key style),
the example config is current, and the README says how to run it."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from connector import config
from tests.builders import client_table, to_toml

ROOT = Path(__file__).resolve().parents[2]


def problems(tmp_path: Path, *clients: dict[str, object], **top: object) -> list[str]:
    path = tmp_path / "arsync.toml"
    path.write_text(to_toml({**top, "clients": list(clients)}), encoding="utf-8")
    with pytest.raises(config.ConfigError) as exc:
        config.load(path)
    return exc.value.problems


@pytest.mark.parametrize(
    ("country", "currency", "bad"),
    [("NO", "NOK", "923456784"), ("DK", "DKK", "12345675"), ("SE", "SEK", "5560360794")],
)
def test_an_org_no_with_a_bad_check_digit_is_refused(tmp_path: Path, country: str, currency: str, bad: str) -> None:
    (problem,) = problems(tmp_path, client_table("acme", country=country, currency=currency, org_no=bad))
    assert f"client 'acme': `org_no`: '{bad}' is not a valid" in problem and "check the digits" in problem


def test_valid_org_nos_pass(tmp_path: Path) -> None:
    path = tmp_path / "arsync.toml"
    clients = [
        client_table("no", org_no="923 456 783"),
        client_table("dk", country="DK", currency="DKK", org_no="12345674"),
        client_table("se", country="SE", currency="SEK", org_no="556036-0793"),
    ]
    path.write_text(to_toml({"clients": clients}), encoding="utf-8")
    assert [c.org_no for c in config.load(path).clients] == ["923456783", "12345674", "5560360793"]


@pytest.mark.parametrize(
    ("table", "key", "nearest"),
    [
        ({"policy": {"grace_dayz": 1}}, "policy.grace_dayz", "grace_days"),
        ({"ledger": {"kind": "ehf", "path": "x", "max_age_dayz": 1}}, "ledger.max_age_dayz", "max_age_days"),
        ({"collection": {"provider": "outbox", "path": "c", "pth": "d"}}, "collection.pth", "path"),
    ],
)
def test_an_unknown_key_names_the_nearest_known_one(
    tmp_path: Path, table: dict[str, object], key: str, nearest: str
) -> None:
    (problem,) = problems(tmp_path, client_table("acme", **table))
    assert problem.endswith(f"client 'acme': `{key}`: unknown key; did you mean `{nearest}`?")


def test_an_unknown_top_level_key_and_one_nothing_like_any(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path, client_table("acme"), stor={"url": "sqlite:///x.db"})
    assert problem.endswith("`stor`: unknown key; did you mean `store`?")
    (problem,) = problems(tmp_path, client_table("acme", policy={"zzzzzz": 1}))
    assert problem.endswith("`policy.zzzzzz`: unknown key (check the spelling against config.example.toml)")


def test_keys_are_named_in_one_style(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        client_table("acme", ledger={"kind": "tripletex"}),
        client_table("beta", collection={"provider": "kravia", "base_url": "http://x"}),
    )
    assert any(
        "`ledger`: a ledger of kind 'tripletex' needs `consumer_token_env`, `employee_token_env`" in p for p in found
    )
    assert any("`collection`: the 'kravia' provider needs `token_env` and `creditor_id`" in p for p in found)
    for p in found:
        assert "'consumer_token_env'" not in p and "'token_env'" not in p


def test_the_example_config_is_current_and_runs() -> None:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    assert " later" not in text  # every kind it names exists
    for key in ("consumer_token_env", "employee_token_env", "company_id"):
        assert key in text  # the Tripletex keys as they are
    assert 'token_env = "TRIPLETEX_TOKEN"' not in text
    raw = tomllib.loads(text)
    assert raw["clients"][0]["ledger"]["kind"] == "ehf"
    settings = config.load(ROOT / "config.example.toml")
    assert settings.clients[0].org_no == "923456783"
    commented = [
        line.lstrip("# ").split(" = ")[0] for line in text.splitlines() if line.startswith("# ") and " = " in line
    ]
    ledger_keys = set(config.LedgerConfig.model_fields)
    for key in ("consumer_token_env", "employee_token_env", "company_id"):
        assert key in commented and key in ledger_keys


def test_the_readme_starts_with_the_two_setup_commands_and_covers_operations() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set up on a fresh machine", 1)[1]
    blocks = [b.split("```", 1)[0].strip() for b in setup.split("```sh\n")[1:3]]
    assert blocks == [
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/arsync --config config.example.toml "
        "reconcile --as-of 2026-11-20",
        'python3 -m venv .venv && .venv/bin/pip install -e ".[test]" && .venv/bin/pytest',
    ]
    for must in (
        "```cron",
        "[Timer]",
        "OnCalendar=",
        "journalctl -u arsync",
        "### Exit statuses",
        "Deleting the store loses the audit trail",
        ".backup",
        "**Tripletex**",
        "**Fiken**",
        "**PowerOffice Go**",
        "**e-conomic**",
        "`company_id` is the Tripletex id",
        "## Reading the decision table",
        "phive-rules",
        "3.1.0 from 2027-02-22",
    ):
        assert must in readme, must


def test_the_readme_setup_command_runs_offline(tmp_path: Path) -> None:
    """The first command's arsync part, as a new user runs it (the venv exists already)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "connector.cli",
            "--config",
            str(ROOT / "config.example.toml"),
            "reconcile",
            "--as-of",
            "2026-11-20",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"ARSYNC_STORE__URL": f"sqlite:///{tmp_path}/state.db", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert "Decisions as of 2026-11-20" in done.stdout and "1 client: 1 ok, 0 failed, 0 stale" in done.stdout
