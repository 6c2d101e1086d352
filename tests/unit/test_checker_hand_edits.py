"""Hand-edited plans that break documented rules: `plan check` must name each one.

A plan of the England network is written as `plan.json` would be, edited as a person
with a text editor might, read back and checked.
"""

from __future__ import annotations

import copy
import math
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from rltnet.domain.errors import DataFileError
from rltnet.domain.network import Network
from rltnet.domain.products import Catalogue
from rltnet.files.catalogue_file import default_catalogue
from rltnet.files.network_file import load_network, network_path
from rltnet.files.plan_file import parse_plan, plan_to_json
from rltnet.planning.checker import Violation, check_plan
from rltnet.planning.greedy import EarliestDeadlineFirst
from rltnet.planning.order_generator import generate_orders
from rltnet.planning.problem import PlanningProblem


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return default_catalogue()


@pytest.fixture(scope="module")
def england(catalogue: Catalogue) -> Network:
    return load_network(network_path("england"), catalogue)


@pytest.fixture(scope="module")
def document(england: Network, catalogue: Catalogue) -> dict[str, Any]:
    orders = generate_orders(england, catalogue, start_date=date(2027, 1, 4), weeks=1, seed=7)
    plan = EarliestDeadlineFirst().plan(PlanningProblem(england, catalogue, tuple(orders)))
    return plan_to_json(plan, "england")


def checked(document: dict[str, Any], england: Network, catalogue: Catalogue) -> list[Violation]:
    stored = parse_plan(document)
    return check_plan(stored.plan, england, catalogue, stored.plan.orders)


def shifted(text: str, hours: float) -> str:
    moment = datetime.fromisoformat(text) + timedelta(hours=hours)
    return moment.isoformat().replace("+00:00", "Z")


def test_the_plan_as_written_breaks_no_rule(
    document: dict[str, Any], england: Network, catalogue: Catalogue
) -> None:
    assert checked(document, england, catalogue) == []


def test_an_appointment_off_the_session_grid_is_named(
    document: dict[str, Any], england: Network, catalogue: Catalogue
) -> None:
    edited = copy.deepcopy(document)
    first = next(p for p in edited["placements"] if p["appointment_at"].endswith("T08:00:00Z"))
    for key in ("appointment_at", "appointment_end_at", "administration_at"):
        first[key] = shifted(first[key], 1)
    order = next(o for o in edited["orders"] if o["order_id"] == first["order_id"])
    nuclide = catalogue.therapy(order["product_id"]).nuclide
    first["calibration_activity_bq"] *= math.exp(nuclide.decay_constant_per_s * 3600)  # exact an hour later
    found = [v for v in checked(edited, england, catalogue) if v.order_id == first["order_id"]]
    assert any(v.rule == "centre_hours" and "session grid" in v.detail for v in found), found


def test_a_placement_at_a_centre_that_is_not_its_orders_is_refused_when_read(
    document: dict[str, Any],
) -> None:
    edited = copy.deepcopy(document)
    edited["placements"][0]["centre_id"] = "atlantis"
    with pytest.raises(DataFileError, match=r"placements\[0\]\.centre_id: 'atlantis' is not the centre"):
        parse_plan(edited)


def test_a_dose_of_naming_a_missing_order_is_named(
    document: dict[str, Any], england: Network, catalogue: Catalogue
) -> None:
    edited = copy.deepcopy(document)
    edited["placements"][0]["dose_of"] = "O999999"
    found = checked(edited, england, catalogue)
    assert [(v.rule, v.order_id) for v in found] == [("dose_of", edited["placements"][0]["order_id"])]
    assert "'O999999', which is not in the plan" in found[0].detail


def test_a_fresh_dose_over_its_prescription_cannot_pass_as_its_own_re_used_dose(
    document: dict[str, Any], england: Network, catalogue: Catalogue
) -> None:
    edited = copy.deepcopy(document)
    first = edited["placements"][0]
    first["calibration_activity_bq"] *= 1.07  # inside a 10 % tolerance, not what was prescribed
    first["dose_of"] = first["order_id"]
    found = checked(edited, england, catalogue)
    assert [(v.rule, v.order_id) for v in found] == [("dose_of", first["order_id"])]
    assert "it was not filled for that order" in found[0].detail


def test_one_dose_claimed_by_two_patients_is_named(
    document: dict[str, Any], england: Network, catalogue: Catalogue
) -> None:
    edited = copy.deepcopy(document)
    first = edited["placements"][0]
    twin = next(
        p
        for p in edited["placements"][1:]
        if (p["centre_id"], p["batch_id"]) == (first["centre_id"], first["batch_id"])
    )
    edited["cancelled"] = [next(o for o in edited["orders"] if o["order_id"] == first["order_id"])]
    edited["orders"] = [o for o in edited["orders"] if o["order_id"] != first["order_id"]]
    edited["placements"] = [p for p in edited["placements"] if p is not first]
    twin["dose_of"] = first["order_id"]
    second = copy.deepcopy(twin)
    thief = next(
        p
        for p in edited["placements"]
        if p is not twin and p["centre_id"] == first["centre_id"] and p["order_id"] != twin["order_id"]
    )
    for key in ("batch_id", "batch_start_at", "released_at", "calibration_activity_bq", "dose_of"):
        thief[key] = second[key]
    found = [v for v in checked(edited, england, catalogue) if v.rule == "dose_of"]
    assert any("is given to 2 orders" in v.detail for v in found), found
