"""The plan in force through the API: views by role, re-optimisation, declared disruptions."""

from __future__ import annotations

from typing import Any

from clinic import Clinic, Headers
from fastapi.testclient import TestClient

from rltnet.planning.checker import check_plan
from rltnet.planning.replan import disruptions_of
from rltnet.service.disruptions import stored_events
from rltnet.service.platform import Platform
from rltnet.service.usecases.plan import current, network_now


def _placed(clinic: Clinic, centre: str) -> dict[str, Any]:
    order = clinic.order(clinic.approve(centre, "Pluvicto"), centre)
    assert order["placement"] is not None, order
    return order


def test_each_centre_sees_its_own_part_and_the_manufacturer_all(clinic: Clinic) -> None:
    leeds, london = _placed(clinic, "leeds"), _placed(clinic, "london")
    mine = clinic.call("GET", "/plan", "coord-leeds")
    ids = {p["order_id"] for p in mine["placements"]}
    assert leeds["id"] in ids and london["id"] not in ids
    assert {p["centre_id"] for p in mine["placements"]} == {"leeds"}
    # a centre cannot ask for another centre's part: refused, not answered with its own
    asked = clinic.client.get("/api/v1/plan?centre_id=london", headers=clinic.auth["doc-leeds"])
    assert asked.status_code == 403 and "own centre 'leeds'" in asked.json()["detail"]
    whole = clinic.call("GET", "/plan", "maker")
    assert {leeds["id"], london["id"]} <= {p["order_id"] for p in whole["placements"]}
    assert whole["summary"]["orders"]["placed"] >= 2


def test_analysts_and_centres_cannot_replan(client: TestClient, auth: dict[str, Headers]) -> None:
    assert client.get("/api/v1/plan", headers=auth["analyst"]).status_code == 403
    for user in ("coord-leeds", "doc-london", "analyst"):
        optimise = client.post("/api/v1/plan/optimise", headers=auth[user], json={"commit": True})
        assert optimise.status_code == 403, user
        declared = client.post(
            "/api/v1/disruptions",
            headers=auth[user],
            json={"events": [{"kind": "batch_failed", "batch": "x", "reason": "test"}]},
        )
        assert declared.status_code == 403, user


def test_a_failed_batch_moves_its_doses_and_is_never_used_again(
    clinic: Clinic, client: TestClient, auth: dict[str, Headers]
) -> None:
    order = _placed(clinic, "leeds")
    batch = order["placement"]["batch_id"]
    body = {"events": [{"kind": "batch_failed", "batch": batch, "reason": "sterility test"}]}
    preview = clinic.call("POST", "/disruptions", "maker", json=body)
    assert preview["committed"] is False
    assert order["id"] in {c["order_id"] for c in preview["changes"]}
    unchanged = clinic.call("GET", f"/orders/{order['id']}", "maker")
    assert unchanged["placement"]["batch_id"] == batch  # a preview writes nothing

    done = clinic.call("POST", "/disruptions", "maker", json={**body, "commit": True})
    assert done["committed"] is True
    moved = clinic.call("GET", f"/orders/{order['id']}", "coord-leeds")
    assert moved["placement"] is None or moved["placement"]["batch_id"] != batch
    listed = clinic.call("GET", "/disruptions", "coord-leeds")["items"]
    assert listed[0]["events"][0]["batch"] == batch and listed[0]["changed_orders"] >= 1
    # a new order for the same window is not put on the failed batch
    again = _placed(clinic, "leeds")
    assert again["placement"]["batch_id"] != batch


def test_order_events_are_refused_as_disruptions(client: TestClient, auth: dict[str, Headers]) -> None:
    response = client.post(
        "/api/v1/disruptions", headers=auth["maker"], json={"events": [{"kind": "no_show", "order": "O-1"}]}
    )
    assert response.status_code == 422
    assert "/progress" in response.json()["message"]


def test_a_committed_optimisation_leaves_a_plan_the_checker_accepts(
    clinic: Clinic, platform: Platform
) -> None:
    for centre in ("leeds", "london", "leeds"):
        _placed(clinic, centre)
    result = clinic.call("POST", "/plan/optimise", "maker", json={"commit": True})
    assert result["committed"] is True and result["solver"] is not None
    with platform.sessions() as session:
        plan = current(session, platform)
        events = stored_events(session)
        network = network_now(session, platform)
    assert plan.placements
    violations = check_plan(plan, network, platform.catalogue, disruptions=disruptions_of(events))
    assert violations == [], [str(v) for v in violations[:5]]
    # optimising again finds nothing to change
    again = clinic.call("POST", "/plan/optimise", "maker", json={"commit": False})
    assert again["changes"] == []
