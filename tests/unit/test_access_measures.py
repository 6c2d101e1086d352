"""Access kernels: travel estimate, rurality, de-duplication, reconciliation, 2SFCA against PySAL."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rltnet.access import measures
from rltnet.access.areas import classify, parts_of_larger_places, reconcile_population
from rltnet.access.travel import (
    CAR_SPEED_BANDS,
    PUBLIC_TRANSPORT_FACTOR,
    ROAD_CIRCUITY,
    TravelModel,
    estimated_minutes,
    great_circle_km,
    nearest,
)

access = pytest.importorskip("access")


def test_the_car_estimate_drives_each_speed_band_at_its_own_speed() -> None:
    model = TravelModel()
    # a trip whose road length ends exactly at each band's upper limit
    lower, expected = 0.0, 0.0
    for upper, kmh in CAR_SPEED_BANDS[:-1]:
        expected += (upper - lower) / kmh * 60
        lower = upper
        straight = upper / ROAD_CIRCUITY
        assert model.car_minutes(np.array([straight]))[0] == pytest.approx(expected, rel=1e-12)


def test_public_transport_takes_the_ratio_of_han_et_al_mean_times() -> None:
    # Han et al. 2024: 69.4 min by public transport, 29.1 by car, to radiotherapy in England
    model = TravelModel()
    car = model.minutes(np.array([20.0]), "car")[0]
    assert model.minutes(np.array([20.0]), "public_transport")[0] == pytest.approx(car * 69.4 / 29.1)
    assert pytest.approx(69.4 / 29.1) == PUBLIC_TRANSPORT_FACTOR


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=2000), min_size=2, max_size=30))
def test_travel_time_grows_with_distance(distances: list[float]) -> None:
    km = np.sort(np.array(distances))
    minutes = TravelModel().car_minutes(km)
    assert np.all(np.diff(minutes) >= -1e-9)
    assert np.all(minutes >= 0)


def test_the_chunked_matrix_equals_the_whole_one() -> None:
    rng = np.random.default_rng(3)
    lat_a, lon_a = rng.uniform(50, 55, 2000), rng.uniform(-5, 1, 2000)
    lat_b, lon_b = rng.uniform(50, 55, 7), rng.uniform(-5, 1, 7)
    whole = TravelModel().minutes(great_circle_km(lat_a, lon_a, lat_b, lon_b))
    import rltnet.access.travel as travel

    saved = travel.CHUNK_CELLS
    travel.CHUNK_CELLS = 100  # many small chunks
    try:
        chunked = estimated_minutes(lat_a, lon_a, lat_b, lon_b)
    finally:
        travel.CHUNK_CELLS = saved
    np.testing.assert_allclose(chunked, whole, rtol=0, atol=0)


def test_nearest_skips_sites_not_allowed_and_says_when_there_is_none() -> None:
    minutes = np.array([[5.0, 1.0, 9.0], [3.0, 8.0, 2.0]])
    found, index = nearest(minutes, np.array([True, False, True]))
    assert found.tolist() == [5.0, 2.0] and index.tolist() == [0, 2]
    found, index = nearest(minutes, np.array([False, False, False]))
    assert np.isinf(found).all() and index.tolist() == [-1, -1]


def test_rurality_follows_the_documented_thresholds() -> None:
    assert classify(np.array([10_000.0, 9_999.0, 2_500.0, 2_499.0])).tolist() == [
        "urban",
        "town",
        "town",
        "rural",
    ]


def test_a_borough_inside_its_city_is_counted_once_in_the_city() -> None:
    # London (8.96 M, footprint 24 km), Brent 12 km away, Cambridge 80 km away
    lat = np.array([51.5085, 51.5531, 52.2053])
    lon = np.array([-0.1257, -0.3023, 0.1218])
    people = np.array([8_961_989.0, 317_264.0, 128_000.0])
    assert parts_of_larger_places(lat, lon, people).tolist() == [False, True, False]


def test_reconciled_areas_add_up_to_the_total_and_only_rural_areas_grow() -> None:
    people = np.array([100_000.0, 5_000.0, 1_000.0, 500.0])
    rurality = classify(people)
    reconciled, how = reconcile_population(people, rurality, 110_000.0)
    assert reconciled.sum() == pytest.approx(110_000.0)
    assert reconciled[:2].tolist() == people[:2].tolist()
    assert reconciled[2] / reconciled[3] == pytest.approx(2.0)
    assert "rural" in how
    scaled, _ = reconcile_population(people, rurality, 53_250.0)
    assert scaled.sum() == pytest.approx(53_250.0)


def _pysal(
    demand: np.ndarray, supply: np.ndarray, cost: np.ndarray, max_cost: float, weight_fn: object
) -> np.ndarray:
    i, j = np.nonzero(np.isfinite(cost))
    demand_df = pd.DataFrame({"geoid": np.arange(len(demand)), "pop": demand}).set_index("geoid")
    supply_df = pd.DataFrame({"geoid": np.arange(len(supply)), "chairs": supply}).set_index("geoid")
    cost_df = pd.DataFrame({"origin": i, "dest": j, "cost": cost[i, j]})
    model = access.Access(
        demand_df=demand_df,
        demand_value="pop",
        supply_df=supply_df,
        supply_value="chairs",
        cost_df=cost_df,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = model.two_stage_fca(name="fca", max_cost=max_cost, weight_fn=weight_fn)
    column = next(c for c in result.columns if c.startswith("fca"))
    values: np.ndarray = result[column].reindex(range(len(demand))).fillna(0.0).to_numpy(dtype=np.float64)
    return values


@pytest.mark.parametrize("decay", ["none", "gaussian", "stepwise"])
def test_two_step_fca_equals_pysal_access(decay: str) -> None:
    rng = np.random.default_rng(11)
    n, m = 300, 25
    demand = rng.integers(500, 200_000, n).astype(float)
    supply = rng.integers(1, 9, m).astype(float)
    cost = rng.uniform(1, 180, (n, m))
    cost[rng.random((n, m)) < 0.2] = np.inf  # pairs a router left out
    ours_fn = {
        "none": None,
        "gaussian": measures.gaussian(40.0),
        "stepwise": measures.stepwise({30: 1.0, 60: 0.68, 90: 0.22}),
    }[decay]
    theirs_fn = {
        "none": None,
        "gaussian": access.weights.gaussian(40.0),
        "stepwise": access.weights.step_fn({30: 1.0, 60: 0.68, 90: 0.22}),
    }[decay]
    origin, destination, minutes = measures.pairs_of(cost)
    ours = measures.two_step_fca(demand, supply, origin, destination, minutes, 120.0, ours_fn)
    theirs = _pysal(demand, supply, cost, 120.0, theirs_fn)
    assert (ours > 0).sum() > n // 2  # most areas reach a site
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=0)


def test_course_burden_counts_every_round_trip() -> None:
    visits = measures.CourseVisits(pet=1, mdt=1, infusions=6, follow_ups=2)
    hours = measures.course_burden_hours(visits, np.array([45.0]), np.array([90.0]))
    assert hours[0] == pytest.approx((9 * 2 * 45 + 1 * 2 * 90) / 60)
    assert visits.total == 10
