"""Logging in and out of the workspace; each role lands on its own page and sees only its own."""

from __future__ import annotations

import re

import pytest
from clinic import PASSWORD, Clinic
from desk import CSRF, Desk, NewDesk, login_form, text_of
from fastapi.testclient import TestClient

from rltnet.service.app import create_app
from rltnet.service.platform import Platform

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>")


def test_a_page_without_login_goes_to_the_login_page_and_back(web_app: TestClient) -> None:
    response = web_app.get("/board", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/board"
    logged_in = login_form(web_app, username="coord-leeds", password=PASSWORD, next="/board")
    assert logged_in.status_code == 303 and logged_in.headers["location"] == "/board"
    cookie = logged_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    web_app.cookies.clear()


def test_a_wrong_password_is_refused_on_the_page_and_the_user_stays_out(web_app: TestClient) -> None:
    response = login_form(web_app, username="doc-leeds", password="not-it")
    assert response.status_code == 401
    assert "wrong username or password" in response.text
    assert "rltnet_session" not in response.headers.get("set-cookie", "")


def test_login_never_sends_the_user_to_another_site(web_app: TestClient) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil"):
        response = login_form(web_app, username="maker", password=PASSWORD, next=target)
        assert response.headers["location"] == "/queue", target
    web_app.cookies.clear()


def test_each_role_starts_on_its_own_page(desks: dict[str, Desk]) -> None:
    starts = {"coord-leeds": "/board", "doc-leeds": "/board", "maker": "/queue", "admin": "/disruptions"}
    starts["analyst"] = "/aggregates"
    for username, start in starts.items():
        assert desks[username].get("/").headers["location"] == start, username


def test_a_coordinator_may_not_open_the_manufacturers_pages(desks: dict[str, Desk]) -> None:
    response = desks["coord-leeds"].get("/queue")
    assert response.status_code == 403
    assert "this page is for: manufacturer" in response.text


def test_the_board_shows_the_centres_own_patients_only(desks: dict[str, Desk], web_clinic: Clinic) -> None:
    ours = web_clinic.refer("leeds")
    theirs = web_clinic.refer("london")
    board = text_of(desks["coord-leeds"].page("/board"))
    assert ours in board and theirs not in board
    assert "next: coordinator: request eligibility imaging" in board


def test_a_form_without_its_csrf_token_is_refused(desks: dict[str, Desk]) -> None:
    desk = desks["coord-london"]
    response = desk.client.post("/logout", data={"csrf": "0" * 32}, follow_redirects=False)
    assert response.status_code == 303  # back to where it came from, with the reason
    assert "this form has expired" in desk.page("/board")  # still logged in, told why


def test_logging_out_ends_the_login(new_desk: NewDesk) -> None:
    desk = new_desk("doc-london")
    response = desk.post("/logout", {})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    desk.client.cookies.clear()
    assert desk.get("/board").status_code == 303


def test_a_login_posted_from_another_site_is_refused(web_app: TestClient) -> None:
    """Login CSRF: another site's page posting the login form would log the browser in as the
    attacker (whose account then collects what the victim types)."""
    web_app.cookies.clear()
    forged = web_app.post(
        "/login",
        data={"username": "coord-leeds", "password": PASSWORD, "csrf": "0" * 32},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    assert "came from another site" in forged.text
    assert "rltnet_session" not in forged.headers.get("set-cookie", "")
    # the page it answers with carries a fresh token, so a person can log in from it
    found = CSRF.search(forged.text)
    assert found is not None
    again = web_app.post(
        "/login",
        data={"username": "coord-leeds", "password": PASSWORD, "csrf": found.group(1)},
        follow_redirects=False,
    )
    assert again.status_code == 303 and "rltnet_session" in again.headers["set-cookie"]
    web_app.cookies.clear()


def test_a_login_token_does_not_serve_another_browser(web_app: TestClient, web_platform: Platform) -> None:
    """The token in one browser's form is bound to that browser's cookie: copied into another
    browser (an attacker's page cannot read it anyway) it is refused."""
    first = CSRF.search(web_app.get("/login").text)
    assert first is not None
    web_app.cookies.clear()
    other = TestClient(create_app(web_platform.settings, web_platform))
    other.get("/login")
    response = other.post(
        "/login",
        data={"username": "maker", "password": PASSWORD, "csrf": first.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_a_nul_character_in_the_username_is_a_wrong_login_not_an_error(web_app: TestClient) -> None:
    response = login_form(web_app, username="maker\x00", password=PASSWORD)
    assert response.status_code == 401 and "wrong username or password" in response.text


@pytest.mark.parametrize(
    "path", ["/login", "/board", "/static/rltnet.css", "/no-such-page", "/api/v1/centres"]
)
def test_every_answer_carries_the_security_headers(desks: dict[str, Desk], path: str) -> None:
    response = desks["coord-leeds"].get(path)
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    script = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "unsafe-inline" not in script and "http" not in script  # this site's own files only
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"


def test_no_page_has_an_inline_script_or_style_the_policy_would_block(
    desks: dict[str, Desk], web_clinic: Clinic
) -> None:
    patient = web_clinic.approve("leeds")
    for path in ("/login", "/board", "/patients/new", f"/patients/{patient}", f"/patients/{patient}/order"):
        html = desks["coord-leeds"].page(path) if path != "/login" else desks["coord-leeds"].get(path).text
        assert not INLINE_SCRIPT.search(html), path
        assert " style=" not in html and "<style" not in html, path
        assert not re.search(r"\son[a-z]+=", html), path  # no onclick= and the like
