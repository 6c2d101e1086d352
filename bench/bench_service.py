"""Order submissions over HTTP on loopback: throughput and latency at 50 concurrent clients.

For each database (SQLite, PostgreSQL) it creates an empty database, takes
`--orders` patients (plus `--warmup`) to MDT approval in-process, starts
`rltnet serve` with `--workers` worker processes, logs every centre's coordinator
in, and then `--clients` clients each keep one keep-alive connection busy with
``POST /api/v1/orders`` (a fresh Idempotency-Key per order, the preferred day
spread over the first-cycle window) until every order is sent or `--seconds`
have passed. It prints orders/s, p50/p99/max latency, errors, orders placed at
once and left for the planner, CPU seconds per order in the server and in the
load generator, and checks that every batch's booked count equals its doses.

The peer, measured in the same run with the same load generator on the same
database and uvicorn: a minimal FastAPI app whose POST inserts one row per
request (the floor of the stack). The ratio of the two is printed.

The load generator writes raw HTTP/1.1 over asyncio streams, not httpx: on a
2-core machine the client shares the CPUs with the server, and httpx costs
several times more CPU per request.

`--profile N` then times N submissions in-process through the use case
(``usecases.submissions.submit``, no HTTP) under cProfile and prints where the time
per order goes. Run:

    .venv/bin/python bench/bench_service.py [--databases sqlite postgresql] [--orders 2000]
        [--clients 50] [--workers 2] [--profile 300] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import psycopg
from fastapi import FastAPI, Header
from pydantic import BaseModel
from sqlalchemy import Column, DateTime, Engine, Integer, MetaData, String, Table, func, insert, select

from rltnet.domain.pathway import Move, PathwayEvent, PatientPathway, Stage
from rltnet.service import pathways
from rltnet.service.platform import Platform
from rltnet.service.schemas import OrderCreate, UserCreate
from rltnet.service.security import Principal, Role
from rltnet.service.settings import Settings
from rltnet.service.usecases import submissions
from rltnet.service.usecases.users import add_user
from rltnet.store import db, tables

PRODUCT = "lu177-vipivotide-tetraxetan"
NETWORK = Path(__file__).parent / "networks" / "m.yaml"
POSTGRES_ADMIN = os.environ.get("RLTNET_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-password-not-secret"
TARGET_PER_S = 300.0  # PostgreSQL, 50 clients, this 2-core machine
TARGET_P99_MS = 150.0
PEER_URL_ENV = "RLTNET_BENCH_PEER_DATABASE_URL"


# ---- databases ------------------------------------------------------------------------


@contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[str]:
    """An empty database of `kind`, dropped afterwards (PostgreSQL)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'bench-{secrets.token_hex(4)}.sqlite'}"
        return
    name = f"rltnet_bench_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class Patient:
    patient_id: str
    username: str  # the coordinator of the patient's centre


def prepare(database_url: str, network: Path, count: int, seed: int, *, users: bool = True) -> list[Patient]:
    """Migrate, add a coordinator per centre giving the product (unless `users` is False), and
    take `count` patients to MDT approval through the pathway's state machine (in-process,
    few commits)."""
    platform = Platform.start(Settings(database_url=database_url, network=str(network)))
    try:
        product = platform.catalogue.therapy(PRODUCT)
        centres = [c.centre_id for c in platform.network.centres.values() if PRODUCT in c.products]
        rng = random.Random(seed)
        at = datetime.now(UTC) - timedelta(days=1)
        patients = []
        with platform.sessions() as session:
            for centre in centres if users else ():
                body = {"username": f"coord-{centre}", "password": PASSWORD, "role": "coordinator"}
                add_user(session, platform, UserCreate.model_validate({**body, "centre_id": centre}))
            session.commit()
            for n in range(count):
                centre = rng.choice(centres)
                patient_id = "P-" + secrets.token_hex(5).upper()
                row = tables.Patient(
                    id=patient_id,
                    centre_id=centre,
                    product_id=product.product_id,
                    indication=product.indications[0],
                    stage=Stage.REFERRED.value,
                    stage_since=at,
                    referred_at=at,
                    weight_kg=80.0,
                    events=0,
                    cycle=0,
                    cycles_given=0,
                )
                session.add(row)
                session.flush()
                pathway = PatientPathway(patient_id, product)
                moves = (Move.REFER, Move.REQUEST_IMAGING, Move.RECORD_POSITIVE, Move.APPROVE)
                for step, move in enumerate(moves):
                    event = PathwayEvent(move, at + timedelta(minutes=step), "bench")
                    pathways.record(session, row, pathway, event, platform.clock.now())
                identity = {"name": f"Bench {n}", "date_of_birth": "1950-01-01", "hospital_number": f"B{n}"}
                session.add(
                    tables.PatientIdentity(patient_id=patient_id, sealed=platform.sealer.seal(identity))
                )
                patients.append(Patient(patient_id, f"coord-{centre}"))
                if n % 500 == 499:
                    session.commit()
            session.commit()
        return patients
    finally:
        platform.close()


def bookings_add_up(database_url: str) -> tuple[bool, int]:
    """(every batch's booked count is its doses and within capacity, orders stored)."""
    engine = db.connect(database_url)
    try:
        with db.sessions(engine)() as session:
            doses = Counter(session.scalars(select(tables.Dose.batch_id)))
            batches = list(session.scalars(select(tables.Batch)))
            stored = session.scalar(select(func.count()).select_from(tables.Order)) or 0
    finally:
        engine.dispose()
    ok = all(b.booked == doses[b.id] and b.booked <= b.capacity for b in batches)
    return ok and sum(doses.values()) == sum(b.booked for b in batches), stored


# ---- the peer: one row per request ----------------------------------------------------

PEER_METADATA = MetaData()
PEER_ORDERS = Table(
    "bench_peer_orders",
    PEER_METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(100), unique=True, nullable=False),
    Column("patient_id", String(32), nullable=False),
    Column("preferred_at", DateTime(timezone=True)),
    Column("placed_at", DateTime(timezone=True), nullable=False),
)


class PeerOrderCreate(BaseModel):
    patient_id: str
    preferred_at: datetime | None = None


class PeerOrderPublic(BaseModel):
    id: int
    idempotency_key: str
    patient_id: str
    preferred_at: datetime | None
    placed_at: datetime


def peer_app() -> FastAPI:
    """The floor: parse the same request, insert one row with rltnet's engine settings, answer
    201 with the row (uvicorn factory; the database URL from the environment)."""
    engine = db.connect(os.environ[PEER_URL_ENV])
    sessions = db.sessions(engine)
    app = FastAPI()

    @app.post("/api/v1/orders", status_code=201)
    def submit(
        body: PeerOrderCreate, idempotency_key: Annotated[str, Header(alias="Idempotency-Key")]
    ) -> PeerOrderPublic:
        at = datetime.now(UTC)
        values = {"idempotency_key": idempotency_key, "patient_id": body.patient_id}
        with sessions() as session:
            row_id = session.execute(
                insert(PEER_ORDERS)
                .values(**values, preferred_at=body.preferred_at, placed_at=at)
                .returning(PEER_ORDERS.c.id)
            ).scalar_one()
            session.commit()
        return PeerOrderPublic(id=row_id, **values, preferred_at=body.preferred_at, placed_at=at)

    return app


def create_peer_table(database_url: str) -> Engine:
    engine = db.connect(database_url)
    PEER_METADATA.create_all(engine)
    return engine


# ---- the server process ---------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def cpu_seconds(self) -> float:
        """User + system CPU of the server and its workers (its process group)."""
        return cpu_seconds(lambda name, group: group == self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
                return
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.process.wait(10)


def cpu_seconds(which: Callable[[str, int], bool]) -> float:
    """User + system CPU seconds of the processes `which(name, process group)` picks, from /proc."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        if which(name, int(fields[2])):
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU of the local PostgreSQL server's processes (0 where it runs elsewhere)."""
    return cpu_seconds(lambda name, _: name == "postgres" or name.startswith("postgres:"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(command: list[str], env: dict[str, str], log: Path) -> Server:
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*command, f"--port={port}"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            start_new_session=True,
        )
    server = Server(process, port, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1.0).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.stop()
    raise SystemExit(f"the server did not start in 120 s; see {log}")


def start_rltnet(database_url: str, network: Path, workers: int, log: Path) -> Server:
    command = [
        sys.executable,
        "-c",
        "from rltnet.cli import main; main()",
        "serve",
        "--host=127.0.0.1",
        f"--database-url={database_url}",
        f"--network={network}",
        f"--workers={workers}",
    ]
    return start(command, {}, log)


def start_peer(database_url: str, workers: int, log: Path) -> Server:
    """The peer on the same process model as `rltnet serve`: `workers` uvicorn processes that
    the supervisor deals connections to in turn (`rltnet.service.workers`)."""
    serve = (
        "import sys; from rltnet.service.workers import listen, run; "
        f"sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        "port = int(sys.argv[-1].removeprefix('--port=')); "
        f"run('bench_service:peer_app', listen('127.0.0.1', port), {workers}, 'warning')"
    )
    return start([sys.executable, "-c", serve], {PEER_URL_ENV: database_url}, log)


# ---- the load generator ---------------------------------------------------------------


@dataclass
class Load:
    sent: int = 0
    wall_s: float = 0.0
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    database_cpu_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    bodies: list[bytes] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    def figures(self) -> dict[str, Any]:
        latencies = sorted(self.latencies_s)
        quantiles = (
            statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [0.0]
        )
        errors = {str(k): v for k, v in sorted(self.statuses.items()) if not 200 <= k < 300}
        return {
            "requests": self.sent,
            "ok": self.ok,
            "errors": errors,
            "wall_s": round(self.wall_s, 2),
            "orders_per_s": round(self.ok / self.wall_s, 1) if self.wall_s else 0.0,
            "p50_ms": round(quantiles[49] * 1e3, 1),
            "p99_ms": round(quantiles[98] * 1e3, 1),
            "max_ms": round(latencies[-1] * 1e3, 1) if latencies else 0.0,
            "server_cpu_ms_per_order": round(self.server_cpu_s / max(self.ok, 1) * 1e3, 2),
            "client_cpu_ms_per_order": round(self.client_cpu_s / max(self.ok, 1) * 1e3, 2),
            "postgres_cpu_ms_per_order": round(self.database_cpu_s / max(self.ok, 1) * 1e3, 2),
        }


def preferred_times(count: int, seed: int, mode: str) -> list[datetime | None]:
    """`spread`: a whole hour spread over the first-cycle window (which opens 14 days from
    now, for 4 weeks); `earliest`: none, so each order takes the label's earliest time."""
    if mode == "earliest":
        return [None] * count
    rng = random.Random(seed)
    opens = (datetime.now(UTC) + timedelta(days=14, hours=2)).replace(minute=0, second=0, microsecond=0)
    return [opens + timedelta(hours=rng.randrange(26 * 24)) for _ in range(count)]


def request_bytes(port: int, token: str, patient_id: str, preferred_at: datetime | None) -> bytes:
    fields = {"patient_id": patient_id}
    if preferred_at is not None:
        fields["preferred_at"] = preferred_at.isoformat()
    body = json.dumps(fields).encode()
    head = (
        f"POST /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Idempotency-Key: bench-{secrets.token_hex(12)}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, whether the server keeps the connection open)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.split(b":", 1) for line in lines[1:] if b":" in line)
    lowered = {k.strip().lower(): v.strip() for k, v in headers.items()}
    body = await reader.readexactly(int(lowered.get(b"content-length", b"0")))
    return status, body, lowered.get(b"connection", b"").lower() != b"close"


async def drive(port: int, requests: list[bytes], clients: int, seconds: float, load: Load) -> None:
    """`clients` connections, each sending the next request as soon as its last is answered."""
    queue = iter(requests)
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for request in queue:
                if time.perf_counter() > deadline:
                    return
                load.sent += 1
                began = time.perf_counter()
                try:
                    writer.write(request)
                    status, body, keep = await read_response(reader)
                except (ConnectionError, asyncio.IncompleteReadError):
                    load.statuses[0] += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                load.latencies_s.append(time.perf_counter() - began)
                load.statuses[status] += 1
                load.bodies.append(body)
                if not keep:
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))


def run_load(server: Server, requests: list[bytes], clients: int, seconds: float) -> Load:
    load = Load()
    cpu, server_cpu, database_cpu = time.process_time(), server.cpu_seconds(), postgres_cpu_seconds()
    began = time.perf_counter()
    asyncio.run(drive(server.port, requests, clients, seconds, load))
    load.wall_s = time.perf_counter() - began
    load.client_cpu_s = time.process_time() - cpu
    load.server_cpu_s = server.cpu_seconds() - server_cpu
    load.database_cpu_s = postgres_cpu_seconds() - database_cpu
    return load


def login(port: int, usernames: set[str]) -> dict[str, str]:
    tokens = {}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for username in sorted(usernames):
            response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
            response.raise_for_status()
            tokens[username] = response.json()["access_token"]
    return tokens


def orders_for(
    port: int, patients: list[Patient], tokens: dict[str, str], seed: int, mode: str
) -> list[bytes]:
    """One order per patient (see `preferred_times`)."""
    preferred = preferred_times(len(patients), seed, mode)
    return [
        request_bytes(port, tokens[p.username], p.patient_id, at)
        for p, at in zip(patients, preferred, strict=True)
    ]


# ---- one database ---------------------------------------------------------------------


def bench_database(kind: str, args: argparse.Namespace, folder: Path, logs: Path) -> dict[str, Any]:
    print(f"\n== {kind}: preparing {args.orders + args.warmup} approved patients ...", flush=True)
    out: dict[str, Any] = {}
    with fresh_database(kind, folder) as url:
        began = time.perf_counter()
        patients = prepare(url, args.network, args.orders + args.warmup, args.seed)
        print(f"   prepared in {time.perf_counter() - began:.1f} s; starting rltnet serve", flush=True)
        server = start_rltnet(url, args.network, args.workers, logs / f"rltnet-{kind}.log")
        try:
            tokens = login(server.port, {p.username for p in patients})
            requests = orders_for(server.port, patients, tokens, args.seed, args.preferred)
            warm = run_load(server, requests[: args.warmup], args.clients, args.seconds)
            load = run_load(server, requests[args.warmup :], args.clients, args.seconds)
        finally:
            server.stop()
        figures = load.figures()
        answers = [json.loads(b) for b in load.bodies if b.startswith(b"{")]
        orders = [a for a in answers if "id" in a]
        placed = sum(1 for a in orders if a.get("placement"))
        consistent, stored = bookings_add_up(url)
        figures |= {
            "placed": placed,
            "unplanned": len(orders) - placed,
            "bookings_consistent": consistent,
            "orders_stored_as_acknowledged": stored == warm.ok + load.ok,
        }
        out["rltnet"] = figures

        engine = create_peer_table(url)
        engine.dispose()
        peer = start_peer(url, args.workers, logs / f"peer-{kind}.log")
        try:
            anyone = {p.username: "-" for p in patients}
            peer_requests = orders_for(peer.port, patients, anyone, args.seed, args.preferred)
            run_load(peer, peer_requests[: args.warmup], args.clients, args.seconds)
            out["peer"] = run_load(peer, peer_requests[args.warmup :], args.clients, args.seconds).figures()
        finally:
            peer.stop()
        if args.profile:
            out["profile"] = profile_submit(url, args.network, args.profile, args.seed, args.preferred)
    return out


def profile_submit(database_url: str, network: Path, count: int, seed: int, mode: str) -> dict[str, float]:
    """N submissions through the use case, in-process, under cProfile: ms per order, in all
    and in the parts the lead would speed up."""
    patients = prepare(database_url, network, count, seed + 1, users=False)
    platform = Platform.start(Settings(database_url=database_url, network=str(network)))
    profiler = cProfile.Profile()
    preferred_at = preferred_times(len(patients), seed, mode)
    try:
        with platform.sessions() as session:
            users = {u.username: u for u in session.scalars(select(tables.User))}
        walls = {True: 0.0, False: 0.0}
        for n, patient in enumerate(patients):
            user = users[patient.username]
            who = Principal(user.id, user.username, Role.COORDINATOR, user.centre_id)
            body = OrderCreate(patient_id=patient.patient_id, preferred_at=preferred_at[n])
            profiled = n % 2 == 1  # every other order under the profiler
            with platform.sessions() as session:
                began = time.perf_counter()
                if profiled:
                    profiler.enable()
                submissions.submit(session, platform, who, body, f"profile-{secrets.token_hex(8)}")
                profiler.disable()
                walls[profiled] += time.perf_counter() - began
    finally:
        platform.close()
    stats = pstats.Stats(profiler)
    total = sum(tt for (_, _, _), (_, _, tt, _, _) in stats.stats.items())  # type: ignore[attr-defined]
    parts = {
        "submit (all)": ("usecases/orders.py", "submit"),
        "placer.place": ("service/placement.py", "place"),
        "placer options (candidates)": ("service/placement.py", "options"),
        "Candidates build": ("planning/candidates.py", "__init__"),
        "stored_events (disruptions read)": ("service/disruptions.py", "stored_events"),
        "reservations (_reserve)": ("service/placement.py", "_reserve"),
        "writes (_write)": ("service/placement.py", "_write"),
        "pathways.load (replay events)": ("service/pathways.py", "load"),
        "public() (answer)": ("usecases/orders.py", "public"),
        "session.commit": ("orm/session.py", "commit"),
        "session.flush": ("orm/session.py", "flush"),
        "SQL round trips (do_execute)": ("engine/default.py", "do_execute"),
    }
    count = len(patients) // 2  # the profiled half
    found: dict[str, float] = {
        "wall ms per order, no profiler": walls[False] / (len(patients) - count) * 1e3,
        "wall ms per order, profiled": walls[True] / count * 1e3,
    }
    for label, (path, name) in parts.items():
        cumulative = [
            ct
            for (file, _, function), (_, _, _, ct, _) in stats.stats.items()  # type: ignore[attr-defined]
            if file.endswith(path) and function == name
        ]
        if cumulative:
            found[label] = max(cumulative) / count * 1e3
    found["own time of every function"] = total / count * 1e3
    statements = [
        calls
        for (file, _, function), (_, calls, _, _, _) in stats.stats.items()  # type: ignore[attr-defined]
        if file.endswith("engine/default.py") and function == "do_execute"
    ]
    found["SQL statements per order (count)"] = sum(statements) / count
    print(f"\n   {len(patients)} submissions in-process, one at a time, half under cProfile (ms per order):")
    for label, ms in found.items():
        print(f"     {label:36} {ms:8.2f}")
    print("   top functions by own time:")
    stats.sort_stats("tottime").print_stats(12)
    return {k: round(v, 3) for k, v in found.items()}


# ---- main -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument("--orders", type=int, default=2_000, help="orders measured per database")
    parser.add_argument("--warmup", type=int, default=100, help="orders sent first, not measured")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (2 cores here)")
    parser.add_argument("--seconds", type=float, default=120.0, help="time limit of each load run")
    parser.add_argument("--network", type=Path, default=NETWORK)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--preferred",
        choices=["spread", "earliest"],
        default="spread",
        help="preferred time: a whole hour spread over the window, or none (the earliest)",
    )
    parser.add_argument(
        "--profile", type=int, default=0, help="then profile this many submissions in-process"
    )
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--logs", type=Path, help="keep the servers' logs in this folder")
    args = parser.parse_args()

    results: dict[str, Any] = {
        "orders": args.orders,
        "clients": args.clients,
        "workers": args.workers,
        "network": str(args.network),
        "preferred": args.preferred,
    }
    with tempfile.TemporaryDirectory(prefix="rltnet-bench-") as folder:
        logs = args.logs or Path(folder)
        logs.mkdir(parents=True, exist_ok=True)
        for kind in args.databases:
            results[kind] = bench_database(kind, args, Path(folder), logs)
    print(
        f"\n{args.orders} orders, {args.clients} clients, {args.workers} workers, "
        f"network {args.network.name}, preferred time: {args.preferred}"
    )
    header = (
        f"{'database':10} {'app':7} {'ok':>6} {'errors':>14} {'orders/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'cpu ms/order: srv':>17} {'pg':>5} {'cli':>5} {'placed':>7} {'unplanned':>9}"
    )
    print(header)
    for kind in args.databases:
        for app in ("rltnet", "peer"):
            f = results[kind][app]
            errors = ",".join(f"{k}:{v}" for k, v in f["errors"].items()) or "0"
            print(
                f"{kind:10} {app:7} {f['ok']:>6} {errors:>14} {f['orders_per_s']:>9} {f['p50_ms']:>8} "
                f"{f['p99_ms']:>8} {f['max_ms']:>8} {f['server_cpu_ms_per_order']:>17} "
                f"{f['postgres_cpu_ms_per_order']:>5} {f['client_cpu_ms_per_order']:>5} "
                f"{f.get('placed', '-'):>7} {f.get('unplanned', '-'):>9}"
            )
    for kind in args.databases:
        ours, peer = results[kind]["rltnet"], results[kind]["peer"]
        ratio = ours["orders_per_s"] / peer["orders_per_s"] if peer["orders_per_s"] else float("nan")
        print(
            f"{kind}: rltnet / peer throughput {ratio:.2f}; p99 {ours['p99_ms']} ms vs {peer['p99_ms']} ms; "
            f"bookings consistent: {ours['bookings_consistent']}"
        )
        results[kind]["throughput_ratio_to_peer"] = round(ratio, 3)
    if "postgresql" in results:
        ours = results["postgresql"]["rltnet"]
        met = ours["orders_per_s"] >= TARGET_PER_S and ours["p99_ms"] <= TARGET_P99_MS and not ours["errors"]
        print(
            f"target on PostgreSQL (>= {TARGET_PER_S:.0f} orders/s, p99 <= {TARGET_P99_MS:.0f} ms, "
            f"no errors): {'met' if met else 'NOT met'} "
            f"({ours['orders_per_s']} orders/s, p99 {ours['p99_ms']} ms)"
        )
        results["target_met"] = met
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
