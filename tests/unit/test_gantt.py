"""The plan's Gantt page: one chart of batches, shipments and chairs over the chosen days.

Plans come from the fast planner on the England demo network (13 centres) with
hand-made orders in March 2027. The chart keeps its text as SVG text, so batch
ids and centre names can be found in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from rltnet.domain.errors import InvalidInput, UnknownName
from rltnet.domain.network import Network
from rltnet.domain.orders import DoseOrder
from rltnet.domain.products import Catalogue
from rltnet.files.network_file import load_network, network_path
from rltnet.planning.greedy import FastPlanner
from rltnet.planning.plan import Placement, Plan
from rltnet.planning.problem import PlanningProblem
from rltnet.report.gantt import MAX_DEFAULT_CENTRES, gantt_window, render_gantt, write_gantt

LUTATHERA = "lu177-oxodotreotide"
PLUVICTO = "lu177-vipivotide-tetraxetan"
LONDON = ZoneInfo("Europe/London")
PLACED_AT = datetime(2027, 2, 15, 9, 0, tzinfo=UTC)
WINDOW_START = date(2027, 3, 15)
WINDOW_DAYS = 7


def make_plan(network: Network, catalogue: Catalogue, orders: Sequence[DoseOrder]) -> Plan:
    """The plan under test: the one place the planner is called."""
    return FastPlanner().plan(PlanningProblem(network, catalogue, tuple(orders)))


def order(catalogue: Catalogue, order_id: str, centre_id: str, product_id: str, preferred: date) -> DoseOrder:
    """A first cycle preferred at 10:00 London time, admissible from the day before to a week after."""
    preferred_at = datetime(preferred.year, preferred.month, preferred.day, 10, 0, tzinfo=LONDON)
    return DoseOrder(
        order_id=order_id,
        patient_id=f"patient-{order_id}",
        product_id=product_id,
        cycle=1,
        centre_id=centre_id,
        earliest_at=preferred_at - timedelta(days=1),
        latest_at=preferred_at + timedelta(days=7),
        preferred_at=preferred_at,
        prescribed=catalogue.therapy(product_id).prescribe(),
        placed_at=PLACED_AT,
    )


def march_orders(catalogue: Catalogue) -> list[DoseOrder]:
    """Orders over three weeks, so that a one-week chart leaves some out on either side."""
    return [
        order(catalogue, "ord-01", "london", LUTATHERA, date(2027, 3, 9)),
        order(catalogue, "ord-02", "london", PLUVICTO, date(2027, 3, 10)),
        order(catalogue, "ord-03", "reading", LUTATHERA, date(2027, 3, 11)),
        order(catalogue, "ord-04", "reading", LUTATHERA, date(2027, 3, 16)),
        order(catalogue, "ord-05", "reading", PLUVICTO, date(2027, 3, 16)),
        order(catalogue, "ord-06", "leeds", PLUVICTO, date(2027, 3, 17)),
        order(catalogue, "ord-07", "bristol", LUTATHERA, date(2027, 3, 18)),
        order(catalogue, "ord-08", "manchester", PLUVICTO, date(2027, 3, 24)),
        order(catalogue, "ord-09", "birmingham", LUTATHERA, date(2027, 3, 25)),
    ]


@pytest.fixture(scope="module")
def network(catalogue: Catalogue) -> Network:
    return load_network(network_path("england"), catalogue)


@pytest.fixture(scope="module")
def plan(network: Network, catalogue: Catalogue) -> Plan:
    return make_plan(network, catalogue, march_orders(catalogue))


@pytest.fixture(scope="module")
def page(plan: Plan, network: Network, catalogue: Catalogue) -> str:
    return render_gantt(plan, network, catalogue, start=WINDOW_START, days=WINDOW_DAYS)


def in_window(plan: Plan) -> tuple[list[Placement], list[Placement]]:
    """The placements given in the test's window, and the rest, split here by hand."""
    start_at = datetime(WINDOW_START.year, WINDOW_START.month, WINDOW_START.day, tzinfo=UTC)
    end_at = start_at + timedelta(days=WINDOW_DAYS)
    inside = [p for p in plan.placements if start_at <= p.administration_at < end_at]
    outside = [p for p in plan.placements if p not in inside]
    return inside, outside


def svg_of(page: str) -> str:
    return page[page.index("<svg") : page.index("</svg>")]


def test_the_page_is_one_svg_chart_in_an_accessible_figure(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 1
    assert '<figure role="img" aria-label="Gantt chart of' in page
    assert "<figcaption>" in page
    assert "time (UTC)" in svg_of(page)
    assert "2027-03-15 to 2027-03-21" in page


def test_the_chart_names_the_batches_and_centres_of_the_window(
    page: str, plan: Plan, network: Network
) -> None:
    inside, _ = in_window(plan)
    assert inside, "the plan should give doses inside the window"
    svg = svg_of(page)
    for p in inside:
        assert p.batch_id in svg
        assert f"lane · {p.lane_id}" in svg
        assert f"{network.centres[p.centre_id].name} · chair {p.chair}" in svg
    # With 13 centres the 12 busiest are drawn, every chair of each.
    reading = network.centres["reading"]
    assert all(f"{reading.name} · chair {n}" in svg for n in range(1, reading.chairs + 1))


def test_only_placements_inside_the_window_are_shown(page: str, plan: Plan) -> None:
    inside, outside = in_window(plan)
    assert outside, "the plan should give doses outside the window too"
    assert all(f"<td>{p.order.order_id}</td>" in page for p in inside)
    assert not any(p.order.order_id in page for p in outside)
    shown_batches = {p.batch_id for p in inside}
    assert not any(p.batch_id in page for p in outside if p.batch_id not in shown_batches)
    assert page.count("<tr><td>") == len(inside)


def test_the_default_window_starts_on_the_day_of_the_first_administration(
    plan: Plan, network: Network
) -> None:
    window = gantt_window(plan, network)
    first_at = min(p.administration_at for p in plan.placements)
    assert window.start_at == datetime(first_at.year, first_at.month, first_at.day, tzinfo=UTC)
    assert window.end_at - window.start_at == timedelta(days=14)


def test_with_more_than_twelve_centres_the_twelve_busiest_are_shown(
    network: Network, catalogue: Catalogue
) -> None:
    assert len(network.centres) == MAX_DEFAULT_CENTRES + 1
    idle = "newcastle-upon-tyne"
    orders = [
        order(catalogue, f"ord-{k:02d}", centre_id, PLUVICTO, date(2027, 3, 10))
        for k, centre_id in enumerate(sorted(c for c in network.centres if c != idle))
    ]
    plan = make_plan(network, catalogue, orders)
    window = gantt_window(plan, network)
    assert set(window.centre_ids) == set(network.centres) - {idle}
    assert len(window.placements) == len(plan.placements) == MAX_DEFAULT_CENTRES


def test_chosen_centres_limit_the_chair_rows_and_the_placements(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    page = render_gantt(plan, network, catalogue, centres=["reading"], start=WINDOW_START, days=7)
    inside, _ = in_window(plan)
    at_reading = [p for p in inside if p.centre_id == "reading"]
    assert at_reading
    assert page.count("<tr><td>") == len(at_reading)
    svg = svg_of(page)
    assert network.centres["reading"].name in svg
    assert network.centres["leeds"].name not in page


def test_an_unknown_centre_or_an_empty_window_is_refused(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    with pytest.raises(UnknownName, match="atlantis"):
        render_gantt(plan, network, catalogue, centres=["atlantis"])
    with pytest.raises(InvalidInput, match="at least 1 day"):
        render_gantt(plan, network, catalogue, days=0)


def test_a_window_with_no_dose_still_draws_an_empty_chart(
    plan: Plan, network: Network, catalogue: Catalogue
) -> None:
    page = render_gantt(plan, network, catalogue, start=date(2027, 6, 1), days=3)
    assert page.count("<svg") == 1
    assert "no dose is given at these centres in these days" in page
    assert "<tr><td>" not in page


def test_write_gantt_writes_the_page(
    tmp_path: Path, plan: Plan, network: Network, catalogue: Catalogue, page: str
) -> None:
    path = tmp_path / "gantt.html"
    write_gantt(path, plan, network, catalogue, start=WINDOW_START, days=WINDOW_DAYS)
    assert path.read_text(encoding="utf-8") == page
