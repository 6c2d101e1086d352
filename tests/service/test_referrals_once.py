"""One patient is referred once: a referral sent twice under its key gives the patient the
first send made, and a hospital number already referred at a centre is refused with a link
to that patient, matched by a keyed hash (the number itself stays sealed)."""

from __future__ import annotations

import secrets
from typing import Any

from clinic import PASSWORD, Headers, hospital_number
from desk import login_form
from fastapi.testclient import TestClient
from sqlalchemy import select

from rltnet.service.platform import Platform
from rltnet.store import tables

API = "/api/v1"


def referral(number: str, centre: str = "leeds", **changes: Any) -> dict[str, Any]:
    return {
        "centre_id": centre,
        "product": "Pluvicto",
        "indication": "mCRPC",
        "identity": {"name": "Once Patient", "date_of_birth": "1950-01-01", "hospital_number": number},
        **changes,
    }


def patients_with(platform: Platform, **where: Any) -> list[tables.Patient]:
    with platform.sessions() as session:
        query = select(tables.Patient)
        for column, value in where.items():
            query = query.where(getattr(tables.Patient, column) == value)
        return list(session.scalars(query))


def test_a_referral_sent_twice_under_its_key_makes_one_patient(
    client: TestClient, auth: dict[str, Headers], platform: Platform
) -> None:
    key = f"ref-{secrets.token_hex(8)}"
    headers = {**auth["coord-leeds"], "Idempotency-Key": key}
    body = referral(hospital_number())
    first = client.post(f"{API}/patients", json=body, headers=headers)
    again = client.post(f"{API}/patients", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["id"] == first.json()["id"]
    assert len(patients_with(platform, referral_key=key)) == 1


def test_a_key_reused_for_another_referral_is_a_conflict(
    client: TestClient, auth: dict[str, Headers]
) -> None:
    headers = {**auth["coord-leeds"], "Idempotency-Key": f"ref-{secrets.token_hex(8)}"}
    assert (
        client.post(f"{API}/patients", json=referral(hospital_number()), headers=headers).status_code == 201
    )
    other = client.post(f"{API}/patients", json=referral(hospital_number()), headers=headers)
    assert other.status_code == 409
    assert "used for a different referral" in other.json()["detail"]


def test_the_same_hospital_number_at_the_same_centre_is_refused_naming_the_patient(
    client: TestClient, auth: dict[str, Headers], platform: Platform
) -> None:
    number = f"RX {secrets.randbelow(10**8):08d}"
    first = client.post(f"{API}/patients", json=referral(number), headers=auth["coord-leeds"])
    assert first.status_code == 201, first.text
    patient = first.json()["id"]
    written_otherwise = number.lower().replace(" ", "-")  # "rx-01234567": the same number
    again = client.post(f"{API}/patients", json=referral(written_otherwise), headers=auth["coord-leeds"])
    assert again.status_code == 409
    assert f"/patients/{patient}" in again.json()["detail"]
    assert (
        len(patients_with(platform, centre_id="leeds", hospital_number_key=_key_of(platform, patient))) == 1
    )
    # another centre keeps its own hospital numbers
    elsewhere = client.post(f"{API}/patients", json=referral(number, "london"), headers=auth["coord-london"])
    assert elsewhere.status_code == 201, elsewhere.text


def test_the_hospital_number_is_stored_only_sealed_and_as_a_keyed_hash(
    client: TestClient, auth: dict[str, Headers], platform: Platform
) -> None:
    number = hospital_number()
    made = client.post(f"{API}/patients", json=referral(number), headers=auth["coord-leeds"]).json()
    [row] = patients_with(platform, id=made["id"])
    stored = " ".join(str(getattr(row, c.key)) for c in tables.Patient.__table__.columns)
    assert number not in stored and number.replace("-", "") not in stored
    assert row.hospital_number_key is not None and len(row.hospital_number_key) == 64
    with platform.sessions() as session:
        sealed = session.get(tables.PatientIdentity, made["id"])
        assert sealed is not None and number.encode() not in sealed.sealed
    trail = client.get(
        f"{API}/audit", params={"entity_id": made["id"], "action": "refer"}, headers=auth["admin"]
    ).json()["items"]
    assert "hospital_number_key" not in trail[0]["after"]


def test_the_referral_form_sent_twice_makes_one_patient(client: TestClient, platform: Platform) -> None:
    page = TestClient(client.app)
    assert login_form(page, username="coord-leeds", password=PASSWORD).status_code == 303
    form = page.get("/patients/new").text
    key = form.split('name="idempotency_key" value="', 1)[1].split('"', 1)[0]
    csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    data = {
        "csrf": csrf,
        "idempotency_key": key,
        "product": "lu177-vipivotide-tetraxetan",
        "indication": "mCRPC",
        "name": "Twice Sent",
        "date_of_birth": "1950-02-02",
        "hospital_number": hospital_number(),
    }
    first = page.post("/patients/new", data=data, follow_redirects=False)
    again = page.post("/patients/new", data=data, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert len(patients_with(platform, referral_key=key)) == 1
    # the same number on a new form: refused on the form, with a link to the patient
    fresh = page.get("/patients/new").text
    data["idempotency_key"] = fresh.split('name="idempotency_key" value="', 1)[1].split('"', 1)[0]
    duplicate = page.post("/patients/new", data=data, follow_redirects=False)
    assert duplicate.status_code == 409
    assert f'href="{first.headers["location"]}"' in duplicate.text


def _key_of(platform: Platform, patient_id: str) -> str | None:
    [row] = patients_with(platform, id=patient_id)
    return row.hospital_number_key
