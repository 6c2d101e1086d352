"""Before ordering: could the patient's next dose be given at a preferred time?

The same window as `submissions.submit`, and the instant placer's options, so the answer
is the dose the order would get; nothing is reserved.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from rltnet.domain import decay
from rltnet.domain.errors import InvalidInput
from rltnet.domain.network import TreatmentCentre
from rltnet.domain.orders import DoseOrder
from rltnet.domain.pathway import PatientPathway, Stage
from rltnet.domain.products import TherapyProduct
from rltnet.domain.units import Activity, format_local
from rltnet.service import pathways
from rltnet.service.disruptions import stored_events
from rltnet.service.errors import Forbidden
from rltnet.service.placement import Option
from rltnet.service.platform import Platform
from rltnet.service.schemas import CheckedOptionPublic, OrderCheckPublic
from rltnet.service.security import Principal, Role
from rltnet.service.usecases import orders
from rltnet.service.usecases.patients import visible

CHECK_ALTERNATIVES = 3  # distinct days offered when the preferred one cannot work


def check(
    session: Session,
    platform: Platform,
    who: Principal,
    patient_id: str,
    preferred_at: datetime | None = None,
    *,
    reduction: str | None = None,
    platelets_per_mm3: int | None = None,
) -> OrderCheckPublic:
    """Whether the patient's next dose could be given at `preferred_at` (default: the earliest the
    label allows), before the coordinator orders it.

    The same window as `submit`; the options are the instant placer's, so the answer is
    the dose the order would get: the option nearest the preferred time, its activity
    then (the calibration activity decayed to it) against the tolerance band. Nothing is
    reserved: another order may take a batch, chair or permit before this one is sent.
    """
    if who.role is not Role.COORDINATOR:
        raise Forbidden("the order check is for a coordinator of the patient's centre, who places orders")
    patient = visible(session, who, patient_id)
    product = platform.catalogue.therapy(patient.product_id)
    pathway = pathways.load(session, patient, platform.catalogue)
    at = platform.clock.now()
    earliest, latest = orders.cycle_window(platform, pathway, product, at)
    preferred = preferred_at or earliest
    probe = DoseOrder(
        order_id="check",
        patient_id=patient.id,
        product_id=product.product_id,
        cycle=_next_cycle(pathway, product),
        centre_id=patient.centre_id,
        earliest_at=earliest,
        latest_at=latest,
        preferred_at=min(max(preferred, earliest), latest),  # the nearest the window allows
        prescribed=orders.prescription(product, patient.weight_kg, reduction, platelets_per_mm3),
        placed_at=at,
        weight_kg=patient.weight_kg,
    )
    options, why_none = platform.placer.options(probe, at, stored_events(session))
    session.rollback()  # end the read: no connection is held past it
    return _checked(platform, product, probe, preferred, list(options), why_none)


def _next_cycle(pathway: PatientPathway, product: TherapyProduct) -> int:
    """The cycle an order now would be for: the same one again after a missed dose, a failed
    batch or a cancellation, else the next; refused once every cycle is given."""
    state = pathway.current
    if state.stage in (Stage.CYCLE_PLANNED, Stage.QC_FAILED, Stage.MISSED):
        return state.cycle
    if state.cycles_given >= product.schedule.cycles:
        raise InvalidInput(
            f"all {product.schedule.cycles} cycles of {product.brand} are given; complete the pathway "
            f"instead of ordering"
        )
    return state.cycles_given + 1


def _checked(
    platform: Platform,
    product: TherapyProduct,
    probe: DoseOrder,
    preferred: datetime,
    options: list[Option],
    why_none: str | None,
) -> OrderCheckPublic:
    """The answer: the option nearest `preferred` and, when it cannot work, why and what can."""
    centre = platform.network.centres[probe.centre_id]
    low, high = product.tolerance_band(probe.prescribed)
    nearest = sorted(options, key=lambda o: abs(o.administration_at - preferred))  # stable: cheapest first
    best = _option_public(product, probe, nearest[0]) if nearest else None
    in_window = probe.earliest_at <= preferred <= probe.latest_at
    refusal = _refusal(centre, product, probe, preferred, best, why_none)
    workable_days = [] if refusal is None else _nearest_days(centre, product, probe, nearest)
    return OrderCheckPublic(
        patient_id=probe.patient_id,
        product_id=product.product_id,
        cycle=probe.cycle,
        preferred_at=preferred,
        earliest_at=probe.earliest_at,
        latest_at=probe.latest_at,
        in_window=in_window,
        workable=refusal is None,
        prescribed_gbq=probe.prescribed.gbq,
        tolerance=product.tolerance,
        low_gbq=low.gbq,
        high_gbq=high.gbq,
        option=best,
        refusal=refusal,
        nearest_workable=workable_days,
    )


def _expected(product: TherapyProduct, option: Option) -> Activity:
    """What the dose holds at its administration: its calibration activity, decayed."""
    return decay.activity_at(
        product.nuclide, Activity(option.made_bq), option.batch_start_at, option.administration_at
    )


def _within(product: TherapyProduct, prescribed: Activity, held: Activity) -> bool:
    low, high = product.tolerance_band(prescribed)
    slack = 1e-9  # float rounding only, far below what a dose calibrator reads
    return low.bq * (1 - slack) <= held.bq <= high.bq * (1 + slack)


def _option_public(product: TherapyProduct, probe: DoseOrder, option: Option) -> CheckedOptionPublic:
    expected = _expected(product, option)
    return CheckedOptionPublic(
        administration_at=option.administration_at,
        site_id=option.site_id,
        batch_id=option.batch_id,
        calibration_at=option.batch_start_at,
        calibration_gbq=option.made_bq / 1e9,
        arrives_at=option.arrives_at,
        expected_gbq=expected.gbq,
        within_band=_within(product, probe.prescribed, expected),
    )


def _refusal(
    centre: TreatmentCentre,
    product: TherapyProduct,
    probe: DoseOrder,
    preferred: datetime,
    best: CheckedOptionPublic | None,
    why_none: str | None,
) -> str | None:
    """Why `preferred` cannot work, in the centre's own time, and what to do; None if it can."""
    zone = centre.calendar.time_zone

    def local(instant: datetime) -> str:
        return format_local(instant, zone)

    window = f"{local(probe.earliest_at)} to {local(probe.latest_at)}"
    if best is None:
        return (
            f"no dose of {product.brand} can reach {centre.name} inside this cycle's window "
            f"({window}): "
            f"{why_none or 'no option'}; ask the manufacturer, or discuss a delayed cycle with the physician"
        )
    if not probe.earliest_at <= preferred <= probe.latest_at:
        return (
            f"{local(preferred)} is outside the window the {product.brand} label allows for this "
            f"cycle: {window}; choose a time inside it, such as one of the dates listed"
        )
    day = centre.calendar.local_date(preferred)
    if centre.calendar.local_date(best.administration_at) != day:
        return (
            f"no dose of {product.brand} can be given at {centre.name} on {day:%a %d %b %Y}: no batch, "
            f"shipment and open treatment session meet that day; choose one of the dates listed"
        )
    if not best.within_band:
        return (
            f"the dose would hold {best.expected_gbq:.2f} GBq at {local(best.administration_at)}, "
            f"outside the {product.brand} tolerance band; choose another date"
        )
    return None


def _nearest_days(
    centre: TreatmentCentre, product: TherapyProduct, probe: DoseOrder, nearest: list[Option]
) -> list[datetime]:
    """The administration nearest the preferred time on each of the nearest days that can work,
    in date order."""
    chosen: dict[date, datetime] = {}
    for option in nearest:
        day = centre.calendar.local_date(option.administration_at)
        if day not in chosen and _within(product, probe.prescribed, _expected(product, option)):
            chosen[day] = option.administration_at
            if len(chosen) == CHECK_ALTERNATIVES:
                break
    return sorted(chosen.values())
