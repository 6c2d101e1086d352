"""Access: rltnet against PySAL access (2SFCA) and spopt (MCLP) in the same run, and the England report.

1. 2SFCA, 50,000 areas x 500 sites: both start from the same pandas DataFrames
   (areas, sites, and the long table of origin, destination, minutes within the
   catchment, as a router exports it) and end with each area's accessibility.
   Plain 2SFCA and E2SFCA with Gaussian decay; results compared to 1e-9 relative.
2. MCLP, 10,000 areas x 1,000 candidates, p = 20: both start from the same cost
   matrix and weights and end with the chosen sites; spopt solves with PuLP's
   HiGHS. Coverage is recomputed from each side's chosen sites and compared with
   spopt's own `perc_cov`.
3. The full England report: network, GeoNames areas (places of 500+ people),
   travel times, every measure, JSON; cold (GeoNames read) and warm (cached).

Run: ``.venv/bin/python bench/bench_access.py [--repeats 3] [--skip-england]``.
"""

from __future__ import annotations

import argparse
import functools
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from rltnet.access import measures, siting
from rltnet.access.area_file import positions
from rltnet.access.travel import TravelModel, great_circle_km


def _timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def _places(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Points over England's extent (50-55.8 N, 5.7 W-1.8 E)."""
    return rng.uniform(50.0, 55.8, n), rng.uniform(-5.7, 1.8, n)


def bench_2sfca(repeats: int, n: int, m: int, text_ids: bool) -> None:
    import access

    rng = np.random.default_rng(1)
    a_lat, a_lon = _places(rng, n)
    s_lat, s_lon = _places(rng, m)
    catchment = 120.0
    minutes = TravelModel().minutes(great_circle_km(a_lat, a_lon, s_lat, s_lon))
    i, j = np.nonzero(minutes <= catchment)
    # ids as census GEOIDs (integers, as PySAL's Chicago data) or as text
    area_ids = [f"a{k}" for k in range(n)] if text_ids else 17_000_000_000 + np.arange(n)
    site_ids = [f"s{k}" for k in range(m)] if text_ids else 18_000_000_000 + np.arange(m)
    areas = pd.DataFrame({"geoid": area_ids, "pop": rng.integers(500, 50_000, n)})
    sites = pd.DataFrame({"geoid": site_ids, "chairs": rng.integers(1, 9, m)})
    costs = pd.DataFrame({"origin": areas.geoid.to_numpy()[i], "dest": sites.geoid.to_numpy()[j],
                          "cost": minutes[i, j]})
    kind = "text" if text_ids else "integer"
    print(f"\n2SFCA: {n:,} areas x {m:,} sites, {kind} ids; {len(costs):,} pairs within {catchment:.0f} min")

    def pysal(weight_fn: Any) -> pd.Series:
        model = access.Access(
            demand_df=areas.set_index("geoid"), demand_value="pop",
            supply_df=sites.set_index("geoid"), supply_value="chairs",
            cost_df=costs, cost_origin="origin", cost_dest="dest", cost_name="cost",
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = model.two_stage_fca(name="fca", max_cost=catchment, weight_fn=weight_fn)
        column = next(c for c in out.columns if c.startswith("fca"))
        return out[column].reindex(areas.geoid).fillna(0.0)

    def ours(weight: measures.WeightFn | None) -> np.ndarray:
        origin = positions(costs.origin, areas.geoid)
        dest = positions(costs.dest, sites.geoid)
        return measures.two_step_fca(
            areas["pop"].to_numpy(dtype=np.float64), sites.chairs.to_numpy(dtype=np.float64),
            origin, dest, costs.cost.to_numpy(), catchment, weight,
        )

    cases: list[tuple[str, Any, measures.WeightFn | None]] = [
        ("2SFCA", None, None),
        ("E2SFCA Gaussian sigma 20", access.weights.gaussian(20.0), measures.gaussian(20.0)),
    ]
    for label, peer_fn, our_fn in cases:
        peer_s, peer = _timed(functools.partial(pysal, peer_fn), repeats)
        ours_s, mine = _timed(functools.partial(ours, our_fn), repeats)
        worst = float(np.max(np.abs(mine - peer.to_numpy()) / np.maximum(np.abs(peer.to_numpy()), 1e-300)))
        print(f"  {label}: PySAL access {peer_s:.3f} s, rltnet {ours_s:.4f} s, "
              f"{peer_s / ours_s:.0f}x; largest relative difference {worst:.1e}")


def bench_mclp(repeats: int, n: int, m: int, p: int) -> None:
    import highspy
    import pulp
    from spopt.locate import MCLP

    rng = np.random.default_rng(2)
    a_lat, a_lon = _places(rng, n)
    c_lat, c_lon = _places(rng, m)
    minutes = TravelModel().minutes(great_circle_km(a_lat, a_lon, c_lat, c_lon))
    demand = rng.integers(500, 50_000, n).astype(np.float64)
    radius = 30.0
    print(f"\nMCLP: {n:,} areas x {m:,} candidates, p = {p}, {radius:.0f} min; "
          f"{int((minutes <= radius).sum()):,} area-candidate pairs in reach")

    def peer() -> tuple[tuple[int, ...], float]:
        model = MCLP.from_cost_matrix(minutes, demand, service_radius=radius, p_facilities=p)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = model.solve(pulp.HiGHS(msg=False))
        chosen = tuple(int(k) for k, v in enumerate(model.fac_vars) if (v.value() or 0) > 0.5)
        highspy.Highs.resetGlobalScheduler(True)  # PuLP's run leaves HiGHS's thread pool set up
        return chosen, float(model.perc_cov)

    peer_s, (peer_sites, peer_perc) = _timed(peer, repeats)
    ours_s, mine = _timed(lambda: siting.mclp(demand, minutes, radius, p), repeats)
    greedy_s, greedy = _timed(lambda: siting.mclp_greedy(demand, minutes, radius, p), repeats)
    total = float(demand.sum())
    peer_cov = siting.coverage_of(demand, minutes, radius, peer_sites)
    areas_covered = (minutes[:, list(peer_sites)] <= radius).any(axis=1).mean() * 100
    print(f"  spopt 0.7.0 + PuLP HiGHS: {peer_s:.2f} s, {len(peer_sites)} sites; demand covered "
          f"(recomputed) {peer_cov / total * 100:.3f} %; its own perc_cov {peer_perc:.3f} % "
          f"(share of areas covered, recomputed {areas_covered:.3f} %)")
    print(f"  rltnet exact (HiGHS): {ours_s:.2f} s, {mine.status}; demand covered "
          f"{mine.objective / total * 100:.3f} %; {peer_s / ours_s:.1f}x faster")
    print(f"  rltnet greedy: {greedy_s:.3f} s; demand covered {greedy.objective / total * 100:.3f} %; "
          f"gap {siting.gap(mine.objective, greedy.objective, maximise=True) * 100:.2f} %")


def bench_england(repeats: int) -> None:
    from rltnet.access import geonames_areas
    from rltnet.access.report import build_report, centre_minutes, report_json
    from rltnet.files.catalogue_file import default_catalogue
    from rltnet.files.network_file import load_network, network_path

    def run() -> dict[str, Any]:
        catalogue = default_catalogue()
        network = load_network(network_path("england"), catalogue)
        areas = geonames_areas.geonames_areas(network)
        assert areas is not None
        report = build_report(network, catalogue, areas, centre_minutes(network, areas, "car"),
                              date(2027, 1, 4))
        return report_json(report, with_areas=True)

    with tempfile.TemporaryDirectory() as cache:
        saved = os.environ.get("XDG_CACHE_HOME")
        os.environ["XDG_CACHE_HOME"] = cache
        try:
            cold_s, _ = _timed(run, 1)
            warm_s, payload = _timed(run, repeats)
        finally:
            if saved is None:
                del os.environ["XDG_CACHE_HOME"]
            else:
                os.environ["XDG_CACHE_HOME"] = saved
    overall = payload["indications"][0]["overall"]
    print(f"\nEngland report ({payload['areas']:,} areas, {payload['population']:,} people): "
          f"cold {cold_s:.2f} s (GeoNames cities500 read), warm {warm_s:.2f} s; mean car time "
          f"{overall['mean_minutes']:.1f} min")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--areas", type=int, default=50_000)
    parser.add_argument("--sites", type=int, default=500)
    parser.add_argument("--mclp-areas", type=int, default=10_000)
    parser.add_argument("--mclp-candidates", type=int, default=1_000)
    parser.add_argument("--skip-england", action="store_true")
    parser.add_argument("--skip-mclp", action="store_true")
    args = parser.parse_args()
    print(f"bench_access, {date.today()}, median of {args.repeats} runs")  # noqa: DTZ011
    bench_2sfca(args.repeats, args.areas, args.sites, text_ids=False)
    bench_2sfca(args.repeats, args.areas, args.sites, text_ids=True)
    if not args.skip_mclp:
        bench_mclp(args.repeats, args.mclp_areas, args.mclp_candidates, 20)
    if not args.skip_england:
        bench_england(args.repeats)


if __name__ == "__main__":
    main()
