"""Doses, shipments and appointments through the API: each centre its own, the manufacturer all."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from clinic import Clinic, Headers
from fastapi.testclient import TestClient

LISTS = ("/doses", "/shipments", "/appointments")


def every(clinic: Clinic, path: str, user: str, **params: Any) -> list[dict[str, Any]]:
    """All items of a paginated list, fetched page by page; each page agrees on the total."""
    items: list[dict[str, Any]] = []
    total = None
    while total is None or len(items) < total:
        page = clinic.call("GET", path, user, params={**params, "limit": 100, "offset": len(items)})
        assert total is None or page["total"] == total
        total = page["total"]
        assert page["items"] or total == 0
        items += page["items"]
    return items


def placed(clinic: Clinic, centre: str) -> dict[str, Any]:
    """A placed order of a new approved patient at `centre`."""
    order = clinic.order(clinic.approve(centre, "Pluvicto"), centre)
    assert order["placement"] is not None, order["plan_note"]
    return order


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_dose_shows_its_batch_calibration_and_activity(clinic: Clinic) -> None:
    order = placed(clinic, "leeds")
    placement = order["placement"]
    doses = every(clinic, "/doses", "coord-leeds", batch_id=placement["batch_id"])
    dose = next(d for d in doses if d["order_id"] == order["id"])
    assert dose["patient_id"] == order["patient_id"]
    assert dose["centre_id"] == "leeds" and dose["product_id"] == "lu177-vipivotide-tetraxetan"
    assert dose["order_status"] == "requested"
    assert dose["site_id"] == placement["site_id"]
    assert instant(dose["calibration_at"]) == instant(placement["calibration_at"])
    assert dose["calibration_gbq"] == pytest.approx(placement["calibration_gbq"])
    assert dose["prescribed_gbq"] == pytest.approx(order["prescribed_gbq"])
    assert instant(dose["released_at"]) < instant(dose["expiry_at"])
    assert {d["batch_id"] for d in doses} == {placement["batch_id"]}


def test_a_centre_sees_only_its_own_doses_shipments_and_appointments(clinic: Clinic) -> None:
    leeds, london = placed(clinic, "leeds"), placed(clinic, "london")
    for path in LISTS:
        for user, own, other in (("coord-leeds", leeds, london), ("doc-london", london, leeds)):
            seen = every(clinic, path, user)
            assert {item["centre_id"] for item in seen} == {own["centre_id"]}, (path, user)
            ids = {item["order_id"] for item in seen}
            assert own["id"] in ids and other["id"] not in ids, (path, user)
            asked_for_other = clinic.client.get(
                f"/api/v1{path}", headers=clinic.auth[user], params={"centre_id": other["centre_id"]}
            )
            assert asked_for_other.status_code == 403, (path, user)  # refused, not an empty list


def test_the_manufacturer_and_the_administrator_see_every_centre(clinic: Clinic) -> None:
    leeds, london = placed(clinic, "leeds"), placed(clinic, "london")
    for path in LISTS:
        for user in ("maker", "admin"):
            seen = every(clinic, path, user)
            ids = {item["order_id"] for item in seen}
            assert {leeds["id"], london["id"]} <= ids, (path, user)
            only_london = every(clinic, path, user, centre_id="london")
            assert {item["centre_id"] for item in only_london} == {"london"}
            assert len(only_london) < len(seen)


def test_an_analyst_may_not_list_doses_shipments_or_appointments(
    client: TestClient, auth: dict[str, Headers]
) -> None:
    for path in LISTS:
        response = client.get(f"/api/v1{path}", headers=auth["analyst"])
        assert response.status_code == 403, path
        assert "aggregates" in response.json()["message"]
        assert client.get(f"/api/v1{path}").status_code == 401


def test_a_shipment_shows_its_eta_and_follows_the_dose_to_the_centre(clocked: Clinic) -> None:
    clinic = clocked  # the dose is made, released and shipped as the clock reaches each step
    order = placed(clinic, "leeds")
    placement = order["placement"]

    def shipment(status: str) -> dict[str, Any] | None:
        found = every(clinic, "/shipments", "coord-leeds", status=status)
        assert {s["status"] for s in found} <= {status}
        return next((s for s in found if s["order_id"] == order["id"]), None)

    planned = shipment("planned")
    assert planned is not None
    assert instant(planned["eta_at"]) == instant(placement["arrives_at"])
    assert instant(planned["departs_at"]) == instant(placement["departs_at"])
    assert planned["lane_id"] == placement["lane_id"] and planned["site_id"] == placement["site_id"]
    clinic.deliver(order, until="ship")
    assert shipment("planned") is None
    in_transit = shipment("in transit")
    assert in_transit is not None and in_transit["status"] == "in transit"


def test_the_order_status_filter_keeps_only_doses_and_appointments_in_that_status(clinic: Clinic) -> None:
    requested, confirmed = placed(clinic, "london"), placed(clinic, "london")
    clinic.call("POST", f"/orders/{confirmed['id']}/confirmation", "maker")
    for path in ("/doses", "/appointments"):
        found = every(clinic, path, "maker", status="confirmed")
        assert {item["order_status"] for item in found} == {"confirmed"}
        ids = {item["order_id"] for item in found}
        assert confirmed["id"] in ids and requested["id"] not in ids, path


def test_time_filters_include_from_and_exclude_to(clinic: Clinic) -> None:
    order = placed(clinic, "leeds")
    placement = order["placement"]
    instants = {
        "/appointments": placement["appointment_at"],
        "/shipments": placement["arrives_at"],
        "/doses": placement["calibration_at"],
    }
    for path, at_text in instants.items():
        at = instant(at_text)
        window: dict[str, Any] = {"from": at.isoformat(), "to": (at + timedelta(seconds=1)).isoformat()}
        inside = every(clinic, path, "coord-leeds", **window)
        assert order["id"] in {item["order_id"] for item in inside}, path
        before = every(clinic, path, "coord-leeds", to=at.isoformat())
        assert order["id"] not in {item["order_id"] for item in before}, path
        after = every(clinic, path, "coord-leeds", **{"from": (at + timedelta(seconds=1)).isoformat()})
        assert order["id"] not in {item["order_id"] for item in after}, path


def test_an_appointment_books_a_chair_before_the_administration(clinic: Clinic) -> None:
    order = placed(clinic, "leeds")
    placement = order["placement"]
    appointments = every(clinic, "/appointments", "doc-leeds")
    appointment = next(a for a in appointments if a["order_id"] == order["id"])
    assert appointment["chair"] == placement["chair"]
    assert instant(appointment["start_at"]) == instant(placement["appointment_at"])
    assert instant(appointment["start_at"]) <= instant(appointment["administration_at"])
    assert instant(appointment["administration_at"]) <= instant(appointment["end_at"])
    starts = [instant(a["start_at"]) for a in appointments]
    assert starts == sorted(starts)


def test_pages_of_a_list_share_one_total_and_do_not_overlap(clinic: Clinic) -> None:
    for _ in range(2):
        placed(clinic, "leeds")
    first = clinic.call("GET", "/appointments", "maker", params={"limit": 1})
    second = clinic.call("GET", "/appointments", "maker", params={"limit": 1, "offset": 1})
    assert first["total"] == second["total"] >= 2
    assert len(first["items"]) == len(second["items"]) == 1
    assert first["items"][0]["order_id"] != second["items"][0]["order_id"]
    beyond = clinic.call("GET", "/appointments", "maker", params={"offset": first["total"]})
    assert beyond["items"] == [] and beyond["total"] == first["total"]


def test_a_time_without_a_time_zone_is_refused(client: TestClient, auth: dict[str, Headers]) -> None:
    response = client.get("/api/v1/doses", headers=auth["maker"], params={"from": "2026-01-01T00:00:00"})
    assert response.status_code == 422
    assert "from" in response.json()["message"]
