"""The plan summary: counts, doses per day, batch and chair utilisation, isotope, doses at risk.

Plans come from the fast planner on the England demo network with a handful of
hand-made orders in March 2027 (no bank holiday before Good Friday, 26 March;
London on GMT). Every figure is checked against a count made here from the
placements, not by the summary's own helpers.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rltnet.domain.network import Network
from rltnet.domain.orders import DoseOrder
from rltnet.domain.products import Catalogue
from rltnet.files.network_file import load_network, network_path
from rltnet.planning.greedy import FastPlanner
from rltnet.planning.plan import Placement, Plan
from rltnet.planning.problem import PlanningProblem
from rltnet.planning.summary import (
    RISK_LANE_RELIABILITY,
    PlanSummary,
    RiskReason,
    format_summary,
    summarise,
)

LUTATHERA = "lu177-oxodotreotide"
PLUVICTO = "lu177-vipivotide-tetraxetan"
LONDON = ZoneInfo("Europe/London")
PLACED_AT = datetime(2027, 2, 15, 9, 0, tzinfo=UTC)


def make_plan(network: Network, catalogue: Catalogue, orders: Sequence[DoseOrder]) -> Plan:
    """The plan under test: the one place the planner is called."""
    return FastPlanner().plan(PlanningProblem(network, catalogue, tuple(orders)))


def order(
    catalogue: Catalogue,
    order_id: str,
    centre_id: str,
    product_id: str,
    preferred: date,
    *,
    cycle: int = 1,
    earliest: datetime | None = None,
    latest: datetime | None = None,
) -> DoseOrder:
    """An order preferred at 10:00 London time, admissible from the day before to a week after."""
    preferred_at = datetime(preferred.year, preferred.month, preferred.day, 10, 0, tzinfo=LONDON)
    return DoseOrder(
        order_id=order_id,
        patient_id=f"patient-{order_id}",
        product_id=product_id,
        cycle=cycle,
        centre_id=centre_id,
        earliest_at=earliest or preferred_at - timedelta(days=1),
        latest_at=latest or preferred_at + timedelta(days=7),
        preferred_at=preferred_at,
        prescribed=catalogue.therapy(product_id).prescribe(),
        placed_at=PLACED_AT,
    )


def march_orders(catalogue: Catalogue) -> list[DoseOrder]:
    """Eight orders that can be placed, and one whose window is a weekend (no session)."""
    return [
        order(catalogue, "ord-01", "london", LUTATHERA, date(2027, 3, 10)),
        order(catalogue, "ord-02", "london", PLUVICTO, date(2027, 3, 10)),
        order(catalogue, "ord-03", "reading", LUTATHERA, date(2027, 3, 10), cycle=2),
        order(catalogue, "ord-04", "reading", LUTATHERA, date(2027, 3, 10)),
        order(catalogue, "ord-05", "leeds", PLUVICTO, date(2027, 3, 11)),
        order(catalogue, "ord-06", "bristol", PLUVICTO, date(2027, 3, 16), cycle=3),
        order(catalogue, "ord-07", "manchester", LUTATHERA, date(2027, 3, 18)),
        order(catalogue, "ord-08", "birmingham", PLUVICTO, date(2027, 3, 22), cycle=2),
        order(
            catalogue,
            "ord-09",
            "reading",
            LUTATHERA,
            date(2027, 3, 13),
            earliest=datetime(2027, 3, 13, 8, 0, tzinfo=LONDON),
            latest=datetime(2027, 3, 14, 20, 0, tzinfo=LONDON),
        ),
    ]


@pytest.fixture(scope="module")
def network(catalogue: Catalogue) -> Network:
    return load_network(network_path("england"), catalogue)


@pytest.fixture(scope="module")
def plan(network: Network, catalogue: Catalogue) -> Plan:
    return make_plan(network, catalogue, march_orders(catalogue))


@pytest.fixture(scope="module")
def summary(plan: Plan, network: Network, catalogue: Catalogue) -> PlanSummary:
    return summarise(plan, network, catalogue)


def with_placement(plan: Plan, placement: Placement) -> Plan:
    """`plan` with the placement of the same order replaced by `placement`."""
    placements = tuple(
        placement if p.order.order_id == placement.order.order_id else p for p in plan.placements
    )
    return replace(plan, placements=placements)


def placement_of(plan: Plan, order_id: str) -> Placement:
    found = plan.placement_of(order_id)
    assert found is not None, f"the planner left {order_id} unplanned"
    return found


def test_the_counts_add_up(summary: PlanSummary, plan: Plan) -> None:
    assert summary.orders == 9
    assert summary.placed == 8 and summary.unplanned == 1
    assert summary.placed + summary.unplanned == summary.orders
    assert sum(summary.unplanned_reasons.values()) == summary.unplanned
    assert summary.delayed == sum(1 for p in plan.placements if p.delay_reason is not None)
    assert summary.first_cycles_placed == 5


def test_the_weekend_only_order_is_unplanned_with_its_reason(summary: PlanSummary, plan: Plan) -> None:
    (unplanned,) = plan.unplanned
    assert unplanned.order.order_id == "ord-09"
    assert summary.unplanned_reasons == {unplanned.reason: 1}
    assert unplanned.reason


def test_doses_per_site_per_day_match_a_count_of_the_placements(
    summary: PlanSummary, plan: Plan, network: Network
) -> None:
    expected: Counter[tuple[str, date]] = Counter()
    for p in plan.placements:
        zone = network.sites[p.site_id].calendar.time_zone
        expected[(p.site_id, p.batch_start_at.astimezone(zone).date())] += 1
    found = {
        (site_id, day): n for site_id, days in summary.doses_per_site_day.items() for day, n in days.items()
    }
    assert found == dict(expected)
    assert sum(found.values()) == summary.placed


def test_doses_per_centre_per_day_match_a_count_of_the_placements(summary: PlanSummary, plan: Plan) -> None:
    expected = Counter((p.centre_id, p.administration_at.astimezone(LONDON).date()) for p in plan.placements)
    found = {
        (centre_id, day): n
        for centre_id, days in summary.doses_per_centre_day.items()
        for day, n in days.items()
    }
    assert found == dict(expected)
    assert summary.doses_per_centre_day["reading"] == {date(2027, 3, 10): 2}


def test_batch_utilisation_is_the_doses_over_the_batch_size(
    summary: PlanSummary, plan: Plan, network: Network
) -> None:
    doses = Counter(p.batch_id for p in plan.placements)
    size = {p.batch_id: network.sites[p.site_id].doses_per_batch for p in plan.placements}
    assert summary.batch_utilisation == pytest.approx({b: n / size[b] for b, n in doses.items()})
    shares = [n / size[b] for b, n in doses.items()]
    assert summary.batch_utilisation_mean == pytest.approx(sum(shares) / len(shares))
    assert summary.batch_utilisation_max == pytest.approx(max(shares))
    assert max(doses.values()) > 1, "some batch should carry several doses"


def test_chair_utilisation_is_booked_over_open_chair_time_from_first_to_last_appointment(
    summary: PlanSummary, plan: Plan, network: Network
) -> None:
    first_day = min(p.appointment_at for p in plan.placements).astimezone(LONDON).date()
    last_day = max(p.appointment_at for p in plan.placements).astimezone(LONDON).date()
    assert last_day < date(2027, 3, 26), "the period should hold no bank holiday"
    weekdays = sum(
        1 for k in range((last_day - first_day).days + 1) if (first_day + timedelta(days=k)).weekday() < 5
    )
    for centre_id in ("reading", "london", "newcastle-upon-tyne"):
        centre = network.centres[centre_id]
        hours = datetime.combine(first_day, centre.hours.closes) - datetime.combine(
            first_day, centre.hours.opens
        )
        open_time = hours * weekdays * centre.chairs
        booked = sum(
            (p.appointment_end_at - p.appointment_at for p in plan.placements if p.centre_id == centre_id),
            timedelta(0),
        )
        assert summary.chair_time[centre_id].open == open_time
        assert summary.chair_utilisation[centre_id] == pytest.approx(booked / open_time)
    assert summary.chair_utilisation["newcastle-upon-tyne"] == 0.0
    assert set(summary.chair_utilisation) == set(network.centres)
    values = list(summary.chair_utilisation.values())
    assert summary.chair_utilisation_mean == pytest.approx(sum(values) / len(values))


def test_isotope_overage_is_the_activity_made_less_the_activity_prescribed(
    summary: PlanSummary, plan: Plan
) -> None:
    for site_id, use in summary.isotope_per_site.items():
        at_site = [p for p in plan.placements if p.site_id == site_id]
        made = sum(p.calibration_activity.gbq for p in at_site)
        prescribed = sum(p.order.prescribed.gbq for p in at_site)
        assert use.made.gbq == pytest.approx(made)
        assert use.overage_gbq == pytest.approx(made - prescribed)
    made = sum(p.calibration_activity.gbq for p in plan.placements)
    prescribed = sum(p.order.prescribed.gbq for p in plan.placements)
    assert summary.isotope_total.made.gbq == pytest.approx(made)
    assert summary.isotope_total.overage_gbq == pytest.approx(made - prescribed)
    assert summary.isotope_total.overage_gbq > 0, "decay from batch to infusion costs activity"


def test_a_late_arrival_puts_a_dose_at_risk_only_when_it_cannot_wait_a_day(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    placed = placement_of(plan, "ord-06")
    tight = replace(placed, arrives_at=placed.appointment_at - timedelta(minutes=90))
    summary = summarise(with_placement(plan, tight), network, catalogue)
    assert "ord-06" not in {d.order_id for d in summary.at_risk}, "its window stays open a day"
    product = catalogue.therapy(placed.order.product_id)
    lower_bound = product.tolerance_band(placed.order.prescribed)[0]
    # Filled so that at administration it holds 3 % above the band's lower end: its window
    # closes about 7 h later (Lu-177 loses about 0.43 % an hour), so it cannot wait a day.
    nearly_spent = replace(
        tight,
        calibration_activity=placed.calibration_activity
        * (1.03 * lower_bound.bq / placed.order.prescribed.bq),
        dose_of="another",
    )
    summary = summarise(with_placement(plan, nearly_spent), network, catalogue)
    (at_risk,) = [d for d in summary.at_risk if d.order_id == "ord-06"]
    assert at_risk.reasons == (RiskReason.ARRIVAL_MARGIN,)
    assert at_risk.centre_id == "bristol"
    assert "arrives 30 min before its handover" in at_risk.details[0]


def test_a_dose_with_three_hours_to_spare_on_a_reliable_lane_is_not_at_risk(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    placed = placement_of(plan, "ord-06")
    assert network.lanes[placed.lane_id].reliability >= RISK_LANE_RELIABILITY
    relaxed = replace(placed, arrives_at=placed.appointment_at - timedelta(hours=3))
    summary = summarise(with_placement(plan, relaxed), network, catalogue)
    assert "ord-06" not in {d.order_id for d in summary.at_risk}


def test_a_dose_on_a_lane_on_time_nine_times_in_ten_is_at_risk_for_its_lane(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    placed = placement_of(plan, "ord-06")
    relaxed = replace(placed, arrives_at=placed.appointment_at - timedelta(hours=3))
    lanes = dict(network.lanes)
    lanes[placed.lane_id] = replace(lanes[placed.lane_id], reliability=0.9)
    summary = summarise(with_placement(plan, relaxed), replace(network, lanes=lanes), catalogue)
    (at_risk,) = [d for d in summary.at_risk if d.order_id == "ord-06"]
    assert at_risk.reasons == (RiskReason.LANE_RELIABILITY,)
    assert "90%" in at_risk.details[0]


def test_a_pluvicto_dose_given_an_hour_before_its_window_closes_is_at_risk_twice(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    placed = placement_of(plan, "ord-05")
    window = placed.dose(catalogue.therapy(PLUVICTO)).window()
    assert window is not None and window.latest_limited_by.value == "tolerance"
    late_at = window.latest_at - timedelta(hours=1)
    late = replace(
        placed,
        arrives_at=late_at - timedelta(hours=4),
        appointment_at=late_at - timedelta(hours=1),
        administration_at=late_at,
        appointment_end_at=late_at + timedelta(hours=4),
    )
    summary = summarise(with_placement(plan, late), network, catalogue)
    (at_risk,) = [d for d in summary.at_risk if d.order_id == "ord-05"]
    # Pluvicto's window closes when it decays to the band's low end: both margins are thin.
    assert at_risk.reasons == (RiskReason.WINDOW_MARGIN, RiskReason.TOLERANCE_MARGIN)


def test_the_summary_turns_into_json_with_iso_days_and_the_solver_report(
    summary: PlanSummary, plan: Plan
) -> None:
    data = json.loads(json.dumps(summary.to_json()))
    assert data["orders"]["total"] == 9
    assert data["doses_per_centre_day"]["reading"] == {"2027-03-10": 2}
    assert sum(n for days in data["doses_per_site_day"].values() for n in days.values()) == 8
    assert data["at_risk"]["count"] == len(summary.at_risk)
    assert plan.report is not None
    assert data["solver"]["planner"] == plan.report.planner
    assert set(data["solver"]) == {"planner", "objective", "bound", "gap", "wall_s", "status"}
    assert data["isotope"]["total"]["overage_gbq"] == pytest.approx(
        summary.isotope_total.overage_gbq, abs=1e-3
    )


def test_the_printed_rows_are_labelled_figures(summary: PlanSummary) -> None:
    rows = format_summary(summary)
    assert rows[0] == ("orders", "9")
    assert ("placed / unplanned", "8 / 1") in rows
    assert all(isinstance(label, str) and isinstance(value, str) for label, value in rows)
    assert dict(rows)["planner"] == "fast (heuristic)"
    assert dict(rows)["doses at risk"] == str(len(summary.at_risk))


def test_an_empty_plan_summarises_to_zeros(network: Network, catalogue: Catalogue) -> None:
    summary = summarise(Plan((), ()), network, catalogue)
    assert (summary.orders, summary.placed, summary.unplanned) == (0, 0, 0)
    assert summary.batch_utilisation_max == 0.0 and summary.chair_utilisation_mean == 0.0
    assert summary.isotope_total.made.bq == 0.0
    assert summary.at_risk == () and summary.solver is None
    assert json.loads(json.dumps(summary.to_json()))["solver"] is None
    assert format_summary(summary)[0] == ("orders", "0")
