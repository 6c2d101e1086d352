"""The command line as a user calls it: in process through Typer, and once as a real program."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import radioactivedecay as rd
from typer.testing import CliRunner

from rltnet.cli import app

LU177_HALF_LIFE_S = 6.647 * 86_400  # ICRP-107, as radioactivedecay gives it
runner = CliRunner()


def run_json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_dose_window_of_a_pluvicto_vial_matches_the_hand_computed_band() -> None:
    window = run_json(
        "dose",
        "window",
        "--product",
        "pluvicto",
        "--activity",
        "7.4GBq",
        "--calibrated-at",
        "2026-03-02T09:00Z",
    )
    calibrated = datetime(2026, 3, 2, 9, tzinfo=UTC)
    falls_to_lower_bound = timedelta(seconds=LU177_HALF_LIFE_S * math.log2(7.4 / 6.66))
    assert instant(window["earliest_at"]) == calibrated
    assert abs(instant(window["latest_at"]) - (calibrated + falls_to_lower_bound)) <= timedelta(seconds=1)
    assert window["latest_limited_by"] == "tolerance"
    assert window["band_gbq"] == [6.66, 8.14]


def test_a_full_vial_enters_the_band_late_and_is_cut_off_by_expiry() -> None:
    window = run_json(
        "dose", "window", "-p", "Pluvicto", "-a", "12.5 GBq", "--calibrated-at", "2026-03-02T09:00Z"
    )
    calibrated = datetime(2026, 3, 2, 9, tzinfo=UTC)
    enters_band = timedelta(seconds=LU177_HALF_LIFE_S * math.log2(12.5 / 8.14))
    assert abs(instant(window["earliest_at"]) - (calibrated + enters_band)) <= timedelta(seconds=1)
    assert instant(window["latest_at"]) == calibrated + timedelta(hours=120)
    assert window["latest_limited_by"] == "expiry"


def test_the_product_is_found_by_brand_or_id_in_any_case() -> None:
    by_brand = run_json(
        "dose", "window", "-p", "LUTATHERA", "-a", "7.4GBq", "--calibrated-at", "2026-03-02T09:00Z"
    )
    by_id = run_json(
        "dose",
        "window",
        "-p",
        "Lu177-Oxodotreotide",
        "-a",
        "7.4GBq",
        "--calibrated-at",
        "2026-03-02T09:00Z",
    )
    assert by_brand == by_id
    assert by_brand["product"] == "lu177-oxodotreotide"


def test_dose_activity_equals_radioactivedecay() -> None:
    facts = run_json(
        "dose",
        "activity",
        "-p",
        "lutathera",
        "-a",
        "200 mCi",
        "--calibrated-at",
        "2026-03-02T09:00+01:00",
        "--at",
        "2026-03-05T17:30+00:00",
    )
    elapsed_s = (
        datetime(2026, 3, 5, 17, 30, tzinfo=UTC) - datetime(2026, 3, 2, 8, tzinfo=UTC)
    ).total_seconds()
    expected = rd.Inventory({"Lu-177": 7.4e9}, "Bq").decay(elapsed_s, "s").activities("Bq")["Lu-177"]
    assert math.isclose(facts["activity_gbq"] * 1e9, expected, rel_tol=1e-12)


def test_a_time_without_offset_is_refused_with_an_example() -> None:
    result = runner.invoke(
        app,
        [
            "dose",
            "activity",
            "-p",
            "pluvicto",
            "-a",
            "7.4GBq",
            "--calibrated-at",
            "2026-03-02T09:00",
            "--at",
            "2026-03-03T09:00Z",
        ],
    )
    assert result.exit_code != 0
    assert "no time zone" in str(result.exception)


def test_an_unknown_product_names_the_choices() -> None:
    result = runner.invoke(
        app,
        ["dose", "window", "-p", "plvicto", "-a", "7.4GBq", "--calibrated-at", "2026-03-02T09:00Z"],
    )
    assert result.exit_code != 0
    assert "Pluvicto" in str(result.exception)


def test_a_dose_that_is_never_in_tolerance_exits_with_an_error() -> None:
    result = runner.invoke(
        app,
        ["dose", "window", "-p", "pluvicto", "-a", "5GBq", "--calibrated-at", "2026-03-02T09:00Z"],
    )
    assert result.exit_code != 0
    assert "never within" in str(result.exception)


def test_products_lists_every_figure_with_its_source() -> None:
    catalogue = run_json("products")
    brands = {t["brand"] for t in catalogue["therapies"]}
    assert brands == {"Pluvicto", "Lutathera", "Xofigo", "Zevalin"}
    assert {a["id"] for a in catalogue["imaging_agents"]} >= {
        "ga68-gozetotide",
        "f18-piflufolastat",
        "f18-flotufolastat",
        "ga68-dotatate",
        "cu64-dotatate",
    }
    for therapy in catalogue["therapies"]:
        assert {"activity", "tolerance_percent", "shelf_life", "cycles", "interval"} <= set(
            therapy["sources"]
        )
        assert all(s["citation"] for s in therapy["sources"].values())


def test_network_show_summarises_both_demo_networks() -> None:
    england = run_json("network", "show", "england")
    us = run_json("network", "show", "US")
    assert england["centres"] > 5 and us["centres"] > england["centres"]
    assert england["population"] > 40_000_000
    assert us["population"] > england["population"]
    assert england["provenance"]["assumed"] and england["provenance"]["real"]


def test_demo_writes_a_report_and_a_consistent_summary(tmp_path: Path) -> None:
    facts = run_json("demo", "--weeks", "2", "--seed", "3", "--out", str(tmp_path))
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    doses = facts["doses"]
    assert facts["referrals"] > 0
    assert 0 < doses["administered"] <= doses["made"]
    assert doses["administered"] + sum(doses["discarded"].values()) <= doses["made"]
    assert report.count("<svg") == 2
    assert "tolerance" in report and "chair occupancy" in report


def test_the_installed_program_runs_and_reports_errors_on_stderr() -> None:
    program = Path(sys.executable).parent / "rltnet"
    done = subprocess.run(
        [
            str(program),
            "dose",
            "window",
            "-p",
            "pluvicto",
            "-a",
            "7.4GBq",
            "--calibrated-at",
            "2026-03-02T09:00",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "no time zone" in done.stderr
    assert "Traceback" not in done.stderr
