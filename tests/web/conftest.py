"""The workspace under test: the service with its pages, on an embedded SQLite file.

The pages call the same use cases as the API, whose tests run on SQLite and on
PostgreSQL; the page tests run on SQLite. `desks` gives a logged-in client per test
user; `clinic` walks patients along through the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from clinic import PASSWORD, USERS, Clinic, Headers
from desk import Desk, NewDesk
from fastapi.testclient import TestClient

from rltnet.service.app import create_app
from rltnet.service.platform import Platform
from rltnet.service.schemas import UserCreate
from rltnet.service.settings import Settings
from rltnet.service.usecases.users import add_user


@pytest.fixture(scope="session")
def web_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder: Path = tmp_path_factory.mktemp("web")
    return Settings(database_url=f"sqlite:///{folder / 'rltnet.sqlite'}", network="england")


@pytest.fixture(scope="session")
def web_platform(web_settings: Settings) -> Iterator[Platform]:
    started = Platform.start(web_settings)
    with started.sessions() as session:
        for username, (role, centre) in USERS.items():
            body = UserCreate.model_validate(
                {"username": username, "password": PASSWORD, "role": role, "centre_id": centre}
            )
            add_user(session, started, body)
        session.commit()
    yield started
    started.close()


@pytest.fixture(scope="session")
def web_app(web_settings: Settings, web_platform: Platform) -> TestClient:
    return TestClient(create_app(web_settings, web_platform))


@pytest.fixture(scope="session")
def new_desk(web_settings: Settings, web_platform: Platform) -> NewDesk:
    """A fresh client logged in (through the login page) as the user."""

    def login(username: str) -> Desk:
        client = TestClient(create_app(web_settings, web_platform))
        response = client.post(
            "/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
        )
        assert response.status_code == 303, response.text
        return Desk(client, username)

    return login


@pytest.fixture(scope="session")
def desks(new_desk: NewDesk) -> dict[str, Desk]:
    return {username: new_desk(username) for username in USERS}


@pytest.fixture(scope="session")
def web_clinic(web_app: TestClient) -> Clinic:
    auth: dict[str, Headers] = {}
    for username in USERS:
        response = web_app.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        auth[username] = {"Authorization": f"Bearer {response.json()['access_token']}"}
    return Clinic(web_app, auth)
