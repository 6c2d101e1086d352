"""Identities are sealed with a key of the installation, never with one in the source code,
and `rltnet keys rotate` re-seals them all under a new key, all or nothing."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from clinic import Clinic, bearer_headers, start_with_users
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select
from typer.testing import CliRunner

from rltnet.cli import app as cli
from rltnet.cli import settings_problems
from rltnet.service.app import create_app
from rltnet.service.keys import KEY_FILE, sealing_keys, start_message
from rltnet.service.notes import SEALED
from rltnet.service.platform import Platform
from rltnet.service.security import Sealer
from rltnet.service.settings import DEVELOPMENT_SECRET, Settings
from rltnet.store import tables


def sealed_values(platform: Platform) -> list[bytes]:
    """Every sealed value stored: identities, pathway-event notes and follow-up data."""
    with platform.sessions() as session:
        found = list(session.scalars(select(tables.PatientIdentity.sealed)))
        reasons = session.scalars(select(tables.PathwayEventRow.reason))
        data = [row.get("sealed", "") for row in session.scalars(select(tables.FollowUp.data)) if row]
    texts = [text for text in [*reasons, *data] if text.startswith(SEALED)]
    return found + [text.removeprefix(SEALED).encode("ascii") for text in texts]


def opens(key: str, sealed: bytes) -> bool:
    try:
        Sealer([key]).open(sealed)
    except ValueError:
        return False
    return True


@pytest.fixture
def installation(fresh_database_url: str, tmp_path: Path) -> Iterator[tuple[Settings, Platform, Clinic]]:
    """A new development installation (no RLTNET_SECRET_KEY) with its own data folder."""
    settings = Settings(database_url=fresh_database_url, network="england", data_dir=str(tmp_path / "var"))
    platform = start_with_users(settings)
    client = TestClient(create_app(settings, platform))
    yield settings, platform, Clinic(client, bearer_headers(client))
    platform.close()


def identity(clinic: Clinic, patient: str) -> dict[str, str]:
    found: dict[str, str] = clinic.call("GET", f"/patients/{patient}/identity", "coord-leeds")
    return found


def test_a_development_installation_seals_with_a_random_key_of_its_own(
    installation: tuple[Settings, Platform, Clinic], tmp_path: Path
) -> None:
    settings, platform, clinic = installation
    key_file = Path(settings.data_dir) / KEY_FILE
    assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= 48 and key != DEVELOPMENT_SECRET
    assert platform.keys.created and str(key_file) in start_message(platform.keys)
    clinic.refer("leeds")
    sealed = sealed_values(platform)[-1]
    assert opens(key, sealed) and not opens(DEVELOPMENT_SECRET, sealed)  # the source's key opens nothing
    # another installation makes another key
    other = Settings(database_url=settings.database_url, data_dir=str(tmp_path / "other"))
    assert sealing_keys(other).newest != key


@pytest.mark.parametrize("key", [None, DEVELOPMENT_SECRET, "please-change-me-please-change-me-0123"])
def test_production_refuses_a_missing_or_placeholder_key_saying_what_to_do(key: str | None) -> None:
    with pytest.raises(ValueError, match=r"RLTNET_SECRET_KEY .*in production set it to a long random value"):
        Settings(mode="production", secret_key=key)
    environment = {"RLTNET_MODE": "production"} | ({"RLTNET_SECRET_KEY": key} if key else {})
    started = CliRunner().invoke(cli, ["keys", "rotate"], env=environment)
    assert isinstance(started.exception, ValidationError)  # `rltnet` says it in one line (settings_problems)
    said = settings_problems(started.exception)
    assert "RLTNET_SECRET_KEY" in said and "long random value" in said and "\n" not in said


def test_rotation_reseals_every_identity_under_a_new_key(
    installation: tuple[Settings, Platform, Clinic],
) -> None:
    settings, platform, clinic = installation
    patients = [clinic.refer("leeds") for _ in range(3)]
    clinic.call(
        "POST",
        f"/patients/{patients[0]}/imaging-requests",
        "coord-leeds",
        json={"agent": "Locametz", "reason": "PSA rising, see letter"},
    )
    clinic.call(
        "POST",
        f"/patients/{patients[0]}/follow-ups",
        "coord-leeds",
        json={"kind": "labs", "data": {"psa": 4}},
    )
    assert len(sealed_values(platform)) == 5  # three identities, a note, a follow-up's data
    shown = {p: identity(clinic, p) for p in patients}
    key_file = Path(settings.data_dir) / KEY_FILE
    old = key_file.read_text().strip()

    env = {"RLTNET_DATABASE_URL": settings.database_url, "RLTNET_DATA_DIR": settings.data_dir}
    result = CliRunner().invoke(cli, ["keys", "rotate"], env=env)
    assert result.exit_code == 0, result.output
    assert "re-sealed 5 values" in result.output

    new = key_file.read_text().strip()
    assert "\n" not in new and new != old
    for sealed in sealed_values(platform):
        assert opens(new, sealed) and not opens(old, sealed)
    restarted = Platform.start(settings)  # the service reads its keys when it starts
    try:
        client = TestClient(create_app(settings, restarted))
        again = Clinic(client, bearer_headers(client))
        assert {p: identity(again, p) for p in patients} == shown
        # hospital numbers are still matched (their keyed hashes were worked out again)
        number = shown[patients[0]]["hospital_number"]
        twice = {
            "centre_id": "leeds",
            "product": "Pluvicto",
            "indication": "mCRPC",
            "identity": {"name": "Same Number", "date_of_birth": "1950-01-01", "hospital_number": number},
        }
        refused = client.post("/api/v1/patients", headers=again.auth["coord-leeds"], json=twice)
        assert refused.status_code == 409 and patients[0] in refused.text
    finally:
        restarted.close()


def test_production_rotation_moves_values_from_the_previous_key_and_stops_if_one_opens_with_none(
    installation: tuple[Settings, Platform, Clinic],
) -> None:
    settings, platform, clinic = installation
    clinic.refer("leeds")
    old = platform.keys.newest
    new = "n" * 20 + "production-key-0123456789abcdef"
    env = {
        "RLTNET_DATABASE_URL": settings.database_url,
        "RLTNET_MODE": "production",
        "RLTNET_SECRET_KEY": new,
    }
    runner = CliRunner()
    refused = runner.invoke(cli, ["keys", "rotate"], env=env)  # no previous key named: it says what to set
    assert refused.exit_code != 0 and "RLTNET_PREVIOUS_SECRET_KEYS" in str(refused.exception)
    before = sealed_values(platform)

    wrong = runner.invoke(cli, ["keys", "rotate"], env={**env, "RLTNET_PREVIOUS_SECRET_KEYS": "w" * 40})
    assert wrong.exit_code != 0 and "nothing was changed" in str(wrong.exception)
    assert sealed_values(platform) == before

    done = runner.invoke(cli, ["keys", "rotate"], env={**env, "RLTNET_PREVIOUS_SECRET_KEYS": old})
    assert done.exit_code == 0, done.output
    assert all(opens(new, s) and not opens(old, s) for s in sealed_values(platform))


def test_identities_sealed_with_the_old_built_in_key_are_resealed_at_the_first_start(
    fresh_database_url: str, tmp_path: Path
) -> None:
    """An installation from before keys were made per installation sealed with the key in the
    source code (it ran with no RLTNET_SECRET_KEY); its first start now moves them to its own."""
    before = Settings(database_url=fresh_database_url, network="england", secret_key=DEVELOPMENT_SECRET)
    platform = start_with_users(before)
    client = TestClient(create_app(before, platform))
    patient = Clinic(client, bearer_headers(client)).refer("leeds")
    platform.close()

    now = Settings(database_url=fresh_database_url, network="england", data_dir=str(tmp_path / "var"))
    upgraded = Platform.start(now)
    try:
        sealed = sealed_values(upgraded)
        assert sealed and all(opens(upgraded.keys.newest, s) for s in sealed)
        assert not any(opens(DEVELOPMENT_SECRET, s) for s in sealed)
        client = TestClient(create_app(now, upgraded))
        assert identity(Clinic(client, bearer_headers(client)), patient)["name"] == "Test Patient"
    finally:
        upgraded.close()
