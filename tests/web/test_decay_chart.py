"""The decay chart: the curve is the domain's decay, the band the label's, markers where they belong."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rltnet.domain.decay import activity_at, nuclide
from rltnet.domain.units import Activity
from rltnet.web.decay_chart import DecayChart, Marker, Scale, description, shown_markers, svg

LU177 = nuclide("Lu-177")
CALIBRATED = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


def _chart(*markers: Marker) -> DecayChart:
    return DecayChart(
        nuclide=LU177,
        calibration_at=CALIBRATED,
        calibration=Activity.from_gbq(9.2357),
        expiry_at=CALIBRATED + timedelta(hours=120),
        prescribed=Activity.from_gbq(7.4),
        tolerance=0.10,
        markers=markers,
    )


def _points(drawing: str) -> list[tuple[float, float]]:
    found = re.search(r'<polyline class="curve" points="([^"]+)"', drawing)
    assert found
    return [(float(x), float(y)) for x, y in (p.split(",") for p in found.group(1).split())]


def test_the_curve_starts_at_the_calibration_activity_and_follows_the_decay() -> None:
    chart = _chart()
    curve = chart.curve()
    assert curve[0][0] == CALIBRATED and curve[0][1] == pytest.approx(9.2357e9)
    assert curve[-1][0] == chart.expiry_at
    for at, bq in curve:
        assert bq == pytest.approx(activity_at(LU177, chart.calibration, CALIBRATED, at).bq, rel=1e-12)
    scale = Scale.of(chart)
    first = _points(svg(chart, LONDON))[0]
    assert first[0] == pytest.approx(scale.x(CALIBRATED), abs=0.06)
    assert first[1] == pytest.approx(scale.y(9.2357e9), abs=0.06)  # drawn to 0.1 px


def test_the_band_is_drawn_at_the_prescribed_activity_plus_and_minus_the_tolerance() -> None:
    chart = _chart()
    low, high = chart.band
    assert low.gbq == pytest.approx(7.4 * 0.9) and high.gbq == pytest.approx(7.4 * 1.1)
    scale = Scale.of(chart)
    drawing = svg(chart, LONDON)
    band = re.search(r'<rect class="band" x="[^"]+" y="([^"]+)" width="[^"]+" height="([^"]+)"', drawing)
    assert band
    top, height = float(band.group(1)), float(band.group(2))
    assert top == pytest.approx(scale.y(high.bq), abs=0.06)
    assert top + height == pytest.approx(scale.y(low.bq), abs=0.12)
    assert scale.y(high.bq) < scale.y(chart.prescribed.bq) < scale.y(low.bq)  # y grows downwards


def test_every_point_lies_inside_the_drawing() -> None:
    for x, y in _points(svg(_chart(), LONDON)):
        assert 0 <= x <= 640 and 0 <= y <= 260


def test_a_marker_outside_the_plotted_range_is_not_drawn_but_said() -> None:
    arrival = Marker("arrival", CALIBRATED + timedelta(hours=26))
    early = Marker("now", CALIBRATED - timedelta(days=3))
    late = Marker("follow-up", CALIBRATED + timedelta(days=9))
    chart = _chart(early, arrival, late)
    assert shown_markers(chart) == [arrival]
    drawing = svg(chart, LONDON)
    assert drawing.count('<line class="marker"') == 1
    assert ">arrival</text>" in drawing and ">now</text>" not in drawing
    said = description(chart, LONDON)
    assert "Now, Fri 04 Dec 05:00 GMT, is before calibration, so it is not drawn." in said
    assert "Follow-up, Wed 16 Dec 05:00 GMT, is after expiry, so it is not drawn." in said
    assert "Arrival, Tue 08 Dec 07:00 GMT: " in said


def test_the_image_is_named_and_described_for_a_screen_reader() -> None:
    drawing = svg(_chart(Marker("planned administration", CALIBRATED + timedelta(hours=51))), LONDON, "d1")
    assert drawing.startswith('<svg class="decay-chart" role="img" aria-labelledby="d1-title d1-desc"')
    assert '<title id="d1-title">' in drawing and '<desc id="d1-desc">' in drawing
    assert "holds 9.24 GBq at calibration" in drawing
    assert "Planned administration, Wed 09 Dec 08:00 GMT: 7.40 GBq, inside the band." in drawing


def test_a_label_is_escaped() -> None:
    drawing = svg(_chart(Marker("<script>", CALIBRATED + timedelta(hours=1))), LONDON)
    assert "<script>" not in drawing and "&lt;script&gt;" in drawing


def test_drawing_is_fast() -> None:
    chart = _chart(Marker("now", CALIBRATED + timedelta(hours=5)))
    started = time.perf_counter()
    for _ in range(100):
        svg(chart, LONDON)
    assert (time.perf_counter() - started) / 100 < 0.005  # well under a page's budget
