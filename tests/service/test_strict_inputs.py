"""Values are taken only in the form the API documents: no number read as a time, no "yes" read
as true, no birth in year 1 or 9999, no digit outside 0-9; each refusal is a 422 whose body is
the one the OpenAPI document declares (`detail` an array of {loc, msg, type}) with a message."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from clinic import Clinic, Headers
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from rltnet.service.platform import Platform
from rltnet.store import tables

API = "/api/v1"


def referral(**changes: Any) -> dict[str, Any]:
    # a hospital number of its own: a second referral of the same number at a centre is refused
    number = f"S-{secrets.token_hex(4)}"
    identity = {"name": "Strict Input", "date_of_birth": "1950-01-01", "hospital_number": number}
    identity |= changes.pop("identity", {})
    body = {"centre_id": "leeds", "product": "Pluvicto", "indication": "mCRPC", "identity": identity}
    return body | changes


def patients(platform: Platform) -> int:
    with platform.sessions() as session:
        return session.scalar(select(func.count()).select_from(tables.Patient)) or 0


def declared_422(response: httpx.Response, field: str, *words: str) -> None:
    """A 422 shaped as FastAPI's HTTPValidationError, naming `field`, with a message saying why."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert isinstance(body["detail"], list) and body["detail"]
    for item in body["detail"]:
        assert set(item) >= {"loc", "msg", "type"}
        assert all(isinstance(part, str | int) for part in item["loc"])
    assert any(field in [str(part) for part in item["loc"]] for item in body["detail"]), body
    for word in words:
        assert word in body["message"], body["message"]


@pytest.mark.parametrize("referred_at", [-1, 0, 1_700_000_000, 1.5, "1700000000", True])
def test_a_number_is_not_taken_as_a_time(
    referred_at: Any, client: TestClient, auth: dict[str, Headers], platform: Platform
) -> None:
    before = patients(platform)
    response = client.post(
        f"{API}/patients", headers=auth["coord-leeds"], json=referral(referred_at=referred_at)
    )
    declared_422(response, "referred_at", "ISO 8601")
    assert patients(platform) == before


def test_an_iso_time_with_its_offset_is_taken(client: TestClient, auth: dict[str, Headers]) -> None:
    at = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
    response = client.post(
        f"{API}/patients", headers=auth["coord-leeds"], json=referral(referred_at=at.isoformat())
    )
    assert response.status_code == 201, response.text
    assert datetime.fromisoformat(response.json()["referred_at"]) == at


@pytest.mark.parametrize("born", ["0001-01-01", "2100-01-01", "9999-12-31", 0, -1, "1950-1-1", "tomorrow"])
def test_an_impossible_date_of_birth_is_refused(
    born: Any, client: TestClient, auth: dict[str, Headers], platform: Platform
) -> None:
    before = patients(platform)
    body = referral(identity={"date_of_birth": born})
    declared_422(client.post(f"{API}/patients", headers=auth["coord-leeds"], json=body), "date_of_birth")
    assert patients(platform) == before


def test_a_date_of_birth_today_or_over_130_years_ago_is_refused_and_one_a_day_earlier_taken(
    client: TestClient, auth: dict[str, Headers]
) -> None:
    today = datetime.now(UTC).date()
    for born, said in ((today, "in the past"), (today.replace(year=today.year - 131), "130 years")):
        body = referral(identity={"date_of_birth": born.isoformat()})
        response = client.post(f"{API}/patients", headers=auth["coord-leeds"], json=body)
        declared_422(response, "date_of_birth", said)
    yesterday = referral(identity={"date_of_birth": (today - timedelta(days=1)).isoformat()})
    assert client.post(f"{API}/patients", headers=auth["coord-leeds"], json=yesterday).status_code == 201


@pytest.mark.parametrize("commit", ["true", "yes", 1, 0, "false", None])
def test_a_yes_or_no_is_taken_only_as_true_or_false(
    commit: Any, client: TestClient, auth: dict[str, Headers]
) -> None:
    response = client.post(f"{API}/plan/optimise", headers=auth["maker"], json={"commit": commit})
    declared_422(response, "commit")
    disruption = {"events": [{"kind": "batch_failed", "batch": "x", "reason": "r"}], "commit": commit}
    declared_422(client.post(f"{API}/disruptions", headers=auth["maker"], json=disruption), "commit")


@pytest.mark.parametrize("count", ["²", "１５００００", "1⁵", "150000.5", True, 1.5, "-1"])
def test_a_count_takes_only_the_digits_0_to_9(
    count: Any, client: TestClient, clinic: Clinic, auth: dict[str, Headers], platform: Platform
) -> None:
    patient = clinic.approve("leeds")
    headers = {**auth["coord-leeds"], "Idempotency-Key": f"strict-{patient}"}
    response = client.post(
        f"{API}/orders", headers=headers, json={"patient_id": patient, "platelets_per_mm3": count}
    )
    declared_422(response, "platelets_per_mm3")
    assert clinic.call("GET", f"/patients/{patient}", "coord-leeds")["stage"] == "mdt_approved"


@pytest.mark.parametrize("weight", [True, "７０", "70kg", "NaN"])
def test_a_weight_is_a_number_in_ascii_digits(
    weight: Any, client: TestClient, auth: dict[str, Headers]
) -> None:
    response = client.post(f"{API}/patients", headers=auth["coord-leeds"], json=referral(weight_kg=weight))
    declared_422(response, "weight_kg")


def test_every_kind_of_422_has_the_declared_shape(client: TestClient, auth: dict[str, Headers]) -> None:
    """Schema errors, errors the domain finds (an unknown product) and a body that is not JSON."""
    unknown = client.post(f"{API}/patients", headers=auth["coord-leeds"], json=referral(product="NotAThing"))
    declared_422(unknown, "body", "unknown therapy product")
    assert unknown.json()["error"] == "UnknownName"
    not_json = client.post(
        f"{API}/patients",
        headers={**auth["coord-leeds"], "Content-Type": "application/json"},
        content=b"{not json",
    )
    declared_422(not_json, "body", "not valid JSON")
    other = client.get(f"{API}/orders/O-00000FFFFF", headers=auth["coord-leeds"])
    assert other.status_code == 404 and other.json()["message"] == other.json()["message"]


def test_the_openapi_document_declares_every_error_body(client: TestClient) -> None:
    """What the fuzz test's response-conformance check holds the answers to (test_openapi_fuzz)."""
    document = client.get("/openapi.json").json()
    errors = [
        (f"{method.upper()} {path}", status, answer)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for status, answer in operation["responses"].items()
        if status.startswith(("4", "5"))
    ]
    assert errors
    for where, status, answer in errors:
        schema = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        assert schema == ("ValidationErrorPublic" if status == "422" else "ErrorPublic"), (where, status)
    declared = document["components"]["schemas"]["ValidationErrorPublic"]["properties"]["detail"]
    assert declared["type"] == "array"
