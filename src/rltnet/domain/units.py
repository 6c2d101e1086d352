"""Units as types: radioactivity, durations and time-zone-aware instants.

An `Activity` is stored in becquerels and reads and prints the units a nuclear
medicine department uses (``7.4 GBq``, ``200 mCi``, ``740 MBq``). Instants are
always time-zone aware: a naive datetime is refused, because a dose calibrated
at "09:00" in Ivrea and infused at "09:00" in London are an hour apart.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from rltnet.domain.errors import InvalidInput, NaiveDatetime

# 1 Ci = 3.7e10 Bq exactly (definition of the curie, BIPM SI Brochure, 9th ed., table 8).
BQ_PER_CI = 3.7e10

_BQ_PER_UNIT = {
    "bq": 1.0,
    "kbq": 1e3,
    "mbq": 1e6,  # millibecquerel is never meant in this field: 'mbq' reads as MBq
    "gbq": 1e9,
    "tbq": 1e12,
    "uci": BQ_PER_CI * 1e-6,
    "µci": BQ_PER_CI * 1e-6,
    "mci": BQ_PER_CI * 1e-3,
    "ci": BQ_PER_CI,
}
_SI_PRINT_UNITS = (("TBq", 1e12), ("GBq", 1e9), ("MBq", 1e6), ("kBq", 1e3), ("Bq", 1.0))
_ACTIVITY_TEXT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Zµ]+)\s*$")


@dataclass(frozen=True, order=True, slots=True)
class Activity:
    """A radioactivity, in becquerels (non-negative, finite).

    >>> Activity.parse("200 mCi")
    Activity(bq=7400000000.0)
    >>> str(Activity.from_gbq(7.4))
    '7.4 GBq'
    >>> round(Activity.parse("7.4 GBq").mci, 6)
    200.0
    """

    bq: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.bq) or self.bq < 0:
            raise InvalidInput(f"an activity must be finite and >= 0 Bq, got {self.bq!r}")

    @classmethod
    def from_gbq(cls, gbq: float) -> Activity:
        return cls(gbq * 1e9)

    @classmethod
    def from_mbq(cls, mbq: float) -> Activity:
        return cls(mbq * 1e6)

    @classmethod
    def from_kbq(cls, kbq: float) -> Activity:
        return cls(kbq * 1e3)

    @classmethod
    def from_mci(cls, mci: float) -> Activity:
        return cls(mci * BQ_PER_CI * 1e-3)

    @classmethod
    def parse(cls, text: str) -> Activity:
        """Read ``'7.4 GBq'``, ``'7.4GBq'``, ``'200 mCi'``, ``'740 MBq'`` (any case)."""
        match = _ACTIVITY_TEXT.match(text)
        unit = match.group(2).lower() if match else ""
        if match is None or unit not in _BQ_PER_UNIT:
            raise InvalidInput(
                f"cannot read activity {text!r}; write a number and a unit, "
                f"e.g. '7.4 GBq', '740 MBq', '200 mCi' (units: Bq, kBq, MBq, GBq, TBq, "
                f"uCi, mCi, Ci)"
            )
        return cls(float(match.group(1)) * _BQ_PER_UNIT[unit])

    @property
    def gbq(self) -> float:
        return self.bq / 1e9

    @property
    def mbq(self) -> float:
        return self.bq / 1e6

    @property
    def mci(self) -> float:
        return self.bq / (BQ_PER_CI * 1e-3)

    def __mul__(self, factor: float) -> Activity:
        return Activity(self.bq * factor)

    __rmul__ = __mul__

    def __add__(self, other: Activity) -> Activity:
        return Activity(self.bq + other.bq)

    def __sub__(self, other: Activity) -> Activity:
        return Activity(self.bq - other.bq)

    def __truediv__(self, other: Activity) -> float:
        return self.bq / other.bq

    def __str__(self) -> str:
        for unit, scale in _SI_PRINT_UNITS:
            if self.bq >= scale:
                return f"{self.bq / scale:.4g} {unit}"
        return f"{self.bq:.4g} Bq"


def require_aware(moment: datetime, name: str) -> datetime:
    """Return `moment` if it carries a time zone, else raise `NaiveDatetime` naming it."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise NaiveDatetime(name)
    return moment


def elapsed(start: datetime, end: datetime) -> timedelta:
    """Real time from `start` to `end`, in UTC.

    Python subtracts two datetimes of the same time zone by their wall clocks, which is
    an hour off across a clock change; converting to UTC first gives the real interval.
    """
    return require_aware(end, "end").astimezone(UTC) - require_aware(start, "start").astimezone(UTC)


def after(moment: datetime, span: timedelta) -> datetime:
    """The instant `span` of real time after `moment` (in UTC), whatever clocks do between."""
    return require_aware(moment, "moment").astimezone(UTC) + span


def format_local(moment: datetime, zone: ZoneInfo) -> str:
    """The instant on a place's wall clock, with the day and the zone's abbreviation, as the
    people there read it.

    >>> format_local(datetime(2026, 12, 9, 8, 0, tzinfo=UTC), ZoneInfo("Europe/London"))
    'Wed 09 Dec 2026 08:00 GMT'
    """
    local = require_aware(moment, "moment").astimezone(zone)
    return local.strftime("%a %d %b %Y %H:%M ") + (local.tzname() or zone.key)


def format_instant(moment: datetime) -> str:
    """ISO 8601 in UTC to the second, with a Z: the form rltnet prints instants in.

    >>> from datetime import timezone, timedelta
    >>> format_instant(datetime(2026, 3, 2, 10, 0, 30, 600000, tzinfo=timezone(timedelta(hours=1))))
    '2026-03-02T09:00:30Z'
    """
    utc = require_aware(moment, "moment").astimezone(UTC).replace(microsecond=0)
    return utc.isoformat().replace("+00:00", "Z")


def parse_instant(text: str, name: str = "time") -> datetime:
    """Read an ISO 8601 instant with its offset (``2026-03-02T09:00Z``); naive text is refused."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{name} {text!r} is not an ISO 8601 date-time; write e.g. '2026-03-02T09:00+00:00'"
        ) from None
    return require_aware(moment, name)


_DURATION_UNITS = {
    "min": timedelta(minutes=1),
    "minute": timedelta(minutes=1),
    "minutes": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "hour": timedelta(hours=1),
    "hours": timedelta(hours=1),
    "d": timedelta(days=1),
    "day": timedelta(days=1),
    "days": timedelta(days=1),
    "week": timedelta(weeks=1),
    "weeks": timedelta(weeks=1),
}
_DURATION_PART = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*([a-z]+)")
_DURATION_TEXT = re.compile(r"^(?:\s*[0-9]*\.?[0-9]+\s*[a-z]+)+\s*$")


def parse_duration(text: str) -> timedelta:
    """Read ``'120 h'``, ``'6 weeks'``, ``'30 min'``, ``'14 d'`` as a timedelta, and the
    compound form `format_duration` writes for a positive span (``'1 d 6 h'``, ``'1 h 30 min'``).

    >>> parse_duration("1.5 h")
    datetime.timedelta(seconds=5400)
    >>> parse_duration(format_duration(timedelta(hours=30)))
    datetime.timedelta(days=1, seconds=21600)
    """
    lowered = text.lower().strip()
    parts = _DURATION_PART.findall(lowered)
    if _DURATION_TEXT.match(lowered) is None or any(unit not in _DURATION_UNITS for _, unit in parts):
        raise InvalidInput(
            f"cannot read duration {text!r}; write a number and a unit, "
            f"e.g. '30 min', '120 h', '14 d', '6 weeks', or several ('1 d 6 h')"
        )
    return sum((float(number) * _DURATION_UNITS[unit] for number, unit in parts), timedelta(0))


def format_duration(span: timedelta) -> str:
    """Print a duration the way a coordinator says it (``'2 d 3 h'``, ``'45 min'``)."""
    minutes = round(span.total_seconds() / 60)
    sign, minutes = ("-", -minutes) if minutes < 0 else ("", minutes)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{mins} min"] * bool(mins)
    return sign + (" ".join(parts) or "0 min")
