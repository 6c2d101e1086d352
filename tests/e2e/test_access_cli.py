"""rltnet access report / site, as a planner runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rltnet.cli import app

runner = CliRunner()

# A few real English places (GeoNames coordinates, populations rounded)
AREAS = """id,name,population,lat,lon,region
leeds,Leeds,455000,53.79648,-1.54785,North East and Yorkshire
harrogate,Harrogate,75000,53.99078,-1.5373,North East and Yorkshire
scarborough,Scarborough,61000,54.27966,-0.40443,North East and Yorkshire
whitby,Whitby,13000,54.48774,-0.61498,North East and Yorkshire
hawes,Hawes,1100,54.30473,-2.19643,North East and Yorkshire
penzance,Penzance,21000,50.11861,-5.53715,South West
truro,Truro,18000,50.26526,-5.05436,South West
bude,Bude,9200,50.82435,-4.54130,South West
"""


@pytest.fixture
def areas_file(tmp_path: Path) -> Path:
    path = tmp_path / "areas.csv"
    path.write_text(AREAS, encoding="utf-8")
    return path


def test_the_report_answers_in_json_with_coverage_by_rurality(areas_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "access",
            "report",
            "england",
            "--areas",
            str(areas_file),
            "--indication",
            "GEP-NEN",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    (ind,) = payload["indications"]
    assert ind["product"] == "lu177-oxodotreotide"
    assert payload["population"] == 653_300
    groups = {row["group"]: row for row in ind["by_rurality"]}
    assert set(groups) == {"urban", "town", "rural"}
    # Hawes (Yorkshire Dales) is farther from a centre than Leeds
    assert groups["rural"]["mean_minutes"] > groups["urban"]["mean_minutes"]
    shares = ind["overall"]["population_within"]
    assert shares["30_min"] <= shares["60_min"] <= shares["90_min"] <= shares["120_min"]
    assert any(r["reachable"] for r in payload["dose_reachability"])
    assert (out / "access-lu177-oxodotreotide.png").stat().st_size > 10_000
    page = (out / "access-lu177-oxodotreotide.html").read_text(encoding="utf-8")
    assert "<svg" in page and "Hawes" in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")


def test_a_travel_time_file_is_used_instead_of_the_estimate(areas_file: Path, tmp_path: Path) -> None:
    from rltnet.files.catalogue_file import default_catalogue
    from rltnet.files.network_file import load_network, network_path

    centres = list(load_network(network_path("england"), default_catalogue()).centres)
    rows = ["origin,destination,minutes"] + [
        f"{a},{c},{15 if a == 'hawes' else 200}" for a in ("leeds", "hawes") for c in centres
    ]
    times = tmp_path / "times.csv"
    times.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "access",
            "report",
            "england",
            "--areas",
            str(areas_file),
            "--travel-times",
            str(times),
            "-i",
            "GEP-NEN",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    groups = {row["group"]: row for row in payload["indications"][0]["by_rurality"]}
    assert groups["rural"]["mean_minutes"] == 15
    assert payload["travel_times"] == "from times.csv"


def test_a_bad_areas_file_is_one_clear_message_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "areas.csv"
    path.write_text("id,population,lat,lon\nx,lots,51,0\n", encoding="utf-8")
    result = runner.invoke(app, ["access", "report", "england", "--areas", str(path)])
    assert result.exit_code != 0
    assert isinstance(result.exception, Exception)
    assert "row 1, population: 'lots'" in str(result.exception)


def test_site_places_new_centres_where_they_cover_most(areas_file: Path, tmp_path: Path) -> None:
    candidates = tmp_path / "candidates.csv"
    candidates.write_text(
        "id,name,lat,lon\ntruro,Royal Cornwall Hospital,50.26526,-5.05436\n"
        "hawes,Hawes,54.30473,-2.19643\nharrogate,Harrogate,53.99078,-1.5373\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        [
            "access",
            "site",
            "england",
            "--add",
            "1",
            "--areas",
            str(areas_file),
            "--candidates",
            str(candidates),
            "--minutes",
            "60",
            "-i",
            "GEP-NEN",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["status"] == "Optimal"
    assert [s["id"] for s in payload["chosen"]] == ["truro"]  # Cornwall: 39,000 people beyond 60 min
    assert payload["people_within_after"] > payload["people_within_before"]
    assert payload["greedy_gap"] == 0.0
