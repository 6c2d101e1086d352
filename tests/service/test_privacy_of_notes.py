"""Free-text clinical notes are identifiable: sealed at rest, shown only to the patient's own
centre, over every API operation and every page; each read of identity or notes recorded;
aggregates shown outside a centre hide small numbers."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from clinic import PASSWORD, Clinic, Headers
from desk import login_form
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from rltnet.domain.disclosure import THRESHOLD
from rltnet.service.platform import Platform
from rltnet.store import tables
from rltnet.web.app import PAGES

OUTSIDERS = ("maker", "analyst", "admin", "coord-london", "doc-london")
# writes that would end the caller's login or re-plan the whole network: not walked
NOT_WALKED = {
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/me/password"),
    ("POST", "/api/v1/plan/optimise"),
}


class Noted:
    """A Leeds patient with a note in every free-text field a step takes, and one discontinued."""

    def __init__(self, clinic: Clinic) -> None:
        self.marker = f"NOTE{secrets.token_hex(6).upper()}"
        c = clinic
        self.patient = c.call(
            "POST", "/patients", "coord-leeds", json={**_referral(), "reason": f"{self.marker} referral"}
        )["id"]
        path = f"/patients/{self.patient}"
        c.call(
            "POST",
            f"{path}/imaging-requests",
            "coord-leeds",
            json={"agent": "Locametz", "reason": f"{self.marker} request"},
        )
        c.call(
            "POST",
            f"{path}/imaging-results",
            "doc-leeds",
            json={"result": "positive", "reason": f"{self.marker} PET report"},
        )
        c.call(
            "POST",
            f"{path}/mdt-decisions",
            "doc-leeds",
            json={"decision": "approve", "reason": f"{self.marker} MDT"},
        )
        decided = c.call("GET", f"{path}/events", "doc-leeds")[-1]  # its time set right: a note too
        fix = {
            "entry": decided["seq"],
            "action": "correct",
            "at": decided["at"],
            "reason": f"{self.marker} fix",
        }
        c.call("POST", f"{path}/corrections", "doc-leeds", json=fix)
        cancelled = c.order(self.patient)
        c.call(
            "POST",
            f"/orders/{cancelled['id']}/cancellation",
            "coord-leeds",
            json={"reason": f"{self.marker} cancel"},
        )
        self.order = c.order(self.patient)["id"]
        self.discontinued = c.call("POST", "/patients", "coord-leeds", json=_referral())["id"]
        c.call(
            "POST",
            f"/patients/{self.discontinued}/discontinuation",
            "doc-leeds",
            json={"reason": "patient_choice", "note": f"{self.marker} discontinued"},
        )

    def fill(self, path: str) -> str:
        values = {"patient_id": self.patient, "order_id": self.order, "centre_id": "leeds"}
        return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x"), path)


def _referral() -> dict[str, Any]:
    return {
        "centre_id": "leeds",
        "product": "Pluvicto",
        "indication": "mCRPC",
        "identity": {
            "name": "Noted Patient",
            "date_of_birth": "1950-01-01",
            "hospital_number": secrets.token_hex(6),
        },
    }


@pytest.fixture(scope="module")
def noted(clinic: Clinic) -> Noted:
    return Noted(clinic)


def _page_client(client: TestClient, username: str) -> TestClient:
    page = TestClient(client.app)
    login = login_form(page, username=username, password=PASSWORD)
    assert login.status_code == 303, login.text
    return page


def test_the_own_centre_reads_every_note_and_they_are_sealed_at_rest(
    client: TestClient, auth: dict[str, Headers], noted: Noted, platform: Platform
) -> None:
    events = client.get(f"/api/v1/patients/{noted.patient}/events", headers=auth["doc-leeds"]).json()
    reasons = " ".join(e["reason"] for e in events)
    for what in ("referral", "request", "PET report", "MDT", "fix", "cancel"):
        assert f"{noted.marker} {what}" in reasons
    assert noted.marker in _page_client(client, "coord-leeds").get(f"/patients/{noted.patient}").text
    with platform.sessions() as session:
        stored = session.scalars(
            select(tables.PathwayEventRow.reason).where(tables.PathwayEventRow.patient_id == noted.patient)
        ).all()
    assert all(not reason or reason.startswith("sealed:") for reason in stored)
    assert not any(noted.marker in reason for reason in stored)


def test_no_api_operation_gives_a_note_to_anyone_outside_the_patients_centre(
    client: TestClient, auth: dict[str, Headers], noted: Noted
) -> None:
    operations = [
        (method.upper(), path)
        for path, ops in client.app.openapi()["paths"].items()  # type: ignore[attr-defined]
        for method in ops
    ]
    assert len(operations) > 30
    for user in OUTSIDERS:
        for method, path in operations:
            if (method, path) in NOT_WALKED:
                continue
            url = noted.fill(path)
            params = {"limit": 500} if method == "GET" else None
            body: dict[str, Any] | None = None if method == "GET" else {}
            response = client.request(method, url, headers=auth[user], params=params, json=body)
            assert response.status_code < 500, f"{method} {url} as {user}: {response.text[:200]}"
            assert noted.marker not in response.text, f"{method} {url} as {user} shows a note"


def test_no_page_gives_a_note_to_anyone_outside_the_patients_centre(client: TestClient, noted: Noted) -> None:
    pages = sorted(
        {
            route.path
            for module in PAGES
            for route in module.router.routes
            if isinstance(route, APIRoute) and route.methods and "GET" in route.methods
        }
    )
    assert "/patients/{patient_id}" in pages and "/orders/{order_id}" in pages
    for user in OUTSIDERS:
        page = _page_client(client, user)
        for path in pages:
            url = noted.fill(path)
            response = page.get(url)
            assert response.status_code < 500, f"GET {url} as {user}"
            assert noted.marker not in response.text, f"page {url} as {user} shows a note"


def test_every_read_of_identity_or_notes_is_recorded_for_administrators(
    client: TestClient, auth: dict[str, Headers], noted: Noted
) -> None:
    client.get(f"/api/v1/patients/{noted.patient}/identity", headers=auth["coord-leeds"])
    client.get(f"/api/v1/patients/{noted.patient}/events", headers=auth["doc-leeds"])
    client.get(f"/api/v1/patients/{noted.patient}/events", headers=auth["maker"])  # no notes: no read of them
    trail = client.get(
        "/api/v1/audit", params={"entity_id": noted.patient, "limit": 500}, headers=auth["admin"]
    ).json()["items"]
    reads = {(e["action"], e["username"]) for e in trail if e["action"].startswith("read_")}
    assert ("read_identity", "coord-leeds") in reads
    assert ("read_notes", "doc-leeds") in reads
    assert not any(user == "maker" for _, user in reads)
    page = _page_client(client, "doc-leeds").get(f"/patients/{noted.patient}")
    assert page.status_code == 200
    after = client.get(
        "/api/v1/audit",
        params={"entity_id": noted.patient, "action": "read_identity", "limit": 500},
        headers=auth["admin"],
    ).json()["items"]
    assert any(e["username"] == "doc-leeds" for e in after)
    assert client.get("/api/v1/audit", headers=auth["coord-leeds"]).status_code == 403


def test_aggregates_hide_small_counts_and_state_the_rule(
    client: TestClient, auth: dict[str, Headers], noted: Noted, platform: Platform
) -> None:
    figures = client.get("/api/v1/aggregates", headers=auth["analyst"]).json()
    assert "Counts from 1 to 4 are not shown" in figures["suppression"]
    counts = [
        row[field]
        for table, field in (
            ("patients_by_centre_stage", "patients"),
            ("patients_by_product_stage", "patients"),
            ("orders_by_status", "orders"),
            ("administered_by_centre_month", "doses"),
        )
        for row in figures[table]
    ]
    counts += [figures["confirmation"]["awaiting"], figures["confirmation"]["overdue"]]
    assert counts and all(n is None or n == 0 or n >= THRESHOLD for n in counts)
    with platform.sessions() as session:
        raw = {
            (centre, stage): n
            for centre, stage, n in session.execute(
                select(tables.Patient.centre_id, tables.Patient.stage, func.count()).group_by(
                    tables.Patient.centre_id, tables.Patient.stage
                )
            )
        }
    shown = {(r["centre_id"], r["stage"]): r["patients"] for r in figures["patients_by_centre_stage"]}
    assert shown.keys() == raw.keys()
    for cell, n in raw.items():
        assert shown[cell] is None if n < THRESHOLD else shown[cell] in (n, None)
    assert raw[("leeds", "discontinued")] >= 1  # this test's own patient is counted
    page = _page_client(client, "analyst").get("/aggregates").text
    assert "Small numbers are hidden" in page and "&lt;5" in page
    cells = re.findall(r"<td>(\d+)</td>", page)
    assert all(int(n) == 0 or int(n) >= THRESHOLD for n in cells)


def test_administrators_see_the_reads_on_a_page_of_their_own(
    client: TestClient, auth: dict[str, Headers], noted: Noted
) -> None:
    client.get(f"/api/v1/patients/{noted.patient}/identity", headers=auth["coord-leeds"])
    page = _page_client(client, "admin").get("/reads", params={"patient": noted.patient})
    assert page.status_code == 200
    assert "coord-leeds" in page.text and f'href="/patients/{noted.patient}"' in page.text
    assert noted.marker not in page.text
    for user in ("coord-leeds", "maker", "analyst"):
        assert _page_client(client, user).get("/reads").status_code == 403
