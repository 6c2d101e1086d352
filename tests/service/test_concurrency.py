"""Many clients ordering at once against a real server process, on SQLite and on PostgreSQL.

Each test starts `rltnet serve` (two worker processes) on a loopback port against a
database of its own, with a small network written here in which one batch is the
only supply the orders can use: 50 clients submitting at once, each sending its
request several times under its idempotency key, must neither overbook that batch
nor lose or duplicate an order. Then a server killed with SIGKILL in the middle of
a burst must, once restarted on the same database, still hold every order it had
acknowledged, with bookings that add up.

Patients are referred, imaged and approved in-process through the use cases
before the server starts (the same code the API runs, without the HTTP round
trips); the orders go through HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
from collections import defaultdict
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from served import (
    Server,
    acknowledged_placement,
    assert_bookings_add_up,
    login,
    prepare,
    server_errors,
    start_server,
    write_network,
)

from rltnet.service.usecases.submissions import scoped_key

CLIENTS = 50
BATCH_DOSES = 20  # fewer than the clients: the batch's capacity binds
SENDS = 3  # each client sends its request this many times at once, under one key
KEYS_PER_CLIENT = 10  # keys whose requests share one httpx client (see `burst`)
KILL_PATIENTS = 200
KILL_BATCH_DOSES = 80
KILL_AFTER = 40  # acknowledged orders before the server is killed
BURST_S = 40.0  # a burst takes 1-5 s; the server's pool and lock timeouts are 30 s


@dataclass(frozen=True)
class Reply:
    key: str
    status: int  # 0: no answer (the connection failed)
    body: dict[str, Any] = field(default_factory=dict)


async def submit(client: httpx.AsyncClient, auth: dict[str, str], key: str, patient: str) -> Reply:
    try:
        response = await client.post(
            "/api/v1/orders", headers={**auth, "Idempotency-Key": key}, json={"patient_id": patient}
        )
    except httpx.TransportError:
        return Reply(key, 0)
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text}
    return Reply(key, response.status_code, body)


def client(server: Server, connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    # Plain HTTP on loopback: no TLS context to build (18 ms a client).
    return httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60.0, verify=False)


async def burst(server: Server, auth: dict[str, str], orders: dict[str, str]) -> list[Reply]:
    """Every key's request sent `SENDS` times at once, all keys together; then once more
    each, after every first answer is in. A request that gets no answer (hundreds of
    connections opened at once on two cores can be reset) is resent, as a client would.

    The keys are shared among clients of `KEYS_PER_CLIENT`: httpx's pool looks through
    all its connections for every request, and 600 in one pool cost the test 10 ms of
    CPU a request, most of the burst's time."""
    items = list(orders.items())
    groups = [items[i : i + KEYS_PER_CLIENT] for i in range(0, len(items), KEYS_PER_CLIENT)]
    async with contextlib.AsyncExitStack() as stack:
        keyed = []
        for group in groups:
            http = await stack.enter_async_context(client(server, len(group) * SENDS))
            keyed += [(http, key, patient) for key, patient in group]
        sends = [answered(http, auth, key, patient) for http, key, patient in keyed for _ in range(SENDS)]
        replies = list(await asyncio.gather(*sends))
        replies += await asyncio.gather(*(answered(http, auth, key, patient) for http, key, patient in keyed))
    return replies


async def answered(
    http: httpx.AsyncClient, auth: dict[str, str], key: str, patient: str, tries: int = 5
) -> Reply:
    """`submit`, resent under the same key until it gets an answer (at most `tries` times)."""
    reply = await submit(http, auth, key, patient)
    for attempt in range(1, tries):
        if reply.status:
            break
        await asyncio.sleep(0.2 * attempt)
        reply = await submit(http, auth, key, patient)
    return reply


async def burst_until_killed(
    server: Server, auth: dict[str, str], orders: dict[str, str], clients: int
) -> list[Reply]:
    """`clients` clients each submitting their share of `orders` one after another; the
    server is killed (SIGKILL) once `KILL_AFTER` orders have been acknowledged."""
    queue = list(orders.items())
    replies: list[Reply] = []
    acknowledged = 0

    async def one_client(http: httpx.AsyncClient) -> None:
        nonlocal acknowledged
        while queue:
            key, patient = queue.pop()
            reply = await submit(http, auth, key, patient)
            replies.append(reply)
            if 200 <= reply.status < 300:
                acknowledged += 1
                if acknowledged == KILL_AFTER:
                    server.kill()

    async with client(server, clients) as http:
        await asyncio.gather(*(one_client(http) for _ in range(clients)))
    return replies


def run_bounded(burst: Coroutine[Any, Any, list[Reply]], log: Path) -> list[Reply]:
    """The burst's replies; a failure if it takes longer than `BURST_S` (a server stuck)."""

    async def bounded() -> list[Reply]:
        return await asyncio.wait_for(burst, BURST_S)

    try:
        return asyncio.run(bounded())
    except TimeoutError:
        pass
    pytest.fail(f"the burst took over {BURST_S} s; the server's errors:\n{server_errors(log)}", pytrace=False)


def assert_no_server_errors(replies: list[Reply], log: Path) -> None:
    failed = [r for r in replies if r.status >= 500 or (r.status and not 200 <= r.status < 300)]
    assert not failed, (
        f"{len(failed)} requests refused or failed, e.g. {failed[:3]}; the server's errors:\n"
        f"{server_errors(log)}"
    )


def test_fifty_clients_against_one_batch(fresh_database_url: str, tmp_path: Path) -> None:
    network = tmp_path / "network.yaml"
    batch_day = write_network(network, BATCH_DOSES)
    patients = prepare(fresh_database_url, network, CLIENTS)
    server = start_server(fresh_database_url, network, tmp_path / "server.log")
    try:
        auth = login(server)
        orders = {f"burst-{secrets.token_hex(8)}": patient for patient in patients}
        replies = run_bounded(burst(server, auth, orders), server.log)
    finally:
        server.stop()

    assert len(replies) == CLIENTS * (SENDS + 1)
    assert_no_server_errors(replies, server.log)
    assert all(r.status for r in replies), "a request got no answer"
    by_key: defaultdict[str, list[Reply]] = defaultdict(list)
    for reply in replies:
        by_key[reply.key].append(reply)
    for key, answers in by_key.items():
        assert len({a.body["id"] for a in answers}) == 1, f"{key}: different orders for one key"
        assert sorted(a.status for a in answers) == [200] * SENDS + [201], f"{key}: one order, replays"

    stored = assert_bookings_add_up(fresh_database_url, network)
    acknowledged = {answers[0].body["id"]: answers[0] for answers in by_key.values()}
    assert set(stored.orders) == set(acknowledged), "orders lost or made without an acknowledgement"
    for order_id, reply in acknowledged.items():
        row = stored.orders[order_id]
        assert row.idempotency_key == scoped_key(row.centre_id, reply.key)
        assert stored.placement(order_id) == acknowledged_placement(reply.body), order_id
    placed = [a[0].body for a in by_key.values() if a[0].body["placement"] is not None]
    assert {p["placement"]["batch_id"] for p in placed} == {f"s1-{batch_day:%Y%m%d}-0600"}
    assert len(placed) == BATCH_DOSES, "the batch's doses are not all given, or more are"
    unplaced = [a[0].body for a in by_key.values() if a[0].body["placement"] is None]
    assert all("batch full" in (u["plan_note"] or "") for u in unplaced), unplaced[:1]


def test_server_killed_mid_burst_keeps_what_it_acknowledged(fresh_database_url: str, tmp_path: Path) -> None:
    network = tmp_path / "network.yaml"
    write_network(network, KILL_BATCH_DOSES)
    patients = prepare(fresh_database_url, network, KILL_PATIENTS)
    orders = {f"kill-{secrets.token_hex(8)}": patient for patient in patients}
    log = tmp_path / "server.log"
    server = start_server(fresh_database_url, network, log)
    try:
        auth = login(server)
        replies = run_bounded(burst_until_killed(server, auth, orders, CLIENTS), server.log)
    finally:
        server.stop()
    assert server.process.returncode == -signal.SIGKILL
    assert_no_server_errors(replies, server.log)
    acknowledged = {r.key: r.body for r in replies if r.status}
    assert len(acknowledged) >= KILL_AFTER
    assert len(acknowledged) < len(orders), "the burst ended before the kill"

    stored = assert_bookings_add_up(fresh_database_url, network)
    for key, body in acknowledged.items():
        row = stored.orders.get(body["id"])
        assert row is not None, f"order {body['id']} was acknowledged, then lost"
        assert row.idempotency_key == scoped_key(row.centre_id, key)
        assert stored.placement(row.id) == acknowledged_placement(body), f"{row.id}: not as acknowledged"

    # Clients resend what got no answer (and what did): each key ends with one order.
    server = start_server(fresh_database_url, network, log)
    try:
        auth = login(server)
        resent = run_bounded(burst(server, auth, orders), server.log)
    finally:
        server.stop()
    assert_no_server_errors(resent, server.log)
    ids: defaultdict[str, set[str]] = defaultdict(set)
    for reply in resent:
        ids[reply.key].add(reply.body["id"])
    assert all(len(found) == 1 for found in ids.values()), "a key answered with two orders"
    for key, body in acknowledged.items():
        assert ids[key] == {body["id"]}, f"{key}: acknowledged as {body['id']}, replayed as {ids[key]}"
    stored = assert_bookings_add_up(fresh_database_url, network)
    assert len(stored.orders) == len(orders) == KILL_PATIENTS
    assert {row.idempotency_key.removeprefix(f"{row.centre_id}:") for row in stored.orders.values()} == set(
        orders
    )
    assert len(stored.doses) == KILL_BATCH_DOSES, "the batch is not full, with orders left unplaced"
