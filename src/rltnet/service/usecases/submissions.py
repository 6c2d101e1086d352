"""Submitting dose orders, idempotently: one, or many in one transaction.

An order is taken with the patient's ORDER move (and PLAN_CYCLE first where the
cycle was not planned yet), placed at once (`service.placement`) in the same
transaction, and audited; one that cannot be placed is still taken, with the
reason, for the full planner.

`submit_many` takes the submissions that arrive together in one transaction
(the service's group commit, `service.intake`): each statement then serves all
of them, which is what makes the cost of an order small. Each submission's own
refusal (role, unknown patient, window, pathway) is its outcome alone.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rltnet.domain.errors import InvalidInput, RltnetError
from rltnet.domain.orders import DoseOrder
from rltnet.domain.pathway import Move, PathwayEvent, PatientPathway, Stage
from rltnet.domain.units import format_instant
from rltnet.service import audit, pathways
from rltnet.service.disruptions import stored_events
from rltnet.service.errors import Conflict, Forbidden, NotFound
from rltnet.service.platform import Platform
from rltnet.service.schemas import OrderCreate, OrderPublic
from rltnet.service.security import Principal, Role
from rltnet.service.usecases.orders import (
    cycle_window,
    placed_public,
    prescription,
    public,
    public_with,
)
from rltnet.store import tables
from rltnet.store.bulk import insert_rows

ORDERS: Table = tables.Order.__table__  # type: ignore[assignment]
# Every batch runs these: built once (building and keying them costs more than running them)
_PATIENTS_LOCKED = (
    select(pathways.PATIENTS)
    .where(pathways.PATIENTS.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(pathways.PATIENTS.c.id)  # locks taken in one order: no deadlock between batches
    .with_for_update()
)
_KEYS_TAKEN = select(ORDERS.c.idempotency_key, ORDERS.c.id).where(
    ORDERS.c.idempotency_key.in_(bindparam("keys", expanding=True))
)
_PLAN_NOTE = update(ORDERS).where(ORDERS.c.id == bindparam("order")).values(plan_note=bindparam("note"))

Submitted = tuple[OrderPublic, bool]  # the order, and whether this request created it


def scoped_key(centre_id: str | None, key: str) -> str:
    """An idempotency key as stored: in the namespace of the caller's centre, so that one
    centre's key never finds (nor names, nor blocks) another centre's order."""
    return f"{centre_id or '-'}:{key}"


@dataclass(frozen=True, slots=True)
class Submission:
    """One order request: who sends it, the order, and its idempotency key."""

    who: Principal
    body: OrderCreate
    idempotency_key: str

    @property
    def stored_key(self) -> str:
        """The key in the caller's centre (`scoped_key`)."""
        return scoped_key(self.who.centre_id, self.idempotency_key)

    def digest(self) -> str:
        """What the key stands for: the same key with another body is a conflict."""
        body = json.dumps(self.body.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Draft:
    """A new order, checked and recorded on its pathway, not yet written."""

    index: int
    who: Principal
    order: DoseOrder
    values: dict[str, Any]  # the order's row


def submit(
    session: Session, platform: Platform, who: Principal, body: OrderCreate, idempotency_key: str
) -> Submitted:
    """The order for the patient's next cycle, placed at once; `(order, created)`.

    The same idempotency key with the same body returns the order already taken
    (created False); with a different body it is a conflict.
    """
    outcome = submit_many(session, platform, [Submission(who, body, idempotency_key)])[0]
    if isinstance(outcome, RltnetError):
        raise outcome
    return outcome


def submit_many(
    session: Session, platform: Platform, submissions: Sequence[Submission]
) -> list[Submitted | RltnetError]:
    """Each submission's outcome, in order: taken (or replayed) in one transaction, or refused.

    The submissions must name distinct patients and keys (`service.intake` keeps a
    second one for the next batch). A database error rolls them all back and is
    raised; the caller may send them again one at a time.
    """
    try:
        return _submit_many(session, platform, submissions)
    except IntegrityError:  # a key taken at the same moment by another transaction, now committed
        session.rollback()
        return _submit_many(session, platform, submissions)  # which replays it


def _submit_many(
    session: Session, platform: Platform, submissions: Sequence[Submission]
) -> list[Submitted | RltnetError]:
    _check_distinct(submissions)
    at = platform.clock.now()
    outcomes: list[Submitted | RltnetError | None] = [None] * len(submissions)
    # one at a time per patient: a resent request waits here for the first to commit, then
    # finds its key taken (PostgreSQL; on SQLite every write transaction is serial)
    ids = [s.body.patient_id for s in submissions]
    patients = {row.id: row for row in session.execute(_PATIENTS_LOCKED, {"ids": ids}).all()}
    keys = [s.stored_key for s in submissions]
    taken = {row.idempotency_key: row.id for row in session.execute(_KEYS_TAKEN, {"keys": keys}).all()}
    pathway_of = pathways.load_many(session, list(patients.values()), platform.catalogue)
    moves = pathways.Moves()
    drafts: list[_Draft] = []
    for index, submission in enumerate(submissions):
        try:
            if submission.who.role is not Role.COORDINATOR:
                raise Forbidden("orders are placed by a coordinator of the patient's centre")
            if submission.stored_key in taken:
                order_id = taken[submission.stored_key]
                outcomes[index] = (_replay(session, platform, submission, order_id), False)
                continue
            patient = patients.get(submission.body.patient_id)
            if patient is None or not submission.who.sees_centre(patient.centre_id):
                raise NotFound("patient", submission.body.patient_id)
            try:
                drafts.append(_draft(platform, index, submission, patient, pathway_of[patient.id], moves, at))
            except RltnetError:
                moves.forget(patient.id)  # whatever it recorded before the refusal
                raise
        except RltnetError as refused:
            outcomes[index] = refused
    if drafts:
        _write(session, platform, drafts, moves, at, outcomes)
    session.commit()  # the last statement: no connection is held past it
    return [outcome for outcome in outcomes if outcome is not None]


def _check_distinct(submissions: Sequence[Submission]) -> None:
    patients = {s.body.patient_id for s in submissions}
    keys = {s.stored_key for s in submissions}
    if len(patients) < len(submissions) or len(keys) < len(submissions):
        raise ValueError("one transaction takes at most one submission per patient and per key")


def _replay(session: Session, platform: Platform, submission: Submission, order_id: str) -> OrderPublic:
    order = session.get(tables.Order, order_id)
    if order is None:  # the read above found it in this transaction: cannot happen
        raise NotFound("order", order_id)
    if order.request_digest != submission.digest():
        raise Conflict("this Idempotency-Key was used for a different order; use a new key for a new order")
    if not submission.who.sees_centre(order.centre_id):
        raise NotFound("order", order.id)
    return public(session, order, platform)


def _draft(
    platform: Platform,
    index: int,
    submission: Submission,
    patient: Row[Any],
    pathway: PatientPathway,
    moves: pathways.Moves,
    at: datetime,
) -> _Draft:
    """The order, checked against the cycle's window and the label, its moves recorded."""
    body, who = submission.body, submission.who
    product = platform.catalogue.therapy(patient.product_id)
    earliest, latest = cycle_window(platform, pathway, product, at)
    preferred = body.preferred_at or earliest
    if not earliest <= preferred <= latest:
        raise InvalidInput(
            f"preferred_at {format_instant(preferred)} is outside the window the label allows for this "
            f"cycle: {format_instant(earliest)} to {format_instant(latest)}; choose a time inside it"
        )
    order_id = "O-" + secrets.token_hex(5).upper()
    prescribed = prescription(product, patient.weight_kg, body.reduction, body.platelets_per_mm3)
    events: list[PathwayEvent] = []
    if pathway.current.stage not in (Stage.CYCLE_PLANNED, Stage.QC_FAILED):
        events.append(PathwayEvent(Move.PLAN_CYCLE, at, who.username, planned_at=preferred))
    events.append(PathwayEvent(Move.ORDER, at, who.username, order_id=order_id, reduction=body.reduction))
    moves.record(patient, pathway, at, *events)
    cycle = pathway.current.cycle
    order = DoseOrder(
        order_id=order_id,
        patient_id=patient.id,
        product_id=product.product_id,
        cycle=cycle,
        centre_id=patient.centre_id,
        earliest_at=earliest,
        latest_at=latest,
        preferred_at=preferred,
        prescribed=prescribed,
        placed_at=at,
        weight_kg=patient.weight_kg,
    )
    values = {column.key: None for column in ORDERS.columns} | {
        "id": order_id,
        "idempotency_key": submission.stored_key,
        "request_digest": submission.digest(),
        "patient_id": patient.id,
        "product_id": product.product_id,
        "cycle": cycle,
        "centre_id": patient.centre_id,
        "earliest_at": earliest,
        "latest_at": latest,
        "preferred_at": preferred,
        "prescribed_bq": prescribed.bq,
        "reduction": body.reduction,
        "weight_kg": patient.weight_kg,
        "placed_at": at,
        "placed_by": who.username,
        "status": "requested",
    }
    return _Draft(index, who, order, values)


def _write(
    session: Session,
    platform: Platform,
    drafts: list[_Draft],
    moves: pathways.Moves,
    at: datetime,
    outcomes: list[Submitted | RltnetError | None],
) -> None:
    """The orders, their events and stages, their placements and the audit entries: a few
    statements for the whole batch. The placement's reservations come last but one, so
    the batch and centre-day rows they lock are held only until the commit."""
    insert_rows(session, ORDERS, [draft.values for draft in drafts])
    moves.write(session)
    placed = platform.placer.place_many(session, [d.order for d in drafts], at, stored_events(session))
    notes = [
        {"order": d.order.order_id, "note": p}
        for d, p in zip(drafts, placed, strict=True)
        if isinstance(p, str)
    ]
    if notes:
        session.execute(_PLAN_NOTE, notes)
    entries = []
    for draft, placement in zip(drafts, placed, strict=True):
        product = platform.catalogue.therapy(draft.order.product_id)
        values = draft.values | {"plan_note": placement if isinstance(placement, str) else None}
        entries.append(
            audit.entry(draft.who, "order", "order", draft.order.order_id, after=audit.as_json(values), at=at)
        )
        in_hand = None if isinstance(placement, str) else placed_public(placement, product)
        outcomes[draft.index] = (public_with(tables.Order(**values), platform, at, in_hand), True)
    audit.record_many(session, entries)
