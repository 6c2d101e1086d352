"""A patient's timeline and the pathway's steps on it; referring a new patient.

The timeline shows every pathway event and the patient's orders, and offers only the
forms the viewer's role may use at the patient's current stage (`TRANSITIONS` says
which moves the stage allows). The use cases check again: a form is a convenience,
never the rule. Identifying details are shown to the patient's own centre only;
the manufacturer and administrators see the pseudonym.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from rltnet.domain.errors import InvalidInput
from rltnet.domain.pathway import DiscontinuationReason, Move, Stage, moves_for
from rltnet.domain.products import PerKgActivity, TherapyProduct
from rltnet.service.deps import DbSession, PlatformDep
from rltnet.service.errors import Conflict, DuplicatePatient
from rltnet.service.platform import Platform
from rltnet.service.routes import IDEMPOTENCY_KEY
from rltnet.service.schemas import (
    AdministrationCreate,
    CorrectionCreate,
    DiscontinuationCreate,
    FollowUpCreate,
    IdentityPublic,
    ImagingRequestCreate,
    ImagingResultCreate,
    MdtDecisionCreate,
    OrderCancel,
    OrderPublic,
    PatientCreate,
    PatientPublic,
)
from rltnet.service.security import Principal, Role
from rltnet.service.usecases import corrections, orders, patients
from rltnet.web import render
from rltnet.web.auth import only, posting

router = APIRouter()
B = TypeVar("B", bound=BaseModel)

PatientId = Annotated[str, Path(min_length=1, max_length=32)]
Text = Annotated[str, Form(max_length=500)]
Short = Annotated[str, Form(max_length=200)]
Coordinator = Annotated[Principal, Depends(posting(Role.COORDINATOR))]
Physician = Annotated[Principal, Depends(posting(Role.PHYSICIAN))]
CentreStaff = Annotated[Principal, Depends(posting(Role.COORDINATOR, Role.PHYSICIAN))]
STAFF_WHO_SEE = (Role.COORDINATOR, Role.PHYSICIAN, Role.MANUFACTURER, Role.ADMIN)
LIVE_ORDER = ("requested", "confirmed")  # an order not yet given, cancelled, failed or missed
FOLLOW_UP_KINDS = ("labs", "psa", "toxicity", "imaging", "prom", "other")
_DECISIONS = (("approve", Move.APPROVE), ("decline", Move.DECLINE), ("defer", Move.DEFER))


def parsed(model: type[B], **values: Any) -> B:
    """A form's fields as the use case's body; a field that does not fit says which and why,
    as the use cases' own errors do (so the page shows it where the form was)."""
    try:
        return model.model_validate(values)
    except ValidationError as invalid:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'form'}: {error['msg']}"
            for error in invalid.errors()
        )
        raise InvalidInput(f"the form is not complete: {problems}. Correct it and send it again") from None


def local_time(value: str, who: Principal, platform: Platform, field: str) -> datetime | None:
    """A datetime-local field, on the wall clock of the viewer's centre; None when left empty."""
    if not value:
        return None
    try:
        return render.from_input(value, render.zone_of(platform, who.centre_id))
    except ValueError:
        raise InvalidInput(
            f"{field}: {value!r} is not a date and time; pick one in the date picker"
        ) from None


# -- referral -------------------------------------------------------------------------------------


@router.get("/patients/new")
def referral_form(
    request: Request,
    who: Annotated[Principal, Depends(only(Role.COORDINATOR))],
    platform: PlatformDep,
) -> Response:
    return _referral_page(request, platform, who, {"idempotency_key": _new_key()})


@router.post("/patients/new")
def refer(
    request: Request,
    who: Coordinator,
    session: DbSession,
    platform: PlatformDep,
    product: Annotated[str, Form(max_length=64)] = "",
    indication: Annotated[str, Form(max_length=100)] = "",
    weight_kg: Annotated[str, Form(max_length=20)] = "",
    name: Short = "",
    date_of_birth: Annotated[str, Form(max_length=20)] = "",
    hospital_number: Annotated[str, Form(max_length=40)] = "",
    reason: Text = "",
    idempotency_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Refer once: the form's key makes a second send of it (a double click, a reload) give
    the patient the first made; a hospital number referred here already names that patient."""
    entered = {
        "product": product,
        "indication": indication,
        "weight_kg": weight_kg,
        "name": name,
        "date_of_birth": date_of_birth,
        "hospital_number": hospital_number,
        "reason": reason,
        "idempotency_key": idempotency_key if IDEMPOTENCY_KEY.match(idempotency_key) else _new_key(),
    }
    if idempotency_key and not IDEMPOTENCY_KEY.match(idempotency_key):
        return _referral_page(
            request, platform, who, entered, "This form's referral reference is damaged; send it again."
        )
    try:
        body = parsed(
            PatientCreate,
            centre_id=who.centre_id,
            product=product,
            indication=indication,
            weight_kg=weight_kg or None,
            identity={"name": name, "date_of_birth": date_of_birth, "hospital_number": hospital_number},
            reason=reason,
        )
        referred, created = patients.submit_referral(session, platform, who, body, idempotency_key or None)
    except InvalidInput as refused:  # the form again, as typed, with what to change
        return _referral_page(request, platform, who, entered, str(refused))
    except DuplicatePatient as duplicate:  # the form again, with a link to the patient already here
        return _referral_page(request, platform, who, entered, str(duplicate), duplicate.patient_id)
    except Conflict:  # the key of another referral: a form reused after changing it
        entered["idempotency_key"] = _new_key()
        message = "This form was already used for a referral; check it and send it again."
        return _referral_page(request, platform, who, entered, message)
    done = "referred" if created else "was referred already by this form (sent twice); nothing new was made"
    return render.redirect(
        f"/patients/{referred.id}", f"{referred.id} {done}. Next: request eligibility imaging."
    )


def _new_key() -> str:
    return f"web-{secrets.token_hex(16)}"


def _referral_page(
    request: Request,
    platform: Platform,
    who: Principal,
    entered: dict[str, str],
    error: str | None = None,
    existing: str | None = None,
) -> Response:
    centre = platform.network.centres[who.centre_id] if who.centre_id else None
    products = [platform.catalogue.therapy(pid) for pid in centre.products] if centre else []
    return render.page(
        request,
        platform,
        who,
        "refer.html",
        status=(409 if existing else 422) if error else 200,
        title="Refer a patient",
        centre=centre,
        products=products,
        per_kg=[p.brand for p in products if isinstance(p.activity, PerKgActivity)],
        entered=entered,
        error=error,
        existing=existing,
    )


# -- the timeline ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Actions:
    """The forms the viewer may use on this patient now (the use cases check again)."""

    request_imaging: bool
    record_imaging: bool
    decisions: tuple[str, ...]
    order: bool
    cancel_order: bool
    administer: bool
    follow_up: bool
    discontinue: bool
    complete: bool

    @property
    def any(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


def actions_for(
    who: Principal, patient: PatientPublic, product: TherapyProduct, current: OrderPublic | None
) -> Actions:
    """What the viewer's role may do at the patient's stage."""
    stage = Stage(patient.stage)
    moves = moves_for(stage, product)
    own = who.centre_id == patient.centre_id
    coordinator = own and who.role is Role.COORDINATOR
    physician = own and who.role is Role.PHYSICIAN
    cycles_left = patient.cycles_given < product.schedule.cycles
    again = stage in (Stage.CYCLE_PLANNED, Stage.QC_FAILED, Stage.MISSED)  # the same cycle once more
    return Actions(
        request_imaging=coordinator and Move.REQUEST_IMAGING in moves,
        record_imaging=(coordinator or physician) and Move.RECORD_POSITIVE in moves,
        decisions=tuple(d for d, move in _DECISIONS if move in moves) if physician else (),
        order=coordinator and (Move.PLAN_CYCLE in moves or Move.ORDER in moves) and (cycles_left or again),
        cancel_order=coordinator and Move.CANCEL_ORDER in moves and current is not None,
        administer=physician and Move.ADMINISTER in moves and current is not None,
        follow_up=physician and stage in (Stage.ADMINISTERED, Stage.FOLLOW_UP),
        discontinue=physician and Move.DISCONTINUE in moves,
        complete=(coordinator or physician) and Move.COMPLETE in moves and not cycles_left,
    )


@router.get("/patients/{patient_id}")
def timeline(
    request: Request,
    patient_id: PatientId,
    who: Annotated[Principal, Depends(only(*STAFF_WHO_SEE))],
    session: DbSession,
    platform: PlatformDep,
) -> Response:
    patient = patients.get(session, platform, who, patient_id)
    product = platform.catalogue.therapy(patient.product_id)
    identity = _identity(session, platform, who, patient)
    events = patients.events(session, platform, who, patient_id)
    ordered = orders.of_patient(session, platform, who, patient_id)
    current = next((o for o in reversed(ordered) if o.status in LIVE_ORDER), None)
    agents = [platform.catalogue.imaging_agents.get(a) for a in product.eligibility.imaging_agents]
    can = actions_for(who, patient, product, current)
    cancelling = None
    if can.cancel_order and current is not None:
        cancelling = orders.cancellation_preview(session, platform, who, current.id)
    return render.page(
        request,
        platform,
        who,
        "patient.html",
        title=f"Patient {patient.id}",
        patient=patient,
        product=product,
        centre=platform.network.centres.get(patient.centre_id),
        identity=identity,
        events=events,
        orders=ordered,
        current=current,
        can=can,
        cancelling=cancelling,
        correctable=corrections.correctable(session, who, events),
        moves_by_seq={e.seq: e.move.replace("_", " ") for e in events},
        now_value=render.local_input(platform.clock.now(), render.zone_of(platform, patient.centre_id)),
        agents=[(a.product_id, a.brand) for a in agents if a is not None],
        results=("positive", "negative", "inconclusive"),
        reasons=[r.value for r in DiscontinuationReason],
        follow_up_kinds=FOLLOW_UP_KINDS,
        instant=datetime.fromisoformat,
    )


def _identity(
    session: DbSession, platform: Platform, who: Principal, patient: PatientPublic
) -> IdentityPublic | None:
    if not who.sees_identity(patient.centre_id):
        return None
    return patients.identity(session, platform, who, patient.id)


# -- the pathway's steps: each posts, calls its use case, and goes back to the timeline ---------


def _back(patient_id: str, message: str) -> Response:
    return render.redirect(f"/patients/{patient_id}", message)


@router.post("/patients/{patient_id}/imaging-request")
def request_imaging(
    patient_id: PatientId,
    who: Coordinator,
    session: DbSession,
    platform: PlatformDep,
    agent: Annotated[str, Form(max_length=64)] = "",
    reason: Text = "",
) -> Response:
    body = parsed(ImagingRequestCreate, agent=agent, reason=reason)
    patients.request_imaging(session, platform, who, patient_id, body)
    brand = platform.catalogue.imaging_agent(agent).brand
    return _back(patient_id, f"{brand} PET requested. Record the result when the report is in.")


@router.post("/patients/{patient_id}/imaging-result")
def record_imaging(
    patient_id: PatientId,
    who: CentreStaff,
    session: DbSession,
    platform: PlatformDep,
    result: Annotated[str, Form(max_length=20)] = "",
    reason: Text = "",
) -> Response:
    body = parsed(ImagingResultCreate, result=result, reason=reason)
    patients.record_imaging(session, platform, who, patient_id, body)
    return _back(patient_id, f"Imaging recorded as {body.result}. Next: the MDT decision.")


@router.post("/patients/{patient_id}/mdt-decision")
def decide(
    patient_id: PatientId,
    who: Physician,
    session: DbSession,
    platform: PlatformDep,
    decision: Annotated[str, Form(max_length=20)] = "",
    reason: Text = "",
    eligibility: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """The MDT's decision; for a therapy without eligibility PET, with the label's checks ticked."""
    body = parsed(MdtDecisionCreate, decision=decision, reason=reason, eligibility=eligibility or [])
    patient = patients.decide(session, platform, who, patient_id, body)
    return _back(patient_id, f"MDT decision recorded: {body.decision}. Next: {patient.next_step}.")


@router.post("/patients/{patient_id}/administration")
def administer(
    patient_id: PatientId,
    who: Physician,
    session: DbSession,
    platform: PlatformDep,
    order_id: Annotated[str, Form(max_length=80)] = "",
    at: Annotated[str, Form(max_length=40)] = "",
    assayed_gbq: Annotated[str, Form(max_length=20)] = "",
    residual_gbq: Annotated[str, Form(max_length=20)] = "",
    given_by: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    body = parsed(
        AdministrationCreate,
        order_id=order_id,
        at=local_time(at, who, platform, "at"),
        assayed_gbq=assayed_gbq or None,
        residual_gbq=residual_gbq or 0.0,
        given_by=given_by,
    )
    patient = orders.administer(session, platform, who, patient_id, body)
    return _back(
        patient_id,
        f"Administration of order {body.order_id} recorded: cycle {patient.cycles_given} given. "
        f"Next: start follow-up.",
    )


@router.post("/patients/{patient_id}/corrections")
def correct(
    patient_id: PatientId,
    who: Annotated[Principal, Depends(posting(*STAFF_WHO_SEE))],
    session: DbSession,
    platform: PlatformDep,
    entry: Annotated[int, Form(ge=1, le=100_000)] = 0,
    action: Annotated[str, Form(max_length=10)] = "",
    reason: Text = "",
    at: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Correct an entry's time, or void it, with the reason; the entry stays on the timeline."""
    when = local_time(at, who, platform, "the right time") if action == "correct" else None
    body = parsed(CorrectionCreate, entry=entry, action=action, reason=reason, at=when)
    corrections.correct(session, platform, who, patient_id, body)
    done = "voided" if body.action == "void" else "corrected"
    return _back(patient_id, f"Entry {body.entry} {done}; the timeline keeps it, marked, with your reason.")


@router.post("/patients/{patient_id}/follow-up")
def follow_up(
    patient_id: PatientId,
    who: CentreStaff,
    session: DbSession,
    platform: PlatformDep,
    kind: Annotated[str, Form(max_length=40)] = "",
    note: Text = "",
    at: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    when = local_time(at, who, platform, "at")
    body = parsed(FollowUpCreate, kind=kind, data={"note": note} if note else {}, at=when)
    patient = patients.follow_up(session, platform, who, patient_id, body)
    return _back(patient_id, f"Follow-up ({body.kind}) recorded. Next: {patient.next_step}.")


@router.post("/patients/{patient_id}/discontinue")
def discontinue(
    patient_id: PatientId,
    who: Physician,
    session: DbSession,
    platform: PlatformDep,
    reason: Annotated[str, Form(max_length=40)] = "",
    note: Text = "",
    at: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    when = local_time(at, who, platform, "at")
    body = parsed(DiscontinuationCreate, reason=reason, note=note, at=when)
    patients.discontinue(session, platform, who, patient_id, body)
    return _back(
        patient_id, f"Treatment discontinued ({body.reason.replace('_', ' ')}); the pathway has ended."
    )


@router.post("/patients/{patient_id}/complete")
def complete(patient_id: PatientId, who: CentreStaff, session: DbSession, platform: PlatformDep) -> Response:
    patients.complete(session, platform, who, patient_id)
    return _back(patient_id, "Pathway completed: every cycle is given.")


@router.post("/patients/{patient_id}/cancel-order")
def cancel_order(
    patient_id: PatientId,
    who: Coordinator,
    session: DbSession,
    platform: PlatformDep,
    order_id: Annotated[str, Form(max_length=80)] = "",
    reason: Text = "",
) -> Response:
    """Cancel the patient's current order; the message says what it costs."""
    body = parsed(OrderCancel, reason=reason)
    order = orders.get(session, platform, who, order_id)
    if order.patient_id != patient_id:
        raise InvalidInput(f"order {order_id} is not an order of patient {patient_id}; reload the page")
    cancelled = orders.cancel(session, platform, who, order_id, body)
    return _back(patient_id, f"Order {order_id} {cancelled.consequence}. Order the cycle again when ready.")
