"""The dose planners on the seeded S, M and L instances, against first come first served.

For each instance (network from bench/networks/, orders from the generator with a
fixed seed) and each planner, prints: patients treated in their window, total
days off the preferred day, isotope overage, objective, bound, gap and wall time,
and checks every plan with the independent checker. Then re-plans M and L, planned
exactly, after one scenario of each event kind (time, orders changed, orders lost,
violations). Run:

    .venv/bin/python bench/bench_planner.py [--sizes S M L] [--planners exact fast edf fcfs]
        [--replan-sizes M L] [--replan-planners exact edf] [--no-replan] [--json FILE]
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
from rltnet.planning.replan import (
    BatchFailed,
    CentreClosed,
    Event,
    LaneCancelled,
    LaneDelayed,
    NoShow,
    OrderCancelled,
    ReactorOutage,
    disruptions_of,
    replan,
)

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


def replan_events(plan: Plan, network: Network, now: datetime) -> dict[str, list[Event]]:
    """One scenario per event kind, each aimed where it hurts: the largest reactor, the
    busiest batch, lane and centre, and in-flight orders (their doses made)."""
    reactor = max(network.reactors.values(), key=lambda r: r.delivery.bq)
    later = [p for p in plan.placements if p.batch_start_at >= now]
    in_flight = sorted(
        (p for p in plan.placements if p.batch_start_at < now <= p.appointment_at),
        key=lambda p: (p.appointment_at, p.order.order_id),
    )
    busiest_batch = Counter(p.batch_id for p in later).most_common(1)[0][0]
    busiest_lane = Counter(p.lane_id for p in plan.placements).most_common(1)[0][0]
    tomorrow = (now + timedelta(days=1)).date()
    busiest_centre = Counter(
        p.centre_id for p in plan.placements if p.appointment_at.date() == tomorrow
    ).most_common(1)[0][0]
    day = timedelta(days=1)
    return {
        "reactor_outage": [ReactorOutage(reactor.reactor_id, now, now + 14 * day, "benchmark")],
        "batch_failed": [BatchFailed(busiest_batch, "benchmark")],
        "lane_cancelled": [LaneCancelled(busiest_lane, now, now + day, "benchmark")],
        "lane_delayed": [LaneDelayed(busiest_lane, now - day, now + day, timedelta(hours=30), "benchmark")],
        "order_cancelled": [OrderCancelled(p.order.order_id, "benchmark") for p in in_flight[:20]],
        "no_show": [NoShow(p.order.order_id, "benchmark") for p in in_flight[20:40]],
        "centre_closed": [CentreClosed(busiest_centre, tomorrow, "benchmark")],
    }


def run_replan(size: Size, names: list[str], catalogue: Catalogue) -> dict[str, object]:
    """The instance planned exactly, then, a week in at 06:00 UTC, one scenario per event
    kind re-planned by each planner: wall time, orders changed, orders lost (placed before,
    unplanned after) and the checker's verdict."""
    network = load_network(NETWORKS / f"{size.name.lower()}.yaml", catalogue)
    orders = generate_orders(
        network, catalogue, start_date=START, weeks=size.weeks, seed=SEED, count=size.orders
    )
    plan = ExactPlanner().plan(
        PlanningProblem(network, catalogue, tuple(orders), time_limit_s=size.time_limit_s)
    )
    now = datetime.combine(START + timedelta(days=7), datetime.min.time(), tzinfo=UTC) + timedelta(hours=6)
    out: dict[str, object] = {}
    for (kind, events), name in product(replan_events(plan, network, now).items(), names):
        started = time.perf_counter()
        result = replan(
            plan, network, catalogue, events, now, planners()[name], time_limit_s=size.time_limit_s
        )
        wall = time.perf_counter() - started
        violations = check_plan(
            result.plan,
            result.network,
            catalogue,
            result.plan.orders,
            disruptions=disruptions_of(events),
            now=now,
        )
        placed_before = {p.order.order_id for p in plan.placements}
        lost = [u for u in result.plan.unplanned if u.order.order_id in placed_before]
        row = {
            "events": len(events),
            "wall_s": round(wall, 2),
            "changed": sum(1 for c in result.changes if c.kind != "cancelled"),
            "lost": len(lost),
            "violations": len(violations),
        }
        out[f"{kind} ({name})"] = row
        print(f"replan {size.name}, {kind} ({name}): {row}", flush=True)
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
    parser.add_argument("--replan-sizes", nargs="+", default=["M", "L"], choices=list(SIZES))
    parser.add_argument("--replan-planners", nargs="+", default=["exact", "edf"], choices=list(planners()))
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
        for size in args.replan_sizes:
            results[f"replan_{size}"] = run_replan(SIZES[size], args.replan_planners, catalogue)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
