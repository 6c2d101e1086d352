"""Bad input gets a 4xx whose message says what to change, and a refused request stores nothing."""

from __future__ import annotations

from collections.abc import Iterator
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
    body = {
        "centre_id": "leeds",
        "product": "Pluvicto",
        "indication": "mCRPC",
        "identity": {"name": "Bad Input", "date_of_birth": "1950-01-01", "hospital_number": "B-1"},
    }
    return {**body, **changes}


def refused(response: httpx.Response, status: int, *words: str) -> str:
    """The message of a refusal with `status`, checked to hold each of `words`."""
    assert response.status_code == status, response.text
    detail: str = response.json()["message"]
    for word in words:
        assert word in detail, f"{word!r} not in {detail!r}"
    return detail


def count(platform: Platform, table: type[tables.Base]) -> int:
    with platform.sessions() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


@pytest.fixture
def unchanged(platform: Platform) -> Iterator[None]:
    """The test's requests are all refused: no patient, order or event is stored."""
    tables_ = (tables.Patient, tables.Order, tables.PathwayEventRow)
    before = [count(platform, table) for table in tables_]
    yield
    assert [count(platform, table) for table in tables_] == before


@pytest.mark.usefixtures("unchanged")
def test_an_unknown_product_is_refused_naming_the_known_ones(
    client: TestClient, auth: dict[str, Headers]
) -> None:
    response = client.post(f"{API}/patients", headers=auth["coord-leeds"], json=referral(product="NotAThing"))
    refused(response, 422, "unknown therapy product 'NotAThing'", "use one of", "lu177-vipivotide-tetraxetan")


def test_an_order_outside_the_labels_window_is_refused_with_the_window(
    client: TestClient, clinic: Clinic, auth: dict[str, Headers], platform: Platform
) -> None:
    patient = clinic.approve("leeds", "Pluvicto")
    orders, events = count(platform, tables.Order), count(platform, tables.PathwayEventRow)
    late = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    headers = {**auth["coord-leeds"], "Idempotency-Key": f"late-{patient}"}
    response = client.post(
        f"{API}/orders", headers=headers, json={"patient_id": patient, "preferred_at": late}
    )
    refused(response, 422, "preferred_at", "outside the window", "choose a time inside it")
    assert (count(platform, tables.Order), count(platform, tables.PathwayEventRow)) == (orders, events)
    assert clinic.call("GET", f"/patients/{patient}", "coord-leeds")["stage"] == "mdt_approved"


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/patients/P-12AB;DROP", ["patient_id", "pattern"]),
        ("/patients/p-lowercase/events", ["patient_id", "pattern"]),
        ("/patients/P-" + "A" * 40, ["patient_id", "at most 32 characters"]),
        ("/orders/O-12%20AB", ["order_id", "pattern"]),
        ("/orders/O-" + "F" * 31, ["order_id", "at most 32 characters"]),
        ("/centres/le%3Beds", ["centre_id", "pattern"]),
    ],
)
def test_a_malformed_id_in_a_path_is_refused_naming_the_id(
    client: TestClient, auth: dict[str, Headers], path: str, words: list[str]
) -> None:
    refused(client.get(f"{API}{path}", headers=auth["coord-leeds"]), 422, *words, "Fix those fields")


def test_a_well_formed_id_that_does_not_exist_is_not_found(
    client: TestClient, auth: dict[str, Headers]
) -> None:
    response = client.get(f"{API}/orders/O-0000000000", headers=auth["maker"])
    refused(response, 404, "order 'O-0000000000' not found", "check the id")
    refused(client.get(f"{API}/no-such-thing", headers=auth["maker"]), 404, "no such path", "/docs")


@pytest.mark.usefixtures("unchanged")
def test_a_body_over_the_limit_is_refused_by_its_length(client: TestClient, auth: dict[str, Headers]) -> None:
    padded = referral(reason="x" * 70_000)
    response = client.post(f"{API}/patients", headers=auth["coord-leeds"], json=padded)
    refused(response, 413, "larger than the limit of 65536 bytes", "send a smaller one")


@pytest.mark.usefixtures("unchanged")
def test_a_chunked_body_over_the_limit_is_refused_as_it_streams(
    client: TestClient, auth: dict[str, Headers]
) -> None:
    def chunks() -> Iterator[bytes]:  # a generator: sent chunked, with no Content-Length
        yield b'{"centre_id": "leeds", "reason": "'
        for _ in range(80):
            yield b"x" * 1024
        yield b'"}'

    headers = {**auth["coord-leeds"], "Content-Type": "application/json"}
    response = client.post(f"{API}/patients", headers=headers, content=chunks())
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    refused(response, 413, "larger than the limit of 65536 bytes")


def test_a_small_chunked_body_is_read_as_usual(client: TestClient, auth: dict[str, Headers]) -> None:
    headers = {**auth["coord-leeds"], "Content-Type": "application/json"}
    response = client.post(f"{API}/patients", headers=headers, content=iter([b'{"centre_id": ', b'"leeds"}']))
    refused(response, 422, "product: Field required")


@pytest.mark.usefixtures("unchanged")
def test_a_time_without_a_time_zone_is_refused_naming_the_field(
    client: TestClient, auth: dict[str, Headers]
) -> None:
    body = referral(referred_at="2026-03-02T09:00:00")
    response = client.post(f"{API}/patients", headers=auth["coord-leeds"], json=body)
    refused(response, 422, "referred_at: has no time zone", "2026-03-02T09:00:00+00:00")


@pytest.mark.usefixtures("unchanged")
def test_a_time_the_service_cannot_compute_with_is_refused(
    client: TestClient, auth: dict[str, Headers]
) -> None:
    # near datetime's limits, converting to UTC overflowed: a server error
    for moment in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        body = referral(referred_at=moment)
        response = client.post(f"{API}/patients", headers=auth["coord-leeds"], json=body)
        refused(response, 422, "referred_at: should be in the years 1900 to 2999")
        response = client.get(f"{API}/doses", headers=auth["maker"], params={"from": moment})
        refused(response, 422, "from: should be in the years 1900 to 2999")


@pytest.mark.usefixtures("unchanged")
def test_an_unknown_field_is_refused_naming_it(client: TestClient, auth: dict[str, Headers]) -> None:
    body = referral(colour="blue", identity={**referral()["identity"], "nickname": "Bob"})
    response = client.post(f"{API}/patients", headers=auth["coord-leeds"], json=body)
    refused(response, 422, "colour: not a field of this request", "identity.nickname", "remove it")


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"weight_kg": "heavy"}, ["weight_kg", "should be a number"]),
        ({"weight_kg": -3}, ["weight_kg", "greater than 0"]),
        ({"identity": ["Bad Input"]}, ["identity: should be a JSON object"]),
        ({"identity": {**referral()["identity"], "date_of_birth": "01/01/1950"}}, ["date_of_birth", "date"]),
        ({"centre_id": 7}, ["centre_id", "valid string"]),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_naming_the_field(
    client: TestClient, auth: dict[str, Headers], changes: dict[str, Any], words: list[str]
) -> None:
    response = client.post(f"{API}/patients", headers=auth["coord-leeds"], json=referral(**changes))
    refused(response, 422, *words)


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "content", [b'{"centre_id": "leeds",', b"\xff\xfe\x00not json", b"centre_id=leeds"], ids=str
)
def test_a_body_that_is_not_json_is_refused(
    client: TestClient, auth: dict[str, Headers], content: bytes
) -> None:
    headers = {**auth["coord-leeds"], "Content-Type": "application/json"}
    response = client.post(f"{API}/patients", headers=headers, content=content)
    refused(response, 422, "JSON", "send a")


@pytest.mark.usefixtures("unchanged")
def test_a_nul_character_is_refused_in_a_body_or_a_query(
    client: TestClient, auth: dict[str, Headers]
) -> None:
    # PostgreSQL cannot hold one in text: it was a server error there
    body = referral(identity={**referral()["identity"], "name": "Bad\x00Input"})
    response = client.post(f"{API}/patients", headers=auth["coord-leeds"], json=body)
    refused(response, 422, "body: identity.name holds a NUL character", "remove it")
    response = client.get(f"{API}/patients", headers=auth["coord-leeds"], params={"product_id": "\x00"})
    refused(response, 422, "query parameter 'product_id' holds a NUL character", "remove it")
    login = client.post(f"{API}/auth/login", json={"username": "nobody\x00", "password": "x"})
    refused(login, 422, "body: username holds a NUL character")


def test_paging_beyond_what_a_database_can_count_is_refused(
    client: TestClient, auth: dict[str, Headers]
) -> None:
    for path in ("/patients", "/orders", "/audit", "/disruptions", "/doses", "/centres"):
        response = client.get(f"{API}{path}", headers=auth["admin"], params={"offset": 2**63})
        refused(response, 422, "offset", "less than or equal to 1000000000")
        response = client.get(f"{API}{path}", headers=auth["admin"], params={"limit": "all"})
        refused(response, 422, "limit", "valid integer")


def test_a_disruption_the_plan_cannot_be_made_around_is_refused(
    client: TestClient, auth: dict[str, Headers], platform: Platform
) -> None:
    declared = count(platform, tables.Disruption)
    period = {"start": "2030-01-01T00:00Z", "end": "2030-01-02T00:00Z"}
    cases = [
        (
            {"kind": "reactor_outage", "reactor": "chernobyl", **period},
            "unknown reactor 'chernobyl'; use one of",
        ),
        (
            {"kind": "lane_cancelled", "lane": "ivrea-atlantis", **period},
            "unknown lane 'ivrea-atlantis'; use",
        ),
        (
            {"kind": "centre_closed", "centre": "atlantis", "date": "2030-01-01"},
            "unknown centre 'atlantis'; use",
        ),
    ]
    lane = next(iter(platform.network.lanes))
    cases += [
        ({"kind": "lane_delayed", "lane": lane, **period, "delay": "999999999 d"}, "delay is over 30 d"),
        ({"kind": "lane_cancelled", "lane": lane, **period, "end": "9999-12-31T23:59-14:00"}, "1900 to 2999"),
    ]
    for event, words in cases:
        body = {"events": [event], "commit": True}
        refused(client.post(f"{API}/disruptions", headers=auth["maker"], json=body), 422, words)
    assert count(platform, tables.Disruption) == declared
