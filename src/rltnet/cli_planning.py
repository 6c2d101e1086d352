"""Command-line commands for dose orders and plans: generate, plan, check, re-plan, chart.

rltnet orders generate --network N --weeks W --seed S --out orders.csv
rltnet plan --network N --orders orders.csv [--solver exact|edf|fcfs] --out plan.json
rltnet plan check plan.json
rltnet plan replan plan.json --event events.yaml --out new.json
rltnet plan gantt plan.json --out gantt.html
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from rltnet.domain.errors import InvalidInput
from rltnet.domain.network import Network
from rltnet.domain.products import Catalogue
from rltnet.planning.greedy import Planner

if TYPE_CHECKING:
    from rltnet.files.plan_file import StoredPlan
    from rltnet.planning.checker import Violation
from rltnet.planning.plan import Plan
from rltnet.planning.problem import MAX_SEED, PlanningProblem

console = Console()
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
SOLVERS = ("exact", "edf", "fcfs")

orders_app = typer.Typer(
    help="Dose orders: generate instances from a network's demand.", no_args_is_help=True
)
plan_app = typer.Typer(
    help="Dose plans: make one (rltnet plan --network N --orders F), check, re-plan, chart.",
    invoke_without_command=True,
)


def _catalogue() -> Catalogue:
    from rltnet.files.catalogue_file import default_catalogue

    return default_catalogue()


def _network(name_or_file: str) -> Network:
    from rltnet.files.network_file import load_network, network_path

    return load_network(network_path(name_or_file), _catalogue())


def planner_named(name: str) -> Planner:
    """The planner behind a `--solver` name.

    The fast planner is not offered: measured on the L instance it is neither within 5 %
    of the exact objective nor the exact planner's equal in need (bench/RESULTS.md); it is
    the exact planner's warm start.
    """
    from rltnet.planning.exact import ExactPlanner
    from rltnet.planning.greedy import EarliestDeadlineFirst, FirstComeFirstServed

    planners: dict[str, Planner] = {
        "exact": ExactPlanner(),
        "edf": EarliestDeadlineFirst(),
        "fcfs": FirstComeFirstServed(),
    }
    if name == "fast":
        raise InvalidInput(
            "--solver fast is no longer offered: on the L benchmark its plans were far above the "
            "exact optimum (bench/RESULTS.md), and it now only warm-starts the exact planner; "
            f"use one of: {', '.join(SOLVERS)}"
        )
    if name not in planners:
        raise InvalidInput(f"unknown solver {name!r}; use one of: {', '.join(SOLVERS)}")
    return planners[name]


@orders_app.command("generate")
def orders_generate(
    network: Annotated[str, typer.Option(help="Bundled network name or YAML file.")],
    out: Annotated[Path, typer.Option(help="CSV file to write (docs/orders-format.md).")],
    weeks: Annotated[int, typer.Option(min=1, max=104, help="Weeks of administrations.")] = 4,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same orders.")] = 1,
    start: Annotated[str, typer.Option(help="First day of the horizon, YYYY-MM-DD.")] = "2027-01-04",
    count: Annotated[int | None, typer.Option(help="Exactly this many orders (default: the demand).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Dose orders drawn from a network's demand over some weeks, written as CSV."""
    from rltnet.files.orders_file import write_orders
    from rltnet.planning.order_generator import generate_orders

    _writable(out, "orders.csv")
    _seed(seed)
    start_date = _date(start, "--start")
    orders = generate_orders(
        _network(network), _catalogue(), start_date=start_date, weeks=weeks, seed=seed, count=count
    )
    write_orders(out, orders)
    first = sum(1 for o in orders if o.first_cycle)
    facts = {"orders": len(orders), "first_cycles": first, "out": str(out), "seed": seed}
    if as_json:
        print(json.dumps(facts, indent=2))
        return
    console.print(
        f"{len(orders):,} orders ({first:,} first cycles) over {weeks} weeks from {start_date} "
        f"written to [bold]{out}[/]",
        highlight=False,
    )


@plan_app.callback()
def plan(
    ctx: typer.Context,
    network: Annotated[str | None, typer.Option(help="Bundled network name or YAML file.")] = None,
    orders: Annotated[Path | None, typer.Option(help="Orders CSV (docs/orders-format.md).")] = None,
    solver: Annotated[str, typer.Option(help="exact, edf or fcfs.")] = "exact",
    time_limit: Annotated[float, typer.Option(min=0.1, help="Seconds the solver may take.")] = 10.0,
    seed: Annotated[int, typer.Option(help="Seed for tie-breaking; the same seed gives the same plan.")] = 0,
    out: Annotated[Path, typer.Option(help="plan.json to write (docs/plan-format.md).")] = Path("plan.json"),
    as_json: JsonFlag = False,
) -> None:
    """Plan dose orders on a network: a batch, a shipment and an appointment for each."""
    if ctx.invoked_subcommand is not None:
        return
    if network is None or orders is None:
        raise InvalidInput(
            "give --network and --orders to make a plan, or a subcommand: check, replan, gantt "
            "(rltnet plan --help)"
        )
    from rltnet.files.orders_file import read_orders

    _writable(out)
    _seed(seed)
    catalogue = _catalogue()
    grid = _network(network)
    order_list = read_orders(orders, catalogue, grid)
    problem = PlanningProblem(grid, catalogue, tuple(order_list), seed=seed, time_limit_s=time_limit)
    made = planner_named(solver).plan(problem)
    _write_and_report(made, grid, grid, catalogue, network, out, as_json)


def _write_and_report(
    made: Plan,
    base: Network,
    network: Network,
    catalogue: Catalogue,
    network_name: str,
    out: Path,
    as_json: bool,
    extra: dict[str, Any] | None = None,
    changes: list[dict[str, Any]] | None = None,
) -> None:
    """Check the plan as `plan check` will read it back, write plan.json (with its summary)
    and tell the user: a table, or one JSON object. A plan that breaks a rule is not
    written (`PlanBreaksRules`). `base` is the network without the events, `network` with."""
    from rltnet.files.plan_file import parse_plan, plan_to_json, write_plan_document
    from rltnet.planning.checker import PlanBreaksRules
    from rltnet.planning.summary import format_summary, summarise

    summary = summarise(made, network, catalogue)
    facts = summary.to_json()
    document = plan_to_json(made, network_name, facts, extra)
    violations = _violations(parse_plan(json.loads(json.dumps(document)), str(out)), catalogue, base)
    if violations:
        raise PlanBreaksRules(violations, f"the plan for {out}")
    write_plan_document(out, document)
    facts["out"] = str(out)
    if changes is not None:
        facts["changes"] = changes
    if as_json:
        print(json.dumps(facts, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"Plan written to {out}", show_header=False)
    for label, value in format_summary(summary):
        table.add_row(label, value)
    console.print(table)


def _violations(stored: StoredPlan, catalogue: Catalogue, network: Network) -> list[Violation]:
    """Every rule a stored plan breaks on `network` with its events applied again: what
    `plan check` says."""
    from rltnet.planning.checker import check_plan

    grid = stored.network_with_events(network, catalogue)
    return check_plan(
        stored.plan, grid, catalogue, stored.plan.orders, disruptions=stored.disruptions, now=stored.now
    )


@plan_app.command("check")
def plan_check(
    plan_file: Annotated[Path, typer.Argument(help="A plan.json.")],
    network: Annotated[str | None, typer.Option(help="Override the network the plan names.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Re-verify every rule of a plan; exit 0 only if every one holds."""
    from rltnet.files.plan_file import read_plan_file

    stored = read_plan_file(plan_file)
    violations = _violations(stored, _catalogue(), _network(network or stored.network))
    if as_json:
        print(
            json.dumps(
                {
                    "valid": not violations,
                    "violations": [
                        {"rule": v.rule, "order_id": v.order_id, "detail": v.detail} for v in violations
                    ],
                },
                indent=2,
            )
        )
    elif violations:
        for v in violations:
            console.print(f"[red]{v.rule}[/] {v.order_id or ''}: {v.detail}", highlight=False)
        console.print(f"[bold red]{len(violations)} violation(s)[/]")
    else:
        placed = len(stored.plan.placements)
        console.print(f"[green]valid[/]: {placed} placements, every rule holds", highlight=False)
    if violations:
        raise typer.Exit(1)


@plan_app.command("replan")
def plan_replan(
    plan_file: Annotated[Path, typer.Argument(help="The plan in force (plan.json).")],
    event: Annotated[Path, typer.Option(help="Events file (YAML, see docs/plan-format.md).")],
    out: Annotated[Path, typer.Option(help="The new plan.json to write.")],
    solver: Annotated[str, typer.Option(help="exact, edf or fcfs.")] = "exact",
    time_limit: Annotated[float, typer.Option(min=0.1, help="Seconds the solver may take.")] = 10.0,
    seed: Annotated[int, typer.Option(help="Seed for tie-breaking.")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Re-plan after failures; print which orders moved, from what to what, and why."""
    from rltnet.files.event_file import read_events
    from rltnet.files.plan_file import events_json, read_plan_file
    from rltnet.planning.replan import replan

    _writable(out)
    _seed(seed)
    stored = read_plan_file(plan_file)
    catalogue = _catalogue()
    events, now = read_events(event)
    now = now or datetime.now(UTC)
    base = _network(stored.network)
    result = replan(
        stored.plan,
        base,
        catalogue,
        [*stored.events, *events],
        now,
        planner_named(solver),
        seed=seed,
        time_limit_s=time_limit,
    )
    extra = {"now": now, "events": events_json([*stored.events, *events])}
    changes = [
        {"order_id": c.order_id, "kind": c.kind, "before": c.before, "after": c.after, "reason": c.reason}
        for c in result.changes
    ]
    _write_and_report(
        result.plan, base, result.network, catalogue, stored.network, out, as_json, extra, changes
    )
    if as_json:
        return
    console.print("Events: " + "; ".join(e.describe() for e in events), highlight=False)
    table = Table(title=f"{len(changes)} change(s)")
    for column in ("order", "change", "before", "after", "why"):
        table.add_column(column, overflow="fold")
    for c in changes:
        table.add_row(c["order_id"], c["kind"], c["before"] or "—", c["after"] or "—", c["reason"])
    console.print(table)


@plan_app.command("gantt")
def plan_gantt(
    plan_file: Annotated[Path, typer.Argument(help="A plan.json.")],
    out: Annotated[Path, typer.Option(help="HTML file to write.")] = Path("gantt.html"),
    centre: Annotated[
        list[str] | None, typer.Option(help="Centres to show (repeat); default: the busiest.")
    ] = None,
    start: Annotated[str | None, typer.Option(help="First day shown, YYYY-MM-DD.")] = None,
    days: Annotated[int, typer.Option(min=1, max=62, help="Days shown.")] = 14,
) -> None:
    """A Gantt chart (HTML) of batches, shipments and appointments."""
    from rltnet.files.plan_file import read_plan_file
    from rltnet.report.gantt import write_gantt

    _writable(out, "gantt.html")
    stored = read_plan_file(plan_file)
    catalogue = _catalogue()
    grid = stored.network_with_events(_network(stored.network), catalogue)
    first = _date(start, "--start") if start else None
    write_gantt(out, stored.plan, grid, catalogue, centres=centre, start=first, days=days)
    console.print(f"Gantt chart: [bold]{out}[/]", highlight=False)


def _writable(out: Path, example: str = "plan.json") -> None:
    """Refuse an output path that is a directory before any work is done."""
    if out.is_dir():
        raise InvalidInput(f"--out {out} is a directory; give a file to write, e.g. --out {out / example}")


def _seed(seed: int) -> None:
    if not 0 <= seed <= MAX_SEED:
        raise InvalidInput(f"--seed must be a whole number from 0 to {MAX_SEED}, got {seed}")


def _date(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name} {text!r} is not a date; write e.g. 2027-01-04") from None
