"""Correcting a wrong entry on a patient's pathway: set right or voided, with the reason.

The correction is an entry of its own (CORRECT or VOID naming the wrong one by its
seq); the wrong entry stays in the events and the audit trail, and the patient's
stage and each order's dose record are rebuilt from the events as corrected
(`domain.pathway.effective_events`). Whoever recorded an entry's kind corrects it
(the role that made it, of the patient's centre where the role has one), or an
administrator. Corrected times are checked as new ones are: not in the future,
in order, and each dose step against its batch, QC and lane (`domain.timing`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rltnet.domain import timing
from rltnet.domain.errors import InvalidInput
from rltnet.domain.pathway import CORRECTABLE, CORRECTIONS, Move, PathwayEvent, PatientPathway
from rltnet.domain.records import AdministrationRecord, DoseRecord, ReleaseRecord, ShippingRecord
from rltnet.domain.units import Activity
from rltnet.service import audit, pathways
from rltnet.service.errors import Forbidden, NotFound
from rltnet.service.platform import Platform
from rltnet.service.schemas import CorrectionCreate, EventPublic, PatientPublic
from rltnet.service.security import CENTRE_ROLES, Principal, Role
from rltnet.service.usecases.orders import dose_route, recorded_dose
from rltnet.service.usecases.patients import public, visible
from rltnet.store import tables


def correct(
    session: Session, platform: Platform, who: Principal, patient_id: str, body: CorrectionCreate
) -> PatientPublic:
    """Record the correction or void of entry `body.entry`; refused, with why, if the pathway
    as corrected would not hold."""
    patient = visible(session, who, patient_id)
    if who.role in CENTRE_ROLES and who.centre_id != patient.centre_id:
        raise NotFound("patient", patient_id)
    pathway = pathways.load(session, patient, platform.catalogue)
    if body.entry > len(pathway.events):
        raise NotFound(f"entry of patient {patient_id}", str(body.entry))
    entry = pathway.events[body.entry - 1]
    _check_author(session, who, entry, body.entry)
    now = platform.clock.now()
    if body.action == "void":
        event = PathwayEvent(Move.VOID, now, who.username, body.reason, corrects=body.entry)
    else:
        event = _correction(session, platform, who, pathway, body, now)
    trial = PatientPathway.from_events(patient_id, pathway.product, [*pathway.events, event])
    _check_dose_steps(session, platform, trial.dose_records())
    before = audit.snapshot(patient)
    pathways.record(session, patient, pathway, event, now)
    _sync_orders(session, pathway.dose_records())
    audit.record(
        session,
        who,
        body.action,
        "patient",
        patient_id,
        before | {"entry": body.entry, "move": entry.move.value, "entry_at": entry.at.isoformat()},
        audit.snapshot(patient) | {"entry": body.entry},  # the reason is a note: sealed on its entry
        at=now,
    )
    session.commit()
    return public(patient, now)


def correctable(session: Session, who: Principal, entries: list[EventPublic]) -> set[int]:
    """The seqs of the entries `who` may correct or void (what the pages offer; `correct`
    checks again)."""
    if who.role not in (*CENTRE_ROLES, Role.MANUFACTURER, Role.ADMIN):
        return set()
    roles = _roles_of(session, {e.actor for e in entries})
    kinds = {move.value for move in CORRECTABLE}
    return {
        e.seq
        for e in entries
        if e.move in kinds
        and e.status != "voided"
        and (who.role is Role.ADMIN or roles.get(e.actor) == who.role.value)
    }


def _roles_of(session: Session, usernames: set[str]) -> dict[str, str]:
    rows = session.execute(
        select(tables.User.username, tables.User.role).where(tables.User.username.in_(usernames))
    )
    return {row.username: row.role for row in rows}


def _check_author(session: Session, who: Principal, entry: PathwayEvent, seq: int) -> None:
    if entry.move in CORRECTIONS:
        raise InvalidInput(f"entry {seq} is itself a correction; correct the original entry again")
    if who.role is Role.ADMIN:
        return
    author = _roles_of(session, {entry.actor}).get(entry.actor)
    if author != who.role.value:
        made_by = f"a {author}" if author else entry.actor
        raise Forbidden(
            f"entry {seq} ({entry.move.value.replace('_', ' ')}) was recorded by {made_by}; it is "
            f"corrected by {made_by} or an administrator"
        )


def _correction(
    session: Session,
    platform: Platform,
    who: Principal,
    pathway: PatientPathway,
    body: CorrectionCreate,
    now: datetime,
) -> PathwayEvent:
    """The CORRECT entry: the right time and the right facts of the entry's kind."""
    entry = pathway.events[body.entry - 1]
    release = _release(entry, body) if entry.move is Move.RELEASE else None
    shipping = _shipping(entry, body) if entry.move is Move.SHIP else None
    given = _given(entry, body) if entry.move is Move.ADMINISTER else None
    unchanged = body.at is None and release is None and shipping is None and given is None
    if unchanged:
        raise InvalidInput(
            "a correction gives the right time ('at') or the right facts of the entry; to undo the "
            "entry, void it"
        )
    dose = None
    if entry.move is Move.ADMINISTER:  # the dose as its release was recorded (maybe corrected)
        order_id = _order_of(pathway.events[: body.entry])
        row = session.get(tables.Order, order_id) if order_id else None
        dose_row = session.get(tables.Dose, order_id) if order_id else None
        record = pathway.dose_records().get(order_id or "")
        if row is not None and dose_row is not None and record is not None:
            dose = recorded_dose(platform, row, dose_row, record)
    return PathwayEvent(
        Move.CORRECT,
        now,
        who.username,
        body.reason,
        corrects=body.entry,
        corrected_at=body.at,
        release=release,
        shipping=shipping,
        administration=given,
        dose=dose,
    )


def _order_of(events: list[PathwayEvent]) -> str | None:
    """The order the last of `events` belongs to: the latest ORDER before it."""
    return next((e.order_id for e in reversed(events) if e.move is Move.ORDER), None)


def _release(entry: PathwayEvent, body: CorrectionCreate) -> ReleaseRecord | None:
    facts = (body.calibration_gbq, body.calibration_at, body.qc_result, body.lot)
    if all(fact is None for fact in facts):
        return None
    was = entry.release
    if was is None and (body.calibration_gbq is None or not body.lot):
        raise InvalidInput("this release has no facts recorded: give calibration_gbq and lot")
    return ReleaseRecord(
        calibration_at=body.calibration_at or (was.calibration_at if was else body.at or entry.at),
        calibration_activity=(
            Activity.from_gbq(body.calibration_gbq)
            if body.calibration_gbq is not None
            else (was.calibration_activity if was else Activity(0.0))
        ),
        qc_result=body.qc_result if body.qc_result is not None else (was.qc_result if was else "pass"),
        lot=body.lot if body.lot is not None else (was.lot if was else ""),
    )


def _shipping(entry: PathwayEvent, body: CorrectionCreate) -> ShippingRecord | None:
    if body.courier is None and body.tracking is None:
        return None
    was = entry.shipping or ShippingRecord("", "")
    shipping = ShippingRecord(body.courier or was.courier, body.tracking or was.tracking)
    if not shipping.courier or not shipping.tracking:
        raise InvalidInput("a shipping names its courier and tracking reference: give both")
    return shipping


def _given(entry: PathwayEvent, body: CorrectionCreate) -> AdministrationRecord | None:
    if body.assayed_gbq is None and body.residual_gbq is None and body.given_by is None:
        return None
    was = entry.administration
    if was is None and body.assayed_gbq is None:
        raise InvalidInput("this administration has no activity recorded: give assayed_gbq")
    return AdministrationRecord(
        assayed=Activity.from_gbq(body.assayed_gbq) if body.assayed_gbq is not None else was.assayed,  # type: ignore[union-attr]
        residual=(
            Activity.from_gbq(body.residual_gbq)
            if body.residual_gbq is not None
            else (was.residual if was else Activity(0.0))
        ),
        given_by=body.given_by or (was.given_by if was else entry.actor),
    )


def _check_dose_steps(session: Session, platform: Platform, records: dict[str, DoseRecord]) -> None:
    """Each placed order's dose record, as corrected, against its batch, QC time and lane."""
    for order_id, record in records.items():
        if session.get(tables.Dose, order_id) is None or session.get(tables.Shipment, order_id) is None:
            continue  # not placed (or given back): no route to check against
        timing.check_dose_record(record, dose_route(session, platform, order_id))


def _sync_orders(session: Session, records: dict[str, DoseRecord]) -> None:
    """Each order's status and shipment status as its dose record now gives them."""
    for order_id, record in records.items():
        row = session.get(tables.Order, order_id)
        if row is None or row.status == "cancelled":
            continue
        if record.administered_at is not None:
            row.status = "administered"
        elif record.qc_failed_at is not None:
            row.status = "failed"
        elif record.missed_at is not None:
            row.status = "missed"
        elif row.status in ("administered", "failed", "missed"):
            row.status = "confirmed"  # the step that ended it was voided: it is under way again
        shipment = session.get(tables.Shipment, order_id)
        if shipment is not None:
            shipment.status = record.shipment_status
