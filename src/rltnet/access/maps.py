"""Maps of an access report: a static PNG (matplotlib) and an offline HTML page (inline SVG).

The HTML page needs nothing from the network: the map is an SVG drawn here, with a
hover title on every area and centre; no tiles, no scripts from a CDN.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from rltnet.access.areas import FloatArray
from rltnet.access.report import AccessReport, IndicationAccess

BANDS_MIN = (30.0, 60.0, 90.0, 120.0)
BAND_COLOURS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")  # ColorBrewer RdYlGn, 5 classes
BAND_LABELS = ("≤ 30 min", "30–60 min", "60–90 min", "90–120 min", "> 120 min")


def band_of(minutes: FloatArray) -> np.ndarray:
    """Index into BAND_COLOURS of each travel time."""
    return np.searchsorted(np.array(BANDS_MIN), minutes, side="left")


def _sizes(population: FloatArray, largest: float) -> FloatArray:
    return np.clip(np.sqrt(population / max(float(population.max()), 1.0)) * largest, 1.5, largest)


def write_png(
    report: AccessReport,
    indication: IndicationAccess,
    path: Path,
    new_sites: tuple[tuple[str, float, float], ...] = (),
) -> None:
    """Areas coloured by travel time to the nearest centre, sized by people; centres as black squares."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    areas = report.areas
    lat, lon = areas.latitude, areas.longitude
    aspect = 1 / np.cos(np.radians(float(np.median(lat))))
    fig, ax = plt.subplots(figsize=(8, 9), dpi=110)
    order = np.argsort(-indication.minutes)  # far areas under near ones
    colours = np.array(BAND_COLOURS)[band_of(indication.minutes)]
    ax.scatter(
        lon[order],
        lat[order],
        s=_sizes(areas.population, 120)[order],
        c=colours[order],
        linewidths=0,
        alpha=0.85,
    )
    gives = np.isin(np.array(report.centre_ids), indication.centres)
    ax.scatter(
        report.centre_lon[gives],
        report.centre_lat[gives],
        marker="s",
        s=60,
        c="black",
        edgecolors="white",
        linewidths=1.0,
        zorder=3,
    )
    for _, site_lat, site_lon in new_sites:
        ax.scatter(
            [site_lon],
            [site_lat],
            marker="*",
            s=260,
            c="#2166ac",
            edgecolors="white",
            linewidths=1.0,
            zorder=4,
        )
    ax.set_aspect(aspect)
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    o = indication.overall
    ax.set_title(
        f"{report.network}: {report.mode.replace('_', ' ')} time to the nearest centre giving "
        f"{indication.product_id}\nmean {o.mean_minutes:.0f} min; "
        f"{o.shares_within[60] * 100:.0f}% of people within 60 min, "
        f"{o.shares_within[120] * 100:.0f}% within 120",
        fontsize=10,
    )
    handles = [
        Line2D([], [], marker="o", linestyle="", color=c, label=lab)
        for c, lab in zip(BAND_COLOURS, BAND_LABELS, strict=True)
    ]
    handles.append(Line2D([], [], marker="s", linestyle="", color="black", label="treatment centre"))
    if new_sites:
        handles.append(
            Line2D(
                [], [], marker="*", linestyle="", color="#2166ac", markersize=12, label="proposed new centre"
            )
        )
    ax.legend(
        handles=handles,
        loc="upper left",
        fontsize=8,
        framealpha=0.9,
        title="area (size: people)",
        title_fontsize=8,
    )
    ax.grid(alpha=0.2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_html(
    report: AccessReport,
    indication: IndicationAccess,
    path: Path,
    new_sites: tuple[tuple[str, float, float], ...] = (),
) -> None:
    """A self-contained page: the SVG map (hover for an area's figures) and the tables."""
    areas = report.areas
    width, height = 760.0, 860.0
    lat, lon = areas.latitude, areas.longitude
    all_lat = np.concatenate([lat, report.centre_lat])
    all_lon = np.concatenate([lon, report.centre_lon])
    aspect = 1 / np.cos(np.radians(float(np.median(lat))))
    span_x = (all_lon.max() - all_lon.min()) or 1.0
    span_y = ((all_lat.max() - all_lat.min()) or 1.0) * aspect
    scale = min((width - 40) / span_x, (height - 40) / span_y)

    def xy(la: float, lo: float) -> tuple[float, float]:
        return 20 + (lo - all_lon.min()) * scale, 20 + (all_lat.max() - la) * aspect * scale

    radius = _sizes(areas.population, 9.0)
    bands = band_of(indication.minutes)
    parts = []
    for i in np.argsort(-indication.minutes):
        x, y = xy(float(lat[i]), float(lon[i]))
        minutes = indication.minutes[i]
        label = (
            f"{areas.name[i]} ({areas.rurality[i]}, {areas.region[i]}): {areas.population[i]:,.0f} people; "
            f"{minutes:.0f} min to {indication.nearest_centre[i]}; course {indication.burden_hours[i]:.1f} h"
        )
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius[i]:.1f}" fill="{BAND_COLOURS[bands[i]]}" '
            f'fill-opacity="0.8"><title>{html.escape(label)}</title></circle>'
        )
    for cid, la, lo in zip(report.centre_ids, report.centre_lat, report.centre_lon, strict=True):
        if cid not in indication.centres:
            continue
        x, y = xy(float(la), float(lo))
        parts.append(
            f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="black" '
            f'stroke="white"><title>{html.escape(cid)}</title></rect>'
        )
    for name, la, lo in new_sites:
        x, y = xy(la, lo)
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="8" fill="#2166ac" stroke="white" stroke-width="2">'
            f"<title>proposed: {html.escape(name)}</title></circle>"
        )
    legend = "".join(
        f'<span style="display:inline-block;margin-right:1em"><span style="display:inline-block;width:12px;'
        f'height:12px;border-radius:6px;background:{c}"></span> {html.escape(lab)}</span>'
        for c, lab in zip(BAND_COLOURS, BAND_LABELS, strict=True)
    )

    def table(title: str, rows: tuple[object, ...]) -> str:
        head = (
            "<tr><th>group</th><th>people</th><th>patients/yr</th><th>mean min</th><th>≤60 min</th>"
            "<th>≤120 min</th><th>course h/patient</th></tr>"
        )
        body = "".join(
            f"<tr><td>{html.escape(r.group)}</td><td>{r.population:,.0f}</td>"  # type: ignore[attr-defined]
            f"<td>{r.patients_per_year:,.1f}</td><td>{r.mean_minutes:.1f}</td>"  # type: ignore[attr-defined]
            f"<td>{r.shares_within[60] * 100:.1f}%</td><td>{r.shares_within[120] * 100:.1f}%</td>"  # type: ignore[attr-defined]
            f"<td>{r.burden_hours_per_patient:.1f}</td></tr>"  # type: ignore[attr-defined]
            for r in rows
        )
        return f"<h2>{html.escape(title)}</h2><table>{head}{body}</table>"

    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Access: {html.escape(report.network)} - {html.escape(indication.product_id)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5em;max-width:1100px}}
table{{border-collapse:collapse;margin-bottom:1em}}
td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}
td:first-child,th:first-child{{text-align:left}}
svg{{border:1px solid #ddd;background:#f7fbff}}</style>
</head><body>
<h1>{html.escape(report.network)}: {html.escape(report.mode.replace("_", " "))} time
to the nearest centre giving {html.escape(indication.product_id)} ({html.escape(indication.indication)})</h1>
<p>Hover over an area or a centre for its figures. Travel times: {html.escape(report.travel_source)}.</p>
<p>{legend} <span>■ treatment centre</span></p>
<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" role="img"
 aria-label="map of travel time by area">{"".join(parts)}</svg>
{table("By region", indication.by_region)}
{table("By rurality", indication.by_rurality)}
{table("All", (indication.overall,))}
<p>Areas: {html.escape("; ".join(report.areas.notes))}</p>
</body></html>
"""
    path.write_text(page, encoding="utf-8")
