"""The service under test, on the embedded SQLite file and on a real PostgreSQL.

Every test in tests/service runs twice, once per database. PostgreSQL is reached
at ``RLTNET_TEST_POSTGRES`` (default: the local server, trust auth, as postgres);
each run creates its own database and drops it at the end. `.ci/run` starts the
server where it is not running; without it these tests fail and say so.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from clinic import Clinic, Headers, bearer_headers, start_with_users
from fastapi.testclient import TestClient

from rltnet.domain.clock import SettableClock
from rltnet.service.app import create_app
from rltnet.service.platform import Platform
from rltnet.service.settings import Settings

POSTGRES_ADMIN = os.environ.get("RLTNET_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _postgres_database() -> Iterator[str]:
    name = f"rltnet_test_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN, autocommit=True)
    except psycopg.OperationalError as err:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN} ({err}); start it (.ci/run does) or set "
            f"RLTNET_TEST_POSTGRES to an administrator URL"
        )
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        folder: Path = tmp_path_factory.mktemp("db")
        yield f"sqlite:///{folder / 'rltnet.sqlite'}"
    else:
        yield from _postgres_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database for one test alone (e.g. for a server process of its own)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'rltnet.sqlite'}"
    else:
        yield from _postgres_database()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, network="england", login_attempts=5)


@pytest.fixture(scope="session")
def platform(settings: Settings) -> Iterator[Platform]:
    started = start_with_users(settings)
    yield started
    started.close()


@pytest.fixture(scope="session")
def client(settings: Settings, platform: Platform) -> TestClient:
    return TestClient(create_app(settings, platform))


@pytest.fixture(scope="session")
def auth(client: TestClient) -> dict[str, Headers]:
    """Bearer headers for every user of `USERS`."""
    return bearer_headers(client)


@pytest.fixture(scope="session")
def clinic(client: TestClient, auth: dict[str, Headers]) -> Clinic:
    return Clinic(client, auth)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def clocked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    """A clinic on a service of the test module's own: a fresh database, and a clock that stands
    at the moment it starts until a test advances it (`Clinic.advance`). Time passes for these
    tests alone, and no event is written dated ahead of the service's clock."""
    made = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('clocked') / 'rltnet.sqlite'}"
    else:
        made = _postgres_database()
        url = next(made)
    # tokens that last a week: the tests let weeks pass, and log in again only when they expire
    settings = Settings(database_url=url, network="england", token_minutes=7 * 24 * 60)
    own = start_with_users(settings, SettableClock(datetime.now(UTC)))
    client = TestClient(create_app(own.settings, own))
    yield Clinic(client, bearer_headers(client))
    own.close()
    if made is not None:
        next(made, None)  # drops the database


MakeClient = Callable[[], TestClient]
