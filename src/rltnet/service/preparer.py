"""Placement tables prepared ahead of each hour, in a background thread of each worker.

The instant placer keeps, per centre and product, the sessions and supplies of the
next weeks, built once an hour (`Placer.options`). Without this the first order
of each centre in each hour waits for that build; with it the tables of the hour
are built at start and a few minutes before every hour, while nobody waits.

Once built, the tables are moved out of the garbage collector's sight
(`gc.freeze`): they live for the hour, and a full collection that walks them
(hundreds of thousands of objects) paused a worker for 50-290 ms under load, the
tail of every order's latency (bench/bench_service.py). Each hour everything is
first given back to the collector and collected once (`gc.unfreeze`, `gc.collect`),
so what the cache let go is freed even if it holds reference cycles.
"""

from __future__ import annotations

import gc
import logging
import threading
from datetime import datetime, timedelta

from rltnet.service.disruptions import stored_events
from rltnet.service.platform import Platform

LEAD = timedelta(minutes=5)  # how long before the hour its tables are built
log = logging.getLogger(__name__)


class Preparer:
    """Builds the placement tables of this hour now, and of each next hour `LEAD` before it."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rltnet-placement-tables", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        hour = self._this_hour()
        while not self._stop.is_set():
            self._prepare(hour)
            # the service clock may stand still or jump (a test's): wait at most an hour of real
            # time, and after a jump prepare the hour the clock is in, not every hour skipped
            wait = (hour + timedelta(hours=1) - LEAD - self.platform.clock.now()).total_seconds()
            if self._stop.wait(min(max(wait, 0.0), 3600.0)):
                return
            hour = max(hour + timedelta(hours=1), self._this_hour())

    def _this_hour(self) -> datetime:
        return self.platform.clock.now().replace(minute=0, second=0, microsecond=0)

    def _prepare(self, hour: datetime) -> None:
        try:
            with self.platform.sessions() as session:
                events = stored_events(session)
            built = self.platform.placer.prepare(hour, events)
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            log.info("placement tables for %s ready (%d centre-products)", hour.isoformat(), built)
        except Exception:  # a failed warm-up only means the orders build their own tables
            log.exception("placement tables for %s not prepared", hour.isoformat())
