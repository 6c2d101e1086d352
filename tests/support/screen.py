"""A user's browser window on the workspace, for the browser tests (tests/browser)."""

from __future__ import annotations

from pathlib import Path

from clinic import PASSWORD
from playwright.sync_api import ConsoleMessage, Page

SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"


class Screen:
    """One user's browser window on the workspace, saving a screenshot of each page it shows."""

    def __init__(self, page: Page, base_url: str, name: str) -> None:
        self.page = page
        self.base_url = base_url
        self.name = name
        self.shots = 0
        # what the browser refused under the security headers (CSP), said on its console
        self.refused: list[str] = []
        page.on("console", self._note_refusal)

    def _note_refusal(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.refused.append(message.text)

    def login(self, username: str) -> None:
        self.page.goto(f"{self.base_url}/login")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_load_state()

    def open(self, path: str) -> None:
        self.page.goto(f"{self.base_url}{path}")

    def shot(self, what: str) -> Path:
        """Save the whole page as out/screenshots/<test>-<n>-<what>.png (a test artefact)."""
        self.shots += 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.name}-{self.shots:02d}-{what}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path
