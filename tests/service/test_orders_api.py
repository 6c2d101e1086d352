"""Dose orders through the API: taken once per idempotency key, placed at once, confirmed."""

from __future__ import annotations

import secrets
from datetime import timedelta

from clinic import Clinic, Headers
from fastapi.testclient import TestClient


def test_an_approved_patients_order_is_placed_at_once(clinic: Clinic) -> None:
    patient = clinic.approve("leeds", "Pluvicto")
    order = clinic.order(patient)
    placement = order["placement"]
    assert order["status"] == "requested"
    assert placement is not None
    assert order["earliest_at"] <= placement["administration_at"] <= order["latest_at"]
    assert placement["arrives_at"] < placement["appointment_at"]
    timeline = clinic.call("GET", f"/patients/{patient}/events", "coord-leeds")
    assert [e["move"] for e in timeline][-2:] == ["plan_cycle", "order"]


def test_the_same_idempotency_key_gives_the_same_order_once(
    client: TestClient, clinic: Clinic, auth: dict[str, Headers]
) -> None:
    patient = clinic.approve("leeds", "Pluvicto")
    headers = {**auth["coord-leeds"], "Idempotency-Key": f"same-{patient}"}
    first = client.post("/api/v1/orders", headers=headers, json={"patient_id": patient})
    again = client.post("/api/v1/orders", headers=headers, json={"patient_id": patient})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other = client.post(
        "/api/v1/orders", headers=headers, json={"patient_id": patient, "reduction": "renal toxicity"}
    )
    assert other.status_code == 409
    assert "different order" in other.json()["message"]


def test_an_idempotency_key_belongs_to_its_centre_and_is_neither_revealed_nor_blocked(
    client: TestClient, clinic: Clinic, auth: dict[str, Headers]
) -> None:
    """Before, London resending Leeds' key got a 404 naming Leeds' order, and the key was taken."""
    key = f"shared-{secrets.token_hex(6)}"
    ours, theirs = clinic.approve("leeds"), clinic.approve("london")
    leeds = client.post(
        "/api/v1/orders", headers={**auth["coord-leeds"], "Idempotency-Key": key}, json={"patient_id": ours}
    )
    assert leeds.status_code == 201
    london_headers = {**auth["coord-london"], "Idempotency-Key": key}
    # Leeds' exact request resent from London: Leeds' patient is not London's to see
    probe = client.post("/api/v1/orders", headers=london_headers, json={"patient_id": ours})
    assert probe.status_code == 404 and leeds.json()["id"] not in probe.text
    # the same key is London's own, for London's patient
    london = client.post("/api/v1/orders", headers=london_headers, json={"patient_id": theirs})
    assert london.status_code == 201, london.text
    assert london.json()["id"] != leeds.json()["id"] and london.json()["centre_id"] == "london"
    # and each centre's resend replays its own order
    again = client.post("/api/v1/orders", headers=london_headers, json={"patient_id": theirs})
    assert (again.status_code, again.json()["id"]) == (200, london.json()["id"])
    replay = client.post(
        "/api/v1/orders", headers={**auth["coord-leeds"], "Idempotency-Key": key}, json={"patient_id": ours}
    )
    assert (replay.status_code, replay.json()["id"]) == (200, leeds.json()["id"])


def test_a_manufacturer_confirms_and_the_waiting_time_stops(clinic: Clinic) -> None:
    patient = clinic.approve("leeds", "Pluvicto")
    order = clinic.order(patient)
    assert order["waiting_hours"] is not None and order["overdue"] is False
    confirmed = clinic.call("POST", f"/orders/{order['id']}/confirmation", "maker")
    assert confirmed["status"] == "confirmed"
    assert confirmed["waiting_hours"] is None


def test_identity_is_shown_to_the_patients_own_centre_only(
    client: TestClient, clinic: Clinic, auth: dict[str, Headers]
) -> None:
    patient = clinic.refer("leeds")
    own = client.get(f"/api/v1/patients/{patient}/identity", headers=auth["coord-leeds"])
    assert own.status_code == 200 and own.json()["name"] == "Test Patient"
    assert client.get(f"/api/v1/patients/{patient}/identity", headers=auth["maker"]).status_code == 403
    assert client.get(f"/api/v1/patients/{patient}/identity", headers=auth["coord-london"]).status_code == 404


def test_an_order_waiting_past_24_hours_is_flagged_to_both_sides(clocked: Clinic) -> None:
    clinic = clocked
    order = clinic.order(clinic.approve("leeds", "Pluvicto"))
    assert clinic.call("GET", f"/orders/{order['id']}", "maker")["overdue"] is False
    clinic.advance(timedelta(hours=25))
    for user in ("coord-leeds", "maker"):
        seen = clinic.call("GET", f"/orders/{order['id']}", user)
        assert seen["overdue"] is True and seen["waiting_hours"] >= 25
        flagged = clinic.call("GET", "/orders?overdue=true&limit=500", user)["items"]
        assert order["id"] in {o["id"] for o in flagged}
        on_time = clinic.call("GET", "/orders?overdue=false&limit=500", user)["items"]
        assert order["id"] not in {o["id"] for o in on_time}
    clinic.call("POST", f"/orders/{order['id']}/confirmation", "maker")
    assert clinic.call("GET", f"/orders/{order['id']}", "coord-leeds")["overdue"] is False
