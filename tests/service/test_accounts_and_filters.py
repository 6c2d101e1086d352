"""Accounts (a password change ends every login) and list filters (an unknown value is 422,
another centre's data is 403: never an empty list or someone else's rows, silently)."""

from __future__ import annotations

import secrets

import pytest
from clinic import Headers
from desk import login_form
from fastapi.testclient import TestClient

OLD, NEW = "first-password-123", "second-password-456"


def new_coordinator(client: TestClient, auth: dict[str, Headers]) -> str:
    username = f"coord-{secrets.token_hex(4)}"
    body = {"username": username, "password": OLD, "role": "coordinator", "centre_id": "leeds"}
    assert client.post("/api/v1/users", json=body, headers=auth["admin"]).status_code == 201
    return username


def login(client: TestClient, username: str, password: str) -> Headers:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_a_password_change_ends_every_token_and_workspace_session_of_that_user(
    client: TestClient, auth: dict[str, Headers]
) -> None:
    username = new_coordinator(client, auth)
    api_token, other_token = login(client, username, OLD), login(client, username, OLD)
    page = TestClient(client.app)
    assert login_form(page, username=username, password=OLD).status_code == 303
    assert page.get("/board", follow_redirects=False).status_code == 200

    changed = client.post(
        "/api/v1/me/password", json={"current_password": OLD, "new_password": NEW}, headers=api_token
    )
    assert changed.status_code == 204, changed.text
    for ended in (api_token, other_token):
        assert client.get("/api/v1/me", headers=ended).status_code == 401
    assert page.get("/board", follow_redirects=False).status_code in (302, 303)
    assert client.post("/api/v1/auth/login", json={"username": username, "password": OLD}).status_code == 401
    assert client.get("/api/v1/me", headers=login(client, username, NEW)).json()["username"] == username
    # another user's logins are untouched
    assert client.get("/api/v1/me", headers=auth["coord-leeds"]).status_code == 200


def test_a_password_change_needs_the_current_password(client: TestClient, auth: dict[str, Headers]) -> None:
    username = new_coordinator(client, auth)
    token = login(client, username, OLD)
    wrong = client.post(
        "/api/v1/me/password", json={"current_password": "not-it-at-all", "new_password": NEW}, headers=token
    )
    assert wrong.status_code == 401
    assert "current password is wrong" in wrong.json()["detail"]
    assert client.get("/api/v1/me", headers=token).status_code == 200
    short = client.post(
        "/api/v1/me/password", json={"current_password": OLD, "new_password": "short"}, headers=token
    )
    assert short.status_code == 422


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/patients", {"stage": "refered"}),
        ("/patients", {"product_id": "no-such-therapy"}),
        ("/orders", {"status": "shipped-ish"}),
        ("/orders", {"product_id": "no-such-therapy"}),
        ("/doses", {"status": "nope"}),
        ("/shipments", {"status": "lost"}),
        ("/appointments", {"status": "nope"}),
        ("/staff", {"role": "wizard"}),
    ],
)
def test_an_unknown_filter_value_is_refused_not_answered_with_an_empty_list(
    client: TestClient, auth: dict[str, Headers], path: str, params: dict[str, str]
) -> None:
    response = client.get(f"/api/v1{path}", params=params, headers=auth["coord-leeds"])
    assert response.status_code == 422, response.text


def test_an_unknown_role_filter_is_refused(client: TestClient, auth: dict[str, Headers]) -> None:
    assert client.get("/api/v1/users", params={"role": "wizard"}, headers=auth["admin"]).status_code == 422
    assert client.get("/api/v1/users", params={"role": "admin"}, headers=auth["admin"]).status_code == 200


@pytest.mark.parametrize("path", ["/patients", "/orders", "/doses", "/shipments", "/appointments", "/plan"])
def test_a_filter_for_another_centre_is_forbidden_not_answered_with_ones_own(
    client: TestClient, auth: dict[str, Headers], path: str
) -> None:
    other = client.get(f"/api/v1{path}", params={"centre_id": "london"}, headers=auth["coord-leeds"])
    assert other.status_code == 403, other.text
    assert "own centre 'leeds'" in other.json()["detail"]
    own = client.get(f"/api/v1{path}", params={"centre_id": "leeds"}, headers=auth["coord-leeds"])
    assert own.status_code == 200
    assert (
        client.get(f"/api/v1{path}", params={"centre_id": "london"}, headers=auth["maker"]).status_code == 200
    )


def test_a_stage_and_a_brand_filter_the_patients(client: TestClient, auth: dict[str, Headers]) -> None:
    body = {
        "centre_id": "leeds",
        "product": "Pluvicto",
        "indication": "mCRPC",
        "identity": {
            "name": "Filter Test",
            "date_of_birth": "1950-01-01",
            "hospital_number": secrets.token_hex(6),
        },
    }
    made = client.post("/api/v1/patients", json=body, headers=auth["coord-leeds"])
    assert made.status_code == 201, made.text
    found = client.get(
        "/api/v1/patients",
        params={"stage": "referred", "product_id": "pluvicto", "limit": 500},
        headers=auth["coord-leeds"],
    ).json()["items"]
    assert made.json()["id"] in [p["id"] for p in found]
    assert {p["stage"] for p in found} == {"referred"}
