"""Patients and their pathway: referral, imaging, MDT, administration, follow-up."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from rltnet.domain.pathway import Stage
from rltnet.service.deps import CurrentUser, DbSession, PlatformDep
from rltnet.service.routes import Limit, Offset, idempotency_key_header
from rltnet.service.schemas import (
    AdministrationCreate,
    CorrectionCreate,
    DiscontinuationCreate,
    EventPublic,
    FollowUpCreate,
    IdentityPublic,
    ImagingRequestCreate,
    ImagingResultCreate,
    Instant,
    MdtDecisionCreate,
    OrderCheckPublic,
    Page,
    PatientCreate,
    PatientPublic,
)
from rltnet.service.usecases import corrections, orders, patients
from rltnet.service.usecases.order_check import check as check_order
from rltnet.service.usecases.scope import centre_scope, therapy_id

router = APIRouter(prefix="/patients", tags=["patients"])
PatientId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^P-[0-9A-F]{1,30}$")]
ERRORS: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 404: {}, 409: {}, 422: {}}


ReferralKey = Annotated[
    str | None,
    idempotency_key_header(
        "a unique key per referral (e.g. a UUID); resending it returns the patient already made"
    ),
]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PatientPublic,
    responses={
        **ERRORS,
        200: {"model": PatientPublic, "description": "the patient already referred under this key"},
    },
)
def refer(
    body: PatientCreate,
    who: CurrentUser,
    session: DbSession,
    platform: PlatformDep,
    idempotency_key: ReferralKey = None,
) -> Response:
    """Refer a patient (coordinator of the patient's centre); identifying details are sealed.
    A hospital number already referred at the centre is refused (409) naming that patient."""
    patient, created = patients.submit_referral(session, platform, who, body, idempotency_key)
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Response(patient.model_dump_json(), code, media_type="application/json")


@router.get("", responses=ERRORS)
def list_patients(
    who: CurrentUser,
    session: DbSession,
    platform: PlatformDep,
    centre_id: Annotated[
        str | None, Query(max_length=64, description="your own, for a centre's staff")
    ] = None,
    stage: Stage | None = None,
    product_id: Annotated[str | None, Query(max_length=64, description="catalogue id or brand")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[PatientPublic]:
    """Patients by pathway stage, longest waiting first (a centre sees its own; another
    centre's filter is refused)."""
    return patients.listing(
        session,
        platform,
        who,
        centre_id=centre_scope(who, centre_id),
        stage=stage,
        product_id=therapy_id(platform.catalogue, product_id),
        limit=limit,
        offset=offset,
    )


@router.get("/{patient_id}", responses=ERRORS)
def get_patient(
    patient_id: PatientId, who: CurrentUser, session: DbSession, platform: PlatformDep
) -> PatientPublic:
    return patients.get(session, platform, who, patient_id)


@router.get("/{patient_id}/identity", responses=ERRORS)
def get_identity(
    patient_id: PatientId, who: CurrentUser, session: DbSession, platform: PlatformDep
) -> IdentityPublic:
    """Identifying details: only for the patient's own centre."""
    return patients.identity(session, platform, who, patient_id)


@router.post("/{patient_id}/corrections", status_code=status.HTTP_201_CREATED, responses=ERRORS)
def correct_entry(
    patient_id: PatientId, body: CorrectionCreate, who: CurrentUser, session: DbSession, platform: PlatformDep
) -> PatientPublic:
    """Correct (the right time or facts) or void a wrong entry, with the reason: by the role that
    recorded it, or an administrator. The entry stays on the timeline, marked."""
    return corrections.correct(session, platform, who, patient_id, body)


@router.get("/{patient_id}/events", responses=ERRORS)
def get_events(
    patient_id: PatientId, who: CurrentUser, session: DbSession, platform: PlatformDep
) -> list[EventPublic]:
    """The patient's timeline: every pathway event, oldest first; the notes (`reason`) only for
    the patient's own centre, whose read is recorded."""
    return patients.events(session, platform, who, patient_id)


@router.get("/{patient_id}/order-check", responses=ERRORS)
def order_check(
    patient_id: PatientId,
    who: CurrentUser,
    session: DbSession,
    platform: PlatformDep,
    preferred_at: Annotated[
        Instant | None, Query(description="preferred administration; default: the earliest allowed")
    ] = None,
    reduction: Annotated[str | None, Query(max_length=100, description="label condition")] = None,
    platelets_per_mm3: Annotated[int | None, Query(ge=0, le=2_000_000, description="for Zevalin")] = None,
) -> OrderCheckPublic:
    """Could the next dose be given at the preferred time? The window, the nearest planned
    administration and its activity against the tolerance band, or why not and the nearest
    days that can work (coordinator of the patient's centre; nothing is booked)."""
    return check_order(
        session,
        platform,
        who,
        patient_id,
        preferred_at,
        reduction=reduction,
        platelets_per_mm3=platelets_per_mm3,
    )


@router.post("/{patient_id}/imaging-requests", status_code=status.HTTP_201_CREATED, responses=ERRORS)
def request_imaging(
    patient_id: PatientId,
    body: ImagingRequestCreate,
    who: CurrentUser,
    session: DbSession,
    platform: PlatformDep,
) -> PatientPublic:
    return patients.request_imaging(session, platform, who, patient_id, body)


@router.post("/{patient_id}/imaging-results", status_code=status.HTTP_201_CREATED, responses=ERRORS)
def record_imaging(
    patient_id: PatientId,
    body: ImagingResultCreate,
    who: CurrentUser,
    session: DbSession,
    platform: PlatformDep,
) -> PatientPublic:
    return patients.record_imaging(session, platform, who, patient_id, body)


@router.post("/{patient_id}/mdt-decisions", status_code=status.HTTP_201_CREATED, responses=ERRORS)
def decide(
    patient_id: PatientId,
    body: MdtDecisionCreate,
    who: CurrentUser,
    session: DbSession,
    platform: PlatformDep,
) -> PatientPublic:
    """The MDT's decision (a nuclear-medicine physician of the centre)."""
    return patients.decide(session, platform, who, patient_id, body)


@router.post("/{patient_id}/administrations", status_code=status.HTTP_201_CREATED, responses=ERRORS)
def administer(
    patient_id: PatientId,
    body: AdministrationCreate,
    who: CurrentUser,
    session: DbSession,
    platform: PlatformDep,
) -> PatientPublic:
    """Record a dose given (physician); an expired or out-of-tolerance dose is refused."""
    return orders.administer(session, platform, who, patient_id, body)


@router.post("/{patient_id}/follow-ups", status_code=status.HTTP_201_CREATED, responses=ERRORS)
def follow_up(
    patient_id: PatientId, body: FollowUpCreate, who: CurrentUser, session: DbSession, platform: PlatformDep
) -> PatientPublic:
    return patients.follow_up(session, platform, who, patient_id, body)


@router.post("/{patient_id}/discontinuation", status_code=status.HTTP_201_CREATED, responses=ERRORS)
def discontinue(
    patient_id: PatientId,
    body: DiscontinuationCreate,
    who: CurrentUser,
    session: DbSession,
    platform: PlatformDep,
) -> PatientPublic:
    return patients.discontinue(session, platform, who, patient_id, body)


@router.post("/{patient_id}/completion", status_code=status.HTTP_201_CREATED, responses=ERRORS)
def complete(
    patient_id: PatientId, who: CurrentUser, session: DbSession, platform: PlatformDep
) -> PatientPublic:
    return patients.complete(session, platform, who, patient_id)
