"""Worker processes on one port, each with a listening socket of its own (SO_REUSEPORT).

uvicorn's own workers share one listening socket, and a worker that wakes takes
every connection then waiting: under bench/bench_service.py one worker held 38 of
the 50 clients' keep-alive connections and the other 12, so one core did most of
the work. With a socket per worker bound with SO_REUSEPORT, the kernel spreads
new connections over the workers by a hash of their addresses. Where the option
is missing (not Linux or BSD), or with one worker, uvicorn runs as usual.

The supervisor restarts a worker that dies, and ends the workers when it is asked
to stop (SIGINT, SIGTERM).
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
from types import FrameType

import uvicorn

BACKLOG = 2048  # uvicorn's default
log = logging.getLogger(__name__)


def run(app_factory: str, host: str, port: int, workers: int, log_level: str) -> None:
    """Serve `app_factory` on host:port with `workers` processes, until asked to stop."""
    if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(app_factory, factory=True, host=host, port=port, workers=workers, log_level=log_level)
        return
    # the port is free, or say so now and once: bound without SO_REUSEPORT, any listener on it
    # (another rltnet included) makes this fail
    _listener(host, port, shared=False).close()
    Supervisor(app_factory, host, port, workers, log_level).run()


def _listener(host: str, port: int, *, shared: bool = True) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        listener.bind((host, port))
    except OSError as err:
        listener.close()
        raise SystemExit(f"cannot listen on {host}:{port} ({err.strerror}); choose another --port") from None
    if shared:
        listener.listen(BACKLOG)
    return listener


def _worker(app_factory: str, host: str, port: int, log_level: str) -> None:
    listener = _listener(host, port)
    config = uvicorn.Config(app_factory, factory=True, log_level=log_level)
    uvicorn.Server(config).run(sockets=[listener])


class Supervisor:
    """Starts the workers, keeps them alive, and stops them on SIGINT or SIGTERM."""

    def __init__(self, app_factory: str, host: str, port: int, workers: int, log_level: str) -> None:
        self.args = (app_factory, host, port, log_level)
        self.count = workers
        self.processes: list[multiprocessing.process.BaseProcess] = []
        self.stopping = threading.Event()
        self.context = multiprocessing.get_context("spawn")

    def run(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._stop)
        self.processes = [self._start() for _ in range(self.count)]
        while not self.stopping.wait(0.5):
            for index, process in enumerate(self.processes):
                if not process.is_alive() and not self.stopping.is_set():
                    log.warning("worker %s exited with %s; starting another", process.pid, process.exitcode)
                    self.processes[index] = self._start()
        for process in self.processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        for process in self.processes:
            process.join()

    def _start(self) -> multiprocessing.process.BaseProcess:
        process = self.context.Process(target=_worker, args=self.args, name="rltnet-worker")
        process.start()
        return process

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self.stopping.set()
