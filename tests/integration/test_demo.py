"""The demo run on the England network: every dose, booking and pathway obeys the rules."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime
from itertools import pairwise

import pytest

from rltnet.domain.pathway import PatientPathway
from rltnet.domain.products import Catalogue
from rltnet.files.network_file import load_network, network_path
from rltnet.planning.problem import HANDOVER
from rltnet.report.demo_report import summary
from rltnet.simulation.demo import DemoResult, DemoSettings, run_demo


@pytest.fixture(scope="module")
def result(catalogue: Catalogue) -> DemoResult:
    network = load_network(network_path("england"), catalogue)
    return run_demo(network, catalogue, DemoSettings(weeks=3, seed=11, start_date=date(2027, 3, 1)))


def test_the_same_seed_gives_the_same_run(result: DemoResult, catalogue: Catalogue) -> None:
    again = run_demo(result.network, catalogue, result.settings)
    assert summary(again) == summary(result)


def test_every_dose_given_was_inside_its_window_and_unexpired(result: DemoResult) -> None:
    assert result.administered
    for _, dose, given_at in result.administered:
        window = dose.window()
        assert window is not None and window.contains(given_at)
        low, high = dose.product.tolerance_band(dose.target)
        assert low <= dose.activity_at(given_at) <= high
        assert given_at <= dose.expiry_at


def test_each_placement_follows_the_journey_in_time_order(result: DemoResult) -> None:
    for p in result.plan.placements:
        assert p.order.placed_at <= p.batch_start_at < p.released_at <= p.departs_at
        assert p.arrives_at + HANDOVER <= p.appointment_at <= p.administration_at
        assert p.order.earliest_at <= p.administration_at <= p.order.latest_at
        assert p.administration_at < p.appointment_end_at


def test_batches_are_made_on_production_days_and_never_overfilled(result: DemoResult) -> None:
    doses_per_batch = Counter(p.batch_id for p in result.plan.placements)
    for p in result.plan.placements:
        site = result.network.site(p.site_id)
        assert site.produces_on(site.calendar.local_date(p.batch_start_at))
        assert doses_per_batch[p.batch_id] <= site.doses_per_batch


def test_chairs_are_never_double_booked_and_centres_are_open(result: DemoResult) -> None:
    by_chair: defaultdict[tuple[str, int], list[tuple[datetime, datetime]]] = defaultdict(list)
    for p in result.plan.placements:
        centre = result.network.centre(p.order.centre_id)
        hours = centre.opening(centre.calendar.local_date(p.appointment_at))
        assert hours is not None and hours[0] <= p.appointment_at and p.appointment_end_at <= hours[1]
        by_chair[(centre.centre_id, p.chair)].append((p.appointment_at, p.appointment_end_at))
    for slots in by_chair.values():
        slots.sort()
        assert all(end <= next_start for (_, end), (next_start, _) in pairwise(slots))


def test_daily_activity_limits_and_licensed_staff_hold(result: DemoResult) -> None:
    given: defaultdict[tuple[str, date], float] = defaultdict(float)
    for p in result.plan.placements:
        centre = result.network.centre(p.order.centre_id)
        day = centre.calendar.local_date(p.appointment_at)
        given[(centre.centre_id, day)] += p.order.prescribed.bq
        assert centre.authorised_on(day, "Lu-177")
    for (centre_id, _), total in given.items():
        assert total <= result.network.centre(centre_id).daily_activity_limit.bq


def test_every_pathway_rebuilds_from_its_events(result: DemoResult) -> None:
    for patient in result.patients:
        pathway = patient.pathway
        rebuilt = PatientPathway.from_events(pathway.patient_id, pathway.product, pathway.events)
        assert rebuilt.current == pathway.current


def test_waste_adds_up(result: DemoResult) -> None:
    waste = result.waste()
    assert waste.doses_made == waste.doses_given + sum(waste.discarded.values())
    assert (
        abs(
            waste.made.bq
            - (
                waste.given.bq
                + waste.lost_to_decay.bq
                + sum(f.made_activity.bq for f in result.fates if f.reason is not None)
            )
        )
        < 1e3
    )
