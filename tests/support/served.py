"""A real `rltnet serve` for the tests: a small network, patients approved, the server run.

Shared by the tests that need worker processes and real concurrency
(tests/service/test_concurrency.py, test_load.py, test_races.py).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
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
from rltnet.service.schemas import UserCreate
from rltnet.service.security import Principal, Role
from rltnet.service.settings import Settings
from rltnet.service.usecases.users import add_user
from rltnet.store import db, tables

PRODUCT = "lu177-vipivotide-tetraxetan"  # Pluvicto: a fixed 7.4 GBq, no weight needed
WORKERS = 2
PASSWORD = "correct-horse-battery-staple"
COORDINATOR = "coord-c1"
MAKER = "maker-1"
SERVER_START_S = 60.0
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
    """Migrate the database, add the centre's coordinator and physician and a manufacturer
    (`MAKER`), and take `patients` patients to MDT approval; their ids."""
    platform = Platform.start(Settings(database_url=database_url, network=str(network)))
    try:
        with platform.sessions() as session:
            users = {}
            for username, role in (
                (COORDINATOR, "coordinator"),
                ("doc-c1", "physician"),
                (MAKER, "manufacturer"),
            ):
                centre = None if role == "manufacturer" else "c1"
                body = UserCreate.model_validate(
                    {"username": username, "password": PASSWORD, "role": role, "centre_id": centre}
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


def login(server: Server, username: str = COORDINATOR) -> dict[str, str]:
    response = httpx.post(
        f"{server.url}/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def server_errors(log: Path) -> str:
    """The distinct exceptions in the server's log, counted."""
    found = Counter(
        line[:200] for line in log.read_text(errors="replace").splitlines() if EXCEPTION.match(line)
    )
    return "\n".join(f"{n} x {line}" for line, n in found.most_common(10)) or "none"


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
    placed = {
        order_id
        for order_id, order in orders.items()
        if order.plan_note is None and order.status != "cancelled"
    }
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
