"""The one clock the service reads: the system's, or one a test (or a demo) sets and advances.

Every use case, page and the order intake ask `platform.clock.now()` for the time,
never `datetime.now()` themselves: a test then moves time forward with
`SettableClock.advance` instead of writing events dated in the future, and every
recorded event can be checked against the same "now".
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol

from rltnet.domain.errors import InvalidInput
from rltnet.domain.units import require_aware


class Clock(Protocol):
    """Where the service reads the time: `now()` is timezone-aware (UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock, in UTC: the service's clock unless one is given."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SettableClock:
    """A clock that stands still until it is set or advanced (tests, demos, rehearsals).

    Never goes back: moving time backwards would let an event be recorded before
    one already recorded, which the real clock never does. Safe to read and move
    from several threads (a test advancing it while a server thread reads it).
    """

    def __init__(self, at: datetime) -> None:
        require_aware(at, "clock time")
        self._at = at.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> datetime:
        """Move the clock to `at`, not before where it stands."""
        require_aware(at, "clock time")
        with self._lock:
            if at < self._at:
                raise InvalidInput(
                    f"the clock stands at {self._at.isoformat()}; it cannot go back to {at.isoformat()}"
                )
            self._at = at.astimezone(UTC)
            return self._at

    def advance(self, by: timedelta) -> datetime:
        """Move the clock forward by `by` (zero or more); the new time."""
        if by < timedelta(0):
            raise InvalidInput(f"a clock advances by zero or more, not {by}")
        with self._lock:
            self._at += by
            return self._at
