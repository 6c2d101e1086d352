"""A Xofigo or Zevalin patient leaves 'referred' through the MDT on the label's checks, in the
API and on the patient page; a PET-proved therapy still needs its PET."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from clinic import PASSWORD, Clinic, Headers, hospital_number
from desk import login_form
from fastapi.testclient import TestClient

from rltnet.files.catalogue_file import default_catalogue

API = "/api/v1"


def refer(client: TestClient, auth: dict[str, Headers], product: str, **extra: Any) -> dict[str, Any]:
    body = {
        "centre_id": "london",
        "product": product,
        "indication": "mCRPC" if product == "Xofigo" else "follicular NHL",
        "identity": {
            "name": "Bone Patient",
            "date_of_birth": "1948-03-03",
            "hospital_number": hospital_number(),
        },
        **extra,
    }
    response = client.post(f"{API}/patients", json=body, headers=auth["coord-london"])
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


@pytest.mark.parametrize("product", ["Xofigo", "Zevalin"])
def test_a_therapy_without_pet_goes_to_the_mdt_and_is_approved_on_the_labels_checks(
    client: TestClient, auth: dict[str, Headers], product: str
) -> None:
    patient = refer(client, auth, product, weight_kg=72.5)
    assert patient["next_step"] == "physician: MDT decision on the label's eligibility checks"
    path = f"{API}/patients/{patient['id']}"
    pet = client.post(f"{path}/imaging-requests", json={"agent": "Locametz"}, headers=auth["coord-london"])
    assert pet.status_code == 409 and "needs no eligibility PET" in pet.json()["detail"]
    checks = [c.check_id for c in default_catalogue().therapy(product).eligibility.checks]
    partial = client.post(
        f"{path}/mdt-decisions",
        json={"decision": "approve", "eligibility": checks[:-1]},
        headers=auth["doc-london"],
    )
    assert partial.status_code == 409 and checks[-1] in partial.json()["detail"]
    approved = client.post(
        f"{path}/mdt-decisions",
        json={"decision": "approve", "eligibility": checks},
        headers=auth["doc-london"],
    )
    assert approved.status_code == 201, approved.text
    assert approved.json()["stage"] == "mdt_approved"
    events = client.get(f"{path}/events", headers=auth["doc-london"]).json()
    assert events[-1]["move"] == "approve" and events[-1]["data"]["eligibility"] == checks


def test_a_pet_proved_therapy_is_refused_an_mdt_before_its_pet(
    clinic: Clinic, auth: dict[str, Headers]
) -> None:
    patient = clinic.refer("london", "Pluvicto")
    refused = clinic.client.post(
        f"{API}/patients/{patient}/mdt-decisions", json={"decision": "approve"}, headers=auth["doc-london"]
    )
    assert refused.status_code == 409 and "request imaging before the MDT decides" in refused.json()["detail"]


def test_the_patient_page_offers_the_mdt_with_the_labels_checks(
    client: TestClient, auth: dict[str, Headers]
) -> None:
    patient = refer(client, auth, "Xofigo", weight_kg=80)["id"]
    page = TestClient(client.app)
    assert login_form(page, username="doc-london", password=PASSWORD).status_code == 303
    html = page.get(f"/patients/{patient}").text
    assert "no known visceral metastatic disease" in html and 'name="eligibility"' in html
    assert "imaging-request" not in html
    csrf = html.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    checks = [c.check_id for c in default_catalogue().therapy("Xofigo").eligibility.checks]
    form = {
        "csrf": csrf,
        "decision": "approve",
        "reason": f"fit {secrets.token_hex(2)}",
        "eligibility": checks,
    }
    done = page.post(
        f"/patients/{patient}/mdt-decision",
        data=form,
        headers={"referer": f"http://testserver/patients/{patient}"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    shown = client.get(f"{API}/patients/{patient}", headers=auth["coord-london"]).json()
    assert shown["stage"] == "mdt_approved"
