"""The dose planners on the seeded S, M and L instances, against first come first served.

For each instance (network from bench/networks/, orders from the generator with a
fixed seed) and each planner, prints: patients treated in their window, total
days off the preferred day, isotope overage, objective, bound, gap and wall time,
and checks every plan with the independent checker. Then re-plans M after a
reactor outage. Run:

    .venv/bin/python bench/bench_planner.py [--sizes S M L] [--planners exact fast edf fcfs]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import product
from pathlib import Path

from rltnet.domain.network import Network
from rltnet.domain.orders import DoseOrder
from rltnet.domain.products import Catalogue
from rltnet.files.catalogue_file import default_catalogue
from rltnet.files.network_file import load_network
from rltnet.planning.checker import check_plan
from rltnet.planning.exact import ExactPlanner
from rltnet.planning.greedy import EarliestDeadlineFirst, FastPlanner, FirstComeFirstServed, Planner
from rltnet.planning.order_generator import generate_orders
from rltnet.planning.plan import Plan
from rltnet.planning.problem import PlanningProblem
from rltnet.planning.replan import BatchFailed, Event, ReactorOutage, replan

START = date(2027, 1, 4)
SEED = 1
NETWORKS = Path(__file__).parent / "networks"
FAST_TARGET_S = 2.0  # the fast planner's time target on L; it gets this budget everywhere


@dataclass(frozen=True)
class Size:
    name: str
    orders: int
    weeks: int
    time_limit_s: float  # the target's time for the exact planner


SIZES = {
    "S": Size("S", 200, 2, 10.0),
    "M": Size("M", 2_000, 4, 10.0),
    "L": Size("L", 10_000, 8, 60.0),
}


def planners() -> dict[str, Planner]:
    return {
        "exact": ExactPlanner(),
        "fast": FastPlanner(),
        "edf": EarliestDeadlineFirst(),
        "fcfs": FirstComeFirstServed(),
    }


def figures(
    plan: Plan, network: Network, catalogue: Catalogue, orders: list[DoseOrder], wall_s: float
) -> dict[str, object]:
    days_off = 0
    for p in plan.placements:
        calendar = network.centres[p.centre_id].calendar
        days_off += abs(
            (calendar.local_date(p.administration_at) - calendar.local_date(p.order.preferred_at)).days
        )
    overage = sum(p.calibration_activity.gbq - p.order.prescribed.gbq for p in plan.placements)
    report = plan.report
    assert report is not None
    violations = check_plan(plan, network, catalogue, orders)
    return {
        "treated": len(plan.placements),
        "unplanned": len(plan.unplanned),
        "days_off_preferred": days_off,
        "isotope_overage_gbq": round(overage, 1),
        "doses_wasted": 0,  # a plan makes only the doses it gives
        "objective": round(report.objective, 2),
        "bound": round(report.bound, 2) if report.bound is not None else None,
        "gap": report.gap,
        "status": report.status,
        "wall_s": round(wall_s, 2),
        "violations": len(violations),
    }


def run_size(size: Size, names: list[str], catalogue: Catalogue) -> dict[str, dict[str, object]]:
    network = load_network(NETWORKS / f"{size.name.lower()}.yaml", catalogue)
    orders = generate_orders(
        network, catalogue, start_date=START, weeks=size.weeks, seed=SEED, count=size.orders
    )
    results = {}
    for name in names:
        limit = FAST_TARGET_S if name == "fast" else size.time_limit_s
        problem = PlanningProblem(network, catalogue, tuple(orders), seed=SEED, time_limit_s=limit)
        started = time.perf_counter()
        plan = planners()[name].plan(problem)
        results[name] = figures(plan, network, catalogue, orders, time.perf_counter() - started)
        print(f"{size.name} {name:5} {results[name]}", flush=True)
    return results


def run_replan(catalogue: Catalogue) -> dict[str, object]:
    """M planned exactly, then the largest reactor out for two weeks from the second week."""
    size = SIZES["M"]
    network = load_network(NETWORKS / "m.yaml", catalogue)
    orders = generate_orders(
        network, catalogue, start_date=START, weeks=size.weeks, seed=SEED, count=size.orders
    )
    plan = ExactPlanner().plan(
        PlanningProblem(network, catalogue, tuple(orders), time_limit_s=size.time_limit_s)
    )
    reactor = max(network.reactors.values(), key=lambda r: r.delivery.bq)
    now = datetime.combine(START + timedelta(days=7), datetime.min.time(), tzinfo=UTC)
    outage = ReactorOutage(reactor.reactor_id, now, now + timedelta(days=14), "benchmark outage")
    busiest = Counter(p.batch_id for p in plan.placements if p.batch_start_at >= now).most_common(1)[0][0]
    scenarios: dict[str, list[Event]] = {
        f"reactor {reactor.reactor_id} out 14 d": [outage],
        f"outage and batch {busiest} failed": [outage, BatchFailed(busiest, "benchmark")],
    }
    out: dict[str, object] = {}
    for (label, events), name in product(scenarios.items(), ("exact", "fast")):
        started = time.perf_counter()
        result = replan(plan, network, catalogue, events, now, planners()[name], time_limit_s=10.0)
        wall = time.perf_counter() - started
        violations = check_plan(result.plan, result.network, catalogue, list(orders))
        report = result.plan.report
        assert report is not None
        out[f"{label} ({name})"] = {
            "wall_s": round(wall, 2),
            "changes": len(result.changes),
            "unplanned": len(result.plan.unplanned),
            "objective": round(report.objective, 2),
            "violations": len(violations),
        }
        print(f"replan M, {label} ({name}): {out[f'{label} ({name})']}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", nargs="+", default=["S", "M", "L"], choices=list(SIZES))
    parser.add_argument(
        "--planners", nargs="+", default=["exact", "fast", "edf", "fcfs"], choices=list(planners())
    )
    parser.add_argument("--no-replan", action="store_true")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()
    catalogue = default_catalogue()
    results: dict[str, object] = {
        size: run_size(SIZES[size], args.planners, catalogue) for size in args.sizes
    }
    for size in args.sizes:
        per = results[size]
        assert isinstance(per, dict)
        if "fcfs" in per:
            baseline = per["fcfs"]["objective"]
            for name, row in per.items():
                print(
                    f"{size} {name:5} objective / first-come-first-served: {row['objective'] / baseline:.3f}"
                )
    if not args.no_replan:
        results["replan_M"] = run_replan(catalogue)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
