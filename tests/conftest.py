"""Shared fixtures: a throw-away accountant's workspace (config + EHF and bank folders) in tmp_path.

The ``browser`` fixture (headless Chromium) is here too, so every test folder can use it.
The helpers live in ``builders.py``: tests import from there, never from ``conftest`` (pytest keeps
one ``conftest`` module name for every folder's conftest.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.builders import FilesOpened, Workspace


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ARSYNC_* variable of the developer's shell may leak into a test."""
    for name in list(os.environ):
        if name.startswith("ARSYNC_"):
            monkeypatch.delenv(name)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium with a fresh profile (tests/browser.py); skips where it is not installed."""
    from tests.browser import headless_chromium  # Selenium is loaded only by the tests that look

    with headless_chromium(tmp_path / "chromium-profile") as driver:
        yield driver


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = Workspace(tmp_path)
    yield workspace
    workspace.close()


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> FilesOpened:
    """Every file the code under test opens (a drop-folder file known by its stat must not be)."""
    return FilesOpened(monkeypatch)
