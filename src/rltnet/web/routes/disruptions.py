"""The disruption console: declare what failed, preview the re-plan, commit it.

Each form builds events in the JSON form of `POST /api/v1/disruptions` (the event file,
docs/plan-format.md) and checks them with the same schema; the preview re-plans
without writing (`plan.declare(commit=False)`), and its Commit form carries the same
events back, checked again, to be stored. Manufacturer and administrators only.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError

from rltnet.domain.errors import InvalidInput
from rltnet.files.event_file import EventFile
from rltnet.files.plan_file import events_json
from rltnet.planning.replan import Event
from rltnet.service.deps import DbSession, PlatformDep
from rltnet.service.platform import Platform
from rltnet.service.schemas import DisruptionCreate, DisruptionPublic, ReplanPublic
from rltnet.service.security import Principal, Role
from rltnet.service.usecases import plan, supply
from rltnet.web import render
from rltnet.web.auth import only, posting

router = APIRouter()
DECLARED_SHOWN = 50  # the latest disruptions listed under the forms
BATCH_DAYS = 28  # the batches offered for a failure: those booked in the coming weeks
MAX_EVENTS_JSON = 200_000  # the Commit form's events: room for DisruptionCreate's 200 events

Reader = Annotated[Principal, Depends(only(Role.MANUFACTURER, Role.ADMIN))]
Declarer = Annotated[Principal, Depends(posting(Role.MANUFACTURER, Role.ADMIN))]
Kind = Literal["reactor_outage", "batch_failed", "lane", "centre_closed"]
Text = Annotated[str, Form(max_length=100)]
_EVENTS = TypeAdapter(list[EventFile])
# the form's names for the event file's fields, for messages that name what to change
_LABELS = {"reactor": "reactor", "batch": "batch", "lane": "lane", "centre": "centre", "date": "date"}
_LABELS |= {"start": "start", "end": "end", "delay": "delay (hours)", "reason": "reason"}


@router.get("/disruptions")
def console(request: Request, who: Reader, session: DbSession, platform: PlatformDep) -> Response:
    return _console(request, who, session, platform)


@router.post("/disruptions/preview")
def preview(
    request: Request,
    who: Declarer,
    session: DbSession,
    platform: PlatformDep,
    kind: Annotated[Kind, Form()],
    reactors: Annotated[list[str] | None, Form(max_length=20)] = None,
    batch: Text = "",
    lane: Text = "",
    lane_change: Annotated[Literal["cancelled", "delayed"], Form()] = "cancelled",
    delay_hours: Text = "",
    centre: Text = "",
    day: Text = "",
    start: Text = "",
    end: Text = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """What the re-plan would change; nothing is written."""
    zone = render.zone_of(platform, who.centre_id)
    form = {"batch": batch, "lane": lane, "lane_change": lane_change, "delay_hours": delay_hours}
    form |= {"centre": centre, "day": day, "start": start, "end": end, "reason": reason.strip()}
    events = _checked(_events(kind, reactors or [], form, zone))
    result = plan.declare(session, platform, who, events, None, commit=False)
    return _console(request, who, session, platform, result=result, events=events)


@router.post("/disruptions/commit")
def commit(
    who: Declarer,
    session: DbSession,
    platform: PlatformDep,
    events: Annotated[str, Form(max_length=MAX_EVENTS_JSON)] = "",
) -> Response:
    """Store the previewed events and apply the re-plan, made again now (bookings may have
    changed since the preview)."""
    try:
        parsed = json.loads(events)
    except json.JSONDecodeError as err:
        raise InvalidInput("the declaration to commit was damaged on the way; preview it again") from err
    result = plan.declare(session, platform, who, _checked(parsed), None, commit=True)
    return render.redirect("/disruptions", f"Disruption stored. {_summary(result)}")


def _console(
    request: Request,
    who: Principal,
    session: DbSession,
    platform: Platform,
    *,
    result: ReplanPublic | None = None,
    events: list[Event] | None = None,
) -> Response:
    """The page: the forms, the preview when there is one, and the disruptions declared so far."""
    changes = result.changes if result else []
    touched = supply.touched(session, who, [c.order_id for c in changes])
    declared = plan.disruptions(session, who, DECLARED_SHOWN, 0)
    today = platform.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    network = platform.network
    zone = render.zone_of(platform, who.centre_id)
    return render.page(
        request,
        platform,
        who,
        "disruptions.html",
        title="Disruptions",
        reactors=sorted(network.reactors.values(), key=lambda r: r.name),
        lanes=sorted(network.lanes),
        centres=sorted(network.centres.values(), key=lambda c: c.name),
        batches=supply.batch_loads(session, who, today, BATCH_DAYS),
        result=result,
        described=[in_words(e, zone) for e in events or []],
        events_json=json.dumps(events_json(events or [])),
        touched=touched,
        kinds=sorted(Counter(c.kind for c in changes).items()),
        affected_centres=sorted({t.centre_id for t in touched.values()}),
        affected_patients=sorted({t.patient_id for t in touched.values()}),
        declared=[(d, _described(d, zone)) for d in declared.items],
        declared_total=declared.total,
    )


def _events(kind: Kind, reactors: list[str], form: dict[str, str], zone: ZoneInfo) -> list[dict[str, Any]]:
    """The form's declaration as events of the event file; one per reactor chosen."""
    reason = form["reason"]
    if kind == "batch_failed":
        if not form["batch"]:
            raise InvalidInput("enter the id of the batch that failed (e.g. ivrea-20270113-0600)")
        return [{"kind": kind, "batch": form["batch"], "reason": reason}]
    if kind == "centre_closed":
        return [{"kind": kind, "centre": form["centre"], "date": form["day"], "reason": reason}]
    period = {"start": _instant(form["start"], "start", zone), "end": _instant(form["end"], "end", zone)}
    if kind == "reactor_outage":
        if not reactors:
            raise InvalidInput("choose at least one reactor that is out, then preview again")
        return [{"kind": kind, "reactor": r, **period, "reason": reason} for r in reactors]
    if form["lane_change"] == "cancelled":
        return [{"kind": "lane_cancelled", "lane": form["lane"], **period, "reason": reason}]
    delay = _hours(form["delay_hours"])
    return [{"kind": "lane_delayed", "lane": form["lane"], **period, "delay": delay, "reason": reason}]


def _instant(value: str, name: str, zone: ZoneInfo) -> str:
    """A datetime-local field on the viewer's clock, as the event file's ISO instant."""
    if not value:
        raise InvalidInput(f"enter the {name} date and time ({zone.key}), then preview again")
    try:
        return render.from_input(value, zone).isoformat()
    except (ValueError, OverflowError) as err:
        raise InvalidInput(
            f"{name} {value!r} is not a date and time; enter it as YYYY-MM-DDTHH:MM, e.g. 2027-01-12T08:00"
        ) from err


def _hours(value: str) -> str:
    try:
        hours = float(value)
    except ValueError as err:
        raise InvalidInput(
            "enter the delay in hours (e.g. 6) for a delayed lane, then preview again"
        ) from err
    if not hours > 0:
        raise InvalidInput("a delay is more than 0 hours; for a lane that does not run, choose 'cancelled'")
    return f"{hours:g} h"


def _checked(events: Any) -> list[Event]:
    """The events, checked as the API checks them; a problem is said with the field to change."""
    try:
        body = DisruptionCreate.model_validate({"events": events})
    except ValidationError as err:
        problems = "; ".join(_problem(item) for item in err.errors())
        raise InvalidInput(f"{problems}; correct it and preview again") from err
    return [item.to_event() for item in body.events]


def _problem(item: Any) -> str:
    field = next((str(p) for p in reversed(item.get("loc", ())) if str(p) in _LABELS), None)
    message = str(item.get("msg", "not valid")).removeprefix("Value error, ")
    return f"{_LABELS[field]}: {message}" if field else message


def _summary(result: ReplanPublic) -> str:
    """The committed re-plan in one sentence: how many orders changed, and how."""
    if not result.changes:
        return "No order had to change; later placements respect it."
    kinds = Counter(c.kind for c in result.changes)
    how = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    return f"{len(result.changes)} orders changed ({how}); their centres see the new plan."


def _described(declared: DisruptionPublic, zone: ZoneInfo) -> list[str]:
    """A stored disruption's events in words; one that no longer reads is shown as stored."""
    try:
        return [in_words(item.to_event(), zone) for item in _EVENTS.validate_python(declared.events)]
    except ValidationError:
        return [json.dumps(declared.events)]


def in_words(event: Event, zone: ZoneInfo) -> str:
    """What failed, its times on the planner's clock ('Wed 09 Dec 2026 08:00 GMT'), and why."""
    reason = f" ({event.reason})" if event.reason else ""
    return event.describe(lambda instant: render.when(instant, zone)) + reason
