"""Fixtures for the workbench tests: the scenario of ``workbench_builders`` built once per session and
copied for each test (its store is changed by approvals), and a TestClient over it."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from workbench_builders import NOON, AppFactory, files_in_trouble, log_in, scenario, write_config

from connector.web.app import create_app
from tests.builders import Workspace


@pytest.fixture(scope="session")
def scene_template(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace(tmp_path_factory.mktemp("scene"))
    scenario(ws)
    ws.close()
    return ws


@pytest.fixture
def scene(scene_template: Workspace, tmp_path: Path) -> Iterator[Workspace]:
    root = tmp_path / "scene"
    shutil.copytree(scene_template.root, root)
    ws = Workspace(root)
    ws.clients = copy.deepcopy(scene_template.clients)
    yield ws
    ws.close()


@pytest.fixture
def troubled(scene: Workspace) -> Workspace:
    """The scene with a file that does not read (acme's 5001-credit.xml, holding 1002) and a conflicting
    document (beta's b-2001.xml, holding 2001), after a night."""
    files_in_trouble(scene)
    return scene


@pytest.fixture
def app_for(scene: Workspace) -> Iterator[AppFactory]:
    """``app_for(user=None, web=None, clock=…, **client_kwargs)``: a TestClient over the scene, logged in
    as ``user`` when given; ``web`` replaces the [web] table of the config first."""
    clients: list[TestClient] = []

    def make(
        user: str | None = None, web: dict[str, Any] | None = None, clock: Any = None, **kwargs: Any
    ) -> TestClient:
        settings = write_config(scene, web) if web is not None else scene.settings()
        app = create_app(settings, scene.store, clock=clock or (lambda: NOON), local_token=kwargs.pop("token", None))
        client = TestClient(app, follow_redirects=False, **kwargs)
        clients.append(client)
        if user is not None:
            assert log_in(client, user).status_code == 303
        return client

    yield make
    for c in clients:
        c.close()
