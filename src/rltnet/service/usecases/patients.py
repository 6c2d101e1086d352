"""Patients and their pathway: referral, imaging, MDT, administration, follow-up, ending.

Each function checks who may do it, moves the pathway through the domain's state
machine (never around it), writes the audit trail and commits, in one transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rltnet.domain import timing
from rltnet.domain.errors import InvalidInput
from rltnet.domain.pathway import DiscontinuationReason, Move, PathwayEvent, PatientPathway, Stage
from rltnet.domain.products import PerKgActivity
from rltnet.service import audit, notes, pathways
from rltnet.service.errors import Conflict, DuplicatePatient, Forbidden, NotFound
from rltnet.service.platform import Platform
from rltnet.service.schemas import (
    DiscontinuationCreate,
    EventPublic,
    FollowUpCreate,
    IdentityPublic,
    ImagingRequestCreate,
    ImagingResultCreate,
    MdtDecisionCreate,
    Page,
    PatientCreate,
    PatientPublic,
)
from rltnet.service.security import CENTRE_ROLES, Matcher, Principal, Role
from rltnet.store import db, tables


def visible(session: Session, who: Principal, patient_id: str) -> tables.Patient:
    """The patient if the caller may see them; otherwise `NotFound` (not told apart)."""
    patient = session.get(tables.Patient, patient_id)
    if patient is None or not who.sees_centre(patient.centre_id):
        raise NotFound("patient", patient_id)
    return patient


def get(session: Session, platform: Platform, who: Principal, patient_id: str) -> PatientPublic:
    """The patient, if the caller may see them, as of the service clock's now."""
    return public(visible(session, who, patient_id), platform.clock.now())


def public(patient: tables.Patient, at: datetime) -> PatientPublic:
    """The patient as their readers see them, waiting since their stage began until `at`."""
    return PatientPublic(
        id=patient.id,
        centre_id=patient.centre_id,
        product_id=patient.product_id,
        indication=patient.indication,
        stage=patient.stage,
        stage_since=patient.stage_since,
        waiting_hours=round((at - patient.stage_since).total_seconds() / 3600, 1),
        next_step=pathways.next_step(Stage(patient.stage), patient.product_id),
        cycle=patient.cycle,
        cycles_given=patient.cycles_given,
        referred_at=patient.referred_at,
    )


def refer(
    session: Session,
    platform: Platform,
    who: Principal,
    body: PatientCreate,
    idempotency_key: str | None = None,
) -> PatientPublic:
    """A new patient, referred for a therapy at a centre, with sealed identifying details."""
    return submit_referral(session, platform, who, body, idempotency_key)[0]


def submit_referral(
    session: Session,
    platform: Platform,
    who: Principal,
    body: PatientCreate,
    idempotency_key: str | None = None,
) -> tuple[PatientPublic, bool]:
    """A referral, once: the patient and whether this call made them.

    The same idempotency key with the same referral gives the patient made the first time
    (a form sent twice makes one patient); with another referral it is a `Conflict`. A
    hospital number already referred at the centre is a `DuplicatePatient` naming that
    patient, found by its keyed hash (the number itself stays sealed).
    """
    if who.role is not Role.COORDINATOR or who.centre_id != body.centre_id:
        raise Forbidden("a referral is made by a coordinator of the patient's centre")
    centre = platform.network.centres.get(body.centre_id)
    if centre is None:
        raise NotFound("centre", body.centre_id)
    product = platform.catalogue.therapy(body.product)
    if product.product_id not in centre.products:
        raise InvalidInput(
            f"{centre.name} does not give {product.brand}; refer to a centre that does, or choose one of: "
            f"{', '.join(centre.products)}"
        )
    if isinstance(product.activity, PerKgActivity) and body.weight_kg is None:
        raise InvalidInput(f"{product.brand} is dosed per kg: give weight_kg")
    matcher = Matcher(platform.secret_key)
    digest = matcher.digest("referral", body.model_dump_json())
    number_key = matcher.hospital_number(body.identity.hospital_number)
    if idempotency_key is not None:
        taken = _referred_under(session, idempotency_key)
        if taken is not None:
            return _replayed(who, taken, digest, platform.clock.now()), False
    _refuse_duplicate(session, centre.centre_id, centre.name, number_key)
    at = body.referred_at or platform.clock.now()
    patient_id = "P-" + secrets.token_hex(5).upper()
    pathway = PatientPathway(patient_id, product)
    patient = tables.Patient(
        id=patient_id,
        centre_id=centre.centre_id,
        product_id=product.product_id,
        indication=body.indication,
        stage=Stage.REFERRED.value,
        stage_since=at,
        referred_at=at,
        weight_kg=body.weight_kg,
        events=0,
        cycle=0,
        cycles_given=0,
        referral_key=idempotency_key,
        referral_digest=digest,
        hospital_number_key=number_key,
    )
    session.add(patient)
    try:
        session.flush()  # the patient row first: its events and identity refer to it
    except IntegrityError:  # the same key or number, committed by another request meanwhile
        session.rollback()
        taken = _referred_under(session, idempotency_key) if idempotency_key else None
        if taken is not None:
            return _replayed(who, taken, digest, platform.clock.now()), False
        _refuse_duplicate(session, centre.centre_id, centre.name, number_key)
        raise
    referral = PathwayEvent(Move.REFER, at, who.username, body.reason)
    pathways.record(session, patient, pathway, referral, platform.clock.now())
    session.add(
        tables.PatientIdentity(
            patient_id=patient_id, sealed=platform.sealer.seal(body.identity.model_dump(mode="json"))
        )
    )
    audit.record(
        session,
        who,
        "refer",
        "patient",
        patient_id,
        after=audit.snapshot(patient, leave_out=_MATCH_KEYS),
        at=platform.clock.now(),
    )
    session.commit()
    return public(patient, platform.clock.now()), True


_MATCH_KEYS = frozenset({"referral_key", "referral_digest", "hospital_number_key"})


def _referred_under(session: Session, idempotency_key: str) -> tables.Patient | None:
    return session.scalars(
        select(tables.Patient).where(tables.Patient.referral_key == idempotency_key)
    ).first()


def _replayed(who: Principal, patient: tables.Patient, digest: str, at: datetime) -> PatientPublic:
    if patient.referral_digest != digest:
        raise Conflict(
            "this Idempotency-Key was used for a different referral; use a new key for a new referral"
        )
    if not who.sees_identity(patient.centre_id):
        raise NotFound("patient", patient.id)
    return public(patient, at)


def _refuse_duplicate(session: Session, centre_id: str, centre_name: str, number_key: str) -> None:
    existing = session.scalars(
        select(tables.Patient.id).where(
            tables.Patient.centre_id == centre_id, tables.Patient.hospital_number_key == number_key
        )
    ).first()
    if existing is not None:
        raise DuplicatePatient(existing, centre_name)


def listing(
    session: Session,
    platform: Platform,
    who: Principal,
    *,
    centre_id: str | None,
    stage: Stage | None,
    product_id: str | None,
    limit: int,
    offset: int,
) -> Page[PatientPublic]:
    """Patients, longest waiting first; `centre_id` as `scope.centre_scope` gives it."""
    if who.role is Role.ANALYST:
        raise Forbidden("analysts see de-identified aggregates only: GET /api/v1/aggregates")
    query = select(tables.Patient)
    if who.role in CENTRE_ROLES:
        query = query.where(tables.Patient.centre_id == who.centre_id)
    if centre_id:
        query = query.where(tables.Patient.centre_id == centre_id)
    if stage:
        query = query.where(tables.Patient.stage == stage.value)
    if product_id:
        query = query.where(tables.Patient.product_id == product_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(tables.Patient.stage_since, tables.Patient.id).limit(limit).offset(offset)
    )
    at = platform.clock.now()
    return Page(items=[public(p, at) for p in rows], total=total, limit=limit, offset=offset)


def identity(session: Session, platform: Platform, who: Principal, patient_id: str) -> IdentityPublic:
    """The identifying details, for the patient's own centre; the read is recorded."""
    patient = visible(session, who, patient_id)
    if not who.sees_identity(patient.centre_id):
        raise Forbidden("identifying details are shown only to the patient's own centre")
    sealed = session.get(tables.PatientIdentity, patient_id)
    if sealed is None:
        raise NotFound("identity of patient", patient_id)
    details = platform.sealer.open(sealed.sealed)
    _record_read(session, platform, who, READ_IDENTITY, patient_id)
    return IdentityPublic(patient_id=patient_id, **details)


def _record_read(session: Session, platform: Platform, who: Principal, action: str, patient_id: str) -> None:
    """Record who read a patient's identifying data, now, in the audit trail (a request that
    only reads has a reading session: it is let write first)."""
    if session.get_bind() is not platform.engine:
        db.writing(session, platform.engine)
    audit.record(session, who, action, "patient", patient_id, at=platform.clock.now())
    session.commit()


# The audit actions of reads of identifiable data: administrators list them with
# GET /audit?action=read_identity (or read_notes).
READ_IDENTITY, READ_NOTES = "read_identity", "read_notes"


def events(session: Session, platform: Platform, who: Principal, patient_id: str) -> list[EventPublic]:
    """The timeline; its notes only for the patient's own centre (the read is recorded),
    everyone else gets each event without its note."""
    patient = visible(session, who, patient_id)
    rows = list(
        session.scalars(
            select(tables.PathwayEventRow)
            .where(tables.PathwayEventRow.patient_id == patient_id)
            .order_by(tables.PathwayEventRow.seq)
        )
    )
    corrections: dict[int, list[tuple[int, str]]] = {}  # entry seq: the corrections of it
    for row in rows:
        if row.move in (Move.CORRECT.value, Move.VOID.value):
            target = (row.data or {}).get("corrects")
            if isinstance(target, int):
                corrections.setdefault(target, []).append((row.seq, row.move))
    shown = []
    for row in rows:
        made = corrections.get(row.seq, [])
        status: Literal["recorded", "corrected", "voided"] = "recorded"
        if any(move == Move.VOID.value for _, move in made):
            status = "voided"
        elif made:
            status = "corrected"
        shown.append(
            EventPublic(
                seq=row.seq,
                move=row.move,
                at=row.at,
                actor=row.actor,
                reason=notes.for_viewer(session, who, patient.centre_id, row.reason),
                data=row.data or {},
                status=status,
                corrected_by=[seq for seq, _ in made],
            )
        )
    if any(event.reason for event in shown):
        _record_read(session, platform, who, READ_NOTES, patient_id)
    return shown


def _move(
    session: Session,
    platform: Platform,
    who: Principal,
    patient_id: str,
    roles: Sequence[Role],
    build: Any,
    action: str,
) -> PatientPublic:
    """Load the patient's pathway, apply the event `build(pathway)` makes, audit, commit."""
    if who.role not in roles:
        raise Forbidden(f"{action.replace('_', ' ')} is done by: {', '.join(r.value for r in roles)}")
    patient = visible(session, who, patient_id)
    if who.role in CENTRE_ROLES and who.centre_id != patient.centre_id:
        raise NotFound("patient", patient_id)
    before = audit.snapshot(patient)
    pathway = pathways.load(session, patient, platform.catalogue)
    pathways.record(session, patient, pathway, build(pathway), platform.clock.now())
    audit.record(
        session, who, action, "patient", patient_id, before, audit.snapshot(patient), at=platform.clock.now()
    )
    session.commit()
    return public(patient, platform.clock.now())


def request_imaging(
    session: Session, platform: Platform, who: Principal, patient_id: str, body: ImagingRequestCreate
) -> PatientPublic:
    agent = platform.catalogue.imaging_agent(body.agent)

    def build(pathway: PatientPathway) -> PathwayEvent:
        needs = pathway.product.eligibility.needs_imaging  # if not, the pathway refuses it (409)
        if needs and agent.product_id not in pathway.product.eligibility.imaging_agents:
            raise InvalidInput(
                f"{agent.brand} does not prove eligibility for {pathway.product.brand}; use one of: "
                f"{', '.join(pathway.product.eligibility.imaging_agents)}"
            )
        reason = body.reason or f"{agent.brand} PET requested"
        return PathwayEvent(Move.REQUEST_IMAGING, body.at or platform.clock.now(), who.username, reason)

    return _move(session, platform, who, patient_id, (Role.COORDINATOR,), build, "request_imaging")


_RESULT = {
    "positive": Move.RECORD_POSITIVE,
    "negative": Move.RECORD_NEGATIVE,
    "inconclusive": Move.RECORD_INCONCLUSIVE,
}
_DECISION = {"approve": Move.APPROVE, "decline": Move.DECLINE, "defer": Move.DEFER}


def record_imaging(
    session: Session, platform: Platform, who: Principal, patient_id: str, body: ImagingResultCreate
) -> PatientPublic:
    def build(_: PatientPathway) -> PathwayEvent:
        return PathwayEvent(_RESULT[body.result], body.at or platform.clock.now(), who.username, body.reason)

    return _move(
        session, platform, who, patient_id, (Role.COORDINATOR, Role.PHYSICIAN), build, "record_imaging"
    )


def decide(
    session: Session, platform: Platform, who: Principal, patient_id: str, body: MdtDecisionCreate
) -> PatientPublic:
    def build(_: PatientPathway) -> PathwayEvent:
        return PathwayEvent(
            _DECISION[body.decision],
            body.at or platform.clock.now(),
            who.username,
            body.reason,
            eligibility=tuple(body.eligibility),
        )

    return _move(session, platform, who, patient_id, (Role.PHYSICIAN,), build, "mdt_decision")


def follow_up(
    session: Session, platform: Platform, who: Principal, patient_id: str, body: FollowUpCreate
) -> PatientPublic:
    """A follow-up record; the first after an administration starts the follow-up stage."""
    if who.role not in CENTRE_ROLES:
        raise Forbidden("follow-up is recorded by the patient's centre")
    patient = visible(session, who, patient_id)
    if who.centre_id != patient.centre_id:
        raise NotFound("patient", patient_id)
    now = platform.clock.now()
    at = body.at or now
    timing.check_not_future(at, now, "follow-up")
    sealed = notes.seal_data(session, body.data)  # clinical values: identifiable, like the notes
    session.add(
        tables.FollowUp(patient_id=patient_id, cycle=patient.cycle, at=at, kind=body.kind, data=sealed)
    )
    if patient.stage == Stage.ADMINISTERED.value:
        pathway = pathways.load(session, patient, platform.catalogue)
        started = PathwayEvent(Move.START_FOLLOW_UP, at, who.username, body.kind)
        pathways.record(session, patient, pathway, started, now)
    audit.record(
        session,
        who,
        "follow_up",
        "patient",
        patient_id,
        after={"kind": body.kind},
        at=platform.clock.now(),
    )
    session.commit()
    return public(patient, platform.clock.now())


def discontinue(
    session: Session, platform: Platform, who: Principal, patient_id: str, body: DiscontinuationCreate
) -> PatientPublic:
    def build(_: PatientPathway) -> PathwayEvent:
        reason = DiscontinuationReason(body.reason)
        return PathwayEvent(
            Move.DISCONTINUE, body.at or platform.clock.now(), who.username, body.note, discontinuation=reason
        )

    return _move(session, platform, who, patient_id, (Role.PHYSICIAN,), build, "discontinue")


def complete(session: Session, platform: Platform, who: Principal, patient_id: str) -> PatientPublic:
    def build(_: PatientPathway) -> PathwayEvent:
        return PathwayEvent(Move.COMPLETE, platform.clock.now(), who.username, "all cycles given")

    return _move(session, platform, who, patient_id, (Role.PHYSICIAN, Role.COORDINATOR), build, "complete")
