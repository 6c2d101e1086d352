"""Ordering a dose with a live check of its window, and following the dose to the chair.

The order form asks for the preferred infusion time on the centre's wall clock and
checks it against the dose window before anything is sent (`usecases.order_check.check`):
live, by a small script that fetches the check fragment as the time changes, and
without script by the form's own Check button. The form carries a fresh idempotency
key, so sending it twice replays the first order instead of placing a second.

The dose journey shows batch, shipment and chair, the dose's decay against its
tolerance band (`web.decay_chart`), and the steps each role may take now.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import Response

from rltnet.domain.errors import InvalidInput
from rltnet.domain.pathway import TRANSITIONS, Move, Stage
from rltnet.domain.products import DoseNotAllowed, PerKgActivity, TherapyProduct
from rltnet.domain.units import Activity
from rltnet.service.deps import DbSession, PlatformDep
from rltnet.service.errors import Conflict
from rltnet.service.platform import Platform
from rltnet.service.routes import IDEMPOTENCY_KEY
from rltnet.service.schemas import (
    OrderAdjust,
    OrderCancel,
    OrderCheckPublic,
    OrderCreate,
    OrderPublic,
    PatientPublic,
    ProgressCreate,
)
from rltnet.service.security import Principal, Role
from rltnet.service.usecases import orders, patients, submissions
from rltnet.service.usecases.order_check import check as check_order
from rltnet.web import render
from rltnet.web.auth import only, posting
from rltnet.web.decay_chart import DecayChart, Marker, svg
from rltnet.web.routes.patients import LIVE_ORDER, PatientId, local_time, parsed

router = APIRouter()

OrderId = Annotated[str, Path(min_length=1, max_length=32)]
Text = Annotated[str, Form(max_length=500)]
Field = Annotated[str, Form(max_length=100)]
Coordinator = Annotated[Principal, Depends(posting(Role.COORDINATOR))]
Maker = Annotated[Principal, Depends(posting(Role.MANUFACTURER))]
CentreStaff = Annotated[Principal, Depends(posting(Role.COORDINATOR, Role.PHYSICIAN))]
# The manufacturer's next steps at each stage of the patient's pathway
MAKER_STEPS: dict[Stage, tuple[str, ...]] = {
    Stage.CONFIRMED: ("start_production",),
    Stage.IN_PRODUCTION: ("release", "fail_qc"),
    Stage.RELEASED: ("ship",),
    Stage.SHIPPED: ("deliver",),
}
STEP_WORDS = {
    "start_production": ("Start production", "Production started. Next: release the dose after QC."),
    "release": ("Release after QC", "Dose released. Next: ship it."),
    "fail_qc": ("Record a QC failure", "QC failure recorded; the centre must re-order the cycle."),
    "ship": ("Ship", "Dose shipped. Next: record its delivery."),
    "deliver": ("Record delivery", "Delivery recorded. The physician records the administration."),
}


# -- the order form and its check -----------------------------------------------------------------


@router.get("/patients/{patient_id}/order")
def order_form(
    request: Request,
    patient_id: PatientId,
    who: Annotated[Principal, Depends(only(Role.COORDINATOR))],
    session: DbSession,
    platform: PlatformDep,
    preferred_at: str = "",
    reduction: str = "",
    platelets_per_mm3: str = "",
) -> Response:
    """The form; with `?preferred_at=` (local time) it shows that time's check, as the script would."""
    patient = patients.get(session, platform, who, patient_id)
    product = platform.catalogue.therapy(patient.product_id)
    zone = render.zone_of(platform, patient.centre_id)
    checked, problem = _checked(
        session, platform, who, patient_id, preferred_at, reduction, platelets_per_mm3
    )
    return render.page(
        request,
        platform,
        who,
        "order_form.html",
        title=f"Order a dose for {patient.id}",
        patient=patient,
        product=product,
        check=checked if preferred_at else None,
        problem=problem,
        window=checked,
        preferred=preferred_at or _default_time(checked, zone),
        earliest=_minute_up(checked.earliest_at, zone) if checked else "",
        latest=render.local_input(checked.latest_at, zone) if checked else "",
        reduction=reduction,
        platelets=platelets_per_mm3,
        platelet_banded=isinstance(product.activity, PerKgActivity) and bool(product.activity.platelet_bands),
        key=f"web-{secrets.token_hex(16)}",
    )


@router.get("/patients/{patient_id}/order-check")
def order_check(
    request: Request,
    patient_id: PatientId,
    who: Annotated[Principal, Depends(only(Role.COORDINATOR))],
    session: DbSession,
    platform: PlatformDep,
    preferred_at: str = "",
    reduction: str = "",
    platelets_per_mm3: str = "",
) -> Response:
    """The check alone, as an HTML fragment for the order form's live region."""
    checked, problem = _checked(
        session, platform, who, patient_id, preferred_at, reduction, platelets_per_mm3
    )
    return render.page(
        request,
        platform,
        who,
        "order_check.html",
        status=200 if problem is None else 422,
        check=checked if preferred_at else None,
        problem=problem,
    )


def _checked(
    session: DbSession,
    platform: Platform,
    who: Principal,
    patient_id: str,
    preferred_at: str,
    reduction: str,
    platelets: str,
) -> tuple[OrderCheckPublic | None, str | None]:
    """The check of the preferred time (or of the earliest, for the window alone), or what
    stops it: a time that is not one, a patient who cannot be ordered for yet."""
    try:
        preferred = local_time(preferred_at, who, platform, "preferred infusion time")
        count = _platelets(platelets)
        answer = check_order(
            session,
            platform,
            who,
            patient_id,
            preferred,
            reduction=reduction or None,
            platelets_per_mm3=count,
        )
    except (InvalidInput, DoseNotAllowed) as refused:
        return None, str(refused)
    return answer, None


def _platelets(text: str) -> int | None:
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):  # '²'.isdigit() is true, but int('²') fails
        raise InvalidInput(f"platelets: {text!r} is not a whole number per mm³; write it in 0-9, e.g. 150000")
    return int(text)


def _default_time(checked: OrderCheckPublic | None, zone: ZoneInfo) -> str:
    """The first planned administration the check found, else the window's first minute."""
    if checked is None:
        return ""
    if checked.option is not None:
        return render.local_input(checked.option.administration_at, zone)
    return _minute_up(checked.earliest_at, zone)


def _minute_up(instant: datetime, zone: ZoneInfo) -> str:
    """The input's minimum: the first whole minute at or after `instant` (inputs have no seconds)."""
    rounded = instant.replace(second=0, microsecond=0)
    return render.local_input(rounded if rounded == instant else rounded + timedelta(minutes=1), zone)


@router.post("/patients/{patient_id}/order")
def submit(
    patient_id: PatientId,
    who: Coordinator,
    session: DbSession,
    platform: PlatformDep,
    preferred_at: Annotated[str, Form(max_length=40)] = "",
    reduction: Field = "",
    platelets_per_mm3: Annotated[str, Form(max_length=10)] = "",
    idempotency_key: Field = "",
    intent: Annotated[str, Form(max_length=10)] = "order",
) -> Response:
    """Check the time again (the form's Check button, without script) or place the order."""
    again = _form_url(patient_id, preferred_at, reduction, platelets_per_mm3)
    if intent == "check":
        return render.redirect(again)
    if not IDEMPOTENCY_KEY.match(idempotency_key):
        return render.redirect(
            again, "This form has no order reference; it is reloaded: send it again.", "error"
        )
    try:
        body = parsed(
            OrderCreate,
            patient_id=patient_id,
            preferred_at=local_time(preferred_at, who, platform, "preferred infusion time"),
            reduction=reduction or None,
            platelets_per_mm3=_platelets(platelets_per_mm3),
        )
        order, created = submissions.submit(session, platform, who, body, idempotency_key)
    except (InvalidInput, DoseNotAllowed) as refused:  # the form again, with the time as typed and its check
        return render.redirect(again, f"Not ordered: {refused}", "error")
    except Conflict:  # the key of an order already placed, with another time: a reused form
        message = "This form was already used for an order; it is reloaded: check the time and send it again."
        return render.redirect(again, message, "error")
    zone = render.zone_of(platform, order.centre_id)
    return render.redirect(f"/orders/{order.id}", _ordered(order, created, zone))


def _form_url(patient_id: str, preferred_at: str, reduction: str, platelets: str) -> str:
    query = {"preferred_at": preferred_at, "reduction": reduction, "platelets_per_mm3": platelets}
    filled = urlencode({name: value for name, value in query.items() if value})
    return f"/patients/{patient_id}/order" + (f"?{filled}" if filled else "")


def _ordered(order: OrderPublic, created: bool, zone: ZoneInfo) -> str:
    """What happened to the order, and what comes next."""
    if not created:
        return f"Order {order.id} was already placed from this form; here it is (nothing was ordered twice)."
    if order.placement is None:
        return (
            f"Order {order.id} taken for cycle {order.cycle}, but not placed yet: {order.plan_note}. "
            f"The planner will place it; the manufacturer will confirm."
        )
    return (
        f"Order {order.id} placed for cycle {order.cycle}: administration planned "
        f"{render.when(order.placement.administration_at, zone)}, chair {order.placement.chair}. "
        f"Next: the manufacturer confirms it."
    )


# -- the dose journey -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JourneyActions:
    """The steps the viewer may take on this order now (the use cases check again)."""

    confirm: bool
    steps: tuple[str, ...]
    miss: bool
    adjust: bool
    cancel: bool
    administer: bool  # on the patient's page, where the physician records it

    @property
    def any(self) -> bool:
        return self.confirm or bool(self.steps) or self.miss or self.adjust or self.cancel or self.administer


def journey_actions(who: Principal, order: OrderPublic, patient: PatientPublic) -> JourneyActions:
    stage = Stage(patient.stage)
    live = order.status in LIVE_ORDER
    maker = live and who.role is Role.MANUFACTURER
    own = who.centre_id == order.centre_id
    coordinator = live and own and who.role is Role.COORDINATOR
    centre = live and own and who.role in (Role.COORDINATOR, Role.PHYSICIAN)
    return JourneyActions(
        confirm=maker and order.status == "requested",
        steps=MAKER_STEPS.get(stage, ()) if maker else (),
        miss=centre and Move.MISS in TRANSITIONS[stage],
        adjust=coordinator and stage in (Stage.ORDERED, Stage.CONFIRMED),
        cancel=coordinator and Move.CANCEL_ORDER in TRANSITIONS[stage],
        administer=centre and who.role is Role.PHYSICIAN and Move.ADMINISTER in TRANSITIONS[stage],
    )


@router.get("/orders/{order_id}")
def journey(
    request: Request,
    order_id: OrderId,
    who: Annotated[Principal, Depends(only(Role.COORDINATOR, Role.PHYSICIAN, Role.MANUFACTURER, Role.ADMIN))],
    session: DbSession,
    platform: PlatformDep,
) -> Response:
    order = orders.get(session, platform, who, order_id)
    patient = patients.get(session, platform, who, order.patient_id)
    product = platform.catalogue.therapy(order.product_id)
    zone = render.zone_of(platform, order.centre_id)
    at = platform.clock.now()
    chart = _chart(order, product, at)
    cancelling = None
    if journey_actions(who, order, patient).cancel:
        cancelling = orders.cancellation_preview(session, platform, who, order_id)
    return render.page(
        request,
        platform,
        who,
        "journey.html",
        title=f"Dose journey of {order.id}",
        order=order,
        patient=patient,
        product=product,
        centre=platform.network.centres.get(order.centre_id),
        progress=_progress(order, Stage(patient.stage)),
        expected=chart.activity_at(order.placement.administration_at) if chart and order.placement else None,
        chart=svg(chart, zone, chart_id=f"decay-{order.id}") if chart else None,
        can=journey_actions(who, order, patient),
        step_words=STEP_WORDS,
        adjust_value=render.local_input(order.preferred_at, zone),
        earliest=_minute_up(order.earliest_at, zone),
        latest=render.local_input(order.latest_at, zone),
        now_value=render.local_input(at, zone),
        expected_now=chart.activity_at(at) if chart else None,
        cancelling=cancelling,
    )


def _chart(order: OrderPublic, product: TherapyProduct, at: datetime) -> DecayChart | None:
    placed = order.placement
    if placed is None:
        return None
    measured = order.recorded  # the activity measured at release, once recorded, not the plan's
    calibration_at, calibration_gbq = placed.calibration_at, placed.calibration_gbq
    if measured is not None and measured.calibration_at and measured.calibration_gbq:
        calibration_at, calibration_gbq = measured.calibration_at, measured.calibration_gbq
    return DecayChart(
        nuclide=product.nuclide,
        calibration_at=calibration_at,
        calibration=Activity.from_gbq(calibration_gbq),
        expiry_at=placed.expiry_at,
        prescribed=Activity.from_gbq(order.prescribed_gbq),
        tolerance=product.tolerance,
        markers=(
            Marker("now", at),
            Marker("arrival", placed.arrives_at),
            Marker("planned administration", placed.administration_at),
        ),
    )


def _progress(order: OrderPublic, stage: Stage) -> tuple[str, str, str]:
    """Where batch, shipment and chair stand, in words."""
    shipment = order.placement.shipment_status if order.placement else "not planned"
    if order.status == "administered":
        return "released", shipment, "administered"
    if order.status == "failed":
        return "failed QC", "not shipped", "not given"
    if order.status == "missed":
        return "released", shipment, "missed"
    if order.status == "cancelled":
        return "cancelled", "cancelled", "cancelled"
    batch = {Stage.IN_PRODUCTION: "in production"}.get(stage, "planned")
    if stage in (Stage.RELEASED, Stage.SHIPPED, Stage.DELIVERED):
        batch = "released"
    return batch, shipment, "booked" if order.placement else "not booked"


# -- the journey's steps: each posts, calls its use case, and goes back to the journey ----------


def _back(order_id: str, message: str) -> Response:
    return render.redirect(f"/orders/{order_id}", message)


@router.post("/orders/{order_id}/confirm")
def confirm(order_id: OrderId, who: Maker, session: DbSession, platform: PlatformDep) -> Response:
    orders.confirm(session, platform, who, order_id)
    return _back(order_id, f"Order {order_id} confirmed. Next: start production.")


@router.post("/orders/{order_id}/progress")
def progress(
    order_id: OrderId,
    who: Maker,
    session: DbSession,
    platform: PlatformDep,
    step: Annotated[str, Form(max_length=20)] = "",
    reason: Text = "",
    at: Annotated[str, Form(max_length=40)] = "",
    calibration_gbq: Annotated[str, Form(max_length=20)] = "",
    calibration_at: Annotated[str, Form(max_length=40)] = "",
    qc_result: Field = "pass",
    lot: Field = "",
    courier: Field = "",
    tracking: Field = "",
) -> Response:
    """A step of the dose's journey, when it happened (the form's default: now) and its facts."""
    if step not in STEP_WORDS:
        raise InvalidInput(f"{step!r} is not a step of the dose's journey; use the page's buttons")
    body = parsed(
        ProgressCreate,
        step=step,
        reason=reason,
        at=local_time(at, who, platform, "when"),
        calibration_gbq=calibration_gbq or None,
        calibration_at=local_time(calibration_at, who, platform, "measured at"),
        qc_result=qc_result or "pass",
        lot=lot,
        courier=courier,
        tracking=tracking,
    )
    orders.progress(session, platform, who, order_id, body)
    return _back(order_id, STEP_WORDS[step][1])


@router.post("/orders/{order_id}/miss")
def miss(
    order_id: OrderId, who: CentreStaff, session: DbSession, platform: PlatformDep, reason: Text = ""
) -> Response:
    orders.progress(session, platform, who, order_id, parsed(ProgressCreate, step="miss", reason=reason))
    return _back(
        order_id, "Missed dose recorded. The coordinator re-plans the cycle from the patient's page."
    )


@router.post("/orders/{order_id}/adjust")
def adjust(
    order_id: OrderId,
    who: Coordinator,
    session: DbSession,
    platform: PlatformDep,
    preferred_at: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    when = local_time(preferred_at, who, platform, "new preferred time")
    adjusted = orders.adjust(session, platform, who, order_id, parsed(OrderAdjust, preferred_at=when))
    zone = render.zone_of(platform, adjusted.centre_id)
    placed = adjusted.placement
    where = (
        f"administration now planned {render.when(placed.administration_at, zone)}"
        if placed
        else f"not placed: {adjusted.plan_note}"
    )
    return _back(order_id, f"Order {order_id} moved: {where}. The manufacturer confirms it again.")


@router.post("/orders/{order_id}/cancel")
def cancel(
    order_id: OrderId, who: Coordinator, session: DbSession, platform: PlatformDep, reason: Text = ""
) -> Response:
    cancelled = orders.cancel(session, platform, who, order_id, parsed(OrderCancel, reason=reason))
    return _back(order_id, f"Order {order_id} {cancelled.consequence}.")
