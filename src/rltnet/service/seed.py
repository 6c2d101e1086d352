"""Demo data for `make run`: users of every role, and some weeks of patients at every stage.

The patients come from the demo run (`simulation.demo`) on the service's network,
ending today: referrals, imaging, MDT, orders placed by the planner, doses made,
shipped and given. Stages the run leaves empty get a few scripted patients, so the
board shows every pathway state. Names are synthetic; nothing is a real person.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rltnet.domain import decay
from rltnet.domain.dose import Dose
from rltnet.domain.errors import InvalidInput
from rltnet.domain.orders import DoseOrder
from rltnet.domain.pathway import DiscontinuationReason, Move, PathwayEvent, PatientPathway, Stage
from rltnet.domain.products import TherapyProduct
from rltnet.domain.units import after
from rltnet.planning.plan import Placement
from rltnet.service import notes, pathways
from rltnet.service.platform import Platform
from rltnet.service.schemas import UserCreate
from rltnet.service.security import new_password
from rltnet.service.usecases.users import add_user, set_password
from rltnet.simulation.demo import DemoResult, DemoSettings, run_demo
from rltnet.store import tables

DEMO_CENTRES = ("london", "leeds")


def demo_users(platform: Platform) -> dict[str, tuple[str, str, str | None]]:
    """username: (role, centre) for the demo: a coordinator and a physician at two centres,
    a manufacturer, an analyst and an administrator."""
    centres = [c for c in DEMO_CENTRES if c in platform.network.centres] or list(platform.network.centres)[:2]
    users: dict[str, tuple[str, str, str | None]] = {}
    for centre in centres:
        users[f"coordinator-{centre}"] = ("coordinator", centre, centre)
        users[f"physician-{centre}"] = ("physician", centre, centre)
    users["manufacturer"] = ("manufacturer", "", None)
    users["analyst"] = ("analyst", "", None)
    users["admin"] = ("admin", "", None)
    return users


def seed(platform: Platform, today: date | None = None) -> dict[str, str]:
    """Demo users (with fresh passwords, returned) and, in an empty database, demo patients.

    Refused in production mode: demo accounts there would be known passwords anyone who
    restarts the service could reset. A new demo password ends the old one's logins."""
    if platform.settings.mode == "production":
        raise InvalidInput(
            "demo users and patients are not made in production mode (RLTNET_MODE=production); "
            "start without --demo and create accounts with `rltnet users create`"
        )
    today = today or platform.clock.now().date()
    passwords = {}
    with platform.sessions() as session:
        for username, (role, _, centre) in demo_users(platform).items():
            password = new_password()
            passwords[username] = password
            user = session.scalars(select(tables.User).where(tables.User.username == username)).first()
            if user is None:
                body = UserCreate.model_validate(
                    {"username": username, "password": password, "role": role, "centre_id": centre}
                )
                add_user(session, platform, body)
            else:
                set_password(session, user, password)
        if not session.scalar(select(func.count()).select_from(tables.Patient)):
            _patients(session, platform, today)
        session.commit()
    return passwords


def _patients(session: Session, platform: Platform, today: date) -> None:
    result = run_demo(
        platform.network,
        platform.catalogue,
        DemoSettings(weeks=4, seed=7, start_date=today - timedelta(weeks=4)),
    )
    ids: dict[str, str] = {}
    for n, patient in enumerate(result.patients, start=1):
        ids[patient.pathway.patient_id] = "P-" + secrets.token_hex(5).upper()
        _add_patient(
            session, platform, ids[patient.pathway.patient_id], patient.pathway, patient.centre.centre_id, n
        )
    order_ids = {order.order_id: "O-" + secrets.token_hex(5).upper() for order in result.plan.orders}
    _rename_orders(session, order_ids)
    statuses = _order_statuses(result)
    _count_bookings(session, platform, result.plan.placements)
    session.flush()
    for placement in result.plan.placements:
        _add_order(
            session,
            platform,
            placement.order,
            ids[placement.order.patient_id],
            order_ids,
            statuses,
            placement,
        )
    for unplanned in result.plan.unplanned:
        order = unplanned.order
        _add_order(
            session, platform, order, ids[order.patient_id], order_ids, statuses, None, unplanned.reason
        )
    session.flush()
    _fill_empty_stages(session, platform, today)


def _add_patient(
    session: Session, platform: Platform, patient_id: str, pathway: PatientPathway, centre_id: str, n: int
) -> None:
    state = pathway.current
    row = tables.Patient(
        id=patient_id,
        centre_id=centre_id,
        product_id=pathway.product.product_id,
        indication=pathway.product.indications[0],
        stage=state.stage.value,
        stage_since=pathway.events[-1].at,
        cycle=state.cycle,
        cycles_given=state.cycles_given,
        weight_kg=80.0,
        referred_at=pathway.events[0].at,
        events=len(pathway.events),
    )
    session.add(row)
    session.flush()
    for seq, event in enumerate(pathway.events, start=1):
        session.add(
            tables.PathwayEventRow(
                patient_id=patient_id,
                seq=seq,
                move=event.move.value,
                at=event.at,
                actor=event.actor,
                reason=notes.seal(session, event.reason),
                data=pathways.event_data(event),
            )
        )
    identity = {
        "name": f"Demo Patient {n:04d}",
        "date_of_birth": f"19{40 + n % 40}-0{1 + n % 9}-1{n % 9}",
        "hospital_number": f"DEMO-{n:05d}",
    }
    session.add(tables.PatientIdentity(patient_id=patient_id, sealed=platform.sealer.seal(identity)))


def _rename_orders(session: Session, order_ids: dict[str, str]) -> None:
    """The demo's order ids in the events become API order ids."""
    session.flush()
    for row in session.scalars(
        select(tables.PathwayEventRow).where(tables.PathwayEventRow.move == Move.ORDER.value)
    ):
        old = (row.data or {}).get("order_id")
        if old in order_ids:
            row.data = {**row.data, "order_id": order_ids[old]}


def _order_statuses(result: DemoResult) -> dict[str, str]:
    """What became of each demo order, from the moves that followed it on its pathway."""
    statuses: dict[str, str] = {}
    outcome = {
        Move.ADMINISTER: "administered",
        Move.MISS: "missed",
        Move.FAIL_QC: "failed",
        Move.CANCEL_ORDER: "cancelled",
        Move.CONFIRM: "confirmed",
    }
    for patient in result.patients:
        current: str | None = None
        for event in patient.pathway.events:
            if event.move is Move.ORDER and event.order_id is not None:
                current = event.order_id
                statuses[current] = "requested"
            elif (
                current is not None
                and event.move in outcome
                and statuses[current] in ("requested", "confirmed")
            ):
                statuses[current] = outcome[event.move]
    return statuses


def _add_order(
    session: Session,
    platform: Platform,
    order: DoseOrder,
    patient_id: str,
    order_ids: dict[str, str],
    statuses: dict[str, str],
    placement: Placement | None,
    note: str | None = None,
) -> None:
    order_id = order_ids[order.order_id]
    status = statuses.get(order.order_id, "requested")
    session.add(
        tables.Order(
            id=order_id,
            idempotency_key=f"{order.centre_id}:demo-{order_id}",
            request_digest="demo",
            patient_id=patient_id,
            product_id=order.product_id,
            cycle=order.cycle,
            centre_id=order.centre_id,
            earliest_at=order.earliest_at,
            latest_at=order.latest_at,
            preferred_at=order.preferred_at,
            prescribed_bq=order.prescribed.bq,
            weight_kg=order.weight_kg,
            placed_at=order.placed_at,
            placed_by="demo",
            status=status,
            plan_note=note,
            confirmed_at=order.placed_at + timedelta(hours=6) if status != "requested" else None,
        )
    )
    if placement is None:
        return
    session.flush()
    shelf_life = platform.catalogue.therapy(order.product_id).shelf_life
    delivered = status in ("administered", "missed")
    session.add_all(
        [
            tables.Dose(
                order_id=order_id,
                batch_id=placement.batch_id,
                site_id=placement.site_id,
                calibration_at=placement.batch_start_at,
                calibration_bq=placement.calibration_activity.bq,
                released_at=placement.released_at,
                expiry_at=after(placement.batch_start_at, shelf_life),
            ),
            tables.Shipment(
                order_id=order_id,
                lane_id=placement.lane_id,
                departs_at=placement.departs_at,
                arrives_at=placement.arrives_at,
                status="delivered" if delivered else "planned",
            ),
            tables.Appointment(
                order_id=order_id,
                centre_id=placement.centre_id,
                chair=placement.chair,
                start_at=placement.appointment_at,
                end_at=placement.appointment_end_at,
                administration_at=placement.administration_at,
                delay_reason=placement.delay_reason,
            ),
        ]
    )


def _count_bookings(session: Session, platform: Platform, placements: tuple[Placement, ...]) -> None:
    """Batches and centre-days hold what the placements booked."""
    batches: defaultdict[str, list[Placement]] = defaultdict(list)
    days: defaultdict[tuple[str, date], float] = defaultdict(float)
    for p in placements:
        batches[p.batch_id].append(p)
        centre = platform.network.centres[p.centre_id]
        days[(p.centre_id, centre.calendar.local_date(p.appointment_at))] += p.order.prescribed.bq
    for batch_id, booked in batches.items():
        site = platform.network.sites[booked[0].site_id]
        session.add(
            tables.Batch(
                id=batch_id,
                site_id=site.site_id,
                start_at=booked[0].batch_start_at,
                capacity=site.doses_per_batch,
                booked=len(booked),
                failed=False,
            )
        )
    for (centre_id, day), bq in days.items():
        session.add(tables.CentreDay(centre_id=centre_id, day=day, activity_bq=bq))


def _fill_empty_stages(session: Session, platform: Platform, today: date) -> None:
    """A scripted patient for each stage the demo run left empty."""
    present = set(session.scalars(select(tables.Patient.stage).distinct()))
    centre = platform.network.centres[
        DEMO_CENTRES[0]
        if DEMO_CENTRES[0] in platform.network.centres
        else next(iter(platform.network.centres))
    ]
    product = platform.catalogue.therapy(centre.products[0])
    start = datetime.combine(today - timedelta(days=20), datetime.min.time(), tzinfo=UTC)
    for number, stage in enumerate(Stage, start=1):
        if stage.value in present:
            continue
        moves = _SCRIPTS.get(stage)
        if moves is None:
            continue
        patient_id = "P-" + secrets.token_hex(5).upper()
        pathway = PatientPathway(patient_id, product)
        row = tables.Patient(
            id=patient_id,
            centre_id=centre.centre_id,
            product_id=product.product_id,
            indication=product.indications[0],
            stage=Stage.REFERRED.value,
            stage_since=start,
            referred_at=start,
            weight_kg=80.0,
            events=0,
            cycle=0,
            cycles_given=0,
        )
        session.add(row)
        session.flush()
        at = start
        now = platform.clock.now()
        pathways.record(session, row, pathway, PathwayEvent(Move.REFER, at, "demo", "referred"), now)
        for move in moves:
            at += timedelta(days=1)
            pathways.record(session, row, pathway, _scripted_event(move, at, product, patient_id), now)
        identity = {
            "name": f"Demo Patient S{number:03d}",
            "date_of_birth": "1950-01-01",
            "hospital_number": f"DEMO-S{number:03d}",
        }
        session.add(tables.PatientIdentity(patient_id=patient_id, sealed=platform.sealer.seal(identity)))


def _scripted_event(move: Move, at: datetime, product: TherapyProduct, patient_id: str) -> PathwayEvent:
    if move is Move.PLAN_CYCLE:
        return PathwayEvent(move, at, "demo", planned_at=at + timedelta(days=15))
    if move is Move.ORDER:
        return PathwayEvent(move, at, "demo", order_id=f"demo-{patient_id}")
    if move is Move.DISCONTINUE:
        return PathwayEvent(
            move, at, "demo", "patient's choice", discontinuation=DiscontinuationReason.PATIENT_CHOICE
        )
    if move is Move.ADMINISTER:
        prescribed = product.prescribe(80.0, 200_000)
        calibrated = at - timedelta(hours=30)
        made = decay.calibration_activity_for(product.nuclide, prescribed, at, calibrated)
        dose = Dose(
            f"dose-{patient_id}",
            product,
            "demo",
            calibrated,
            made,
            after(calibrated, product.shelf_life),
            prescribed=prescribed,
        )
        return PathwayEvent(move, at, "demo", dose=dose)
    return PathwayEvent(move, at, "demo")


_APPROVED = (Move.REQUEST_IMAGING, Move.RECORD_POSITIVE, Move.APPROVE)
_ORDERED = (*_APPROVED, Move.PLAN_CYCLE, Move.ORDER, Move.CONFIRM)
_SCRIPTS: dict[Stage, tuple[Move, ...]] = {
    Stage.REFERRED: (),
    Stage.IMAGING_REQUESTED: (Move.REQUEST_IMAGING,),
    Stage.IN_PRODUCTION: (*_ORDERED, Move.START_PRODUCTION),
    Stage.RELEASED: (*_ORDERED, Move.START_PRODUCTION, Move.RELEASE),
    Stage.DELIVERED: (*_ORDERED, Move.START_PRODUCTION, Move.RELEASE, Move.SHIP, Move.DELIVER),
    Stage.IMAGED_NEGATIVE: (Move.REQUEST_IMAGING, Move.RECORD_NEGATIVE),
    Stage.IMAGED_INCONCLUSIVE: (Move.REQUEST_IMAGING, Move.RECORD_INCONCLUSIVE),
    Stage.MDT_DECLINED: (Move.REQUEST_IMAGING, Move.RECORD_NEGATIVE, Move.DECLINE),
    Stage.MDT_DEFERRED: (Move.REQUEST_IMAGING, Move.RECORD_POSITIVE, Move.DEFER),
    Stage.MDT_APPROVED: _APPROVED,
    Stage.CYCLE_PLANNED: (*_APPROVED, Move.PLAN_CYCLE),
    Stage.DISCONTINUED: (*_APPROVED, Move.DISCONTINUE),
    Stage.ADMINISTERED: (
        *_APPROVED,
        Move.PLAN_CYCLE,
        Move.ORDER,
        Move.CONFIRM,
        Move.START_PRODUCTION,
        Move.RELEASE,
        Move.SHIP,
        Move.DELIVER,
        Move.ADMINISTER,
    ),
}
