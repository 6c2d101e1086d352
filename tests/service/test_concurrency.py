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
import itertools
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import holidays
import httpx
import pytest
from clinic import approved_patients
from sqlalchemy import func, select

from rltnet.files.catalogue_file import default_catalogue
from rltnet.files.network_file import load_network
from rltnet.service.platform import Platform
from rltnet.service.schemas import (
    UserCreate,
)
from rltnet.service.security import Principal, Role
from rltnet.service.settings import Settings
from rltnet.service.usecases.users import add_user
from rltnet.store import db, tables

PRODUCT = "lu177-vipivotide-tetraxetan"  # Pluvicto: a fixed 7.4 GBq, no weight needed
CLIENTS = 50
BATCH_DOSES = 20  # fewer than the clients: the batch's capacity binds
SENDS = 3  # each client sends its request this many times at once, under one key
KEYS_PER_CLIENT = 10  # keys whose requests share one httpx client (see `burst`)
KILL_PATIENTS = 200
KILL_BATCH_DOSES = 80
KILL_AFTER = 40  # acknowledged orders before the server is killed
WORKERS = 2
PASSWORD = "correct-horse-battery-staple"
COORDINATOR = "coord-c1"
SERVER_START_S = 60.0
BURST_S = 40.0  # a burst takes 1-5 s; the server's pool and lock timeouts are 30 s
EXCEPTION = re.compile(r"^[a-z][\w.]*(Error|Exception|Violation)\b")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def write_network(path: Path, doses_per_batch: int, now: datetime | None = None) -> date:
    """One site, one centre with chairs to spare, and a practitioner whose licence ends
    3 days after the one batch day: every order placed now can be served by that batch
    only (the site makes a batch on that weekday alone; the week before's has expired by
    the first session). Returns the batch's day."""
    now = now or datetime.now(UTC)
    bank_holidays = holidays.country_holidays("GB", subdiv="ENG")
    batch_day = (now + timedelta(days=16)).date()  # the order window opens 14 days ahead
    while batch_day in bank_holidays:
        batch_day += timedelta(days=1)
    licence_ends = batch_day + timedelta(days=3)
    path.write_text(
        f"""name: One batch (concurrency test)
reactors:
  - id: r1
    name: Test reactor
    location: {{lat: 52.79, lon: 4.68}}
    nuclides: [Lu-177]
    delivery: 5000 GBq
    delivery_weekdays: mon-sun
    cycles: [{{start: {now.date() - timedelta(days=60)}, end: {now.date() + timedelta(days=120)}}}]
production_sites:
  - id: s1
    name: Test site
    location: {{lat: 53.0, lon: -1.5}}
    country: GB
    subdivision: ENG
    time_zone: Europe/London
    products: [{PRODUCT}]
    production_weekdays: [{WEEKDAYS[batch_day.weekday()]}]
    batch_times: ['06:00']
    doses_per_batch: {doses_per_batch}
    qc_release: 2 h
    reactors: [r1]
    calibration: at_administration
lanes:
  - {{id: s1-c1, from: s1, to: c1, mode: road, transit: 2 h, cutoffs: ['08:00', '11:00', '14:00'],
     weekdays: mon-sun, reliability: 0.99}}
centres:
  - id: c1
    name: Test centre
    location: {{lat: 53.8, lon: -1.55}}
    region: North
    country: GB
    subdivision: ENG
    time_zone: Europe/London
    chairs: 40
    bed_kind: chair
    opening: {{weekdays: mon-sun, opens: '08:00', closes: '18:00'}}
    daily_activity_limit: 2000 GBq
    mdt_weekday: wed
    products: [{PRODUCT}]
    pet_scanners:
      - {{id: pet-1, tracers: [ga68-gozetotide], slots_per_day: 10}}
    staff:
      - id: c1-ap-1
        role: authorised_practitioner
        weekdays: mon-sun
        licences:
          - {{kind: test licence, covers: [Lu-177], expires_on: {licence_ends}}}
"""
    )
    return batch_day


def prepare(database_url: str, network: Path, patients: int) -> list[str]:
    """Migrate the database, add the centre's coordinator and physician, and take
    `patients` patients to MDT approval; their ids."""
    platform = Platform.start(Settings(database_url=database_url, network=str(network)))
    try:
        with platform.sessions() as session:
            users = {}
            for username, role in ((COORDINATOR, "coordinator"), ("doc-c1", "physician")):
                body = UserCreate.model_validate(
                    {"username": username, "password": PASSWORD, "role": role, "centre_id": "c1"}
                )
                users[role] = add_user(session, platform, body)
            session.commit()
            coordinator = Principal(users["coordinator"].id, COORDINATOR, Role.COORDINATOR, "c1")
            physician = Principal(users["physician"].id, "doc-c1", Role.PHYSICIAN, "c1")
            return approved_patients(session, platform, coordinator, physician, patients, PRODUCT)
    finally:
        platform.close()


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def kill(self) -> None:
        """SIGKILL to the server and its workers (one process group), as a crash would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is not None:
            self.kill()  # the supervisor is gone; make sure no worker outlives it
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.kill()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(database_url: str, network: Path, log: Path) -> Server:
    """`rltnet serve` with its worker processes, in a process group of its own; returns once
    it answers /health."""
    port = free_port()
    command = [
        sys.executable,
        "-c",
        "from rltnet.cli import main; main()",
        "serve",
        "--host=127.0.0.1",
        f"--port={port}",
        f"--database-url={database_url}",
        f"--network={network}",
        f"--workers={WORKERS}",
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{server.url}/health", timeout=1.0).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.kill()
    pytest.fail(f"the server did not answer within {SERVER_START_S} s:\n{log.read_text()[-4000:]}")


def login(server: Server) -> dict[str, str]:
    response = httpx.post(
        f"{server.url}/api/v1/auth/login", json={"username": COORDINATOR, "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


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


def server_errors(log: Path) -> str:
    """The distinct exceptions in the server's log, counted."""
    found = Counter(
        line[:200] for line in log.read_text(errors="replace").splitlines() if EXCEPTION.match(line)
    )
    return "\n".join(f"{n} x {line}" for line, n in found.most_common(10)) or "none"


def assert_no_server_errors(replies: list[Reply], log: Path) -> None:
    failed = [r for r in replies if r.status >= 500 or (r.status and not 200 <= r.status < 300)]
    assert not failed, (
        f"{len(failed)} requests refused or failed, e.g. {failed[:3]}; the server's errors:\n"
        f"{server_errors(log)}"
    )


@dataclass(frozen=True)
class Stored:
    orders: dict[str, tables.Order]
    doses: dict[str, tables.Dose]
    appointments: dict[str, tables.Appointment]

    def placement(self, order_id: str) -> tuple[str, int, datetime] | None:
        """(batch, chair, appointment start) of a placed order."""
        if order_id not in self.doses:
            return None
        appointment = self.appointments[order_id]
        return self.doses[order_id].batch_id, appointment.chair, appointment.start_at


def acknowledged_placement(body: dict[str, Any]) -> tuple[str, int, datetime] | None:
    placement = body["placement"]
    if placement is None:
        return None
    start = datetime.fromisoformat(placement["appointment_at"])
    return placement["batch_id"], placement["chair"], start


def assert_bookings_add_up(database_url: str, network: Path) -> Stored:
    """Every batch's booked count is its doses and within capacity; every placement is
    whole; no chair holds two patients at once; each centre-day's activity is the sum
    of its appointments'; no patient has two orders."""
    centres = load_network(network, default_catalogue()).centres
    engine = db.connect(database_url)
    try:
        with db.sessions(engine)() as session:
            orders = {o.id: o for o in session.scalars(select(tables.Order))}
            doses = {d.order_id: d for d in session.scalars(select(tables.Dose))}
            shipments = {s.order_id for s in session.scalars(select(tables.Shipment))}
            appointments = {a.order_id: a for a in session.scalars(select(tables.Appointment))}
            doses_per_batch = Counter(d.batch_id for d in doses.values())
            batches = list(session.scalars(select(tables.Batch)))
            centre_days = list(session.scalars(select(tables.CentreDay)))
            per_patient = session.execute(
                select(tables.Order.patient_id, func.count()).group_by(tables.Order.patient_id)
            ).all()
    finally:
        engine.dispose()
    for batch in batches:
        assert batch.booked == doses_per_batch[batch.id], f"batch {batch.id}: booked != its doses"
        assert batch.booked <= batch.capacity, f"batch {batch.id} overbooked"
    assert set(doses) == shipments == set(appointments), "a placement without its dose, shipment or chair"
    placed = {order_id for order_id, order in orders.items() if order.plan_note is None}
    assert placed == set(doses), "an order placed without a dose, or a dose for an unplaced order"
    by_chair: defaultdict[tuple[str, int], list[tables.Appointment]] = defaultdict(list)
    activity: defaultdict[tuple[str, date], float] = defaultdict(float)
    for appointment in appointments.values():
        by_chair[(appointment.centre_id, appointment.chair)].append(appointment)
        day = centres[appointment.centre_id].calendar.local_date(appointment.start_at)
        activity[(appointment.centre_id, day)] += orders[appointment.order_id].prescribed_bq
    for (centre_id, chair), booked in by_chair.items():
        booked.sort(key=lambda a: a.start_at)
        for first, second in itertools.pairwise(booked):
            assert first.end_at <= second.start_at, f"{centre_id} chair {chair} holds two patients at once"
    for row in centre_days:
        expected = activity.get((row.centre_id, row.day), 0.0)
        assert row.activity_bq == pytest.approx(expected, rel=1e-9, abs=1.0), f"{row.centre_id} {row.day}"
    assert all(count == 1 for _, count in per_patient), "a patient with two orders"
    return Stored(orders, doses, appointments)


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
        assert stored.orders[order_id].idempotency_key == reply.key
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
        assert row.idempotency_key == key
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
    assert {row.idempotency_key for row in stored.orders.values()} == set(orders)
    assert len(stored.doses) == KILL_BATCH_DOSES, "the batch is not full, with orders left unplaced"
