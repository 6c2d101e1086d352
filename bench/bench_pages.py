"""Workspace pages on the demo data: how long each takes to serve, against the stack's floor.

Starts the service as `make run` does (England demo network, demo users, four
weeks of demo patients) on a scratch SQLite file and a free loopback port, logs in
over the login page, then requests each page one after another (`--rounds` times)
and prints the median and 95th percentile, and the median page size. The peer,
measured in the same run on the same server and client: `GET /health`, the
framework's floor for one request. Run:

    .venv/bin/python bench/bench_pages.py [--rounds 30] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from rltnet.service.app import create_app
from rltnet.service.platform import Platform
from rltnet.service.seed import seed
from rltnet.service.settings import Settings

COORDINATOR, MANUFACTURER = "coordinator-london", "manufacturer"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        platform = Platform.start(Settings(database_url=f"sqlite:///{folder}/demo.sqlite"))
        passwords = seed(platform)
        server, url = _serve(platform)
        try:
            rows = _measure(url, passwords, args.rounds)
        finally:
            server.should_exit = True
            platform.close()
    _print(rows, args.rounds)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


def _serve(platform: Platform) -> tuple[uvicorn.Server, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(platform.settings, platform)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def _login(url: str, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30, follow_redirects=True)
    response = client.post("/login", data={"username": username, "password": password})
    response.raise_for_status()
    return client


def _measure(url: str, passwords: dict[str, str], rounds: int) -> list[dict[str, Any]]:
    coordinator = _login(url, COORDINATOR, passwords[COORDINATOR])
    manufacturer = _login(url, MANUFACTURER, passwords[MANUFACTURER])
    board = coordinator.get("/board").text
    patient = _first_in_stage(board, "mdt_approved") or _first_in_stage(board, "confirmed")
    order = re.findall(r'href="/orders/(O-[0-9A-F]+)"', manufacturer.get("/queue").text)[0]
    when = (datetime.now(UTC) + timedelta(days=16)).strftime("%Y-%m-%dT10:00")  # inside a first window
    pages = [
        ("peer: GET /health", coordinator, "/health"),
        ("pathway board", coordinator, "/board"),
        ("patient timeline", coordinator, f"/patients/{patient}"),
        ("order form", coordinator, f"/patients/{patient}/order"),
        ("dose-window check (fragment)", coordinator, f"/patients/{patient}/order-check?preferred_at={when}"),
        ("dose journey", coordinator if order in board else manufacturer, f"/orders/{order}"),
        ("centre calendar", coordinator, "/calendar"),
        ("manufacturer's queue", manufacturer, "/queue"),
        ("disruption console", manufacturer, "/disruptions"),
    ]
    rows = []
    for name, client, path in pages:
        times, sizes = [], []
        for _ in range(rounds):
            start = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            sizes.append(len(response.content))
        rows.append(
            {
                "page": name,
                "path": path,
                "status": response.status_code,
                "p50_ms": statistics.median(times),
                "p95_ms": statistics.quantiles(times, n=20)[18],
                "kb": statistics.median(sizes) / 1024,
            }
        )
    return rows


def _first_in_stage(board: str, stage: str) -> str | None:
    """The first patient of the board's column for `stage` (an approved one can be ordered for)."""
    column = re.search(rf'id="stage-{stage}".*?</section>', board, re.S)
    found = re.search(r'href="/patients/(P-[0-9A-F]+)"', column.group(0)) if column else None
    return found.group(1) if found else None


def _print(rows: list[dict[str, Any]], rounds: int) -> None:
    floor = rows[0]["p50_ms"]
    print(f"{rounds} requests per page, one at a time, demo data (London coordinator, manufacturer)")
    print(f"{'page':30} {'status':>6} {'p50 ms':>8} {'p95 ms':>8} {'kB':>7} {'x peer':>7}")
    for row in rows:
        print(
            f"{row['page']:30} {row['status']:>6} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f} "
            f"{row['kb']:7.1f} {row['p50_ms'] / floor:7.1f}"
        )


if __name__ == "__main__":
    main()
