"""The demo's summary (as data) and its HTML report with plots.

Plots are drawn with matplotlib into inline SVG, so the report is one file that
opens offline in any browser.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from rltnet.domain.dose import Dose
from rltnet.domain.units import format_instant
from rltnet.report.html import figure, page, section, svg_of, table
from rltnet.simulation.demo import ASSUMPTIONS, DemoResult

LICENCE_WARNING = timedelta(days=90)


def summary(result: DemoResult) -> dict[str, Any]:
    """Key figures of a demo run, JSON-ready."""
    waste = result.waste()
    plan = result.plan
    stages = result.stages()
    occupancy = result.chair_occupancy()
    given_by_centre = Counter(p.order.centre_id for p, _, _ in result.administered)
    return {
        "network": result.network.name,
        "start": format_instant(result.start_at),
        "end": format_instant(result.end_at),
        "seed": result.settings.seed,
        "patients": len(result.patients),
        "referrals": result.referrals,
        "imaged": {
            "positive": result.counts["record_positive"],
            "negative": result.counts["record_negative"],
            "inconclusive": result.counts["record_inconclusive"],
        },
        "mdt": {
            "approved": result.counts["approve"],
            "declined": result.counts["decline"],
            "deferred": result.counts["defer"],
        },
        "orders": {
            "total": len(plan.placements) + len(plan.unplanned),
            "planned": len(plan.placements),
            "unplanned": len(plan.unplanned),
            "unplanned_reasons": dict(plan.unplanned_reasons()),
            "confirmed_later_than_24h": result.late_confirmations,
        },
        "doses": {
            "made": waste.doses_made,
            "administered": waste.doses_given,
            "discarded": {reason.value: n for reason, n in waste.discarded.items()},
            "activity_made_gbq": round(waste.made.gbq, 3),
            "activity_given_gbq": round(waste.given.gbq, 3),
            "lost_to_decay_gbq": round(waste.lost_to_decay.gbq, 3),
            "discarded_activity_gbq": round(waste.discarded_activity.gbq, 3),
        },
        "stages_at_end": {stage.value: n for stage, n in sorted(stages.items())},
        "centres": {
            cid: {
                "administered": given_by_centre[cid],
                "mean_chair_occupancy": round(_mean_open(row), 3),
            }
            for cid, row in occupancy.items()
        },
        "licence_warnings": licence_warnings(result),
    }


def licence_warnings(result: DemoResult) -> list[dict[str, str]]:
    """Licences that expire within 90 days after the demo's end (or already have)."""
    end = result.end_at.date()
    warnings = []
    for centre in result.network.centres.values():
        for member in centre.staff:
            for licence in member.licences:
                if licence.expires_on <= end + LICENCE_WARNING:
                    warnings.append(
                        {
                            "centre": centre.centre_id,
                            "staff": member.staff_id,
                            "licence": licence.kind,
                            "expires_on": licence.expires_on.isoformat(),
                        }
                    )
    return warnings


def write_report(result: DemoResult, path: str) -> None:
    """Write the HTML report to `path` (parent folders must exist)."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(render_html(result))


def render_html(result: DemoResult) -> str:
    facts = summary(result)
    sections = [
        section("Summary", _key_figures(facts)),
        section(
            "Each dose's decay from calibration to infusion",
            figure(
                decay_svg(result),
                "Activity of every dose given, as a share of the prescribed activity, from its "
                "calibration at the batch start to its infusion; the shaded band is the product's "
                "tolerance.",
            ),
        ),
        section(
            "Chair occupancy per centre per day",
            figure(
                occupancy_svg(result),
                "Booked chair time over open chair time, per centre (rows) and day (columns); "
                "blank days are closed.",
            ),
        ),
        section("Centres", _centre_table(result, facts)),
        section(
            "Orders not planned, and why",
            _counter_table(facts["orders"]["unplanned_reasons"], "reason"),
        ),
        section("Doses discarded", _counter_table(facts["doses"]["discarded"], "reason")),
        section("Where patients stand at the end", _counter_table(facts["stages_at_end"], "stage")),
        section("Licences expiring within 90 days", _licence_table(facts["licence_warnings"])),
        section("What is real and what is assumed", _provenance(result)),
    ]
    return page(f"rltnet demo: {result.network.name}", "\n".join(sections))


def decay_svg(result: DemoResult) -> str:
    """One panel per product: activity / prescribed against hours since calibration."""
    from matplotlib.figure import Figure

    by_product: defaultdict[str, list[tuple[Dose, datetime]]] = defaultdict(list)
    for _, dose, given_at in result.administered:
        by_product[dose.product.brand].append((dose, given_at))
    panels = max(1, len(by_product))
    chart = Figure(figsize=(6.5 * panels, 4), layout="constrained")
    axes = chart.subplots(1, panels, squeeze=False)[0]
    for ax, (brand, doses) in zip(axes, sorted(by_product.items()), strict=False):
        tolerance = doses[0][0].product.tolerance
        longest = max((g - d.calibration_at).total_seconds() / 3600 for d, g in doses)
        ax.axhspan(1 - tolerance, 1 + tolerance, color="#2a9d8f", alpha=0.15, label="tolerance")
        ax.axhline(1.0, color="#2a9d8f", linewidth=0.8)
        for dose, given_at in doses:
            hours = [h * (given_at - dose.calibration_at).total_seconds() / 3600 / 40 for h in range(41)]
            share = [dose.activity_at(dose.calibration_at + timedelta(hours=h)) / dose.target for h in hours]
            ax.plot(hours, share, color="#264653", alpha=0.35, linewidth=0.8)
            ax.plot(hours[-1], share[-1], "o", color="#e76f51", markersize=2.5)
        ax.set_title(f"{brand}: {len(doses)} doses")
        ax.set_xlabel("hours since calibration")
        ax.set_ylabel("activity / prescribed")
        ax.set_xlim(0, longest * 1.05)
        ax.legend(loc="upper right")
    if not by_product:
        axes[0].text(0.5, 0.5, "no dose was given in this period", ha="center", va="center")
    return svg_of(chart)


def occupancy_svg(result: DemoResult) -> str:
    from matplotlib.figure import Figure

    occupancy = result.chair_occupancy()
    names = [result.network.centre(cid).name for cid in occupancy]
    rows = [[value if value > 0 else float("nan") for value in row] for row in occupancy.values()]
    days = len(rows[0]) if rows else 0
    chart = Figure(figsize=(10, 0.32 * len(rows) + 1.6), layout="constrained")
    ax = chart.subplots()
    image = ax.imshow(rows, aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
    ax.set_yticks(range(len(names)), names, fontsize=8)
    labels = [(result.start_at + timedelta(days=k)).strftime("%a %d %b") for k in range(days)]
    ax.set_xticks(range(0, days, 7), labels[::7], fontsize=8)
    ax.set_xlabel("day")
    chart.colorbar(image, ax=ax, label="chair occupancy")
    return svg_of(chart)


def _mean_open(row: list[float]) -> float:
    open_days = [v for v in row if v > 0]
    return sum(open_days) / len(open_days) if open_days else 0.0


def _key_figures(facts: dict[str, Any]) -> str:
    doses, orders = facts["doses"], facts["orders"]
    rows: list[list[object]] = [
        ["period", f"{facts['start']} to {facts['end']} (seed {facts['seed']})"],
        ["new referrals", facts["referrals"]],
        ["patients followed (incl. on treatment at start)", facts["patients"]],
        [
            "eligibility PET: positive / negative / inconclusive",
            " / ".join(str(v) for v in facts["imaged"].values()),
        ],
        ["MDT: approved / declined / deferred", " / ".join(str(v) for v in facts["mdt"].values())],
        ["dose orders: planned / not planned", f"{orders['planned']} / {orders['unplanned']}"],
        ["orders confirmed later than 24 h", orders["confirmed_later_than_24h"]],
        ["doses made / administered", f"{doses['made']} / {doses['administered']}"],
        [
            "activity made / given (GBq)",
            f"{doses['activity_made_gbq']} / {doses['activity_given_gbq']}",
        ],
        ["activity lost to decay before infusion (GBq)", doses["lost_to_decay_gbq"]],
    ]
    return table(["figure", "value"], rows)


def _centre_table(result: DemoResult, facts: dict[str, Any]) -> str:
    rows: list[list[object]] = []
    for cid, figures in facts["centres"].items():
        centre = result.network.centre(cid)
        rows.append(
            [
                centre.name,
                centre.region,
                centre.chairs,
                figures["administered"],
                f"{figures['mean_chair_occupancy']:.0%}",
            ]
        )
    return table(["centre", "region", "chairs", "doses given", "mean occupancy (open days)"], rows)


def _counter_table(counts: dict[str, int], label: str) -> str:
    if not counts:
        return "<p>None.</p>"
    return table([label, "count"], [[k, v] for k, v in sorted(counts.items(), key=lambda kv: -kv[1])])


def _licence_table(warnings: list[dict[str, str]]) -> str:
    if not warnings:
        return "<p>None.</p>"
    return table(["centre", "staff", "licence", "expires on"], [list(w.values()) for w in warnings])


def _provenance(result: DemoResult) -> str:
    items = [("demo assumption", a) for a in ASSUMPTIONS]
    for kind in ("real", "assumed", "sources"):
        items += [(f"network: {kind}", text) for text in result.network.provenance.get(kind, ())]
    listed = "".join(f"<li><strong>{html.escape(k)}</strong>: {html.escape(v)}</li>" for k, v in items)
    return f"<ul>{listed}</ul>"
