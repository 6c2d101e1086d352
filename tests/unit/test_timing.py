"""When an event may be recorded: against the clock, and against the facts recorded before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rltnet.domain.records import DoseRecord
from rltnet.domain.timing import (
    FUTURE_TOLERANCE,
    DoseRoute,
    EventTimeRefused,
    check_administration,
    check_delivery,
    check_dose_record,
    check_in_order,
    check_not_future,
    check_production,
    check_release,
    check_shipping,
)

NOW = datetime(2027, 1, 4, 10, 5, 32, 123456, tzinfo=UTC)
BATCH_AT = datetime(2027, 1, 4, 6, 0, tzinfo=UTC)
ROUTE = DoseRoute("batch-1", BATCH_AT, timedelta(hours=3), "ivrea-leeds", timedelta(hours=18))
offsets = st.integers(min_value=-10_000_000, max_value=10_000_000).map(lambda s: timedelta(seconds=s))


@given(offset=offsets)
def test_a_time_is_refused_exactly_when_it_lies_beyond_the_tolerance_ahead_of_the_clock(
    offset: timedelta,
) -> None:
    at = NOW + offset
    if offset > FUTURE_TOLERANCE:
        with pytest.raises(EventTimeRefused, match=r"is in the future: it is now .*once it has happened"):
            check_not_future(at, NOW, "delivery")
    else:
        check_not_future(at, NOW, "delivery")


def test_the_stated_tolerance_is_five_minutes() -> None:
    assert timedelta(minutes=5) == FUTURE_TOLERANCE
    check_not_future(NOW + timedelta(minutes=5), NOW, "delivery")
    with pytest.raises(EventTimeRefused, match="up to 5 min ahead"):
        check_not_future(NOW + timedelta(minutes=5, seconds=1), NOW, "delivery")


@given(seconds=st.integers(0, 59), micros=st.integers(0, 999_999))
def test_a_time_entered_to_the_minute_is_in_order_with_any_event_of_that_minute(
    seconds: int, micros: int
) -> None:
    last = NOW.replace(second=seconds, microsecond=micros)
    check_in_order(NOW.replace(second=0, microsecond=0), last, "administration")


def test_a_time_in_an_earlier_minute_is_out_of_order() -> None:
    with pytest.raises(EventTimeRefused, match=r"before the last event recorded.*correct the earlier"):
        check_in_order(NOW.replace(second=0) - timedelta(seconds=1), NOW, "administration")


def test_production_starts_with_its_batch_not_before() -> None:
    with pytest.raises(EventTimeRefused, match=r"before batch batch-1 starts.*once the batch has started"):
        check_production(BATCH_AT - timedelta(minutes=1), ROUTE)
    check_production(BATCH_AT, ROUTE)


def test_release_waits_for_qc_after_the_recorded_start_not_the_planned_one() -> None:
    started_late = DoseRecord("O-1", production_started_at=BATCH_AT + timedelta(hours=2))
    planned_release = BATCH_AT + ROUTE.qc_release
    with pytest.raises(EventTimeRefused, match=r"before QC can end.*QC takes 3 h"):
        check_release(planned_release, started_late, ROUTE)
    check_release(BATCH_AT + timedelta(hours=5), started_late, ROUTE)
    with pytest.raises(EventTimeRefused, match="no production start is recorded"):
        check_release(planned_release, DoseRecord("O-1"), ROUTE)


def test_delivery_needs_the_recorded_departure_and_a_plausible_transit() -> None:
    shipped = DoseRecord("O-1", shipped_at=BATCH_AT + timedelta(hours=4))
    with pytest.raises(EventTimeRefused, match=r"too soon after the departure.*faster than 9 h"):
        check_delivery(BATCH_AT + timedelta(hours=12), shipped, ROUTE)
    check_delivery(BATCH_AT + timedelta(hours=13), shipped, ROUTE)  # faster than planned: plausible
    with pytest.raises(EventTimeRefused, match="no departure is recorded"):
        check_delivery(BATCH_AT + timedelta(hours=20), DoseRecord("O-1"), ROUTE)


def test_administration_follows_the_recorded_delivery_to_the_minute() -> None:
    delivered = DoseRecord("O-1", delivered_at=NOW)
    check_administration(NOW.replace(second=0, microsecond=0), delivered)  # the same minute, as typed
    with pytest.raises(EventTimeRefused, match="before the dose's delivery"):
        check_administration(NOW - timedelta(minutes=1), delivered)
    with pytest.raises(EventTimeRefused, match="no delivery is recorded"):
        check_administration(NOW, DoseRecord("O-1"))


def test_shipping_follows_the_recorded_release() -> None:
    with pytest.raises(EventTimeRefused, match="no release is recorded"):
        check_shipping(NOW, DoseRecord("O-1"))
    with pytest.raises(EventTimeRefused, match="before the release recorded"):
        check_shipping(NOW - timedelta(hours=1), DoseRecord("O-1", released_at=NOW))


def test_a_whole_record_is_checked_step_by_step() -> None:
    record = DoseRecord(
        "O-1",
        production_started_at=BATCH_AT,
        released_at=BATCH_AT + timedelta(hours=3),
        shipped_at=BATCH_AT + timedelta(hours=4),
        delivered_at=BATCH_AT + timedelta(hours=20),
        administered_at=BATCH_AT + timedelta(hours=22),
    )
    check_dose_record(record, ROUTE)
    early = DoseRecord("O-1", production_started_at=BATCH_AT, released_at=BATCH_AT + timedelta(hours=1))
    with pytest.raises(EventTimeRefused, match="before QC can end"):
        check_dose_record(early, ROUTE)
