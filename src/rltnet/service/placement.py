"""Placing one order the moment it is submitted, against what the database has booked.

The order's options come from the planner (`planning.candidates`: sessions its
centre can offer in its window, each with the supplies that reach it, around the
disruptions declared so far), cheapest first (the planner's cost: days from the
preferred day, then activity made beyond the prescription). One read of the
batches, centre-days and appointments they touch skips the options already taken;
the rest are tried in turn, reserving atomically:

1. a dose of the batch: ``UPDATE batches SET booked = booked + 1 WHERE booked < capacity``;
2. the activity of the centre's day against its permit, by a conditional update of
   the centre-day row, which also locks that row so bookings at one centre on one
   day are serialised (on SQLite every write transaction is, by BEGIN IMMEDIATE);
3. a chair free for the whole appointment, then the dose, shipment and appointment.

If a reservation fails (another request took it since the read), what this option
took is given back by the opposite update and the next option is tried, so
concurrent submissions never overbook a batch, a chair or a permit. Isotope stock
is not reserved here: the full planner (`POST /plan/optimise`, a declared
disruption) accounts for it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import numpy as np
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from rltnet.domain.network import Network
from rltnet.domain.orders import DoseOrder
from rltnet.domain.products import Catalogue
from rltnet.domain.units import Activity, after
from rltnet.planning.candidates import Candidates
from rltnet.planning.explain import diagnose, window_days
from rltnet.planning.plan import Placement
from rltnet.planning.problem import PlanningProblem
from rltnet.planning.replan import Event, disruptions_of, with_outages
from rltnet.service.disruptions import stored_events
from rltnet.store import tables

SPAN = timedelta(weeks=14)  # the sessions kept per centre and product: any order window within reach
TABLES_CACHED = 256  # (centre, product, hour, disruptions) whose sessions and supplies are kept
# Core tables: the counters are updated without the ORM's bookkeeping, which costs more than the SQL
BATCHES: Table = tables.Batch.__table__  # type: ignore[assignment]
CENTRE_DAYS: Table = tables.CentreDay.__table__  # type: ignore[assignment]


APPOINTMENTS: Table = tables.Appointment.__table__  # type: ignore[assignment]
DOSES: Table = tables.Dose.__table__  # type: ignore[assignment]
SHIPMENTS: Table = tables.Shipment.__table__  # type: ignore[assignment]

# The statements every placement runs, built once: building and keying them per order costs
# more CPU than running them.
_BATCHES_BETWEEN = (
    select(BATCHES.c.id, BATCHES.c.booked, BATCHES.c.capacity, BATCHES.c.failed)
    .where(BATCHES.c.start_at >= bindparam("first"))
    .where(BATCHES.c.start_at <= bindparam("last"))
)
_CENTRE_DAYS_BETWEEN = (
    select(CENTRE_DAYS.c.day, CENTRE_DAYS.c.activity_bq)
    .where(CENTRE_DAYS.c.centre_id == bindparam("centre"))
    .where(CENTRE_DAYS.c.day >= bindparam("first"))
    .where(CENTRE_DAYS.c.day <= bindparam("last"))
)
_APPOINTMENTS_OVERLAPPING = (
    select(APPOINTMENTS.c.start_at, APPOINTMENTS.c.end_at)
    .where(APPOINTMENTS.c.centre_id == bindparam("centre"))
    .where(APPOINTMENTS.c.start_at < bindparam("end"))
    .where(APPOINTMENTS.c.end_at > bindparam("start"))
)
_CHAIRS_BUSY = (
    select(APPOINTMENTS.c.chair)
    .where(APPOINTMENTS.c.centre_id == bindparam("centre"))
    .where(APPOINTMENTS.c.start_at < bindparam("end"))
    .where(APPOINTMENTS.c.end_at > bindparam("start"))
)
_TAKE_DOSE = (
    update(BATCHES)
    .where(BATCHES.c.id == bindparam("batch"))
    .where(BATCHES.c.booked < BATCHES.c.capacity)
    .where(BATCHES.c.failed.is_(False))
    .values(booked=BATCHES.c.booked + 1)
)
_TAKE_ACTIVITY = (
    update(CENTRE_DAYS)
    .where(CENTRE_DAYS.c.centre_id == bindparam("centre"))
    .where(CENTRE_DAYS.c.day == bindparam("on_day"))
    .where(CENTRE_DAYS.c.activity_bq + bindparam("bq") <= bindparam("limit"))
    .values(activity_bq=CENTRE_DAYS.c.activity_bq + bindparam("bq"))
)

_GIVE_DOSE = update(BATCHES).where(BATCHES.c.id == bindparam("batch")).values(booked=BATCHES.c.booked - 1)
_GIVE_ACTIVITY = (
    update(CENTRE_DAYS)
    .where(CENTRE_DAYS.c.centre_id == bindparam("centre"))
    .where(CENTRE_DAYS.c.day == bindparam("on_day"))
    .values(activity_bq=CENTRE_DAYS.c.activity_bq - bindparam("bq"))
)


@dataclass(frozen=True, slots=True)
class Option:
    site_id: str
    batch_id: str
    batch_start_at: datetime
    released_at: datetime
    batch_capacity: int
    lane_id: str
    departs_at: datetime
    arrives_at: datetime
    centre_id: str
    start_at: datetime
    end_at: datetime
    administration_at: datetime
    made_bq: float


@dataclass(frozen=True, slots=True)
class Placed:
    option: Option
    chair: int


class _Taken(Exception):
    """A reservation failed: roll the savepoint back and try the next option."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


@dataclass(frozen=True, slots=True)
class _Booked:
    """What the database holds on the batches, days and chairs an order's options touch."""

    batches: dict[str, tuple[int, int, bool]]  # id -> booked, capacity, failed
    activity_bq: dict[date, float]
    appointments: list[tuple[datetime, datetime]]

    def why_not(self, option: Option, day: date, bq: float, limit_bq: float, chairs: int) -> str | None:
        booked, capacity, failed = self.batches.get(option.batch_id, (0, option.batch_capacity, False))
        if failed:
            return "batch failed"
        if booked >= capacity:
            return "batch full"
        if self.activity_bq.get(day, 0.0) + bq > limit_bq:
            return "daily activity limit reached"
        overlapping = sum(1 for s, e in self.appointments if s < option.end_at and e > option.start_at)
        return "no chair free" if overlapping >= chairs else None


class Placer:
    """Instant placement of single orders on a network."""

    def __init__(self, network: Network, catalogue: Catalogue) -> None:
        self.network = network
        self.catalogue = catalogue
        self._cached_tables = lru_cache(maxsize=TABLES_CACHED)(self._tables)

    def prepare(self, hour: datetime, events: Sequence[Event] = ()) -> int:
        """Build the tables of every centre and product for `hour` before its orders come, so
        no order waits for a build (tens of ms each); the number built."""
        hour = hour.replace(minute=0, second=0, microsecond=0)
        built = 0
        for centre in self.network.centres.values():
            for product_id in centre.products:
                if product_id in self.catalogue.therapies:
                    self._cached_tables(centre.centre_id, product_id, hour, tuple(events))
                    built += 1
        return built

    def options(
        self, order: DoseOrder, now: datetime, events: Sequence[Event] = ()
    ) -> tuple[list[Option], str | None]:
        """The order's options around the declared `events`, cheapest first, or none and why.

        The sessions and supplies of the order's centre and product over the next weeks
        are built once an hour (`planning.candidates`); each order then only filters and
        costs them for its own window (NumPy). Options whose batch would start before
        `now` are dropped.
        """
        hour = now.replace(minute=0, second=0, microsecond=0)
        if order.latest_at <= hour + SPAN:
            candidates = self._cached_tables(order.centre_id, order.product_id, hour, tuple(events))
        else:  # a window beyond the hour's tables: its own
            candidates = self._tables(order.centre_id, order.product_id, hour, tuple(events), order.latest_at)
        sessions, supplies, cost, made = candidates.order_options(order)
        if sessions.size == 0:
            return [], diagnose(candidates, order, window_days(candidates, order))
        ranked = np.lexsort((sessions, cost))
        options = [
            self._option(candidates, int(sessions[k]), int(supplies[k]), float(made[k])) for k in ranked
        ]
        return [o for o in options if o.batch_start_at >= now], None

    def _tables(
        self,
        centre_id: str,
        product_id: str,
        start: datetime,
        events: tuple[Event, ...],
        end: datetime | None = None,
    ) -> Candidates:
        """Sessions and supplies of a centre and product from `start` for `SPAN` (or to `end`)."""
        network = with_outages(self.network, events) if events else self.network
        span = DoseOrder(
            order_id="span",
            patient_id="span",
            product_id=product_id,
            cycle=1,
            centre_id=centre_id,
            earliest_at=start,
            latest_at=end or start + SPAN,
            preferred_at=start,
            prescribed=Activity(1.0),  # the tables do not depend on the activity
            placed_at=start,
        )
        problem = PlanningProblem(
            network, self.catalogue, (span,), now=start, disruptions=disruptions_of(events)
        )
        return Candidates(problem)

    def _option(self, c: Candidates, session_index: int, supply_index: int, made_bq: float) -> Option:
        session = c.sessions[session_index]
        supply = c.supplies[supply_index]
        batch = c.batches[supply.batch]
        return Option(
            site_id=batch.site_id,
            batch_id=batch.batch_id,
            batch_start_at=batch.start_at,
            released_at=batch.released_at,
            batch_capacity=batch.capacity,
            lane_id=supply.lane_id,
            departs_at=supply.departs_at,
            arrives_at=supply.arrives_at,
            centre_id=session.centre_id,
            start_at=session.start_at,
            end_at=session.end_at,
            administration_at=session.administration_at,
            made_bq=made_bq,
        )

    def place(self, session: Session, order: DoseOrder, now: datetime) -> Placed | str:
        """Reserve the first option that fits and write its dose, shipment and appointment;
        or say why none could be placed."""
        options, reason = self.options(order, now, stored_events(session))
        if not options:
            return reason or "no option inside the order's window"
        centre = self.network.centres[order.centre_id]
        booked = self._booked(session, centre.centre_id, options)
        refused: Counter[str] = Counter()
        for option in options:
            day = centre.calendar.local_date(option.start_at)
            why = booked.why_not(
                option, day, order.prescribed.bq, centre.daily_activity_limit.bq, centre.chairs
            )
            if why is not None:
                refused[why] += 1
                continue
            try:
                known = (option.batch_id in booked.batches, day in booked.activity_bq)
                chair = self._reserve(session, order, option, day, known)
            except _Taken as taken:
                refused[taken.what] += 1
                continue
            self._write(session, order, option, chair)
            return Placed(option, chair)
        listed = ", ".join(f"{what} ({n})" for what, n in refused.most_common())
        return f"every option is taken: {listed}"

    def _booked(self, session: Session, centre_id: str, options: list[Option]) -> _Booked:
        """One read of what the options touch, by ranges rather than lists of ids: an order has
        hundreds of options, and binding each id costs more than reading a few rows too many."""
        calendar = self.network.centres[centre_id].calendar
        first = min(o.start_at for o in options)
        last = max(o.end_at for o in options)
        batches = session.execute(
            _BATCHES_BETWEEN,
            {
                "first": min(o.batch_start_at for o in options),
                "last": max(o.batch_start_at for o in options),
            },
        )
        activity = session.execute(
            _CENTRE_DAYS_BETWEEN,
            {"centre": centre_id, "first": calendar.local_date(first), "last": calendar.local_date(last)},
        )
        appointments = session.execute(
            _APPOINTMENTS_OVERLAPPING, {"centre": centre_id, "start": first, "end": last}
        )
        return _Booked(
            {row.id: (row.booked, row.capacity, row.failed) for row in batches},
            {row.day: row.activity_bq for row in activity},
            [(row.start_at, row.end_at) for row in appointments],
        )

    def _reserve(
        self, session: Session, order: DoseOrder, option: Option, day: date, known: tuple[bool, bool]
    ) -> int:
        """Take a dose of the batch, the day's activity and a chair, or raise `_Taken` having
        given back what it took (no savepoint: a failure is rare, two statements on every
        order are not).

        `known` says whether the batch and centre-day rows were read already, so exist.
        """
        if not known[0]:
            self._ensure(
                session,
                BATCHES,
                self._batch_row(
                    option.batch_id, option.site_id, option.batch_start_at, option.batch_capacity
                ),
            )
        booked = session.execute(_TAKE_DOSE, {"batch": option.batch_id})
        if booked.rowcount != 1:  # type: ignore[attr-defined]
            raise _Taken("batch full")
        centre = self.network.centres[order.centre_id]
        if not known[1]:
            self._ensure(
                session, CENTRE_DAYS, {"centre_id": centre.centre_id, "day": day, "activity_bq": 0.0}
            )
        dose = {"batch": option.batch_id}
        activity = {"centre": centre.centre_id, "on_day": day, "bq": order.prescribed.bq}
        permitted = session.execute(_TAKE_ACTIVITY, {**activity, "limit": centre.daily_activity_limit.bq})
        if permitted.rowcount != 1:  # type: ignore[attr-defined]
            session.execute(_GIVE_DOSE, dose)
            raise _Taken("daily activity limit reached")
        busy = set(
            session.scalars(
                _CHAIRS_BUSY, {"centre": centre.centre_id, "start": option.start_at, "end": option.end_at}
            )
        )
        chair = next((c for c in range(1, centre.chairs + 1) if c not in busy), None)
        if chair is None:
            session.execute(_GIVE_DOSE, dose)
            session.execute(_GIVE_ACTIVITY, activity)
            raise _Taken("no chair free")
        return chair

    @staticmethod
    def _batch_row(batch_id: str, site_id: str, start_at: datetime, capacity: int) -> dict[str, object]:
        return {
            "id": batch_id,
            "site_id": site_id,
            "start_at": start_at,
            "capacity": capacity,
            "booked": 0,
            "failed": False,
        }

    def _write(
        self,
        session: Session,
        order: DoseOrder,
        option: Option,
        chair: int,
        delay_reason: str | None = None,
        dose_of: str | None = None,
    ) -> None:
        product = self.catalogue.therapy(order.product_id)
        # Core inserts: three rows an order, without the ORM's unit-of-work bookkeeping
        session.execute(
            insert(DOSES),
            {
                "order_id": order.order_id,
                "batch_id": option.batch_id,
                "site_id": option.site_id,
                "calibration_at": option.batch_start_at,
                "calibration_bq": option.made_bq,
                "released_at": option.released_at,
                "expiry_at": after(option.batch_start_at, product.shelf_life),
                "dose_of": dose_of,
            },
        )
        session.execute(
            insert(SHIPMENTS),
            {
                "order_id": order.order_id,
                "lane_id": option.lane_id,
                "departs_at": option.departs_at,
                "arrives_at": option.arrives_at,
                "status": "planned",
            },
        )
        session.execute(
            insert(APPOINTMENTS),
            {
                "order_id": order.order_id,
                "centre_id": option.centre_id,
                "chair": chair,
                "start_at": option.start_at,
                "end_at": option.end_at,
                "administration_at": option.administration_at,
                "delay_reason": delay_reason,
            },
        )

    def book(self, session: Session, placement: Placement, batch_capacity: int) -> None:
        """Write a placement the full planner chose, counting it against its batch and centre-day.

        The planner has already checked every capacity over the whole plan, so nothing
        is conditional here; the caller holds the transaction that makes the plan whole.
        """
        order = placement.order
        row = self._batch_row(placement.batch_id, placement.site_id, placement.batch_start_at, batch_capacity)
        self._ensure(session, BATCHES, row)
        session.execute(
            update(BATCHES).where(BATCHES.c.id == placement.batch_id).values(booked=BATCHES.c.booked + 1)
        )
        centre = self.network.centres[order.centre_id]
        day = centre.calendar.local_date(placement.appointment_at)
        self._ensure(session, CENTRE_DAYS, {"centre_id": centre.centre_id, "day": day, "activity_bq": 0.0})
        session.execute(
            update(CENTRE_DAYS)
            .where(CENTRE_DAYS.c.centre_id == centre.centre_id)
            .where(CENTRE_DAYS.c.day == day)
            .values(activity_bq=CENTRE_DAYS.c.activity_bq + order.prescribed.bq)
        )
        option = Option(
            site_id=placement.site_id,
            batch_id=placement.batch_id,
            batch_start_at=placement.batch_start_at,
            released_at=placement.released_at,
            batch_capacity=batch_capacity,
            lane_id=placement.lane_id,
            departs_at=placement.departs_at,
            arrives_at=placement.arrives_at,
            centre_id=placement.centre_id,
            start_at=placement.appointment_at,
            end_at=placement.appointment_end_at,
            administration_at=placement.administration_at,
            made_bq=placement.calibration_activity.bq,
        )
        self._write(session, order, option, placement.chair, placement.delay_reason, placement.dose_of)

    @staticmethod
    def _ensure(session: Session, table: Table, values: dict[str, object]) -> None:
        """Insert the row unless it exists (concurrent inserts of one row are harmless)."""
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(insert(table).values(**values).on_conflict_do_nothing())

    def release(self, session: Session, order_id: str, prescribed_bq: float) -> None:
        """Give back what an order's placement holds (cancelled, adjusted, re-planned)."""
        dose = session.get(tables.Dose, order_id)
        appointment = session.get(tables.Appointment, order_id)
        if dose is not None:
            session.execute(
                update(BATCHES).where(BATCHES.c.id == dose.batch_id).values(booked=BATCHES.c.booked - 1)
            )
            session.delete(dose)
        if appointment is not None:
            centre = self.network.centres[appointment.centre_id]
            day = centre.calendar.local_date(appointment.start_at)
            session.execute(
                update(CENTRE_DAYS)
                .where(CENTRE_DAYS.c.centre_id == appointment.centre_id)
                .where(CENTRE_DAYS.c.day == day)
                .values(activity_bq=CENTRE_DAYS.c.activity_bq - prescribed_bq)
            )
            session.delete(appointment)
        shipment = session.get(tables.Shipment, order_id)
        if shipment is not None:
            session.delete(shipment)
        session.flush()
