"""How many requests a worker process serves at once, and how it sheds the rest.

A request that uses the database runs its endpoint, and FastAPI's check of its
answer, on a thread of the worker's pool (`THREADS`), and holds its database
session, so a PostgreSQL connection or SQLite's write lock, from its first statement
until its answer is sent. If more such requests ran at once than there are threads,
one holding a connection (or the lock) could wait for a thread while every thread
waited for a connection (or the lock): nothing moved until a 30 s timeout failed
them all (13 concurrent reads on one worker did exactly that). So a worker admits at
most `THREADS` of them at once; the process's pool has more connections than that
(`store.db.POOL_SIZE` x 2 = 20: the admitted requests, the order intake's writer and
the placement preparer), so an admitted request always gets a thread and a
connection, and the only wait left is its turn for SQLite's write lock.

The others wait their turn, first come first served, for up to `WAIT_S`; no more
than `QUEUE` wait at once. One that would wait longer, or find the queue full, is
answered 503 with `Retry-After` at once: under overload the service sheds load
rather than time out (a 500) or hang. Orders (`POST /orders`) are not counted: they
wait on the event loop for the worker's group commit (`service.intake`), not on a
thread.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from rltnet.service.errors import RETRY_AFTER_S, Overloaded
from rltnet.store.db import POOL_TIMEOUT_S

THREADS = 12  # threads per worker for sync endpoints; see service.app
# The longest a request waits for its turn before it is shed: as long as the database's own
# lock and pool timeouts (store.db.POOL_TIMEOUT_S). Writes of orders queue behind one another
# for the placement lock (a re-optimisation holds it for its solve, a second or more), and
# the requests behind them wait with them: 10 s shed 2 of 200 mixed requests on a loaded
# two-core machine (tests/service/test_load.py), which the service could serve in 23 s.
WAIT_S = float(POOL_TIMEOUT_S)
QUEUE = 8 * THREADS  # requests that may wait at once; more are shed at once


class Admission:
    """At most `slots` requests at once in a worker; up to `queue` more wait up to `wait_s`."""

    def __init__(self, slots: int = THREADS, queue: int = QUEUE, wait_s: float = WAIT_S) -> None:
        self.slots = slots
        self.queue = queue
        self.wait_s = wait_s
        self.waiting = 0
        # one semaphore per event loop (a test client may run a loop per request)
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        found = self._semaphores.get(loop)
        if found is None:
            found = self._semaphores[loop] = asyncio.Semaphore(self.slots)
        return found

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold one of the slots for the block, or raise `Overloaded` without running it."""
        semaphore = self._semaphore()
        if semaphore.locked():
            if self.waiting >= self.queue:
                raise Overloaded(
                    f"the service is busy ({self.slots} requests running, {self.waiting} waiting); "
                    f"send the request again in {RETRY_AFTER_S} s"
                )
            self.waiting += 1
            try:
                await asyncio.wait_for(semaphore.acquire(), self.wait_s)
            except TimeoutError:
                raise Overloaded(
                    f"the service is busy: the request waited {self.wait_s:g} s for its turn; "
                    f"send it again in {RETRY_AFTER_S} s"
                ) from None
            finally:
                self.waiting -= 1
        else:
            await semaphore.acquire()
        try:
            yield
        finally:
            semaphore.release()
