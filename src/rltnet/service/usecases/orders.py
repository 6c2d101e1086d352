"""Dose orders once taken: confirm, adjust, cancel, follow to the chair; their window and answer.

Orders are taken by `usecases.submissions` and placed at once (`service.placement`)
against the capacities the database holds; an order that cannot be placed is
still taken, with the reason, for the full planner. Each order shows how long it
has waited for the manufacturer's confirmation, and is flagged overdue past the
product's confirmation target (24 h).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from rltnet.domain.dose import Dose
from rltnet.domain.errors import InvalidInput
from rltnet.domain.orders import (
    DoseOrder,
    OrderChange,
    first_cycle_window,
    later_cycle_window,
    next_status,
)
from rltnet.domain.pathway import Move, PathwayEvent, PatientPathway, Stage
from rltnet.domain.products import TherapyProduct
from rltnet.domain.units import Activity, after, format_instant
from rltnet.service import audit, pathways
from rltnet.service.errors import Conflict, Forbidden, NotFound
from rltnet.service.placement import Placed, serialise
from rltnet.service.platform import Platform
from rltnet.service.schemas import (
    AdministrationCreate,
    CancellationPublic,
    OrderAdjust,
    OrderCancel,
    OrderPublic,
    Page,
    PatientPublic,
    PlacementPublic,
    ProgressCreate,
)
from rltnet.service.security import CENTRE_ROLES, Principal, Role
from rltnet.service.usecases.patients import public as patient_public
from rltnet.service.usecases.patients import visible
from rltnet.store import tables

DEFAULT_CONFIRMATION = timedelta(hours=24)  # the Novartis target, for products without one
_STEPS = {
    "start_production": Move.START_PRODUCTION,
    "release": Move.RELEASE,
    "fail_qc": Move.FAIL_QC,
    "ship": Move.SHIP,
    "deliver": Move.DELIVER,
    "miss": Move.MISS,
}
_SHIPMENT_STATUS = {"ship": "in transit", "deliver": "delivered", "miss": "missed"}
_CHANGES = {"fail_qc": OrderChange.FAIL_QC, "miss": OrderChange.MISS}  # other steps: PROGRESS


def cycle_window(
    platform: Platform, pathway: PatientPathway, product: TherapyProduct, at: datetime
) -> tuple[datetime, datetime]:
    """The cycle's administration window: the label's interval after the previous cycle, or
    for a first cycle as soon as the order lead time allows; never sooner than the lead
    time from now."""
    state = pathway.current
    allowed = {Stage.MDT_APPROVED, Stage.FOLLOW_UP, Stage.CYCLE_PLANNED, Stage.QC_FAILED, Stage.MISSED}
    if state.stage not in allowed:
        raise InvalidInput(
            f"the patient is at stage {state.stage.value!r}; an order needs MDT approval "
            f"(or follow-up after a cycle): {pathways.NEXT_STEP_OWNER[state.stage]}"
        )
    lead = product.ordering.lead_time or timedelta(0)
    if state.last_administered_at is None:
        earliest, latest = first_cycle_window(product, at)
    else:
        earliest, latest = later_cycle_window(product, state.last_administered_at)
    earliest = max(earliest, at + lead)
    if earliest > latest:
        raise InvalidInput(
            f"too late to order this cycle: with the {lead.days}-day order lead time the earliest "
            f"administration is {format_instant(earliest)}, after the cycle's window closes at "
            f"{format_instant(latest)}; discuss a delayed cycle with the physician"
        )
    return earliest, latest


def prescription(
    product: TherapyProduct, weight_kg: float | None, reduction: str | None, platelets: int | None
) -> Activity:
    if reduction is not None:
        if product.reduction is None:
            raise InvalidInput(f"the {product.brand} label has no reduced dose; order without 'reduction'")
        return product.reduction.activity
    return product.prescribe(weight_kg, platelets)


def confirmation_target(product: TherapyProduct) -> timedelta:
    """How long an order may wait for the manufacturer's confirmation before it is flagged."""
    return product.ordering.confirmation_target or DEFAULT_CONFIRMATION


def public(
    session: Session, row: tables.Order, platform: Platform, at: datetime | None = None
) -> OrderPublic:
    """The order as its readers see it, with its placement read."""
    return public_with(row, platform, at or platform.clock.now(), placement_of(session, row.id))


def public_with(
    row: tables.Order, platform: Platform, at: datetime, placement: PlacementPublic | None
) -> OrderPublic:
    """The order as its readers see it, with the `placement` the caller has in hand."""
    target = confirmation_target(platform.catalogue.therapy(row.product_id))
    waiting = None
    if row.status == "requested":
        waiting = round((at - row.placed_at).total_seconds() / 3600, 1)
    return OrderPublic(
        id=row.id,
        patient_id=row.patient_id,
        product_id=row.product_id,
        cycle=row.cycle,
        centre_id=row.centre_id,
        earliest_at=row.earliest_at,
        latest_at=row.latest_at,
        preferred_at=row.preferred_at,
        prescribed_gbq=row.prescribed_bq / 1e9,
        reduction=row.reduction,
        placed_at=row.placed_at,
        status=row.status,
        confirmed_at=row.confirmed_at,
        waiting_hours=waiting,
        overdue=row.status == "requested" and at - row.placed_at > target,
        cancellation_fee=row.cancellation_fee,
        plan_note=row.plan_note,
        proposed_at=row.proposed_at,
        proposal_note=row.proposal_note,
        placement=placement,
    )


def placed_public(placed: Placed, product: TherapyProduct) -> PlacementPublic:
    """A placement just reserved, as `placement_of` would read it back (no read needed)."""
    option = placed.option
    return PlacementPublic(
        site_id=option.site_id,
        batch_id=option.batch_id,
        calibration_at=option.batch_start_at,
        calibration_gbq=option.made_bq / 1e9,
        released_at=option.released_at,
        expiry_at=after(option.batch_start_at, product.shelf_life),
        lane_id=option.lane_id,
        departs_at=option.departs_at,
        arrives_at=option.arrives_at,
        shipment_status="planned",
        chair=placed.chair,
        appointment_at=option.start_at,
        appointment_end_at=option.end_at,
        administration_at=option.administration_at,
    )


def placement_of(session: Session, order_id: str) -> PlacementPublic | None:
    found = session.execute(
        select(tables.Dose, tables.Shipment, tables.Appointment)
        .join(tables.Shipment, tables.Shipment.order_id == tables.Dose.order_id)
        .join(tables.Appointment, tables.Appointment.order_id == tables.Dose.order_id)
        .where(tables.Dose.order_id == order_id)
    ).first()
    if found is None:
        return None
    dose, shipment, appointment = found
    return PlacementPublic(
        site_id=dose.site_id,
        batch_id=dose.batch_id,
        calibration_at=dose.calibration_at,
        calibration_gbq=dose.calibration_bq / 1e9,
        released_at=dose.released_at,
        expiry_at=dose.expiry_at,
        lane_id=shipment.lane_id,
        departs_at=shipment.departs_at,
        arrives_at=shipment.arrives_at,
        shipment_status=shipment.status,
        chair=appointment.chair,
        appointment_at=appointment.start_at,
        appointment_end_at=appointment.end_at,
        administration_at=appointment.administration_at,
    )


def listing(
    session: Session,
    platform: Platform,
    who: Principal,
    *,
    status: str | None,
    centre_id: str | None,
    product_id: str | None,
    overdue: bool | None,
    limit: int,
    offset: int,
) -> Page[OrderPublic]:
    if who.role is Role.ANALYST:
        raise Forbidden("analysts see de-identified aggregates only: GET /api/v1/aggregates")
    query = select(tables.Order)
    if who.role in CENTRE_ROLES:
        query = query.where(tables.Order.centre_id == who.centre_id)
    if centre_id:
        query = query.where(tables.Order.centre_id == centre_id)
    if status:
        query = query.where(tables.Order.status == status)
    if product_id:
        query = query.where(tables.Order.product_id == product_id)
    if overdue is not None:
        now = platform.clock.now()
        late = or_(
            *(
                (tables.Order.product_id == product.product_id)
                & (tables.Order.placed_at < now - confirmation_target(product))
                for product in platform.catalogue.therapies.values()
            )
        )
        waiting = (tables.Order.status == "requested") & late
        query = query.where(waiting if overdue else ~waiting)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(tables.Order.placed_at, tables.Order.id).limit(limit).offset(offset)
    )
    at = platform.clock.now()
    return Page(
        items=[public(session, r, platform, at) for r in rows], total=total, limit=limit, offset=offset
    )


def get(session: Session, platform: Platform, who: Principal, order_id: str) -> OrderPublic:
    return public(session, _visible(session, who, order_id), platform)


def _visible(session: Session, who: Principal, order_id: str) -> tables.Order:
    if who.role is Role.ANALYST:
        raise Forbidden("analysts see de-identified aggregates only: GET /api/v1/aggregates")
    row = session.get(tables.Order, order_id)
    if row is None or not who.sees_centre(row.centre_id):
        raise NotFound("order", order_id)
    return row


def changing(session: Session, who: Principal, order_id: str) -> tables.Order:
    """The order, if the caller may see it, locked for a change and read afresh under the locks.

    Every change of a stored order (confirm, adjust, propose, accept, cancel, progress,
    administer) and every placement, re-plan and group commit takes its locks in this one
    order, so no two ever wait on each other in a circle (see `service.placement`):

    1. the patients' rows (in id order), which the pathway's events update;
    2. the placement lock (`placement.serialise`; on SQLite the write lock, from BEGIN);
    3. the orders' rows;
    4. the batch rows, then the centre-day rows, in key order (the counters).

    A change that came second therefore finds the order as the first left it (cancelled,
    say) and is judged on that (`domain.orders.next_status`).
    """
    row = _visible(session, who, order_id)  # whose it is: an order never changes patient
    session.execute(select(tables.Patient.id).where(tables.Patient.id == row.patient_id).with_for_update())
    serialise(session)
    session.refresh(row, with_for_update=True)
    return row


def _advance(
    session: Session, platform: Platform, who: Principal, row: tables.Order, event: PathwayEvent
) -> None:
    patient = session.get(tables.Patient, row.patient_id)
    if patient is None:
        raise NotFound("patient", row.patient_id)
    pathway = pathways.load(session, patient, platform.catalogue)
    if pathway.current.order_id != row.id:
        raise Conflict(
            f"order {row.id} is not the patient's current order (that is {pathway.current.order_id}); "
            f"it was cancelled or replaced"
        )
    pathways.record(session, patient, pathway, event)


def confirm(session: Session, platform: Platform, who: Principal, order_id: str) -> OrderPublic:
    if who.role is not Role.MANUFACTURER:
        raise Forbidden("orders are confirmed by the manufacturer")
    row = changing(session, who, order_id)
    status = next_status(order_id, row.status, OrderChange.CONFIRM)
    before = audit.snapshot(row)
    at = platform.clock.now()
    _advance(session, platform, who, row, PathwayEvent(Move.CONFIRM, at, who.username))
    row.status, row.confirmed_at = status, at
    audit.record(
        session, who, "confirm", "order", order_id, before, audit.snapshot(row), at=platform.clock.now()
    )
    session.commit()
    return public(session, row, platform)


def adjust(
    session: Session, platform: Platform, who: Principal, order_id: str, body: OrderAdjust
) -> OrderPublic:
    """A new preferred time: the dose is placed again; a confirmed order needs confirming again.
    Only a live order (requested or confirmed), and not once its batch has started."""
    row = _centre_order(session, who, order_id)
    status = next_status(order_id, row.status, OrderChange.ADJUST)
    check_movable(session, row, platform.clock.now())
    at = platform.clock.now()
    if not row.earliest_at <= body.preferred_at <= row.latest_at:
        raise InvalidInput(
            f"preferred_at {format_instant(body.preferred_at)} is outside the order's window "
            f"{format_instant(row.earliest_at)} to {format_instant(row.latest_at)}; choose a time inside it"
        )
    before = audit.snapshot(row)
    platform.placer.release(session, order_id, row.prescribed_bq)
    row.preferred_at, row.status, row.confirmed_at = body.preferred_at, status, None
    row.proposed_at, row.proposal_note = None, None  # the centre has chosen: a pending proposal lapses
    order = domain_order(row)
    placed = platform.placer.place(session, order, at)
    row.plan_note = placed if isinstance(placed, str) else None
    audit.record(
        session, who, "adjust", "order", order_id, before, audit.snapshot(row), at=platform.clock.now()
    )
    session.commit()
    return public(session, row, platform)


def cancel(
    session: Session, platform: Platform, who: Principal, order_id: str, body: OrderCancel
) -> CancellationPublic:
    """Cancel under the product's cancellation terms; the fee, if any, is shown."""
    row = _centre_order(session, who, order_id)
    status = next_status(order_id, row.status, OrderChange.CANCEL)
    product = platform.catalogue.therapy(row.product_id)
    dose = session.get(tables.Dose, order_id)
    at = platform.clock.now()
    fee = product.ordering.cancellation_fee(at, dose.calibration_at) if dose is not None else None
    before = audit.snapshot(row)
    _advance(session, platform, who, row, PathwayEvent(Move.CANCEL_ORDER, at, who.username, body.reason))
    platform.placer.release(session, order_id, row.prescribed_bq)
    row.status, row.cancelled_at, row.cancellation_fee = status, at, fee
    row.proposed_at, row.proposal_note = None, None
    audit.record(
        session, who, "cancel", "order", order_id, before, audit.snapshot(row), at=platform.clock.now()
    )
    session.commit()
    if fee is None:
        consequence = (
            "cancelled; no cancellation terms apply"
            if dose is None
            else (f"cancelled; {product.brand} publishes no cancellation fee")
        )
    else:
        consequence = f"cancelled; fee under the {product.brand} terms: {fee}"
    return CancellationPublic(order=public(session, row, platform), fee=fee, consequence=consequence)


def check_movable(session: Session, row: tables.Order, at: datetime) -> None:
    """Not once its dose is being made: production recorded, or its batch's start passed by `at`."""
    patient = session.get(tables.Patient, row.patient_id)
    dose = session.get(tables.Dose, row.id)
    started = dose is not None and dose.calibration_at <= at
    if started or (patient is not None and patient.stage not in (Stage.ORDERED, Stage.CONFIRMED)):
        raise Conflict(f"the dose of order {row.id} is already in production; it cannot be moved")


def _centre_order(session: Session, who: Principal, order_id: str) -> tables.Order:
    if who.role is not Role.COORDINATOR:
        raise Forbidden("orders are adjusted and cancelled by a coordinator of the patient's centre")
    return changing(session, who, order_id)


def progress(
    session: Session, platform: Platform, who: Principal, order_id: str, body: ProgressCreate
) -> OrderPublic:
    """The dose's journey: production, QC, shipping, delivery (manufacturer); a missed dose
    (centre)."""
    manufacturer_steps = {"start_production", "release", "fail_qc", "ship", "deliver"}
    if body.step in manufacturer_steps and who.role is not Role.MANUFACTURER:
        raise Forbidden(f"'{body.step}' is recorded by the manufacturer")
    if body.step == "miss" and who.role not in CENTRE_ROLES:
        raise Forbidden("a missed dose is recorded by the patient's centre")
    row = changing(session, who, order_id)
    status = next_status(order_id, row.status, _CHANGES.get(body.step, OrderChange.PROGRESS))
    before = audit.snapshot(row)
    _advance(
        session,
        platform,
        who,
        row,
        PathwayEvent(_STEPS[body.step], body.at or platform.clock.now(), who.username, body.reason),
    )
    shipment = session.get(tables.Shipment, order_id)
    if shipment is not None and body.step in _SHIPMENT_STATUS:
        shipment.status = _SHIPMENT_STATUS[body.step]
    row.status = status
    audit.record(
        session, who, body.step, "order", order_id, before, audit.snapshot(row), at=platform.clock.now()
    )
    session.commit()
    return public(session, row, platform)


def administer(
    session: Session, platform: Platform, who: Principal, patient_id: str, body: AdministrationCreate
) -> PatientPublic:
    """Record the dose given; the domain refuses an expired or out-of-tolerance dose."""
    if who.role is not Role.PHYSICIAN:
        raise Forbidden("an administration is recorded by a nuclear-medicine physician")
    patient = visible(session, who, patient_id)
    if who.centre_id != patient.centre_id:
        raise NotFound("patient", patient_id)
    row = session.get(tables.Order, body.order_id)
    if row is None or row.patient_id != patient_id:
        raise NotFound("placed order of this patient", body.order_id)
    row = changing(session, who, body.order_id)
    status = next_status(row.id, row.status, OrderChange.ADMINISTER)
    dose_row = session.get(tables.Dose, body.order_id)
    if dose_row is None:
        raise NotFound("placed order of this patient", body.order_id)
    product = platform.catalogue.therapy(row.product_id)
    dose = Dose(
        dose_id=f"dose-{row.id}",
        product=product,
        batch_id=dose_row.batch_id,
        calibration_at=dose_row.calibration_at,
        calibration_activity=Activity(dose_row.calibration_bq),
        expiry_at=dose_row.expiry_at,
        prescribed=Activity(row.prescribed_bq),
        released_at=dose_row.released_at,
    )
    before = audit.snapshot(row)
    pathway = pathways.load(session, patient, platform.catalogue)
    pathways.record(
        session, patient, pathway, PathwayEvent(Move.ADMINISTER, body.at, who.username, dose=dose)
    )
    row.status = status
    audit.record(
        session, who, "administer", "order", row.id, before, audit.snapshot(row), at=platform.clock.now()
    )
    session.commit()
    return patient_public(patient, platform.clock.now())


def domain_order(row: tables.Order) -> DoseOrder:
    """The stored order as the domain's `DoseOrder`."""
    return DoseOrder(
        order_id=row.id,
        patient_id=row.patient_id,
        product_id=row.product_id,
        cycle=row.cycle,
        centre_id=row.centre_id,
        earliest_at=row.earliest_at,
        latest_at=row.latest_at,
        preferred_at=row.preferred_at,
        prescribed=Activity(row.prescribed_bq),
        placed_at=row.placed_at,
        weight_kg=row.weight_kg,
        confirmed=row.status == "confirmed",
    )


def of_patient(session: Session, platform: Platform, who: Principal, patient_id: str) -> list[OrderPublic]:
    """The patient's orders, oldest first, for whoever may see the patient."""
    if who.role is Role.ANALYST:
        raise Forbidden("analysts see de-identified aggregates only: GET /api/v1/aggregates")
    visible(session, who, patient_id)
    rows = session.scalars(
        select(tables.Order)
        .where(tables.Order.patient_id == patient_id)
        .order_by(tables.Order.placed_at, tables.Order.id)
    )
    at = platform.clock.now()
    return [public(session, row, platform, at) for row in rows]
