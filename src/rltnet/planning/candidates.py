"""Every way each order could be served: a session at its centre and a supply for it.

A *session* is an appointment a centre can offer: on an open day (not a public
holiday, not closed by a disruption) with an authorised practitioner on duty,
starting on the centre's session grid — opening time plus whole appointment
lengths (08:00 and 13:00 for a 5 h appointment in a 08:00-18:00 day).

A *supply* for a session is a batch and a departure: the latest departure on a
lane that arrives `HANDOVER` before the session, and a batch on a production day
whose QC release is before that departure, within the product's shelf life of
the administration, not failed, and not before `now` when re-planning.

An order's *options* are the (session, supply) pairs inside its window whose
batch starts after the order was placed and whose lead time fits the vial's fill
range for the prescribed activity. Of the supplies of one session an order keeps
the `supplies_per_session` with the least isotope overage; a planner that is
exact is exact over these options.

Capacities the options draw on are registered here: chair *buckets* (a centre at
an instant; an appointment uses every bucket it covers, and no more appointments
may cover a bucket than the centre has chairs), batches (doses per batch),
centre-days (the daily activity limit) and the isotope stock of each site.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property

import numpy as np
import numpy.typing as npt

from rltnet.domain import decay
from rltnet.domain.network import Lane, ProductionSite, TreatmentCentre
from rltnet.domain.orders import DoseOrder
from rltnet.domain.products import TherapyProduct
from rltnet.domain.units import Activity, elapsed
from rltnet.planning.problem import (
    CHANGE_COST,
    CONFIRMED_CHANGE_COST,
    HANDOVER,
    OVERAGE_WEIGHT,
    Disruptions,
    PlanningProblem,
    delay_weight,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
SUPPLIES_PER_SESSION = 3
# The isotope stock is followed from zero from a day fixed by the orders alone, as
# docs/plan-format.md states and the checker does: `ISOTOPE_BATCH_LEAD` plus the longer of
# `ISOTOPE_HISTORY` and `ISOTOPE_HALF_LIVES` half-lives before the earliest order's window
# opens (its UTC date). Isotope older than that has all but decayed (1/1024 after ten
# half-lives); following the same days as the checker keeps "not enough isotope" true.
ISOTOPE_BATCH_LEAD = timedelta(days=7)  # no batch starts longer than this before the window
ISOTOPE_HISTORY = timedelta(days=21)
ISOTOPE_HALF_LIVES = 10


@dataclass(frozen=True, slots=True)
class Session:
    centre_id: str
    product_id: str
    start_at: datetime
    end_at: datetime
    administration_at: datetime
    day: date  # the centre's local date
    activity_day: int  # index into Candidates.activity_days
    buckets: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Batch:
    site_id: str
    batch_id: str
    start_at: datetime
    released_at: datetime
    capacity: int
    ledger: int  # index into Candidates.ledgers
    ledger_day: int  # day index in that ledger


@dataclass(frozen=True, slots=True)
class Supply:
    batch: int  # index into Candidates.batches
    lane_id: str
    departs_at: datetime
    arrives_at: datetime


def _no_ints() -> IntArray:
    return np.zeros(0, dtype=np.int64)


def _no_floats() -> FloatArray:
    return np.zeros(0, dtype=np.float64)


@dataclass
class _Table:
    """The (session, supply) rows of one centre and product, sorted by session then batch
    start, latest first (least overage first); the arrays are the rows' columns."""

    sessions: list[int] = field(default_factory=list)
    row_session: list[int] = field(default_factory=list)
    row_supply: list[int] = field(default_factory=list)
    row_lead_s: list[float] = field(default_factory=list)
    session: IntArray = field(default_factory=_no_ints)
    supply: IntArray = field(default_factory=_no_ints)
    day: IntArray = field(default_factory=_no_ints)
    lead: FloatArray = field(default_factory=_no_floats)
    admin: FloatArray = field(default_factory=_no_floats)
    batch_start: FloatArray = field(default_factory=_no_floats)


@dataclass
class Ledger:
    """Isotope stock of one nuclide at one site: supply per day (Bq) and the daily decay."""

    site_id: str
    nuclide: decay.Nuclide
    first_day: date
    supply_bq: FloatArray
    daily_factor: float  # share of stock left after one day

    def day_index(self, day: date) -> int:
        return (day - self.first_day).days


class Candidates:
    """Sessions, supplies and capacities of a problem, and each order's options.

    Options are columns: `option_order`, `option_session`, `option_supply`,
    `option_cost` and `option_made_bq` (activity made at the batch start) are
    arrays over all options; `order_slices[i]` is the range of order i's options.
    """

    def __init__(self, problem: PlanningProblem, supplies_per_session: int = SUPPLIES_PER_SESSION):
        self.problem = problem
        self.network = problem.network
        self.supplies_per_session = supplies_per_session
        self.orders = list(problem.orders)
        self.order_index = {o.order_id: i for i, o in enumerate(self.orders)}
        self.products = {o.product_id: problem.catalogue.therapy(o.product_id) for o in self.orders}
        self.sessions: list[Session] = []
        self.batches: list[Batch] = []
        self.supplies: list[Supply] = []
        self.buckets: list[tuple[str, datetime]] = []
        self.bucket_capacity: list[int] = []
        self.activity_days: list[tuple[str, date]] = []
        self.activity_limit_bq: list[float] = []
        self.ledgers: list[Ledger] = []
        self._batch_index: dict[tuple[str, datetime], int] = {}
        self._activity_index: dict[tuple[str, date], int] = {}
        self._ledger_index: dict[tuple[str, str], int] = {}
        self._supply_index: dict[tuple[int, str, datetime], int] = {}
        self._tables: dict[tuple[str, str], _Table] = {}
        self._lane_departures: dict[str, list[datetime]] = {}
        self._site_batches: dict[str, list[datetime]] = {}
        self._build_tables()
        self._build_buckets()
        self._build_options()
        self.previous_option = self._mark_previous()

    # -- sessions and supplies -------------------------------------------------------------

    def _build_tables(self) -> None:
        groups: defaultdict[tuple[str, str], list[DoseOrder]] = defaultdict(list)
        for order in self.orders:
            groups[(order.centre_id, order.product_id)].append(order)
        self._ledger_span()
        for (centre_id, product_id), orders in sorted(groups.items()):
            centre = self.network.centres.get(centre_id)
            product = self.products[product_id]
            table = _Table()
            self._tables[(centre_id, product_id)] = table
            if centre is None or product_id not in centre.products:
                continue
            routes = self.routes(product, centre)
            lead = co_infusion_lead(product)
            first = min(o.earliest_at for o in orders) - lead
            last = max(o.latest_at for o in orders)
            for day in _days(centre.calendar.local_date(first), centre.calendar.local_date(last)):
                for start in self.session_starts(centre, product, day):
                    self._add_session(table, centre, product, day, start, lead, routes)
            self._freeze(table)

    def routes(self, product: TherapyProduct, centre: TreatmentCentre) -> list[tuple[Lane, ProductionSite]]:
        """Lanes to the centre from sites that make the product, shortest transit first."""
        found = [
            (lane, self.network.sites[lane.site_id])
            for lane in self.network.lanes_to(centre.centre_id)
            if lane.site_id in self.network.sites
            and product.product_id in self.network.sites[lane.site_id].products
        ]
        return sorted(found, key=lambda route: (route[0].transit, route[0].lane_id))

    def session_starts(self, centre: TreatmentCentre, product: TherapyProduct, day: date) -> list[datetime]:
        return session_starts(centre, product, day, self.problem.disruptions)

    def _add_session(
        self,
        table: _Table,
        centre: TreatmentCentre,
        product: TherapyProduct,
        day: date,
        start: datetime,
        lead: timedelta,
        routes: list[tuple[Lane, ProductionSite]],
    ) -> None:
        administration_at = start + lead
        session = len(self.sessions)
        self.sessions.append(
            Session(
                centre.centre_id,
                product.product_id,
                start,
                start + product.appointment,
                administration_at,
                day,
                self._activity_day(centre, day),
            )
        )
        table.sessions.append(session)
        rows = []
        for lane, site in routes:
            departure = self.latest_departure(
                lane, site, start - HANDOVER, administration_at - product.shelf_life
            )
            if departure is None:
                continue
            departs_at, arrives_at = departure
            for batch in self._batches_between(
                site, product, administration_at - product.shelf_life, departs_at
            ):
                supply = self._supply(batch, lane.lane_id, departs_at, arrives_at)
                lead_s = elapsed(self.batches[batch].start_at, administration_at).total_seconds()
                rows.append((lead_s, supply))
        for lead_s, supply in sorted(rows):
            table.row_session.append(session)
            table.row_supply.append(supply)
            table.row_lead_s.append(lead_s)

    def _freeze(self, table: _Table) -> None:
        """Column arrays of a table's rows, for filtering them per order with NumPy."""
        sessions = [self.sessions[i] for i in table.row_session]
        supplies = [self.supplies[i] for i in table.row_supply]
        table.session = np.array(table.row_session, dtype=np.int64)
        table.supply = np.array(table.row_supply, dtype=np.int64)
        table.lead = np.array(table.row_lead_s, dtype=np.float64)
        table.admin = np.array([s.administration_at.timestamp() for s in sessions], dtype=np.float64)
        table.day = np.array([s.day.toordinal() for s in sessions], dtype=np.int64)
        table.batch_start = np.array(
            [self.batches[s.batch].start_at.timestamp() for s in supplies], dtype=np.float64
        )

    def latest_departure(
        self, lane: Lane, site: ProductionSite, arrive_by: datetime, not_before: datetime
    ) -> tuple[datetime, datetime] | None:
        """The latest open departure on `lane` arriving by `arrive_by`, with its arrival."""
        disruptions = self.problem.disruptions
        departures = self._departures(lane, site)
        k = bisect.bisect_right(departures, arrive_by - lane.transit) - 1
        while k >= 0 and departures[k] >= not_before:
            departs_at = departures[k]
            k -= 1
            if not disruptions.lane_open(lane.lane_id, departs_at):
                continue
            arrives_at = departs_at + lane.transit + disruptions.lane_extra(lane.lane_id, departs_at)
            if arrives_at <= arrive_by:
                return departs_at, arrives_at
        return None

    def _departures(self, lane: Lane, site: ProductionSite) -> list[datetime]:
        """All departures of a lane over the planning span, in time order (cached)."""
        if lane.lane_id not in self._lane_departures:
            first_day, days = self._span
            self._lane_departures[lane.lane_id] = [
                d for k in range(days) for d in lane.departures(first_day + timedelta(days=k), site.calendar)
            ]
        return self._lane_departures[lane.lane_id]

    def _batch_starts(self, site: ProductionSite) -> list[datetime]:
        """All batch starts of a site over the planning span, in time order (cached)."""
        if site.site_id not in self._site_batches:
            first_day, days = self._span
            self._site_batches[site.site_id] = [
                b for k in range(days) for b in site.batch_starts(first_day + timedelta(days=k))
            ]
        return self._site_batches[site.site_id]

    def _batches_between(
        self,
        site: ProductionSite,
        product: TherapyProduct,
        not_before: datetime,
        leave_by: datetime,
    ) -> Iterator[int]:
        """Batches at `site` starting at or after `not_before` and released by `leave_by`,
        latest first."""
        floor = max(not_before, self.problem.now) if self.problem.now else not_before
        starts = self._batch_starts(site)
        low = bisect.bisect_left(starts, floor)
        high = bisect.bisect_right(starts, leave_by - site.qc_release)
        for start in reversed(starts[low:high]):
            batch = self._batch(site, product, start)
            if batch is not None:
                yield batch

    def _batch(self, site: ProductionSite, product: TherapyProduct, start: datetime) -> int | None:
        key = (site.site_id, start)
        if key not in self._batch_index:
            name = batch_id(site, start)
            if name in self.problem.disruptions.failed_batches:
                return None
            ledger = self._ledger(site, product.nuclide)
            self._batch_index[key] = len(self.batches)
            day = site.calendar.local_date(start)
            self.batches.append(
                Batch(
                    site.site_id,
                    name,
                    start,
                    start + site.qc_release,
                    site.doses_per_batch,
                    ledger,
                    self.ledgers[ledger].day_index(day),
                )
            )
        return self._batch_index[key]

    def _supply(self, batch: int, lane_id: str, departs_at: datetime, arrives_at: datetime) -> int:
        key = (batch, lane_id, departs_at)
        if key not in self._supply_index:
            self._supply_index[key] = len(self.supplies)
            self.supplies.append(Supply(batch, lane_id, departs_at, arrives_at))
        return self._supply_index[key]

    def _activity_day(self, centre: TreatmentCentre, day: date) -> int:
        key = (centre.centre_id, day)
        if key not in self._activity_index:
            self._activity_index[key] = len(self.activity_days)
            self.activity_days.append(key)
            self.activity_limit_bq.append(centre.daily_activity_limit.bq)
        return self._activity_index[key]

    # -- isotope ledgers -------------------------------------------------------------------

    def _ledger_span(self) -> None:
        if not self.orders:
            self._span = (date(2000, 1, 1), 1)
            return
        first = min(o.earliest_at for o in self.orders) - ISOTOPE_BATCH_LEAD
        last = max(o.latest_at for o in self.orders) + timedelta(days=2)
        self._span = (first.date(), (last.date() - first.date()).days + 1)

    def isotope_first_day(self, nuclide: decay.Nuclide) -> date:
        """The day a nuclide's stock is followed from (see `ISOTOPE_HISTORY`): the orders'
        and the kept placements' earliest window opening, less the lead and history."""
        orders = [*self.orders, *(p.order for p in self.problem.kept)]
        if not orders:
            return self._span[0]
        history = max(ISOTOPE_HISTORY, ISOTOPE_HALF_LIVES * nuclide.half_life)
        earliest = min(o.earliest_at.astimezone(UTC).date() for o in orders)
        return earliest - ISOTOPE_BATCH_LEAD - timedelta(days=math.ceil(history / timedelta(days=1)))

    def _ledger(self, site: ProductionSite, nuclide: decay.Nuclide) -> int:
        key = (site.site_id, nuclide.symbol)
        if key not in self._ledger_index:
            span_first, span_days = self._span
            first_day = min(self.isotope_first_day(nuclide), span_first)
            days = (span_first - first_day).days + span_days
            supply = np.array(
                [
                    self.network.isotope_supply(
                        site.site_id, first_day + timedelta(days=k), nuclide.symbol
                    ).bq
                    for k in range(days)
                ]
            )
            self._ledger_index[key] = len(self.ledgers)
            self.ledgers.append(
                Ledger(
                    site.site_id,
                    nuclide,
                    first_day,
                    supply,
                    decay.decay_factor(nuclide, timedelta(days=1)),
                )
            )
        return self._ledger_index[key]

    # -- chair buckets ---------------------------------------------------------------------

    def _build_buckets(self) -> None:
        """A bucket at every session start (and every kept appointment's start) of a centre."""
        starts: defaultdict[str, set[datetime]] = defaultdict(set)
        for session in self.sessions:
            starts[session.centre_id].add(session.start_at)
        for placement in self.fixed_appointments():
            starts[placement[0]].add(placement[1])
        self._bucket_starts: dict[str, list[datetime]] = {}
        self._bucket_first: dict[str, int] = {}
        for centre_id in sorted(starts):
            ordered = sorted(starts[centre_id])
            self._bucket_starts[centre_id] = ordered
            self._bucket_first[centre_id] = len(self.buckets)
            chairs = self.network.centres[centre_id].chairs
            for start in ordered:
                self.buckets.append((centre_id, start))
                self.bucket_capacity.append(chairs)
        self.sessions = [
            _with_buckets(s, self.buckets_covered(s.centre_id, s.start_at, s.end_at)) for s in self.sessions
        ]

    def fixed_appointments(self) -> list[tuple[str, datetime, datetime]]:
        """Appointments kept from a previous plan, which chair buckets must also see."""
        return [(p.centre_id, p.appointment_at, p.appointment_end_at) for p in self.problem.kept]

    def kept_use(self) -> tuple[list[int], list[tuple[int, float]], list[tuple[int, int, float]]]:
        """What kept placements hold: chair buckets, (activity day, Bq), (ledger, day, Bq)."""
        buckets: list[int] = []
        activity: list[tuple[int, float]] = []
        isotope: list[tuple[int, int, float]] = []
        for placement in self.problem.kept:
            centre = self.network.centres[placement.centre_id]
            buckets += self.buckets_covered(
                placement.centre_id, placement.appointment_at, placement.appointment_end_at
            )
            key = (placement.centre_id, centre.calendar.local_date(placement.appointment_at))
            if key in self._activity_index:
                activity.append((self._activity_index[key], placement.order.prescribed.bq))
            site = self.network.sites[placement.site_id]
            nuclide = self.problem.catalogue.therapy(placement.order.product_id).nuclide
            ledger = self._ledger_index.get((site.site_id, nuclide.symbol))
            if ledger is not None:
                day = self.ledgers[ledger].day_index(site.calendar.local_date(placement.batch_start_at))
                if 0 <= day < self.ledgers[ledger].supply_bq.size:
                    isotope.append((ledger, day, placement.calibration_activity.bq))
        return buckets, activity, isotope

    def previously_placed(self) -> set[int]:
        """Orders whose placement in the previous plan is still one of their options."""
        return set(self.previous_option)

    def _mark_previous(self) -> dict[int, int]:
        """Find each order's previous placement among its options and make every other
        option cost a change: much for a confirmed order, a little otherwise."""
        previous = self.problem.previous
        if previous is None:
            return {}
        found: dict[int, int] = {}
        for placement in previous.placements:
            index = self.order_index.get(placement.order.order_id)
            if index is None:
                continue
            start, end = self.order_slices[index]
            for option in range(start, end):
                session = self.sessions[int(self.option_session[option])]
                supply = self.supplies[int(self.option_supply[option])]
                if (
                    session.start_at == placement.appointment_at
                    and self.batches[supply.batch].batch_id == placement.batch_id
                    and supply.lane_id == placement.lane_id
                ):
                    found[index] = option
                    break
            change = CONFIRMED_CHANGE_COST if self.orders[index].confirmed else CHANGE_COST
            self.option_cost[start:end] += change
            if index in found:
                self.option_cost[found[index]] -= change
        return found

    def buckets_covered(self, centre_id: str, start_at: datetime, end_at: datetime) -> tuple[int, ...]:
        ordered = self._bucket_starts.get(centre_id, [])
        first = bisect.bisect_left(ordered, start_at)
        last = bisect.bisect_left(ordered, end_at)
        base = self._bucket_first.get(centre_id, 0)
        return tuple(range(base + first, base + last))

    # -- options ---------------------------------------------------------------------------

    def _build_options(self) -> None:
        columns: dict[str, list[npt.NDArray[np.generic]]] = defaultdict(list)
        self.order_slices: list[tuple[int, int]] = []
        total = 0
        for index, order in enumerate(self.orders):
            sessions, supplies, cost, made = self.order_options(order)
            columns["order"].append(np.full(len(sessions), index, dtype=np.int64))
            columns["session"].append(sessions)
            columns["supply"].append(supplies)
            columns["cost"].append(cost)
            columns["made"].append(made)
            self.order_slices.append((total, total + len(sessions)))
            total += len(sessions)
        self.option_order: IntArray = _ints(columns["order"])
        self.option_session: IntArray = _ints(columns["session"])
        self.option_supply: IntArray = _ints(columns["supply"])
        self.option_cost: FloatArray = _floats(columns["cost"])
        self.option_made_bq: FloatArray = _floats(columns["made"])
        self.option_batch: IntArray = np.array(
            [self.supplies[s].batch for s in self.option_supply], dtype=np.int64
        )

    def order_options(self, order: DoseOrder) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
        """Sessions, supplies, costs and activities made of the order's options."""
        return self.order_rows(order, self.supplies_per_session)

    def order_rows(
        self, order: DoseOrder, per_session: int | None
    ) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
        """Sessions, supplies, costs and activities made of the order's table rows inside its
        window and fill range: the first `per_session` of each session (least overage first),
        or all of them with None."""
        table = self._tables.get((order.centre_id, order.product_id))
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
        if table is None or not table.row_session:
            return empty
        product = self.products[order.product_id]
        shortest, longest = lead_range(product, order)
        mask = (
            (table.admin >= order.earliest_at.timestamp())
            & (table.admin <= order.latest_at.timestamp())
            & (table.batch_start >= order.placed_at.timestamp())
            & (table.lead >= shortest.total_seconds() - 1e-6)
            & (table.lead <= longest.total_seconds() + 1e-6)
        )
        rows = np.flatnonzero(mask)
        if rows.size == 0:
            return empty
        if per_session is not None:
            rows = _first_per_group(rows, table.session[rows], per_session)
        sessions = table.session[rows]
        supplies = table.supply[rows]
        growth = np.exp2(table.lead[rows] / product.nuclide.half_life_s)
        prescribed = order.prescribed.bq
        preferred_day = (
            self.network.centres[order.centre_id].calendar.local_date(order.preferred_at).toordinal()
        )
        delay_days = np.abs(table.day[rows] - preferred_day)
        cost = delay_weight(order) * delay_days + OVERAGE_WEIGHT * (growth - 1.0) * prescribed / 1e9
        return sessions, supplies, cost.astype(np.float64), (growth * prescribed).astype(np.float64)

    def change_cost(self, index: int) -> float:
        """What moving order `index` off its previous placement costs (0 on a first plan)."""
        previous = self.problem.previous
        if previous is None or previous.placement_of(self.orders[index].order_id) is None:
            return 0.0
        return CONFIRMED_CHANGE_COST if self.orders[index].confirmed else CHANGE_COST

    @cached_property
    def session_times_s(self) -> tuple[FloatArray, FloatArray]:
        """Each session's start and end in POSIX seconds: the span of many options at once."""
        starts = np.array([s.start_at.timestamp() for s in self.sessions], dtype=np.float64)
        ends = np.array([s.end_at.timestamp() for s in self.sessions], dtype=np.float64)
        return starts, ends

    @cached_property
    def supply_batch_start_s(self) -> FloatArray:
        """Each supply's batch start in POSIX seconds."""
        return np.array([self.batches[s.batch].start_at.timestamp() for s in self.supplies], dtype=np.float64)

    def table(self, centre_id: str, product_id: str) -> _Table:
        """The session and supply rows of a centre and product (empty if it has none)."""
        return self._tables.get((centre_id, product_id)) or _Table()

    def options_of(self, order_index: int) -> range:
        start, end = self.order_slices[order_index]
        return range(start, end)


def session_starts(
    centre: TreatmentCentre, product: TherapyProduct, day: date, disruptions: Disruptions
) -> list[datetime]:
    """The session grid of a day, or nothing when the centre cannot treat then: closed,
    closed by a disruption, or no practitioner licensed for the nuclide on duty."""
    hours = centre.opening(day)
    if hours is None or disruptions.centre_closed(centre.centre_id, day):
        return []
    if not centre.authorised_on(day, product.nuclide.symbol):
        return []
    opens, closes = hours
    starts, start = [], opens
    while start + product.appointment <= closes:
        starts.append(start)
        start += product.appointment
    return starts


def batch_id(site: ProductionSite, start_at: datetime) -> str:
    """A batch's name: the site and its local start, e.g. 'ivrea-20270104-0600'."""
    return f"{site.site_id}-{start_at.astimezone(site.calendar.time_zone):%Y%m%d-%H%M}"


def co_infusion_lead(product: TherapyProduct) -> timedelta:
    """Time from the appointment's start to the dose: the longest co-infusion lead-in."""
    return max((c.starts_before_dose for c in product.co_infusions), default=timedelta(0))


def lead_range(product: TherapyProduct, order: DoseOrder) -> tuple[timedelta, timedelta]:
    """Shortest and longest time from calibration to administration of an order's dose."""
    return lead_range_for(product, order.prescribed)


def lead_range_for(product: TherapyProduct, prescribed: Activity) -> tuple[timedelta, timedelta]:
    """Shortest and longest time from calibration to administration: the vial's fill range
    for the prescribed activity, and never past the shelf life."""
    if product.vial is None:
        return timedelta(0), product.shelf_life
    shortest, longest = product.vial.calibration_lead(product.nuclide, prescribed)
    return shortest, min(longest, product.shelf_life)


def _with_buckets(session: Session, buckets: tuple[int, ...]) -> Session:
    return Session(
        session.centre_id,
        session.product_id,
        session.start_at,
        session.end_at,
        session.administration_at,
        session.day,
        session.activity_day,
        buckets,
    )


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _first_per_group(rows: IntArray, groups: IntArray, keep: int) -> IntArray:
    """The first `keep` rows of each run of equal `groups` (rows are sorted by group)."""
    _, starts, counts = np.unique(groups, return_index=True, return_counts=True)
    rank = np.arange(rows.size) - np.repeat(starts, counts)
    return rows[rank < keep]


def _ints(parts: list[npt.NDArray[np.generic]]) -> IntArray:
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


def _floats(parts: list[npt.NDArray[np.generic]]) -> FloatArray:
    return np.concatenate(parts).astype(np.float64) if parts else np.zeros(0, dtype=np.float64)
