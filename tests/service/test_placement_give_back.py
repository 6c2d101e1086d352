"""A reservation that fails halfway gives back what it took: no dose or activity is left held."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rltnet.domain.orders import DoseOrder
from rltnet.service.placement import BATCHES, CENTRE_DAYS, Option, Placer, _Taken
from rltnet.service.platform import Platform
from rltnet.service.settings import Settings
from rltnet.store import tables


def _first_option(platform: Platform, centre_id: str, days_ahead: int) -> tuple[DoseOrder, Option]:
    centre = platform.network.centres[centre_id]
    product = platform.catalogue.therapy(centre.products[0])
    now = datetime.now(UTC)
    start = now + timedelta(days=days_ahead)
    order = DoseOrder(
        order_id="O-GIVEBACK",
        patient_id="P-GIVEBACK",
        product_id=product.product_id,
        cycle=1,
        centre_id=centre_id,
        earliest_at=start,
        latest_at=start + timedelta(days=10),
        preferred_at=start,
        prescribed=product.prescribe(80.0, None),
        placed_at=now,
        weight_kg=80.0,
    )
    options, why = platform.placer.options(order, now)
    assert options, why
    return order, next(iter(options))


def _holder(session: Session, like: DoseOrder, key: str) -> None:
    """A patient and order that an appointment blocking a chair belongs to."""
    at = like.placed_at
    session.add(
        tables.Patient(
            id=f"P-{key}",
            centre_id=like.centre_id,
            product_id=like.product_id,
            indication="test",
            stage="ordered",
            stage_since=at,
            referred_at=at,
            weight_kg=80.0,
            events=0,
            cycle=1,
            cycles_given=0,
        )
    )
    session.flush()
    session.add(
        tables.Order(
            id=f"O-{key}",
            idempotency_key=f"give-back-{key}",
            request_digest="-",
            patient_id=f"P-{key}",
            product_id=like.product_id,
            cycle=1,
            centre_id=like.centre_id,
            earliest_at=like.earliest_at,
            latest_at=like.latest_at,
            preferred_at=like.preferred_at,
            prescribed_bq=like.prescribed.bq,
            weight_kg=80.0,
            placed_at=at,
            placed_by="test",
            status="requested",
        )
    )
    session.flush()


def _held(platform: Platform, option: Option, day: object) -> tuple[int, float]:
    with platform.sessions() as session:
        booked = session.scalar(select(BATCHES.c.booked).where(BATCHES.c.id == option.batch_id)) or 0
        activity = session.scalar(
            select(CENTRE_DAYS.c.activity_bq)
            .where(CENTRE_DAYS.c.centre_id == option.centre_id)
            .where(CENTRE_DAYS.c.day == day)
        )
        return booked, activity or 0.0


@pytest.fixture
def own_platform(fresh_database_url: str) -> Iterator[Platform]:
    """A database of its own: the rows that fill a day here must not reach other tests' plans."""
    started = Platform.start(Settings(database_url=fresh_database_url, network="england"))
    yield started
    started.close()


@pytest.mark.parametrize("blocked", ["activity", "chairs"])
def test_a_reservation_refused_after_its_dose_was_taken_gives_the_dose_back(
    own_platform: Platform, blocked: str
) -> None:
    platform = own_platform
    placer: Placer = platform.placer
    order, option = _first_option(platform, "leeds" if blocked == "activity" else "london", 40)
    centre = platform.network.centres[option.centre_id]
    day = centre.calendar.local_date(option.start_at)
    with platform.sessions() as session:  # the day full before this order comes
        placer._reserve(session, order, option, day, (False, False))  # creates the rows, takes one
        if blocked == "activity":
            session.execute(
                update(CENTRE_DAYS)
                .where(CENTRE_DAYS.c.centre_id == centre.centre_id)
                .where(CENTRE_DAYS.c.day == day)
                .values(activity_bq=centre.daily_activity_limit.bq)
            )
        else:
            for chair in range(1, centre.chairs + 1):
                _holder(session, order, f"CHAIR{chair}")
                session.add(
                    tables.Appointment(
                        order_id=f"O-CHAIR{chair}",
                        centre_id=centre.centre_id,
                        chair=chair,
                        start_at=option.start_at,
                        end_at=option.end_at,
                        administration_at=option.start_at,
                    )
                )
        session.commit()
    before = _held(platform, option, day)

    with platform.sessions() as session:
        with pytest.raises(_Taken) as taken:
            placer._reserve(session, order, option, day, (True, True))
        session.commit()
    assert taken.value.what == ("daily activity limit reached" if blocked == "activity" else "no chair free")
    assert _held(platform, option, day) == before
