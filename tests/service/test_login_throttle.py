"""Failed logins are throttled per user and client, with a cap per user, atomically.

Each test uses users of its own: the shared test users must never be locked out.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from clinic import PASSWORD
from fastapi.testclient import TestClient

from rltnet.domain.errors import RltnetError
from rltnet.service.app import create_app
from rltnet.service.errors import TooManyAttempts, Unauthenticated
from rltnet.service.platform import Platform
from rltnet.service.schemas import LoginCreate, UserCreate
from rltnet.service.security import verify_password
from rltnet.service.usecases import auth
from rltnet.service.usecases.users import add_user

LOGIN = "/api/v1/auth/login"


def new_user(platform: Platform) -> str:
    username = f"user-{secrets.token_hex(4)}"
    with platform.sessions() as session:
        body = {"username": username, "password": PASSWORD, "role": "coordinator", "centre_id": "leeds"}
        add_user(session, platform, UserCreate.model_validate(body))
        session.commit()
    return username


def from_client(platform: Platform, address: str) -> TestClient:
    return TestClient(create_app(platform.settings, platform), client=(address, 50000))


def test_a_clients_wrong_guesses_do_not_lock_the_user_out_of_another_client(platform: Platform) -> None:
    username = new_user(platform)
    attacker, user = from_client(platform, "203.0.113.9"), from_client(platform, "198.51.100.20")
    for _ in range(platform.settings.login_attempts):
        guess = attacker.post(LOGIN, json={"username": username, "password": "wrong-guess"})
        assert guess.status_code == 401
    refused = attacker.post(LOGIN, json={"username": username, "password": PASSWORD})
    assert refused.status_code == 429  # even the right password, once over the limit
    assert "from this client" in refused.json()["message"]
    assert user.post(LOGIN, json={"username": username, "password": PASSWORD}).status_code == 200


def test_guesses_spread_over_many_clients_meet_the_cap_per_user(platform: Platform) -> None:
    capped = dataclasses.replace(
        platform, settings=platform.settings.model_copy(update={"login_user_cap": 3})
    )
    username = new_user(capped)
    for n in range(3):
        guess = from_client(capped, f"203.0.113.{n}").post(
            LOGIN, json={"username": username, "password": "x"}
        )
        assert guess.status_code == 401
    fourth = from_client(capped, "203.0.113.99").post(
        LOGIN, json={"username": username, "password": PASSWORD}
    )
    assert fourth.status_code == 429 and "from all clients" in fourth.json()["message"]


def _attempt(platform: Platform, username: str, password: str, client: str) -> str:
    with platform.sessions() as session:
        try:
            auth.login(session, platform, LoginCreate(username=username, password=password), client)
        except (Unauthenticated, TooManyAttempts) as refused:
            return type(refused).__name__
        except RltnetError as other:  # pragma: no cover - a failure says which
            return repr(other)
    return "logged in"


def test_sixty_concurrent_guesses_check_no_more_passwords_than_the_limit(platform: Platform) -> None:
    username = new_user(platform)
    with ThreadPoolExecutor(60) as pool:
        outcomes = Counter(
            pool.map(lambda n: _attempt(platform, username, f"guess-{n}", "192.0.2.7"), range(60))
        )
    limit = platform.settings.login_attempts
    assert outcomes == {"Unauthenticated": limit, "TooManyAttempts": 60 - limit}


def test_the_right_password_in_a_burst_after_the_limit_does_not_log_in(platform: Platform) -> None:
    username = new_user(platform)
    for n in range(platform.settings.login_attempts):
        assert _attempt(platform, username, f"guess-{n}", "192.0.2.8") == "Unauthenticated"
    passwords = [f"guess-{n}" for n in range(50)]
    passwords[15] = PASSWORD
    with ThreadPoolExecutor(50) as pool:
        outcomes = list(pool.map(lambda p: _attempt(platform, username, p, "192.0.2.8"), passwords))
    assert set(outcomes) == {"TooManyAttempts"}
    # from another client the user still logs in
    assert _attempt(platform, username, PASSWORD, "192.0.2.200") == "logged in"


def test_a_success_forgives_that_clients_failures_only(platform: Platform) -> None:
    platform = dataclasses.replace(
        platform, settings=platform.settings.model_copy(update={"login_attempts": 2})
    )
    username = new_user(platform)
    assert _attempt(platform, username, "guess", "192.0.2.30") == "Unauthenticated"
    assert _attempt(platform, username, "guess", "192.0.2.31") == "Unauthenticated"
    assert _attempt(platform, username, PASSWORD, "192.0.2.30") == "logged in"
    assert _attempt(platform, username, "guess-again", "192.0.2.31") == "Unauthenticated"
    assert _attempt(platform, username, "guess-again", "192.0.2.31") == "TooManyAttempts"
    for _ in range(2):  # forgiven: a full allowance again
        assert _attempt(platform, username, "again", "192.0.2.30") == "Unauthenticated"


def test_an_unknown_user_costs_a_password_check_as_a_known_one_does(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Usernames are not found by timing: an unknown (or inactive) user's password is checked
    against a dummy Argon2 hash of the same cost as a real one."""
    checked: list[str] = []

    def counted(password_hash: str, password: str) -> bool:
        checked.append(password_hash.split("$")[3])  # Argon2 parameters: m=..,t=..,p=..
        return verify_password(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", counted)
    known = new_user(platform)
    assert _attempt(platform, known, "wrong-guess", "192.0.2.40") == "Unauthenticated"
    assert (
        _attempt(platform, f"nobody-{secrets.token_hex(3)}", "wrong-guess", "192.0.2.40") == "Unauthenticated"
    )
    assert len(checked) == 2 and checked[0] == checked[1]
