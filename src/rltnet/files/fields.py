"""Field types shared by rltnet's data files: activities, durations, clock times, weekdays.

Each reads the text a person writes in YAML (``7.4 GBq``, ``120 h``, ``'14:00'``,
``mon-fri``) and refuses anything else with a message that says how to write it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, PlainSerializer, PlainValidator

from rltnet.domain.products import Weekday
from rltnet.domain.units import Activity, format_duration, parse_duration


class FieldProblem(ValueError):
    """A rule checked across fields, reported at the one field to change.

    `path` leads from the model that checks the rule to that field, e.g.
    ``("closes",)`` or ``("tolerance_percent", "value")``.
    """

    def __init__(self, path: str | tuple[str, ...], message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.path = (path,) if isinstance(path, str) else path
        self.fix = fix


class FileModel(BaseModel):
    """Base of every data-file section: unknown fields are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _activity(value: Any) -> Activity:
    if isinstance(value, Activity):
        return value
    if not isinstance(value, str):
        raise ValueError(f"write an activity with its unit, e.g. '7.4 GBq' or '740 MBq', not {value!r}")
    return Activity.parse(value)


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(f"write a duration with its unit, e.g. '30 min', '120 h', '14 d', not {value!r}")
    return parse_duration(value)


def _clock(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int):  # YAML 1.1 reads an unquoted 14:00 as the number 840
        raise ValueError("quote clock times, e.g. '14:00' (unquoted, YAML reads them as numbers)")
    if isinstance(value, str) and re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value.strip()):
        hours, minutes = value.strip().split(":")
        return time(int(hours), int(minutes))
    raise ValueError(f"write a local clock time as 'HH:MM' between '00:00' and '23:59', not {value!r}")


def _time_zone(value: Any) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}; use an IANA name such as 'Europe/London' or 'America/New_York'"
        ) from None


_DATE_SHAPED = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _aware_datetime(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as err:
            if _DATE_SHAPED.match(value):  # the right shape, an impossible day or time (2027-02-30)
                raise ValueError(f"{value!r} is not a day on the calendar or a time of day ({err})") from None
            moment = None
    if moment is None or (isinstance(value, date) and not isinstance(value, datetime)):
        raise ValueError(f"write an instant as '2026-03-02T09:00+01:00', not {value!r}")
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset; write e.g. '2026-03-02T09:00+01:00'")
    return moment


_DAY_NAMES = {d.name[:3].lower(): d for d in Weekday} | {d.name.lower(): d for d in Weekday}


def _weekday(value: Any) -> Weekday:
    if isinstance(value, Weekday):
        return value
    found = _DAY_NAMES.get(str(value).strip().lower())
    if found is None:
        raise ValueError(f"unknown weekday {value!r}; write mon, tue, wed, thu, fri, sat or sun")
    return found


def _weekdays(value: Any) -> frozenset[Weekday]:
    """A list of days, or a range ``'mon-fri'``."""
    if isinstance(value, str) and "-" in value:
        first, last = (_weekday(part) for part in value.split("-", 1))
        if last < first:
            raise ValueError(f"weekday range {value!r} runs backwards; write e.g. 'mon-fri'")
        return frozenset(Weekday(d) for d in range(first, last + 1))
    if isinstance(value, str):
        return frozenset({_weekday(value)})
    if isinstance(value, list | tuple | set | frozenset) and value:
        return frozenset(_weekday(v) for v in value)
    raise ValueError(f"write weekdays as a list [mon, wed] or a range 'mon-fri', not {value!r}")


ActivityText = Annotated[Activity, PlainValidator(_activity), PlainSerializer(str)]
DurationText = Annotated[timedelta, PlainValidator(_duration), PlainSerializer(format_duration)]
ClockText = Annotated[time, PlainValidator(_clock), PlainSerializer(lambda t: t.strftime("%H:%M"))]
TimeZoneText = Annotated[ZoneInfo, PlainValidator(_time_zone), PlainSerializer(str)]
AwareDatetime = Annotated[datetime, PlainValidator(_aware_datetime), PlainSerializer(datetime.isoformat)]
WeekdayText = Annotated[Weekday, PlainValidator(_weekday), PlainSerializer(lambda d: d.name[:3].lower())]
WeekdaysText = Annotated[
    frozenset[Weekday],
    PlainValidator(_weekdays),
    PlainSerializer(lambda days: [d.name[:3].lower() for d in sorted(days)]),
]
