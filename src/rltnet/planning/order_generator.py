"""Dose orders drawn from a network's demand: the instances the planners are run on.

The planning horizon is ``[start_date, start_date + weeks)`` from midnight UTC;
an order belongs to an instance when its preferred administration time falls
inside it. Two kinds of order are drawn for each product that some centre gives
and some production site makes:

- first cycles of new patients, at the network's incidence
  (`Network.yearly_patients`): approved by their centre's MDT at 13:00 local
  time on its meeting weekday (public holidays skipped), ordered at approval;
  the window is `first_cycle_window` (approval plus the product's order lead
  time, open for `FIRST_CYCLE_HORIZON`) and the patient prefers its first day;
- later cycles of patients already on treatment, at steady state (every new
  patient later receives cycles 2 to the label's last, so later cycles fall
  due ``cycles - 1`` times as often as first ones): the preferred time is an
  appointment slot on an open day of the centre, uniformly over the horizon;
  the previous administration was one label interval before it, the window is
  `later_cycle_window` from it, and the order was placed one order lead time
  (`DEFAULT_ORDER_LEAD` where the product publishes none) before the
  preferred time, but never after the window opens.

A patient lives in a demand area drawn by population and is treated at the
nearest centre giving the product. Weight is drawn uniformly from
`WEIGHT_KG`; platelets are `PLATELETS_PER_MM3` for products dosed by them.
Each order is a different patient: the window of a patient's next cycle
depends on when this one is actually given, so an instance holds at most one
order per patient. No order is confirmed.

Ids are pseudonyms numbered in the order the orders were placed (``P000001``,
``O000001``, ...). Everything drawn comes from ``numpy.random.default_rng(seed)``,
so an instance is the same for the same network, dates and seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

import numpy as np
import numpy.typing as npt

from rltnet.domain.errors import InvalidInput
from rltnet.domain.network import EARTH_RADIUS_KM, Network, TreatmentCentre
from rltnet.domain.orders import DoseOrder, first_cycle_window, later_cycle_window
from rltnet.domain.products import Catalogue, PerKgActivity, TherapyProduct
from rltnet.domain.units import Activity

# Drawing assumptions of the generator (not label figures).
YEAR = timedelta(days=365.25)
MDT_CLOCK = time(13)  # the MDT's decision, in the centre's local time
DEFAULT_ORDER_LEAD = timedelta(days=14)  # the usual RLT order lead, for products without one
WEIGHT_KG = (55.0, 110.0)  # uniform; recorded to 0.1 kg
PLATELETS_PER_MM3 = 160_000  # above every platelet floor of the catalogue's labels
SLOT_STEP = timedelta(minutes=30)  # the grid of preferred appointment times
ACTIVITY_STEP_BQ = 1e3  # prescribed activities are recorded to the kilobecquerel

__all__ = [
    "DEFAULT_ORDER_LEAD",
    "PLATELETS_PER_MM3",
    "WEIGHT_KG",
    "OrderStream",
    "demand_streams",
    "generate_orders",
]


@dataclass(frozen=True, slots=True)
class OrderStream:
    """One kind of order: first or later cycles of one product, and how many to expect."""

    product: TherapyProduct
    later_cycles: bool
    expected: float  # orders whose preferred time falls in the horizon, on average


@dataclass(frozen=True, slots=True)
class _Draft:
    """An order before it has its ids."""

    product: TherapyProduct
    cycle: int
    centre: TreatmentCentre
    earliest_at: datetime
    latest_at: datetime
    preferred_at: datetime
    placed_at: datetime
    prescribed: Activity
    weight_kg: float | None
    drawn: int  # position in the draw, to break ties when sorting

    def sort_key(self) -> tuple[datetime, datetime, str, str, int]:
        return (
            self.placed_at,
            self.preferred_at,
            self.centre.centre_id,
            self.product.product_id,
            self.drawn,
        )


@dataclass(frozen=True, slots=True)
class _Horizon:
    start_at: datetime
    end_at: datetime

    def __contains__(self, moment: datetime) -> bool:
        return self.start_at <= moment < self.end_at

    def dates(self, margin_days: int) -> list[date]:
        """The horizon's UTC dates, widened by `margin_days` each side (for local calendars)."""
        first = self.start_at.date() - timedelta(days=margin_days)
        days = (self.end_at - self.start_at).days + 2 * margin_days
        return [first + timedelta(days=k) for k in range(days)]


def demand_streams(network: Network, catalogue: Catalogue, weeks: int) -> list[OrderStream]:
    """The kinds of order a network's demand gives over `weeks`, with their expected numbers.

    Only products that some centre gives and some production site makes; products in
    order of their id, first cycles before later ones.
    """
    made = {p for site in network.sites.values() for p in site.products}
    given = {p for centre in network.centres.values() for p in centre.products}
    share_of_year = timedelta(weeks=weeks) / YEAR
    streams = []
    for product_id, yearly in sorted(network.yearly_patients().items()):
        if product_id not in made or product_id not in given:
            continue
        product = catalogue.therapy(product_id)
        new_patients = yearly * share_of_year
        streams.append(OrderStream(product, later_cycles=False, expected=new_patients))
        if product.schedule.cycles > 1:
            later = new_patients * (product.schedule.cycles - 1)
            streams.append(OrderStream(product, later_cycles=True, expected=later))
    return streams


def generate_orders(
    network: Network,
    catalogue: Catalogue,
    *,
    start_date: date,
    weeks: int,
    seed: int,
    count: int | None = None,
) -> list[DoseOrder]:
    """Dose orders from the network's demand whose preferred time falls in the horizon.

    Without `count`, each kind of order comes in a Poisson number around its
    expected one; with `count`, exactly `count` orders, shared among the kinds in
    proportion to their expected numbers (largest remainders). Sorted by order id.
    """
    if weeks < 1:
        raise InvalidInput(f"weeks must be 1 or more, got {weeks}")
    if count is not None and count < 0:
        raise InvalidInput(f"count must be 0 or more, got {count}")
    if seed < 0:
        raise InvalidInput(f"seed must be 0 or more, got {seed}")
    streams = demand_streams(network, catalogue, weeks)
    rng = np.random.default_rng(seed)
    if count is None:
        sizes = [int(rng.poisson(stream.expected)) for stream in streams]
    else:
        sizes = _apportion(count, [stream.expected for stream in streams], network.name)
    start_at = datetime.combine(start_date, time(0), tzinfo=UTC)
    drawer = _Drawer(network, rng, _Horizon(start_at, start_at + timedelta(weeks=weeks)))
    drafts: list[_Draft] = []
    for stream, size in zip(streams, sizes, strict=True):
        drafts += drawer.draw(stream, size, first_drawn=len(drafts))
    drafts.sort(key=_Draft.sort_key)
    return [_order(draft, number) for number, draft in enumerate(drafts, start=1)]


def _apportion(count: int, expected: Sequence[float], network_name: str) -> list[int]:
    """`count` shared in proportion to `expected`, by largest remainders (ties: first)."""
    total = sum(expected)
    if count == 0:
        return [0] * len(expected)
    if total <= 0:
        raise InvalidInput(
            f"network {network_name!r} has no demand for a product that a centre gives and a "
            f"production site makes, so no orders can be drawn; add incidence lines under "
            f"'demand' for such a product"
        )
    quotas = [count * e / total for e in expected]
    sizes = [math.floor(q) for q in quotas]
    by_remainder = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - sizes[i]), i))
    for i in by_remainder[: count - sum(sizes)]:
        sizes[i] += 1
    return sizes


class _Drawer:
    """Draws the orders of one stream: where each patient lives, and when."""

    def __init__(self, network: Network, rng: np.random.Generator, horizon: _Horizon) -> None:
        self.network = network
        self.rng = rng
        self.horizon = horizon
        areas = network.demand_areas
        if not areas:
            raise InvalidInput(
                f"network {network.name!r} has no demand areas; list them under 'demand: areas'"
            )
        population = np.array([a.population for a in areas], dtype=np.float64)
        if population.sum() <= 0:
            raise InvalidInput(f"the demand areas of network {network.name!r} have no residents")
        self.area_weights = population / population.sum()
        self.latitudes = np.radians([a.location.latitude for a in areas])
        self.longitudes = np.radians([a.location.longitude for a in areas])
        self._nearest = cache(self._nearest_centres)
        self._approvals = cache(self._approval_times)
        self._slots = cache(self._preferred_slots)

    def draw(self, stream: OrderStream, size: int, first_drawn: int) -> list[_Draft]:
        product = stream.product
        centres, nearest = self._nearest(product.product_id)
        homes = self.rng.choice(len(self.area_weights), size=size, p=self.area_weights)
        drafts = []
        for k, home in enumerate(homes):
            centre = centres[int(nearest[home])]
            weight_kg = round(float(self.rng.uniform(*WEIGHT_KG)), 1)
            if stream.later_cycles:
                timing = self._later_cycle(product, centre)
            else:
                timing = self._first_cycle(product, centre)
            cycle, earliest_at, latest_at, preferred_at, placed_at = timing
            per_kg = isinstance(product.activity, PerKgActivity)
            drafts.append(
                _Draft(
                    product=product,
                    cycle=cycle,
                    centre=centre,
                    earliest_at=earliest_at,
                    latest_at=latest_at,
                    preferred_at=preferred_at,
                    placed_at=placed_at,
                    prescribed=_prescription(product, weight_kg),
                    weight_kg=weight_kg if per_kg else None,
                    drawn=first_drawn + k,
                )
            )
        return drafts

    def _first_cycle(
        self, product: TherapyProduct, centre: TreatmentCentre
    ) -> tuple[int, datetime, datetime, datetime, datetime]:
        """Approved at an MDT meeting, so that the earliest day falls in the horizon."""
        approvals = self._approvals(centre.centre_id, product.ordering.lead_time or timedelta(0))
        approved_at = approvals[int(self.rng.integers(len(approvals)))]
        earliest_at, latest_at = first_cycle_window(product, approved_at)
        return 1, earliest_at, latest_at, earliest_at, approved_at

    def _later_cycle(
        self, product: TherapyProduct, centre: TreatmentCentre
    ) -> tuple[int, datetime, datetime, datetime, datetime]:
        """Due one interval after the previous cycle, at a slot in the horizon."""
        slots = self._slots(centre.centre_id, product.appointment)
        preferred_at = slots[int(self.rng.integers(len(slots)))]
        cycle = int(self.rng.integers(2, product.schedule.cycles + 1))
        previous_at = preferred_at - product.schedule.interval
        earliest_at, latest_at = later_cycle_window(product, previous_at)
        lead = product.ordering.lead_time or DEFAULT_ORDER_LEAD
        placed_at = min(preferred_at - lead, earliest_at)
        return cycle, earliest_at, latest_at, preferred_at, placed_at

    def _nearest_centres(self, product_id: str) -> tuple[list[TreatmentCentre], npt.NDArray[np.intp]]:
        """The centres giving the product, and for each demand area the index of the nearest
        (great-circle distance, as `GeoPoint.distance_km`; ties to the first listed)."""
        centres = self.network.centres_offering(product_id)
        lat = np.radians([c.location.latitude for c in centres])[np.newaxis, :]
        lon = np.radians([c.location.longitude for c in centres])[np.newaxis, :]
        area_lat, area_lon = self.latitudes[:, np.newaxis], self.longitudes[:, np.newaxis]
        h = (
            np.sin((lat - area_lat) / 2) ** 2
            + np.cos(area_lat) * np.cos(lat) * np.sin((lon - area_lon) / 2) ** 2
        )
        distance_km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h))
        return centres, np.argmin(distance_km, axis=1)

    def _approval_times(self, centre_id: str, lead: timedelta) -> list[datetime]:
        """The centre's MDT decisions (UTC) whose order lead time ends in the horizon.

        Meetings fall on the MDT weekday at `MDT_CLOCK` local time, public holidays
        skipped; where a holiday leaves none (a one-week horizon), the holiday counts.
        """
        centre = self.network.centre(centre_id)
        lead_days = timedelta(days=math.ceil(lead / timedelta(days=1)))
        meeting_days = [
            day - lead_days
            for day in self.horizon.dates(margin_days=2)
            if (day - lead_days).weekday() == centre.mdt_weekday
        ]
        fitting = [
            (day, at)
            for day in meeting_days
            if (at := centre.calendar.at(day, MDT_CLOCK).astimezone(UTC)) + lead in self.horizon
        ]
        working = [at for day, at in fitting if not centre.calendar.is_holiday(day)]
        return working or [at for _, at in fitting]

    def _preferred_slots(self, centre_id: str, appointment: timedelta) -> list[datetime]:
        """Appointment starts (UTC) on the centre's open days in the horizon, every `SLOT_STEP`
        from opening to the last start that ends by closing."""
        centre = self.network.centre(centre_id)
        slots = []
        for day in self.horizon.dates(margin_days=1):
            opening = centre.opening(day)
            if opening is None:
                continue
            opens_at, closes_at = opening
            last_start_at = max(opens_at, closes_at - appointment)
            steps = int((last_start_at - opens_at) / SLOT_STEP)
            for step in range(steps + 1):
                slot_at = (opens_at + step * SLOT_STEP).astimezone(UTC)
                if slot_at in self.horizon:
                    slots.append(slot_at)
        if not slots:
            raise InvalidInput(
                f"centre {centre_id!r} is never open in the planning horizon, so no later "
                f"cycle can be due there; check its opening days and the start date"
            )
        return slots


def _prescription(product: TherapyProduct, weight_kg: float) -> Activity:
    """The label's full activity for this patient, to the kilobecquerel."""
    rule = product.activity
    needs_platelets = isinstance(rule, PerKgActivity) and bool(rule.platelet_bands)
    platelets = PLATELETS_PER_MM3 if needs_platelets else None
    activity = product.prescribe(weight_kg, platelets)
    return Activity(round(activity.bq / ACTIVITY_STEP_BQ) * ACTIVITY_STEP_BQ)


def _order(draft: _Draft, number: int) -> DoseOrder:
    return DoseOrder(
        order_id=f"O{number:06d}",
        patient_id=f"P{number:06d}",
        product_id=draft.product.product_id,
        cycle=draft.cycle,
        centre_id=draft.centre.centre_id,
        earliest_at=draft.earliest_at,
        latest_at=draft.latest_at,
        preferred_at=draft.preferred_at,
        prescribed=draft.prescribed,
        placed_at=draft.placed_at,
        weight_kg=draft.weight_kg,
    )
