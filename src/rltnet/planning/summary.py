"""A plan's key figures: what was placed, where and when, how full, what it costs, what is at risk.

`summarise` reads a `Plan` against its network and catalogue and returns a
`PlanSummary`, an immutable value that turns into JSON (`to_json`) or into rows
for a terminal (`format_summary`). Days are local dates of the place they
belong to: a batch's day at its production site, an administration's day at
its treatment centre.
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from rltnet.domain.errors import UnknownName
from rltnet.domain.network import Lane, Network, TreatmentCentre
from rltnet.domain.products import Catalogue
from rltnet.domain.units import Activity, elapsed, format_duration, format_instant
from rltnet.planning.plan import Placement, Plan, SolverReport
from rltnet.planning.problem import HANDOVER

# Planning conventions, not label figures: the margins under which a placed dose is
# reported at risk. A dose is at risk when a late arrival would lose it — it arrives
# with less than RISK_ARRIVAL_MARGIN to spare beyond the handover and cannot wait for
# the next day's session (its window closes within RISK_RESCHEDULE of the planned
# administration) — when it travels a lane that is on time less often than
# RISK_LANE_RELIABILITY, may be given for less than RISK_WINDOW_MARGIN after its
# planned administration, or holds at administration an activity closer to an end of
# its tolerance band than RISK_TOLERANCE_MARGIN of the prescribed activity.
RISK_ARRIVAL_MARGIN = timedelta(hours=2)
RISK_RESCHEDULE = timedelta(hours=24)
RISK_LANE_RELIABILITY = 0.95
RISK_WINDOW_MARGIN = timedelta(hours=6)
RISK_TOLERANCE_MARGIN = 0.02


class RiskReason(enum.StrEnum):
    """Why a placed dose is at risk."""

    ARRIVAL_MARGIN = "arrival_margin"
    LANE_RELIABILITY = "lane_reliability"
    WINDOW_MARGIN = "window_margin"
    TOLERANCE_MARGIN = "tolerance_margin"


@dataclass(frozen=True, slots=True)
class DoseAtRisk:
    """A placed dose with a thin margin: its order, where and when it is given, and why.

    `details` says, for each reason in turn, the figure against its threshold.
    """

    order_id: str
    centre_id: str
    administration_at: datetime
    reasons: tuple[RiskReason, ...]
    details: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "order": self.order_id,
            "centre": self.centre_id,
            "administration": format_instant(self.administration_at),
            "reasons": [reason.value for reason in self.reasons],
            "details": list(self.details),
        }


@dataclass(frozen=True, slots=True)
class IsotopeUse:
    """Activity made (calibration activities) and prescribed (at administration).

    The overage is what decays between the batch and the infusion; it is negative
    only for a product calibrated at a later reference time.
    """

    made: Activity
    prescribed: Activity

    @property
    def overage_gbq(self) -> float:
        return self.made.gbq - self.prescribed.gbq

    def to_json(self) -> dict[str, float]:
        return {
            "made_gbq": round(self.made.gbq, 3),
            "prescribed_gbq": round(self.prescribed.gbq, 3),
            "overage_gbq": round(self.overage_gbq, 3),
        }


@dataclass(frozen=True, slots=True)
class ChairTime:
    """Chair time booked and open at a centre over the plan's days."""

    booked: timedelta
    open: timedelta

    @property
    def utilisation(self) -> float:
        """Booked over open chair time (0 when the centre was never open)."""
        return self.booked / self.open if self.open > timedelta(0) else 0.0


@dataclass(frozen=True)
class PlanSummary:
    """Key figures of a plan (see `summarise`).

    Per-day mappings are keyed by id, then by local date, in order; utilisations
    are fractions (1.0 = full); activities are in `Activity`, printed in GBq.
    """

    orders: int
    placed: int
    unplanned: int
    unplanned_reasons: Mapping[str, int]
    delayed: int
    first_cycles_placed: int
    doses_per_site_day: Mapping[str, Mapping[date, int]]
    doses_per_centre_day: Mapping[str, Mapping[date, int]]
    batch_utilisation: Mapping[str, float]
    first_appointment_at: datetime | None
    last_appointment_at: datetime | None
    chair_time: Mapping[str, ChairTime]
    isotope_per_site: Mapping[str, IsotopeUse]
    at_risk: tuple[DoseAtRisk, ...]
    solver: SolverReport | None = None

    @property
    def batch_utilisation_mean(self) -> float:
        values = list(self.batch_utilisation.values())
        return sum(values) / len(values) if values else 0.0

    @property
    def batch_utilisation_max(self) -> float:
        return max(self.batch_utilisation.values(), default=0.0)

    @property
    def chair_utilisation(self) -> dict[str, float]:
        """Booked over open chair time per centre, from the first to the last appointment."""
        return {cid: use.utilisation for cid, use in self.chair_time.items()}

    @property
    def chair_utilisation_mean(self) -> float:
        """The mean of the centres' chair utilisations (centres open in the period)."""
        values = [use.utilisation for use in self.chair_time.values() if use.open > timedelta(0)]
        return sum(values) / len(values) if values else 0.0

    @property
    def isotope_total(self) -> IsotopeUse:
        return IsotopeUse(
            _total(use.made for use in self.isotope_per_site.values()),
            _total(use.prescribed for use in self.isotope_per_site.values()),
        )

    def at_risk_reasons(self) -> Counter[RiskReason]:
        return Counter(reason for dose in self.at_risk for reason in dose.reasons)

    def to_json(self) -> dict[str, Any]:
        """The summary as plain JSON types: ISO dates and UTC instants, GBq rounded to 1 MBq."""
        return {
            "orders": {
                "total": self.orders,
                "placed": self.placed,
                "unplanned": self.unplanned,
                "unplanned_reasons": dict(self.unplanned_reasons),
                "delayed": self.delayed,
                "first_cycles_placed": self.first_cycles_placed,
            },
            "doses_per_site_day": _days_json(self.doses_per_site_day),
            "doses_per_centre_day": _days_json(self.doses_per_centre_day),
            "batch_utilisation": {
                "per_batch": {b: round(u, 4) for b, u in self.batch_utilisation.items()},
                "mean": round(self.batch_utilisation_mean, 4),
                "max": round(self.batch_utilisation_max, 4),
            },
            "chair_utilisation": {
                "first_appointment": _instant_or_none(self.first_appointment_at),
                "last_appointment": _instant_or_none(self.last_appointment_at),
                "per_centre": {c: round(u, 4) for c, u in self.chair_utilisation.items()},
                "mean": round(self.chair_utilisation_mean, 4),
            },
            "isotope": {
                "per_site": {s: use.to_json() for s, use in self.isotope_per_site.items()},
                "total": self.isotope_total.to_json(),
            },
            "at_risk": {
                "count": len(self.at_risk),
                "reasons": {r.value: n for r, n in sorted(self.at_risk_reasons().items())},
                "doses": [dose.to_json() for dose in self.at_risk],
            },
            "solver": _solver_json(self.solver),
        }


def summarise(plan: Plan, network: Network, catalogue: Catalogue) -> PlanSummary:
    """The key figures of `plan` on `network`: counts, doses per day, utilisation, isotope, risk.

    Raises `UnknownName` when a placement names a site, lane, centre or product
    that the network or catalogue does not hold.
    """
    placements = plan.placements
    appointments = [p.appointment_at for p in placements]
    first_at = min(appointments, default=None)
    last_at = max(appointments, default=None)
    return PlanSummary(
        orders=len(placements) + len(plan.unplanned),
        placed=len(placements),
        unplanned=len(plan.unplanned),
        unplanned_reasons=dict(plan.unplanned_reasons().most_common()),
        delayed=sum(1 for p in placements if p.delay_reason is not None),
        first_cycles_placed=sum(1 for p in placements if p.order.first_cycle),
        doses_per_site_day=doses_per_site_day(placements, network),
        doses_per_centre_day=doses_per_centre_day(placements, network),
        batch_utilisation=batch_utilisation(placements, network),
        first_appointment_at=first_at,
        last_appointment_at=last_at,
        chair_time=chair_time(placements, network),
        isotope_per_site=isotope_per_site(placements),
        at_risk=doses_at_risk(placements, network, catalogue),
        solver=plan.report,
    )


def doses_per_site_day(placements: Iterable[Placement], network: Network) -> dict[str, dict[date, int]]:
    """Doses made per production site and local day of their batch's start."""
    counts: defaultdict[str, Counter[date]] = defaultdict(Counter)
    for p in placements:
        site = network.site(p.site_id)
        counts[p.site_id][site.calendar.local_date(p.batch_start_at)] += 1
    return _sorted_days(counts)


def doses_per_centre_day(placements: Iterable[Placement], network: Network) -> dict[str, dict[date, int]]:
    """Doses given per treatment centre and local day of administration."""
    counts: defaultdict[str, Counter[date]] = defaultdict(Counter)
    for p in placements:
        centre = network.centre(p.centre_id)
        counts[p.centre_id][centre.calendar.local_date(p.administration_at)] += 1
    return _sorted_days(counts)


def batch_utilisation(placements: Iterable[Placement], network: Network) -> dict[str, float]:
    """Doses in each batch over the doses its site fills per batch."""
    counts = Counter((p.site_id, p.batch_id) for p in placements)
    return {
        batch_id: n / network.site(site_id).doses_per_batch
        for (site_id, batch_id), n in sorted(counts.items(), key=lambda kv: kv[0][1])
    }


def chair_time(placements: Iterable[Placement], network: Network) -> dict[str, ChairTime]:
    """Booked and open chair time per centre, from the plan's first to its last appointment.

    The period runs over each centre's local dates from the first appointment in
    the plan to the last (anywhere in the network); a centre's open time is its
    chairs times its opening hours on each open day in that period. Every centre
    of the network is listed, those without a booking at 0.
    """
    placements = list(placements)
    if not placements:
        return {}
    first_at = min(p.appointment_at for p in placements)
    last_at = max(p.appointment_at for p in placements)
    booked: defaultdict[str, timedelta] = defaultdict(timedelta)
    for p in placements:
        network.centre(p.centre_id)  # an unknown centre is an error, not a blank
        booked[p.centre_id] += p.appointment_end_at - p.appointment_at
    return {
        centre.centre_id: ChairTime(booked[centre.centre_id], _open_chair_time(centre, first_at, last_at))
        for centre in sorted(network.centres.values(), key=lambda c: c.centre_id)
    }


def isotope_per_site(placements: Iterable[Placement]) -> dict[str, IsotopeUse]:
    """Activity made and prescribed per production site."""
    made: defaultdict[str, float] = defaultdict(float)
    prescribed: defaultdict[str, float] = defaultdict(float)
    for p in placements:
        made[p.site_id] += p.calibration_activity.bq
        prescribed[p.site_id] += p.order.prescribed.bq
    return {
        site_id: IsotopeUse(Activity(made[site_id]), Activity(prescribed[site_id]))
        for site_id in sorted(made)
    }


def doses_at_risk(
    placements: Iterable[Placement], network: Network, catalogue: Catalogue
) -> tuple[DoseAtRisk, ...]:
    """Placements with a thin margin (see the RISK_ constants), by administration time."""
    at_risk = []
    for p in sorted(placements, key=lambda p: (p.administration_at, p.order.order_id)):
        found = _risks(p, network, catalogue)
        if found:
            at_risk.append(
                DoseAtRisk(
                    order_id=p.order.order_id,
                    centre_id=p.centre_id,
                    administration_at=p.administration_at,
                    reasons=tuple(reason for reason, _ in found),
                    details=tuple(detail for _, detail in found),
                )
            )
    return tuple(at_risk)


def format_summary(summary: PlanSummary) -> list[tuple[str, str]]:
    """(label, value) rows for a terminal: totals and the busiest days, not every day."""
    rows = [
        ("orders", str(summary.orders)),
        ("placed / unplanned", f"{summary.placed} / {summary.unplanned}"),
    ]
    rows += [(f"  unplanned: {reason}", str(n)) for reason, n in summary.unplanned_reasons.items()]
    rows += [
        ("off the preferred day", str(summary.delayed)),
        ("first cycles placed", str(summary.first_cycles_placed)),
    ]
    for site_id, days in summary.doses_per_site_day.items():
        rows.append((f"doses made at {site_id}", _days_text(days)))
    busiest = _busiest(summary.doses_per_centre_day)
    if busiest is not None:
        centre_id, day, n = busiest
        rows.append(("busiest centre day", f"{centre_id} on {day.isoformat()}: {n} doses"))
    rows += [
        (
            "batch utilisation (mean / max)",
            f"{summary.batch_utilisation_mean:.0%} / {summary.batch_utilisation_max:.0%} "
            f"over {len(summary.batch_utilisation)} batches",
        ),
        ("chair utilisation (mean of centres)", f"{summary.chair_utilisation_mean:.0%}"),
    ]
    if summary.first_appointment_at is not None and summary.last_appointment_at is not None:
        rows.append(
            (
                "  over",
                f"{format_instant(summary.first_appointment_at)} to "
                f"{format_instant(summary.last_appointment_at)}",
            )
        )
    total = summary.isotope_total
    rows.append(("isotope made / overage", f"{total.made.gbq:.2f} GBq / {total.overage_gbq:.2f} GBq"))
    rows += [
        (f"  at {site_id}", f"{use.made.gbq:.2f} GBq / {use.overage_gbq:.2f} GBq")
        for site_id, use in summary.isotope_per_site.items()
    ]
    rows.append(("doses at risk", str(len(summary.at_risk))))
    rows += [(f"  {_RISK_TEXT[reason]}", str(n)) for reason, n in summary.at_risk_reasons().most_common()]
    if summary.solver is not None:
        rows += _solver_rows(summary.solver)
    return rows


_RISK_TEXT = {
    RiskReason.ARRIVAL_MARGIN: f"under {format_duration(RISK_ARRIVAL_MARGIN)} to spare on arrival, "
    "cannot wait a day",
    RiskReason.LANE_RELIABILITY: f"lane on time under {RISK_LANE_RELIABILITY:.0%}",
    RiskReason.WINDOW_MARGIN: f"window closes under {format_duration(RISK_WINDOW_MARGIN)} "
    "after administration",
    RiskReason.TOLERANCE_MARGIN: f"activity within {RISK_TOLERANCE_MARGIN:.0%} of a tolerance bound",
}


def _risks(p: Placement, network: Network, catalogue: Catalogue) -> list[tuple[RiskReason, str]]:
    found = []
    product = catalogue.therapy(p.order.product_id)
    dose = p.dose(product)
    window = dose.window()
    spare = elapsed(p.arrives_at, p.appointment_at) - HANDOVER
    can_wait = window is not None and elapsed(p.administration_at, window.latest_at) >= RISK_RESCHEDULE
    if spare < RISK_ARRIVAL_MARGIN and not can_wait:
        found.append(
            (
                RiskReason.ARRIVAL_MARGIN,
                f"arrives {format_duration(spare)} before its handover and cannot wait a day "
                f"(under {format_duration(RISK_ARRIVAL_MARGIN)} to spare)",
            )
        )
    lane = _lane(network, p.lane_id)
    if lane.reliability < RISK_LANE_RELIABILITY:
        found.append(
            (
                RiskReason.LANE_RELIABILITY,
                f"lane {lane.lane_id} is on time {lane.reliability:.0%} of the time "
                f"(under {RISK_LANE_RELIABILITY:.0%})",
            )
        )
    if window is None:
        found.append((RiskReason.WINDOW_MARGIN, "the dose is never inside its tolerance"))
    elif window.latest_at - p.administration_at < RISK_WINDOW_MARGIN:
        found.append(
            (
                RiskReason.WINDOW_MARGIN,
                f"may be given until {format_duration(window.latest_at - p.administration_at)} "
                f"after its administration ({window.latest_limited_by.value}; under "
                f"{format_duration(RISK_WINDOW_MARGIN)})",
            )
        )
    low, high = product.tolerance_band(dose.target)
    given = dose.activity_at(p.administration_at)
    margin = min(given.bq - low.bq, high.bq - given.bq) / dose.target.bq
    if margin < RISK_TOLERANCE_MARGIN:
        found.append(
            (
                RiskReason.TOLERANCE_MARGIN,
                f"holds {given} at administration, {margin:.1%} of the prescribed activity "
                f"from its tolerance band's end (under {RISK_TOLERANCE_MARGIN:.0%})",
            )
        )
    return found


def _lane(network: Network, lane_id: str) -> Lane:
    try:
        return network.lanes[lane_id]
    except KeyError:
        raise UnknownName("lane", lane_id, network.lanes) from None


def _open_chair_time(centre: TreatmentCentre, first_at: datetime, last_at: datetime) -> timedelta:
    day = centre.calendar.local_date(first_at)
    last_day = centre.calendar.local_date(last_at)
    hours = timedelta(0)
    while day <= last_day:
        opening = centre.opening(day)
        if opening is not None:
            hours += opening[1] - opening[0]
        day += timedelta(days=1)
    return hours * centre.chairs


def _sorted_days(counts: Mapping[str, Counter[date]]) -> dict[str, dict[date, int]]:
    return {key: dict(sorted(counts[key].items())) for key in sorted(counts)}


def _days_json(days: Mapping[str, Mapping[date, int]]) -> dict[str, dict[str, int]]:
    return {key: {day.isoformat(): n for day, n in by_day.items()} for key, by_day in days.items()}


def _days_text(days: Mapping[date, int]) -> str:
    if not days:
        return "none"
    most = max(days.values())
    return f"{sum(days.values())} on {len(days)} days, at most {most} a day"


def _busiest(days: Mapping[str, Mapping[date, int]]) -> tuple[str, date, int] | None:
    cells = [(n, key, day) for key, by_day in days.items() for day, n in by_day.items()]
    if not cells:
        return None
    # Most doses; among equals the earliest day, then the first id.
    n, key, day = min(cells, key=lambda cell: (-cell[0], cell[2], cell[1]))
    return key, day, n


def _instant_or_none(moment: datetime | None) -> str | None:
    return format_instant(moment) if moment is not None else None


def _solver_json(report: SolverReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {
        "planner": report.planner,
        "objective": report.objective,
        "bound": report.bound,
        "gap": report.gap,
        "wall_s": report.wall_s,
        "status": report.status,
    }


def _solver_rows(report: SolverReport) -> list[tuple[str, str]]:
    bound = "none" if report.bound is None else f"{report.bound:.4f}"
    gap = "none" if report.gap is None else f"{report.gap:.2%}"
    return [
        ("planner", f"{report.planner} ({report.status})"),
        ("objective / bound / gap", f"{report.objective:.4f} / {bound} / {gap}"),
        ("wall time", f"{report.wall_s:.2f} s"),
    ]


def _total(activities: Iterable[Activity]) -> Activity:
    return Activity(sum(a.bq for a in activities))
