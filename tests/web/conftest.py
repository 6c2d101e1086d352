"""The workspace under test: the service with its pages, on an embedded SQLite file.

The pages call the same use cases as the API, whose tests run on SQLite and on
PostgreSQL; the page tests run on SQLite. `desks` gives a logged-in client per test
user; `clinic` walks patients along through the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from clinic import USERS, Clinic, bearer_headers, start_with_users
from desk import Desk, NewDesk, log_in
from fastapi.testclient import TestClient

from rltnet.domain.clock import SettableClock
from rltnet.service.app import create_app
from rltnet.service.platform import Platform
from rltnet.service.settings import Settings


@pytest.fixture(scope="session")
def web_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder: Path = tmp_path_factory.mktemp("web")
    return Settings(database_url=f"sqlite:///{folder / 'rltnet.sqlite'}", network="england")


@pytest.fixture(scope="session")
def web_platform(web_settings: Settings) -> Iterator[Platform]:
    started = start_with_users(web_settings)
    yield started
    started.close()


@pytest.fixture(scope="session")
def web_app(web_settings: Settings, web_platform: Platform) -> TestClient:
    return TestClient(create_app(web_settings, web_platform))


@pytest.fixture(scope="session")
def new_desk(web_platform: Platform) -> NewDesk:
    """A fresh client logged in (through the login page) as the user."""
    return lambda username: log_in(web_platform, username)


@pytest.fixture(scope="session")
def desks(new_desk: NewDesk) -> dict[str, Desk]:
    return {username: new_desk(username) for username in USERS}


@pytest.fixture(scope="session")
def web_clinic(web_app: TestClient) -> Clinic:
    return Clinic(web_app, bearer_headers(web_app))


@pytest.fixture(scope="module")
def clocked_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Clinic, Platform]]:
    """The workspace of a test module of its own, on a clock the tests advance (`Clinic.advance`),
    with a clinic walking patients through its API; `log_in(platform, user)` gives a desk."""
    folder: Path = tmp_path_factory.mktemp("clocked-web")
    settings = Settings(database_url=f"sqlite:///{folder / 'rltnet.sqlite'}", network="england")
    platform = start_with_users(settings, SettableClock(datetime.now(UTC)))
    client = TestClient(create_app(settings, platform))
    yield Clinic(client, bearer_headers(client)), platform
    platform.close()
