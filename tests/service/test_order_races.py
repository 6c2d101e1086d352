"""Changes of one order at the same moment serialise, and finished orders stay finished; on SQLite
and on PostgreSQL.

Once, a cancellation and an adjustment of one order at once took its dose back twice
(a batch's booked count went to -3, and later orders overbooked it), a re-optimisation
and placements took their locks in opposite orders (PostgreSQL broke the deadlock by
failing one: a 500), and an adjustment revived a cancelled, QC-failed or missed order.
Here every pair of order operations runs at once on one order, through the API, and
then every counter (each batch's booked doses, each centre-day's activity, each chair)
is recounted from the orders' placements.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from clinic import Clinic, Headers, bearer_headers, start_with_users
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from rltnet.domain.clock import SettableClock
from rltnet.service.app import create_app
from rltnet.service.platform import Platform
from rltnet.service.settings import Settings
from rltnet.store import tables

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
LIVE = ("requested", "confirmed")
Operation = Callable[[Clinic, dict[str, Any]], Response]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def own_platform(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    """A database of this module's own: the recount covers every row in it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('races') / 'rltnet.sqlite'}"
        name = None
    else:
        name = f"rltnet_test_{secrets.token_hex(4)}"
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = f"{POSTGRES_ADMIN.rsplit('/', 1)[0]}/{name}"
    # on a clock the tests advance (a dose is made only once its batch has started)
    settings = Settings(database_url=url, network="england", token_minutes=7 * 24 * 60)
    platform = start_with_users(settings, SettableClock(datetime.now(UTC)))
    yield platform
    platform.close()
    if name is not None:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def races(own_platform: Platform) -> Clinic:
    client = TestClient(create_app(own_platform.settings, own_platform))
    auth: dict[str, Headers] = bearer_headers(client)
    return Clinic(client, auth)


def _at(order: dict[str, Any], days: int) -> str:
    return (datetime.fromisoformat(order["earliest_at"]) + timedelta(days=days)).isoformat()


def _post(clinic: Clinic, path: str, user: str, body: dict[str, Any] | None = None) -> Response:
    response: Response = clinic.client.post(f"/api/v1{path}", headers=clinic.auth[user], json=body)
    return response


OPERATIONS: dict[str, Operation] = {
    "cancel": lambda c, o: _post(c, f"/orders/{o['id']}/cancellation", "coord-leeds", {"reason": "race"}),
    "adjust": lambda c, o: _post(
        c, f"/orders/{o['id']}/adjustment", "coord-leeds", {"preferred_at": _at(o, 3)}
    ),
    "confirm": lambda c, o: _post(c, f"/orders/{o['id']}/confirmation", "maker"),
    "accept": lambda c, o: _post(c, f"/orders/{o['id']}/proposal/acceptance", "coord-leeds"),
    "optimise": lambda c, _: _post(c, "/plan/optimise", "maker", {"commit": True}),
}
PAIRS = list(itertools.combinations_with_replacement(OPERATIONS, 2))


def _proposed_order(clinic: Clinic) -> dict[str, Any]:
    """A placed order of a new patient, with the manufacturer's proposal of another day pending."""
    order = clinic.order(clinic.approve("leeds", "Pluvicto"))
    clinic.call("POST", f"/orders/{order['id']}/proposal", "maker", json={"proposed_at": _at(order, 1)})
    return order


def _at_once(clinic: Clinic, order: dict[str, Any], names: tuple[str, ...]) -> list[Response]:
    """The operations sent together: each thread waits for the others before it sends."""
    ready = threading.Barrier(len(names))

    def send(name: str) -> Response:
        ready.wait()
        return OPERATIONS[name](clinic, order)

    with ThreadPoolExecutor(len(names)) as pool:
        return list(pool.map(send, names))


def assert_counters_match_the_orders(platform: Platform) -> None:
    """Recount every counter from the placements: batch doses within 0..capacity and equal to
    the booked count; each centre-day's activity the sum of its appointments'; no chair
    holding two patients at once; placements whole; cancelled orders holding nothing; no
    patient with two live orders."""
    with platform.sessions() as session:
        orders = {o.id: o for o in session.scalars(select(tables.Order))}
        doses = {d.order_id: d for d in session.scalars(select(tables.Dose))}
        shipments = set(session.scalars(select(tables.Shipment.order_id)))
        appointments = list(session.scalars(select(tables.Appointment)))
        batches = list(session.scalars(select(tables.Batch)))
        centre_days = list(session.scalars(select(tables.CentreDay)))
        live = session.execute(
            select(tables.Order.patient_id, func.count())
            .where(tables.Order.status.in_(LIVE))
            .group_by(tables.Order.patient_id)
        ).all()
    per_batch = Counter(d.batch_id for d in doses.values())
    for batch in batches:
        assert batch.booked == per_batch[batch.id], (
            f"batch {batch.id}: booked {batch.booked}, doses {per_batch}"
        )
        assert 0 <= batch.booked <= batch.capacity, f"batch {batch.id}: {batch.booked} of {batch.capacity}"
    assert set(doses) == shipments == {a.order_id for a in appointments}, "a placement not whole"
    activity: defaultdict[tuple[str, date], float] = defaultdict(float)
    by_chair: defaultdict[tuple[str, int], list[tables.Appointment]] = defaultdict(list)
    for appointment in appointments:
        day = platform.network.centres[appointment.centre_id].calendar.local_date(appointment.start_at)
        activity[(appointment.centre_id, day)] += orders[appointment.order_id].prescribed_bq
        by_chair[(appointment.centre_id, appointment.chair)].append(appointment)
    for row in centre_days:
        expected = activity.get((row.centre_id, row.day), 0.0)
        assert row.activity_bq == pytest.approx(expected, abs=1.0), f"{row.centre_id} {row.day}"
    for (centre_id, chair), held in by_chair.items():
        held.sort(key=lambda a: a.start_at)
        for first, second in itertools.pairwise(held):
            assert first.end_at <= second.start_at, f"{centre_id} chair {chair} holds two patients at once"
    assert not [i for i, o in orders.items() if o.status == "cancelled" and i in doses], (
        "a cancelled order holds a dose"
    )
    assert all(n == 1 for _, n in live), "a patient with two live orders"


@pytest.mark.parametrize("names", PAIRS, ids=["+".join(p) for p in PAIRS])
def test_two_changes_of_one_order_at_once_serialise(
    races: Clinic, own_platform: Platform, names: tuple[str, str]
) -> None:
    order = _proposed_order(races)
    replies = _at_once(races, order, names)
    for name, reply in zip(names, replies, strict=True):
        assert reply.status_code in (200, 409), f"{name}: {reply.status_code} {reply.text}"
    if "cancel" in names:
        assert races.call("GET", f"/orders/{order['id']}", "coord-leeds")["status"] == "cancelled"
    assert_counters_match_the_orders(own_platform)


def _cancelled(c: Clinic, order: dict[str, Any]) -> None:
    c.call("POST", f"/orders/{order['id']}/cancellation", "coord-leeds", json={"reason": "patient unwell"})


def _failed(c: Clinic, order: dict[str, Any]) -> None:
    c.deliver(order, until="start_production")  # the clock reaches the batch's start
    c.call(
        "POST", f"/orders/{order['id']}/progress", "maker", json={"step": "fail_qc", "reason": "sterility"}
    )


def _missed(c: Clinic, order: dict[str, Any]) -> None:
    c.deliver(order, until="ship")
    body = {"step": "miss", "reason": "the patient did not come"}
    c.call("POST", f"/orders/{order['id']}/progress", "coord-leeds", json=body)


@pytest.mark.parametrize("finish", [_cancelled, _failed, _missed], ids=["cancelled", "failed", "missed"])
def test_a_finished_order_is_not_revived_by_an_adjustment(
    races: Clinic, own_platform: Platform, finish: Callable[[Clinic, dict[str, Any]], None]
) -> None:
    order = races.order(races.approve("leeds", "Pluvicto"))
    finish(races, order)
    before = races.call("GET", f"/orders/{order['id']}", "coord-leeds")
    assert before["status"] not in LIVE
    for path, user, body in (
        ("adjustment", "coord-leeds", {"preferred_at": _at(order, 2)}),
        ("confirmation", "maker", None),
        ("proposal", "maker", {"proposed_at": _at(order, 2)}),
    ):
        refused = _post(races, f"/orders/{order['id']}/{path}", user, body)
        assert refused.status_code == 409, f"{path}: {refused.status_code} {refused.text}"
        detail = refused.json()["detail"]
        assert f"order {order['id']} is {before['status']}" in detail, detail
        assert "only a requested or confirmed order can" in detail or "only a requested order" in detail
    after = races.call("GET", f"/orders/{order['id']}", "coord-leeds")
    assert after == before, "a refused change changed the order"
    assert_counters_match_the_orders(own_platform)
