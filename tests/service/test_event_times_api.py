"""A dose's journey on the service clock: times checked against the clock and what was recorded,
the facts recorded at each step, corrections, and the cancellation fee shown before cancelling.

Every test runs on a service of this module's own whose clock the tests advance
(`clocked`): no event is written dated ahead of the service's clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from clinic import Clinic

from rltnet.domain import disclosure

Answer = tuple[int, dict[str, Any]]


def _post(clinic: Clinic, path: str, user: str, body: dict[str, Any]) -> Answer:
    response = clinic.client.post(f"/api/v1{path}", headers=clinic.auth[user], json=body)
    return response.status_code, response.json() if response.content else {}


def _progress(clinic: Clinic, order: dict[str, Any], step: str, **facts: Any) -> Answer:
    return _post(clinic, f"/orders/{order['id']}/progress", "maker", {"step": step, **facts})


def _confirmed(clinic: Clinic, product: str = "Pluvicto") -> dict[str, Any]:
    order = clinic.order(clinic.approve("leeds", product))
    confirmed: dict[str, Any] = clinic.call("POST", f"/orders/{order['id']}/confirmation", "maker")
    return confirmed


def _at(order: dict[str, Any], field: str) -> datetime:
    return datetime.fromisoformat(order["placement"][field])


def test_each_step_too_early_is_refused_against_what_was_recorded_with_what_to_do(clocked: Clinic) -> None:
    order = _confirmed(clocked)
    status, said = _progress(clocked, order, "start_production")
    assert (
        status == 409 and "before batch" in said["detail"] and "once the batch has started" in said["detail"]
    )
    clocked.advance_to(_at(order, "calibration_at") + timedelta(hours=1))  # the batch starts late
    assert _progress(clocked, order, "start_production")[0] == 200
    status, said = _progress(clocked, order, "release", calibration_gbq=9.0, lot="L-1")
    assert status == 409 and "before QC can end" in said["detail"]
    assert "QC takes 6 h" in said["detail"]  # the England sites' QC time
    clocked.advance_to(_at(order, "released_at"))  # the planned release: QC is not over yet
    assert _progress(clocked, order, "release", calibration_gbq=9.0, lot="L-1")[0] == 409
    clocked.advance(timedelta(hours=1))
    status, said = _progress(clocked, order, "release")
    assert status == 422 and "calibration_gbq" in said["message"] and "lot" in said["message"]
    assert _progress(clocked, order, "release", calibration_gbq=9.0, lot="L-1")[0] == 200
    status, said = _progress(clocked, order, "ship")
    assert status == 422 and "courier" in said["message"]
    assert _progress(clocked, order, "ship", courier="Movianto", tracking="MV-1")[0] == 200
    status, said = _progress(clocked, order, "deliver")
    assert status == 409 and "too soon after the departure" in said["detail"]
    assert "record the time the dose was received" in said["detail"]


def test_no_step_is_recorded_in_the_future_beyond_five_minutes(clocked: Clinic) -> None:
    order = clocked.deliver(_confirmed(clocked))
    now = clocked.clock.now()
    body = {"order_id": order["id"], "assayed_gbq": 7.4, "at": (now + timedelta(hours=2)).isoformat()}
    status, said = _post(clocked, f"/patients/{order['patient_id']}/administrations", "doc-leeds", body)
    assert status == 409 and "is in the future" in said["detail"] and "once it has happened" in said["detail"]
    follow_up = {"kind": "labs", "at": (now + timedelta(days=1)).isoformat()}
    status, said = _post(clocked, f"/patients/{order['patient_id']}/follow-ups", "doc-leeds", follow_up)
    assert status == 409 and "in the future" in said["detail"]
    patient = clocked.call("GET", f"/patients/{order['patient_id']}", "doc-leeds")
    assert patient["stage"] == "delivered"


def test_a_time_entered_to_the_minute_is_not_refused_against_an_event_of_that_minute(clocked: Clinic) -> None:
    order = clocked.deliver(_confirmed(clocked), until="ship")
    clocked.advance_to(_at(order, "arrives_at") + timedelta(seconds=37, microseconds=123456))
    delivered = clocked.call("POST", f"/orders/{order['id']}/progress", "maker", json={"step": "deliver"})
    received = datetime.fromisoformat(delivered["recorded"]["delivered_at"])
    typed = received.replace(second=0, microsecond=0)  # what a form with minute precision sends
    assert typed < received
    body = {
        "order_id": order["id"],
        "at": typed.isoformat(),
        "assayed_gbq": clocked.expected_gbq(order, typed),
    }
    status, said = _post(clocked, f"/patients/{order['patient_id']}/administrations", "doc-leeds", body)
    assert status == 201, said
    assert said["stage"] == "administered"


def test_the_facts_of_each_step_are_stored_and_shown_on_the_order_and_the_timeline(clocked: Clinic) -> None:
    order = clocked.deliver(_confirmed(clocked))
    clocked.administer(order)
    seen = clocked.call("GET", f"/orders/{order['id']}", "coord-leeds")
    recorded = seen["recorded"]
    assert recorded["lot"] == f"LOT-{order['id'][-4:]}" and recorded["qc_result"] == "pass"
    assert recorded["calibration_gbq"] > 7.4  # measured at release, before the decay to the chair
    assert recorded["courier"] == "Movianto" and recorded["tracking"] == f"MV-{order['id'][-6:]}"
    assert recorded["delivered_at"] is not None and recorded["given_by"] == "doc-leeds"
    assert abs(recorded["administered_gbq"] - (recorded["assayed_gbq"] - 0.05)) < 1e-9
    assert seen["status"] == "administered" and seen["placement"]["shipment_status"] == "delivered"
    events = {
        e["move"]: e for e in clocked.call("GET", f"/patients/{order['patient_id']}/events", "doc-leeds")
    }
    assert events["release"]["data"]["release"]["lot"] == recorded["lot"]
    assert events["ship"]["data"]["shipping"]["courier"] == "Movianto"
    assert events["administer"]["data"]["administration"]["given_by"] == "doc-leeds"


def test_a_wrong_entry_is_corrected_by_its_role_and_the_state_rebuilt_from_the_events(
    clocked: Clinic,
) -> None:
    order = clocked.deliver(_confirmed(clocked))
    patient = order["patient_id"]
    events = clocked.call("GET", f"/patients/{patient}/events", "maker")
    deliver_seq = next(e["seq"] for e in events if e["move"] == "deliver")
    right = datetime.fromisoformat(events[-1]["at"]) - timedelta(minutes=20)
    fix = {
        "entry": deliver_seq,
        "action": "correct",
        "reason": "typed the wrong time",
        "at": right.isoformat(),
    }
    status, said = _post(clocked, f"/patients/{patient}/corrections", "doc-leeds", fix)
    assert status == 403 and "recorded by a manufacturer" in said["detail"]
    assert _post(clocked, f"/patients/{patient}/corrections", "maker", {**fix, "reason": ""})[0] == 422
    assert _post(clocked, f"/patients/{patient}/corrections", "maker", fix)[0] == 201
    recorded = clocked.call("GET", f"/orders/{order['id']}", "maker")["recorded"]
    assert datetime.fromisoformat(recorded["delivered_at"]) == right
    events = clocked.call("GET", f"/patients/{patient}/events", "maker")
    original = next(e for e in events if e["seq"] == deliver_seq)
    assert original["status"] == "corrected" and original["at"] != recorded["delivered_at"]  # kept
    correction = events[-1]
    assert correction["move"] == "correct" and correction["data"]["corrects"] == deliver_seq
    assert original["corrected_by"] == [correction["seq"]]
    # too soon after the departure: refused as a new entry would be, nothing changes
    ship = next(e for e in events if e["move"] == "ship")
    too_soon = {**fix, "at": (datetime.fromisoformat(ship["at"]) + timedelta(hours=1)).isoformat()}
    status, said = _post(clocked, f"/patients/{patient}/corrections", "maker", too_soon)
    assert status == 409 and "too soon after the departure" in said["detail"]
    # the shipping cannot be voided while its delivery stands; the delivery can, by an administrator
    void_ship = {"entry": ship["seq"], "action": "void", "reason": "recorded on the wrong order"}
    status, said = _post(clocked, f"/patients/{patient}/corrections", "admin", void_ship)
    assert status == 409 and "does not hold" in said["detail"]
    void_delivery = {"entry": deliver_seq, "action": "void", "reason": "not arrived yet"}
    assert _post(clocked, f"/patients/{patient}/corrections", "admin", void_delivery)[0] == 201
    assert clocked.call("GET", f"/patients/{patient}", "coord-leeds")["stage"] == "shipped"
    seen = clocked.call("GET", f"/orders/{order['id']}", "coord-leeds")
    assert seen["recorded"]["delivered_at"] is None and seen["placement"]["shipment_status"] == "in transit"
    audit = clocked.call("GET", "/audit", "admin", params={"entity_id": patient, "action": "void"})
    assert audit["total"] >= 1 and audit["items"][0]["before"]["move"] == "deliver"


def test_an_administration_voided_by_mistake_puts_the_order_back_under_way(
    clocked: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(disclosure, "THRESHOLD", 1)  # follow one dose through the registry's count
    order = clocked.deliver(_confirmed(clocked))
    clocked.administer(order)
    events = clocked.call("GET", f"/patients/{order['patient_id']}/events", "doc-leeds")
    given = next(e["seq"] for e in events if e["move"] == "administer")

    def doses_given() -> int:
        counts = clocked.call("GET", "/aggregates", "analyst")["administered_by_centre_month"]
        return sum(c["doses"] for c in counts if c["centre_id"] == "leeds")

    before = doses_given()
    void = {"entry": given, "action": "void", "reason": "recorded for the wrong patient"}
    assert _post(clocked, f"/patients/{order['patient_id']}/corrections", "coord-leeds", void)[0] == 403
    assert _post(clocked, f"/patients/{order['patient_id']}/corrections", "doc-leeds", void)[0] == 201
    patient = clocked.call("GET", f"/patients/{order['patient_id']}", "doc-leeds")
    assert patient["stage"] == "delivered" and patient["cycles_given"] == 0
    assert clocked.call("GET", f"/orders/{order['id']}", "doc-leeds")["status"] == "confirmed"
    assert doses_given() == before - 1  # the registry's count no longer holds it


def test_the_cancellation_fee_is_shown_before_cancelling_in_the_terms_of_the_centres_country(
    clocked: Clinic,
) -> None:
    order = _confirmed(clocked, "Lutathera")
    preview = clocked.call("GET", f"/orders/{order['id']}/cancellation", "coord-leeds")
    assert preview["country"] == "GB" and preview["fee"] is None
    assert "published for US, none for GB" in preview["consequence"]
    assert clocked.call("GET", f"/orders/{order['id']}", "coord-leeds")["status"] == "confirmed"  # unchanged
    cancelled = clocked.call(
        "POST", f"/orders/{order['id']}/cancellation", "coord-leeds", json={"reason": "patient unwell"}
    )
    assert cancelled["consequence"] == f"cancelled; {preview['consequence']}" and cancelled["fee"] is None
    pluvicto = _confirmed(clocked)
    said = clocked.call("GET", f"/orders/{pluvicto['id']}/cancellation", "coord-leeds")["consequence"]
    assert said == "no fee: Pluvicto publishes no cancellation terms"
