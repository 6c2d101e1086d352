"""An independent plan checker: every rule a dose plan must obey, re-derived from the domain.

This is a second code path beside the planners. It reads nothing from them but
the plan's data types (`rltnet.planning.plan`); each rule below is worked out
again from the network, the catalogue and the decay law, so a planner bug shows
up here as a `Violation` rather than as a dose that misses its patient.

One function per rule family, `_check_<rule>`, each opening with the rule it
states; `check_plan` runs them all and returns every violation found (an empty
list for a plan that obeys every rule). A placement whose centre, production
site or product is unknown is reported once, under ``product``, and left out of
the checks that need it.

Conventions:

- Durations (QC release, transit, appointment length, shelf life, handover) are
  elapsed time: instants are compared in UTC, so a 22 h transit over a clock
  change is still 22 h.
- Days are local days: a batch's day at its production site, an appointment's
  and a departure's day where they happen.
- Activities are compared with a relative slack of `RELATIVE_SLACK`: float
  rounding only, far below what a dose calibrator can tell apart.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from rltnet.domain.errors import RltnetError, UnknownName
from rltnet.domain.network import Calendar, Network, ProductionSite, TreatmentCentre
from rltnet.domain.orders import DoseOrder
from rltnet.domain.products import Catalogue, TherapyProduct
from rltnet.domain.units import format_duration, format_instant, require_aware
from rltnet.planning.plan import Placement, Plan
from rltnet.planning.problem import Disruptions

# A planning allowance, not a label figure: the least time between a dose's arrival
# at the centre and the start of its appointment (receipt, assay, preparation).
HANDOVER = timedelta(hours=1)

# The isotope stock is followed from zero from `ISOTOPE_BATCH_LEAD` plus the longer of
# `ISOTOPE_HISTORY` and `ISOTOPE_HALF_LIVES` half-lives before the earliest window opening
# of the plan's orders (its UTC date): a day fixed by the orders alone, not by the plan's
# choices. Draws before that day are not followed.
ISOTOPE_BATCH_LEAD = timedelta(days=7)
ISOTOPE_HISTORY = timedelta(days=21)
ISOTOPE_HALF_LIVES = 10

# Relative slack on activity comparisons: float rounding only.
RELATIVE_SLACK = 1e-9

DAY = timedelta(days=1)

# How near the instant a re-used dose holds its order's prescribed activity must be to a
# session's administration: float rounding of the logarithm only (1e-9 of a Lu-177
# dose's activity is a millisecond of decay).
FILL_INSTANT_SLACK = timedelta(seconds=1)

RULES = (
    "orders",
    "product",
    "production_day",
    "qc_release",
    "lane",
    "handover",
    "centre_hours",
    "staff",
    "chairs",
    "batch_capacity",
    "isotope",
    "activity_limit",
    "dose",
    "dose_of",
    "order_window",
    "disruption",
)


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule of `RULES` that a plan breaks, for which order, and how (with the values)."""

    rule: str
    order_id: str | None
    detail: str

    def __str__(self) -> str:
        who = f"order {self.order_id}" if self.order_id is not None else "plan"
        return f"{self.rule} ({who}): {self.detail}"


@dataclass(frozen=True, slots=True)
class _Journey:
    """A placement with the product, centre and production site it names, all known."""

    placement: Placement
    product: TherapyProduct
    centre: TreatmentCentre
    site: ProductionSite

    @property
    def order_id(self) -> str:
        return self.placement.order.order_id

    @property
    def appointment_day(self) -> date:
        """The appointment's local day at the centre."""
        return self.centre.calendar.local_date(self.placement.appointment_at)

    @property
    def batch_day(self) -> date:
        """The batch's local day at the production site."""
        return self.site.calendar.local_date(self.placement.batch_start_at)


@dataclass(frozen=True, slots=True)
class _Context:
    """What every rule reads: the plan, the network, the catalogue and the allowances."""

    plan: Plan
    network: Network
    catalogue: Catalogue
    orders: Sequence[DoseOrder] | None
    handover: timedelta
    journeys: tuple[_Journey, ...]
    disruptions: Disruptions
    now: datetime | None


class PlanBreaksRules(RltnetError):
    """A plan a planner made breaks rules of the checker: it is neither written nor applied."""

    SHOWN = 20

    def __init__(self, violations: Sequence[Violation], what: str = "the new plan") -> None:
        self.violations = tuple(violations)
        listed = "\n".join(f"  - {v}" for v in self.violations[: self.SHOWN])
        more = len(self.violations) - self.SHOWN
        if more > 0:
            listed += f"\n  - ... and {more} more"
        super().__init__(
            f"{what} breaks {len(self.violations)} rule(s) of the plan checker and was not kept; "
            f"this is a planner fault, please report it with the input files:\n{listed}"
        )


def check_plan(
    plan: Plan,
    network: Network,
    catalogue: Catalogue,
    orders: Sequence[DoseOrder] | None = None,
    handover: timedelta = HANDOVER,
    disruptions: Disruptions | None = None,
    now: datetime | None = None,
) -> list[Violation]:
    """Every rule `plan` breaks on `network`; empty when the plan obeys them all.

    With `orders`, the plan must also account for exactly these orders, each
    once. `handover` is the least time from a dose's arrival to its appointment.
    With `disruptions` (a re-plan), no placement uses a failed batch, leaves on a
    closed lane or is given at a closed centre, and late lanes arrive late. With `now`
    (when a re-plan's events were declared), a batch started before `now` has drawn its
    isotope: a shortfall on a day when only such batches draw is history, not a violation
    (the stock is taken as empty after it).
    Violations come by rule family, in the order of `RULES`.
    """
    context = _Context(
        plan=plan,
        network=network,
        catalogue=catalogue,
        orders=orders,
        handover=handover,
        journeys=tuple(_journeys(plan, network, catalogue)),
        disruptions=disruptions or Disruptions(),
        now=require_aware(now, "now") if now is not None else None,
    )
    return [violation for check in _CHECKS for violation in check(context)]


def _journeys(plan: Plan, network: Network, catalogue: Catalogue) -> Iterator[_Journey]:
    for placement in plan.placements:
        product = _therapy(catalogue, placement.order.product_id)
        centre = network.centres.get(placement.order.centre_id)
        site = network.sites.get(placement.site_id)
        if product is not None and centre is not None and site is not None:
            yield _Journey(placement, product, centre, site)


def _therapy(catalogue: Catalogue, product_id: str) -> TherapyProduct | None:
    try:
        return catalogue.therapy(product_id)
    except UnknownName:
        return None


# -- the rules, one family each --------------------------------------------------------------


def _check_orders(context: _Context) -> Iterator[Violation]:
    """Each order is in the plan once, placed or unplanned; with the orders given, exactly
    those orders, unchanged."""
    entries = [(p.order, "placed") for p in context.plan.placements] + [
        (u.order, "unplanned") for u in context.plan.unplanned
    ]
    kinds: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for order, kind in entries:
        kinds[order.order_id][kind] += 1
    for order_id, counted in kinds.items():
        if counted.total() > 1:
            yield Violation(
                "orders",
                order_id,
                f"order {order_id} is in the plan {counted.total()} times "
                f"({counted['placed']} placed, {counted['unplanned']} unplanned); an order is "
                f"placed once or left unplanned once",
            )
    for order in context.plan.cancelled:
        if order.order_id in kinds:
            yield Violation(
                "orders",
                order.order_id,
                f"order {order.order_id} is cancelled but also "
                f"{', '.join(kinds[order.order_id])} in the plan",
            )
    if context.orders is None:
        return
    given = {order.order_id: order for order in context.orders}
    for order_id in given.keys() - kinds.keys():
        yield Violation(
            "orders",
            order_id,
            f"order {order_id} was given but is neither placed nor unplanned in the plan",
        )
    seen: set[str] = set()
    for order, kind in entries:
        wanted = given.get(order.order_id)
        if wanted is None:
            if order.order_id not in seen:
                yield Violation(
                    "orders",
                    order.order_id,
                    f"order {order.order_id} is {kind} in the plan but was not among the orders given",
                )
        elif order != wanted:
            changed = [
                f.name for f in dataclasses.fields(order) if getattr(order, f.name) != getattr(wanted, f.name)
            ]
            yield Violation(
                "orders",
                order.order_id,
                f"order {order.order_id} is {kind} with {', '.join(changed)} changed from the order given",
            )
        seen.add(order.order_id)


def _check_product(context: _Context) -> Iterator[Violation]:
    """The product is in the catalogue, the centre gives it and the production site makes it."""
    for placement in context.plan.placements:
        order = placement.order
        product = _therapy(context.catalogue, order.product_id)
        centre = context.network.centres.get(order.centre_id)
        site = context.network.sites.get(placement.site_id)
        if product is None:
            yield Violation(
                "product",
                order.order_id,
                f"product {order.product_id!r} is not a therapy in the catalogue",
            )
        if centre is None:
            yield Violation(
                "product",
                order.order_id,
                f"centre {order.centre_id!r} is not in network {context.network.name!r}",
            )
        if site is None:
            yield Violation(
                "product",
                order.order_id,
                f"production site {placement.site_id!r} is not in network {context.network.name!r}",
            )
        if product is None:
            continue
        if centre is not None and product.product_id not in centre.products:
            yield Violation(
                "product",
                order.order_id,
                f"centre {centre.centre_id} does not give {product.brand} "
                f"({product.product_id}); it gives {', '.join(centre.products) or 'nothing'}",
            )
        if site is not None and product.product_id not in site.products:
            yield Violation(
                "product",
                order.order_id,
                f"site {site.site_id} does not make {product.brand} ({product.product_id}); "
                f"it makes {', '.join(site.products) or 'nothing'}",
            )


def _check_production_day(context: _Context) -> Iterator[Violation]:
    """A batch starts at one of the site's batch times on a production day that is not a
    public holiday there, and is named '<site>-<local start %Y%m%d-%H%M>'."""
    for journey in context.journeys:
        placement, site = journey.placement, journey.site
        day = journey.batch_day
        starts = site.batch_starts(day)
        if not _one_of(placement.batch_start_at, starts):
            if starts:
                why = f"batches start there at {_clocks(starts, site.calendar)} that day"
            else:
                why = f"{day:%A %d %B %Y} is not a production day there{_holiday(site, day)}"
            yield Violation(
                "production_day",
                journey.order_id,
                f"batch {placement.batch_id} starts at "
                f"{_local(placement.batch_start_at, site.calendar)} at {site.site_id}; {why}",
            )
        local_start = placement.batch_start_at.astimezone(site.calendar.time_zone)
        expected_id = f"{site.site_id}-{local_start:%Y%m%d-%H%M}"
        if placement.batch_id != expected_id:
            yield Violation(
                "production_day",
                journey.order_id,
                f"batch {placement.batch_id!r} should be named {expected_id!r}: the site and its local start",
            )


def _check_qc_release(context: _Context) -> Iterator[Violation]:
    """Doses are released the site's QC time after the batch starts, and leave after release."""
    for journey in context.journeys:
        placement, site = journey.placement, journey.site
        release_at = _utc(placement.batch_start_at) + site.qc_release
        if _utc(placement.released_at) != release_at:
            yield Violation(
                "qc_release",
                journey.order_id,
                f"released at {format_instant(placement.released_at)}, but a batch started at "
                f"{format_instant(placement.batch_start_at)} at {site.site_id} is released "
                f"{format_duration(site.qc_release)} later, at {format_instant(release_at)}",
            )
        if _utc(placement.released_at) > _utc(placement.departs_at):
            yield Violation(
                "qc_release",
                journey.order_id,
                f"the dose leaves at {format_instant(placement.departs_at)}, before its QC "
                f"release at {format_instant(placement.released_at)}",
            )


def _check_lane(context: _Context) -> Iterator[Violation]:
    """The lane runs from the production site to the order's centre, the dose leaves at one of
    its cut-offs on a day it runs, and arrives its transit time later."""
    for journey in context.journeys:
        placement, site = journey.placement, journey.site
        lane = context.network.lanes.get(placement.lane_id)
        if lane is None:
            yield Violation(
                "lane",
                journey.order_id,
                f"lane {placement.lane_id!r} is not in network {context.network.name!r}",
            )
            continue
        if (lane.site_id, lane.centre_id) != (placement.site_id, placement.order.centre_id):
            yield Violation(
                "lane",
                journey.order_id,
                f"lane {lane.lane_id} runs from {lane.site_id} to {lane.centre_id}, not from "
                f"{placement.site_id} to {placement.order.centre_id}",
            )
        day = site.calendar.local_date(placement.departs_at)
        departures = lane.departures(day, site.calendar)
        if not _one_of(placement.departs_at, departures):
            if departures:
                why = f"it leaves at {_clocks(departures, site.calendar)} that day"
            else:
                why = f"it does not run on {day:%A %d %B %Y}{_holiday(site, day)}"
            yield Violation(
                "lane",
                journey.order_id,
                f"departure at {_local(placement.departs_at, site.calendar)} is not a cut-off "
                f"of lane {lane.lane_id}: {why}",
            )
        arrival_at = _utc(placement.departs_at) + lane.transit
        arrival_at += context.disruptions.lane_extra(lane.lane_id, placement.departs_at)
        if _utc(placement.arrives_at) != arrival_at:
            yield Violation(
                "lane",
                journey.order_id,
                f"arrives at {format_instant(placement.arrives_at)}, but leaving at "
                f"{format_instant(placement.departs_at)} with a transit of "
                f"{format_duration(lane.transit)} it arrives at {format_instant(arrival_at)}",
            )


def _check_handover(context: _Context) -> Iterator[Violation]:
    """The dose arrives at least the handover time before its appointment starts."""
    for journey in context.journeys:
        placement = journey.placement
        spare = _utc(placement.appointment_at) - _utc(placement.arrives_at)
        if spare < context.handover:
            when = (
                f"{format_duration(spare)} before"
                if spare >= timedelta(0)
                else f"{format_duration(-spare)} after"
            )
            yield Violation(
                "handover",
                journey.order_id,
                f"the dose arrives at {format_instant(placement.arrives_at)}, {when} its "
                f"appointment starts at {format_instant(placement.appointment_at)}; it must "
                f"arrive {format_duration(context.handover)} before (receipt and preparation)",
            )


def _check_centre_hours(context: _Context) -> Iterator[Violation]:
    """The appointment lies inside the centre's opening hours on an open day, lasts the
    product's appointment length, and the dose is given after the longest co-infusion has
    started and before the appointment ends."""
    for journey in context.journeys:
        placement, centre, product = journey.placement, journey.centre, journey.product
        day = journey.appointment_day
        hours = centre.opening(day)
        if hours is None:
            yield Violation(
                "centre_hours",
                journey.order_id,
                f"centre {centre.centre_id} is closed on {day:%A %d %B %Y}{_holiday(centre, day)}",
            )
        elif _utc(placement.appointment_at) < _utc(hours[0]) or _utc(placement.appointment_end_at) > _utc(
            hours[1]
        ):
            yield Violation(
                "centre_hours",
                journey.order_id,
                f"the appointment {_local(placement.appointment_at, centre.calendar)} to "
                f"{_local(placement.appointment_end_at, centre.calendar)} is outside "
                f"{centre.centre_id}'s hours {centre.hours.opens:%H:%M}-"
                f"{centre.hours.closes:%H:%M}",
            )
        elif not _on_grid(placement.appointment_at, hours[0], product.appointment):
            yield Violation(
                "centre_hours",
                journey.order_id,
                f"the appointment starts at {_local(placement.appointment_at, centre.calendar)}, off "
                f"{centre.centre_id}'s session grid for {product.brand}: sessions start at opening "
                f"({centre.hours.opens:%H:%M}) plus whole appointment lengths of "
                f"{format_duration(product.appointment)}",
            )
        length = _utc(placement.appointment_end_at) - _utc(placement.appointment_at)
        if length != product.appointment:
            yield Violation(
                "centre_hours",
                journey.order_id,
                f"the appointment lasts {format_duration(length)}; a {product.brand} "
                f"appointment lasts {format_duration(product.appointment)}",
            )
        lead = max((c.starts_before_dose for c in product.co_infusions), default=timedelta(0))
        if _utc(placement.administration_at) != _utc(placement.appointment_at) + lead:
            yield Violation(
                "centre_hours",
                journey.order_id,
                f"the dose is given at {format_instant(placement.administration_at)}; with "
                f"{product.brand} it is given {format_duration(lead)} after the appointment "
                f"starts (the longest co-infusion), at "
                f"{format_instant(_utc(placement.appointment_at) + lead)}",
            )
        if _utc(placement.administration_at) >= _utc(placement.appointment_end_at):
            yield Violation(
                "centre_hours",
                journey.order_id,
                f"the dose is given at {format_instant(placement.administration_at)}, not "
                f"before the appointment ends at {format_instant(placement.appointment_end_at)}",
            )


def _check_staff(context: _Context) -> Iterator[Violation]:
    """An authorised practitioner licensed for the nuclide is on duty on the appointment day."""
    for journey in context.journeys:
        nuclide = journey.product.nuclide.symbol
        day = journey.appointment_day
        if not journey.centre.authorised_on(day, nuclide):
            yield Violation(
                "staff",
                journey.order_id,
                f"no one at {journey.centre.centre_id} holding a valid licence for {nuclide} "
                f"is on duty on {day:%A %d %B %Y}",
            )


def _check_chairs(context: _Context) -> Iterator[Violation]:
    """Each appointment has one of the centre's chairs, and no two appointments on a chair
    overlap."""
    by_chair: defaultdict[tuple[str, int], list[_Journey]] = defaultdict(list)
    for journey in context.journeys:
        chair, chairs = journey.placement.chair, journey.centre.chairs
        if not 1 <= chair <= chairs:
            yield Violation(
                "chairs",
                journey.order_id,
                f"chair {chair} does not exist at {journey.centre.centre_id}, which has chairs 1-{chairs}",
            )
        by_chair[(journey.centre.centre_id, chair)].append(journey)
    for (centre_id, chair), journeys in by_chair.items():
        earlier: list[_Journey] = []
        for journey in sorted(journeys, key=lambda j: (_utc(j.placement.appointment_at), j.order_id)):
            start_at = _utc(journey.placement.appointment_at)
            for other in earlier:
                if _utc(other.placement.appointment_end_at) > start_at:
                    yield Violation(
                        "chairs",
                        journey.order_id,
                        f"chair {chair} at {centre_id} is booked from "
                        f"{format_instant(journey.placement.appointment_at)}, while order "
                        f"{other.order_id} has it until "
                        f"{format_instant(other.placement.appointment_end_at)}",
                    )
            earlier = [j for j in earlier if _utc(j.placement.appointment_end_at) > start_at] + [journey]


def _check_batch_capacity(context: _Context) -> Iterator[Violation]:
    """A batch holds no more doses than the site makes per batch."""
    by_batch: defaultdict[str, list[_Journey]] = defaultdict(list)
    for journey in context.journeys:
        by_batch[journey.placement.batch_id].append(journey)
    for batch_id, journeys in by_batch.items():
        capacity = journeys[0].site.doses_per_batch
        if len(journeys) > capacity:
            surplus = sorted(j.order_id for j in journeys)[capacity]
            yield Violation(
                "batch_capacity",
                surplus,
                f"batch {batch_id} holds {len(journeys)} doses; {journeys[0].site.site_id} "
                f"makes {capacity} per batch (order {surplus} is the first over)",
            )


def _check_isotope(context: _Context) -> Iterator[Violation]:
    """At each site the stock of each nuclide never goes below zero: day by day it decays,
    gains the reactors' delivery and loses the calibration activity of that day's batches
    (batches started before a re-plan's `now` have drawn theirs: see `check_plan`)."""
    draws: defaultdict[tuple[str, str], defaultdict[date, list[_Journey]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for journey in context.journeys:
        key = (journey.site.site_id, journey.product.nuclide.symbol)
        draws[key][journey.batch_day].append(journey)
    if not draws:
        return
    earliest = min(_utc(order.earliest_at).date() for order in _plan_orders(context.plan))
    for (site_id, symbol), by_day in sorted(draws.items()):
        half_life = next(iter(by_day.values()))[0].product.nuclide.half_life
        history = max(ISOTOPE_HISTORY, ISOTOPE_HALF_LIVES * half_life)
        kept_over_a_day = 2.0 ** (-(DAY / half_life))
        stock_bq = 0.0
        day = earliest - ISOTOPE_BATCH_LEAD - timedelta(days=math.ceil(history / DAY))
        while day <= max(by_day):
            available_bq = stock_bq * kept_over_a_day
            available_bq += context.network.isotope_supply(site_id, day, symbol).bq
            todays = sorted(by_day.get(day, []), key=lambda j: (_utc(j.placement.batch_start_at), j.order_id))
            drawn_bq = sum(j.placement.calibration_activity.bq for j in todays)
            stock_bq = available_bq - drawn_bq
            drawn_before_now = context.now is not None and all(
                _utc(j.placement.batch_start_at) < _utc(context.now) for j in todays
            )
            if stock_bq < -RELATIVE_SLACK * max(available_bq, drawn_bq) and not drawn_before_now:
                short = _first_uncovered(todays, available_bq)
                yield Violation(
                    "isotope",
                    short.order_id,
                    f"{site_id} has {_gbq(available_bq)} of {symbol} on {day:%a %d %b %Y} but "
                    f"its batches draw {_gbq(drawn_bq)} ({len(todays)} doses); order "
                    f"{short.order_id} is the first not covered",
                )
            stock_bq = max(stock_bq, 0.0)
            day += DAY


def _first_uncovered(draws: list[_Journey], available_bq: float) -> _Journey:
    left_bq = available_bq
    for journey in draws:
        left_bq -= journey.placement.calibration_activity.bq
        if left_bq < -RELATIVE_SLACK * available_bq:
            return journey
    return draws[-1]


def _check_activity_limit(context: _Context) -> Iterator[Violation]:
    """The prescribed activities given at a centre on a day stay within its daily limit."""
    by_day: defaultdict[tuple[str, date], list[_Journey]] = defaultdict(list)
    for journey in context.journeys:
        by_day[(journey.centre.centre_id, journey.appointment_day)].append(journey)
    for (centre_id, day), journeys in by_day.items():
        limit_bq = journeys[0].centre.daily_activity_limit.bq
        total_bq = 0.0
        for journey in sorted(journeys, key=lambda j: (_utc(j.placement.appointment_at), j.order_id)):
            total_bq += journey.placement.order.prescribed.bq
            if total_bq > limit_bq * (1 + RELATIVE_SLACK):
                whole_bq = sum(j.placement.order.prescribed.bq for j in journeys)
                yield Violation(
                    "activity_limit",
                    journey.order_id,
                    f"{centre_id} gives {_gbq(whole_bq)} on {day:%a %d %b %Y} "
                    f"({len(journeys)} doses); its daily limit is {_gbq(limit_bq)} (order "
                    f"{journey.order_id} is the first over)",
                )
                break


def _check_dose(context: _Context) -> Iterator[Violation]:
    """At administration the dose is released, made, unexpired and holds the prescribed
    activity (inside the product's tolerance band); a vial holds a fill it can hold."""
    for journey in context.journeys:
        yield from _dose_violations(journey)


def _dose_violations(journey: _Journey) -> Iterator[Violation]:
    placement, product = journey.placement, journey.product
    order_id = journey.order_id
    if placement.calibration_activity.bq <= 0:
        yield Violation("dose", order_id, "the calibration activity is 0 Bq: no dose is made")
        return
    dose = placement.dose(product)
    given_at = _utc(placement.administration_at)
    given = dose.activity_at(given_at)
    prescribed = placement.order.prescribed
    low, high = product.tolerance_band(prescribed)
    if not low.bq * (1 - RELATIVE_SLACK) <= given.bq <= high.bq * (1 + RELATIVE_SLACK):
        yield Violation(
            "dose",
            order_id,
            f"the dose holds {_gbq(given.bq)} at administration, outside the {product.brand} "
            f"tolerance {_gbq(low.bq)}-{_gbq(high.bq)} around {_gbq(prescribed.bq)}",
        )
    if placement.dose_of is None and abs(given.bq - prescribed.bq) > RELATIVE_SLACK * prescribed.bq:
        yield Violation(
            "dose",
            order_id,
            f"the dose holds {_gbq(given.bq)} at administration, not the prescribed "
            f"{_gbq(prescribed.bq)} it is filled for (calibrated at "
            f"{_gbq(placement.calibration_activity.bq)} at "
            f"{format_instant(placement.batch_start_at)})",
        )
    if given_at < _utc(placement.released_at):
        yield Violation(
            "dose",
            order_id,
            f"the dose is given at {format_instant(given_at)}, before its QC release at "
            f"{format_instant(placement.released_at)}",
        )
    if dose.made_at is not None and given_at < _utc(dose.made_at):
        yield Violation(
            "dose",
            order_id,
            f"the dose is given at {format_instant(given_at)}, before it is made at "
            f"{format_instant(dose.made_at)}",
        )
    expiry_at = _utc(placement.batch_start_at) + product.shelf_life
    if given_at > expiry_at:
        yield Violation(
            "dose",
            order_id,
            f"the dose is given at {format_instant(given_at)}, after its expiry at "
            f"{format_instant(expiry_at)} ({format_duration(product.shelf_life)} after "
            f"calibration)",
        )
    if product.vial is not None:
        vial = product.vial
        least = vial.concentration_per_ml * vial.min_volume_ml
        most = vial.concentration_per_ml * vial.max_volume_ml
        made = placement.calibration_activity
        if not least.bq * (1 - RELATIVE_SLACK) <= made.bq <= most.bq * (1 + RELATIVE_SLACK):
            yield Violation(
                "dose",
                order_id,
                f"the vial is filled with {_gbq(made.bq)} at calibration, outside the "
                f"{product.brand} fill of {_gbq(least.bq)}-{_gbq(most.bq)} "
                f"({vial.min_volume_ml:g}-{vial.max_volume_ml:g} mL at "
                f"{_gbq(vial.concentration_per_ml.bq)}/mL)",
            )


def _check_dose_of(context: _Context) -> Iterator[Violation]:
    """A re-used dose (`dose_of` set) was made for an order of the plan with the same product
    and centre: its own order (re-seated after a disruption) or a cancelled order (given to
    another patient). At its calibration it held exactly the prescribed activity of that
    order at an administration of a session on the centre's grid inside that order's
    window: the session it was filled for. Each made dose is given once."""
    plan = context.plan
    known = {o.order_id: o for o in _plan_orders(plan)}
    cancelled = {o.order_id: o for o in plan.cancelled}
    claims: defaultdict[str, list[str]] = defaultdict(list)
    for journey in context.journeys:
        placement = journey.placement
        made_for = placement.dose_of or journey.order_id
        claims[made_for].append(journey.order_id)
        if placement.dose_of is None:
            continue
        source = cancelled.get(made_for) or (known.get(made_for) if made_for == journey.order_id else None)
        if source is None:
            where = "is placed or unplanned in the plan" if made_for in known else "is not in the plan"
            yield Violation(
                "dose_of",
                journey.order_id,
                f"the dose is named as made for order {made_for!r}, which {where}; a re-used dose "
                f"is made for the order itself (re-seated) or for a cancelled order of the plan",
            )
            continue
        if (source.product_id, source.centre_id) != (placement.order.product_id, journey.centre.centre_id):
            yield Violation(
                "dose_of",
                journey.order_id,
                f"the dose was made for order {made_for}, a {source.product_id} dose for "
                f"{source.centre_id}; this is a {placement.order.product_id} appointment at "
                f"{journey.centre.centre_id}",
            )
            continue
        yield from _filled_for_a_session(journey, source)
    for made_for, holders in sorted(claims.items()):
        if len(holders) > 1:
            yield Violation(
                "dose_of",
                sorted(holders)[1],
                f"the dose made for order {made_for} is given to {len(holders)} orders "
                f"({', '.join(sorted(holders))}); a dose is given once",
            )


def _filled_for_a_session(journey: _Journey, source: DoseOrder) -> Iterator[Violation]:
    """The instant at which the dose holds exactly `source`'s prescribed activity is the
    administration of a session on the centre's grid inside `source`'s window."""
    placement, product, centre = journey.placement, journey.product, journey.centre
    ratio = placement.calibration_activity.bq / source.prescribed.bq
    filled_for_at = _utc(placement.batch_start_at) + timedelta(
        seconds=math.log(ratio) / product.nuclide.decay_constant_per_s
    )
    lead = max((c.starts_before_dose for c in product.co_infusions), default=timedelta(0))
    start_at = filled_for_at - lead
    day = centre.calendar.local_date(start_at)
    hours = centre.opening(day)
    exact_start = _nearest_grid(start_at, hours[0], product.appointment) if hours is not None else None
    on_grid = (
        hours is not None
        and exact_start is not None
        and abs(exact_start - start_at) <= FILL_INSTANT_SLACK
        and _utc(exact_start) + product.appointment <= _utc(hours[1])
    )
    in_window = _utc(source.earliest_at) <= filled_for_at <= _utc(source.latest_at)
    if not (on_grid and in_window):
        why = "inside its window" if on_grid else f"on a session of {centre.centre_id}'s grid"
        yield Violation(
            "dose_of",
            journey.order_id,
            f"calibrated at {_gbq(placement.calibration_activity.bq)} at "
            f"{format_instant(placement.batch_start_at)}, the dose holds the "
            f"{_gbq(source.prescribed.bq)} of order {source.order_id} at "
            f"{format_instant(filled_for_at)}, which is not an administration {why}: it was not "
            f"filled for that order",
        )


def _check_disruption(context: _Context) -> Iterator[Violation]:
    """No dose comes from a failed batch, leaves on a closed lane, or is given at a centre
    closed that day."""
    disruptions = context.disruptions
    for journey in context.journeys:
        placement = journey.placement
        if placement.batch_id in disruptions.failed_batches:
            yield Violation("disruption", journey.order_id, f"batch {placement.batch_id} failed QC")
        if not disruptions.lane_open(placement.lane_id, placement.departs_at):
            yield Violation(
                "disruption",
                journey.order_id,
                f"lane {placement.lane_id} is closed at {format_instant(placement.departs_at)}",
            )
        if disruptions.centre_closed(journey.centre.centre_id, journey.appointment_day):
            yield Violation(
                "disruption",
                journey.order_id,
                f"centre {journey.centre.centre_id} is closed on {journey.appointment_day.isoformat()}",
            )


def _check_order_window(context: _Context) -> Iterator[Violation]:
    """The dose is given inside the order's window, from a batch started after the order
    was placed."""
    for placement in context.plan.placements:
        order = placement.order
        given_at = _utc(placement.administration_at)
        if not _utc(order.earliest_at) <= given_at <= _utc(order.latest_at):
            yield Violation(
                "order_window",
                order.order_id,
                f"the dose is given at {format_instant(given_at)}, outside the order's window "
                f"{format_instant(order.earliest_at)} to {format_instant(order.latest_at)}",
            )
        if _utc(placement.batch_start_at) < _utc(order.placed_at):
            yield Violation(
                "order_window",
                order.order_id,
                f"the batch starts at {format_instant(placement.batch_start_at)}, before the "
                f"order was placed at {format_instant(order.placed_at)}",
            )


_CHECKS: tuple[Callable[[_Context], Iterable[Violation]], ...] = (
    _check_orders,
    _check_product,
    _check_production_day,
    _check_qc_release,
    _check_lane,
    _check_handover,
    _check_centre_hours,
    _check_staff,
    _check_chairs,
    _check_batch_capacity,
    _check_isotope,
    _check_activity_limit,
    _check_dose,
    _check_dose_of,
    _check_order_window,
    _check_disruption,
)


# -- helpers ---------------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    """`moment` in UTC, so that differences are elapsed time whatever the clocks did."""
    return require_aware(moment, "instant").astimezone(UTC)


def _nearest_grid(moment: datetime, opens_at: datetime, step: timedelta) -> datetime | None:
    """The session start nearest `moment` on the grid opening + k * step (k >= 0)."""
    k = round((_utc(moment) - _utc(opens_at)) / step)
    return _utc(opens_at) + k * step if k >= 0 else None


def _on_grid(moment: datetime, opens_at: datetime, step: timedelta) -> bool:
    return _nearest_grid(moment, opens_at, step) == _utc(moment)


def _one_of(moment: datetime, instants: Iterable[datetime]) -> bool:
    return _utc(moment) in {_utc(at) for at in instants}


def _plan_orders(plan: Plan) -> Iterator[DoseOrder]:
    yield from (p.order for p in plan.placements)
    yield from (u.order for u in plan.unplanned)


def _local(moment: datetime, calendar: Calendar) -> str:
    """E.g. 'Mon 02 Mar 2026 06:00 Europe/Rome'."""
    return f"{moment.astimezone(calendar.time_zone):%a %d %b %Y %H:%M} {calendar.time_zone.key}"


def _clocks(instants: Sequence[datetime], calendar: Calendar) -> str:
    return ", ".join(f"{at.astimezone(calendar.time_zone):%H:%M}" for at in instants)


def _holiday(place: ProductionSite | TreatmentCentre, day: date) -> str:
    name = place.calendar.holidays.get(day)
    return f" ({name}, a public holiday)" if name else ""


def _gbq(bq: float) -> str:
    """Becquerels as GBq to nine figures, enough to show a rounding-level difference."""
    return f"{bq / 1e9:.9g} GBq"


__all__ = [
    "FILL_INSTANT_SLACK",
    "HANDOVER",
    "ISOTOPE_BATCH_LEAD",
    "ISOTOPE_HALF_LIVES",
    "ISOTOPE_HISTORY",
    "RELATIVE_SLACK",
    "RULES",
    "PlanBreaksRules",
    "Violation",
    "check_plan",
]
