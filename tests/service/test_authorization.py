"""Who may call what: every role against every endpoint, and no other centre's patients.

`MATRIX` holds the design: for each endpoint, the test users allowed to call it on a
Leeds patient or order. Everyone else is refused (403 for a role that never may, 404
where a centre's staff ask about another centre's patient). An allowed call is made
on a resource in the state it needs, so it must succeed. The matrix must name every
endpoint of the OpenAPI document, so a new endpoint cannot skip the check.

The module runs on a service of its own whose clock the tests advance (`clocked`): a
dose is made, shipped and given only once the clock reaches each step.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from clinic import PASSWORD, USERS, Clinic, Headers, hospital_number
from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def clinic(clocked: Clinic) -> Clinic:
    return clocked


@pytest.fixture(scope="module")
def client(clocked: Clinic) -> TestClient:
    return clocked.client


@pytest.fixture(scope="module")
def auth(clocked: Clinic) -> dict[str, Headers]:
    return clocked.auth


Request = tuple[str, dict[str, Any] | None]  # path (after /api/v1) and JSON body
Prepare = Callable[[Clinic], Request]

ALL = frozenset(USERS)
LEEDS = frozenset({"coord-leeds", "doc-leeds"})
STAFF = ALL - {"analyst"}  # everyone who works with (pseudonymous) patients and orders
LEEDS_SEERS = LEEDS | {"maker", "admin"}  # who may see a Leeds patient or order


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]
    prepare: Prepare
    succeeds: bool = True  # False where the allowed call is refused by the pathway's state instead
    fresh: bool = field(default=True)  # a new resource for every call (the call changes it)


def _referred(c: Clinic) -> str:
    return c.refer("leeds")


def _imaging_requested(c: Clinic) -> str:
    patient = c.refer("leeds")
    c.call("POST", f"/patients/{patient}/imaging-requests", "coord-leeds", json={"agent": "Locametz"})
    return patient


def _imaged(c: Clinic) -> str:
    patient = _imaging_requested(c)
    c.call("POST", f"/patients/{patient}/imaging-results", "coord-leeds", json={"result": "positive"})
    return patient


def _ordered(c: Clinic) -> dict[str, Any]:
    order = c.order(c.approve("leeds"))
    assert order["placement"] is not None, order
    return order


def _delivered(c: Clinic) -> dict[str, Any]:
    return c.deliver(_ordered(c))


def _production_due(c: Clinic) -> Request:
    order = _confirmed(c)
    c.advance_to(datetime.fromisoformat(order["placement"]["calibration_at"]))
    return f"/orders/{order['id']}/progress", {"step": "start_production"}


def _correction(c: Clinic) -> Request:
    """A delivery the manufacturer recorded, corrected to a minute earlier."""
    order = _delivered(c)
    delivered = datetime.fromisoformat(order["recorded"]["delivered_at"])
    entry = len(c.call("GET", f"/patients/{order['patient_id']}/events", "maker"))
    fix = {
        "entry": entry,
        "action": "correct",
        "reason": "matrix",
        "at": str(delivered - timedelta(minutes=1)),
    }
    return f"/patients/{order['patient_id']}/corrections", fix


def _patient_path(suffix: str = "") -> Prepare:
    return lambda c: (f"/patients/{_referred(c)}{suffix}", None)


def _order_action(action: str, body: dict[str, Any] | None) -> Prepare:
    return lambda c: (f"/orders/{_ordered(c)['id']}/{action}", body)


def _confirmed(c: Clinic) -> dict[str, Any]:
    order = _ordered(c)
    c.call("POST", f"/orders/{order['id']}/confirmation", "maker")
    return order


def _administration(c: Clinic) -> Request:
    order = _delivered(c)
    at = c.advance_to(datetime.fromisoformat(order["placement"]["administration_at"]))
    body = {"order_id": order["id"], "assayed_gbq": c.expected_gbq(order, at)}
    return f"/patients/{order['patient_id']}/administrations", body


def _adjustment(c: Clinic) -> Request:
    order = _ordered(c)
    return f"/orders/{order['id']}/adjustment", {"preferred_at": order["latest_at"]}


def _proposal(c: Clinic) -> Request:
    order = _ordered(c)
    return f"/orders/{order['id']}/proposal", {"proposed_at": order["latest_at"], "note": "matrix"}


def _proposal_acceptance(c: Clinic) -> Request:
    path, body = _proposal(c)
    c.call("POST", path, "maker", json=body)
    return f"{path}/acceptance", None


def _new_user(_: Clinic) -> Request:
    name = f"user-{secrets.token_hex(4)}"
    return "/users", {"username": name, "password": PASSWORD, "role": "analyst"}


def _static(path: str, body: dict[str, Any] | None = None) -> Prepare:
    return lambda _: (path, body)


REFERRAL: dict[str, Any] = {
    "centre_id": "leeds",
    "product": "Pluvicto",
    "indication": "mCRPC",
    "identity": {"name": "Matrix Patient", "date_of_birth": "1950-01-01", "hospital_number": "M-1"},
}


def _fresh_referral(_: Clinic) -> Request:
    """A referral of a patient not referred before (one hospital number is one patient)."""
    return "/patients", {
        **REFERRAL,
        "identity": {**REFERRAL["identity"], "hospital_number": hospital_number()},
    }


# previewed only (no commit): a closed day changes nothing stored
CLOSED_DAY = {
    "events": [{"kind": "centre_closed", "centre": "leeds", "date": "2027-06-01", "reason": "matrix"}]
}

MATRIX: dict[tuple[str, str], Rule] = {
    ("GET", "/me"): Rule(ALL, _static("/me"), fresh=False),
    ("POST", "/patients"): Rule(frozenset({"coord-leeds"}), _fresh_referral),
    ("GET", "/patients"): Rule(STAFF, _static("/patients"), fresh=False),
    ("GET", "/patients/{patient_id}"): Rule(LEEDS_SEERS, _patient_path(), fresh=False),
    ("GET", "/patients/{patient_id}/identity"): Rule(LEEDS, _patient_path("/identity"), fresh=False),
    ("GET", "/patients/{patient_id}/events"): Rule(LEEDS_SEERS, _patient_path("/events"), fresh=False),
    ("GET", "/patients/{patient_id}/order-check"): Rule(
        frozenset({"coord-leeds"}),
        lambda c: (f"/patients/{c.approve('leeds')}/order-check", None),
        fresh=False,
    ),
    ("POST", "/patients/{patient_id}/imaging-requests"): Rule(
        frozenset({"coord-leeds"}),
        lambda c: (f"/patients/{_referred(c)}/imaging-requests", {"agent": "Locametz"}),
    ),
    ("POST", "/patients/{patient_id}/imaging-results"): Rule(
        LEEDS, lambda c: (f"/patients/{_imaging_requested(c)}/imaging-results", {"result": "positive"})
    ),
    ("POST", "/patients/{patient_id}/mdt-decisions"): Rule(
        frozenset({"doc-leeds"}), lambda c: (f"/patients/{_imaged(c)}/mdt-decisions", {"decision": "approve"})
    ),
    ("POST", "/patients/{patient_id}/administrations"): Rule(frozenset({"doc-leeds"}), _administration),
    # the delivery was recorded by the manufacturer: it, or an administrator, corrects it
    ("POST", "/patients/{patient_id}/corrections"): Rule(frozenset({"maker", "admin"}), _correction),
    ("POST", "/patients/{patient_id}/follow-ups"): Rule(
        LEEDS, lambda c: (f"/patients/{_referred(c)}/follow-ups", {"kind": "labs", "data": {"hb": 12.1}})
    ),
    ("POST", "/patients/{patient_id}/discontinuation"): Rule(
        frozenset({"doc-leeds"}), lambda c: (f"/patients/{_referred(c)}/discontinuation", {"reason": "other"})
    ),
    # completing needs every cycle given: an allowed caller is refused by the pathway (409)
    ("POST", "/patients/{patient_id}/completion"): Rule(LEEDS, _patient_path("/completion"), succeeds=False),
    ("POST", "/orders"): Rule(
        frozenset({"coord-leeds"}), lambda c: ("/orders", {"patient_id": c.approve("leeds")})
    ),
    ("GET", "/orders"): Rule(STAFF, _static("/orders"), fresh=False),
    ("GET", "/orders/{order_id}"): Rule(
        LEEDS_SEERS, lambda c: (f"/orders/{_ordered(c)['id']}", None), fresh=False
    ),
    ("POST", "/orders/{order_id}/confirmation"): Rule(
        frozenset({"maker"}), _order_action("confirmation", None)
    ),
    ("POST", "/orders/{order_id}/adjustment"): Rule(frozenset({"coord-leeds"}), _adjustment),
    ("POST", "/orders/{order_id}/cancellation"): Rule(
        frozenset({"coord-leeds"}), _order_action("cancellation", {"reason": "patient unwell"})
    ),
    ("POST", "/orders/{order_id}/proposal"): Rule(frozenset({"maker"}), _proposal),
    ("POST", "/orders/{order_id}/proposal/acceptance"): Rule(
        frozenset({"coord-leeds"}), _proposal_acceptance
    ),
    ("POST", "/orders/{order_id}/progress"): Rule(
        frozenset({"maker"}),
        _production_due,
    ),
    ("GET", "/orders/{order_id}/cancellation"): Rule(
        LEEDS_SEERS, lambda c: (f"/orders/{_ordered(c)['id']}/cancellation", None), fresh=False
    ),
    ("GET", "/plan"): Rule(STAFF, _static("/plan"), fresh=False),
    ("POST", "/plan/optimise"): Rule(
        frozenset({"maker", "admin"}), _static("/plan/optimise", {"commit": False})
    ),
    ("POST", "/disruptions"): Rule(frozenset({"maker", "admin"}), _static("/disruptions", CLOSED_DAY)),
    ("GET", "/disruptions"): Rule(STAFF, _static("/disruptions"), fresh=False),
    ("GET", "/centres"): Rule(ALL, _static("/centres"), fresh=False),
    ("GET", "/centres/{centre_id}"): Rule(ALL, _static("/centres/leeds"), fresh=False),
    ("GET", "/staff"): Rule(ALL, _static("/staff"), fresh=False),
    ("GET", "/doses"): Rule(STAFF, _static("/doses"), fresh=False),
    ("GET", "/shipments"): Rule(STAFF, _static("/shipments"), fresh=False),
    ("GET", "/appointments"): Rule(STAFF, _static("/appointments"), fresh=False),
    ("POST", "/users"): Rule(frozenset({"admin"}), _new_user),
    ("GET", "/users"): Rule(frozenset({"admin"}), _static("/users"), fresh=False),
    ("GET", "/audit"): Rule(frozenset({"admin"}), _static("/audit"), fresh=False),
    ("GET", "/aggregates"): Rule(frozenset({"analyst", "admin"}), _static("/aggregates"), fresh=False),
}
PUBLIC = {("GET", "/health"), ("POST", "/auth/login")}
ANY_LOGGED_IN = {  # tested with a token of their own: below, and in test_accounts_and_filters
    ("POST", "/auth/logout"),
    ("POST", "/me/password"),
}


def test_the_matrix_names_every_endpoint(client: TestClient) -> None:
    documented = {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, operations in client.app.openapi()["paths"].items()  # type: ignore[attr-defined]
        for method in operations
    }
    named = set(MATRIX) | {(m, p.removeprefix("/api/v1")) for m, p in PUBLIC | ANY_LOGGED_IN}
    assert documented == named


@pytest.mark.parametrize("endpoint", sorted(MATRIX), ids=lambda e: f"{e[0]} {e[1]}")
def test_every_role_is_allowed_or_refused_as_designed(
    endpoint: tuple[str, str], client: TestClient, clinic: Clinic, auth: dict[str, Headers]
) -> None:
    method, _ = endpoint
    rule = MATRIX[endpoint]
    shared = None if rule.fresh else rule.prepare(clinic)
    prepared = None  # a fresh resource, kept while callers are refused (a refusal changes nothing)
    for user in sorted(USERS):
        if shared is None:
            prepared = prepared or rule.prepare(clinic)
        path, body = shared or prepared  # type: ignore[misc]
        if user in rule.allowed and rule.succeeds:
            prepared = None
        headers = {**auth[user], "Idempotency-Key": f"matrix-{secrets.token_hex(8)}"}
        response = client.request(method, f"/api/v1{path}", headers=headers, json=body)
        said = f"{method} {path} as {user}: {response.status_code} {response.text[:300]}"
        if user not in rule.allowed:
            assert response.status_code in (403, 404), said
            assert response.json()["message"], said
        elif rule.succeeds:
            assert 200 <= response.status_code < 300, said
        else:
            assert response.status_code not in (401, 403, 404) and response.status_code < 500, said
    unauthenticated = client.request(method, f"/api/v1{path}", json=body)
    assert unauthenticated.status_code == 401


def test_every_logged_in_user_may_log_out_and_the_token_then_fails(client: TestClient) -> None:
    for user in USERS:
        token = client.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
        assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.post("/api/v1/auth/logout").status_code == 401


def test_no_response_holds_another_centres_patients(
    client: TestClient, clinic: Clinic, auth: dict[str, Headers]
) -> None:
    """A Leeds patient at every stage an order reaches; London's staff never see one of them."""
    leeds = {clinic.refer("leeds"), _imaged(clinic), _ordered(clinic)["patient_id"]}
    delivered = _delivered(clinic)
    leeds.add(delivered["patient_id"])
    listings = [
        path
        for (method, path), rule in MATRIX.items()
        if method == "GET" and "{" not in path and rule.allowed >= {"coord-london"}
    ]
    for user in ("coord-london", "doc-london"):
        for path in listings:
            response = client.get(f"/api/v1{path}", headers=auth[user], params={"limit": 500})
            assert response.status_code == 200, f"{path}: {response.text[:200]}"
            text = json.dumps(response.json())
            assert not any(patient in text for patient in leeds), f"{path} as {user} shows a Leeds patient"
            assert '"leeds"' not in text or path in ("/centres", "/staff", "/me"), f"{path} as {user}"
        for patient in leeds:
            for suffix in ("", "/identity", "/events"):
                seen = client.get(f"/api/v1/patients/{patient}{suffix}", headers=auth[user])
                assert seen.status_code == 404, f"{patient}{suffix} as {user}: {seen.status_code}"
        for order in (delivered["id"],):
            assert client.get(f"/api/v1/orders/{order}", headers=auth[user]).status_code == 404
    # the manufacturer sees the orders but never who the patient is
    for patient in leeds:
        assert client.get(f"/api/v1/patients/{patient}/identity", headers=auth["maker"]).status_code == 403
    identity_fields = ("Matrix Patient", "Test Patient", "hospital_number", "date_of_birth")
    for path in ("/patients", "/orders", "/plan", "/doses", "/appointments"):
        text = client.get(f"/api/v1{path}", headers=auth["maker"], params={"limit": 500}).text
        assert not any(word in text for word in identity_fields), path
