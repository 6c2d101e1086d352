"""A disruption's preview and commit never show or write a plan that breaks a rule."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from clinic import Clinic, Headers
from fastapi.testclient import TestClient

from rltnet.planning.replan import Replan, replan
from rltnet.service.usecases import plan as plan_usecase


def _with_a_faulty_planner(monkeypatch: pytest.MonkeyPatch) -> None:
    """The re-planner with a fault: it puts every appointment on a chair no centre has."""

    def faulty(*args: Any, **kwargs: Any) -> Replan:
        result = replan(*args, **kwargs)
        broken = tuple(dataclasses.replace(p, chair=99) for p in result.plan.placements)
        return dataclasses.replace(result, plan=dataclasses.replace(result.plan, placements=broken))

    monkeypatch.setattr(plan_usecase, "replan", faulty)


def test_a_re_plan_that_breaks_a_rule_is_refused_and_writes_nothing(
    clinic: Clinic, client: TestClient, auth: dict[str, Headers], monkeypatch: pytest.MonkeyPatch
) -> None:
    order = clinic.order(clinic.approve("leeds", "Pluvicto"), "leeds")
    placed = order["placement"]
    assert placed is not None
    declared = clinic.call("GET", "/disruptions", "maker")["total"]
    _with_a_faulty_planner(monkeypatch)
    body = {"events": [{"kind": "batch_failed", "batch": placed["batch_id"], "reason": "sterility"}]}
    for commit in (False, True):
        response = client.post("/api/v1/disruptions", headers=auth["maker"], json={**body, "commit": commit})
        assert response.status_code == 409, response.text
        assert "chair 99 does not exist" in response.json()["message"]
    assert clinic.call("GET", "/disruptions", "maker")["total"] == declared
    after = clinic.call("GET", f"/orders/{order['id']}", "maker")["placement"]
    assert (after["batch_id"], after["chair"]) == (placed["batch_id"], placed["chair"])


def test_a_failed_batch_no_site_makes_is_refused_naming_it(
    client: TestClient, auth: dict[str, Headers]
) -> None:
    body = {"events": [{"kind": "batch_failed", "batch": "atlantis-20270104-0600"}], "commit": True}
    response = client.post("/api/v1/disruptions", headers=auth["maker"], json=body)
    assert response.status_code == 422
    assert "unknown batch 'atlantis-20270104-0600'" in response.json()["message"]
