"""Group commit of order submissions: the orders that arrive together are taken together.

Each worker process has one writer thread. A request puts its submission, with
its bearer token, on the writer's queue and waits; the writer takes everything
waiting (up to `MOST`) in one transaction: one read for the tokens' users, then
`usecases.submissions.submit_many`, the commit, and an answer to each request.
Under load a transaction then serves tens of orders, so each statement, round
trip and commit is shared; alone, an order is taken at once, as before.
Nothing is acknowledged before its transaction commits.

On a SQLite file the writers of the worker processes take turns by a file lock
the kernel hands over at once (`flock`): SQLite's own busy handler polls every
100 ms once a writer has waited a while, and with two writers always busy one
waited 3.4 s (bench/bench_service.py).

A second submission for a patient or a key already in the batch waits for the
next one, so it sees the first committed. If a batch fails on the database (a
deadlock with another process, say), its submissions are taken again one at a
time, each in its own transaction, so one cannot fail the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import sys
import threading
from collections import deque
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.exc import DBAPIError

from rltnet.domain.errors import RltnetError
from rltnet.service.deps import NOT_LIVE, holders
from rltnet.service.errors import Unauthenticated
from rltnet.service.platform import Platform
from rltnet.service.schemas import OrderCreate
from rltnet.service.usecases.submissions import Submission, Submitted, submit_many

if sys.platform != "win32":  # the SQLite writers' turns (`_FileTurn`)
    import fcntl

MOST = 64  # submissions per transaction: enough for every client of a busy centre network
ATTEMPTS = 3  # a submission alone whose transaction a deadlock or serialisation failure ended
_RETRYABLE = {"40P01", "40001"}  # PostgreSQL: deadlock detected, serialization failure
log = logging.getLogger(__name__)

Outcome = Submitted | BaseException


@dataclass(frozen=True, slots=True)
class _Waiting:
    """An order request, its sender's token not yet checked, and the request waiting for its outcome."""

    token: str
    body: OrderCreate
    idempotency_key: str
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Submitted]

    def answer(self, outcome: Outcome) -> None:
        try:
            self.loop.call_soon_threadsafe(_settle, self.future, outcome)
        except RuntimeError:  # its event loop has closed: no one waits any more (the order stands)
            log.warning("an order's request ended before its answer: %s", self.idempotency_key)


def _settle(future: asyncio.Future[Submitted], outcome: Outcome) -> None:
    if future.done():  # the client went away; the order stands (its key finds it again)
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


class Intake:
    """The writer of one worker process; started at the first submission."""

    def __init__(self, platform: Platform, most: int = MOST) -> None:
        self.platform = platform
        self.most = most
        self._queue: queue.SimpleQueue[_Waiting | None] = queue.SimpleQueue()
        self._carried: deque[_Waiting] = deque()
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()
        self._turn = _writers_turn(platform)

    async def submit(self, token: str, body: OrderCreate, idempotency_key: str) -> Submitted:
        """The order's outcome once its transaction has committed; a refusal is raised (401 for a
        token that is not live)."""
        self._start()
        loop = asyncio.get_running_loop()
        waiting = _Waiting(token, body, idempotency_key, loop, loop.create_future())
        self._queue.put(waiting)
        return await waiting.future

    def stop(self) -> None:
        """Finish what is queued, then end the writer."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)

    def _start(self) -> None:
        if self._thread is None:
            with self._starting:
                if self._thread is None:
                    thread = threading.Thread(target=self._run, name="rltnet-order-intake", daemon=True)
                    thread.start()
                    self._thread = thread

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            try:
                self._take(batch)
            except BaseException as failure:  # never leave a request waiting
                log.exception("order intake failed")
                for waiting in batch:
                    waiting.answer(failure)

    def _next_batch(self) -> list[_Waiting] | None:
        """What is waiting, up to `most`, one per patient and key; None once stopped."""
        if not self._carried:
            first = self._queue.get()
            if first is None:
                return None
            self._carried.append(first)
        batch: list[_Waiting] = []
        later: deque[_Waiting] = deque()
        patients: set[str] = set()
        keys: set[str] = set()
        while len(batch) < self.most:
            if self._carried:
                waiting = self._carried.popleft()
            else:
                try:
                    polled = self._queue.get_nowait()
                except queue.Empty:
                    break
                if polled is None:  # stopping: this batch first, then end
                    self._queue.put(None)
                    break
                waiting = polled
            if waiting.body.patient_id in patients or waiting.idempotency_key in keys:
                later.append(waiting)  # after this batch commits, so it sees it
                continue
            patients.add(waiting.body.patient_id)
            keys.add(waiting.idempotency_key)
            batch.append(waiting)
        self._carried.extendleft(reversed(later))
        return batch

    def _take(self, batch: list[_Waiting]) -> None:
        try:
            outcomes: list[Outcome] = list(self._submit(batch))
        except DBAPIError:
            if len(batch) == 1:
                outcomes = [self._alone(batch[0])]
            else:  # taken again one at a time, so one cannot fail the others
                log.warning("a batch of %d orders failed on the database; taking them one by one", len(batch))
                outcomes = [self._alone(waiting) for waiting in batch]
        for waiting, outcome in zip(batch, outcomes, strict=True):
            waiting.answer(outcome)

    def _submit(self, batch: list[_Waiting]) -> list[Submitted | RltnetError]:
        with self._turn, self.platform.sessions() as session:
            senders = holders(session, [w.token for w in batch], self.platform.clock.now())
            sent = [w for w in batch if w.token in senders]
            submissions = [Submission(senders[w.token], w.body, w.idempotency_key) for w in sent]
            taken = dict(zip(map(id, sent), submit_many(session, self.platform, submissions), strict=True))
        return [taken.get(id(w), Unauthenticated(NOT_LIVE)) for w in batch]

    def _alone(self, waiting: _Waiting) -> Outcome:
        attempt = 1
        while True:
            try:
                return self._submit([waiting])[0]
            except DBAPIError as failure:
                if getattr(failure.orig, "sqlstate", None) not in _RETRYABLE or attempt == ATTEMPTS:
                    return failure
                attempt += 1


def _writers_turn(platform: Platform) -> AbstractContextManager[object]:
    """The writers' turn on a SQLite file (on Unix); nothing to wait for elsewhere (PostgreSQL)."""
    url = platform.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return contextlib.nullcontext()
    if sys.platform == "win32":  # no flock: SQLite's busy handler alone
        return contextlib.nullcontext()
    return _FileTurn(Path(f"{url.database}.writers"))


class _FileTurn:
    """An exclusive `flock` on a file beside the database, held for one transaction."""

    def __init__(self, path: Path) -> None:
        self._file = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def __enter__(self) -> object:
        fcntl.flock(self._file, fcntl.LOCK_EX)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)


async def intake(request: Request) -> Intake:
    found: Intake = request.app.state.intake
    return found


IntakeDep = Annotated[Intake, Depends(intake)]
