"""The planner as a supply planner runs it: generate orders, plan, check, re-plan, chart."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rltnet.cli import app

runner = CliRunner()


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plan")
    invoke(
        "orders",
        "generate",
        "--network",
        "england",
        "--weeks",
        "2",
        "--seed",
        "3",
        "--start",
        "2027-03-01",
        "--out",
        str(folder / "orders.csv"),
    )
    invoke(
        "plan",
        "--network",
        "england",
        "--orders",
        str(folder / "orders.csv"),
        "--out",
        str(folder / "plan.json"),
    )
    return folder


def test_generated_orders_are_a_csv_with_the_documented_columns(workdir: Path) -> None:
    with (workdir / "orders.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    assert list(rows[0]) == [
        "order_id",
        "patient_id",
        "product_id",
        "cycle",
        "centre_id",
        "earliest_at",
        "latest_at",
        "preferred_at",
        "placed_at",
        "prescribed_gbq",
        "weight_kg",
        "confirmed",
    ]


def test_plan_writes_every_order_placed_or_unplanned_with_the_solver_report(workdir: Path) -> None:
    plan = json.loads((workdir / "plan.json").read_text(encoding="utf-8"))
    with (workdir / "orders.csv").open(encoding="utf-8") as handle:
        ordered = {row["order_id"] for row in csv.DictReader(handle)}
    accounted = {p["order_id"] for p in plan["placements"]} | {u["order_id"] for u in plan["unplanned"]}
    assert accounted == ordered
    assert plan["solver"]["planner"] == "exact"
    assert plan["solver"]["gap"] is not None and plan["solver"]["gap"] <= 1e-3
    assert plan["summary"]["orders"]["total"] == len(ordered)


def test_plan_check_accepts_the_plan_it_made(workdir: Path) -> None:
    result = invoke("plan", "check", str(workdir / "plan.json"))
    assert "every rule holds" in result.output


def test_plan_check_refuses_a_hand_broken_plan_naming_the_rule(workdir: Path) -> None:
    plan = json.loads((workdir / "plan.json").read_text(encoding="utf-8"))
    first = plan["placements"][0]
    first["appointment_at"] = first["appointment_at"][:11] + "02:00:00Z"
    broken = workdir / "broken.json"
    broken.write_text(json.dumps(plan), encoding="utf-8")
    result = runner.invoke(app, ["plan", "check", str(broken), "--json"])
    assert result.exit_code == 1
    verdict = json.loads(result.stdout)
    assert verdict["valid"] is False
    assert {"centre_hours", first["order_id"]} <= {v["rule"] for v in verdict["violations"]} | {
        v["order_id"] for v in verdict["violations"]
    }


def test_replan_after_a_failed_batch_moves_its_doses_and_the_new_plan_checks(workdir: Path) -> None:
    plan = json.loads((workdir / "plan.json").read_text(encoding="utf-8"))
    busiest, doses = Counter(p["batch_id"] for p in plan["placements"]).most_common(1)[0]
    events = workdir / "events.yaml"
    events.write_text(
        f"now: 2027-02-20T00:00Z\nevents:\n  - {{kind: batch_failed, batch: {busiest}, reason: sterility}}\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        [
            "plan",
            "replan",
            str(workdir / "plan.json"),
            "--event",
            str(events),
            "--out",
            str(workdir / "new.json"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    facts = json.loads(result.stdout)
    moved = [c for c in facts["changes"] if busiest in (c["before"] or "")]
    assert len(moved) == doses
    assert all(f"batch {busiest} failed QC" in c["reason"] for c in moved)
    new = json.loads((workdir / "new.json").read_text(encoding="utf-8"))
    assert busiest not in {p["batch_id"] for p in new["placements"]}
    assert new["events"][0]["batch"] == busiest
    invoke("plan", "check", str(workdir / "new.json"))


def test_gantt_writes_a_chart_of_the_plan(workdir: Path) -> None:
    invoke("plan", "gantt", str(workdir / "plan.json"), "--out", str(workdir / "gantt.html"), "--days", "7")
    page = (workdir / "gantt.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 1
    assert "ivrea-" in page


def test_plan_without_orders_says_what_to_give() -> None:
    result = runner.invoke(app, ["plan", "--network", "england"])
    assert result.exit_code != 0
    assert "give --network and --orders" in str(result.exception)


def test_an_unknown_solver_is_refused_with_the_choices(workdir: Path) -> None:
    result = runner.invoke(
        app,
        [
            "plan",
            "--network",
            "england",
            "--orders",
            str(workdir / "orders.csv"),
            "--solver",
            "magic",
            "--out",
            str(workdir / "x.json"),
        ],
    )
    assert result.exit_code != 0
    assert "exact, fast, edf, fcfs" in str(result.exception)
    assert not (workdir / "x.json").exists()
