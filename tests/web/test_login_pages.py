"""Logging in and out of the workspace; each role lands on its own page and sees only its own."""

from __future__ import annotations

from clinic import PASSWORD, Clinic
from desk import Desk, NewDesk, text_of
from fastapi.testclient import TestClient


def test_a_page_without_login_goes_to_the_login_page_and_back(web_app: TestClient) -> None:
    response = web_app.get("/board", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/board"
    logged_in = web_app.post(
        "/login",
        data={"username": "coord-leeds", "password": PASSWORD, "next": "/board"},
        follow_redirects=False,
    )
    assert logged_in.status_code == 303 and logged_in.headers["location"] == "/board"
    cookie = logged_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    web_app.cookies.clear()


def test_a_wrong_password_is_refused_on_the_page_and_the_user_stays_out(web_app: TestClient) -> None:
    response = web_app.post("/login", data={"username": "doc-leeds", "password": "not-it"})
    assert response.status_code == 401
    assert "wrong username or password" in response.text
    assert "rltnet_session" not in response.headers.get("set-cookie", "")


def test_login_never_sends_the_user_to_another_site(web_app: TestClient) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil"):
        response = web_app.post(
            "/login",
            data={"username": "maker", "password": PASSWORD, "next": target},
            follow_redirects=False,
        )
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
