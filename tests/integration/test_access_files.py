"""User areas and travel-time matrices: read whole, refused whole with every problem named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rltnet.access.area_file import read_areas, read_travel_matrix, write_travel_matrix
from rltnet.domain.errors import DataFileError


def test_a_csv_of_areas_is_read_with_its_optional_columns(tmp_path: Path) -> None:
    path = tmp_path / "areas.csv"
    path.write_text(
        "id,name,population,lat,lon,region,incidence,deprivation\n"
        "a1,Truro,18766,50.2632,-5.051,South West,1.2,4\n"
        "a2,St Ives,11226,50.2105,-5.4809,South West,1,\n",
        encoding="utf-8",
    )
    areas = read_areas(path)
    assert areas.area_id.tolist() == ["a1", "a2"]
    assert areas.population.tolist() == [18766.0, 11226.0]
    assert areas.rurality.tolist() == ["urban", "urban"]
    assert areas.incidence.tolist() == [1.2, 1.0]
    assert areas.deprivation[0] == 4.0 and np.isnan(areas.deprivation[1])


def test_a_bad_areas_file_is_refused_whole_naming_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "areas.csv"
    path.write_text(
        "id,population,lat,lon,incidence\n"
        "a1,1000,51.5,-0.1,1\n"
        "a1,many,51.5,-0.1,1\n"
        ",2000,95,-0.1,1\n"
        "a4,-3,51.5,west,-2\n",
        encoding="utf-8",
    )
    with pytest.raises(DataFileError) as caught:
        read_areas(path)
    problems = caught.value.problems
    assert any(p.startswith("row 2, id: 'a1' repeats row 1") for p in problems)
    assert any(p.startswith("row 2, population: 'many'") for p in problems)
    assert any(p.startswith("row 3, id: empty") for p in problems)
    assert any(p.startswith("row 3, lat: '95'") for p in problems)
    assert any(p.startswith("row 4, population: '-3'") for p in problems)
    assert any(p.startswith("row 4, lon: 'west'") for p in problems)
    assert any(p.startswith("row 4, incidence: '-2'") for p in problems)
    assert all("Fix:" in p for p in problems)
    assert "nothing was loaded" in str(caught.value)


def test_a_file_without_the_columns_needed_says_which_are_missing(tmp_path: Path) -> None:
    path = tmp_path / "areas.csv"
    path.write_text("code_x,people_y\n1,2\n", encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        read_areas(path)
    text = str(caught.value)
    assert "column 'id' is missing" in text and "column 'population' is missing" in text
    assert "'lat' and 'lon' are missing" in text


def test_polygons_in_geojson_give_their_centroids(tmp_path: Path) -> None:
    square = [[[-1.0, 52.0], [-0.9, 52.0], [-0.9, 52.1], [-1.0, 52.1], [-1.0, 52.0]]]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"id": "sq", "population": 4000},
                "geometry": {"type": "Polygon", "coordinates": square},
            },
            {
                "type": "Feature",
                "properties": {"id": "pt", "population": 700},
                "geometry": {"type": "Point", "coordinates": [-2.0, 53.0]},
            },
        ],
    }
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    areas = read_areas(path)
    assert areas.latitude[0] == pytest.approx(52.05, abs=1e-3)
    assert areas.longitude[0] == pytest.approx(-0.95, abs=1e-6)
    assert (areas.latitude[1], areas.longitude[1]) == pytest.approx((53.0, -2.0))
    assert areas.rurality.tolist() == ["town", "rural"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_travel_matrix_round_trips(tmp_path: Path, suffix: str) -> None:
    rng = np.random.default_rng(5)
    matrix = rng.uniform(0, 300, (6, 3))
    matrix[2, 1] = np.inf  # a pair the router left out
    areas, sites = [f"a{i}" for i in range(6)], ["leeds", "york", "hull"]
    path = tmp_path / f"times{suffix}"
    write_travel_matrix(path, matrix, areas, sites)
    back = read_travel_matrix(path, areas, sites)
    np.testing.assert_array_equal(back, matrix)


def test_a_bad_travel_matrix_names_every_row(tmp_path: Path) -> None:
    path = tmp_path / "times.csv"
    path.write_text(
        "origin,destination,minutes\na0,leeds,12\na9,leeds,10\na0,paris,5\na1,york,-4\na0,leeds,13\n",
        encoding="utf-8",
    )
    with pytest.raises(DataFileError) as caught:
        read_travel_matrix(path, ["a0", "a1"], ["leeds", "york"])
    problems = caught.value.problems
    assert problems[0].startswith("row 2, origin: 'a9' is not an area id")
    assert problems[1].startswith("row 3, destination: 'paris' is not a centre id")
    assert problems[2].startswith("row 4, minutes: '-4'")
    assert problems[3].startswith("row 5: the pair 'a0' -> 'leeds' repeats row 1")
    assert len(problems) == 4
