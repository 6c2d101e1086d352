"""A centre's week: appointments by day and chair, the days it is closed, who is on duty,
and the licences that have lapsed or soon will.

Coordinators and physicians see their own centre only (the use cases filter by it).
A day is closed on the centre's non-opening weekdays, its public holidays and the days
a declared disruption closed it; treatment also needs someone on duty with a valid
licence for the nuclide, so a day without one is flagged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from rltnet.domain.errors import InvalidInput
from rltnet.domain.network import TreatmentCentre
from rltnet.planning.replan import CentreClosed
from rltnet.service.deps import DbSession, PlatformDep
from rltnet.service.disruptions import stored_events
from rltnet.service.errors import NotFound
from rltnet.service.schemas import AppointmentPublic, LicencePublic, StaffPublic
from rltnet.service.security import Principal, Role
from rltnet.service.usecases import logistics, reference
from rltnet.web import render
from rltnet.web.auth import only

router = APIRouter()
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # as the staff rows store them
MOST = 500  # appointments or staff in one centre's week: far above any centre's chairs

Reader = Annotated[Principal, Depends(only(Role.COORDINATOR, Role.PHYSICIAN))]


@dataclass(frozen=True, slots=True)
class Duty:
    staff: StaffPublic
    lapsed: bool  # one of their licences has expired by this day


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    closed: str | None  # why the centre is closed, or None when open
    on_duty: list[Duty]
    unlicensed: list[str]  # nuclides the centre gives that no one on duty may give this day


@dataclass(frozen=True, slots=True)
class LicenceWarning:
    staff: StaffPublic
    licence: LicencePublic
    expired: bool  # already, today
    lapses_by_week_end: bool  # expired by the last day shown


@router.get("/calendar")
def calendar(
    request: Request,
    who: Reader,
    session: DbSession,
    platform: PlatformDep,
    week: Annotated[str, Query(max_length=40, description="any day of the week, YYYY-MM-DD")] = "",
) -> Response:
    centre = platform.network.centres.get(who.centre_id or "")
    if centre is None:
        raise NotFound("centre of your account", str(who.centre_id))
    today = centre.calendar.local_date(platform.clock.now())
    monday = _monday(week, today)
    days = [monday + timedelta(days=i) for i in range(7)]
    staff = reference.staff(
        session,
        platform,
        who,
        centre_id=centre.centre_id,
        role=None,
        licence_expiring_within_days=None,
        limit=MOST,
        offset=0,
    ).items
    closures = {
        e.day: e.reason or "closed by a declared disruption"
        for e in stored_events(session)
        if isinstance(e, CentreClosed) and e.centre_id == centre.centre_id
    }
    nuclides = sorted({platform.catalogue.therapy(p).nuclide.symbol for p in centre.products})
    return render.page(
        request,
        platform,
        who,
        "calendar.html",
        title=f"Calendar · {centre.name}",
        centre=centre,
        days=[_day(centre, d, staff, closures, nuclides) for d in days],
        slots=_slots(_appointments(session, who, centre, monday), centre),
        warnings=_warnings(staff, today, days[-1]),
        brands={p.product_id: p.brand for p in platform.catalogue.therapies.values()},
        monday=monday,
        previous=monday - timedelta(days=7),
        next=monday + timedelta(days=7),
        this_week=_monday("", today),
        today=today,
    )


def _monday(week: str, today: date) -> date:
    """The Monday of the week holding `week` (or today)."""
    try:
        day = date.fromisoformat(week) if week else today
    except ValueError as err:
        raise InvalidInput(
            f"week {week!r} is not a date; give any day of the week as YYYY-MM-DD, e.g. {today.isoformat()}"
        ) from err
    return day - timedelta(days=day.weekday())


def _appointments(
    session: DbSession, who: Principal, centre: TreatmentCentre, monday: date
) -> list[AppointmentPublic]:
    """The week's appointments, local midnight to local midnight (a week may hold a clock change)."""
    start = centre.calendar.at(monday, time(0))
    end = centre.calendar.at(monday + timedelta(days=7), time(0))
    return logistics.appointments(
        session, who, centre_id=None, status=None, from_at=start, to_at=end, limit=MOST, offset=0
    ).items


def _slots(
    appointments: list[AppointmentPublic], centre: TreatmentCentre
) -> dict[tuple[date, int], list[AppointmentPublic]]:
    """Appointments by (local day, chair), in time order."""
    slots: dict[tuple[date, int], list[AppointmentPublic]] = defaultdict(list)
    for appointment in appointments:
        slots[(centre.calendar.local_date(appointment.start_at), appointment.chair)].append(appointment)
    return slots


def _day(
    centre: TreatmentCentre,
    day: date,
    staff: list[StaffPublic],
    closures: dict[date, str],
    nuclides: list[str],
) -> Day:
    closed = _closed(centre, day, closures)
    if closed is not None:
        return Day(day, closed, [], [])
    on_duty = [s for s in staff if WEEKDAYS[day.weekday()] in s.weekdays]
    duties = [Duty(s, any(lic.expires_on < day for lic in s.licences)) for s in on_duty]
    unlicensed = [
        n
        for n in nuclides
        if not any(n in lic.covers and day <= lic.expires_on for s in on_duty for lic in s.licences)
    ]
    return Day(day, None, duties, unlicensed)


def _closed(centre: TreatmentCentre, day: date, closures: dict[date, str]) -> str | None:
    """Why the centre is closed on `day`, or None when it is open."""
    holiday = centre.calendar.holidays.get(day)
    if holiday:
        return f"public holiday: {holiday}"
    if not centre.is_open(day):
        return "not an opening day"
    if day in closures:
        return f"closed: {closures[day]}"
    return None


def _warnings(staff: list[StaffPublic], today: date, week_end: date) -> list[LicenceWarning]:
    """Licences expired, expiring soon (`reference.EXPIRING_SOON`), or lapsing by the week shown."""
    found = [
        LicenceWarning(s, lic, lic.expires_on < today, lic.expires_on < week_end)
        for s in staff
        for lic in s.licences
        if lic.expiring_soon or lic.expires_on < week_end
    ]
    return sorted(found, key=lambda w: (w.licence.expires_on, w.staff.id))
