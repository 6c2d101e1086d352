"""The workspace in a real browser: headless Chromium (Debian's package) driven by Playwright.

A uvicorn server runs the service with its pages on a free loopback port, in a
thread of the test process, on a fresh embedded SQLite file with the test users.
Screenshots of every page a test visits are saved under ``out/screenshots/``.
Chromium is found at ``RLTNET_CHROMIUM`` or /usr/bin/chromium; `make test` and
`.ci/run` install Debian's package where it is missing (tools/ensure_chromium.sh).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from clinic import Clinic, bearer_headers, start_with_users
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Playwright, sync_playwright
from screen import Screen

from rltnet.domain.clock import SettableClock
from rltnet.service.app import create_app
from rltnet.service.platform import Platform
from rltnet.service.settings import Settings


def _chromium() -> str:
    found = os.environ.get("RLTNET_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        pytest.fail(
            "Chromium is not installed: run tools/ensure_chromium.sh (Debian: apt-get install chromium) "
            "or set RLTNET_CHROMIUM to a Chromium binary"
        )
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def browser_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The module's service: a fresh database, on a clock that stands still until a test advances
    it (`api_clinic.advance_to`), with logins that last a week."""
    folder = tmp_path_factory.mktemp("browser")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'rltnet.sqlite'}", network="england", token_minutes=7 * 24 * 60
    )
    platform = start_with_users(settings, SettableClock(datetime.now(UTC)))
    yield platform
    platform.close()


@pytest.fixture(scope="module")
def base_url(browser_platform: Platform) -> Iterator[str]:
    """The running workspace's address: a server and a database per test module, so what one
    module declares (a reactor outage) does not reach another."""
    port = _free_port()
    app = create_app(browser_platform.settings, browser_platform)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the workspace server did not start within 30 s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    # per module, not per session: Playwright's sync API keeps an asyncio loop running in
    # this thread while it is open, and later tests call asyncio.run()
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=_chromium())
    yield launched
    launched.close()


@pytest.fixture
def screen(browser: Browser, base_url: str, request: pytest.FixtureRequest) -> Iterator[Screen]:
    """A fresh browser context (no cookies) for one test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(15_000)
    screen = Screen(context.new_page(), base_url, request.node.name.removeprefix("test_"))
    yield screen
    context.close()
    assert screen.refused == [], "the pages' own scripts or styles were refused by their CSP"


@pytest.fixture(scope="module")
def api_clinic(browser_platform: Platform) -> Clinic:
    """Walks patients along through the API of the same database, to set a scene quickly."""
    client = TestClient(create_app(browser_platform.settings, browser_platform))
    return Clinic(client, bearer_headers(client))
