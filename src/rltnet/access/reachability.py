"""Dose reachability: can a centre receive each product inside its shelf life and tolerance?

For each centre and each product it gives, every lane to it from a production site
that makes the product is followed over one fortnight of the site's batches: a dose
made at a batch start leaves on the first departure after QC release, arrives after
the lane's transit and is handed over (`planning.problem.HANDOVER`) before it can be
given. The longest time a dose may take from calibration to administration is the
planner's own rule (`planning.candidates.lead_range_for`: the vial's fill range for
the prescribed activity, never past the shelf life). The margin is that longest time
less the journey's, for the best batch and lane; a centre is reachable when it is 0 h
or more.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rltnet.domain.network import Network, TreatmentCentre
from rltnet.domain.products import Catalogue, FixedActivity, TherapyProduct
from rltnet.planning.candidates import lead_range_for
from rltnet.planning.problem import HANDOVER

FORTNIGHT_DAYS = 14


@dataclass(frozen=True, slots=True)
class Reach:
    """The best way a product reaches a centre, or why it does not."""

    centre_id: str
    product_id: str
    reachable: bool
    margin_h: float | None  # longest allowed lead less the journey's, best batch and lane
    lane_id: str | None
    journey_h: float | None  # batch start to the dose being ready at the centre
    why_not: str | None = None


def _longest_lead(product: TherapyProduct) -> timedelta:
    prescribed = product.activity.activity if isinstance(product.activity, FixedActivity) else None
    if prescribed is None:
        return product.shelf_life
    return lead_range_for(product, prescribed)[1]


def _first_monday(on: date) -> date:
    return on + timedelta(days=(7 - on.weekday()) % 7)


def reach(network: Network, centre: TreatmentCentre, product: TherapyProduct, on: date) -> Reach:
    """How `product` best reaches `centre` over the fortnight from the first Monday on or after `on`."""
    start = _first_monday(on)
    days = [start + timedelta(days=k) for k in range(FORTNIGHT_DAYS + 7)]
    longest = _longest_lead(product)
    best: tuple[timedelta, str] | None = None
    lanes = [
        lane
        for lane in network.lanes_to(centre.centre_id)
        if lane.site_id in network.sites and product.product_id in network.sites[lane.site_id].products
    ]
    if not lanes:
        return Reach(
            centre.centre_id, product.product_id, False, None, None, None, "no lane from a site that makes it"
        )
    for lane in lanes:
        site = network.sites[lane.site_id]
        departures: list[datetime] = [d for day in days for d in lane.departures(day, site.calendar)]
        for day in days[:FORTNIGHT_DAYS]:
            for batch_at in site.batch_starts(day):
                k = bisect.bisect_left(departures, batch_at + site.qc_release)
                if k == len(departures):
                    continue
                journey = departures[k] + lane.transit + HANDOVER - batch_at
                if best is None or journey < best[0]:
                    best = (journey, lane.lane_id)
    if best is None:
        return Reach(
            centre.centre_id,
            product.product_id,
            False,
            None,
            None,
            None,
            "no batch and departure in the fortnight",
        )
    journey, lane_id = best
    margin = (longest - journey).total_seconds() / 3600
    return Reach(
        centre.centre_id,
        product.product_id,
        margin >= 0,
        margin,
        lane_id,
        journey.total_seconds() / 3600,
        None if margin >= 0 else "the dose would expire or leave its tolerance before it could be given",
    )


def reachability(network: Network, catalogue: Catalogue, on: date) -> list[Reach]:
    """Every centre x product it gives, in the network's order."""
    found = []
    for centre in network.centres.values():
        for product_id in centre.products:
            product = catalogue.therapy(product_id)
            found.append(reach(network, centre, product, on))
    return found
