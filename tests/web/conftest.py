"""Fixtures for the workbench tests: the scenarios of ``workbench_builders`` built once per session and
copied for each test (their stores are changed by the actions), and TestClients over them."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from workbench_builders import (
    CALL_NOON,
    NOON,
    AppFactory,
    call_scenario,
    files_in_trouble,
    log_in,
    scenario,
    write_config,
)

from connector.web.app import create_app
from tests.builders import Workspace


def _template(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Workspace], object]) -> Workspace:
    ws = Workspace(tmp_path_factory.mktemp(name))
    build(ws)
    ws.close()
    return ws


def _copy(template: Workspace, root: Path) -> Workspace:
    shutil.copytree(template.root, root)
    ws = Workspace(root)
    ws.clients = copy.deepcopy(template.clients)
    return ws


@pytest.fixture(scope="session")
def scene_template(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return _template(tmp_path_factory, "scene", scenario)


@pytest.fixture
def scene(scene_template: Workspace, tmp_path: Path) -> Iterator[Workspace]:
    ws = _copy(scene_template, tmp_path / "scene")
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def call_scene_template(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return _template(tmp_path_factory, "calls", call_scenario)


@pytest.fixture
def call_scene(call_scene_template: Workspace, tmp_path: Path) -> Iterator[Workspace]:
    """``workbench_builders.call_scenario``: acme's Kunde AS is to be called on CALL_DAY."""
    ws = _copy(call_scene_template, tmp_path / "calls")
    yield ws
    ws.close()


@pytest.fixture
def troubled(scene: Workspace) -> Workspace:
    """The scene with a file that does not read (acme's 5001-credit.xml, holding 1002) and a conflicting
    document (beta's b-2001.xml, holding 2001), after a night."""
    files_in_trouble(scene)
    return scene


def _factory(ws: Workspace, now: datetime, clients: list[TestClient]) -> AppFactory:
    def make(
        user: str | None = None, web: dict[str, Any] | None = None, clock: Any = None, **kwargs: Any
    ) -> TestClient:
        settings = write_config(ws, web) if web is not None else ws.settings()
        app = create_app(settings, ws.store, clock=clock or (lambda: now), local_token=kwargs.pop("token", None))
        client = TestClient(app, follow_redirects=False, **kwargs)
        clients.append(client)
        if user is not None:
            assert log_in(client, user).status_code == 303
        return client

    return make


@pytest.fixture
def app_for(scene: Workspace) -> Iterator[AppFactory]:
    """``app_for(user=None, web=None, clock=…, **client_kwargs)``: a TestClient over the scene, logged in
    as ``user`` when given; ``web`` replaces the [web] table of the config first."""
    clients: list[TestClient] = []
    yield _factory(scene, NOON, clients)
    for c in clients:
        c.close()


@pytest.fixture
def call_app_for(call_scene: Workspace) -> Iterator[AppFactory]:
    """As ``app_for``, over the call scene, at noon of CALL_DAY."""
    clients: list[TestClient] = []
    yield _factory(call_scene, CALL_NOON, clients)
    for c in clients:
        c.close()
