"""The network file: a valid file loads whole; a bad one is refused naming file, field, value
and fix, with every problem listed and nothing half-loaded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from rltnet.domain.errors import DataFileError
from rltnet.domain.network import Network, StaffRole
from rltnet.domain.products import Catalogue, Weekday
from rltnet.domain.units import Activity
from rltnet.files.network_file import load_network

Document = dict[str, Any]
WriteYaml = Callable[[Document, str], Path]
Change = Callable[[Document], object]


def refusal(path: Path, catalogue: Catalogue) -> DataFileError:
    """The error loading `path` raises; fails the test if the file loads."""
    with pytest.raises(DataFileError) as refused:
        load_network(path, catalogue)
    assert refused.value.path == str(path)
    assert str(refused.value).startswith(f"{path}: ")
    assert "nothing was loaded" in str(refused.value)
    return refused.value


def put(*keys: str | int, value: object) -> Change:
    """A change that sets the field at `keys` to `value`."""

    def change(document: Document) -> None:
        node: Any = document
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return change


def drop(*keys: str | int) -> Change:
    def change(document: Document) -> None:
        node: Any = document
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]

    return change


def rename(*keys: str | int, to: str) -> Change:
    def change(document: Document) -> None:
        node: Any = document
        for key in keys[:-1]:
            node = node[key]
        node[to] = node.pop(keys[-1])

    return change


# Each kind: the change, then what the one problem line must say (its field path first,
# then the value found or the rule broken). Every line must also carry a 'Fix:'.
MALFORMED: dict[str, tuple[Change, list[str]]] = {
    "unknown field (typo)": (
        rename("centres", 0, "staff", 0, "licences", to="licenses"),
        [
            "centres[0] 'leeds'.staff[0] 'leeds-ap-1'.licenses: unknown field",
            "did you mean 'licences'?",
        ],
    ),
    "missing required field": (
        drop("centres", 0, "region"),
        ["centres[0] 'leeds'.region: required field is missing", "health region"],
    ),
    "zero chairs": (
        put("centres", 0, "chairs", value=0),
        ["centres[0] 'leeds'.chairs:", "greater than or equal to 1", "(got 0)", "1-200"],
    ),
    "negative chairs": (
        put("centres", 1, "chairs", value=-3),
        ["centres[1] 'london-rfh'.chairs:", "(got -3)"],
    ),
    "bad activity unit": (
        put("reactors", 0, "delivery", value="900 GBx"),
        ["reactors[0] 'hfr-petten'.delivery:", "cannot read activity '900 GBx'", "e.g. '7.4 GBq'"],
    ),
    "activity without a unit": (
        put("centres", 0, "daily_activity_limit", value=60),
        ["centres[0] 'leeds'.daily_activity_limit:", "with its unit", "(got 60)"],
    ),
    "unknown time zone": (
        put("centres", 0, "time_zone", value="Europe/Londn"),
        ["centres[0] 'leeds'.time_zone:", "unknown time zone 'Europe/Londn'", "'Europe/London'"],
    ),
    "unknown holiday country": (
        put("production_sites", 0, "country", value="XX"),
        [
            "production_sites[0] 'ivrea'.country",
            "unknown holiday country 'XX'",
            "ISO 3166 country code",
        ],
    ),
    "unknown holiday subdivision": (
        put("centres", 0, "subdivision", value="YKS"),
        ["centres[0] 'leeds'", "unknown subdivision 'YKS' of GB", "ENG, NIR, SCT, WLS"],
    ),
    "bad weekday range": (
        put("lanes", 0, "weekdays", value="mon-fry"),
        ["lanes[0] 'ivrea-leeds'.weekdays:", "unknown weekday 'fry'", "(got 'mon-fry')"],
    ),
    "bad weekday name": (
        put("centres", 0, "mdt_weekday", value="funday"),
        ["centres[0] 'leeds'.mdt_weekday:", "unknown weekday 'funday'"],
    ),
    "unquoted clock time": (
        put("lanes", 0, "cutoffs", value=[840]),  # what YAML makes of an unquoted 14:00
        ["lanes[0] 'ivrea-leeds'.cutoffs[0]:", "quote clock times, e.g. '14:00'", "(got 840)"],
    ),
    "clock time out of range": (
        put("production_sites", 0, "batch_times", value=["25:00"]),
        ["production_sites[0] 'ivrea'.batch_times[0]:", "'HH:MM'", "(got '25:00')"],
    ),
    "closes before opens": (
        put("centres", 0, "opening", "closes", value="07:00"),
        ["centres[0] 'leeds'.opening.closes:", "'closes' must be after 'opens'", "'07:00'"],
    ),
    "reliability above 1": (
        put("lanes", 0, "reliability", value=1.2),
        ["lanes[0] 'ivrea-leeds'.reliability:", "less than or equal to 1", "(got 1.2)"],
    ),
    "lane to an unknown centre": (
        put("lanes", 0, "to", value="leds"),
        ["lanes[0] 'ivrea-leeds'.to: 'leds' is not a centre of this network", "leeds, london-rfh"],
    ),
    "lane from an unknown site": (
        put("lanes", 2, "from", value="zaragosa"),
        ["lanes[2] 'zaragoza-london'.from: 'zaragosa' is not a production site", "ivrea, zaragoza"],
    ),
    "site fed by an unknown reactor": (
        put("production_sites", 1, "reactors", value=["hfr-petten", "maria"]),
        ["production_sites[1] 'zaragoza'.reactors[1]: 'maria' is not a reactor of this network"],
    ),
    "duplicate lane id": (
        put("lanes", 1, "id", value="ivrea-leeds"),
        ["lanes: id 'ivrea-leeds' is used more than once", "give each a unique id"],
    ),
    "unknown product id": (
        put("centres", 0, "products", value=["lu177-oxodotreotide", "lu177-dotatate"]),
        [
            "centres[0] 'leeds'.products[1]: 'lu177-dotatate' is not a therapy in the catalogue",
            "lu177-vipivotide-tetraxetan",
        ],
    ),
    "unknown PET tracer": (
        put("centres", 0, "pet_scanners", 0, "tracers", value=["ga68-psma"]),
        ["centres[0] 'leeds'.pet_scanners[0] 'pet-1'.tracers[0]: 'ga68-psma' is not a PET tracer"],
    ),
    "unknown product in demand": (
        put("demand", "incidence", 0, "product", value="lutathera"),
        ["demand.incidence[0].product: 'lutathera' is not a therapy in the catalogue"],
    ),
    "unknown nuclide": (
        put("reactors", 0, "nuclides", value=["Lu-177", "Xx-999"]),
        ["reactors[0] 'hfr-petten'.nuclides:", "unknown nuclide 'Xx-999'", "e.g. 'Lu-177'"],
    ),
    "stable nuclide in a licence": (
        put("centres", 0, "staff", 0, "licences", 0, "covers", value=["Hf-177"]),
        ["centres[0] 'leeds'.staff[0] 'leeds-ap-1'.licences[0].covers:", "Hf-177 is stable"],
    ),
    "naive outage instant": (
        put("reactors", 0, "outages", 0, "start", value="2026-02-09T00:00"),
        ["reactors[0] 'hfr-petten'.outages[0].start:", "'2026-02-09T00:00' has no UTC offset"],
    ),
    "unknown staff role": (
        put("centres", 0, "staff", 1, "role", value="physicist"),
        ["centres[0] 'leeds'.staff[1] 'leeds-nurse-1'.role:", "(got 'physicist')", "nurse"],
    ),
    "id with capitals": (
        put("centres", 1, "id", value="London RFH"),
        ["centres[1] 'London RFH'.id:", "(got 'London RFH')", "lower-case id"],
    ),
    "latitude out of range": (
        put("centres", 0, "location", "lat", value=153.8),
        ["centres[0] 'leeds'.location.lat:", "(got 153.8)", "-90 to 90"],
    ),
    "empty section": (
        put("reactors", value=[]),
        ["reactors:", "at least 1 item", "at least one reactor"],
    ),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_a_malformed_network_file_is_refused_naming_the_field_value_and_fix(
    kind: str, network_document: Document, write_yaml: WriteYaml, catalogue: Catalogue
) -> None:
    change, expected = MALFORMED[kind]
    change(network_document)
    path = write_yaml(network_document, "network.yaml")
    refused = refusal(path, catalogue)
    assert len(refused.problems) == 1, refused.problems
    (problem,) = refused.problems
    for fragment in expected:
        assert fragment in problem
    assert "Fix:" in problem
    assert problem in str(refused)


def test_every_schema_problem_in_a_file_is_listed_at_once(
    network_document: Document, write_yaml: WriteYaml, catalogue: Catalogue
) -> None:
    put("centres", 0, "chairs", value=0)(network_document)
    put("lanes", 0, "reliability", value=3)(network_document)
    put("reactors", 0, "delivery", value="lots")(network_document)
    refused = refusal(write_yaml(network_document, "network.yaml"), catalogue)
    assert len(refused.problems) == 3
    assert str(refused).startswith(f"{refused.path}: 3 problem(s), nothing was loaded:")
    listed = str(refused)
    for where in (
        "centres[0] 'leeds'.chairs",
        "lanes[0] 'ivrea-leeds'.reliability",
        "reactors[0] 'hfr-petten'.delivery",
    ):
        assert where in listed


def test_every_reference_problem_in_a_file_is_listed_at_once(
    network_document: Document, write_yaml: WriteYaml, catalogue: Catalogue
) -> None:
    put("lanes", 0, "to", value="leds")(network_document)
    put("centres", 1, "products", value=["pluvicto"])(network_document)
    refused = refusal(write_yaml(network_document, "network.yaml"), catalogue)
    assert len(refused.problems) == 2
    assert "lanes[0] 'ivrea-leeds'.to: 'leds'" in refused.problems[0]
    assert "centres[1] 'london-rfh'.products[0]: 'pluvicto'" in refused.problems[1]


def test_schema_and_reference_problems_are_listed_together(
    network_document: Document, write_yaml: WriteYaml, catalogue: Catalogue
) -> None:
    put("centres", 0, "chairs", value=0)(network_document)
    put("lanes", 0, "to", value="leds")(network_document)
    refused = refusal(write_yaml(network_document, "network.yaml"), catalogue)
    assert len(refused.problems) == 2
    assert "centres[0] 'leeds'.chairs" in refused.problems[0] + refused.problems[1]
    assert "lanes[0] 'ivrea-leeds'.to: 'leds'" in refused.problems[0] + refused.problems[1]


@pytest.mark.parametrize(
    ("change", "field", "fix_mentions"),
    [
        pytest.param(put("production_sites", 0, "country", value="XX"), ".country", "ISO 3166", id="country"),
        pytest.param(put("centres", 0, "subdivision", value="YKS"), ".subdivision", "ENG", id="subdivision"),
        pytest.param(
            put("centres", 0, "opening", "closes", value="07:00"),
            ".closes",
            "after 'opens'",
            id="closes-before-opens",
        ),
    ],
)
def test_a_rule_across_fields_names_the_field_to_fix(
    change: Change,
    field: str,
    fix_mentions: str,
    network_document: Document,
    write_yaml: WriteYaml,
    catalogue: Catalogue,
) -> None:
    change(network_document)
    (problem,) = refusal(write_yaml(network_document, "network.yaml"), catalogue).problems
    where, _, rest = problem.partition(": ")
    assert where.endswith(field)
    assert fix_mentions in rest.partition("Fix:")[2]


def test_a_bad_reactor_cycle_pattern_is_one_problem_at_its_field(
    network_document: Document, write_yaml: WriteYaml, catalogue: Catalogue
) -> None:
    put("reactors", 0, "cycles", "operating", value="40 d")(network_document)
    refused = refusal(write_yaml(network_document, "network.yaml"), catalogue)
    assert len(refused.problems) == 1
    assert "function-after" not in refused.problems[0]
    assert "reactors[0] 'hfr-petten'.cycles" in refused.problems[0]


def test_a_bad_reactor_cycle_pattern_is_refused(
    network_document: Document, write_yaml: WriteYaml, catalogue: Catalogue
) -> None:
    put("reactors", 0, "cycles", "operating", value="40 d")(network_document)
    refused = refusal(write_yaml(network_document, "network.yaml"), catalogue)
    assert any("'operating' must be at least 1 d and no longer than 'every'" in p for p in refused.problems)


def test_an_unquoted_clock_time_in_the_yaml_text_is_refused_with_quoting_advice(
    tmp_path: Path, network_document: Document, catalogue: Catalogue
) -> None:
    text = yaml.safe_dump(network_document, sort_keys=False)
    quoted = "- '15:00'"
    assert text.count(quoted) == 1
    path = tmp_path / "network.yaml"
    path.write_text(text.replace(quoted, "- 15:00"), encoding="utf-8")
    (problem,) = refusal(path, catalogue).problems
    assert "lanes[0] 'ivrea-leeds'.cutoffs[0]: quote clock times" in problem
    assert "(got 900)" in problem  # YAML 1.1 reads 15:00 as 15 x 60


def test_a_yaml_syntax_error_is_refused_with_its_line_and_column(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    path = tmp_path / "network.yaml"
    path.write_text("name: broken\nreactors:\n  - id: a\n   name: b\n", encoding="utf-8")
    (problem,) = refusal(path, catalogue).problems
    assert problem.startswith("line 4, column 4: not valid YAML")
    assert "fix the indentation or quoting there" in problem


def test_a_missing_file_is_refused_naming_it(tmp_path: Path, catalogue: Catalogue) -> None:
    path = tmp_path / "no-such-network.yaml"
    (problem,) = refusal(path, catalogue).problems
    assert "file not found. Fix: check the path" in problem


@pytest.mark.parametrize(("text", "found"), [("- a\n- b\n", "list"), ("just text\n", "str")])
def test_a_file_that_is_not_a_mapping_is_refused(
    tmp_path: Path, catalogue: Catalogue, text: str, found: str
) -> None:
    path = tmp_path / "network.yaml"
    path.write_text(text, encoding="utf-8")
    (problem,) = refusal(path, catalogue).problems
    assert problem.startswith("the file must be a YAML mapping of sections")
    assert f"not {found}. Fix:" in problem


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(None, id="missing-file"),
        pytest.param("name: broken\nreactors:\n  - id: a\n   name: b\n", id="yaml-syntax"),
        pytest.param("- a\n- b\n", id="top-level-list"),
    ],
)
def test_a_file_that_cannot_be_read_also_says_the_fix(
    tmp_path: Path, catalogue: Catalogue, text: str | None
) -> None:
    path = tmp_path / "network.yaml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    (problem,) = refusal(path, catalogue).problems
    assert "Fix:" in problem


# A valid file.


@pytest.fixture
def loaded(network_document: Document, write_yaml: WriteYaml, catalogue: Catalogue) -> Network:
    return load_network(write_yaml(network_document, "network.yaml"), catalogue)


def test_a_valid_file_loads_every_section(loaded: Network) -> None:
    assert loaded.name == "Test network"
    assert loaded.description == "A small network for the loader tests."
    assert list(loaded.reactors) == ["hfr-petten"]
    assert list(loaded.sites) == ["ivrea", "zaragoza"]
    assert list(loaded.lanes) == ["ivrea-leeds", "ivrea-london", "zaragoza-london"]
    assert list(loaded.centres) == ["leeds", "london-rfh"]
    assert loaded.provenance == {
        "real": ("reactor and site locations",),
        "assumed": ("delivery per day",),
        "sources": ("test fixture",),
    }


def test_a_loaded_reactor_matches_its_document(loaded: Network) -> None:
    petten = loaded.reactors["hfr-petten"]
    assert petten.nuclides == ("Lu-177",)
    assert petten.delivery == Activity.from_gbq(900)
    assert petten.delivery_weekdays == {Weekday.MONDAY, Weekday.THURSDAY}
    assert petten.location.latitude == 52.7867
    # every 28 d from 5 Jan, 24 operating days, until 31 Dec 2026: 13 cycles
    assert len(petten.cycles) == 13
    assert petten.cycles[0].start_date == date(2026, 1, 5)
    assert petten.cycles[0].end_date == date(2026, 1, 28)
    assert petten.cycles[1].start_date == date(2026, 2, 2)
    assert petten.cycles[-1].start_date == date(2026, 12, 7)
    (leak,) = petten.outages
    assert leak.start_at == datetime(2026, 2, 8, 23, 0, tzinfo=UTC)
    assert leak.reason == "primary circuit leak"


def test_a_loaded_site_matches_its_document(loaded: Network) -> None:
    zaragoza = loaded.site("zaragoza")
    assert zaragoza.calendar.time_zone == ZoneInfo("Europe/Madrid")
    assert zaragoza.production_weekdays == {Weekday.TUESDAY, Weekday.THURSDAY}
    assert zaragoza.batch_times == (time(5, 30), time(13, 0))
    assert zaragoza.doses_per_batch == 60
    assert zaragoza.qc_release == timedelta(hours=6)
    assert zaragoza.products == ("lu177-oxodotreotide",)
    assert zaragoza.calibration_convention == "at_administration"  # the default
    assert loaded.site("ivrea").production_weekdays == {Weekday(d) for d in range(5)}


def test_a_loaded_lane_matches_its_document(loaded: Network) -> None:
    lane = loaded.lanes["ivrea-london"]
    assert (lane.site_id, lane.centre_id, lane.mode) == ("ivrea", "london-rfh", "air")
    assert lane.transit == timedelta(hours=20)
    assert lane.cutoffs == (time(14, 0), time(16, 30))
    assert lane.reliability == 0.98
    assert [x.lane_id for x in loaded.lanes_to("london-rfh")] == ["ivrea-london", "zaragoza-london"]


def test_a_loaded_centre_matches_its_document(loaded: Network) -> None:
    leeds = loaded.centre("leeds")
    assert leeds.region == "North East and Yorkshire"
    assert leeds.chairs == 4
    assert leeds.bed_kind == "chair"
    assert leeds.hours.opens == time(8, 0)
    assert leeds.hours.closes == time(18, 0)
    assert leeds.daily_activity_limit == Activity.from_gbq(60)
    assert leeds.mdt_weekday is Weekday.WEDNESDAY
    assert leeds.pet_tracers() == {"ga68-dotatate", "ga68-gozetotide"}
    practitioner, nurse = leeds.staff
    assert practitioner.role is StaffRole.AUTHORISED_PRACTITIONER
    assert practitioner.licences[0].expires_on == date(2029, 3, 31)
    assert nurse.licences == ()
    assert loaded.centre("london-rfh").bed_kind == "shielded_bed"


def test_loaded_demand_matches_its_document(loaded: Network) -> None:
    assert loaded.population() == 8961989 + 455123
    assert [a.name for a in loaded.demand_areas] == ["London", "Leeds"]
    (rate,) = loaded.incidence
    assert (rate.indication, rate.product_id) == ("GEP-NET", "lu177-oxodotreotide")
    assert loaded.yearly_patients()["lu177-oxodotreotide"] == pytest.approx(
        (8961989 + 455123) * 4.6 / 100_000 * 0.2
    )


def test_english_bank_holidays_come_from_the_holidays_package(loaded: Network) -> None:
    leeds = loaded.centre("leeds")
    assert leeds.calendar.name == "GB-ENG"
    assert leeds.calendar.is_holiday(date(2026, 12, 25))
    assert leeds.calendar.is_holiday(date(2026, 8, 31))  # English summer bank holiday
    assert not leeds.calendar.is_holiday(date(2026, 3, 2))
    assert not leeds.is_open(date(2026, 12, 25))  # a Friday, yet closed
    assert leeds.is_open(date(2026, 12, 24))


def test_a_site_keeps_its_own_countrys_holidays(loaded: Network) -> None:
    ivrea = loaded.site("ivrea")
    assert ivrea.calendar.is_holiday(date(2026, 6, 2))  # Festa della Repubblica, a Tuesday
    assert ivrea.batch_starts(date(2026, 6, 2)) == []
    assert ivrea.batch_starts(date(2026, 6, 3)) == [
        datetime(2026, 6, 3, 6, 0, tzinfo=ZoneInfo("Europe/Rome"))
    ]


def test_isotope_supply_is_positive_on_an_operating_delivery_day(loaded: Network) -> None:
    monday_in_cycle = date(2026, 3, 2)
    assert loaded.isotope_supply("ivrea", monday_in_cycle) == Activity.from_gbq(450)  # 900 / 2
    assert loaded.isotope_supply("ivrea", date(2026, 3, 3)) == Activity(0.0)  # Tuesday


def test_isotope_supply_is_zero_during_an_outage(loaded: Network) -> None:
    assert loaded.isotope_supply("ivrea", date(2026, 2, 9)) == Activity(0.0)  # Monday, in outage
    assert loaded.isotope_supply("ivrea", date(2026, 2, 19)) == Activity(0.0)  # Thursday
    assert loaded.isotope_supply("ivrea", date(2026, 2, 23)) == Activity.from_gbq(450)  # back


def test_a_path_may_be_given_as_text(
    network_document: Document, write_yaml: WriteYaml, catalogue: Catalogue
) -> None:
    path = write_yaml(network_document, "network.yaml")
    assert load_network(str(path), catalogue).name == "Test network"
