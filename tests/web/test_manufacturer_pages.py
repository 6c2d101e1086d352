"""The manufacturer's queue: orders awaiting confirmation, confirming them, proposing another
date that the centre accepts, and the coming batches' loads."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from clinic import Clinic
from desk import Desk, text_of
from jinja2 import Environment, PackageLoader, select_autoescape

from rltnet.service.platform import Platform
from rltnet.service.schemas import OrderPublic
from rltnet.service.security import Principal, Role
from rltnet.store import tables
from rltnet.web import render

LONDON = ZoneInfo("Europe/London")  # the england network's centres' zone


def _ordered(clinic: Clinic, centre: str = "leeds") -> dict[str, Any]:
    order = clinic.order(clinic.approve(centre), centre)
    assert order["placement"] is not None, order
    return order


def _row(html: str, order_id: str) -> str | None:
    """The queue row of an order, as a reader sees it, or None when it is not listed."""
    found = re.search(rf'<tr id="order-{order_id}">(.*?)</tr>', html, re.S)
    return text_of(found.group(1)) if found else None


def _local(instant: str) -> str:
    """An API instant as a datetime-local value on the centre's clock."""
    return datetime.fromisoformat(instant).astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


def test_a_new_order_waits_in_the_queue_until_it_is_confirmed(
    desks: dict[str, Desk], web_clinic: Clinic
) -> None:
    order = _ordered(web_clinic)
    maker = desks["maker"]
    queue = maker.page("/queue")
    row = _row(queue, order["id"])
    assert row is not None
    assert order["patient_id"] in row and "Pluvicto, cycle 1" in row and "Leeds RLT centre" in row
    assert re.search(r"\d+ min", row) and "overdue" not in row  # just placed: minutes, on time
    assert f"batch {order['placement']['batch_id']}" in row
    batches = text_of(queue.split('id="batches"', 1)[1])
    assert re.search(rf"{order['placement']['batch_id']} .*? \d+ / 120", batches)

    confirmed = maker.post(f"/queue/{order['id']}/confirm", {}, referer="/queue")
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/queue"
    after = maker.page("/queue")
    assert f"Order {order['id']} (patient {order['patient_id']}) confirmed" in after
    assert _row(after, order["id"]) is None
    patient = web_clinic.call("GET", f"/patients/{order['patient_id']}", "coord-leeds")
    assert patient["stage"] == "confirmed"


def test_an_order_waiting_over_a_day_is_marked_overdue(
    desks: dict[str, Desk], web_clinic: Clinic, web_platform: Platform
) -> None:
    old, new = _ordered(web_clinic), _ordered(web_clinic, "london")
    with web_platform.sessions() as session:
        row = session.get(tables.Order, old["id"])
        assert row is not None
        row.placed_at = datetime.now(UTC) - timedelta(hours=30)
        session.commit()
    queue = desks["maker"].page("/queue")
    aged, fresh = _row(queue, old["id"]), _row(queue, new["id"])
    assert aged is not None and fresh is not None
    assert "30 h overdue" in aged and "overdue" not in fresh
    assert queue.index(f'id="order-{old["id"]}"') < queue.index(f'id="order-{new["id"]}"')  # longest first


def test_a_proposed_date_is_accepted_by_the_centre_and_moves_the_order(
    desks: dict[str, Desk], web_clinic: Clinic
) -> None:
    order = _ordered(web_clinic)
    maker, coordinator = desks["maker"], desks["coord-leeds"]
    proposed = datetime.fromisoformat(order["earliest_at"]).astimezone(LONDON) + timedelta(days=7)
    wall_clock = proposed.replace(hour=9, minute=0, second=0, microsecond=0)
    form = {"proposed_at": wall_clock.strftime("%Y-%m-%dT%H:%M"), "note": "the 9th is full"}
    answer = maker.post(f"/queue/{order['id']}/propose", form, referer="/queue")
    assert answer.status_code == 303
    queue = maker.page("/queue")
    assert "Proposed " in queue and "it stays as it is until the centre" in queue
    row = _row(queue, order["id"])
    assert row is not None and "proposed" in row and "the 9th is full" in row
    pending = web_clinic.call("GET", f"/orders/{order['id']}", "coord-leeds")
    assert datetime.fromisoformat(pending["proposed_at"]) == wall_clock
    assert pending["preferred_at"] == order["preferred_at"]  # nothing moves before the centre agrees
    journey = coordinator.page(f"/orders/{order['id']}")  # the dose journey page holds proposal.html
    assert "Another date proposed" in journey and "Accept proposed date" in journey
    assert "Accept proposed date" not in maker.page(f"/orders/{order['id']}")

    accepted = coordinator.post(f"/orders/{order['id']}/proposal/accept", {})
    assert accepted.status_code == 303 and accepted.headers["location"] == f"/orders/{order['id']}"
    moved = web_clinic.call("GET", f"/orders/{order['id']}", "coord-leeds")
    assert datetime.fromisoformat(moved["preferred_at"]) == wall_clock
    assert moved["proposed_at"] is None and moved["status"] == "requested"


def test_a_proposal_outside_the_window_is_refused_with_the_window(
    desks: dict[str, Desk], web_clinic: Clinic
) -> None:
    order = _ordered(web_clinic)
    late = datetime.fromisoformat(order["latest_at"]) + timedelta(days=2)
    maker = desks["maker"]
    refused = maker.post(f"/queue/{order['id']}/propose", {"proposed_at": _local(late.isoformat())}, "/queue")
    assert refused.status_code == 303 and refused.headers["location"] == "/queue"
    told = text_of(maker.page("/queue"))
    assert f"outside the window of order {order['id']}" in told and "propose a time inside it" in told
    empty = maker.post(f"/queue/{order['id']}/propose", {"proposed_at": ""}, "/queue")
    assert empty.status_code == 303
    assert "enter the date and time to propose" in maker.page("/queue")
    assert web_clinic.call("GET", f"/orders/{order['id']}", "maker")["proposed_at"] is None


def test_the_proposal_partial_offers_acceptance_to_the_centres_coordinator_only(web_clinic: Clinic) -> None:
    order = _ordered(web_clinic)
    body = {"proposed_at": (datetime.fromisoformat(order["earliest_at"]) + timedelta(days=3)).isoformat()}
    proposed = web_clinic.call("POST", f"/orders/{order['id']}/proposal", "maker", json=body)
    templates = Environment(loader=PackageLoader("rltnet.web", "templates"), autoescape=select_autoescape())
    partial = templates.get_template("proposal.html")

    shown = OrderPublic.model_validate(proposed)

    def shown_to(role: Role, centre: str | None) -> str:
        who = Principal(0, "someone", role, centre)
        return partial.render(order=shown, csrf="token", who=who, when=lambda at: render.when(at, LONDON))

    own = shown_to(Role.COORDINATOR, "leeds")
    assert f'action="/orders/{order["id"]}/proposal/accept"' in own and 'value="token"' in own
    assert "Accept proposed date" in own and render.when(shown.proposed_at, LONDON) in own
    for role, centre in ((Role.COORDINATOR, "london"), (Role.MANUFACTURER, None), (Role.PHYSICIAN, "leeds")):
        other = shown_to(role, centre)
        assert "Another date proposed" in other and "<form" not in other, (role, centre)


def test_the_administrator_sees_the_queue_without_actions(desks: dict[str, Desk], web_clinic: Clinic) -> None:
    order = _ordered(web_clinic)
    queue = desks["admin"].page("/queue")
    assert _row(queue, order["id"]) is not None
    assert "/confirm" not in queue and "Propose date" not in queue and "read-only" in queue


def test_centres_and_analysts_may_not_use_the_queue(desks: dict[str, Desk], web_clinic: Clinic) -> None:
    order = _ordered(web_clinic)
    for user in ("coord-leeds", "doc-london", "analyst"):
        response = desks[user].get("/queue")
        assert response.status_code == 403, user
        assert "this page is for: manufacturer, admin" in response.text
    refused = desks["coord-leeds"].post(f"/queue/{order['id']}/confirm", {}, referer="/board")
    assert refused.status_code == 303 and refused.headers["location"] == "/board"
    assert "this is done by: manufacturer" in desks["coord-leeds"].page("/board")
    assert web_clinic.call("GET", f"/orders/{order['id']}", "maker")["status"] == "requested"
