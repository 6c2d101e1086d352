"""Helpers for the page tests: a logged-in browser-less desk per user, and reading pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
from clinic import PASSWORD
from fastapi.testclient import TestClient

from rltnet.service.app import create_app
from rltnet.service.platform import Platform

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


class Desk:
    """One user at their desk: a client holding their login cookie."""

    def __init__(self, client: TestClient, username: str) -> None:
        self.client = client
        self.username = username

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response: httpx.Response = self.client.get(path, follow_redirects=False, **kwargs)
        return response

    def page(self, path: str) -> str:
        """The page's HTML, which must be there (200)."""
        response: httpx.Response = self.client.get(path)
        assert response.status_code == 200, f"GET {path} as {self.username}: {response.status_code}"
        return str(response.text)

    def csrf(self) -> str:
        found = CSRF.search(self.page("/"))
        assert found, "no CSRF token on the start page"
        return found.group(1)

    def post(self, path: str, data: dict[str, Any], referer: str | None = None) -> httpx.Response:
        """Post a form as the page would (with the CSRF token), without following the redirect."""
        headers = {"referer": f"http://testserver{referer}"} if referer else {}
        response: httpx.Response = self.client.post(
            path, data={"csrf": self.csrf(), **data}, headers=headers, follow_redirects=False
        )
        return response


def text_of(html: str) -> str:
    """The page's words, tags removed and spaces collapsed, for asserting what a reader sees."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


NewDesk = Callable[[str], Desk]


def login_form(client: TestClient, **fields: str) -> httpx.Response:
    """Open the login page, then post its form with `fields` (and the page's CSRF token)."""
    found = CSRF.search(client.get("/login").text)
    assert found, "no CSRF token on the login page"
    response: httpx.Response = client.post(
        "/login", data={"csrf": found.group(1), **fields}, follow_redirects=False
    )
    return response


def log_in(platform: Platform, username: str) -> Desk:
    """A fresh client of the workspace, logged in through the login page as `username`."""
    client = TestClient(create_app(platform.settings, platform))
    response = login_form(client, username=username, password=PASSWORD)
    assert response.status_code == 303, response.text
    return Desk(client, username)
