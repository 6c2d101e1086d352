"""Users, the audit trail and de-identified aggregates through the API."""

from __future__ import annotations

import re
import secrets
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from clinic import PASSWORD, Clinic, Headers
from fastapi.testclient import TestClient

from rltnet.domain import disclosure

NOT_ADMINS = ("coord-leeds", "doc-leeds", "coord-london", "maker", "analyst")
PLUVICTO = "lu177-vipivotide-tetraxetan"


def new_username() -> str:
    return f"user-{secrets.token_hex(4)}"


def test_an_administrator_creates_a_user_who_can_then_log_in(client: TestClient, clinic: Clinic) -> None:
    username = new_username()
    body = {"username": username, "password": PASSWORD, "role": "coordinator", "centre_id": "bristol"}
    created = clinic.call("POST", "/users", "admin", json=body)
    assert created["username"] == username and created["active"] is True
    assert (created["role"], created["centre_id"]) == ("coordinator", "bristol")
    login = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200 and login.json()["centre_id"] == "bristol"
    coordinators = clinic.call("GET", "/users", "admin", params={"role": "coordinator", "limit": 500})
    assert username in {u["username"] for u in coordinators["items"]}
    assert {u["role"] for u in coordinators["items"]} == {"coordinator"}
    in_bristol = clinic.call("GET", "/users", "admin", params={"centre_id": "bristol", "limit": 500})
    assert username in {u["username"] for u in in_bristol["items"]}
    assert {u["centre_id"] for u in in_bristol["items"]} == {"bristol"}


def test_a_taken_username_or_a_centre_role_without_a_centre_is_refused(
    client: TestClient, auth: dict[str, Headers]
) -> None:
    taken = {"username": "maker", "password": PASSWORD, "role": "manufacturer"}
    response = client.post("/api/v1/users", headers=auth["admin"], json=taken)
    assert response.status_code == 409 and "exists" in response.json()["message"]
    homeless = {"username": new_username(), "password": PASSWORD, "role": "physician"}
    response = client.post("/api/v1/users", headers=auth["admin"], json=homeless)
    assert response.status_code == 422 and "centre_id" in response.json()["message"]


def test_users_come_in_pages_sorted_by_username(clinic: Clinic) -> None:
    first = clinic.call("GET", "/users", "admin", params={"limit": 2})
    second = clinic.call("GET", "/users", "admin", params={"limit": 2, "offset": 2})
    assert first["total"] == second["total"] >= 7
    names = [u["username"] for u in first["items"] + second["items"]]
    assert len(names) == 4 and names == sorted(names)


def test_only_an_administrator_may_manage_users_or_read_the_audit_trail(
    client: TestClient, auth: dict[str, Headers]
) -> None:
    body = {"username": new_username(), "password": PASSWORD, "role": "analyst"}
    for user in NOT_ADMINS:
        headers = auth[user]
        assert client.get("/api/v1/users", headers=headers).status_code == 403, user
        assert client.post("/api/v1/users", headers=headers, json=body).status_code == 403, user
        assert client.get("/api/v1/audit", headers=headers).status_code == 403, user
    for path in ("/api/v1/users", "/api/v1/audit", "/api/v1/aggregates"):
        assert client.get(path).status_code == 401, path


def test_the_audit_trail_shows_each_write_newest_first_with_before_and_after(clinic: Clinic) -> None:
    patient = clinic.approve("leeds", "Pluvicto")
    order = clinic.order(patient)
    clinic.call("POST", f"/orders/{order['id']}/confirmation", "maker")
    trail = clinic.call("GET", "/audit", "admin", params={"entity": "order", "entity_id": order["id"]})
    assert trail["total"] == 2
    confirmation, ordering = trail["items"]
    assert (confirmation["action"], confirmation["username"], confirmation["role"]) == (
        "confirm",
        "maker",
        "manufacturer",
    )
    assert confirmation["before"]["status"] == "requested" and confirmation["before"]["confirmed_at"] is None
    assert confirmation["after"]["status"] == "confirmed" and confirmation["after"]["confirmed_at"]
    assert (ordering["action"], ordering["username"]) == ("order", "coord-leeds")
    assert ordering["before"] is None and ordering["after"]["patient_id"] == patient
    assert confirmation["at"] >= ordering["at"]
    patient_trail = clinic.call("GET", "/audit", "admin", params={"entity_id": patient})
    assert [e["action"] for e in patient_trail["items"]] == [
        "mdt_decision",
        "record_imaging",
        "request_imaging",
        "refer",
    ]
    decision = patient_trail["items"][0]
    assert decision["before"]["stage"] == "imaged_positive" and decision["after"]["stage"] == "mdt_approved"


def test_the_audit_trail_is_filtered_by_who_and_what(clinic: Clinic) -> None:
    order = clinic.order(clinic.approve("london", "Pluvicto"), "london")
    clinic.call("POST", f"/orders/{order['id']}/confirmation", "maker")
    confirms = clinic.call("GET", "/audit", "admin", params={"username": "maker", "action": "confirm"})
    assert confirms["total"] >= 1
    assert {(e["username"], e["action"], e["entity"]) for e in confirms["items"]} == {
        ("maker", "confirm", "order")
    }
    assert confirms["items"][0]["entity_id"] == order["id"]
    page = clinic.call("GET", "/audit", "admin", params={"limit": 3})
    assert len(page["items"]) == 3 and page["total"] >= confirms["total"]
    ids = [e["id"] for e in page["items"]]
    assert ids == sorted(ids, reverse=True)


def test_creating_a_user_is_audited_without_the_password_hash(clinic: Clinic) -> None:
    username = new_username()
    clinic.call(
        "POST", "/users", "admin", json={"username": username, "password": PASSWORD, "role": "analyst"}
    )
    trail = clinic.call("GET", "/audit", "admin", params={"entity": "user", "action": "create_user"})
    entry = next(e for e in trail["items"] if e["after"]["username"] == username)
    assert entry["username"] == "admin" and entry["before"] is None
    assert "password_hash" not in entry["after"]
    assert "argon2" not in str(entry)


def test_aggregates_are_for_analysts_and_administrators_only(
    client: TestClient, auth: dict[str, Headers]
) -> None:
    for user in ("coord-leeds", "doc-leeds", "maker"):
        assert client.get("/api/v1/aggregates", headers=auth[user]).status_code == 403, user
    for user in ("analyst", "admin"):
        assert client.get("/api/v1/aggregates", headers=auth[user]).status_code == 200, user


def counts(aggregates: dict[str, Any]) -> dict[str, Counter[tuple[str, ...]]]:
    """The aggregates' lists as counters keyed by their dimensions."""
    return {
        "centre": Counter(
            {(r["centre_id"], r["stage"]): r["patients"] for r in aggregates["patients_by_centre_stage"]}
        ),
        "product": Counter(
            {(r["product_id"], r["stage"]): r["patients"] for r in aggregates["patients_by_product_stage"]}
        ),
        "status": Counter({(r["status"],): r["orders"] for r in aggregates["orders_by_status"]}),
        "month": Counter(
            {(r["centre_id"], r["month"]): r["doses"] for r in aggregates["administered_by_centre_month"]}
        ),
    }


@pytest.fixture
def every_count_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    """The counts themselves, with the small-number rule set to hide none: these tests follow
    single patients through the counts (the rule's own tests: unit/test_disclosure.py and
    test_privacy_of_notes.py)."""
    monkeypatch.setattr(disclosure, "THRESHOLD", 1)


@pytest.mark.usefixtures("every_count_shown")
def test_aggregates_count_what_the_clinic_did_and_name_no_patient_or_order(clinic: Clinic) -> None:
    before = clinic.call("GET", "/aggregates", "analyst")
    referred = clinic.refer("london", "Lutathera")
    ordered = clinic.approve("leeds", "Pluvicto")
    order = clinic.order(ordered)
    after = clinic.call("GET", "/aggregates", "analyst")
    was, now = counts(before), counts(after)
    assert now["centre"] - was["centre"] == Counter({("london", "referred"): 1, ("leeds", "ordered"): 1})
    assert now["product"] - was["product"] == Counter(
        {("lu177-oxodotreotide", "referred"): 1, (PLUVICTO, "ordered"): 1}
    )
    assert was["centre"] - now["centre"] == Counter()
    assert now["status"] - was["status"] == Counter({("requested",): 1})
    assert now["month"] == was["month"]
    assert after["confirmation"]["awaiting"] == before["confirmation"]["awaiting"] + 1
    text = str(after)
    for identifier in (referred, ordered, order["id"]):
        assert identifier not in text
    assert not re.search(r"\b[PO]-[0-9A-F]{10}\b", text)
    assert "patient_id" not in text and "order_id" not in text


@pytest.mark.usefixtures("every_count_shown")
def test_an_order_waiting_past_its_target_counts_as_overdue(clocked: Clinic) -> None:
    clinic = clocked
    order = clinic.order(clinic.approve("leeds", "Pluvicto"))
    before = clinic.call("GET", "/aggregates", "admin")["confirmation"]
    clinic.advance(timedelta(hours=30))
    after = clinic.call("GET", "/aggregates", "admin")["confirmation"]
    assert after["awaiting"] == before["awaiting"]
    assert after["overdue"] == before["overdue"] + 1
    assert after["mean_waiting_hours"] > before["mean_waiting_hours"]
    clinic.call("POST", f"/orders/{order['id']}/confirmation", "maker")
    confirmed = clinic.call("GET", "/aggregates", "admin")["confirmation"]
    assert confirmed["awaiting"] == before["awaiting"] - 1
    assert confirmed["overdue"] == before["overdue"]
    assert confirmed["mean_hours_to_confirmation"] is not None


@pytest.mark.usefixtures("every_count_shown")
def test_a_dose_given_is_counted_in_its_centres_month(clocked: Clinic) -> None:
    clinic = clocked
    order = clinic.order(clinic.approve("leeds", "Pluvicto"))
    before = counts(clinic.call("GET", "/aggregates", "analyst"))
    clinic.deliver(order)
    clinic.administer(order)  # at its planned time, once the clock is there
    given_at = datetime.fromisoformat(order["placement"]["administration_at"])
    after = counts(clinic.call("GET", "/aggregates", "analyst"))
    month = given_at.astimezone(UTC).strftime("%Y-%m")
    assert after["month"] - before["month"] == Counter({("leeds", month): 1})
    assert after["status"] - before["status"] == Counter({("administered",): 1})
    assert after["centre"] - before["centre"] == Counter({("leeds", "administered"): 1})
