"""Worker processes on one port, each given its share of the connections in turn.

uvicorn's own workers share one listening socket, and a worker that wakes takes
every connection then waiting: under bench/bench_service.py one worker held 38 of
the 50 clients' keep-alive connections and the other 12, so one core did most of
the work. A socket per worker with SO_REUSEPORT spreads them by a hash, which
still split them 31/21 often enough to decide the p99. So, as Node's cluster
module does on Linux, the supervisor accepts every connection itself and hands it
to the workers in turn (the descriptor passed over a pipe, SCM_RIGHTS); a worker
serves it like any other (`uvicorn.Server`). With one worker, or where
descriptors cannot be passed, uvicorn runs as usual.

The workers are forked from a fork server that imported the app once (where the
platform has one, as Linux does), started by `prepare` while the supervisor migrates
the database: two spawned workers had each imported it themselves, after the
migration, and `rltnet serve --workers 2` answered 4.8 s after its start, not 3.2.

The supervisor restarts a worker that dies and stops them all on SIGINT or SIGTERM;
a worker whose supervisor is gone finishes the requests it has and exits.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import multiprocessing.forkserver as forkserver
import signal
import socket
import threading
from multiprocessing.connection import Connection
from multiprocessing.reduction import recv_handle, send_handle
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn

from rltnet.domain.errors import InvalidInput

if TYPE_CHECKING:
    from multiprocessing.context import ForkServerContext, SpawnContext

BACKLOG = 2048  # uvicorn's default
# Imported by the fork server besides the app's module: rltnet.domain.decay imports it
# lazily, at the first nuclide looked up (every worker's start), and it takes about 1 s.
PRELOAD = ("radioactivedecay",)
log = logging.getLogger(__name__)


def run(app_factory: str, listener: socket.socket, workers: int, log_level: str) -> None:
    """Serve `app_factory` on `listener` (from `listen`) with `workers` processes, until asked to stop."""
    if not _supervised(workers):
        config = uvicorn.Config(app_factory, factory=True, workers=workers, log_level=log_level)
        uvicorn.Server(config).run(sockets=[listener])
        return
    listener.settimeout(0.5)  # wake up to see whether to stop
    Supervisor(app_factory, listener, workers, log_level).run()


def prepare(app_factory: str, workers: int) -> None:
    """Start importing the app for the workers `run` will start, while the caller goes on.

    The workers are forked from a process started now: they have the environment as it
    is now, not as `run` finds it."""
    if _supervised(workers):
        _context(app_factory)


def _supervised(workers: int) -> bool:
    return workers > 1 and hasattr(socket, "SCM_RIGHTS")


def _context(app_factory: str) -> ForkServerContext | SpawnContext:
    """A fork server that has imported the app, running; a spawning context where there is none."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([app_factory.partition(":")[0], *PRELOAD])
    forkserver.ensure_running()
    return context


def listen(host: str, port: int) -> socket.socket:
    """The service's listening socket, taken before anything says it serves: a busy port or
    an unknown host is refused here, with what to do."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as err:
        raise InvalidInput(
            f"cannot listen on host {host!r} ({err.strerror}); give an address such as 127.0.0.1"
        ) from None
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as err:
        listener.close()
        raise InvalidInput(
            f"cannot listen on {host}:{port} ({err.strerror}): another program holds it; stop it, "
            f"or choose another --port"
        ) from None
    listener.listen(BACKLOG)
    return listener


class Supervisor:
    """Accepts the connections, deals them to the workers in turn, keeps the workers alive."""

    def __init__(self, app_factory: str, listener: socket.socket, workers: int, log_level: str) -> None:
        self.app_factory = app_factory
        self.listener = listener
        self.log_level = log_level
        self.context = _context(app_factory)
        self.workers: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
        self.count = workers
        self.stopping = threading.Event()

    def run(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._stop)
        self.workers = [self._start() for _ in range(self.count)]
        turn = 0
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                self._revive()
                continue
            except OSError:  # interrupted by a signal, or the listener closed
                continue
            with connection:
                # as uvicorn's own accept does: answers go out at once, not after Nagle's wait
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                turn = self._hand(connection, turn)
        self.listener.close()
        for process, _ in self.workers:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        for process, _ in self.workers:
            process.join()

    def _hand(self, connection: socket.socket, turn: int) -> int:
        """Give the connection to the next worker that takes it; the turn after it."""
        for attempt in range(self.count):
            index = (turn + attempt) % self.count
            process, pipe = self.workers[index]
            try:
                send_handle(pipe, connection.fileno(), process.pid or 0)
                return (index + 1) % self.count
            except OSError:  # that worker is gone: the next takes it, and it is restarted
                self.workers[index] = self._start()
        log.error("no worker took a connection; it is closed")
        return turn

    def _revive(self) -> None:
        for index, (process, _) in enumerate(self.workers):
            if not process.is_alive() and not self.stopping.is_set():
                log.warning("worker %s exited with %s; starting another", process.pid, process.exitcode)
                self.workers[index] = self._start()

    def _start(self) -> tuple[multiprocessing.process.BaseProcess, Connection]:
        ours, theirs = self.context.Pipe()
        process = self.context.Process(
            target=_worker, args=(self.app_factory, theirs, self.log_level), name="rltnet-worker"
        )
        process.start()
        theirs.close()
        return process, ours

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self.stopping.set()


def _worker(app_factory: str, pipe: Connection, log_level: str) -> None:
    config = uvicorn.Config(app_factory, factory=True, log_level=log_level)
    _HandedServer(config, pipe).run(sockets=[])


class _HandedServer(uvicorn.Server):
    """uvicorn serving the connections the supervisor hands over, not a socket of its own."""

    def __init__(self, config: uvicorn.Config, pipe: Connection) -> None:
        super().__init__(config)
        self.pipe = pipe
        self.feeding: asyncio.Task[None] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])
        self.feeding = asyncio.get_running_loop().create_task(self._feed())

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.feeding is not None:
            self.feeding.cancel()
        await super().shutdown(sockets)

    async def _feed(self) -> None:
        loop = asyncio.get_running_loop()
        protocol = functools.partial(  # as uvicorn.Server.startup builds its protocols
            self.config.http_protocol_class,
            config=self.config,  # type: ignore[call-arg]
            server_state=self.server_state,
            app_state=self.lifespan.state,
        )
        handed: asyncio.Queue[int] = asyncio.Queue()
        loop.add_reader(self.pipe.fileno(), self._receive, handed)
        try:
            while True:
                connection = socket.socket(fileno=await handed.get())
                connection.setblocking(False)
                await loop.connect_accepted_socket(protocol, connection)
        finally:
            loop.remove_reader(self.pipe.fileno())

    def _receive(self, handed: asyncio.Queue[int]) -> None:
        try:
            handed.put_nowait(recv_handle(self.pipe))
        except EOFError:  # the supervisor is gone (killed): finish what is in flight, then exit
            asyncio.get_running_loop().remove_reader(self.pipe.fileno())
            self.should_exit = True
