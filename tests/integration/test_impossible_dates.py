"""An impossible date (2027-02-30) in any data file is a problem named by its field, with
that field's fix, and never an exception from the YAML reader."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from rltnet.domain.errors import DataFileError
from rltnet.files.catalogue_file import default_catalogue
from rltnet.files.event_file import CentreClosedFile, read_events
from rltnet.files.network_file import load_network, network_path
from rltnet.files.problems import SAFE_LOADER, check


def test_an_events_file_names_each_impossible_date_and_the_fix_of_its_own_field(tmp_path: Path) -> None:
    events = tmp_path / "events.yaml"
    events.write_text(
        "now: 2027-02-29T08:00Z\n"
        "events:\n"
        "  - {kind: centre_closed, centre: leeds, date: 2027-02-30}\n"
        "  - {kind: reactor_outage, reactor: hfr-petten, start: 2027-04-31T00:00Z, end: 2027-05-02T00:00Z}\n"
        "  - {kind: lane_delayed, lane: ivrea-leeds, start: 2027-01-13T00:00Z, end: 2027-01-14T25:00Z,"
        " delay: 6 h}\n",
        encoding="utf-8",
    )
    with pytest.raises(DataFileError) as refused:
        read_events(events)
    problems = str(refused.value).splitlines()[1:]
    assert len(problems) == 4, problems
    now, closed, outage, delayed = problems
    assert "now:" in now and "2027-02-29" in now and "Fix: when the events are declared" in now
    assert "events[0].date:" in closed and "2027-02-30" in closed
    assert "Fix: the local date it is closed" in closed
    assert "events[1].start:" in outage and "not a day on the calendar" in outage
    assert "Fix: first instant" in outage
    assert "events[2].end:" in delayed and "2027-01-14T25:00Z" in delayed


def test_a_network_file_with_an_impossible_date_names_the_field(tmp_path: Path) -> None:
    text = network_path("england").read_text(encoding="utf-8")
    network = tmp_path / "network.yaml"
    network.write_text(
        text.replace("first_start: 2026-01-05,", "first_start: 2026-02-30,", 1), encoding="utf-8"
    )
    with pytest.raises(DataFileError) as refused:
        load_network(network, default_catalogue())
    assert "first_start" in str(refused.value) and "2026-02-30" in str(refused.value)


@settings(max_examples=40, deadline=None)
@given(year=st.integers(2000, 2099), month=st.integers(1, 12), day=st.integers(29, 39))
def test_every_written_day_is_read_or_named_as_impossible(year: int, month: int, day: int) -> None:
    """A date-shaped value in YAML reads as that day when the calendar has it, and otherwise
    is a problem naming the field: the reader never fails another way."""
    written = f"{year:04d}-{month:02d}-{day:02d}"
    try:
        expected: date | None = date(year, month, day)
    except ValueError:
        expected = None
    document = yaml.load(f"kind: centre_closed\ncentre: leeds\ndate: {written}\n", Loader=SAFE_LOADER)
    parsed, problems = check(CentreClosedFile, document)
    if expected is None:
        assert parsed is None and len(problems) == 1
        assert problems[0].startswith("date:") and written in problems[0]
    else:
        assert parsed is not None and parsed.day == expected


def test_an_events_file_names_the_right_fix_for_each_problem(tmp_path: Path) -> None:
    events = tmp_path / "events.yaml"
    events.write_text(
        "events:\n"
        "  - {kind: reactor_outag, reactor: hfr-petten, start: 2027-01-12T00:00Z, end: 2027-01-13T00:00Z}\n"
        "  - {kind: centre_closed, centre: leeds, day: 2027-01-14}\n",
        encoding="utf-8",
    )
    with pytest.raises(DataFileError) as refused:
        read_events(events)
    problems = str(refused.value).splitlines()[1:]
    kind = next(p for p in problems if p.startswith("  - events[0]"))
    assert "events[0].kind: unknown kind 'reactor_outag'" in kind and "did you mean 'reactor_outage'?" in kind
    assert "at least one event" not in kind  # the list's own fix is not this item's
    alias = next(p for p in problems if "events[1].day" in p)
    assert "known fields: kind, centre, date, reason" in alias
