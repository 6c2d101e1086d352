"""The planner benchmark networks S, M and L: they load through the real loader with the stated
numbers of centres and sites, are sized for their instances, and tools/build_bench_networks.py
reproduces them byte for byte."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import pytest

from rltnet.domain.decay import decay_factor
from rltnet.domain.network import Network
from rltnet.files.catalogue_file import default_catalogue
from rltnet.files.network_file import load_network
from rltnet.planning.order_generator import demand_streams, generate_orders

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "tools" / "build_bench_networks.py"
NETWORKS = REPO / "bench" / "networks"
LU177_PRODUCTS = {"lu177-vipivotide-tetraxetan", "lu177-oxodotreotide"}
START = date(2027, 1, 4)

# name: centres, production sites, orders in the benchmark instance, weeks (issue 3)
SIZES = {"s": (10, 2, 200, 2), "m": (40, 3, 2_000, 4), "l": (200, 6, 10_000, 8)}


@cache
def network(name: str) -> Network:
    return load_network(NETWORKS / f"{name}.yaml", default_catalogue())


@pytest.mark.parametrize("name", SIZES)
def test_each_benchmark_network_loads_with_its_stated_centres_and_sites(name: str) -> None:
    centres, sites, _, _ = SIZES[name]
    net = network(name)
    assert len(net.centres) == centres
    assert len(net.sites) == sites
    assert len(net.lanes) == centres * sites
    assert {(lane.site_id, lane.centre_id) for lane in net.lanes.values()} == {
        (s, c) for s in net.sites for c in net.centres
    }
    assert all(set(c.products) == LU177_PRODUCTS for c in net.centres.values())
    assert all(set(s.products) >= LU177_PRODUCTS for s in net.sites.values())
    assert all(net.provenance[k] for k in ("real", "assumed", "sources"))


@pytest.mark.parametrize("name", SIZES)
def test_the_real_sites_come_first_and_every_other_site_is_named_as_assumed(name: str) -> None:
    sites = list(network(name).sites.values())
    assert [s.site_id for s in sites[:2]] == ["millburn", "indianapolis"]
    assert all("(assumed site)" in s.name for s in sites[2:])
    assert all("(bench)" in c.name for c in network(name).centres.values())


@pytest.mark.parametrize("name", SIZES)
def test_the_expected_orders_a_week_are_the_benchmark_instances(name: str) -> None:
    _, _, orders, weeks = SIZES[name]
    streams = demand_streams(network(name), default_catalogue(), weeks)
    assert sum(s.expected for s in streams) == pytest.approx(orders, rel=0.005)


@pytest.mark.parametrize("name", SIZES)
def test_capacity_leaves_little_slack_over_the_expected_doses(name: str) -> None:
    _, sites, orders, weeks = SIZES[name]
    net, weekly = network(name), orders / weeks
    # two 300-minute appointments a chair on each clinic day
    chair_week = sum(2 * c.chairs * len(c.hours.weekdays) for c in net.centres.values())
    assert 1.3 <= chair_week / weekly <= 1.6
    batch_week = sum(5 * s.doses_per_batch for s in net.sites.values())
    assert 1.2 <= batch_week / weekly <= 1.2 + 5 * sites / weekly
    assert len({s.doses_per_batch for s in net.sites.values()}) == 1  # equal shares


@pytest.mark.parametrize("name", SIZES)
def test_isotope_delivered_in_2027_is_about_one_and_a_half_times_the_expected_need(
    name: str,
) -> None:
    _, _, orders, weeks = SIZES[name]
    net, catalogue = network(name), default_catalogue()
    pluvicto = catalogue.therapy("Pluvicto")
    # 7.4 GBq made about 2 days before it is given, after about 3 days from reactor to site.
    per_dose_bq = pluvicto.prescribe().bq / decay_factor(pluvicto.nuclide, timedelta(days=5))
    need_bq = orders / weeks * 365.25 / 7 * per_dose_bq
    days = [date(2027, 1, 1) + timedelta(days=n) for n in range(365)]
    supply_bq = sum(net.isotope_supply(s, d).bq for s in net.sites for d in days)
    assert supply_bq / need_bq == pytest.approx(1.5, abs=0.02)


@pytest.mark.parametrize("name", SIZES)
def test_the_benchmark_instance_draws_its_orders_at_centres_of_the_network(name: str) -> None:
    _, _, count, weeks = SIZES[name]
    net = network(name)
    orders = generate_orders(net, default_catalogue(), start_date=START, weeks=weeks, seed=1, count=count)
    assert len(orders) == count
    assert {o.centre_id for o in orders} <= set(net.centres)
    assert {o.product_id for o in orders} == LU177_PRODUCTS
    busiest, most = Counter(o.centre_id for o in orders).most_common(1)[0]
    assert busiest == "new-york-city-ny"
    assert most < count / 2


def test_rerunning_the_generator_reproduces_the_benchmark_networks_exactly(
    tmp_path: Path,
) -> None:
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(tmp_path)], check=True, capture_output=True)
    for name in SIZES:
        written = (tmp_path / f"{name}.yaml").read_bytes()
        assert written == (NETWORKS / f"{name}.yaml").read_bytes(), name
        assert b".venv/bin/python tools/build_bench_networks.py" in written.split(b"\n\n")[0]
