"""Command-line commands for access and equity.

rltnet access report NETWORK [--areas FILE] [--travel-times FILE] [--indication I] [--out DIR] [--json]
rltnet access site NETWORK --add K [--candidates FILE] [--objective coverage|burden] [--minutes 90] [--json]
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from rltnet.domain.errors import InvalidInput
from rltnet.domain.network import Network
from rltnet.domain.products import Catalogue

console = Console()
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
NetworkArg = Annotated[str, typer.Argument(help="A bundled network (england, us) or a network .yaml file.")]
AreasOption = Annotated[
    Path | None,
    typer.Option(
        "--areas",
        help="Demand areas: CSV, GeoJSON or GeoPackage (id, population, lat/lon or "
        "geometry). Default: GeoNames places of 500+ people for the bundled networks.",
    ),
]
IndicationOption = Annotated[
    str | None, typer.Option("--indication", "-i", help="One indication or product of the network's demand.")
]
ModeOption = Annotated[str, typer.Option("--mode", help="car or public_transport (estimated times only).")]

access_app = typer.Typer(
    help="Access and equity: who is far from treatment, the burden of a course, where new centres help.",
    no_args_is_help=True,
)


def _catalogue() -> Catalogue:
    from rltnet.files.catalogue_file import default_catalogue

    return default_catalogue()


def _network(name_or_file: str) -> Network:
    from rltnet.files.network_file import load_network, network_path

    return load_network(network_path(name_or_file), _catalogue())


def _areas(network: Network, areas_file: Path | None) -> Any:
    from rltnet.access.area_file import read_areas
    from rltnet.access.geonames_areas import geonames_areas, network_areas

    if areas_file is not None:
        return read_areas(areas_file)
    return geonames_areas(network) or network_areas(network)


def _today() -> date:
    """The planner's date, for the fortnight of batches the dose reach is judged on."""
    return datetime.now(UTC).date()


def _check_mode(mode: str) -> None:
    if mode not in ("car", "public_transport"):
        raise InvalidInput(f"--mode {mode!r}: use car or public_transport")


def _minutes(value: float) -> str:
    return f"{value:.0f}" if value == value and value != float("inf") else "-"


@access_app.command("report")
def report(
    network: NetworkArg,
    areas: AreasOption = None,
    travel_times: Annotated[
        Path | None,
        typer.Option(
            "--travel-times",
            help="Minutes from each area to each centre: CSV or Parquet with "
            "origin (area id), destination (centre id), minutes (e.g. from OSRM or r5py).",
        ),
    ] = None,
    indication: IndicationOption = None,
    mode: ModeOption = "car",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for access.json, a PNG map and an HTML map per indication."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Travel time to treatment and PET, coverage, accessibility and course burden, by region and rurality."""
    from rltnet.access.area_file import read_travel_matrix
    from rltnet.access.report import build_report, centre_minutes, report_json

    _check_mode(mode)
    net = _network(network)
    catalogue = _catalogue()
    found = _areas(net, areas)
    if travel_times is not None:
        minutes = read_travel_matrix(travel_times, found.area_id.tolist(), list(net.centres))
        source = f"from {travel_times.name}"
    else:
        minutes = centre_minutes(net, found, mode)
        source = "estimated (great-circle x 1.4 circuity, speed bands; docs/access.md)"
    result = build_report(net, catalogue, found, minutes, _today(), mode, source, indication)
    payload = report_json(result)
    if out is not None:
        _write_outputs(result, payload, out)
    if as_json:
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    console.print(
        f"[bold]{net.name}[/]: {len(found):,} areas, {found.population.sum():,.0f} people; "
        f"travel times {source}, by {mode.replace('_', ' ')}"
    )
    for note in found.notes:
        console.print(f"  {note}", highlight=False)
    for ind in result.indications:
        _print_indication(ind)
    _print_reach(result)
    if out is not None:
        console.print(f"Written to {out}/: access.json and a PNG and HTML map per indication.")


def _write_outputs(result: Any, payload: dict[str, Any], out: Path) -> None:
    from rltnet.access.maps import write_html, write_png
    from rltnet.access.report import report_json

    out.mkdir(parents=True, exist_ok=True)
    full = report_json(result, with_areas=True)
    (out / "access.json").write_text(json.dumps(full, indent=1, ensure_ascii=False), encoding="utf-8")
    for ind in result.indications:
        stem = f"access-{ind.product_id}"
        write_png(result, ind, out / f"{stem}.png")
        write_html(result, ind, out / f"{stem}.html")


def _group_table(title: str, rows: Any) -> Table:
    table = Table(title=title, title_justify="left")
    for head in (
        "group",
        "people",
        "patients/yr",
        "mean min",
        "PET min",
        "≤30",
        "≤60",
        "≤90",
        "≤120",
        "chairs/100k",
        "course h/pt",
    ):
        table.add_column(head, justify="left" if head == "group" else "right")
    for r in rows:
        s = r.shares_within
        table.add_row(
            r.group,
            f"{r.population:,.0f}",
            f"{r.patients_per_year:,.1f}",
            _minutes(r.mean_minutes),
            _minutes(r.mean_pet_minutes),
            *(f"{s[t] * 100:.0f}%" for t in (30, 60, 90, 120)),
            f"{r.chairs_per_100k:.3f}",
            f"{r.burden_hours_per_patient:.1f}",
        )
    return table


def _print_indication(ind: Any) -> None:
    v = ind.visits
    console.print(
        f"\n[bold]{ind.indication}[/] ({ind.product_id}): {len(ind.centres)} centres give it, "
        f"{len(ind.pet_centres)} have a matching PET; a course is {v.total} round trips "
        f"(PET {v.pet}, MDT {v.mdt}, infusions {v.infusions}, follow-ups {v.follow_ups})",
        highlight=False,
    )
    console.print(_group_table("By region", ind.by_region))
    console.print(_group_table("By rurality", ind.by_rurality))
    console.print(_group_table("All", (ind.overall,)))
    console.print(
        f"Travel burden: {ind.overall.burden_hours_total:,.0f} hours a year for all expected patients."
    )


def _print_reach(result: Any) -> None:
    table = Table(title="Dose reachability (best batch and lane over a fortnight)", title_justify="left")
    for head in ("centre", "product", "reachable", "margin h", "journey h", "lane / why not"):
        table.add_column(head)
    for r in result.reach:
        table.add_row(
            r.centre_id,
            r.product_id,
            "yes" if r.reachable else "no",
            "-" if r.margin_h is None else f"{r.margin_h:.1f}",
            "-" if r.journey_h is None else f"{r.journey_h:.1f}",
            r.lane_id or r.why_not or "",
        )
    console.print(table)


@access_app.command("site")
def site(
    network: NetworkArg,
    add: Annotated[int, typer.Option("--add", "-k", help="How many new centres to place.")],
    candidates: Annotated[
        Path | None,
        typer.Option(
            "--candidates",
            help="Candidate sites: CSV, GeoJSON or GeoPackage with id and lat/lon "
            "(or geometry). Default: urban places 5 km or more from a centre.",
        ),
    ] = None,
    objective: Annotated[
        str,
        typer.Option(
            "--objective",
            help="coverage (most patients within --minutes) or burden (least travel time over all patients).",
        ),
    ] = "coverage",
    minutes: Annotated[float, typer.Option("--minutes", help="Coverage limit in minutes.")] = 90.0,
    indication: IndicationOption = None,
    capacitated: Annotated[
        bool,
        typer.Option(
            "--capacitated", help="burden only: each centre serves at most its chairs' yearly infusions."
        ),
    ] = False,
    chairs: Annotated[int, typer.Option("--chairs", help="Chairs of each new centre (capacitated).")] = 4,
    areas: AreasOption = None,
    mode: ModeOption = "car",
    time_limit: Annotated[
        float,
        typer.Option(
            "--time-limit",
            help="Seconds HiGHS may take to prove the p-median optimal; past it the best sites found "
            "are given and the status says so.",
        ),
    ] = 120.0,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for site.json and the PNG and HTML maps.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Where K new centres help most: exact MCLP or p-median on HiGHS, with the greedy answer's gap."""
    from rltnet.access.area_file import read_areas
    from rltnet.access.site_plan import Candidates, plan_sites

    _check_mode(mode)
    if capacitated and objective != "burden":
        raise InvalidInput("--capacitated goes with --objective burden")
    if minutes <= 0:
        raise InvalidInput(f"--minutes {minutes}: give a travel time above 0")
    net = _network(network)
    catalogue = _catalogue()
    found = _areas(net, areas)
    cand = None
    if candidates is not None:
        sites = read_areas(candidates, need_population=False)
        cand = Candidates(
            tuple(sites.area_id.tolist()), tuple(sites.name.tolist()), sites.latitude, sites.longitude
        )
    started = time.perf_counter()
    plan = plan_sites(
        net,
        catalogue,
        found,
        add,
        _today(),
        objective,
        minutes,
        indication,
        cand,
        capacitated,
        chairs,
        mode,
        time_limit=time_limit,
    )
    seconds = time.perf_counter() - started
    payload = _plan_json(plan, seconds)
    if out is not None:
        _write_site_maps(net, catalogue, found, plan, mode, indication, out, payload)
    if as_json:
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    kind = (
        "maximal covering (MCLP)"
        if objective == "coverage"
        else "p-median" + (", capacitated" if capacitated else "")
    )
    console.print(
        f"[bold]{net.name}[/], {plan.indication} ({plan.product_id}): {plan.k} new centres by {kind}, "
        f"exact on HiGHS ({plan.status}); {plan.reachable_candidates} of {plan.candidates} candidates can "
        f"receive the dose",
        highlight=False,
    )
    table = Table(title="Chosen sites", title_justify="left")
    for head in ("site", "name", "lat", "lon", "patients/yr", "dose margin h"):
        table.add_column(head, justify="left" if head in ("site", "name") else "right")
    for s in plan.chosen:
        table.add_row(
            s.site_id,
            s.name,
            f"{s.latitude:.4f}",
            f"{s.longitude:.4f}",
            f"{s.patients_per_year:.1f}",
            f"{s.dose_margin_h:.1f}",
        )
    console.print(table)
    console.print(
        f"Within {minutes:.0f} min: people {plan.people_covered_before:,.0f} -> "
        f"{plan.people_covered_after:,.0f} "
        f"(+{plan.people_covered_after - plan.people_covered_before:,.0f}); patients a year "
        f"{plan.patients_covered_before:,.1f} -> {plan.patients_covered_after:,.1f}.\n"
        f"Travel to the centre for all of a year's courses: {plan.burden_hours_before:,.0f} h -> "
        f"{plan.burden_hours_after:,.0f} h "
        f"(saves {plan.burden_hours_before - plan.burden_hours_after:,.0f} h).\n"
        f"Greedy heuristic: {', '.join(plan.greedy_sites)}; gap to the optimum "
        + (
            "not computed (capacitated)"
            if plan.greedy_gap != plan.greedy_gap
            else f"{plan.greedy_gap * 100:.2f}%"
        )
        + f". Solved in {seconds:.1f} s.",
        highlight=False,
    )


def _plan_json(plan: Any, seconds: float) -> dict[str, Any]:
    return {
        "network": plan.network,
        "indication": plan.indication,
        "product": plan.product_id,
        "objective": plan.objective,
        "minutes": plan.minutes_limit,
        "add": plan.k,
        "capacitated": plan.capacitated,
        "status": plan.status,
        "candidates": plan.candidates,
        "reachable_candidates": plan.reachable_candidates,
        "chosen": [
            {
                "id": s.site_id,
                "name": s.name,
                "lat": s.latitude,
                "lon": s.longitude,
                "patients_per_year": round(s.patients_per_year, 3),
                "dose_margin_h": round(s.dose_margin_h, 2),
            }
            for s in plan.chosen
        ],
        "people_within_before": round(plan.people_covered_before),
        "people_within_after": round(plan.people_covered_after),
        "patients_within_before": round(plan.patients_covered_before, 3),
        "patients_within_after": round(plan.patients_covered_after, 3),
        "burden_hours_before": round(plan.burden_hours_before, 1),
        "burden_hours_after": round(plan.burden_hours_after, 1),
        "greedy": list(plan.greedy_sites),
        "greedy_gap": None if plan.greedy_gap != plan.greedy_gap else plan.greedy_gap,
        "seconds": round(seconds, 3),
    }


def _write_site_maps(
    net: Network,
    catalogue: Catalogue,
    found: Any,
    plan: Any,
    mode: str,
    indication: str | None,
    out: Path,
    payload: dict[str, Any],
) -> None:
    from rltnet.access.maps import write_html, write_png
    from rltnet.access.report import build_report, centre_minutes

    out.mkdir(parents=True, exist_ok=True)
    result = build_report(
        net,
        catalogue,
        found,
        centre_minutes(net, found, mode),
        _today(),
        mode,
        "estimated",
        plan.product_id,
    )
    new = tuple((s.name, s.latitude, s.longitude) for s in plan.chosen)
    ind = result.indications[0]
    write_png(result, ind, out / f"site-{plan.product_id}.png", new)
    write_html(result, ind, out / f"site-{plan.product_id}.html", new)
    (out / "site.json").write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
