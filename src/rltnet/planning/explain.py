"""Why an order is unplanned or delayed: the rule or the capacity that binds it.

An order with no option at all is diagnosed rule by rule, in the order a dose
meets them (the centre, a lane, an open day, a licensed practitioner, a departure
in time, a batch before it, the order's date, the vial's fill range), and the
first rule no option gets past is named. An order whose options exist but are all
taken is told which capacities are full. A delayed order gets the same answer for
its preferred day.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import numpy as np

from rltnet.domain.orders import DoseOrder
from rltnet.planning.candidates import Candidates, co_infusion_lead, lead_range
from rltnet.planning.capacity import ACTIVITY, BATCH, CHAIRS, ISOTOPE, CapacityState
from rltnet.planning.problem import HANDOVER

CAPACITY_TEXT = {
    CHAIRS: "no chair free",
    BATCH: "every suitable batch is full",
    ACTIVITY: "the centre's daily activity limit is reached",
    ISOTOPE: "not enough isotope at the production site",
}


def why_unplanned(candidates: Candidates, index: int, state: CapacityState) -> str:
    order = candidates.orders[index]
    options = candidates.options_of(index)
    if not options:
        return diagnose(candidates, order, window_days(candidates, order))
    return "every option is taken: " + _blocking(candidates, list(options), state)


def why_delayed(candidates: Candidates, index: int, option: int, state: CapacityState) -> str | None:
    """None when the order is on its preferred day, else what kept it off that day."""
    order = candidates.orders[index]
    centre = candidates.network.centres[order.centre_id]
    preferred = centre.calendar.local_date(order.preferred_at)
    if candidates.sessions[int(candidates.option_session[option])].day == preferred:
        return None
    on_day = [
        o
        for o in candidates.options_of(index)
        if candidates.sessions[int(candidates.option_session[o])].day == preferred
    ]
    label = f"preferred day {preferred.isoformat()}"
    if not on_day:
        return f"{label}: {diagnose(candidates, order, [preferred])}"
    state.release(option)
    try:
        blocked = [o for o in on_day if state.blocked_by(o) is not None]
        if len(blocked) < len(on_day):
            return f"{label}: a session was free; the planner stopped before using it"
        return f"{label}: {_blocking(candidates, on_day, state)}"
    finally:
        state.take(option)


def why_delayed_pick(candidates: Candidates, index: int, session: int, state: CapacityState) -> str | None:
    """`why_delayed` for an order placed at a session past its options (the plan's last
    fill): what holds the options of its preferred day."""
    order = candidates.orders[index]
    centre = candidates.network.centres[order.centre_id]
    preferred = centre.calendar.local_date(order.preferred_at)
    if candidates.sessions[session].day == preferred:
        return None
    on_day = [
        o
        for o in candidates.options_of(index)
        if candidates.sessions[int(candidates.option_session[o])].day == preferred
    ]
    label = f"preferred day {preferred.isoformat()}"
    if not on_day:
        return f"{label}: {diagnose(candidates, order, [preferred])}"
    return f"{label}: {_blocking(candidates, on_day, state)}"


def _blocking(candidates: Candidates, options: list[int], state: CapacityState) -> str:
    counts = Counter(state.blocked_by(o) for o in options)
    counts.pop(None, None)
    return ", ".join(CAPACITY_TEXT[name] for name, _ in counts.most_common() if name) or "none"


def window_days(candidates: Candidates, order: DoseOrder) -> list[date]:
    """The centre's local days of the order's window."""
    centre = candidates.network.centres.get(order.centre_id)
    if centre is None:
        return []
    calendar = centre.calendar
    first, last = calendar.local_date(order.earliest_at), calendar.local_date(order.latest_at)
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


def diagnose(candidates: Candidates, order: DoseOrder, days: list[date]) -> str:
    """The first rule that no session or supply on `days` gets past."""
    network = candidates.network
    centre = network.centres.get(order.centre_id)
    product = candidates.products[order.product_id]
    if centre is None or order.product_id not in centre.products:
        return "the centre does not give this product"
    routes = candidates.routes(product, centre)
    if not routes:
        return "no lane from a site making this product to the centre"
    when = "that day" if len(days) == 1 else "throughout the window"
    open_days = [
        d
        for d in days
        if centre.opening(d) is not None
        and not candidates.problem.disruptions.centre_closed(centre.centre_id, d)
    ]
    if not open_days:
        return f"the centre is closed (weekend, public holiday or closure) {when}"
    staffed = [d for d in open_days if centre.authorised_on(d, product.nuclide.symbol)]
    if not staffed:
        return f"no practitioner with a valid {product.nuclide.symbol} licence on duty {when}"
    lead = co_infusion_lead(product)
    starts = [
        s
        for d in staffed
        for s in candidates.session_starts(centre, product, d)
        if order.earliest_at <= s + lead <= order.latest_at
    ]
    if not starts:
        return "no session inside the order's window"
    departures = [
        (start, dep)
        for start in starts
        for lane, site in routes
        if (
            dep := candidates.latest_departure(
                lane, site, start - HANDOVER, start + lead - product.shelf_life
            )
        )
    ]
    if not departures:
        return "no lane departure arrives in time (cut-off or transit)"
    return _batch_reason(candidates, order, days)


def _batch_reason(candidates: Candidates, order: DoseOrder, days: list[date]) -> str:
    """Sessions on `days` have departures: say what stops every batch."""
    product = candidates.products[order.product_id]
    table = candidates.table(order.centre_id, order.product_id)
    ordinals = [d.toordinal() for d in days]
    usable = (
        np.isin(table.day, ordinals)
        & (table.admin >= order.earliest_at.timestamp())
        & (table.admin <= order.latest_at.timestamp())
    )
    if not np.any(usable):
        failed = " (a batch failed)" if candidates.problem.disruptions.failed_batches else ""
        return f"no batch released before the cut-off within the shelf life{failed}"
    if not np.any(usable & (table.batch_start >= order.placed_at.timestamp())):
        return "ordered too late: no batch after the order still arrives in time"
    shortest, longest = lead_range(product, order)
    return (
        f"no batch within the vial's fill range for {order.prescribed} "
        f"({shortest.total_seconds() / 3600:.0f}-{longest.total_seconds() / 3600:.0f} h before "
        f"administration): the dose would be out of tolerance or expired"
    )
