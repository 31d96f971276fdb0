"""Shared fixtures: a throw-away accountant's workspace (config + EHF and bank folders) in tmp_path.

The helpers live in ``builders.py``: tests import from there, never from ``conftest`` (pytest keeps
one ``conftest`` module name for every folder's conftest.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import Workspace


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ARSYNC_* variable of the developer's shell may leak into a test."""
    for name in list(os.environ):
        if name.startswith("ARSYNC_"):
            monkeypatch.delenv(name)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = Workspace(tmp_path)
    yield workspace
    workspace.close()
