"""The planner as a supply planner runs it: generate orders, plan, check, re-plan, chart."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rltnet import cli_planning
from rltnet.cli import app
from rltnet.planning.checker import PlanBreaksRules
from rltnet.planning.greedy import EarliestDeadlineFirst
from rltnet.planning.plan import Plan
from rltnet.planning.problem import PlanningProblem

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
        "--time-limit",  # proven optimal in about a second alone; generous for a loaded machine
        "300",
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
    assert "exact, edf, fcfs" in str(result.exception)
    assert not (workdir / "x.json").exists()


def rltnet(*args: str) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it: its exit code, and what it prints (wide, unwrapped)."""
    return subprocess.run(
        [sys.executable, "-c", "from rltnet.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "400"},
        check=False,
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in lines[0]


def test_a_negative_seed_is_a_one_line_error_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "orders.csv"
    done = rltnet("orders", "generate", "--network", "england", "--seed", "-1", "--out", str(out))
    assert_one_line_error(done, "--seed", "-1")
    assert not out.exists()


def test_an_output_path_that_is_a_directory_is_a_one_line_error(workdir: Path, tmp_path: Path) -> None:
    done = rltnet(
        "plan", "--network", "england", "--orders", str(workdir / "orders.csv"), "--out", str(tmp_path)
    )
    assert_one_line_error(done, str(tmp_path), "is a directory")
    assert list(tmp_path.iterdir()) == []


def test_an_event_naming_an_unknown_batch_is_a_one_line_error(workdir: Path, tmp_path: Path) -> None:
    events = tmp_path / "events.yaml"
    events.write_text(
        "now: 2027-02-20T00:00Z\nevents:\n  - {kind: batch_failed, batch: ivrea-20270231-0600}\n",
        encoding="utf-8",
    )
    out = tmp_path / "new.json"
    done = rltnet("plan", "replan", str(workdir / "plan.json"), "--event", str(events), "--out", str(out))
    assert_one_line_error(done, "unknown batch 'ivrea-20270231-0600'")
    assert not out.exists()


@pytest.mark.parametrize(("delay", "written"), [("30 h", "1 d 6 h"), ("90 min", "1 h 30 min")])
def test_a_lane_delay_is_written_as_a_duration_every_command_reads_back(
    workdir: Path, tmp_path: Path, delay: str, written: str
) -> None:
    plan = json.loads((workdir / "plan.json").read_text(encoding="utf-8"))
    lane = Counter(p["lane_id"] for p in plan["placements"]).most_common(1)[0][0]
    events = tmp_path / "events.yaml"
    events.write_text(
        "now: 2027-03-01T00:00Z\nevents:\n"
        f"  - {{kind: lane_delayed, lane: {lane}, start: 2027-03-01T00:00Z, end: 2027-03-04T00:00Z, "
        f"delay: {delay}}}\n",
        encoding="utf-8",
    )
    invoke(
        "plan",
        "replan",
        str(workdir / "plan.json"),
        "--event",
        str(events),
        "--out",
        str(tmp_path / "a.json"),
    )
    new = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert new["events"][0]["delay"] == written
    invoke("plan", "check", str(tmp_path / "a.json"))
    invoke("plan", "gantt", str(tmp_path / "a.json"), "--out", str(tmp_path / "g.html"), "--days", "3")
    no_show = tmp_path / "more.yaml"
    order = new["placements"][-1]["order_id"]
    no_show.write_text(
        f"now: 2027-03-01T01:00Z\nevents:\n  - {{kind: no_show, order: {order}}}\n", encoding="utf-8"
    )
    invoke(
        "plan", "replan", str(tmp_path / "a.json"), "--event", str(no_show), "--out", str(tmp_path / "b.json")
    )
    again = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    assert [e["kind"] for e in again["events"]] == ["lane_delayed", "no_show"]
    assert again["events"][0]["delay"] == written
    assert [o["order_id"] for o in again["cancelled"]] == [order]
    invoke("plan", "check", str(tmp_path / "b.json"))


class _BreaksAChair:
    """A planner with a fault: it puts its first appointment on a chair the centre lacks."""

    name = "faulty"

    def plan(self, problem: PlanningProblem) -> Plan:
        made = EarliestDeadlineFirst().plan(problem)
        first, *rest = made.placements
        return dataclasses.replace(made, placements=(dataclasses.replace(first, chair=99), *rest))


def test_a_plan_that_breaks_a_rule_is_not_written_and_the_command_fails_naming_it(
    workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_planning, "planner_named", lambda name: _BreaksAChair())
    out = tmp_path / "plan.json"
    result = runner.invoke(
        app, ["plan", "--network", "england", "--orders", str(workdir / "orders.csv"), "--out", str(out)]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, PlanBreaksRules)
    assert "chair 99 does not exist" in str(result.exception)
    assert not out.exists()
