"""The audit trail records every write, login and logout, and stays readable whatever is sent.

The trail is append-only: a value stored there that a reader cannot take back (a lone
surrogate, NaN, nesting hundreds deep) would break GET /audit for good. Such values are
refused at the edge, with a 422 that says where, and nothing is stored.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from clinic import PASSWORD, Clinic, Headers
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from rltnet.service.platform import Platform
from rltnet.store import tables

API = "/api/v1"


def trail(client: TestClient, auth: dict[str, Headers], **query: str) -> list[dict[str, Any]]:
    response = client.get(f"{API}/audit", headers=auth["admin"], params={"limit": 200, **query})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def count(platform: Platform, table: type[tables.Base]) -> int:
    with platform.sessions() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


# follow-up `data` as raw JSON text, each once stored and then breaking every read of the trail
UNREADABLE = {
    "lone surrogate": ('{"psa": "\\ud800"}', "lone UTF-16 surrogate"),
    "lone low surrogate in a key": ('{"\\udc00": 1}', "lone UTF-16 surrogate"),
    "NaN": ('{"psa": NaN}', "not a finite number"),
    "Infinity": ('{"psa": Infinity}', "not a finite number"),
    "-Infinity": ('{"psa": [1, -Infinity]}', "not a finite number"),
    "1e309": ('{"psa": 1e309}', "not a finite number"),
    "300 deep": (nested(300), "nested more than"),
    "NUL": ('{"psa": "a\\u0000b"}', "NUL character"),
}


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_follow_up_data_no_reader_could_read_back_is_refused_and_the_trail_stays_readable(
    case: str, client: TestClient, clinic: Clinic, auth: dict[str, Headers], platform: Platform
) -> None:
    patient = clinic.refer("leeds")
    data, words = UNREADABLE[case]
    stored = count(platform, tables.FollowUp), count(platform, tables.AuditEntry)
    response = client.post(
        f"{API}/patients/{patient}/follow-ups",
        headers={**auth["coord-leeds"], "Content-Type": "application/json"},
        content=f'{{"kind": "labs", "data": {data}}}'.encode(),
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert words in json.dumps(body), body
    assert "data" in json.dumps(body)  # says where
    assert (count(platform, tables.FollowUp), count(platform, tables.AuditEntry)) == stored
    assert trail(client, auth)  # still read whole


def test_a_reason_with_a_lone_surrogate_is_refused_on_any_write(
    client: TestClient, clinic: Clinic, auth: dict[str, Headers]
) -> None:
    patient = clinic.refer("leeds")
    response = client.post(
        f"{API}/patients/{patient}/imaging-requests",
        headers={**auth["coord-leeds"], "Content-Type": "application/json"},
        content=b'{"agent": "Locametz", "reason": "ok \\ud83d then"}',
    )
    assert response.status_code == 422 and "surrogate" in response.text
    events = clinic.call("GET", f"/patients/{patient}/events", "coord-leeds")
    assert [e["move"] for e in events] == ["refer"]


def test_a_deep_but_reasonable_follow_up_is_taken_and_read_back_whole(
    client: TestClient, clinic: Clinic, auth: dict[str, Headers]
) -> None:
    patient = clinic.refer("leeds")
    data = {"panel": {"psa": 4.2, "values": [1, 2.5, {"unit": "ng/mL"}]}, "note": "na\u00efve \U0001f600"}
    clinic.call("POST", f"/patients/{patient}/follow-ups", "coord-leeds", json={"kind": "labs", "data": data})
    entry = trail(client, auth, entity_id=patient, action="follow_up")[0]
    assert entry["after"]["kind"] == "labs"  # the values themselves are sealed clinical data


def test_an_entry_stored_before_the_check_is_read_back_repaired(
    client: TestClient, auth: dict[str, Headers], platform: Platform
) -> None:
    """Entries written before requests were checked cannot be removed (append-only): GET /audit
    reads them with the unreadable parts replaced, not with a 500."""
    deep: Any = 1
    for _ in range(300):
        deep = {"a": deep}
    with platform.sessions() as session:
        session.add(
            tables.AuditEntry(
                at=datetime.now(UTC),
                username="legacy",
                role="coordinator",
                action="follow_up",
                entity="patient",
                entity_id="P-LEGACY-DEEP",
                before=None,
                after={"data": deep},
            )
        )
        session.commit()
    entry = trail(client, auth, entity_id="P-LEGACY-DEEP")[0]
    depth, value = 0, entry["after"]
    while isinstance(value, dict):
        value, depth = next(iter(value.values())), depth + 1
    assert value == "(nested deeper than 16: left out)" and depth == 16


def test_logins_logouts_and_failed_logins_are_audited_without_the_password(
    client: TestClient, auth: dict[str, Headers]
) -> None:
    wrong = client.post(f"{API}/auth/login", json={"username": "analyst", "password": "guess-one"})
    assert wrong.status_code == 401
    unknown = client.post(f"{API}/auth/login", json={"username": "nobody-here", "password": "guess-two"})
    assert unknown.status_code == 401
    right = client.post(f"{API}/auth/login", json={"username": "analyst", "password": PASSWORD})
    assert right.status_code == 200
    token = right.json()["access_token"]
    out = client.post(f"{API}/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert out.status_code == 204

    actions = [e["action"] for e in trail(client, auth, username="analyst")]
    assert actions[:3] == ["logout", "login", "login_failed"]
    failed = trail(client, auth, username="nobody-here")[0]
    assert failed["action"] == "login_failed" and failed["role"] == "unknown"
    assert failed["after"]["client"] and failed["after"]["reason"] == "wrong username or password"
    everything = json.dumps(trail(client, auth))
    for secret in ("guess-one", "guess-two", PASSWORD, token):
        assert secret not in everything


def _placed(clinic: Clinic, centre: str) -> dict[str, Any]:
    order = clinic.order(clinic.approve(centre), centre)
    assert order["placement"] is not None
    return order


def test_a_replan_writes_one_entry_per_order_it_moves_with_before_and_after(
    client: TestClient, clinic: Clinic, auth: dict[str, Headers]
) -> None:
    order = _placed(clinic, "leeds")
    batch = order["placement"]["batch_id"]
    body = {"events": [{"kind": "batch_failed", "batch": batch, "reason": "sterility test"}], "commit": True}
    done = clinic.call("POST", "/disruptions", "maker", json=body)
    changed = {c["order_id"]: c for c in done["changes"]}
    assert order["id"] in changed

    entries = [e for e in trail(client, auth, action="disruption") if e["entity"] == "order"]
    by_order = {e["entity_id"]: e for e in entries[: len(changed)]}
    assert set(by_order) == set(changed)
    moved = by_order[order["id"]]
    assert moved["username"] == "maker"
    assert moved["before"]["batch_id"] == batch
    assert moved["after"]["change"] == changed[order["id"]]["kind"]
    assert moved["after"].get("batch_id") != batch
    plan_entry = trail(client, auth, action="disruption", entity="plan")[0]
    assert plan_entry["after"]["changes"] == len(changed)


def test_a_committed_optimisation_audits_each_change(
    client: TestClient, clinic: Clinic, auth: dict[str, Headers]
) -> None:
    for centre in ("leeds", "london"):
        _placed(clinic, centre)
    before = len(trail(client, auth, action="optimise", entity="order"))
    result = clinic.call("POST", "/plan/optimise", "maker", json={"commit": True})
    entries = trail(client, auth, action="optimise", entity="order")
    assert len(entries) - before == len(result["changes"])
    assert {e["entity_id"] for e in entries[: len(result["changes"])]} == {
        c["order_id"] for c in result["changes"]
    }
