"""`rltnet serve --workers N`: a listening socket per worker, one port, a clean stop."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.skipif(
    not hasattr(socket, "SO_REUSEPORT") or shutil.which("ss") is None, reason="needs SO_REUSEPORT and ss"
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


def _listening_pids(port: int) -> list[set[int]]:
    """The processes of each socket listening on `port`."""
    lines = subprocess.run(
        ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return [{int(pid) for pid in re.findall(r"pid=(\d+)", line)} for line in lines]


def test_each_worker_listens_on_a_socket_of_its_own_and_all_stop_together(
    server: tuple[subprocess.Popen[bytes], int], tmp_path: Path
) -> None:
    process, port = server
    sockets = _listening_pids(port)
    # two sockets, one worker each (uvicorn's own workers would share one socket)
    assert len(sockets) == 2 and all(len(pids) == 1 for pids in sockets), sockets
    assert sockets[0] != sockets[1] and process.pid not in sockets[0] | sockets[1]
    for _ in range(20):  # new connections, whichever worker takes them
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200

    second = _serve(port, tmp_path / "other.sqlite", tmp_path / "second.log")
    assert second.wait(60) != 0  # the port is taken: refused at once, not shared
    assert "choose another --port" in (tmp_path / "second.log").read_text()

    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(30) == 0
    assert _listening_pids(port) == []
