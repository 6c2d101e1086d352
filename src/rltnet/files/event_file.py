"""The event file of `rltnet plan replan`: what failed, and when it was declared.

```yaml
now: 2027-01-12T08:00Z          # when the events are declared; new batches start after it
events:
  - {kind: reactor_outage, reactor: hfr-petten, start: 2027-01-12T00:00Z, end: 2027-01-26T00:00Z}
  - {kind: batch_failed, batch: ivrea-20270113-0600, reason: sterility test}
  - {kind: lane_cancelled, lane: ivrea-leeds, start: 2027-01-13T00:00Z, end: 2027-01-14T00:00Z}
  - {kind: lane_delayed, lane: ivrea-leeds, start: 2027-01-13T00:00Z, end: 2027-01-14T00:00Z, delay: 6 h}
  - {kind: order_cancelled, order: O000123}
  - {kind: no_show, order: O000124}
  - {kind: centre_closed, centre: leeds, date: 2027-01-14}
```
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from rltnet.files.fields import AwareDatetime, DurationText, FieldProblem, FileModel
from rltnet.files.problems import read_yaml, validate
from rltnet.planning.replan import (
    BatchFailed,
    CentreClosed,
    Event,
    LaneCancelled,
    LaneDelayed,
    NoShow,
    OrderCancelled,
    ReactorOutage,
)


class _Period(FileModel):
    start: AwareDatetime = Field(description="first instant, with its UTC offset, e.g. 2027-01-12T00:00Z")
    end: AwareDatetime = Field(description="the instant it is over, after 'start'")
    reason: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> _Period:
        if self.end <= self.start:
            raise FieldProblem("end", "'end' must be after 'start'")
        return self


class ReactorOutageFile(_Period):
    kind: Literal["reactor_outage"]
    reactor: str = Field(description="the reactor's id in the network")

    def to_event(self) -> Event:
        return ReactorOutage(self.reactor, self.start, self.end, self.reason)


class BatchFailedFile(FileModel):
    kind: Literal["batch_failed"]
    batch: str = Field(description="the batch id, as in plan.json, e.g. 'ivrea-20270113-0600'")
    reason: str = ""

    def to_event(self) -> Event:
        return BatchFailed(self.batch, self.reason)


class LaneCancelledFile(_Period):
    kind: Literal["lane_cancelled"]
    lane: str = Field(description="the lane's id in the network")

    def to_event(self) -> Event:
        return LaneCancelled(self.lane, self.start, self.end, self.reason)


class LaneDelayedFile(_Period):
    kind: Literal["lane_delayed"]
    lane: str = Field(description="the lane's id in the network")
    delay: DurationText = Field(description="how much longer departures in the period take, e.g. '6 h'")

    @model_validator(mode="after")
    def _late(self) -> LaneDelayedFile:
        if self.delay <= timedelta(0):
            raise FieldProblem("delay", "a delay is a positive duration, e.g. '6 h' or '1 h 30 min'")
        return self

    def to_event(self) -> Event:
        return LaneDelayed(self.lane, self.start, self.end, self.delay, self.reason)


class OrderCancelledFile(FileModel):
    kind: Literal["order_cancelled"]
    order: str = Field(description="the order id, as in plan.json")
    reason: str = ""

    def to_event(self) -> Event:
        return OrderCancelled(self.order, self.reason)


class NoShowFile(FileModel):
    kind: Literal["no_show"]
    order: str = Field(description="the order id of the patient who did not come")
    reason: str = ""

    def to_event(self) -> Event:
        return NoShow(self.order, self.reason)


class CentreClosedFile(FileModel):
    kind: Literal["centre_closed"]
    centre: str = Field(description="the centre's id in the network")
    day: date = Field(alias="date", description="the local date it is closed, e.g. 2027-01-14")
    reason: str = ""

    def to_event(self) -> Event:
        return CentreClosed(self.centre, self.day, self.reason)


EventFile = Annotated[
    ReactorOutageFile
    | BatchFailedFile
    | LaneCancelledFile
    | LaneDelayedFile
    | OrderCancelledFile
    | NoShowFile
    | CentreClosedFile,
    Field(discriminator="kind"),
]


class EventsFile(FileModel):
    now: AwareDatetime | None = Field(
        default=None, description="when the events are declared, e.g. 2027-01-12T08:00Z"
    )
    events: list[EventFile] = Field(min_length=1, description="at least one event")


def read_events(path: Path | str) -> tuple[list[Event], datetime | None]:
    """The events of a file and the moment they are declared (None if the file gives none)."""
    path = Path(path)
    parsed = validate(path, EventsFile, read_yaml(path))
    return [item.to_event() for item in parsed.events], parsed.now
