"""``[queue]`` in the config: its URL follows a PostgreSQL store, a SQLite store is refused with one clear line
by every queue command, and bad values are reported like any other config problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector import config as config_mod
from connector.config import ConfigError, Settings
from connector.queue.db import queue_url
from tests.builders import Workspace, client_table, to_toml

PG = "postgresql+psycopg://arsync:pw@db.example:5432/arsync"


def _settings(**tables: object) -> Settings:
    return Settings.model_validate(tables)


def test_the_queue_url_defaults_to_a_postgresql_store() -> None:
    assert queue_url(_settings(store={"url": PG})) == PG
    assert queue_url(_settings(store={"url": "postgresql://arsync:pw@db/arsync"})) == (
        "postgresql+psycopg://arsync:pw@db/arsync"
    )
    own = "postgresql+psycopg://queue:pw@queue.example/jobs"
    assert queue_url(_settings(store={"url": PG}, queue={"url": own})) == own


def test_a_sqlite_store_is_refused_naming_the_file_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        queue_url(_settings(store={"url": f"sqlite:///{tmp_path}/arsync.db"}, source_file=tmp_path / "arsync.toml"))
    [line] = err.value.problems
    assert line.startswith(f"{tmp_path / 'arsync.toml'}: queue: the store is SQLite")
    assert "[store] url" in line and "without --queue" in line
    with pytest.raises(ConfigError, match=r"queue\.url: .* is not a PostgreSQL URL"):
        queue_url(_settings(store={"url": PG}, queue={"url": "mysql://db/x"}))


def test_queue_commands_on_a_sqlite_store_exit_with_one_config_error(ws: Workspace) -> None:
    ws.write_config(client_table())
    for args in (("run", "--queue"), ("runs", "status"), ("worker",)):
        result = ws.cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "config error:" in result.stderr and "queue: the store is SQLite" in result.stderr
        assert result.stdout == ""


def test_no_password_of_a_url_is_printed() -> None:
    with pytest.raises(ConfigError) as err:
        queue_url(_settings(store={"url": "sqlite:///x.db"}))
    with pytest.raises(ConfigError) as err2:
        queue_url(_settings(store={"url": PG}, queue={"url": "mysql://u:s3cret-pw@db/x"}))
    assert "s3cret-pw" not in str(err2.value) and "u:***@db" in str(err2.value)
    assert "x.db" in str(err.value)


def test_bad_queue_values_are_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "arsync.toml"
    doc = {
        "store": {"url": PG},
        "queue": {"nightly": "2:30", "timezone": "Europe/Bergen"},
        "clients": [client_table()],
    }
    path.write_text(to_toml(doc), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        config_mod.load(path)
    text = "\n".join(err.value.problems)
    assert "queue.nightly`: '2:30' is not a time of day (HH:MM, 24-hour)" in text
    assert "queue.timezone`: 'Europe/Bergen' is not a time zone name" in text
    doc["queue"] = {"heartbeat_seconds": 10, "stalled_seconds": 15}
    path.write_text(to_toml(doc), encoding="utf-8")
    with pytest.raises(ConfigError, match="stalled_seconds must be at least twice heartbeat_seconds"):
        config_mod.load(path)


def test_queue_defaults() -> None:
    q = Settings().queue
    assert (q.url, q.nightly, q.timezone, q.concurrency, q.attempts) == (None, None, "Europe/Oslo", 4, 4)
