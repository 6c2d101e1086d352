"""Group commit: many orders in one transaction, placed together, each with its own outcome.

On the embedded SQLite file and on PostgreSQL, each test on a database of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from clinic import PASSWORD, approved_patients, start_with_users
from sqlalchemy import create_engine, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from rltnet.domain.errors import InvalidInput
from rltnet.domain.orders import DoseOrder
from rltnet.service.errors import Conflict, Forbidden, NotFound, Unauthenticated
from rltnet.service.intake import Intake, _Waiting, _writers_turn
from rltnet.service.placement import BATCHES, Placer, Ranked
from rltnet.service.platform import Platform
from rltnet.service.schemas import (
    LoginCreate,
    OrderCreate,
)
from rltnet.service.security import Principal, Role
from rltnet.service.settings import Settings
from rltnet.service.usecases import auth, submissions
from rltnet.service.usecases.submissions import Submission
from rltnet.store import tables


@pytest.fixture
def platform(fresh_database_url: str) -> Iterator[Platform]:
    # no background preparation: the tests count transactions and placements
    started = start_with_users(
        Settings(database_url=fresh_database_url, network="england", prepare_placement=False)
    )
    yield started
    started.close()


def _principal(platform: Platform, username: str) -> Principal:
    with platform.sessions() as session:
        user = session.scalars(select(tables.User).where(tables.User.username == username)).one()
        return Principal(user.id, user.username, Role(user.role), user.centre_id)


def _approved(platform: Platform, count: int, centre: str = "leeds") -> list[str]:
    """`count` patients of `centre` approved at MDT for Pluvicto; their ids."""
    coordinator = _principal(platform, f"coord-{centre}")
    physician = _principal(platform, f"doc-{centre}")
    with platform.sessions() as session:
        return approved_patients(session, platform, coordinator, physician, count)


def _count(session: Session, table: type[tables.Base], **where: Any) -> int:
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(getattr(table, column) == value)
    return session.scalar(query) or 0


def test_each_submission_of_a_batch_has_its_own_outcome(platform: Platform) -> None:
    good, replayed, early = _approved(platform, 3)
    coordinator = _principal(platform, "coord-leeds")
    with platform.sessions() as session:  # an order taken before: its key comes again
        first, created = submissions.submit(
            session, platform, coordinator, OrderCreate(patient_id=replayed), "k-replay"
        )
    assert created
    too_soon = datetime.now(UTC) + timedelta(days=1)  # inside the 14-day order lead time
    batch = [
        Submission(coordinator, OrderCreate(patient_id=good), "k-good"),
        Submission(coordinator, OrderCreate(patient_id=replayed), "k-replay"),
        Submission(coordinator, OrderCreate(patient_id=early, preferred_at=too_soon), "k-early"),
        Submission(coordinator, OrderCreate(patient_id="P-NOBODY"), "k-nobody"),
        Submission(_principal(platform, "coord-london"), OrderCreate(patient_id="P-X"), "k-london"),
        Submission(_principal(platform, "maker"), OrderCreate(patient_id="P-Y"), "k-maker"),
    ]
    with platform.sessions() as session:
        outcomes = submissions.submit_many(session, platform, batch)

    taken, again, refused_early, nobody, elsewhere, maker = outcomes
    assert isinstance(taken, tuple) and taken[1] and taken[0].patient_id == good
    assert taken[0].placement is not None and taken[0].plan_note is None
    assert isinstance(again, tuple) and not again[1] and again[0].id == first.id
    assert isinstance(refused_early, InvalidInput) and "outside the window" in str(refused_early)
    assert isinstance(nobody, NotFound) and isinstance(elsewhere, NotFound)
    assert isinstance(maker, Forbidden)
    with platform.sessions() as session:
        assert _count(session, tables.Order) == 2  # the replayed one and the good one
        assert _count(session, tables.Order, patient_id=early) == 0
        early_patient = session.get(tables.Patient, early)
        assert early_patient is not None and early_patient.stage == "mdt_approved"
        assert _count(session, tables.PathwayEventRow, patient_id=early) == early_patient.events
        good_patient = session.get(tables.Patient, good)
        assert good_patient is not None and good_patient.stage == "ordered" and good_patient.cycle == 1
        moves = session.scalars(
            select(tables.PathwayEventRow.move)
            .where(tables.PathwayEventRow.patient_id == good)
            .order_by(tables.PathwayEventRow.seq)
        ).all()
        assert moves[-2:] == ["plan_cycle", "order"] and len(moves) == good_patient.events
        trail = session.scalars(
            select(tables.AuditEntry).where(tables.AuditEntry.entity_id == taken[0].id)
        ).one()
        assert trail.action == "order" and trail.after is not None and trail.after["status"] == "requested"
        dose = session.get(tables.Dose, taken[0].id)
        assert dose is not None and taken[0].placement.batch_id == dose.batch_id


def test_one_transaction_takes_one_submission_per_patient_and_key(platform: Platform) -> None:
    (patient,) = _approved(platform, 1)
    coordinator = _principal(platform, "coord-leeds")
    twice = [Submission(coordinator, OrderCreate(patient_id=patient), key) for key in ("k-a", "k-b")]
    with platform.sessions() as session, pytest.raises(ValueError, match="one submission per patient"):
        submissions.submit_many(session, platform, twice)


def _booked(session: Session, batch_id: str) -> int:
    return session.scalar(select(BATCHES.c.booked).where(BATCHES.c.id == batch_id)) or 0


def test_orders_of_one_batch_count_against_each_other(platform: Platform) -> None:
    """The last dose of a batch goes to the first order; the second takes its next option."""
    ids = _approved(platform, 2)
    coordinator = _principal(platform, "coord-leeds")
    with platform.sessions() as session:  # what the first option would be, and its batch all but full
        lone = submissions.submit(session, platform, coordinator, OrderCreate(patient_id=ids[0]), "k-probe")[
            0
        ]
        assert lone.placement is not None
        preferred, batch_id = lone.placement.administration_at, lone.placement.batch_id
        session.execute(update(BATCHES).where(BATCHES.c.id == batch_id).values(booked=BATCHES.c.capacity - 1))
        session.commit()
        more = _approved(platform, 2)
        batch = [
            Submission(coordinator, OrderCreate(patient_id=p, preferred_at=preferred), f"k-{p}") for p in more
        ]
        first, second = submissions.submit_many(session, platform, batch)
        assert isinstance(first, tuple) and isinstance(second, tuple)
        assert first[0].placement is not None and first[0].placement.batch_id == batch_id
        assert second[0].placement is None or second[0].placement.batch_id != batch_id
        capacity = session.scalar(select(BATCHES.c.capacity).where(BATCHES.c.id == batch_id))
        assert _booked(session, batch_id) == capacity


def test_orders_of_one_batch_at_one_time_take_different_chairs(platform: Platform) -> None:
    """More orders for one hour than the centre has chairs, in one transaction: each gets a
    chair of its own for its whole appointment, and those left over another time."""
    chairs = platform.network.centres["leeds"].chairs
    ids = _approved(platform, chairs + 2)
    coordinator = _principal(platform, "coord-leeds")
    with platform.sessions() as session:
        probe = submissions.submit(session, platform, coordinator, OrderCreate(patient_id=ids[0]), "k-probe")
        assert probe[0].placement is not None
        at = probe[0].placement.administration_at
        orders = [OrderCreate(patient_id=p, preferred_at=at) for p in ids[1:]]
        batch = [Submission(coordinator, order, f"k-{order.patient_id}") for order in orders]
        outcomes = submissions.submit_many(session, platform, batch)
        assert all(isinstance(o, tuple) and o[0].placement is not None for o in outcomes), outcomes
        booked = session.scalars(select(tables.Appointment).filter_by(centre_id="leeds")).all()
    assert len(booked) == chairs + 2
    for one in booked:
        for other in booked:
            if one is not other and one.chair == other.chair:
                assert one.end_at <= other.start_at or other.end_at <= one.start_at, (one.chair, one.start_at)
    end = probe[0].placement.appointment_end_at
    assert sum(1 for a in booked if a.start_at < end and a.end_at > at) == chairs  # all taken then


def test_a_pick_taken_by_another_since_the_read_is_given_back_and_placed_alone(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the read and the reservation another writer fills the batch: no overbooking,
    the counters give back what the dropped pick took, and it is placed on another option."""
    (patient,) = _approved(platform, 1)
    coordinator = _principal(platform, "coord-leeds")
    read = Placer._booked
    filled: list[str] = []

    def stale_read(placer: Placer, session: Session, ranked: list[Ranked]) -> Any:
        seen = read(placer, session, ranked)
        if not filled:  # the first read only: the batch of the first option, filled by "another"
            first = next(iter(ranked[0]))
            batch_id = first.batch_id
            Placer._ensure(
                session,
                BATCHES,
                Placer._batch_row(batch_id, first.site_id, first.batch_start_at, first.batch_capacity),
            )
            session.execute(update(BATCHES).where(BATCHES.c.id == batch_id).values(booked=BATCHES.c.capacity))
            filled.append(batch_id)
        return seen

    monkeypatch.setattr(Placer, "_booked", stale_read)
    with platform.sessions() as session:
        (outcome,) = submissions.submit_many(
            session, platform, [Submission(coordinator, OrderCreate(patient_id=patient), "k-stale")]
        )
        assert isinstance(outcome, tuple)
        placement = outcome[0].placement
        assert placement is not None and placement.batch_id != filled[0]
        capacity = session.scalar(select(BATCHES.c.capacity).where(BATCHES.c.id == filled[0]))
        assert _booked(session, filled[0]) == capacity  # not one more
        assert _booked(session, placement.batch_id) == 1
        centre = platform.network.centres["leeds"]
        day = centre.calendar.local_date(placement.appointment_at)
        held = session.scalar(
            select(tables.CentreDay.activity_bq)
            .where(tables.CentreDay.centre_id == "leeds")
            .where(tables.CentreDay.day == day)
        )
        dose = session.get(tables.Dose, outcome[0].id)
        assert dose is not None and held == pytest.approx(outcome[0].prescribed_gbq * 1e9)


def _token(platform: Platform, username: str) -> str:
    with platform.sessions() as session:
        return auth.login(
            session, platform, LoginCreate(username=username, password=PASSWORD), "test"
        ).access_token


class CountedIntake(Intake):
    """The intake, recording the size of each transaction's batch."""

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.batches: list[int] = []

    def _submit(self, batch: list[Any]) -> list[Any]:
        self.batches.append(len(batch))
        return super()._submit(batch)


def test_concurrent_requests_share_transactions_and_a_resend_waits_for_the_first(platform: Platform) -> None:
    ids = _approved(platform, 20)
    token = _token(platform, "coord-leeds")
    intake = CountedIntake(platform)

    async def send_all() -> list[Any]:
        requests = [intake.submit(token, OrderCreate(patient_id=p), f"k-{p}") for p in ids]
        requests.append(intake.submit(token, OrderCreate(patient_id=ids[0]), f"k-{ids[0]}"))  # a resend
        requests.append(intake.submit("not-a-token", OrderCreate(patient_id=ids[1]), "k-forged"))
        return await asyncio.gather(*requests, return_exceptions=True)

    try:
        answers = asyncio.run(send_all())
    finally:
        intake.stop()
    *orders, resent, forged = answers
    assert all(isinstance(a, tuple) and a[1] for a in orders), orders
    assert isinstance(resent, tuple) and not resent[1] and resent[0].id == orders[0][0].id
    assert isinstance(forged, Unauthenticated)
    assert sum(intake.batches) == len(answers) and len(intake.batches) < len(answers) / 2, intake.batches
    with platform.sessions() as session:
        assert _count(session, tables.Order) == len(ids)


def test_a_batch_that_fails_on_the_database_is_taken_again_one_by_one(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _approved(platform, 4)
    token = _token(platform, "coord-leeds")
    real = submissions.submit_many
    sizes: list[int] = []

    def flaky(session: Session, platform: Platform, batch: list[Submission]) -> list[Any]:
        sizes.append(len(batch))
        if len(batch) > 1:
            raise DBAPIError("INSERT ...", {}, Exception("deadlock detected"))
        return real(session, platform, batch)

    monkeypatch.setattr("rltnet.service.intake.submit_many", flaky)
    intake = Intake(platform)

    async def send_all() -> list[Any]:
        return await asyncio.gather(*(intake.submit(token, OrderCreate(patient_id=p), f"k-{p}") for p in ids))

    try:
        answers = asyncio.run(send_all())
    finally:
        intake.stop()
    assert all(isinstance(a, tuple) and a[1] for a in answers)
    assert max(sizes) > 1 and sizes.count(1) >= len(ids)


def test_a_conflicting_key_is_refused_in_the_batch_alone(platform: Platform) -> None:
    first, second = _approved(platform, 2)
    coordinator = _principal(platform, "coord-leeds")
    with platform.sessions() as session:
        submissions.submit(session, platform, coordinator, OrderCreate(patient_id=first), "k-same")
        later = datetime.now(UTC) + timedelta(days=20)  # the same key for another order
        outcomes = submissions.submit_many(
            session,
            platform,
            [
                Submission(coordinator, OrderCreate(patient_id=first, preferred_at=later), "k-same"),
                Submission(coordinator, OrderCreate(patient_id=second), "k-other"),
            ],
        )
    assert isinstance(outcomes[0], Conflict)
    assert isinstance(outcomes[1], tuple) and outcomes[1][1]


def test_a_request_gone_before_its_answer_does_not_stop_the_writer(platform: Platform) -> None:
    gone_patient, patient = _approved(platform, 2)
    token = _token(platform, "coord-leeds")
    intake = Intake(platform)
    closed = asyncio.new_event_loop()
    gone = _Waiting(token, OrderCreate(patient_id=gone_patient), "k-gone", closed, closed.create_future())
    closed.close()

    async def send() -> Any:
        intake._start()
        intake._queue.put(gone)  # answered on a closed loop: nothing to wake
        return await intake.submit(token, OrderCreate(patient_id=patient), "k-here")

    try:
        order, created = asyncio.run(send())
    finally:
        intake.stop()
    assert created and order.patient_id == patient
    with platform.sessions() as session:  # the order whose request went away stands
        assert _count(session, tables.Order, idempotency_key=submissions.scoped_key("leeds", "k-gone")) == 1


def test_a_submission_refused_after_its_moves_were_recorded_leaves_no_trace(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused, taken = _approved(platform, 2)
    coordinator = _principal(platform, "coord-leeds")
    real = DoseOrder

    def refuse_one(**fields: Any) -> Any:
        if fields["patient_id"] == refused:
            raise InvalidInput("refused after the pathway moves were recorded")
        return real(**fields)

    monkeypatch.setattr("rltnet.service.usecases.submissions.DoseOrder", refuse_one)
    batch = [Submission(coordinator, OrderCreate(patient_id=p), f"k-{p}") for p in (refused, taken)]
    with platform.sessions() as session:
        first, second = submissions.submit_many(session, platform, batch)
        assert isinstance(first, InvalidInput) and isinstance(second, tuple)
        patient = session.get(tables.Patient, refused)
        assert patient is not None and patient.stage == "mdt_approved"
        assert _count(session, tables.PathwayEventRow, patient_id=refused) == patient.events
        other = session.get(tables.Patient, taken)
        assert other is not None and other.stage == "ordered"
        assert _count(session, tables.PathwayEventRow, patient_id=taken) == other.events


def test_writers_of_several_processes_take_turns_on_a_sqlite_file(tmp_path: Path) -> None:
    """Two writers' turns on one file exclude each other (as two worker processes' would); on
    PostgreSQL there is nothing to take."""
    file_engine = SimpleNamespace(engine=create_engine(f"sqlite:///{tmp_path / 'rltnet.sqlite'}"))
    first, second = _writers_turn(file_engine), _writers_turn(file_engine)  # type: ignore[arg-type]
    entered = threading.Event()

    def take_second() -> None:
        with second:
            entered.set()

    with first:
        waiting = threading.Thread(target=take_second)
        waiting.start()
        assert not entered.wait(0.3), "the second writer went in while the first held the file"
    assert entered.wait(5), "the second writer did not get its turn"
    waiting.join()
    server = SimpleNamespace(engine=create_engine("postgresql+psycopg://db.example/rltnet"))
    assert isinstance(_writers_turn(server), contextlib.nullcontext)  # type: ignore[arg-type]
