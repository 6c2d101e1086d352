"""The catalogue file: the shipped one loads; a bad one is refused naming file, field and fix."""

from __future__ import annotations

import copy
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from rltnet.domain.errors import DataFileError
from rltnet.domain.products import Catalogue
from rltnet.domain.units import Activity
from rltnet.files.catalogue_file import default_catalogue, load_catalogue

Document = dict[str, Any]
WriteYaml = Callable[[Document, str], Path]
Change = Callable[[Document], object]

SHIPPED = Path(str(resources.files("rltnet") / "data" / "products.yaml"))
PLUVICTO = "therapies[0] 'lu177-vipivotide-tetraxetan'"
LUTATHERA = "therapies[1] 'lu177-oxodotreotide'"


@pytest.fixture(scope="module")
def shipped_document() -> Document:
    document: Document = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    return document


@pytest.fixture
def catalogue_document(shipped_document: Document) -> Document:
    """A fresh copy of the shipped catalogue, free to change in a test."""
    return copy.deepcopy(shipped_document)


def refusal(path: Path) -> DataFileError:
    with pytest.raises(DataFileError) as refused:
        load_catalogue(path)
    assert refused.value.path == str(path)
    assert str(refused.value).startswith(f"{path}: ")
    assert "nothing was loaded" in str(refused.value)
    return refused.value


def therapy(index: int, figure: str, change: Callable[[dict[str, Any]], object]) -> Change:
    """A change to one figure ({value, source, note}) of one therapy."""
    return lambda document: change(document["therapies"][index][figure])


def test_the_shipped_catalogue_loads(catalogue: Catalogue) -> None:
    assert len(catalogue.therapies) == 4
    assert len(catalogue.imaging_agents) == 5
    assert default_catalogue() is catalogue  # loaded once


def test_the_shipped_file_reloads_to_the_same_products(catalogue: Catalogue) -> None:
    reloaded = load_catalogue(SHIPPED)
    assert reloaded.therapies == catalogue.therapies
    assert reloaded.imaging_agents == catalogue.imaging_agents


def test_a_copy_of_the_catalogue_written_back_loads_the_same(
    catalogue_document: Document, write_yaml: WriteYaml, catalogue: Catalogue
) -> None:
    reloaded = load_catalogue(write_yaml(catalogue_document, "products.yaml"))
    assert reloaded.therapy("Pluvicto") == catalogue.therapy("Pluvicto")


def test_a_loaded_figure_keeps_its_note(catalogue: Catalogue) -> None:
    assert "at the date and time of administration" in catalogue.therapy("Pluvicto").notes["activity"]


def test_a_changed_figure_loads_with_its_new_value(
    catalogue_document: Document, write_yaml: WriteYaml
) -> None:
    catalogue_document["therapies"][1]["activity"]["value"] = {"fixed": "200 mCi"}
    catalogue_document["therapies"][1]["tolerance_percent"]["value"] = 15
    loaded = load_catalogue(write_yaml(catalogue_document, "products.yaml"))
    assert loaded.therapy("Lutathera").prescribe() == Activity.from_gbq(7.4)
    assert loaded.therapy("Lutathera").tolerance == pytest.approx(0.15)


# Each kind: the change, then what the problem line must say.
MALFORMED: dict[str, tuple[Change, list[str]]] = {
    "figure without source": (
        therapy(0, "shelf_life", lambda figure: figure.pop("source")),
        [f"{PLUVICTO}.shelf_life.source: required field is missing", "Fix: a key of the file's"],
    ),
    "source not in the sources table": (
        therapy(0, "shelf_life", lambda figure: figure.update(source="pluvicto-leaflet")),
        [
            f"{PLUVICTO}.shelf_life.source: 'pluvicto-leaflet' is not in 'sources'",
            "Fix: add it there or use one of:",
            "pluvicto-hcp",
        ],
    ),
    "unknown imaging agent in eligibility": (
        therapy(0, "eligibility", lambda figure: figure["value"]["imaging_agents"].append("psma-x")),
        [
            f"{PLUVICTO}.eligibility.value.imaging_agents[3]: 'psma-x' is not an imaging agent",
            "Fix: use one of: cu64-dotatate",
        ],
    ),
    "unknown nuclide": (
        lambda document: document["therapies"][0].update(nuclide="Lu-999"),
        [f"{PLUVICTO}.nuclide: unknown nuclide 'Lu-999'", "(got 'Lu-999')", "Fix:"],
    ),
    "stable nuclide": (
        lambda document: document["imaging_agents"][0].update(nuclide="Hf-177"),
        ["imaging_agents[0] 'ga68-gozetotide'.nuclide: Hf-177 is stable", "Fix:"],
    ),
    "unknown field (typo)": (
        lambda document: document["therapies"][0].update(premedications={}),
        [f"{PLUVICTO}.premedications: unknown field", "did you mean 'premedication'?"],
    ),
    "duplicate product id": (
        lambda document: document["therapies"][3].update(id="ra223-dichloride"),
        ["id 'ra223-dichloride' is used more than once. Fix: give each product a unique id."],
    ),
    "bad activity unit": (
        therapy(0, "activity", lambda figure: figure.update(value={"fixed": "7.4 GBqq"})),
        [f"{PLUVICTO}.activity.value.fixed: cannot read activity '7.4 GBqq'", "Fix:"],
    ),
    "bad duration": (
        therapy(1, "shelf_life", lambda figure: figure.update(value="72")),
        [f"{LUTATHERA}.shelf_life.value: cannot read duration '72'", "Fix:"],
    ),
    "unknown source kind": (
        lambda document: document["sources"]["locametz"].update(kind="blog"),
        ["sources.locametz.kind:", "(got 'blog')", "'label', 'regulator'"],
    ),
    "tolerance over 50 percent": (
        therapy(1, "tolerance_percent", lambda figure: figure.update(value=60)),
        [LUTATHERA, "tolerance_percent must be between 0 and 50"],
    ),
    "both fixed and per_kg": (
        therapy(0, "activity", lambda figure: figure["value"].update(per_kg="55 kBq")),
        [f"{PLUVICTO}.activity.value:", "give exactly one of 'fixed' or 'per_kg'"],
    ),
    "cap with a fixed activity": (
        therapy(0, "activity", lambda figure: figure["value"].update(cap="8 GBq")),
        [f"{PLUVICTO}.activity.value:", "'cap' and 'platelet_bands' go with 'per_kg'"],
    ),
    "zero cycles": (
        therapy(0, "cycles", lambda figure: figure.update(value=0)),
        [PLUVICTO, "cycles must be between 1 and 20"],
    ),
    "vial volumes swapped": (
        therapy(0, "vial", lambda figure: figure["value"].update(max_volume_ml=5)),
        [
            f"{PLUVICTO}.vial.value.max_volume_ml:",
            "'max_volume_ml' is below 'min_volume_ml'; swap them",
        ],
    ),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_a_malformed_catalogue_is_refused_naming_the_field_and_what_is_wrong(
    kind: str, catalogue_document: Document, write_yaml: WriteYaml
) -> None:
    change, expected = MALFORMED[kind]
    change(catalogue_document)
    refused = refusal(write_yaml(catalogue_document, "products.yaml"))
    assert len(refused.problems) == 1, refused.problems
    (problem,) = refused.problems
    for fragment in expected:
        assert fragment in problem


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        ("tolerance over 50 percent", f"{LUTATHERA}.tolerance_percent", "(got 60)"),
        ("zero cycles", f"{PLUVICTO}.cycles", "(got 0)"),
        ("both fixed and per_kg", f"{PLUVICTO}.activity.value", "'per_kg': '55 kBq'"),
        ("vial volumes swapped", f"{PLUVICTO}.vial.value.max_volume_ml", "(got 5)"),
    ],
    ids=["tolerance", "cycles", "fixed-and-per-kg", "vial-volumes"],
)
def test_a_rule_across_fields_names_the_field_its_value_and_the_fix(
    kind: str, field: str, value: str, catalogue_document: Document, write_yaml: WriteYaml
) -> None:
    change, _ = MALFORMED[kind]
    change(catalogue_document)
    (problem,) = refusal(write_yaml(catalogue_document, "products.yaml")).problems
    assert problem.startswith(field)
    assert value in problem
    assert "Fix:" in problem


def test_a_bad_source_entry_says_the_fix(catalogue_document: Document, write_yaml: WriteYaml) -> None:
    MALFORMED["unknown source kind"][0](catalogue_document)
    (problem,) = refusal(write_yaml(catalogue_document, "products.yaml")).problems
    assert "Fix: label, regulator, regulation" in problem


def test_every_problem_in_a_catalogue_is_listed_at_once(
    catalogue_document: Document, write_yaml: WriteYaml
) -> None:
    MALFORMED["source not in the sources table"][0](catalogue_document)
    MALFORMED["unknown imaging agent in eligibility"][0](catalogue_document)
    catalogue_document["therapies"][2]["appointment"]["source"] = "nowhere"
    refused = refusal(write_yaml(catalogue_document, "products.yaml"))
    assert len(refused.problems) == 3
    assert str(refused).startswith(f"{refused.path}: 3 problem(s)")
    assert "therapies[2] 'ra223-dichloride'.appointment.source: 'nowhere'" in str(refused)


def test_a_catalogue_without_therapies_is_refused(
    catalogue_document: Document, write_yaml: WriteYaml
) -> None:
    catalogue_document["therapies"] = []
    (problem,) = refusal(write_yaml(catalogue_document, "products.yaml")).problems
    assert problem.startswith("therapies: List should have at least 1 item")


def test_a_missing_catalogue_file_is_refused_naming_it(tmp_path: Path) -> None:
    (problem,) = refusal(tmp_path / "products.yaml").problems
    assert "file not found" in problem


def test_a_catalogue_with_a_yaml_syntax_error_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "products.yaml"
    path.write_text("sources:\n  a: {citation: x\ntherapies: []\n", encoding="utf-8")
    (problem,) = refusal(path).problems
    assert problem.startswith("line 3, column ")
    assert "not valid YAML" in problem
