"""Demand areas of the bundled England network from GeoNames, and dose reach of its centres."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from rltnet.access.areas import footprint_km
from rltnet.access.geonames_areas import SCOPES, cache_dir, geonames_areas
from rltnet.access.reachability import reach
from rltnet.access.travel import great_circle_km
from rltnet.domain.network import Network
from rltnet.domain.units import Activity
from rltnet.files.catalogue_file import default_catalogue
from rltnet.files.network_file import load_network, network_path
from rltnet.planning.candidates import lead_range_for
from rltnet.planning.problem import HANDOVER


@pytest.fixture(scope="module")
def england() -> Network:
    return load_network(network_path("england"), default_catalogue())


def test_england_areas_hold_the_census_total_once_each_tagged_by_size(
    england: Network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    areas = geonames_areas(england)
    assert areas is not None
    assert areas.population.sum() == pytest.approx(SCOPES["England demo"].total_population)
    assert len(set(areas.area_id.tolist())) == len(areas) > 4000
    # no kept place lies inside the footprint of a larger kept place
    big = np.flatnonzero(areas.population >= 200_000)
    km = great_circle_km(areas.latitude[big], areas.longitude[big], areas.latitude, areas.longitude)
    inside = km < footprint_km(areas.population[big])[:, None]
    inside[np.arange(len(big)), big] = False
    assert not inside.any()
    assert set(areas.rurality.tolist()) == {"urban", "town", "rural"}
    assert set(areas.region.tolist()) == {a.region for a in england.demand_areas}
    london = areas.name == "London"
    assert areas.region[london].tolist() == ["London"]
    # the second read comes from the cache, with the same answer
    assert any(cache_dir().iterdir())
    again = geonames_areas(england)
    assert again is not None
    np.testing.assert_array_equal(again.population, areas.population)


def test_a_dose_reaches_a_centre_with_the_planners_lead_less_the_journey(england: Network) -> None:
    catalogue = default_catalogue()
    lutathera = catalogue.therapy("lu177-oxodotreotide")
    found = reach(england, england.centre("london"), lutathera, date(2027, 1, 4))
    lane = england.lanes[found.lane_id or ""]
    site = england.site(lane.site_id)
    # a 06:00 batch, QC release, the 14:00 cut-off, the lane's transit, then the hand-over
    first_departure = timedelta(hours=14) - timedelta(hours=6)
    assert site.qc_release <= first_departure
    journey = first_departure + lane.transit + HANDOVER
    longest = lead_range_for(lutathera, Activity.from_gbq(7.4))[1]
    assert found.reachable
    assert found.journey_h == pytest.approx(journey.total_seconds() / 3600)
    assert found.margin_h == pytest.approx((longest - journey).total_seconds() / 3600)


def test_a_lane_too_slow_for_the_shorter_lived_product_leaves_the_centre_out(england: Network) -> None:
    catalogue = default_catalogue()
    slow = {
        k: dataclasses.replace(v, transit=timedelta(hours=60)) if v.centre_id == "leeds" else v
        for k, v in england.lanes.items()
    }
    network = dataclasses.replace(england, lanes=slow)
    leeds = network.centre("leeds")
    lutathera = reach(network, leeds, catalogue.therapy("lu177-oxodotreotide"), date(2027, 1, 4))
    pluvicto = reach(network, leeds, catalogue.therapy("lu177-vipivotide-tetraxetan"), date(2027, 1, 4))
    assert not lutathera.reachable and lutathera.margin_h is not None and lutathera.margin_h < 0
    assert lutathera.why_not is not None and "expire" in lutathera.why_not
    assert pluvicto.reachable  # 120 h shelf life
