"""Dose orders once taken: confirm, adjust, cancel, follow to the chair; their window and answer.

Orders are taken by `usecases.submissions` and placed at once (`service.placement`)
against the capacities the database holds; an order that cannot be placed is
still taken, with the reason, for the full planner. Each order shows how long it
has waited for the manufacturer's confirmation, and is flagged overdue past the
product's confirmation target (24 h).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from rltnet.domain import timing
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
from rltnet.domain.records import AdministrationRecord, DoseRecord, ReleaseRecord, ShippingRecord
from rltnet.domain.timing import DoseRoute
from rltnet.domain.units import Activity, after, format_instant
from rltnet.service import audit, pathways
from rltnet.service.errors import Conflict, Forbidden, NotFound
from rltnet.service.placement import Placed, serialise
from rltnet.service.platform import Platform
from rltnet.service.schemas import (
    AdministrationCreate,
    CancellationPreviewPublic,
    CancellationPublic,
    DoseRecordPublic,
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
    """The order as its readers see it, with its placement and dose record read."""
    return public_with(
        row,
        platform,
        at or platform.clock.now(),
        placement_of(session, row.id),
        record_of(session, row.id),
    )


def record_of(session: Session, order_id: str) -> DoseRecordPublic | None:
    """What was recorded of the order's dose so far; None before its production started."""
    row = session.get(tables.DoseRecordRow, order_id)
    if row is None:
        return None
    given = None
    if row.assayed_bq is not None:
        given = (row.assayed_bq - (row.residual_bq or 0.0)) / 1e9
    return DoseRecordPublic(
        production_started_at=row.production_started_at,
        released_at=row.released_at,
        calibration_at=row.calibration_at,
        calibration_gbq=None if row.calibration_bq is None else row.calibration_bq / 1e9,
        qc_result=row.qc_result,
        lot=row.lot,
        qc_failed_at=row.qc_failed_at,
        shipped_at=row.shipped_at,
        courier=row.courier,
        tracking=row.tracking,
        delivered_at=row.delivered_at,
        missed_at=row.missed_at,
        administered_at=row.administered_at,
        assayed_gbq=None if row.assayed_bq is None else row.assayed_bq / 1e9,
        residual_gbq=None if row.residual_bq is None else row.residual_bq / 1e9,
        administered_gbq=given,
        given_by=row.given_by,
    )


def public_with(
    row: tables.Order,
    platform: Platform,
    at: datetime,
    placement: PlacementPublic | None,
    recorded: DoseRecordPublic | None = None,
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
        recorded=recorded,
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
    session: Session,
    platform: Platform,
    who: Principal,
    row: tables.Order,
    event: PathwayEvent,
    check: Callable[[DoseRecord], None] | None = None,
) -> None:
    """Record `event` on the order's patient; `check` first tests its time against what was
    recorded of the order's dose (`domain.timing`)."""
    patient = session.get(tables.Patient, row.patient_id)
    if patient is None:
        raise NotFound("patient", row.patient_id)
    pathway = pathways.load(session, patient, platform.catalogue)
    if pathway.current.order_id != row.id:
        raise Conflict(
            f"order {row.id} is not the patient's current order (that is {pathway.current.order_id}); "
            f"it was cancelled or replaced"
        )
    if check is not None:
        check(pathway.current.dose or DoseRecord(order_id=row.id))
    pathways.record(session, patient, pathway, event, platform.clock.now())


def dose_route(session: Session, platform: Platform, order_id: str) -> DoseRoute:
    """The batch, QC time and lane of an order's placed dose: what its recorded steps are
    checked against."""
    dose = session.get(tables.Dose, order_id)
    shipment = session.get(tables.Shipment, order_id)
    if dose is None or shipment is None:
        raise Conflict(
            f"order {order_id} is not placed on a batch and shipment yet; the planner places it first"
        )
    batch = session.get(tables.Batch, dose.batch_id)
    lane = platform.network.lanes.get(shipment.lane_id)
    site = platform.network.sites.get(dose.site_id)
    return DoseRoute(
        batch_id=dose.batch_id,
        batch_start_at=batch.start_at if batch is not None else dose.calibration_at,
        qc_release=site.qc_release if site is not None else dose.released_at - dose.calibration_at,
        lane_id=shipment.lane_id,
        transit=lane.transit if lane is not None else shipment.arrives_at - shipment.departs_at,
    )


def step_check(move: Move, at: datetime, route: DoseRoute) -> Callable[[DoseRecord], None]:
    """The check of a dose's step recorded `at` against its route and what was recorded before."""

    def check(recorded: DoseRecord) -> None:
        if move is Move.START_PRODUCTION:
            timing.check_production(at, route)
        elif move is Move.RELEASE:
            timing.check_release(at, recorded, route)
        elif move is Move.SHIP:
            timing.check_shipping(at, recorded)
        elif move is Move.DELIVER:
            timing.check_delivery(at, recorded, route)
        elif move is Move.ADMINISTER:
            timing.check_administration(at, recorded)

    return check


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
    at = platform.clock.now()
    fee, consequence = _cancellation_terms(session, platform, row, at)
    before = audit.snapshot(row)
    _advance(session, platform, who, row, PathwayEvent(Move.CANCEL_ORDER, at, who.username, body.reason))
    platform.placer.release(session, order_id, row.prescribed_bq)
    row.status, row.cancelled_at, row.cancellation_fee = status, at, fee
    row.proposed_at, row.proposal_note = None, None
    audit.record(
        session, who, "cancel", "order", order_id, before, audit.snapshot(row), at=platform.clock.now()
    )
    session.commit()
    order = public(session, row, platform)
    return CancellationPublic(order=order, fee=fee, consequence=f"cancelled; {consequence}")


def cancellation_preview(
    session: Session, platform: Platform, who: Principal, order_id: str
) -> CancellationPreviewPublic:
    """What cancelling the order now would cost, under the terms of its centre's country; nothing
    is changed."""
    row = _visible(session, who, order_id)
    if row.status in ("cancelled", "administered"):
        raise Conflict(f"order {order_id} is {row.status}; it cannot be cancelled")
    at = platform.clock.now()
    fee, consequence = _cancellation_terms(session, platform, row, at)
    session.rollback()  # end the read
    country = platform.network.centres[row.centre_id].calendar.country
    return CancellationPreviewPublic(
        order_id=order_id, at=at, country=country, fee=fee, consequence=consequence
    )


def _cancellation_terms(
    session: Session, platform: Platform, row: tables.Order, at: datetime
) -> tuple[str | None, str]:
    """The fee and its meaning for cancelling `row` at `at`, in its centre's country's terms."""
    product = platform.catalogue.therapy(row.product_id)
    dose = session.get(tables.Dose, row.id)
    country = platform.network.centres[row.centre_id].calendar.country
    calibration_at = dose.calibration_at if dose is not None else None
    return product.ordering.cancellation_in(product.brand, country, at, calibration_at)


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
    move, at = _STEPS[body.step], body.at or platform.clock.now()
    event = PathwayEvent(
        move,
        at,
        who.username,
        body.reason,
        release=release_record(body, at) if move is Move.RELEASE else None,
        shipping=shipping_record(body) if move is Move.SHIP else None,
    )
    route = dose_route(session, platform, order_id) if move is not Move.MISS else None
    _advance(session, platform, who, row, event, step_check(move, at, route) if route else None)
    shipment = session.get(tables.Shipment, order_id)
    if shipment is not None and body.step in _SHIPMENT_STATUS:
        shipment.status = _SHIPMENT_STATUS[body.step]
    row.status = status
    audit.record(
        session, who, body.step, "order", order_id, before, audit.snapshot(row), at=platform.clock.now()
    )
    session.commit()
    return public(session, row, platform)


def release_record(body: ProgressCreate, at: datetime) -> ReleaseRecord:
    """The release's facts from the request: the activity measured and when, QC result, lot."""
    if body.calibration_gbq is None or not body.lot:
        raise InvalidInput(
            "a release records the dose as measured: give calibration_gbq (the activity measured, "
            "GBq), calibration_at (when; default: the release time), qc_result and lot"
        )
    return ReleaseRecord(
        calibration_at=body.calibration_at or at,
        calibration_activity=Activity.from_gbq(body.calibration_gbq),
        qc_result=body.qc_result,
        lot=body.lot,
    )


def shipping_record(body: ProgressCreate) -> ShippingRecord:
    if not body.courier or not body.tracking:
        raise InvalidInput(
            "shipping records who carries the dose: give courier and tracking (the courier's reference)"
        )
    return ShippingRecord(courier=body.courier, tracking=body.tracking)


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
    at = body.at or platform.clock.now()
    before = audit.snapshot(row)
    pathway = pathways.load(session, patient, platform.catalogue)
    if pathway.current.order_id != row.id:
        raise Conflict(
            f"order {row.id} is not the patient's current order (that is {pathway.current.order_id}); "
            f"record the administration on the order whose dose was delivered"
        )
    recorded = pathway.current.dose or DoseRecord(order_id=row.id)
    timing.check_administration(at, recorded)
    given = AdministrationRecord(
        assayed=Activity.from_gbq(body.assayed_gbq),
        residual=Activity.from_gbq(body.residual_gbq),
        given_by=body.given_by or who.username,
    )
    dose = recorded_dose(platform, row, dose_row, recorded)
    event = PathwayEvent(Move.ADMINISTER, at, who.username, dose=dose, administration=given)
    pathways.record(session, patient, pathway, event, platform.clock.now())
    row.status = status
    audit.record(
        session, who, "administer", "order", row.id, before, audit.snapshot(row), at=platform.clock.now()
    )
    session.commit()
    return patient_public(patient, platform.clock.now())


def recorded_dose(platform: Platform, row: tables.Order, dose_row: tables.Dose, recorded: DoseRecord) -> Dose:
    """The order's dose as recorded: calibrated as measured at release, released when the
    release was recorded (the plan's figures only where nothing was recorded)."""
    release = recorded.release
    return Dose(
        dose_id=f"dose-{row.id}",
        product=platform.catalogue.therapy(row.product_id),
        batch_id=dose_row.batch_id,
        calibration_at=release.calibration_at if release else dose_row.calibration_at,
        calibration_activity=release.calibration_activity if release else Activity(dose_row.calibration_bq),
        expiry_at=dose_row.expiry_at,
        prescribed=Activity(row.prescribed_bq),
        released_at=recorded.released_at or dose_row.released_at,
    )


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
