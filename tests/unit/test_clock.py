"""The service's one clock: the system's, or one a test sets and advances."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from rltnet.domain.clock import Clock, SettableClock, SystemClock
from rltnet.domain.errors import InvalidInput, NaiveDatetime

START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def test_the_system_clock_reads_the_machines_time_in_utc() -> None:
    clock: Clock = SystemClock()
    before = datetime.now(UTC)
    read = clock.now()
    assert read.tzinfo is not None and read.utcoffset() == timedelta(0)
    assert before <= read <= datetime.now(UTC)


def test_a_settable_clock_stands_still_until_it_is_advanced() -> None:
    clock = SettableClock(START)
    assert clock.now() == clock.now() == START
    assert clock.advance(timedelta(days=42, minutes=5)) == START + timedelta(days=42, minutes=5)
    assert clock.now() == START + timedelta(days=42, minutes=5)


def test_a_settable_clock_reads_in_utc_whatever_zone_it_was_set_in() -> None:
    paris = timezone(timedelta(hours=1))
    clock = SettableClock(datetime(2027, 1, 4, 10, 0, tzinfo=paris))
    assert clock.now() == START and clock.now().utcoffset() == timedelta(0)


def test_a_settable_clock_never_goes_back() -> None:
    clock = SettableClock(START)
    clock.set(START + timedelta(hours=1))
    with pytest.raises(InvalidInput, match="cannot go back"):
        clock.set(START)
    with pytest.raises(InvalidInput, match="zero or more"):
        clock.advance(timedelta(seconds=-1))
    assert clock.now() == START + timedelta(hours=1)


def test_a_clock_needs_a_time_zone() -> None:
    with pytest.raises(NaiveDatetime):
        SettableClock(datetime(2027, 1, 4, 9, 0))  # noqa: DTZ001 - naive on purpose
