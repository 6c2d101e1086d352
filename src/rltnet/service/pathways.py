"""A patient's pathway in the database: events in, the domain's state machine, events out.

Every move goes through `rltnet.domain.pathway`: the stored events are replayed
into a `PatientPathway`, the new event is recorded there (which refuses a move the
table or a guard forbids), and only then is the event row written and the
patient's stage updated, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from rltnet.domain.dose import Dose
from rltnet.domain.pathway import (
    CORRECTIONS,
    DiscontinuationReason,
    Move,
    PathwayEvent,
    PathwayState,
    PatientPathway,
    Stage,
)
from rltnet.domain.products import Catalogue
from rltnet.domain.records import AdministrationRecord, DoseRecord, ReleaseRecord, ShippingRecord
from rltnet.domain.units import Activity
from rltnet.files.catalogue_file import default_catalogue
from rltnet.service import notes
from rltnet.store import tables
from rltnet.store.bulk import insert_rows

# Who owns the next step at each stage: what a coordinator's board shows.
NEXT_STEP_OWNER: dict[Stage, str] = {
    Stage.REFERRED: "coordinator: request eligibility imaging",
    Stage.IMAGING_REQUESTED: "nuclear medicine: image and report",
    Stage.IMAGED_POSITIVE: "physician: MDT decision",
    Stage.IMAGED_NEGATIVE: "physician: MDT decision",
    Stage.IMAGED_INCONCLUSIVE: "physician: MDT decision or repeat imaging",
    Stage.MDT_APPROVED: "coordinator: order the first cycle",
    Stage.MDT_DEFERRED: "physician: MDT decision",
    Stage.CYCLE_PLANNED: "coordinator: order the dose",
    Stage.ORDERED: "manufacturer: confirm the order",
    Stage.CONFIRMED: "manufacturer: produce the dose",
    Stage.IN_PRODUCTION: "manufacturer: release the dose",
    Stage.RELEASED: "manufacturer: ship the dose",
    Stage.QC_FAILED: "coordinator: re-order",
    Stage.SHIPPED: "courier: deliver the dose",
    Stage.DELIVERED: "physician: administer",
    Stage.MISSED: "coordinator: re-plan the cycle",
    Stage.ADMINISTERED: "nurse: start follow-up",
    Stage.FOLLOW_UP: "coordinator: plan the next cycle or complete",
    Stage.MDT_DECLINED: "none: the pathway has ended",
    Stage.COMPLETED: "none: the pathway has ended",
    Stage.DISCONTINUED: "none: the pathway has ended",
}


def next_step(stage: Stage, product_id: str) -> str:
    """Who acts next, and what: a therapy without eligibility PET goes from referral to the MDT."""
    if stage is Stage.REFERRED and not default_catalogue().therapy(product_id).eligibility.needs_imaging:
        return "physician: MDT decision on the label's eligibility checks"
    return NEXT_STEP_OWNER[stage]


def event_data(event: PathwayEvent) -> dict[str, Any]:
    """The move's data as JSON."""
    data: dict[str, Any] = {}
    if event.planned_at is not None:
        data["planned_at"] = event.planned_at.isoformat()
    if event.order_id is not None:
        data["order_id"] = event.order_id
    if event.reduction is not None:
        data["reduction"] = event.reduction
    if event.discontinuation is not None:
        data["discontinuation"] = event.discontinuation.value
    if event.eligibility:
        data["eligibility"] = list(event.eligibility)
    if event.dose is not None:
        dose = event.dose
        data["dose"] = {
            "dose_id": dose.dose_id,
            "product_id": dose.product.product_id,
            "batch_id": dose.batch_id,
            "calibration_at": dose.calibration_at.isoformat(),
            "calibration_bq": dose.calibration_activity.bq,
            "expiry_at": dose.expiry_at.isoformat(),
            "prescribed_bq": dose.prescribed.bq if dose.prescribed else None,
            "released_at": dose.released_at.isoformat() if dose.released_at else None,
        }
    if event.release is not None:
        release = event.release
        data["release"] = {
            "calibration_at": release.calibration_at.isoformat(),
            "calibration_bq": release.calibration_activity.bq,
            "qc_result": release.qc_result,
            "lot": release.lot,
        }
    if event.shipping is not None:
        data["shipping"] = {"courier": event.shipping.courier, "tracking": event.shipping.tracking}
    if event.administration is not None:
        given = event.administration
        data["administration"] = {
            "assayed_bq": given.assayed.bq,
            "residual_bq": given.residual.bq,
            "administered_bq": given.administered.bq,
            "given_by": given.given_by,
        }
    if event.corrects is not None:
        data["corrects"] = event.corrects
    if event.corrected_at is not None:
        data["corrected_at"] = event.corrected_at.isoformat()
    return data


class StoredEvent(Protocol):
    """A stored event row, as the ORM or a Core read gives it."""

    @property
    def move(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def actor(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def data(self) -> dict[str, Any] | None: ...


class PatientRecord(Protocol):
    """The patient columns a pathway needs, as the ORM or a Core read gives them."""

    @property
    def id(self) -> str: ...
    @property
    def product_id(self) -> str: ...
    @property
    def events(self) -> int: ...
    @property
    def stage_since(self) -> datetime: ...


EVENTS: Table = tables.PathwayEventRow.__table__  # type: ignore[assignment]
PATIENTS: Table = tables.Patient.__table__  # type: ignore[assignment]
# Core statements for many patients at once (the order intake's batches): built once
_EVENTS_OF = (
    select(EVENTS.c.patient_id, EVENTS.c.move, EVENTS.c.at, EVENTS.c.actor, EVENTS.c.reason, EVENTS.c.data)
    .where(EVENTS.c.patient_id.in_(bindparam("ids", expanding=True)))
    .order_by(EVENTS.c.patient_id, EVENTS.c.seq)
)
_PATIENT_MOVED = (
    update(PATIENTS)
    .where(PATIENTS.c.id == bindparam("patient"))
    .values(
        events=bindparam("seq"),
        stage=bindparam("new_stage"),
        stage_since=bindparam("since"),
        cycle=bindparam("new_cycle"),
        cycles_given=bindparam("given"),
    )
)


def to_event(row: StoredEvent, catalogue: Catalogue) -> PathwayEvent:
    data = row.data or {}
    dose = None
    if "dose" in data:
        d = data["dose"]
        dose = Dose(
            dose_id=d["dose_id"],
            product=catalogue.therapy(d["product_id"]),
            batch_id=d["batch_id"],
            calibration_at=datetime.fromisoformat(d["calibration_at"]),
            calibration_activity=Activity(d["calibration_bq"]),
            expiry_at=datetime.fromisoformat(d["expiry_at"]),
            prescribed=Activity(d["prescribed_bq"]) if d.get("prescribed_bq") else None,
            released_at=datetime.fromisoformat(d["released_at"]) if d.get("released_at") else None,
        )
    release = data.get("release")
    shipping = data.get("shipping")
    given = data.get("administration")
    return PathwayEvent(
        move=Move(row.move),
        at=row.at,
        actor=row.actor,
        reason=row.reason,
        planned_at=datetime.fromisoformat(data["planned_at"]) if "planned_at" in data else None,
        order_id=data.get("order_id"),
        reduction=data.get("reduction"),
        dose=dose,
        discontinuation=DiscontinuationReason(data["discontinuation"]) if "discontinuation" in data else None,
        eligibility=tuple(data.get("eligibility", ())),
        release=ReleaseRecord(
            calibration_at=datetime.fromisoformat(release["calibration_at"]),
            calibration_activity=Activity(release["calibration_bq"]),
            qc_result=release["qc_result"],
            lot=release["lot"],
        )
        if release
        else None,
        shipping=ShippingRecord(shipping["courier"], shipping["tracking"]) if shipping else None,
        administration=AdministrationRecord(
            Activity(given["assayed_bq"]), Activity(given["residual_bq"]), given["given_by"]
        )
        if given
        else None,
        corrects=data.get("corrects"),
        corrected_at=datetime.fromisoformat(data["corrected_at"]) if "corrected_at" in data else None,
    )


def load(session: Session, patient: PatientRecord, catalogue: Catalogue) -> PatientPathway:
    """The patient's pathway, replayed from its stored events."""
    return load_many(session, [patient], catalogue)[patient.id]


def load_many(
    session: Session, patients: Sequence[PatientRecord], catalogue: Catalogue
) -> dict[str, PatientPathway]:
    """Each patient's pathway, replayed from its stored events: one read for them all, as
    plain rows (building ORM objects for events read once costs more than the read)."""
    ids = [patient.id for patient in patients]
    rows = session.execute(_EVENTS_OF, {"ids": ids}).all() if ids else ()
    events: dict[str, list[PathwayEvent]] = {patient_id: [] for patient_id in ids}
    for row in rows:
        events[row.patient_id].append(to_event(row, catalogue))
    return {
        patient.id: PatientPathway.from_events(
            patient.id, catalogue.therapy(patient.product_id), events[patient.id]
        )
        for patient in patients
    }


def record(
    session: Session, patient: tables.Patient, pathway: PatientPathway, event: PathwayEvent, now: datetime
) -> None:
    """Apply `event` through the state machine, checked against the clock's `now`, then store
    it, the new stage and what was recorded of the order's dose."""
    state = pathway.record(event, now)  # raises PathwayError, leaving the pathway unchanged
    patient.events += 1
    values = event_values(patient.id, patient.events, event)
    values["reason"] = notes.seal(session, event.reason)
    session.add(tables.PathwayEventRow(**values))
    patient.stage_since = state.stage_since or state.last_event_at
    patient.stage = state.stage.value
    patient.cycle = state.cycle
    patient.cycles_given = state.cycles_given
    if event.move in DOSE_MOVES:
        write_dose_records(session, pathway.dose_records() if event.move in CORRECTIONS else _current(state))


# Moves that change what is recorded of an order's dose (its projection, `tables.DoseRecordRow`)
DOSE_MOVES = frozenset(
    {
        Move.START_PRODUCTION,
        Move.RELEASE,
        Move.FAIL_QC,
        Move.SHIP,
        Move.DELIVER,
        Move.MISS,
        Move.ADMINISTER,
        Move.CORRECT,
        Move.VOID,
    }
)


def _current(state: PathwayState) -> dict[str, DoseRecord]:
    return {state.dose.order_id: state.dose} if state.dose is not None else {}


def write_dose_records(session: Session, records: dict[str, DoseRecord]) -> None:
    """Store each order's dose record as the events give it, replacing what was stored."""
    for order_id, record in records.items():
        if session.get(tables.Order, order_id) is None:
            continue  # a scripted demo pathway's order, with no order row
        row = session.get(tables.DoseRecordRow, order_id) or tables.DoseRecordRow(order_id=order_id)
        release, shipping, given = record.release, record.shipping, record.administration
        row.production_started_at = record.production_started_at
        row.released_at = record.released_at
        row.calibration_at = release.calibration_at if release else None
        row.calibration_bq = release.calibration_activity.bq if release else None
        row.qc_result = release.qc_result if release else None
        row.lot = release.lot if release else None
        row.qc_failed_at = record.qc_failed_at
        row.shipped_at = record.shipped_at
        row.courier = shipping.courier if shipping else None
        row.tracking = shipping.tracking if shipping else None
        row.delivered_at = record.delivered_at
        row.missed_at = record.missed_at
        row.administered_at = record.administered_at
        row.assayed_bq = given.assayed.bq if given else None
        row.residual_bq = given.residual.bq if given else None
        row.given_by = given.given_by if given else None
        session.add(row)


def event_values(patient_id: str, seq: int, event: PathwayEvent) -> dict[str, Any]:
    """The stored row of a patient's `seq`-th event."""
    return {
        "patient_id": patient_id,
        "seq": seq,
        "move": event.move.value,
        "at": event.at,
        "actor": event.actor,
        "reason": event.reason,
        "data": event_data(event),
    }


class Moves:
    """Events recorded on many patients' pathways in memory, then written in two statements
    (the order intake's batches): the event rows, and each patient's new stage."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._patients: dict[str, dict[str, Any]] = {}

    def record(
        self, patient: PatientRecord, pathway: PatientPathway, now: datetime, *events: PathwayEvent
    ) -> None:
        """As `record`, each event through the state machine (against the clock's `now`), kept
        to be written: all of them, or none where one is refused (PathwayError; the pathway is
        then not to be used)."""
        moved = self._patients.get(patient.id)
        seq = moved["seq"] if moved else patient.events
        since = moved["since"] if moved else patient.stage_since
        rows = []
        for event in events:
            state = pathway.record(event, now)
            seq += 1
            rows.append(event_values(patient.id, seq, event))
            since = state.stage_since or since
        self.events.extend(rows)
        self._patients[patient.id] = {
            "patient": patient.id,
            "seq": seq,
            "new_stage": pathway.current.stage.value,
            "since": since,
            "new_cycle": pathway.current.cycle,
            "given": pathway.current.cycles_given,
        }

    def forget(self, patient_id: str) -> None:
        """Drop what was kept for a patient (its submission was refused after recording)."""
        self.events = [row for row in self.events if row["patient_id"] != patient_id]
        self._patients.pop(patient_id, None)

    def write(self, session: Session) -> None:
        if self.events:
            for row in self.events:  # the notes sealed as they are written
                row["reason"] = notes.seal(session, row["reason"])
            insert_rows(session, EVENTS, self.events)
            session.execute(_PATIENT_MOVED, list(self._patients.values()))
