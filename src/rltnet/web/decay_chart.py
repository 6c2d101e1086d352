"""A dose's activity from calibration to expiry, as a small inline SVG.

Hand-built rather than drawn with matplotlib: a page shows it on every load, and
writing some sixty points of text takes microseconds where a plotting library
takes tens of milliseconds and a second to import. The curve is the domain's own
decay (`rltnet.domain.decay`), the band is the product's tolerance around the
prescribed activity, and vertical markers show instants of the journey (now,
arrival, the planned administration). A marker outside the plotted range is left
out of the drawing and said in the description instead, so that the picture never
suggests an instant it cannot show.

The SVG is an image with a title and a description that state the figures in
words (`role="img"`, `aria-labelledby`), for readers who cannot see it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from markupsafe import Markup, escape

from rltnet.domain import decay
from rltnet.domain.decay import Nuclide
from rltnet.domain.units import Activity, elapsed

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40  # margins for the axes' labels
POINTS = 61  # enough for a smooth curve at this width; the decay is gentle
BAND_FILL, CURVE, MARKER, AXIS = "#d9efe0", "#0b5cad", "#8a4b00", "#4a4a4a"


@dataclass(frozen=True, slots=True)
class Marker:
    """An instant to mark on the chart, e.g. ('arrival', 2026-12-08T07:00Z)."""

    label: str
    at: datetime


@dataclass(frozen=True, slots=True)
class DecayChart:
    """What the chart shows: one dose's decay and the band it must be given inside."""

    nuclide: Nuclide
    calibration_at: datetime
    calibration: Activity
    expiry_at: datetime
    prescribed: Activity
    tolerance: float  # fraction either side of the prescribed activity, e.g. 0.10
    markers: tuple[Marker, ...] = ()

    @property
    def band(self) -> tuple[Activity, Activity]:
        """The lowest and highest activity the label accepts: prescribed times (1 ∓ tolerance)."""
        return self.prescribed * (1 - self.tolerance), self.prescribed * (1 + self.tolerance)

    def activity_at(self, at: datetime) -> Activity:
        return decay.activity_at(self.nuclide, self.calibration, self.calibration_at, at)

    def covers(self, at: datetime) -> bool:
        return self.calibration_at <= at <= self.expiry_at

    def curve(self, points: int = POINTS) -> list[tuple[datetime, float]]:
        """(instant, Bq) from calibration to expiry, evenly spaced; the first is the calibration."""
        span_s = elapsed(self.calibration_at, self.expiry_at).total_seconds()
        seconds = np.linspace(0.0, span_s, points)
        activities = decay.activity_bq(self.nuclide, self.calibration.bq, seconds)
        return [
            (self.calibration_at + timedelta(seconds=float(s)), float(a))
            for s, a in zip(seconds, activities, strict=True)
        ]


@dataclass(frozen=True, slots=True)
class Scale:
    """Maps an instant and an activity to the drawing's x and y (y grows downwards)."""

    start: datetime
    end: datetime
    low_bq: float
    high_bq: float

    @classmethod
    def of(cls, chart: DecayChart) -> Scale:
        """Time from calibration to expiry; activity from just under the lower of the band and
        the activity at expiry to just over the higher of the band and the calibration."""
        low, high = chart.band
        bottom = min(low.bq, chart.activity_at(chart.expiry_at).bq)
        top = max(high.bq, chart.calibration.bq)
        pad = (top - bottom) * 0.08 or top * 0.1 or 1.0
        return cls(chart.calibration_at, chart.expiry_at, max(0.0, bottom - pad), top + pad)

    def x(self, at: datetime) -> float:
        span = elapsed(self.start, self.end).total_seconds() or 1.0
        share = elapsed(self.start, at).total_seconds() / span
        return LEFT + share * (WIDTH - LEFT - RIGHT)

    def y(self, bq: float) -> float:
        share = (bq - self.low_bq) / ((self.high_bq - self.low_bq) or 1.0)
        return HEIGHT - BOTTOM - share * (HEIGHT - TOP - BOTTOM)


def svg(chart: DecayChart, zone: ZoneInfo, chart_id: str = "decay") -> Markup:
    """The chart as inline SVG markup, safe to put into a page as it is."""
    scale = Scale.of(chart)
    parts = [
        f'<svg class="decay-chart" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title(chart))}</title>',
        f'<desc id="{chart_id}-desc">{escape(description(chart, zone))}</desc>',
        _band(chart, scale),
        _axes(chart, scale, zone),
        _curve(chart, scale),
        *(_marker(m, scale, i) for i, m in enumerate(shown_markers(chart))),
        "</svg>",
    ]
    return Markup("".join(parts))


def shown_markers(chart: DecayChart) -> list[Marker]:
    """The markers inside the plotted range; the others are only described."""
    return [m for m in chart.markers if chart.covers(m.at)]


def title(chart: DecayChart) -> str:
    return f"Dose activity from calibration to expiry against the tolerance band ({chart.nuclide.symbol})"


def description(chart: DecayChart, zone: ZoneInfo) -> str:
    """The chart's figures in sentences."""
    low, high = chart.band
    expiry = chart.activity_at(chart.expiry_at)
    said = [
        f"The dose holds {_gbq(chart.calibration)} at calibration, {_at(chart.calibration_at, zone)}, "
        f"and decays to {_gbq(expiry)} at expiry, {_at(chart.expiry_at, zone)}.",
        f"The label accepts {_gbq(low)} to {_gbq(high)} at administration: "
        f"{_gbq(chart.prescribed)} prescribed, ±{chart.tolerance:.0%}.",
    ]
    said += [_say_marker(chart, m, zone) for m in chart.markers]
    return " ".join(said)


def _say_marker(chart: DecayChart, marker: Marker, zone: ZoneInfo) -> str:
    if not chart.covers(marker.at):
        side = "before calibration" if marker.at < chart.calibration_at else "after expiry"
        return f"{marker.label.capitalize()}, {_at(marker.at, zone)}, is {side}, so it is not drawn."
    held = chart.activity_at(marker.at)
    low, high = chart.band
    inside = "inside" if low.bq <= held.bq * (1 + 1e-9) and held.bq <= high.bq * (1 + 1e-9) else "outside"
    return f"{marker.label.capitalize()}, {_at(marker.at, zone)}: {_gbq(held)}, {inside} the band."


def _band(chart: DecayChart, scale: Scale) -> str:
    low, high = chart.band
    x0, x1 = scale.x(scale.start), scale.x(scale.end)
    top, bottom, middle = scale.y(high.bq), scale.y(low.bq), scale.y(chart.prescribed.bq)
    return (
        f'<rect class="band" x="{x0:.1f}" y="{top:.1f}" width="{x1 - x0:.1f}" height="{bottom - top:.1f}" '
        f'fill="{BAND_FILL}"/>'
        f'<line class="prescribed" x1="{x0:.1f}" x2="{x1:.1f}" y1="{middle:.1f}" y2="{middle:.1f}" '
        f'stroke="{AXIS}" stroke-dasharray="4 3"/>'
        f'<text x="{x1 - 4:.1f}" y="{top - 3:.1f}" text-anchor="end" font-size="11" fill="{AXIS}">'
        f"tolerance band {_gbq(low)}–{_gbq(high)}</text>"
    )


def _curve(chart: DecayChart, scale: Scale) -> str:
    points = " ".join(f"{scale.x(at):.1f},{scale.y(bq):.1f}" for at, bq in chart.curve())
    return f'<polyline class="curve" points="{points}" fill="none" stroke="{CURVE}" stroke-width="2.5"/>'


def _marker(marker: Marker, scale: Scale, index: int) -> str:
    x = scale.x(marker.at)
    label_y = TOP + 11 + 13 * index  # stacked, so that markers close in time stay readable
    anchor = "end" if x > WIDTH * 0.7 else "start"
    shift = -4 if anchor == "end" else 4
    return (
        f'<line class="marker" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" '
        f'stroke="{MARKER}" stroke-width="1.5" stroke-dasharray="2 2"/>'
        f'<text x="{x + shift:.1f}" y="{label_y}" text-anchor="{anchor}" font-size="11" fill="{MARKER}">'
        f"{escape(marker.label)}</text>"
    )


def _axes(chart: DecayChart, scale: Scale, zone: ZoneInfo) -> str:
    base, left = HEIGHT - BOTTOM, LEFT
    parts = [
        f'<line x1="{left}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}" stroke="{AXIS}"/>',
        f'<line x1="{left}" x2="{left}" y1="{TOP}" y2="{base}" stroke="{AXIS}"/>',
        f'<text x="12" y="{TOP + 4}" font-size="11" fill="{AXIS}">GBq</text>',
    ]
    for bq in _activity_ticks(scale):
        y = scale.y(bq)
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="{AXIS}">'
            f"{bq / 1e9:g}</text>"
        )
    for at in _day_ticks(chart, zone):
        x = scale.x(at)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{base}" y2="{base + 4}" stroke="{AXIS}"/>'
            f'<text x="{x:.1f}" y="{base + 17}" text-anchor="middle" font-size="11" fill="{AXIS}">'
            f"{at.astimezone(zone):%a %d}</text>"
        )
    return "".join(parts)


def _activity_ticks(scale: Scale, most: int = 6) -> Sequence[float]:
    """Round GBq values (steps of 1, 2 or 5 times a power of ten) inside the axis, at most `most`."""
    span_gbq = (scale.high_bq - scale.low_bq) / 1e9
    if span_gbq <= 0:
        return []
    power = 10.0 ** math.floor(math.log10(span_gbq / most))
    step = next(k * power for k in (1, 2, 5, 10) if span_gbq / (k * power) <= most)
    first = math.ceil(scale.low_bq / 1e9 / step) * step
    ticks = np.arange(first, scale.high_bq / 1e9, step) * 1e9
    return [float(bq) for bq in ticks]


def _day_ticks(chart: DecayChart, zone: ZoneInfo, most: int = 8) -> list[datetime]:
    """Local midnights inside the range, thinned to at most `most` so that labels never collide."""
    first = chart.calibration_at.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    days = []
    day = first + timedelta(days=1)
    while day <= chart.expiry_at:
        days.append(day)
        day += timedelta(days=1)  # on the zone's wall clock: the next local midnight, clock changes or not
    step = max(1, -(-len(days) // most))
    return days[::step]


def _gbq(activity: Activity) -> str:
    return f"{activity.gbq:.2f} GBq"


def _at(instant: datetime, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone)
    return local.strftime("%a %d %b %H:%M ") + (local.tzname() or zone.key)
