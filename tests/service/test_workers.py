"""`rltnet serve --workers N`: connections dealt to the workers in turn, a clean stop."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.skipif(
    not hasattr(socket, "SCM_RIGHTS") or shutil.which("ss") is None, reason="needs SCM_RIGHTS and ss"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _serve(port: int, database: Path, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from rltnet.cli import main; main()", "serve"]
    command += [f"--port={port}", f"--database-url=sqlite:///{database}", "--workers=2"]
    with log.open("ab") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = _free_port()
    process = _serve(port, tmp_path / "rltnet.sqlite", tmp_path / "server.log")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, (tmp_path / "server.log").read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    yield process, port
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def _pids(state: str, port: int) -> list[set[int]]:
    """The processes of each socket on local `port` in `state` (ss's state filter)."""
    command = ["ss", "-Htnp", "state", state, f"sport = :{port}"]
    lines = subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()
    return [{int(pid) for pid in re.findall(r"pid=(\d+)", line)} for line in lines]


def _kept_alive(port: int) -> socket.socket:
    """A connection that has had one answer and stays open."""
    client = socket.create_connection(("127.0.0.1", port), timeout=10)
    client.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
    assert client.recv(4096).startswith(b"HTTP/1.1 200")
    return client


def test_connections_are_dealt_to_the_workers_in_turn_and_all_stop_together(
    server: tuple[subprocess.Popen[bytes], int], tmp_path: Path
) -> None:
    process, port = server
    (listening,) = _pids("listening", port)
    assert listening == {process.pid}  # the supervisor accepts; the workers do not listen
    clients = [_kept_alive(port) for _ in range(10)]
    held = Counter(pid for pids in _pids("established", port) for pid in pids)
    assert sorted(held.values()) == [5, 5] and process.pid not in held, held  # uvicorn's may give 9/1
    for client in clients:
        client.close()

    second = _serve(port, tmp_path / "other.sqlite", tmp_path / "second.log")
    assert second.wait(60) != 0  # the port is taken: refused at once
    assert "choose another --port" in (tmp_path / "second.log").read_text()

    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(30) == 0
    assert _pids("listening", port) == []


def _living_in_group(group: int) -> list[int]:
    """The processes of process group `group` that are not zombies (no reaper may run here)."""
    living = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it ended while we looked
            continue
        state, _parent, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == group and state != "Z":
            living.append(int(entry.name))
    return living


def test_workers_exit_once_their_supervisor_is_killed(server: tuple[subprocess.Popen[bytes], int]) -> None:
    process, port = server
    _kept_alive(port).close()
    assert len(_living_in_group(process.pid)) >= 3  # the supervisor, its two workers (and fork server)
    os.kill(process.pid, signal.SIGKILL)  # the supervisor alone, not its workers
    process.wait(10)
    deadline = time.monotonic() + 30
    while (left := _living_in_group(process.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    if left:
        os.killpg(process.pid, signal.SIGKILL)
    assert not left, f"workers {left} outlived their supervisor"
