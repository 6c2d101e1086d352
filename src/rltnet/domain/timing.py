"""When an event may be recorded: against the clock, and against the facts recorded before it.

The one place for these rules; the use cases, and so the API and the pages, apply
them to every time a user records:

- nothing in the future: an event is recorded once it has happened, up to
  `FUTURE_TOLERANCE` ahead of the service clock;
- events in the order they happened, compared at the minute, the precision a person
  enters a time with (a form gives 10:05; the event before may be 10:05:32.123456);
- a dose's steps against what was *recorded* of it, never what was planned:
  production not before its batch starts, release not before QC can end after the
  recorded start, delivery not before the recorded departure plus the fastest
  plausible transit, administration not before the recorded delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rltnet.domain.errors import PathwayError
from rltnet.domain.records import DoseRecord
from rltnet.domain.units import format_instant, require_aware

# ASSUMED: how far ahead of the service clock a recorded time may lie. It covers a
# watch or workstation a few minutes fast and a time typed to the minute; anything
# later has not happened yet.
FUTURE_TOLERANCE = timedelta(minutes=5)

# ASSUMED: the fastest a courier can plausibly deliver, as a share of the lane's
# scheduled transit. Road and air transits vary (traffic, an earlier flight) but not
# by half; a delivery sooner than this is a mistyped time, not a fast courier.
FASTEST_TRANSIT_SHARE = 0.5


class EventTimeRefused(PathwayError):
    """A recorded time that the clock or the facts recorded before it rule out."""


def minute_of(moment: datetime) -> datetime:
    """`moment` to the minute, in UTC: the precision a person enters a time with.

    >>> minute_of(datetime(2027, 1, 4, 10, 5, 32, 123456, tzinfo=UTC)).isoformat()
    '2027-01-04T10:05:00+00:00'
    """
    return require_aware(moment, "moment").astimezone(UTC).replace(second=0, microsecond=0)


def not_before(at: datetime, earlier: datetime) -> bool:
    """Whether `at` is not before `earlier`, at the minute a person enters times with."""
    return minute_of(at) >= minute_of(earlier)


def check_not_future(at: datetime, now: datetime, what: str) -> None:
    """Refuse a time more than `FUTURE_TOLERANCE` ahead of the clock's `now`."""
    if require_aware(at, "event time") > now + FUTURE_TOLERANCE:
        raise EventTimeRefused(
            f"{what} at {format_instant(at)} is in the future: it is now {format_instant(now)}. "
            f"Record it once it has happened, at the time it happened (up to "
            f"{int(FUTURE_TOLERANCE.total_seconds() // 60)} min ahead is taken as clock drift)"
        )


def check_in_order(at: datetime, last_at: datetime, what: str) -> None:
    """Refuse a time before the last event's, compared at the minute."""
    if not not_before(at, last_at):
        raise EventTimeRefused(
            f"{what} at {format_instant(at)} is before the last event recorded, at "
            f"{format_instant(last_at)}; give the time it happened, or correct the earlier entry"
        )


@dataclass(frozen=True, slots=True)
class DoseRoute:
    """What the network and the placement say about making and carrying one dose: the batch's
    start, the site's QC time and the lane's scheduled transit."""

    batch_id: str
    batch_start_at: datetime
    qc_release: timedelta
    lane_id: str
    transit: timedelta

    @property
    def fastest_transit(self) -> timedelta:
        return self.transit * FASTEST_TRANSIT_SHARE


def check_production(at: datetime, route: DoseRoute) -> None:
    """A dose's production starts with its batch, not before."""
    if not not_before(at, route.batch_start_at):
        raise EventTimeRefused(
            f"production at {format_instant(at)} is before batch {route.batch_id} starts, at "
            f"{format_instant(route.batch_start_at)}; record it once the batch has started"
        )


def check_release(at: datetime, recorded: DoseRecord, route: DoseRoute) -> None:
    """Release after QC, which takes the site's QC time from the recorded start of production."""
    started = recorded.production_started_at
    if started is None:
        raise EventTimeRefused("no production start is recorded for this dose; record it before release")
    earliest = started + route.qc_release
    if not not_before(at, earliest):
        raise EventTimeRefused(
            f"release at {format_instant(at)} is before QC can end: production was recorded at "
            f"{format_instant(started)} and QC takes {_hours(route.qc_release)}, so the earliest "
            f"release is {format_instant(earliest)}; record the release once QC has passed"
        )


def check_shipping(at: datetime, recorded: DoseRecord) -> None:
    """A dose leaves after its recorded release."""
    if recorded.released_at is None:
        raise EventTimeRefused("no release is recorded for this dose; release it before shipping")
    if not not_before(at, recorded.released_at):
        raise EventTimeRefused(
            f"shipping at {format_instant(at)} is before the release recorded at "
            f"{format_instant(recorded.released_at)}; give the time the courier took the dose"
        )


def check_delivery(at: datetime, recorded: DoseRecord, route: DoseRoute) -> None:
    """A dose arrives no sooner than the recorded departure plus the fastest plausible transit."""
    shipped = recorded.shipped_at
    if shipped is None:
        raise EventTimeRefused("no departure is recorded for this dose; record the shipping first")
    earliest = shipped + route.fastest_transit
    if not not_before(at, earliest):
        raise EventTimeRefused(
            f"delivery at {format_instant(at)} is too soon after the departure recorded at "
            f"{format_instant(shipped)}: lane {route.lane_id} takes {_hours(route.transit)}, and "
            f"no courier is faster than {_hours(route.fastest_transit)}, so the earliest delivery "
            f"is {format_instant(earliest)}; record the time the dose was received"
        )


def check_administration(at: datetime, recorded: DoseRecord) -> None:
    """A dose is given after its recorded delivery to the centre."""
    if recorded.delivered_at is None:
        raise EventTimeRefused(
            "no delivery is recorded for this dose; the manufacturer records it when the dose arrives"
        )
    if not not_before(at, recorded.delivered_at):
        raise EventTimeRefused(
            f"administration at {format_instant(at)} is before the dose's delivery, recorded at "
            f"{format_instant(recorded.delivered_at)}; give the time the dose was given"
        )


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} h"


def check_dose_record(record: DoseRecord, route: DoseRoute) -> None:
    """Every step recorded of one dose against its route and the steps before it (after a
    correction, the whole record is checked again)."""
    if record.production_started_at is not None:
        check_production(record.production_started_at, route)
    if record.released_at is not None:
        check_release(record.released_at, record, route)
    if record.shipped_at is not None:
        check_shipping(record.shipped_at, record)
    if record.delivered_at is not None:
        check_delivery(record.delivered_at, record, route)
    if record.administered_at is not None:
        check_administration(record.administered_at, record)
