"""A busy morning at once: reads, orders, cancellations, adjustments and re-optimisations sent
together to a real `rltnet serve`, then every counter recounted from the orders.

Used by tests/service/test_load.py (the suite: 0 x 5xx, every request answered) and by
bench/bench_mixed.py (the figures in bench/RESULTS.md). The network is `served`'s: one
site whose one batch day serves every order, one centre; `placed` orders are taken
before the burst so that the burst's cancellations and adjustments have orders to work
on, some of them the same order (a cancellation and an adjustment racing).
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from served import MAKER, Server, assert_bookings_add_up, login, prepare, start_server, write_network

from rltnet.files.catalogue_file import default_catalogue
from rltnet.files.network_file import load_network

BURST_S = 120.0  # far past any timeout of the server's (30 s): a request left unanswered fails


@dataclass(frozen=True)
class Mix:
    """How many requests of each kind the burst sends at once."""

    reads: int = 80
    orders: int = 60
    cancels: int = 25
    adjustments: int = 25
    optimisations: int = 10
    placed: int = 40  # orders taken before the burst, for the cancellations and adjustments
    batch_doses: int = 120

    @property
    def requests(self) -> int:
        return self.reads + self.orders + self.cancels + self.adjustments + self.optimisations


@dataclass(frozen=True)
class Sent:
    kind: str
    status: int  # 0: no answer
    seconds: float
    detail: str = ""
    tries: int = 1  # 2: the connection was dropped unanswered once, and the request sent again


@dataclass(frozen=True)
class Outcome:
    sent: list[Sent]
    wall_s: float
    orders_checked: int
    batches_checked: int
    centre_days_checked: int

    @property
    def server_errors(self) -> list[Sent]:
        return [s for s in self.sent if s.status >= 500]

    @property
    def unanswered(self) -> list[Sent]:
        return [s for s in self.sent if s.status == 0]

    @property
    def resent(self) -> list[Sent]:
        return [s for s in self.sent if s.tries > 1]

    def p(self, quantile: float) -> float:
        seconds = sorted(s.seconds for s in self.sent)
        return seconds[min(len(seconds) - 1, int(quantile * len(seconds)))]

    def by_status(self) -> dict[str, Counter[int]]:
        found: dict[str, Counter[int]] = {}
        for s in self.sent:
            found.setdefault(s.kind, Counter())[s.status] += 1
        return found


async def _send(http: httpx.AsyncClient, kind: str, method: str, path: str, **kwargs: Any) -> Sent:
    """The request's answer; sent once more, as a client would, if its connection was dropped
    unanswered (hundreds of connections opened at once on two loaded cores: see
    tests/service/test_concurrency.py). Orders carry their idempotency key both times."""
    started = time.monotonic()
    failure = ""
    for tries in (1, 2):
        try:
            response = await http.request(method, path, **kwargs)
        except httpx.TransportError as err:
            failure = repr(err)
            continue
        detail = response.text[:300] if response.status_code >= 400 else ""
        return Sent(kind, response.status_code, time.monotonic() - started, detail, tries)
    return Sent(kind, 0, time.monotonic() - started, failure, 2)


def _preferred(order: dict[str, Any], rng: random.Random) -> str:
    earliest = datetime.fromisoformat(order["earliest_at"])
    return (earliest + timedelta(hours=rng.randint(0, 96))).isoformat()


async def _burst(
    server: Server, mix: Mix, patients: list[str], rng: random.Random
) -> tuple[list[Sent], float]:
    coordinator, maker = login(server), login(server, MAKER)
    limits = httpx.Limits(max_connections=mix.requests + 10, max_keepalive_connections=mix.requests + 10)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=BURST_S) as http:
        before, fresh = patients[: mix.placed], patients[mix.placed :]
        placed = []
        for patient in before:  # one after another: the set-up, not the load
            key = {"Idempotency-Key": f"mix-{secrets.token_hex(8)}"}
            response = await http.post(
                "/api/v1/orders", headers={**coordinator, **key}, json={"patient_id": patient}
            )
            assert response.status_code == 201, response.text
            placed.append(response.json())
        reads = ["/api/v1/centres", "/api/v1/orders?limit=20", "/api/v1/plan", "/api/v1/appointments"]
        sends = [
            _send(http, "read", "GET", reads[n % len(reads)], headers=coordinator if n % 3 else maker)
            for n in range(mix.reads)
        ]
        sends += [
            _send(
                http,
                "order",
                "POST",
                "/api/v1/orders",
                headers={**coordinator, "Idempotency-Key": f"mix-{secrets.token_hex(8)}"},
                json={"patient_id": patient},
            )
            for patient in fresh[: mix.orders]
        ]
        sends += [
            _send(
                http,
                "cancel",
                "POST",
                f"/api/v1/orders/{order['id']}/cancellation",
                headers=coordinator,
                json={"reason": "mixed load"},
            )
            for order in rng.sample(placed, mix.cancels)
        ]
        sends += [
            _send(
                http,
                "adjust",
                "POST",
                f"/api/v1/orders/{order['id']}/adjustment",
                headers=coordinator,
                json={"preferred_at": _preferred(order, rng)},
            )
            for order in rng.sample(placed, mix.adjustments)
        ]
        sends += [
            _send(http, "optimise", "POST", "/api/v1/plan/optimise", headers=maker, json={"commit": True})
            for _ in range(mix.optimisations)
        ]
        rng.shuffle(sends)
        started = time.monotonic()
        sent = await asyncio.wait_for(asyncio.gather(*sends), BURST_S)
        return list(sent), time.monotonic() - started


def run(database_url: str, folder: Path, mix: Mix, seed: int = 15) -> Outcome:
    """Prepare a database, start a server, send the burst, stop it, recount the counters."""
    network = folder / "network.yaml"
    write_network(network, mix.batch_doses)
    patients = prepare(database_url, network, mix.placed + mix.orders)
    server = start_server(database_url, network, folder / "server.log")
    try:
        sent, wall_s = asyncio.run(_burst(server, mix, patients, random.Random(seed)))
    finally:
        server.stop()
    stored = assert_bookings_add_up(database_url, network)
    centres = load_network(network, default_catalogue()).centres
    batches = {d.batch_id for d in stored.doses.values()}
    days = {
        (a.centre_id, centres[a.centre_id].calendar.local_date(a.start_at))
        for a in stored.appointments.values()
    }
    return Outcome(sent, wall_s, len(stored.orders), len(batches), len(days))
