"""The rltnet command line: products, networks, dose decay and windows, the demo.

Every command takes ``--json`` for scripts; without it, output is for people.
Errors print one message saying what to change, and exit with status 1.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from rltnet.cli_access import access_app
from rltnet.cli_planning import orders_app, plan_app
from rltnet.cli_users import users_app
from rltnet.domain import decay
from rltnet.domain.dose import Dose
from rltnet.domain.errors import InvalidInput, RltnetError
from rltnet.domain.network import Network
from rltnet.domain.products import Catalogue, FixedActivity, ImagingAgent, TherapyProduct
from rltnet.domain.units import Activity, format_duration, format_instant, parse_instant

app = typer.Typer(
    help="rltnet: radioligand therapy delivery, from referral to infusion chair.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
network_app = typer.Typer(help="Delivery networks: reactors, sites, lanes, centres.", no_args_is_help=True)
dose_app = typer.Typer(help="A dose's decay and its administration window.", no_args_is_help=True)
app.add_typer(network_app, name="network")
app.add_typer(dose_app, name="dose")
app.add_typer(orders_app, name="orders")
app.add_typer(plan_app, name="plan")
app.add_typer(users_app, name="users")
app.add_typer(access_app, name="access")
keys_app = typer.Typer(help="The key that seals patients' identities.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

console = Console()
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
ProductOption = Annotated[str, typer.Option("--product", "-p", help="Catalogue id or brand, any case.")]
ActivityOption = Annotated[str, typer.Option("--activity", "-a", help="Calibration activity, e.g. 7.4GBq.")]
CalibratedOption = Annotated[
    str, typer.Option("--calibrated-at", help="Calibration instant, ISO 8601 with offset.")
]


def main() -> None:
    """Entry point: run the app, turning rltnet errors into one clear line."""
    try:
        app()
    except RltnetError as err:
        Console(stderr=True).print(f"[bold red]error:[/] {err}", highlight=False)
        sys.exit(1)
    except ValidationError as err:  # settings from RLTNET_* variables
        Console(stderr=True).print(f"[bold red]error:[/] {settings_problems(err)}", highlight=False)
        sys.exit(1)


def settings_problems(err: ValidationError) -> str:
    """The service's settings that are wrong, by their variable, with pydantic's reason."""
    problems = []
    for problem in err.errors():
        name = "RLTNET_" + "_".join(str(part) for part in problem["loc"]).upper()
        reason = str(problem["msg"]).removeprefix("Value error, ")
        problems.append(f"{name}: {reason}" if problem["loc"] else reason)
    return "; ".join(problems)


def _catalogue() -> Catalogue:
    from rltnet.files.catalogue_file import default_catalogue

    return default_catalogue()


def _network(name_or_file: str) -> Network:
    from rltnet.files.network_file import load_network, network_path

    return load_network(network_path(name_or_file), _catalogue())


def _print_json(payload: Any) -> None:
    print(json.dumps(payload, indent=2, ensure_ascii=False))


@app.command()
def products(as_json: JsonFlag = False) -> None:
    """The product catalogue: therapies and eligibility imaging, with sources."""
    catalogue = _catalogue()
    if as_json:
        _print_json(
            {
                "therapies": [_therapy_json(t) for t in catalogue.therapies.values()],
                "imaging_agents": [_imaging_json(a) for a in catalogue.imaging_agents.values()],
            }
        )
        return
    table = Table(title="Therapies", show_lines=True)
    for column in ("product", "activity", "tolerance", "shelf life", "cycles", "chair"):
        table.add_column(column, overflow="fold")
    for t in catalogue.therapies.values():
        schedule = f"{t.schedule.cycles}"
        if t.schedule.cycles > 1:
            schedule += (
                f" × {t.schedule.interval.days // 7} weeks ± {format_duration(t.schedule.interval_tolerance)}"
            )
        table.add_row(
            f"[bold]{t.brand}[/] {t.nuclide.symbol}\n{t.product_id}",
            _activity_rule(t),
            f"± {t.tolerance:.0%}",
            format_duration(t.shelf_life),
            schedule,
            format_duration(t.appointment),
        )
    console.print(table)
    imaging = Table(title="Eligibility imaging")
    for column in ("agent", "target", "activity", "image after"):
        imaging.add_column(column, overflow="fold")
    for a in catalogue.imaging_agents.values():
        imaging.add_row(
            f"[bold]{a.brand}[/] {a.nuclide.symbol}\n{a.product_id}",
            a.target,
            _imaging_activity(a),
            _range(a.uptake_min, a.uptake_max),
        )
    console.print(imaging)
    console.print("Every figure's source: [bold]rltnet products --json[/]", highlight=False)


def _activity_rule(t: TherapyProduct) -> str:
    rule = t.activity
    if isinstance(rule, FixedActivity):
        return str(rule.activity)
    text = f"{rule.per_kg}/kg"
    return text + (f", at most {rule.cap}" if rule.cap else "")


def _imaging_activity(a: ImagingAgent) -> str:
    if a.per_kg is not None:
        return f"{a.per_kg}/kg" + (f", at most {a.activity_max}" if a.activity_max else "")
    if a.activity_min == a.activity_max:
        return str(a.activity_min)
    return f"{a.activity_min} – {a.activity_max}"


def _range(low: Any, high: Any) -> str:
    if low is None:
        return "—"
    return format_duration(low) if low == high else f"{format_duration(low)} – {format_duration(high)}"


def _sources_json(product: TherapyProduct | ImagingAgent) -> dict[str, Any]:
    return {
        name: {
            "source": s.key,
            "citation": s.citation,
            "url": s.url,
            "kind": s.kind,
            "note": product.notes.get(name),
        }
        for name, s in product.sources.items()
    }


def _therapy_json(t: TherapyProduct) -> dict[str, Any]:
    rule = t.activity
    activity: dict[str, Any] = (
        {"fixed_gbq": rule.activity.gbq}
        if isinstance(rule, FixedActivity)
        else {
            "per_kg_mbq": rule.per_kg.mbq,
            "cap_mbq": rule.cap.mbq if rule.cap else None,
            "platelet_bands": [
                {"min_platelets_per_mm3": b.min_platelets_per_mm3, "per_kg_mbq": b.per_kg.mbq}
                for b in rule.platelet_bands
            ],
        }
    )
    return {
        "id": t.product_id,
        "brand": t.brand,
        "name": t.name,
        "nuclide": t.nuclide.symbol,
        "half_life_hours": t.nuclide.half_life_s / 3600,
        "indications": list(t.indications),
        "activity": activity,
        "tolerance_percent": round(t.tolerance * 100, 6),
        "shelf_life_hours": t.shelf_life.total_seconds() / 3600,
        "cycles": t.schedule.cycles,
        "interval_days": t.schedule.interval.days,
        "interval_tolerance_days": t.schedule.interval_tolerance.days,
        "reduction": None
        if t.reduction is None
        else {
            "activity_gbq": t.reduction.activity.gbq,
            "conditions": list(t.reduction.conditions),
            "max_reductions": t.reduction.max_reductions,
            "may_return_to_full": t.reduction.may_return_to_full,
        },
        "co_infusions": [
            {
                "name": c.name,
                "starts_before_dose_minutes": c.starts_before_dose.total_seconds() / 60,
                "duration_minutes": c.duration.total_seconds() / 60 if c.duration else None,
            }
            for c in t.co_infusions
        ],
        "premedication": list(t.premedication),
        "appointment_minutes": t.appointment.total_seconds() / 60,
        "infusion_minutes": t.infusion.total_seconds() / 60,
        "eligibility": {
            "target": t.eligibility.target,
            "imaging_agents": list(t.eligibility.imaging_agents),
            "criterion": t.eligibility.criterion,
        },
        "ordering": {
            "lead_time_days": t.ordering.lead_time.days if t.ordering.lead_time else None,
            "order_by_weekday": t.ordering.order_by_weekday.name.lower()
            if t.ordering.order_by_weekday
            else None,
            "confirmation_target_hours": t.ordering.confirmation_target.total_seconds() / 3600
            if t.ordering.confirmation_target
            else None,
            "cancellation": [
                {"before_calibration_days": c.before_calibration.days, "fee": c.fee}
                for c in t.ordering.cancellation_tiers
            ],
            "late_cancellation_fee": t.ordering.late_cancellation_fee,
        },
        "calibration": t.calibration_convention,
        "sources": _sources_json(t),
    }


def _imaging_json(a: ImagingAgent) -> dict[str, Any]:
    def mbq(value: Activity | None) -> float | None:
        return None if value is None else value.mbq

    return {
        "id": a.product_id,
        "brand": a.brand,
        "name": a.name,
        "nuclide": a.nuclide.symbol,
        "target": a.target,
        "activity_min_mbq": mbq(a.activity_min),
        "activity_max_mbq": mbq(a.activity_max),
        "per_kg_mbq": mbq(a.per_kg),
        "uptake_minutes": [d.total_seconds() / 60 if d else None for d in (a.uptake_min, a.uptake_max)],
        "shelf_life_hours": a.shelf_life.total_seconds() / 3600 if a.shelf_life else None,
        "sources": _sources_json(a),
    }


@network_app.command("show")
def network_show(
    name_or_file: Annotated[str, typer.Argument(help="A bundled network (england, us) or a YAML file.")],
    as_json: JsonFlag = False,
) -> None:
    """A network's summary: reactors, sites, lanes, centres, population and demand."""
    network = _network(name_or_file)
    yearly = network.yearly_patients()
    facts: dict[str, Any] = {
        "name": network.name,
        "description": network.description,
        "reactors": len(network.reactors),
        "production_sites": len(network.sites),
        "lanes": len(network.lanes),
        "centres": len(network.centres),
        "chairs": sum(c.chairs for c in network.centres.values()),
        "demand_areas": len(network.demand_areas),
        "population": network.population(),
        "expected_patients_per_year": {k: round(v, 1) for k, v in sorted(yearly.items())},
        "provenance": {k: list(v) for k, v in network.provenance.items()},
        "offered_but_not_supplied": {k: list(v) for k, v in network.unsupplied().items()},
    }
    if as_json:
        _print_json(facts)
        return
    console.print(f"[bold]{network.name}[/]\n{network.description}", highlight=False)
    table = Table(show_header=False)
    for key in ("reactors", "production_sites", "lanes", "centres", "chairs", "demand_areas"):
        table.add_row(key.replace("_", " "), str(facts[key]))
    table.add_row("population", f"{network.population():,}")
    for product_id, patients in sorted(yearly.items()):
        table.add_row(f"patients a year: {product_id}", f"{patients:,.0f}")
    console.print(table)
    centres = Table(title="Treatment centres")
    for column in ("id", "name", "region", "chairs", "products", "MDT"):
        centres.add_column(column)
    for c in network.centres.values():
        centres.add_row(
            c.centre_id,
            c.name,
            c.region,
            str(c.chairs),
            ", ".join(c.products),
            c.mdt_weekday.name.title()[:3],
        )
    console.print(centres)
    _warn_unsupplied(network)


def _warn_unsupplied(network: Network) -> None:
    """A warning for each product a centre offers that no site and lane of the network brings it."""
    by_product: dict[str, list[str]] = {}
    for centre_id, products in network.unsupplied().items():
        for product_id in products:
            by_product.setdefault(product_id, []).append(centre_id)
    for product_id, centres in sorted(by_product.items()):
        console.print(
            f"[bold yellow]warning:[/] {product_id} is offered at {len(centres)} centre(s) "
            f"({', '.join(centres)}) but no production site with a lane to them makes it; add a site "
            f"and lanes that supply it, or take it off those centres' products",
            highlight=False,
            soft_wrap=True,
        )


@dose_app.command("activity")
def dose_activity(
    product: ProductOption,
    activity: ActivityOption,
    calibrated_at: CalibratedOption,
    at: Annotated[str, typer.Option("--at", help="Instant to compute the activity at, ISO 8601.")],
    as_json: JsonFlag = False,
) -> None:
    """The activity of a dose at a given time, from its calibration."""
    therapy = _catalogue().therapy(product)
    calibration = Activity.parse(activity)
    calibrated = parse_instant(calibrated_at, "--calibrated-at")
    moment = parse_instant(at, "--at")
    now = decay.activity_at(therapy.nuclide, calibration, calibrated, moment)
    elapsed_h = (moment - calibrated).total_seconds() / 3600
    facts = {
        "product": therapy.product_id,
        "nuclide": therapy.nuclide.symbol,
        "half_life_hours": therapy.nuclide.half_life_s / 3600,
        "calibration_activity_gbq": calibration.gbq,
        "calibrated_at": format_instant(calibrated),
        "at": format_instant(moment),
        "elapsed_hours": elapsed_h,
        "activity_gbq": now.gbq,
        "activity_mci": now.mci,
        "fraction_remaining": now / calibration,
    }
    if as_json:
        _print_json(facts)
        return
    console.print(
        f"{therapy.brand} ({therapy.nuclide.symbol}): {calibration} at "
        f"{format_instant(calibrated)} "
        f"holds [bold]{now}[/] ({now.mci:.1f} mCi) at {format_instant(moment)}, "
        f"{elapsed_h:+.1f} h later ({now / calibration:.1%} remaining).",
        highlight=False,
    )


@dose_app.command("window")
def dose_window(
    product: ProductOption,
    activity: ActivityOption,
    calibrated_at: CalibratedOption,
    prescribed: Annotated[
        str | None, typer.Option(help="Activity wanted at administration; default: the label's.")
    ] = None,
    weight_kg: Annotated[float | None, typer.Option(help="Patient weight, for per-kg products.")] = None,
    platelets: Annotated[int | None, typer.Option(help="Platelets per mm³, for Zevalin.")] = None,
    released_at: Annotated[str | None, typer.Option(help="QC release instant, if known.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """When a dose may be given: inside the product's tolerance and before expiry."""
    therapy = _catalogue().therapy(product)
    calibrated = parse_instant(calibrated_at, "--calibrated-at")
    target = Activity.parse(prescribed) if prescribed else therapy.prescribe(weight_kg, platelets)
    dose = Dose(
        dose_id="cli",
        product=therapy,
        batch_id="cli",
        calibration_at=calibrated,
        calibration_activity=Activity.parse(activity),
        expiry_at=calibrated + therapy.shelf_life,
        prescribed=target,
        released_at=parse_instant(released_at, "--released-at") if released_at else None,
    )
    window = dose.window()
    low, high = therapy.tolerance_band(target)
    facts: dict[str, Any] = {
        "product": therapy.product_id,
        "calibration_activity_gbq": dose.calibration_activity.gbq,
        "calibrated_at": format_instant(calibrated),
        "prescribed_gbq": target.gbq,
        "tolerance_percent": round(therapy.tolerance * 100, 6),
        "band_gbq": [low.gbq, high.gbq],
        "expiry_at": format_instant(dose.expiry_at),
        "earliest_at": format_instant(window.earliest_at) if window else None,
        "latest_at": format_instant(window.latest_at) if window else None,
        "earliest_limited_by": window.earliest_limited_by.value if window else None,
        "latest_limited_by": window.latest_limited_by.value if window else None,
        "hours": (window.latest_at - window.earliest_at).total_seconds() / 3600 if window else 0.0,
    }
    if as_json:
        _print_json(facts)
    if window is None:
        message = (
            f"this dose is never within {low}–{high} before it expires; check the calibration "
            f"activity and time, or the prescribed activity"
        )
        if as_json:
            raise typer.Exit(1)
        raise InvalidInput(message)
    if not as_json:
        console.print(
            f"{therapy.brand}: {dose.calibration_activity} calibrated at "
            f"{format_instant(calibrated)}, "
            f"prescribed {target} (± {therapy.tolerance:.0%}: {low}–{high}).\n"
            f"Give it from [bold]{format_instant(window.earliest_at)}[/] "
            f"({window.earliest_limited_by.value}) "
            f"to [bold]{format_instant(window.latest_at)}[/] ({window.latest_limited_by.value}): "
            f"{format_duration(window.latest_at - window.earliest_at)}. "
            f"Expires {format_instant(dose.expiry_at)}.",
            highlight=False,
        )


@app.command()
def demo(
    network: Annotated[str, typer.Option(help="Bundled network name or YAML file.")] = "england",
    weeks: Annotated[int, typer.Option(min=1, max=52, help="Weeks to run.")] = 4,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same run.")] = 1,
    start: Annotated[str, typer.Option(help="First day (a date, YYYY-MM-DD).")] = "2027-01-04",
    out: Annotated[Path, typer.Option(help="Folder for the HTML report.")] = Path("out/demo"),
    as_json: JsonFlag = False,
) -> None:
    """Run a network for some weeks: referral, imaging, MDT, orders, production, infusion."""
    from rltnet.report.demo_report import summary, write_report
    from rltnet.simulation.demo import DemoSettings, run_demo

    try:
        start_date = date.fromisoformat(start)
    except ValueError:
        raise InvalidInput(f"--start {start!r} is not a date; write e.g. 2027-01-04") from None
    result = run_demo(_network(network), _catalogue(), DemoSettings(weeks, seed, start_date))
    out.mkdir(parents=True, exist_ok=True)
    report = out / "report.html"
    write_report(result, str(report))
    facts = summary(result)
    facts["report"] = str(report)
    if as_json:
        _print_json(facts)
        return
    _print_demo(facts)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free one).")] = 8000,
    database_url: Annotated[
        str | None, typer.Option(help="SQLite file or PostgreSQL URL (default: RLTNET_DATABASE_URL or var/).")
    ] = None,
    network: Annotated[str | None, typer.Option(help="Bundled network name or YAML file.")] = None,
    demo: Annotated[bool, typer.Option(help="Demo users (passwords printed) and demo patients.")] = False,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Worker processes.")] = 1,
) -> None:
    """Run the platform service: the workspace on http://HOST:PORT/, the API under /api/v1, docs at /docs."""
    import os

    from rltnet.service import workers as worker_processes
    from rltnet.service.settings import Settings

    if database_url:
        os.environ["RLTNET_DATABASE_URL"] = database_url
    if network:
        os.environ["RLTNET_NETWORK"] = network
    settings = Settings()
    if demo and settings.mode == "production":
        raise InvalidInput(
            "--demo is refused in production mode (RLTNET_MODE=production): demo passwords are reset at "
            "every start; create accounts with `rltnet users create`"
        )
    # The port is taken first: a busy one is said before anything claims to serve.
    listener = worker_processes.listen(host, port)
    port = listener.getsockname()[1]  # the one taken, where --port 0 asked for any free one
    app_factory = "rltnet.service.app:create_app"
    # The workers' imports begin now, with this environment, and overlap the migration.
    worker_processes.prepare(app_factory, workers)

    from rltnet.service.platform import Platform
    from rltnet.service.seed import seed
    from rltnet.service.usecases.users import count

    try:
        platform = Platform.start(settings)  # migrates the schema and loads the network, once
    except BaseException:
        listener.close()
        raise
    from rltnet.service.keys import start_message

    console.print(start_message(platform.keys), highlight=False)
    try:
        if demo:
            passwords = seed(platform)
            table = Table(title="Demo users (passwords change at every start)")
            for column in ("username", "password"):
                table.add_column(column)
            for username, password in passwords.items():
                table.add_row(username, password)
            console.print(table)
        with platform.sessions() as session:
            accounts = count(session)
    finally:
        platform.close()
    if demo:
        who = "log in as a demo user above"
    elif accounts:
        who = f"log in with your account ({accounts} on this database)"
    else:
        who = (
            "no users yet: create one with `rltnet users create --role admin --username NAME` "
            "(same database), then log in"
        )
    console.print(
        f"rltnet workspace on [bold]http://{host}:{port}/[/] ({who}); "
        f"API under /api/v1, its docs at http://{host}:{port}/docs",
        highlight=False,
        soft_wrap=True,  # one line, whatever the terminal's width: scripts wait for it
    )
    worker_processes.run(app_factory, listener, workers, log_level="warning")


@keys_app.command("rotate")
def keys_rotate(
    database_url: Annotated[
        str | None, typer.Option(help="SQLite file or PostgreSQL URL (default: RLTNET_DATABASE_URL or var/).")
    ] = None,
) -> None:
    """Re-seal every sealed identity under a new key, in one transaction (all or none).

    Development: a new key replaces the one in RLTNET_DATA_DIR/secret.key. Production: set
    RLTNET_SECRET_KEY to the new key and RLTNET_PREVIOUS_SECRET_KEYS to the old one, run this,
    then restart the service without RLTNET_PREVIOUS_SECRET_KEYS. Stop the service first (or
    restart it after): it reads its keys when it starts.
    """
    import os

    from rltnet.service.keys import rotate
    from rltnet.service.settings import Settings
    from rltnet.store import db
    from rltnet.store.migrate import upgrade

    if database_url:
        os.environ["RLTNET_DATABASE_URL"] = database_url
    settings = Settings()
    engine = db.connect(settings.database_url)
    try:
        upgrade(engine)
        done = rotate(engine, settings)
    finally:
        engine.dispose()
    console.print(
        f"re-sealed {done.resealed} values under the new key (kept in {done.kept_in})", highlight=False
    )


def _print_demo(facts: dict[str, Any]) -> None:
    doses, orders = facts["doses"], facts["orders"]
    table = Table(
        title=f"{facts['network']}: {facts['start'][:10]} to {facts['end'][:10]}", show_header=False
    )
    rows = [
        ("new referrals", facts["referrals"]),
        ("patients followed", facts["patients"]),
        ("PET positive / negative / inconclusive", " / ".join(map(str, facts["imaged"].values()))),
        ("MDT approved / declined / deferred", " / ".join(map(str, facts["mdt"].values()))),
        ("orders planned / not planned", f"{orders['planned']} / {orders['unplanned']}"),
        ("orders confirmed after 24 h", orders["confirmed_later_than_24h"]),
        ("doses made / administered", f"{doses['made']} / {doses['administered']}"),
        (
            "doses discarded",
            ", ".join(f"{k}: {v}" for k, v in doses["discarded"].items()) or "none",
        ),
        (
            "activity made / given",
            f"{doses['activity_made_gbq']:.1f} / {doses['activity_given_gbq']:.1f} GBq",
        ),
        ("lost to decay before infusion", f"{doses['lost_to_decay_gbq']:.1f} GBq"),
        ("licences expiring within 90 days", len(facts["licence_warnings"])),
    ]
    for key, value in rows:
        table.add_row(key, str(value))
    console.print(table)
    for reason, count in orders["unplanned_reasons"].items():
        console.print(f"  not planned ({count}): {reason}", highlight=False)
    console.print(f"Report: [bold]{facts['report']}[/]", highlight=False)
