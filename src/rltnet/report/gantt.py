"""A plan's Gantt chart as one HTML page: batches, shipments and appointments over some days.

The chart is drawn with matplotlib (``broken_barh``) into inline SVG with its
text kept as text, so the page opens offline, reads in a screen reader and can
be searched. Only the placements whose administration falls in the chosen days
at the chosen centres are drawn, so a national plan gives a chart of the same
size as a regional one.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from rltnet.domain.errors import InvalidInput
from rltnet.domain.network import Network
from rltnet.domain.products import Catalogue
from rltnet.planning.plan import Placement, Plan
from rltnet.report.html import figure, page, section, svg_of, table

# More centres than this make the chair rows unreadable; the busiest are shown.
MAX_DEFAULT_CENTRES = 12

# Pale fill for a product's bars, dark shade for its administration marks.
_PRODUCT_COLOURS = (
    ("#8ecae6", "#023047"),
    ("#f4a261", "#9b2226"),
    ("#b5e48c", "#1e6f2e"),
    ("#cdb4db", "#5a189a"),
    ("#ffd166", "#7a4f00"),
    ("#e5989b", "#6d213c"),
)
_EDGE = "#3d3d3d"
_GANTT_STYLE = "svg { max-width: none; } table { font-size: 0.85rem; }"  # wide charts scroll


@dataclass(frozen=True)
class GanttWindow:
    """What a chart shows: the days [start_at, end_at) in UTC, the centres, their placements."""

    start_at: datetime
    end_at: datetime
    centre_ids: tuple[str, ...]
    placements: tuple[Placement, ...]


def write_gantt(
    path: str | Path,
    plan: Plan,
    network: Network,
    catalogue: Catalogue,
    *,
    centres: Sequence[str] | None = None,
    start: date | None = None,
    days: int = 14,
) -> None:
    """Write the Gantt page to `path` (parent folders must exist)."""
    page = render_gantt(plan, network, catalogue, centres=centres, start=start, days=days)
    Path(path).write_text(page, encoding="utf-8")


def render_gantt(
    plan: Plan,
    network: Network,
    catalogue: Catalogue,
    *,
    centres: Sequence[str] | None = None,
    start: date | None = None,
    days: int = 14,
) -> str:
    """A standalone HTML page with the plan's Gantt chart and a table of the placements drawn.

    `start` is a UTC date (default: the day of the first administration) and
    `days` the number of days shown; `centres` are centre ids (default: all when
    there are at most 12, else the 12 with the most administrations in those days).
    """
    window = gantt_window(plan, network, centres=centres, start=start, days=days)
    colours = product_colours(catalogue, window.placements)
    first_day = window.start_at.date().isoformat()
    last_day = (window.end_at - timedelta(days=1)).date().isoformat()
    caption = (
        f"Gantt chart of {len(window.placements)} doses given from {first_day} to {last_day} "
        f"(UTC) at {len(window.centre_ids)} centres: production batches per site (start to QC "
        f"release), shipments per lane (departure to arrival) and appointments per chair "
        f"(start to end, the dark mark at the administration). Batches and shipments before "
        f"{first_day} carry doses given in the period. Times on the axis are UTC."
    )
    sections = [
        section("What the chart shows", _legend(catalogue, colours, window.placements)),
        section(
            "Batches, shipments and appointments",
            figure(gantt_svg(window, network, catalogue, colours), caption),
        ),
        section("Placements shown", _placement_table(window, network, catalogue)),
    ]
    return page(f"rltnet plan: {network.name}, {first_day} to {last_day}", "\n".join(sections), _GANTT_STYLE)


def gantt_window(
    plan: Plan,
    network: Network,
    *,
    centres: Sequence[str] | None = None,
    start: date | None = None,
    days: int = 14,
) -> GanttWindow:
    """The days, centres and placements a chart shows (see `render_gantt` for the defaults)."""
    if days < 1:
        raise InvalidInput(f"a Gantt chart shows at least 1 day, got days={days}")
    if start is None:
        start = _first_day(plan)
    start_at = datetime.combine(start, time(0), tzinfo=UTC)
    end_at = start_at + timedelta(days=days)
    in_days = [p for p in plan.placements if start_at <= p.administration_at < end_at]
    if centres is None:
        centre_ids = _default_centres(network, in_days)
    else:
        centre_ids = tuple(dict.fromkeys(network.centre(c).centre_id for c in centres))
    chosen = set(centre_ids)
    shown = sorted(
        (p for p in in_days if p.centre_id in chosen),
        key=lambda p: (p.administration_at, p.order.order_id),
    )
    return GanttWindow(start_at, end_at, centre_ids, tuple(shown))


def product_colours(catalogue: Catalogue, placements: Sequence[Placement] = ()) -> dict[str, tuple[str, str]]:
    """(pale, dark) colours per product id: the catalogue's therapies, then any others, by id."""
    ids = sorted(set(catalogue.therapies) | {p.order.product_id for p in placements})
    return {pid: _PRODUCT_COLOURS[k % len(_PRODUCT_COLOURS)] for k, pid in enumerate(ids)}


def gantt_svg(
    window: GanttWindow,
    network: Network,
    catalogue: Catalogue,
    colours: dict[str, tuple[str, str]],
) -> str:
    """The chart as an SVG document: site rows, then lane rows, then one row per chair."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    rows = _Rows.of(window, network)
    earliest = min([window.start_at, *(p.batch_start_at for p in window.placements)])
    left_at = datetime.combine(earliest.astimezone(UTC).date(), time(0), tzinfo=UTC)
    span_days = round((window.end_at - left_at) / _DAY)
    drawing = Figure(
        figsize=(min(30.0, 4.0 + 1.0 * span_days), 1.8 + 0.24 * max(1.0, rows.bottom)),
        layout="constrained",
    )
    ax = drawing.subplots()
    chart = _Chart(ax, window.start_at, colours)
    _draw_batches(chart, rows, window.placements)
    _draw_shipments(chart, rows, window.placements)
    _draw_appointments(chart, rows, window.placements)

    if not window.placements:
        ax.text(
            0.5,
            0.5,
            "no dose is given at these centres in these days",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    ax.set_ylim(max(1.0, rows.bottom), 0.0)
    ax.set_yticks(rows.ticks, rows.labels, fontsize=7)
    ax.tick_params(axis="y", length=0)
    for boundary in rows.separators:
        ax.axhline(boundary, color="#888888", linewidth=0.8)
    midnights = [left_at + k * _DAY for k in range(span_days + 1)]
    ax.set_xlim(chart.x(left_at), chart.x(window.end_at))
    ax.set_xticks([chart.x(m) for m in midnights], [f"{m:%a}\n{m:%d %b}" for m in midnights])
    ax.set_xticks([chart.x(m) + q / 4 for m in midnights[:-1] for q in (1, 2, 3)], minor=True)
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(axis="x", which="major", color="#cccccc", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel("time (UTC)")
    used = sorted({p.order.product_id for p in window.placements})
    if used:
        handles = [
            Patch(facecolor=colours[pid][0], edgecolor=colours[pid][1], label=_brand(catalogue, pid))
            for pid in used
        ]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "rltnet-gantt"}):
        return svg_of(drawing)


_DAY = timedelta(days=1)
_BAR = 0.8  # height of a bar in a row of height 1


@dataclass(frozen=True)
class _Rows:
    """Where each row lies on the y axis (growing downwards), top edges in row units.

    A site's row is two units high: its batches above, their labels below.
    """

    site_top: dict[str, float]
    lane_top: dict[str, float]
    chair_top: dict[tuple[str, int], float]
    labels: list[str]
    ticks: list[float]
    separators: list[float]
    bottom: float

    @classmethod
    def of(cls, window: GanttWindow, network: Network) -> _Rows:
        placements = window.placements
        labels: list[str] = []
        ticks: list[float] = []
        separators: list[float] = []
        top = 0.0
        site_top: dict[str, float] = {}
        for site_id in sorted({p.site_id for p in placements}):
            site_top[site_id] = top
            labels.append(f"site · {network.site(site_id).name}")
            ticks.append(top + 0.5)
            top += 2.0
        lane_top: dict[str, float] = {}
        if site_top:
            separators.append(top)
        for lane_id in sorted({p.lane_id for p in placements}):
            lane_top[lane_id] = top
            labels.append(f"lane · {lane_id}")
            ticks.append(top + 0.5)
            top += 1.0
        if lane_top:
            separators.append(top)
        chair_top: dict[tuple[str, int], float] = {}
        for centre_id in window.centre_ids:
            name = network.centre(centre_id).name
            for chair in range(1, _chairs_shown(network, centre_id, placements) + 1):
                chair_top[(centre_id, chair)] = top
                labels.append(f"{name} · chair {chair}")
                ticks.append(top + 0.5)
                top += 1.0
        return cls(site_top, lane_top, chair_top, labels, ticks, separators, top)


@dataclass(frozen=True)
class _Chart:
    """The axes, with instants as days since the window's first midnight (UTC)."""

    ax: Any
    origin_at: datetime
    colours: dict[str, tuple[str, str]]

    def x(self, moment: datetime) -> float:
        return (moment - self.origin_at) / _DAY

    def span(self, start_at: datetime, end_at: datetime) -> tuple[float, float]:
        return self.x(start_at), (end_at - start_at) / _DAY

    def stacked(self, top: float, start_at: datetime, end_at: datetime, products: Counter[str]) -> None:
        """A bar split top to bottom by the share of each product among its doses."""
        y, total = top + (1 - _BAR) / 2, sum(products.values())
        for pid in sorted(products):
            height = _BAR * products[pid] / total
            self.ax.broken_barh(
                [self.span(start_at, end_at)],
                (y, height),
                facecolors=self.colours[pid][0],
                edgecolors=_EDGE,
                linewidth=0.4,
            )
            y += height


def _draw_batches(chart: _Chart, rows: _Rows, placements: Sequence[Placement]) -> None:
    """Each batch from its start to its QC release, labelled below with its id and doses."""
    batches: defaultdict[tuple[datetime, str, str, datetime], Counter[str]] = defaultdict(Counter)
    for p in placements:
        batches[(p.batch_start_at, p.batch_id, p.site_id, p.released_at)][p.order.product_id] += 1
    shown_at_site: Counter[str] = Counter()
    for (start_at, batch_id, site_id, released_at), products in sorted(batches.items()):
        # Labels alternate between two lines, so that a site's neighbouring labels do not meet.
        level = shown_at_site[site_id] % 2
        shown_at_site[site_id] += 1
        top = rows.site_top[site_id]
        chart.stacked(top, start_at, released_at, products)
        chart.ax.text(
            chart.x(start_at),
            top + (1.3 if level == 0 else 1.75),
            f"{batch_id} ({sum(products.values())})",
            fontsize=6,
            va="center",
            ha="left",
            clip_on=True,
        )


def _draw_shipments(chart: _Chart, rows: _Rows, placements: Sequence[Placement]) -> None:
    """Each shipment from departure to arrival, followed by the number of doses when more than one."""
    shipments: defaultdict[tuple[str, datetime, datetime], Counter[str]] = defaultdict(Counter)
    for p in placements:
        shipments[(p.lane_id, p.departs_at, p.arrives_at)][p.order.product_id] += 1
    for (lane_id, departs_at, arrives_at), products in sorted(shipments.items()):
        top = rows.lane_top[lane_id]
        chart.stacked(top, departs_at, arrives_at, products)
        doses = sum(products.values())
        if doses > 1:
            chart.ax.text(chart.x(arrives_at) + 0.02, top + 0.5, f"×{doses}", fontsize=6, va="center")


def _draw_appointments(chart: _Chart, rows: _Rows, placements: Sequence[Placement]) -> None:
    """Each appointment on its chair, and a dark mark at its administration."""
    appointments: defaultdict[tuple[float, str], list[tuple[float, float]]] = defaultdict(list)
    marks: defaultdict[str, list[float]] = defaultdict(list)
    tops: defaultdict[str, list[float]] = defaultdict(list)
    for p in placements:
        top = rows.chair_top[(p.centre_id, p.chair)]
        pid = p.order.product_id
        appointments[(top, pid)].append(chart.span(p.appointment_at, p.appointment_end_at))
        marks[pid].append(chart.x(p.administration_at))
        tops[pid].append(top)
    low = (1 - _BAR) / 2
    for (top, pid), spans in sorted(appointments.items()):
        chart.ax.broken_barh(
            spans,
            (top + low, _BAR),
            facecolors=chart.colours[pid][0],
            edgecolors=_EDGE,
            linewidth=0.4,
        )
    for pid in sorted(marks):
        chart.ax.vlines(
            marks[pid],
            [top + low for top in tops[pid]],
            [top + low + _BAR for top in tops[pid]],
            colors=chart.colours[pid][1],
            linewidth=1.6,
        )


def _first_day(plan: Plan) -> date:
    if plan.placements:
        return min(p.administration_at for p in plan.placements).astimezone(UTC).date()
    if plan.unplanned:
        return min(u.order.earliest_at for u in plan.unplanned).astimezone(UTC).date()
    raise InvalidInput("the plan has no orders to chart; give the first day with `start`")


def _default_centres(network: Network, placements: Sequence[Placement]) -> tuple[str, ...]:
    if len(network.centres) <= MAX_DEFAULT_CENTRES:
        return tuple(sorted(network.centres))
    counts = Counter(p.centre_id for p in placements)
    busiest = sorted(network.centres, key=lambda cid: (-counts[cid], cid))[:MAX_DEFAULT_CENTRES]
    return tuple(sorted(busiest))


def _chairs_shown(network: Network, centre_id: str, placements: Sequence[Placement]) -> int:
    """The centre's chairs, or more when a placement names a chair beyond them."""
    used = (p.chair for p in placements if p.centre_id == centre_id)
    return max([network.centre(centre_id).chairs, *used])


def _brand(catalogue: Catalogue, product_id: str) -> str:
    product = catalogue.therapies.get(product_id)
    return product.brand if product is not None else product_id


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _legend(
    catalogue: Catalogue, colours: dict[str, tuple[str, str]], placements: Sequence[Placement]
) -> str:
    used = sorted({p.order.product_id for p in placements})
    swatches = "".join(
        f'<li><span class="swatch" style="background:{colours[pid][0]};'
        f'border-color:{colours[pid][1]}"></span>{html.escape(_brand(catalogue, pid))}</li>'
        for pid in used
    )
    return (
        "<p>Rows from the top: each production site with its batches (start to QC release, "
        "labelled with the batch id and its doses), each lane with its shipments (departure to "
        "arrival, ×n for several doses), and each chair with its appointments (start to end; "
        "the dark mark is the administration). Bars are coloured by product; a bar carrying "
        "several products is split by their shares. Times are in UTC.</p>"
        f'<ul class="legend">{swatches}</ul>'
    )


def _placement_table(window: GanttWindow, network: Network, catalogue: Catalogue) -> str:
    if not window.placements:
        return "<p>None.</p>"
    header = [
        "order",
        "product",
        "cycle",
        "batch",
        "lane",
        "departs (UTC)",
        "arrives (UTC)",
        "centre",
        "chair",
        "appointment (UTC)",
        "administration (UTC)",
        "delayed because",
    ]
    rows: list[list[object]] = [
        [
            p.order.order_id,
            _brand(catalogue, p.order.product_id),
            p.order.cycle,
            p.batch_id,
            p.lane_id,
            _utc(p.departs_at),
            _utc(p.arrives_at),
            network.centre(p.centre_id).name,
            p.chair,
            f"{_utc(p.appointment_at)} to {_utc(p.appointment_end_at)[-5:]}",
            _utc(p.administration_at),
            p.delay_reason or "",
        ]
        for p in window.placements
    ]
    return table(header, rows)
