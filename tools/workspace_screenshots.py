#!/usr/bin/env python3
"""Screenshots of the workspace on the demo data, for the README (docs/img/).

    .venv/bin/python tools/workspace_screenshots.py [--out docs/img]

Starts the service with `make run`'s demo data on a scratch SQLite file and a free
loopback port, logs in as the London coordinator in headless Chromium (Debian's
package, as the browser tests use), and saves the pathway board and the dose
journey of the board's first placed order.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from rltnet.service.app import create_app
from rltnet.service.platform import Platform
from rltnet.service.seed import seed
from rltnet.service.settings import Settings

USER = "coordinator-london"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite:///{folder}/demo.sqlite", network="england")
        platform = Platform.start(settings)
        password = seed(platform)[USER]
        server, url = _serve(platform)
        try:
            _shoot(url, password, args.out, args.chromium)
        finally:
            server.should_exit = True
            platform.close()


def _serve(platform: Platform) -> tuple[uvicorn.Server, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(platform.settings, platform)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def _shoot(url: str, password: str, out: Path, chromium: str) -> None:
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{url}/login")
        page.get_by_label("Username").fill(USER)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{url}/board")
        page.screenshot(path=str(out / "pathway-board.png"))
        page.locator(".column", has_text="Confirmed").locator(".card a").first.click()
        page.get_by_role("link", name="Journey of", exact=False).first.click()
        page.wait_for_url(f"{url}/orders/*")
        page.screenshot(path=str(out / "dose-journey.png"), full_page=True)
        browser.close()
    print(f"wrote {out / 'pathway-board.png'} and {out / 'dose-journey.png'}")


if __name__ == "__main__":
    main()
