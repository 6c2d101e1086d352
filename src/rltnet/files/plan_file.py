"""`plan.json`: a plan with its orders and the network it was made for.

The format is documented in ``docs/plan-format.md``. A plan file is whole on its
own: it names its network (a bundled name or a file path) and carries every
order, so `rltnet plan check` and `rltnet plan replan` need nothing else.
Instants are ISO 8601 UTC; activities are in becquerels (exact) and GBq (to read).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import Field

from rltnet.domain.errors import DataFileError, InvalidInput
from rltnet.domain.network import Network
from rltnet.domain.orders import DoseOrder
from rltnet.domain.products import Catalogue
from rltnet.domain.units import Activity, format_duration, require_aware
from rltnet.files.event_file import EventFile
from rltnet.files.fields import AwareDatetime, FileModel
from rltnet.files.problems import check
from rltnet.planning.plan import Placement, Plan, SolverReport, Unplanned
from rltnet.planning.problem import Disruptions
from rltnet.planning.replan import (
    BatchFailed,
    Event,
    LaneCancelled,
    LaneDelayed,
    NoShow,
    OrderCancelled,
    ReactorOutage,
    disruptions_of,
    with_outages,
)

FORMAT = "rltnet-plan/1"


class OrderJson(FileModel):
    order_id: str = Field(min_length=1)
    patient_id: str = Field(min_length=1)
    product_id: str = Field(min_length=1)
    cycle: int = Field(ge=1)
    centre_id: str = Field(min_length=1)
    earliest_at: AwareDatetime
    latest_at: AwareDatetime
    preferred_at: AwareDatetime
    placed_at: AwareDatetime
    prescribed_bq: float = Field(gt=0)
    weight_kg: float | None = None
    confirmed: bool = False

    def to_domain(self) -> DoseOrder:
        return DoseOrder(
            order_id=self.order_id,
            patient_id=self.patient_id,
            product_id=self.product_id,
            cycle=self.cycle,
            centre_id=self.centre_id,
            earliest_at=self.earliest_at,
            latest_at=self.latest_at,
            preferred_at=self.preferred_at,
            prescribed=Activity(self.prescribed_bq),
            placed_at=self.placed_at,
            weight_kg=self.weight_kg,
            confirmed=self.confirmed,
        )


class PlacementJson(FileModel):
    order_id: str
    site_id: str
    batch_id: str
    batch_start_at: AwareDatetime
    released_at: AwareDatetime
    lane_id: str
    departs_at: AwareDatetime
    arrives_at: AwareDatetime
    centre_id: str
    chair: int = Field(ge=1)
    appointment_at: AwareDatetime
    appointment_end_at: AwareDatetime
    administration_at: AwareDatetime
    calibration_activity_bq: float = Field(gt=0)
    calibration_activity_gbq: float | None = None
    delay_reason: str | None = None
    dose_of: str | None = None


class UnplannedJson(FileModel):
    order_id: str
    reason: str


class SolverJson(FileModel):
    planner: str
    objective: float
    bound: float | None = None
    gap: float | None = None
    wall_s: float
    status: str
    seed: int = 0


class PlanJson(FileModel):
    format: str = Field(pattern=f"^{FORMAT}$", description=f"the format tag, '{FORMAT}'")
    network: str = Field(min_length=1, description="a bundled network name or a network file path")
    created_at: AwareDatetime | None = None
    now: AwareDatetime | None = Field(default=None, description="when a re-plan's events were declared")
    events: list[EventFile] = Field(default_factory=list, description="the events a re-plan took in")
    solver: SolverJson | None = None
    orders: list[OrderJson]
    placements: list[PlacementJson]
    unplanned: list[UnplannedJson]
    cancelled: list[OrderJson] = Field(
        default_factory=list, description="orders a re-plan's events took out (cancelled, no-show)"
    )
    notes: list[str] = Field(default_factory=list)
    summary: dict[str, Any] | None = None


@dataclass(frozen=True)
class StoredPlan:
    """A plan as read from its file, with the network it names and, for a re-plan, the
    events it took in (which `plan check`, `replan` and `gantt` apply again)."""

    plan: Plan
    network: str
    now: datetime | None = None
    events: tuple[Event, ...] = ()

    @property
    def disruptions(self) -> Disruptions:
        return disruptions_of(self.events)

    def network_with_events(self, network: Network, catalogue: Catalogue) -> Network:
        """The network with the reactor outages of the events, as the re-plan applied them
        (none stops a delivery before `now`)."""
        del catalogue
        return with_outages(network, self.events, self.now)


def events_json(events: Sequence[Event]) -> list[dict[str, Any]]:
    """Events in the shape of the event file."""
    return [_event_json(e) for e in events]


def _event_json(event: Event) -> dict[str, Any]:
    if isinstance(event, ReactorOutage):
        return {
            "kind": "reactor_outage",
            "reactor": event.reactor_id,
            "start": _exact(event.start_at),
            "end": _exact(event.end_at),
            "reason": event.reason,
        }
    if isinstance(event, BatchFailed):
        return {"kind": "batch_failed", "batch": event.batch_id, "reason": event.reason}
    if isinstance(event, LaneCancelled):
        return {
            "kind": "lane_cancelled",
            "lane": event.lane_id,
            "start": _exact(event.start_at),
            "end": _exact(event.end_at),
            "reason": event.reason,
        }
    if isinstance(event, LaneDelayed):
        return {
            "kind": "lane_delayed",
            "lane": event.lane_id,
            "start": _exact(event.start_at),
            "end": _exact(event.end_at),
            "delay": format_duration(event.delay),
            "reason": event.reason,
        }
    if isinstance(event, OrderCancelled):
        return {"kind": "order_cancelled", "order": event.order_id, "reason": event.reason}
    if isinstance(event, NoShow):
        return {"kind": "no_show", "order": event.order_id, "reason": event.reason}
    return {
        "kind": "centre_closed",
        "centre": event.centre_id,
        "date": event.day.isoformat(),
        "reason": event.reason,
    }


def plan_to_json(
    plan: Plan, network: str, summary: dict[str, Any] | None = None, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON document of a plan (keys in a stable order); `extra` holds a re-plan's
    `now` and `events`."""
    report = plan.report
    extra = extra or {}
    now = extra.get("now")
    return {
        "format": FORMAT,
        "network": network,
        "now": _exact(now) if now is not None else None,
        "events": extra.get("events", []),
        "solver": None
        if report is None
        else {
            "planner": report.planner,
            "objective": report.objective,
            "bound": report.bound,
            "gap": report.gap,
            "wall_s": round(report.wall_s, 3),
            "status": report.status,
            "seed": report.seed,
        },
        "orders": [_order_json(o) for o in sorted(plan.orders, key=lambda o: o.order_id)],
        "placements": [_placement_json(p) for p in plan.placements],
        "unplanned": [{"order_id": u.order.order_id, "reason": u.reason} for u in plan.unplanned],
        "cancelled": [_order_json(o) for o in sorted(plan.cancelled, key=lambda o: o.order_id)],
        "notes": list(plan.notes),
        "summary": summary,
    }


def write_plan(
    path: Path | str,
    plan: Plan,
    network: str,
    summary: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write atomically: a failed write leaves any previous file as it was."""
    write_plan_document(path, plan_to_json(plan, network, summary, extra))


def write_plan_document(path: Path | str, document: dict[str, Any]) -> None:
    """Write a plan document atomically; an unwritable path is `InvalidInput`, and a failed
    write leaves any previous file as it was."""
    path = Path(path)
    if path.is_dir():
        raise InvalidInput(f"{path} is a directory; give a file to write, e.g. {path / 'plan.json'}")
    text = json.dumps(document, indent=2, ensure_ascii=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise InvalidInput(
            f"cannot write {path}: {err.strerror or err}; give a path you can write to"
        ) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text + "\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_plan_file(path: Path | str) -> StoredPlan:
    """The plan in a file with its network name and events; `DataFileError` lists every
    problem."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataFileError(str(path), ["file not found. Fix: check the path"]) from None
    except IsADirectoryError:
        raise DataFileError(str(path), ["a directory, not a plan file. Fix: name a plan.json"]) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataFileError(str(path), [f"not valid JSON ({err}). Fix: write it with rltnet plan"]) from None
    return parse_plan(document, str(path))


def parse_plan(document: Any, source: str = "plan") -> StoredPlan:
    """The plan of a JSON document (as `plan_to_json` writes it); `DataFileError` lists every
    problem, naming `source`."""
    parsed, problems = check(PlanJson, document)
    if parsed is None:
        raise DataFileError(source, problems)
    orders = {o.order_id: o.to_domain() for o in parsed.orders}
    cancelled = tuple(o.to_domain() for o in parsed.cancelled)
    problems = _reference_problems(parsed, orders)
    if problems:
        raise DataFileError(source, problems)
    placements = tuple(_placement(p, orders[p.order_id]) for p in parsed.placements)
    unplanned = tuple(Unplanned(orders[u.order_id], u.reason) for u in parsed.unplanned)
    report = None
    if parsed.solver is not None:
        s = parsed.solver
        report = SolverReport(s.planner, s.objective, s.bound, s.wall_s, s.status, s.seed)
    plan = Plan(placements, unplanned, report, tuple(parsed.notes), cancelled)
    return StoredPlan(plan, parsed.network, parsed.now, tuple(e.to_event() for e in parsed.events))


def _reference_problems(parsed: PlanJson, orders: dict[str, DoseOrder]) -> list[str]:
    problems = []
    seen: set[str] = set()
    entries = [("placements", i, p.order_id) for i, p in enumerate(parsed.placements)]
    entries += [("unplanned", i, u.order_id) for i, u in enumerate(parsed.unplanned)]
    for section, i, order_id in entries:
        if order_id not in orders:
            problems.append(
                f"{section}[{i}].order_id: {order_id!r} is not in 'orders'. "
                f"Fix: add the order or remove the entry"
            )
        elif order_id in seen:
            problems.append(f"{section}[{i}].order_id: {order_id!r} appears twice. Fix: keep one entry")
        seen.add(order_id)
    for order_id in sorted(set(orders) - seen):
        problems.append(
            f"orders: {order_id!r} is neither placed nor unplanned. Fix: add it to 'unplanned' with a reason"
        )
    for i, placement in enumerate(parsed.placements):
        order = orders.get(placement.order_id)
        if order is not None and placement.centre_id != order.centre_id:
            problems.append(
                f"placements[{i}].centre_id: {placement.centre_id!r} is not the centre of order "
                f"{placement.order_id} ({order.centre_id!r}). Fix: a dose is given at its order's centre"
            )
    for i, gone in enumerate(parsed.cancelled):
        if gone.order_id in orders:
            problems.append(
                f"cancelled[{i}].order_id: {gone.order_id!r} is also in 'orders'. Fix: keep it in one"
            )
    return problems


def _exact(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, keeping fractions of a second so a plan reads back equal."""
    return require_aware(moment, "instant").astimezone(UTC).isoformat().replace("+00:00", "Z")


def _order_json(order: DoseOrder) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "patient_id": order.patient_id,
        "product_id": order.product_id,
        "cycle": order.cycle,
        "centre_id": order.centre_id,
        "earliest_at": _exact(order.earliest_at),
        "latest_at": _exact(order.latest_at),
        "preferred_at": _exact(order.preferred_at),
        "placed_at": _exact(order.placed_at),
        "prescribed_bq": order.prescribed.bq,
        "weight_kg": order.weight_kg,
        "confirmed": order.confirmed,
    }


def _placement_json(p: Placement) -> dict[str, Any]:
    return {
        "order_id": p.order.order_id,
        "site_id": p.site_id,
        "batch_id": p.batch_id,
        "batch_start_at": _exact(p.batch_start_at),
        "released_at": _exact(p.released_at),
        "lane_id": p.lane_id,
        "departs_at": _exact(p.departs_at),
        "arrives_at": _exact(p.arrives_at),
        "centre_id": p.centre_id,
        "chair": p.chair,
        "appointment_at": _exact(p.appointment_at),
        "appointment_end_at": _exact(p.appointment_end_at),
        "administration_at": _exact(p.administration_at),
        "calibration_activity_bq": p.calibration_activity.bq,
        "calibration_activity_gbq": round(p.calibration_activity.gbq, 4),
        "delay_reason": p.delay_reason,
        "dose_of": p.dose_of,
    }


def _placement(p: PlacementJson, order: DoseOrder) -> Placement:
    return Placement(
        order=order,
        site_id=p.site_id,
        batch_id=p.batch_id,
        batch_start_at=p.batch_start_at,
        released_at=p.released_at,
        lane_id=p.lane_id,
        departs_at=p.departs_at,
        arrives_at=p.arrives_at,
        appointment_at=p.appointment_at,
        appointment_end_at=p.appointment_end_at,
        chair=p.chair,
        administration_at=p.administration_at,
        calibration_activity=Activity(p.calibration_activity_bq),
        delay_reason=p.delay_reason,
        dose_of=p.dose_of,
    )
