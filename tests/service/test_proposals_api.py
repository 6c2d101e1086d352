"""Date proposals through the API: the manufacturer offers another time, the centre accepts it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from clinic import Clinic, Headers
from fastapi.testclient import TestClient

from rltnet.domain.units import format_instant


def _ordered(clinic: Clinic) -> dict[str, Any]:
    order = clinic.order(clinic.approve("leeds", "Pluvicto"))
    assert order["placement"] is not None, order
    return order


def _inside(order: dict[str, Any], days: int = 7) -> str:
    """A time `days` after the window opens (Pluvicto's first-cycle window is weeks long)."""
    at = datetime.fromisoformat(order["earliest_at"]) + timedelta(days=days)
    assert at < datetime.fromisoformat(order["latest_at"])
    return at.isoformat()


def _as_sent_back(text: str) -> str:
    """An instant as the API writes it back (UTC, 'Z')."""
    return datetime.fromisoformat(text).isoformat().replace("+00:00", "Z")


def test_a_proposal_moves_nothing_until_the_centre_accepts_it(clinic: Clinic) -> None:
    order = _ordered(clinic)
    proposed_at = _inside(order)
    body = {"proposed_at": proposed_at, "note": "batch of the 9th is full"}
    proposed = clinic.call("POST", f"/orders/{order['id']}/proposal", "maker", json=body)
    assert proposed["proposed_at"] == _as_sent_back(proposed_at)
    assert proposed["proposal_note"] == "batch of the 9th is full"
    seen = clinic.call("GET", f"/orders/{order['id']}", "coord-leeds")
    assert seen["proposed_at"] == proposed["proposed_at"]
    assert seen["preferred_at"] == order["preferred_at"] and seen["placement"] == order["placement"]

    accepted = clinic.call("POST", f"/orders/{order['id']}/proposal/acceptance", "coord-leeds")
    assert accepted["preferred_at"] == proposed["proposed_at"]
    assert accepted["proposed_at"] is None and accepted["proposal_note"] is None
    assert accepted["status"] == "requested"  # placed again: the manufacturer confirms the new placement
    trail = clinic.call("GET", f"/audit?entity=order&entity_id={order['id']}", "admin")["items"]
    actions = [entry["action"] for entry in trail]
    assert {"propose", "accept_proposal", "adjust"} <= set(actions)
    assert actions.index("adjust") < actions.index(
        "accept_proposal"
    )  # newest first: the acceptance, then the move it made


def test_the_centre_moving_the_order_itself_lets_a_pending_proposal_lapse(clinic: Clinic) -> None:
    order = _ordered(clinic)
    clinic.call("POST", f"/orders/{order['id']}/proposal", "maker", json={"proposed_at": _inside(order, 5)})
    moved = clinic.call(
        "POST", f"/orders/{order['id']}/adjustment", "coord-leeds", json={"preferred_at": _inside(order, 3)}
    )
    assert moved["proposed_at"] is None and moved["proposal_note"] is None
    refused = clinic.client.post(
        f"/api/v1/orders/{order['id']}/proposal/acceptance", headers=clinic.auth["coord-leeds"]
    )
    assert refused.status_code == 409 and "no proposed date" in refused.json()["message"]


def test_a_confirmed_order_may_get_a_proposal_and_a_new_one_replaces_the_last(clinic: Clinic) -> None:
    order = _ordered(clinic)
    clinic.call("POST", f"/orders/{order['id']}/confirmation", "maker")
    first = {"proposed_at": _inside(order, 5)}
    clinic.call("POST", f"/orders/{order['id']}/proposal", "maker", json=first)
    second = clinic.call(
        "POST", f"/orders/{order['id']}/proposal", "maker", json={"proposed_at": _inside(order, 9)}
    )
    assert second["proposed_at"] == _as_sent_back(_inside(order, 9)) and second["proposal_note"] is None
    assert second["status"] == "confirmed"


def test_a_time_outside_the_window_is_refused_with_the_window(
    client: TestClient, clinic: Clinic, auth: dict[str, Headers]
) -> None:
    order = _ordered(clinic)
    late = datetime.fromisoformat(order["latest_at"]) + timedelta(days=1)
    response = client.post(
        f"/api/v1/orders/{order['id']}/proposal",
        headers=auth["maker"],
        json={"proposed_at": late.isoformat()},
    )
    assert response.status_code == 422
    detail = response.json()["message"]
    earliest, latest = (
        format_instant(datetime.fromisoformat(order[k])) for k in ("earliest_at", "latest_at")
    )
    assert f"{earliest} to {latest}" in detail and "propose a time inside it" in detail
    no_zone = client.post(
        f"/api/v1/orders/{order['id']}/proposal",
        headers=auth["maker"],
        json={"proposed_at": "2027-01-04T09:00"},
    )
    assert no_zone.status_code == 422 and "time zone" in no_zone.json()["message"]
    assert clinic.call("GET", f"/orders/{order['id']}", "maker")["proposed_at"] is None


def test_only_the_manufacturer_proposes_and_only_the_centre_accepts(
    client: TestClient, clinic: Clinic, auth: dict[str, Headers]
) -> None:
    order = _ordered(clinic)
    path = f"/api/v1/orders/{order['id']}/proposal"
    body = {"proposed_at": _inside(order)}
    for user in ("coord-leeds", "doc-leeds", "admin", "analyst"):
        response = client.post(path, headers=auth[user], json=body)
        assert response.status_code == 403, user
        assert response.json()["message"], user
    assert client.post(path, headers=auth["maker"], json=body).status_code == 200
    refused = {"maker": 403, "doc-leeds": 403, "analyst": 403, "coord-london": 404}
    for user, status in refused.items():
        assert client.post(f"{path}/acceptance", headers=auth[user]).status_code == status, user
    assert clinic.call("GET", f"/orders/{order['id']}", "coord-leeds")["proposed_at"] is not None


def test_nothing_to_accept_and_closed_orders_are_conflicts(
    client: TestClient, clinic: Clinic, auth: dict[str, Headers]
) -> None:
    order = _ordered(clinic)
    path = f"/api/v1/orders/{order['id']}/proposal"
    nothing = client.post(f"{path}/acceptance", headers=auth["coord-leeds"])
    assert nothing.status_code == 409 and "no proposed date" in nothing.json()["message"]
    clinic.call("POST", f"/orders/{order['id']}/cancellation", "coord-leeds", json={"reason": "unwell"})
    closed = client.post(path, headers=auth["maker"], json={"proposed_at": _inside(order)})
    assert closed.status_code == 409 and "is cancelled" in closed.json()["message"]


def test_a_dose_in_production_gets_no_proposal(clocked: Clinic) -> None:
    clinic, client, auth = clocked, clocked.client, clocked.auth
    order = _ordered(clinic)
    path = f"/api/v1/orders/{order['id']}/proposal"
    assert client.post(path, headers=auth["maker"], json={"proposed_at": _inside(order)}).status_code == 200
    clinic.deliver(order, until="start_production")  # the clock reaches the batch's start
    again = client.post(path, headers=auth["maker"], json={"proposed_at": _inside(order, 9)})
    assert again.status_code == 409 and "already in production" in again.json()["message"]
    late = client.post(f"{path}/acceptance", headers=auth["coord-leeds"])
    assert late.status_code == 409 and "already in production" in late.json()["message"]
