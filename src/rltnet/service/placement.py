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

`place_many` places the orders of one transaction together (the service's group
commit) in a fixed number of statements: one read, each order's option and chair
chosen in memory against it and against the orders before it, the counters read
again while locking their rows, in key order (two batches never wait on each other
in a circle), then moved by one statement each. An order that no longer fits,
because a writer that did not take the placement lock (below) took the capacity
since the read, takes nothing there and is placed alone, as above.

On PostgreSQL every placement, booking and release first takes one transaction-level
advisory lock (`serialise`), held to the commit: they run one at a time, so a read
made under it is exact and no two of them wait on each other's rows in a circle
(a deadlock PostgreSQL would break by failing one). The rest of a transaction (the
order, its events, the audit) runs in parallel. On SQLite every write transaction
is serial already.

The one lock order, everywhere (group commit, a change of one order, a re-plan):
the patients' rows, then the placement lock, then the orders' rows, then the batch
and centre-day rows in key order (`usecases.orders.changing`). The database's CHECK
constraints are the last guard: no batch's booked count below 0 or over its
capacity, no centre-day's activity below 0.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from sqlalchemy import Table, bindparam, func, select, update
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
from rltnet.store.bulk import insert_rows

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
_BATCHES_NAMED = select(BATCHES.c.id, BATCHES.c.booked, BATCHES.c.capacity, BATCHES.c.failed).where(
    BATCHES.c.id.in_(bindparam("ids", expanding=True))
)
_CENTRE_DAYS_BETWEEN = (
    select(CENTRE_DAYS.c.centre_id, CENTRE_DAYS.c.day, CENTRE_DAYS.c.activity_bq)
    .where(CENTRE_DAYS.c.centre_id.in_(bindparam("centres", expanding=True)))
    .where(CENTRE_DAYS.c.day >= bindparam("first"))
    .where(CENTRE_DAYS.c.day <= bindparam("last"))
)
# the same reads, locking the rows in key order (a batch of orders' guard read)
_BATCHES_LOCKED = _BATCHES_NAMED.order_by(BATCHES.c.id).with_for_update()
_CENTRE_DAYS_LOCKED = _CENTRE_DAYS_BETWEEN.order_by(
    CENTRE_DAYS.c.centre_id, CENTRE_DAYS.c.day
).with_for_update()
_APPOINTMENTS_OVERLAPPING = (
    select(APPOINTMENTS.c.centre_id, APPOINTMENTS.c.chair, APPOINTMENTS.c.start_at, APPOINTMENTS.c.end_at)
    .where(APPOINTMENTS.c.centre_id.in_(bindparam("centres", expanding=True)))
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

# the advisory lock that serialises placements on PostgreSQL: any fixed 64-bit key
PLACEMENT_LOCK = 0x726C746E6574  # "rltnet"
_SERIALISE = select(func.pg_advisory_xact_lock(PLACEMENT_LOCK))
# a batch of orders moves each counter once, by its total, and checks the sum under the lock
_ADD_DOSES = (
    update(BATCHES).where(BATCHES.c.id == bindparam("batch")).values(booked=BATCHES.c.booked + bindparam("n"))
)
_ADD_ACTIVITY = (
    update(CENTRE_DAYS)
    .where(CENTRE_DAYS.c.centre_id == bindparam("centre"))
    .where(CENTRE_DAYS.c.day == bindparam("on_day"))
    .values(activity_bq=CENTRE_DAYS.c.activity_bq + bindparam("bq"))
)
_GIVE_DOSE = update(BATCHES).where(BATCHES.c.id == bindparam("batch")).values(booked=BATCHES.c.booked - 1)
_GIVE_ACTIVITY = (
    update(CENTRE_DAYS)
    .where(CENTRE_DAYS.c.centre_id == bindparam("centre"))
    .where(CENTRE_DAYS.c.day == bindparam("on_day"))
    .values(activity_bq=CENTRE_DAYS.c.activity_bq - bindparam("bq"))
)


def option_of(c: Candidates, session_index: int, supply_index: int, made_bq: float) -> Option:
    """The option of a session and a supply of the placement tables `c`."""
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


@dataclass(frozen=True, slots=True)
class Ranked:
    """An order's options at one centre, cheapest first, as columns: each `Option` is built
    only when looked at (an order has hundreds, and most take one of the first)."""

    candidates: Candidates
    centre_id: str
    sessions: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    supplies: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    made_bq: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    def __len__(self) -> int:
        return len(self.sessions)

    def __iter__(self) -> Iterator[Option]:
        c = self.candidates
        columns = (self.sessions.tolist(), self.supplies.tolist(), self.made_bq.tolist())
        for session_index, supply_index, made in zip(*columns, strict=True):
            yield option_of(c, session_index, supply_index, made)

    def span(self) -> tuple[datetime, datetime, datetime, datetime]:
        """The first session start, the last session end, the first and last batch start; a
        second wider each way (the instants go through floats, and a row more is harmless)."""
        starts, ends = self.candidates.session_times_s
        batches = self.candidates.supply_batch_start_s[self.supplies]
        seconds = (
            starts[self.sessions].min() - 1,
            ends[self.sessions].max() + 1,
            batches.min() - 1,
            batches.max() + 1,
        )
        first, last, first_batch, last_batch = (datetime.fromtimestamp(float(t), UTC) for t in seconds)
        return first, last, first_batch, last_batch


def serialise(session: Session) -> None:
    """Wait for, then hold to the commit, the placement lock (PostgreSQL; see the module's notes)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_SERIALISE)


class Option(NamedTuple):
    """A way to give an order its dose: a batch's dose, its departure, a session at the centre.

    A named tuple, not a frozen dataclass: an order ranks hundreds, and this builds in a
    fifth of the time (0.35 against 1.7 microseconds)."""

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


@dataclass(slots=True)
class _Booked:
    """What the database holds on the batches, centre-days and chairs some options touch,
    plus what the orders placed before in the same batch took."""

    batches: dict[str, tuple[int, int, bool]]  # id -> booked, capacity, failed
    activity_bq: dict[tuple[str, date], float]  # (centre, local day) -> booked
    appointments: dict[str, list[tuple[int, datetime, datetime]]]  # centre -> (chair, start, end)

    def fit(self, option: Option, day: date, bq: float, limit_bq: float, chairs: int) -> int | str:
        """The lowest chair free for the option's whole appointment, if its batch and the
        day's activity permit have room; else why the option does not fit."""
        booked, capacity, failed = self.batches.get(option.batch_id, (0, option.batch_capacity, False))
        if failed:
            return "batch failed"
        if booked >= capacity:
            return "batch full"
        if self.activity_bq.get((option.centre_id, day), 0.0) + bq > limit_bq:
            return "daily activity limit reached"
        taken = self.appointments.get(option.centre_id, ())
        busy = {chair for chair, s, e in taken if s < option.end_at and e > option.start_at}
        return next((c for c in range(1, chairs + 1) if c not in busy), "no chair free")

    def take(self, option: Option, day: date, bq: float, chair: int) -> None:
        """Count an option chosen in memory, for the orders after it."""
        booked, capacity, failed = self.batches.get(option.batch_id, (0, option.batch_capacity, False))
        self.batches[option.batch_id] = (booked + 1, capacity, failed)
        self.activity_bq[(option.centre_id, day)] = self.activity_bq.get((option.centre_id, day), 0.0) + bq
        self.appointments.setdefault(option.centre_id, []).append((chair, option.start_at, option.end_at))


@dataclass(frozen=True, slots=True)
class _Found:
    """The batch and centre-day rows the read found: the others are created before use."""

    batches: set[str]
    centre_days: set[tuple[str, date]]


@dataclass(frozen=True, slots=True)
class _Pick:
    """An order of a batch and the option and chair chosen for it in memory."""

    index: int
    order: DoseOrder
    option: Option
    day: date
    chair: int


@dataclass(slots=True)
class _Reserved:
    """The picks whose reservations hold under the locks, and those that must be placed alone."""

    kept: list[_Pick] = field(default_factory=list)
    dropped: list[_Pick] = field(default_factory=list)


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
    ) -> tuple[Ranked, str | None]:
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
            why = diagnose(candidates, order, window_days(candidates, order))
            return Ranked(candidates, order.centre_id), why
        ranked = np.lexsort((sessions, cost))
        ranked = ranked[candidates.supply_batch_start_s[supplies[ranked]] >= now.timestamp()]
        return Ranked(candidates, order.centre_id, sessions[ranked], supplies[ranked], made[ranked]), None

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

    def place(
        self, session: Session, order: DoseOrder, now: datetime, events: Sequence[Event] | None = None
    ) -> Placed | str:
        """Reserve the first option that fits and write its dose, shipment and appointment;
        or say why none could be placed. `events`: the disruptions declared (else read)."""
        options, reason = self.options(order, now, stored_events(session) if events is None else events)
        if not options:
            return reason or "no option inside the order's window"
        centre = self.network.centres[order.centre_id]
        serialise(session)
        booked = self._booked(session, [options])
        refused: Counter[str] = Counter()
        for option in options:
            day = centre.calendar.local_date(option.start_at)
            fit = booked.fit(option, day, order.prescribed.bq, centre.daily_activity_limit.bq, centre.chairs)
            if isinstance(fit, str):
                refused[fit] += 1
                continue
            try:
                known = (option.batch_id in booked.batches, (centre.centre_id, day) in booked.activity_bq)
                chair = self._reserve(session, order, option, day, known)
            except _Taken as taken:
                refused[taken.what] += 1
                continue
            self._write(session, order, option, chair)
            return Placed(option, chair)
        listed = ", ".join(f"{what} ({n})" for what, n in refused.most_common())
        return f"every option is taken: {listed}"

    def _booked(self, session: Session, ranked: Sequence[Ranked]) -> _Booked:
        """One read of what the options touch, by ranges rather than lists of ids: an order has
        hundreds of options, and binding each id costs more than reading a few rows too many."""
        spans = [r.span() for r in ranked]
        first = min(s[0] for s in spans)
        last = max(s[1] for s in spans)
        centres = sorted({r.centre_id for r in ranked})
        days = [self.network.centres[c].calendar.local_date(t) for c in centres for t in (first, last)]
        # each read fetched whole: a row at a time costs a third more
        batches = session.execute(
            _BATCHES_BETWEEN, {"first": min(s[2] for s in spans), "last": max(s[3] for s in spans)}
        ).all()
        activity = session.execute(
            _CENTRE_DAYS_BETWEEN, {"centres": centres, "first": min(days), "last": max(days)}
        ).all()
        taken = session.execute(
            _APPOINTMENTS_OVERLAPPING, {"centres": centres, "start": first, "end": last}
        ).all()
        appointments: dict[str, list[tuple[int, datetime, datetime]]] = defaultdict(list)
        for row in taken:
            appointments[row.centre_id].append((row.chair, row.start_at, row.end_at))
        return _Booked(
            {row.id: (row.booked, row.capacity, row.failed) for row in batches},
            {(row.centre_id, row.day): row.activity_bq for row in activity},
            appointments,
        )

    def place_many(
        self, session: Session, orders: Sequence[DoseOrder], now: datetime, events: Sequence[Event]
    ) -> list[Placed | str]:
        """`place` for the orders of one transaction, in a few statements for them all: each
        gets the first of its options that fits what the database holds and what the orders
        before it took (see the module's notes)."""
        results: list[Placed | str] = ["" for _ in orders]
        wanted: list[tuple[int, DoseOrder, Ranked]] = []
        for index, order in enumerate(orders):
            options, reason = self.options(order, now, events)
            if options:
                wanted.append((index, order, options))
            else:
                results[index] = reason or "no option inside the order's window"
        if not wanted:
            return results
        serialise(session)
        booked = self._booked(session, [options for _, _, options in wanted])
        found = _Found(set(booked.batches), set(booked.activity_bq))  # before the picks count
        picks: list[_Pick] = []
        for index, order, options in wanted:
            chosen = self._choose(booked, order, options)
            if isinstance(chosen, str):
                results[index] = chosen
            else:
                picks.append(_Pick(index, order, *chosen))
        reserved = self._reserve_many(session, picks, found)
        self._write_many(session, reserved.kept)
        for pick in reserved.kept:
            results[pick.index] = Placed(pick.option, pick.chair)
        for pick in reserved.dropped:  # another transaction took it since the read: alone, as usual
            results[pick.index] = self.place(session, pick.order, now, events)
        return results

    def _choose(self, booked: _Booked, order: DoseOrder, options: Ranked) -> tuple[Option, date, int] | str:
        """The first option that fits in memory and its chair, counted there; or why none does."""
        centre = self.network.centres[order.centre_id]
        limit_bq = centre.daily_activity_limit.bq
        refused: Counter[str] = Counter()
        for option in options:
            day = centre.calendar.local_date(option.start_at)
            fit = booked.fit(option, day, order.prescribed.bq, limit_bq, centre.chairs)
            if isinstance(fit, str):
                refused[fit] += 1
                continue
            booked.take(option, day, order.prescribed.bq, fit)
            return option, day, fit
        listed = ", ".join(f"{what} ({n})" for what, n in refused.most_common())
        return f"every option is taken: {listed}"

    def _reserve_many(self, session: Session, picks: list[_Pick], found: _Found) -> _Reserved:
        """Read each batch's and centre-day's counter again while locking its row (key order),
        keep the picks that fit (capacity, permit), and move each counter by the kept picks'
        total; the rest are to be placed alone.

        Under the placement lock the read the picks were made from is exact, so all fit;
        the counters are read again anyway, as a guard against a writer that did not take
        the lock (their rows are few). A counter never passes its bound, even for a moment
        (the database's CHECK constraints would refuse it). Chairs are seated from the read
        alone."""
        reserved = _Reserved()
        if not picks:
            return reserved
        self._ensure_rows(session, picks, found)
        doses: Counter[str] = Counter(p.option.batch_id for p in picks)
        activity: defaultdict[tuple[str, date], float] = defaultdict(float)
        for pick in picks:
            activity[(pick.order.centre_id, pick.day)] += pick.order.prescribed.bq
        held = self._held(session, picks, sorted(doses))
        over_batch: dict[str, int] = {}
        for batch_id, (booked, capacity, failed) in held.batches.items():
            over_batch[batch_id] = doses[batch_id] if failed else booked + doses[batch_id] - capacity
        over_bq = {
            (centre_id, day): held.activity_bq.get((centre_id, day), 0.0)
            + bq
            - self.network.centres[centre_id].daily_activity_limit.bq
            for (centre_id, day), bq in activity.items()
        }
        for pick in reversed(picks):  # the last picks give way, as if they had come later
            key = (pick.order.centre_id, pick.day)
            if over_batch.get(pick.option.batch_id, 0) > 0 or over_bq[key] > 0:
                over_batch[pick.option.batch_id] = over_batch.get(pick.option.batch_id, 0) - 1
                over_bq[key] -= pick.order.prescribed.bq
                reserved.dropped.append(pick)
            else:
                reserved.kept.append(pick)
        reserved.kept.reverse()
        kept_doses: Counter[str] = Counter(p.option.batch_id for p in reserved.kept)
        kept_bq: defaultdict[tuple[str, date], float] = defaultdict(float)
        for pick in reserved.kept:
            kept_bq[(pick.order.centre_id, pick.day)] += pick.order.prescribed.bq
        if reserved.kept:
            session.execute(_ADD_DOSES, [{"batch": b, "n": n} for b, n in sorted(kept_doses.items())])
            session.execute(
                _ADD_ACTIVITY,
                [{"centre": c, "on_day": d, "bq": bq} for (c, d), bq in sorted(kept_bq.items())],
            )
        return reserved

    def _ensure_rows(self, session: Session, picks: list[_Pick], found: _Found) -> None:
        """Create the batch and centre-day rows the read did not find (harmless if another did)."""
        batches = {p.option.batch_id: p.option for p in picks if p.option.batch_id not in found.batches}
        self._ensure(
            session,
            BATCHES,
            *(
                self._batch_row(o.batch_id, o.site_id, o.batch_start_at, o.batch_capacity)
                for _, o in sorted(batches.items())
            ),
        )
        days = {(p.order.centre_id, p.day) for p in picks} - found.centre_days
        self._ensure(
            session,
            CENTRE_DAYS,
            *({"centre_id": centre_id, "day": day, "activity_bq": 0.0} for centre_id, day in sorted(days)),
        )

    def _held(self, session: Session, picks: list[_Pick], batch_ids: list[str]) -> _Booked:
        """The picks' counters, read while locking their rows: batches, then centre-days, each
        in key order."""
        centres = sorted({p.order.centre_id for p in picks})
        days = sorted(p.day for p in picks)
        batches = session.execute(_BATCHES_LOCKED, {"ids": batch_ids}).all()
        activity = session.execute(
            _CENTRE_DAYS_LOCKED, {"centres": centres, "first": days[0], "last": days[-1]}
        ).all()
        return _Booked(
            {row.id: (row.booked, row.capacity, row.failed) for row in batches},
            {(row.centre_id, row.day): row.activity_bq for row in activity},
            {},
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
        self._write_rows(session, [self._rows(order, option, chair, delay_reason, dose_of)])

    def _write_many(self, session: Session, picks: list[_Pick]) -> None:
        if picks:
            self._write_rows(session, [self._rows(p.order, p.option, p.chair) for p in picks])

    @staticmethod
    def _write_rows(session: Session, rows: list[tuple[dict[str, object], ...]]) -> None:
        """Core inserts, one per table for all the rows (no unit-of-work bookkeeping)."""
        for table, values in zip((DOSES, SHIPMENTS, APPOINTMENTS), zip(*rows, strict=True), strict=True):
            insert_rows(session, table, values)

    def _rows(
        self,
        order: DoseOrder,
        option: Option,
        chair: int,
        delay_reason: str | None = None,
        dose_of: str | None = None,
    ) -> tuple[dict[str, object], dict[str, object], dict[str, object]]:
        """The dose, shipment and appointment of a placement."""
        product = self.catalogue.therapy(order.product_id)
        dose = {
            "order_id": order.order_id,
            "batch_id": option.batch_id,
            "site_id": option.site_id,
            "calibration_at": option.batch_start_at,
            "calibration_bq": option.made_bq,
            "released_at": option.released_at,
            "expiry_at": after(option.batch_start_at, product.shelf_life),
            "dose_of": dose_of,
        }
        shipment = {
            "order_id": order.order_id,
            "lane_id": option.lane_id,
            "departs_at": option.departs_at,
            "arrives_at": option.arrives_at,
            "status": "planned",
        }
        appointment = {
            "order_id": order.order_id,
            "centre_id": option.centre_id,
            "chair": chair,
            "start_at": option.start_at,
            "end_at": option.end_at,
            "administration_at": option.administration_at,
            "delay_reason": delay_reason,
        }
        return dose, shipment, appointment

    def book(self, session: Session, placement: Placement, batch_capacity: int) -> None:
        """Write a placement the full planner chose, counting it against its batch and centre-day.

        The planner has already checked every capacity over the whole plan, so nothing
        is conditional here; the caller holds the transaction that makes the plan whole.
        """
        serialise(session)
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
    def _ensure(session: Session, table: Table, *rows: dict[str, object]) -> None:
        """Insert the rows that do not exist yet, in one statement (concurrent inserts of one row
        are harmless)."""
        if rows:
            insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
            session.execute(insert(table).on_conflict_do_nothing(), list(rows))

    def release(self, session: Session, order_id: str, prescribed_bq: float) -> None:
        """Give back what an order's placement holds (cancelled, adjusted, re-planned)."""
        serialise(session)
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
