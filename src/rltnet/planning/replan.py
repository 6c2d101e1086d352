"""Re-planning after something fails, with the list of what changed and why.

At the moment of re-planning (`now`) a placement whose batch has started is *in
flight*: its dose exists. In-flight placements stay as they are unless an event
strikes them; a struck dose that is still good (its shipment late, its centre
closed that day) is re-seated at its centre if a session fits its window, else it
is lost and the order is planned afresh. A dose freed by a cancellation or a
no-show is offered to another patient of the same product at the same centre who
can receive it within tolerance. Every other order is re-planned by the planner,
with the plan in force as `previous`: confirmed orders stay put unless they cannot.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rltnet.domain.errors import InvalidInput
from rltnet.domain.network import Network, Outage
from rltnet.domain.orders import DoseOrder
from rltnet.domain.products import Catalogue
from rltnet.domain.units import format_instant, require_aware
from rltnet.planning.candidates import batch_id, co_infusion_lead, session_starts
from rltnet.planning.greedy import Planner
from rltnet.planning.plan import Placement, Plan
from rltnet.planning.problem import (
    HANDOVER,
    CentreClosure,
    Disruptions,
    LaneClosure,
    LaneDelay,
    PlanningProblem,
)

ShowInstant = Callable[[datetime], str]
"""How an event's description shows an instant: ISO UTC by default, a page its local clock."""


@dataclass(frozen=True, slots=True)
class ReactorOutage:
    reactor_id: str
    start_at: datetime
    end_at: datetime
    reason: str = ""

    def describe(self, show: ShowInstant = format_instant) -> str:
        return f"reactor {self.reactor_id} out from {show(self.start_at)} to {show(self.end_at)}"


@dataclass(frozen=True, slots=True)
class BatchFailed:
    batch_id: str
    reason: str = ""

    def describe(self, show: ShowInstant = format_instant) -> str:
        return f"batch {self.batch_id} failed QC"


@dataclass(frozen=True, slots=True)
class LaneCancelled:
    lane_id: str
    start_at: datetime
    end_at: datetime
    reason: str = ""

    def describe(self, show: ShowInstant = format_instant) -> str:
        return f"lane {self.lane_id} cancelled from {show(self.start_at)} to {show(self.end_at)}"


@dataclass(frozen=True, slots=True)
class LaneDelayed:
    lane_id: str
    start_at: datetime
    end_at: datetime
    delay: timedelta
    reason: str = ""

    def describe(self, show: ShowInstant = format_instant) -> str:
        hours = self.delay.total_seconds() / 3600
        return f"lane {self.lane_id} {hours:g} h late from {show(self.start_at)}"


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    order_id: str
    reason: str = ""

    def describe(self, show: ShowInstant = format_instant) -> str:
        return f"order {self.order_id} cancelled"


@dataclass(frozen=True, slots=True)
class NoShow:
    order_id: str
    reason: str = ""

    def describe(self, show: ShowInstant = format_instant) -> str:
        return f"the patient of order {self.order_id} did not come"


@dataclass(frozen=True, slots=True)
class CentreClosed:
    centre_id: str
    day: date
    reason: str = ""

    def describe(self, show: ShowInstant = format_instant) -> str:
        return f"centre {self.centre_id} closed on {self.day.isoformat()}"


Event = ReactorOutage | BatchFailed | LaneCancelled | LaneDelayed | OrderCancelled | NoShow | CentreClosed


@dataclass(frozen=True, slots=True)
class Change:
    """One order's change: what it was, what it is, and why."""

    order_id: str
    kind: str  # moved | dose re-seated | dose reassigned | unplanned | newly planned | cancelled
    before: str | None
    after: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Replan:
    plan: Plan
    changes: tuple[Change, ...]
    network: Network


def replan(
    plan: Plan,
    network: Network,
    catalogue: Catalogue,
    events: Sequence[Event],
    now: datetime,
    planner: Planner,
    *,
    held: Sequence[Placement] = (),
    seed: int = 0,
    time_limit_s: float = 10.0,
) -> Replan:
    """The new plan after `events`, declared at `now`, and its change list.

    `held` are placements outside `plan` that still hold their chairs, daily activity
    and isotope (a dose already given or lost, whose appointment is not yet over in
    the records): they are neither re-planned nor reported.
    """
    require_aware(now, "now")
    _check_references(plan, network, events)
    network = with_outages(network, events, now)
    disruptions = disruptions_of(events)
    gone = {e.order_id: e for e in events if isinstance(e, OrderCancelled | NoShow)}
    kept: list[Placement] = []
    struck: list[tuple[Placement, Event]] = []
    seated: dict[str, str] = {}  # order id -> how its dose was re-seated or reassigned
    to_plan: list[DoseOrder] = []
    for order in plan.orders:
        if order.order_id in gone:
            continue
        placement = plan.placement_of(order.order_id)
        if placement is None or placement.batch_start_at >= now:
            to_plan.append(order)
            continue
        strike = _strike_event(placement, events, network, disruptions)
        if strike is None:
            # in flight and not struck: as it is, but a late lane makes it land later
            kept.append(dataclasses.replace(placement, arrives_at=arrival(placement, network, disruptions)))
        else:
            struck.append((placement, strike))
    # Every frozen placement (in flight and not struck, or held by the caller) holds its chair
    # and the day's activity before any struck dose is re-seated, whatever the order ids.
    booked = [*kept, *held]
    for placement, strike in sorted(struck, key=lambda s: (s[0].appointment_at, s[0].order.order_id)):
        # a failed batch or a cancelled departure loses the dose; a late lane or a closed
        # centre leaves a good dose to give at another session
        good = isinstance(strike, LaneDelayed | CentreClosed)
        why = f"{strike.describe()}; the same dose at a new session"
        moved = (
            _reseat(placement, placement, network, catalogue, booked, now, disruptions, why) if good else None
        )
        if moved is None:
            to_plan.append(placement.order)
        else:
            kept.append(moved)
            booked.append(moved)
            seated[placement.order.order_id] = why
    to_plan.sort(key=lambda o: o.order_id)
    for order_id, event in sorted(gone.items()):
        taken = _offer_dose(
            plan, order_id, event, network, catalogue, booked, to_plan, seated, now, disruptions, events
        )
        if taken is not None:
            kept.append(taken)
            booked.append(taken)
    problem = PlanningProblem(
        network,
        catalogue,
        tuple(to_plan),
        previous=plan,
        now=now,
        kept=(*kept, *held),
        disruptions=disruptions,
        seed=seed,
        time_limit_s=time_limit_s,
    )
    held_ids = {p.order.order_id for p in held}
    made = planner.plan(problem)
    cancelled = {o.order_id: o for o in plan.cancelled}
    cancelled.update((o.order_id, o) for o in plan.orders if o.order_id in gone)
    new = dataclasses.replace(
        made,
        placements=tuple(p for p in made.placements if p.order.order_id not in held_ids),
        notes=tuple(e.describe() for e in events),
        cancelled=tuple(cancelled[i] for i in sorted(cancelled)),
    )
    changes = _changes(plan, new, events, network, disruptions, seated, gone)
    return Replan(new, tuple(changes), network)


def _offer_dose(
    plan: Plan,
    order_id: str,
    event: OrderCancelled | NoShow,
    network: Network,
    catalogue: Catalogue,
    booked: list[Placement],
    to_plan: list[DoseOrder],
    seated: dict[str, str],
    now: datetime,
    disruptions: Disruptions,
    events: Sequence[Event],
) -> Placement | None:
    """Give a made dose whose patient is gone to the first patient of the same product at the
    same centre (by preferred time) who can receive it; that patient's new placement."""
    freed = plan.placement_of(order_id)
    if freed is None or freed.batch_start_at >= now or _strike(freed, events, network, disruptions):
        return None
    for order in sorted(to_plan, key=lambda o: (o.preferred_at, o.order_id)):
        same_kind = order.centre_id == freed.centre_id and order.product_id == freed.order.product_id
        if not same_kind or order.confirmed:  # confirmed orders stay put
            continue
        why = f"takes the dose of order {order_id} ({event.describe()})"
        receiver = dataclasses.replace(freed, order=order)
        taken = _reseat(receiver, freed, network, catalogue, booked, now, disruptions, why)
        if taken is not None:
            to_plan.remove(order)
            seated[order.order_id] = why
            return taken
    return None


def _check_references(plan: Plan, network: Network, events: Sequence[Event]) -> None:
    orders = {o.order_id for o in (*plan.orders, *plan.cancelled)}
    problems = []
    for event in events:
        if isinstance(event, ReactorOutage) and event.reactor_id not in network.reactors:
            problems.append(
                f"unknown reactor {event.reactor_id!r}; use one of: {', '.join(network.reactors)}"
            )
        if isinstance(event, LaneCancelled | LaneDelayed) and event.lane_id not in network.lanes:
            problems.append(f"unknown lane {event.lane_id!r}; `rltnet network show` lists the network")
        if isinstance(event, CentreClosed) and event.centre_id not in network.centres:
            problems.append(f"unknown centre {event.centre_id!r}; use one of: {', '.join(network.centres)}")
        if isinstance(event, OrderCancelled | NoShow) and event.order_id not in orders:
            problems.append(f"order {event.order_id!r} is not in the plan")
        if isinstance(event, BatchFailed) and not _batch_exists(network, event.batch_id):
            used = sorted({p.batch_id for p in plan.placements})
            example = f"; the plan uses e.g. {', '.join(used[:3])}" if used else ""
            problems.append(
                f"unknown batch {event.batch_id!r}: a batch is named '<site>-<YYYYMMDD>-<HHMM>' after "
                f"a site of the network and one of its batch starts (local time){example}"
            )
    if problems:
        raise InvalidInput("the events do not match the plan: " + "; ".join(problems))


def _batch_exists(network: Network, name: str) -> bool:
    """Whether `name` is a batch a site of the network makes: '<site>-<YYYYMMDD>-<HHMM>'."""
    site_and_day = name.rpartition("-")[0]
    site_id, _, day_text = site_and_day.rpartition("-")
    site = network.sites.get(site_id)
    if site is None:
        return False
    if len(day_text) != 8 or not day_text.isdigit():
        return False
    try:
        day = date(int(day_text[:4]), int(day_text[4:6]), int(day_text[6:]))
    except ValueError:
        return False
    return any(batch_id(site, start) == name for start in site.batch_starts(day))


def with_outages(network: Network, events: Sequence[Event], not_before: datetime | None = None) -> Network:
    """The network with the reactor outages of `events`, each stopping deliveries from its
    start or from `not_before`, whichever is later: an outage declared at `now` cannot take
    back the isotope delivered before."""
    outages = [e for e in events if isinstance(e, ReactorOutage)]
    if not outages:
        return network
    reactors = dict(network.reactors)
    for event in outages:
        start_at = event.start_at if not_before is None else max(event.start_at, not_before)
        if start_at >= event.end_at:
            continue  # over before the re-plan could change anything
        reactor = reactors[event.reactor_id]
        stop = Outage(start_at, event.end_at, event.reason or "outage")
        reactors[event.reactor_id] = dataclasses.replace(reactor, outages=(*reactor.outages, stop))
    return dataclasses.replace(network, reactors=reactors)


def disruptions_of(events: Sequence[Event]) -> Disruptions:
    return Disruptions(
        failed_batches=frozenset(e.batch_id for e in events if isinstance(e, BatchFailed)),
        lane_closures=tuple(
            LaneClosure(e.lane_id, e.start_at, e.end_at, e.reason)
            for e in events
            if isinstance(e, LaneCancelled)
        ),
        lane_delays=tuple(
            LaneDelay(e.lane_id, e.start_at, e.end_at, e.delay, e.reason)
            for e in events
            if isinstance(e, LaneDelayed)
        ),
        centre_closures=tuple(
            CentreClosure(e.centre_id, e.day, e.reason) for e in events if isinstance(e, CentreClosed)
        ),
    )


def _strike(
    placement: Placement, events: Sequence[Event], network: Network, disruptions: Disruptions
) -> str | None:
    """What makes a placement impossible as it stands, if anything."""
    event = _strike_event(placement, events, network, disruptions)
    return event.describe() if event is not None else None


def _strike_event(
    placement: Placement, events: Sequence[Event], network: Network, disruptions: Disruptions
) -> Event | None:
    return next((e for e in events if _strikes(e, placement, network, disruptions)), None)


def _strikes(event: Event, placement: Placement, network: Network, disruptions: Disruptions) -> bool:
    if isinstance(event, BatchFailed):
        return event.batch_id == placement.batch_id
    if isinstance(event, LaneCancelled | LaneDelayed):
        departs_in = (
            event.lane_id == placement.lane_id and event.start_at <= placement.departs_at < event.end_at
        )
        if isinstance(event, LaneCancelled):
            return departs_in
        # every delay of the lane at that departure together, as the checker adds them up
        late = arrival(placement, network, disruptions) + HANDOVER > placement.appointment_at
        return departs_in and late
    if isinstance(event, CentreClosed):
        calendar = network.centres[placement.centre_id].calendar
        return (
            event.centre_id == placement.centre_id
            and calendar.local_date(placement.appointment_at) == event.day
        )
    return False


def arrival(placement: Placement, network: Network, disruptions: Disruptions) -> datetime:
    """When a placement's dose arrives: its departure, the lane's transit and every delay the
    events put on that departure (worked out afresh, so events already applied to the plan
    are not added twice)."""
    lane = network.lanes.get(placement.lane_id)
    if lane is None:
        return placement.arrives_at
    return (
        placement.departs_at + lane.transit + disruptions.lane_extra(placement.lane_id, placement.departs_at)
    )


def _reseat(
    receiver: Placement,
    dose_of: Placement,
    network: Network,
    catalogue: Catalogue,
    kept: list[Placement],
    now: datetime,
    disruptions: Disruptions,
    why: str,
) -> Placement | None:
    """The existing dose of `dose_of` given to `receiver`'s order at the first session that
    fits: after the dose arrives (late if its lane is delayed) and `now`, inside the order's
    window and the dose's tolerance for that order, on an open, staffed day with a chair
    free and the daily activity limit kept. `why` becomes the delay reason when the session
    is not on the order's preferred day."""
    order = receiver.order
    product = catalogue.therapy(order.product_id)
    centre = network.centres[order.centre_id]
    window = dataclasses.replace(dose_of, order=order).dose(product).window()
    if window is None:
        return None
    arrives_at = arrival(dose_of, network, disruptions)
    ready = max(arrives_at + HANDOVER, now)
    lead = co_infusion_lead(product)
    day = centre.calendar.local_date(ready)
    while day <= centre.calendar.local_date(min(window.latest_at, order.latest_at)):
        for start in session_starts(centre, product, day, disruptions):
            at = start + lead
            fits = window.contains(at) and order.earliest_at <= at <= order.latest_at
            if start < ready or not fits:
                continue
            chair = _free_chair(centre.chairs, centre.centre_id, start, start + product.appointment, kept)
            if chair is None or not _within_limit(network, kept, order, day):
                continue
            return dataclasses.replace(
                dose_of,
                order=order,
                dose_of=dose_of.dose_of or dose_of.order.order_id,
                arrives_at=arrives_at,
                appointment_at=start,
                appointment_end_at=start + product.appointment,
                administration_at=at,
                chair=chair,
                delay_reason=None if day == centre.calendar.local_date(order.preferred_at) else why,
            )
        day += timedelta(days=1)
    return None


def _free_chair(
    chairs: int, centre_id: str, start: datetime, end: datetime, kept: list[Placement]
) -> int | None:
    for chair in range(1, chairs + 1):
        clashes = (
            p.centre_id == centre_id
            and p.chair == chair
            and p.appointment_at < end
            and start < p.appointment_end_at
            for p in kept
        )
        if not any(clashes):
            return chair
    return None


def _within_limit(network: Network, kept: list[Placement], order: DoseOrder, day: date) -> bool:
    centre = network.centres[order.centre_id]
    given = sum(
        p.order.prescribed.bq
        for p in kept
        if p.centre_id == order.centre_id and centre.calendar.local_date(p.appointment_at) == day
    )
    return given + order.prescribed.bq <= centre.daily_activity_limit.bq


def describe_placement(placement: Placement) -> str:
    """A placement in one line: when and where it is given, and where the dose comes from."""
    return (
        f"{format_instant(placement.appointment_at)} at {placement.centre_id} chair {placement.chair}, "
        f"batch {placement.batch_id}, lane {placement.lane_id}"
    )


def _changes(
    old: Plan,
    new: Plan,
    events: Sequence[Event],
    network: Network,
    disruptions: Disruptions,
    seated: dict[str, str],
    gone: dict[str, OrderCancelled | NoShow],
) -> list[Change]:
    outages = "; ".join(e.describe() for e in events if isinstance(e, ReactorOutage))
    after_events = f"re-optimised after {outages}" if outages else "re-optimised around the events"
    new_unplanned = {u.order.order_id: u.reason for u in new.unplanned}
    changes = []
    for order in sorted(old.orders, key=lambda o: o.order_id):
        before = old.placement_of(order.order_id)
        after = new.placement_of(order.order_id)
        if order.order_id in gone:
            changes.append(
                Change(
                    order.order_id,
                    "cancelled",
                    _text(before),
                    None,
                    gone[order.order_id].describe(),
                )
            )
            continue
        if _same(before, after):
            continue
        strike = _strike(before, events, network, disruptions) if before is not None else None
        if after is None:
            why = new_unplanned.get(order.order_id, "")
            if outages and "isotope" in why:
                why = f"{why} ({outages})"
            changes.append(
                Change(
                    order.order_id,
                    "unplanned",
                    _text(before),
                    None,
                    f"{strike}; {why}" if strike else why,
                )
            )
        elif before is None:
            changes.append(Change(order.order_id, "newly planned", None, _text(after), after_events))
        else:
            kind, reason = "moved", strike or after_events
            if order.order_id in seated:
                reason = seated[order.order_id]
                kind = "dose reassigned" if reason.startswith("takes the dose") else "dose re-seated"
            changes.append(Change(order.order_id, kind, _text(before), _text(after), reason))
    return changes


def _same(before: Placement | None, after: Placement | None) -> bool:
    if before is None or after is None:
        return before is after
    fields = ("appointment_at", "batch_id", "lane_id", "centre_id")  # a chair number is internal
    return all(getattr(before, f) == getattr(after, f) for f in fields)


def _text(placement: Placement | None) -> str | None:
    return describe_placement(placement) if placement is not None else None
