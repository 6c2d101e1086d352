"""The disruption console: a preview lists what a re-plan changes and writes nothing; a commit
stores the disruption and moves the orders; bad declarations are refused, saying why.

A committed outage shapes every later placement, so these tests run on a workspace of
their own, not the shared one the other page tests place orders in.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from clinic import USERS, Clinic, bearer_headers, start_with_users
from desk import Desk, log_in, text_of
from fastapi.testclient import TestClient

from rltnet.service.app import create_app
from rltnet.service.settings import Settings

LONDON = ZoneInfo("Europe/London")  # the england network's zone: the console's clock
LU177_REACTORS = ["hfr-petten", "br2-mol", "maria-swierk", "lvr-15-rez"]  # every supplier of both sites


@dataclass
class Workspace:
    desks: dict[str, Desk]
    clinic: Clinic


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    folder: Path = tmp_path_factory.mktemp("disruptions")
    settings = Settings(database_url=f"sqlite:///{folder / 'rltnet.sqlite'}", network="england")
    platform = start_with_users(settings)
    desks = {username: log_in(platform, username) for username in USERS}
    api = TestClient(create_app(settings, platform))
    auth = bearer_headers(api)
    yield Workspace(desks, Clinic(api, auth))
    platform.close()


def _local(at: datetime) -> str:
    return at.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


def _outage_end(order: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(order["earliest_at"]) + timedelta(days=7)


def _outage(order: dict[str, Any]) -> dict[str, Any]:
    """Every reactor out from well before now until a week into the order's window."""
    start, end = _local(datetime.now(UTC) - timedelta(days=60)), _local(_outage_end(order))
    return {"kind": "reactor_outage", "reactors": LU177_REACTORS, "start": start, "end": end}


def _declared(clinic: Clinic) -> int:
    total: int = clinic.call("GET", "/disruptions", "maker")["total"]
    return total


def test_an_outage_is_described_on_the_console_clock_and_keeps_the_isotope_in_stock(own: Workspace) -> None:
    """An outage stops deliveries from when it is declared: the isotope the sites already hold
    still makes the doses planned on it (docs/plan-format.md, the isotope model)."""
    order = own.clinic.order(own.clinic.approve("leeds"))
    maker = own.desks["maker"]
    preview = maker.post("/disruptions/preview", _outage(order), referer="/disruptions")
    assert preview.status_code == 200
    shown = text_of(preview.text)
    assert "Preview of the re-plan" in shown and "reactor hfr-petten out from" in shown
    end = datetime.fromisoformat(_local(_outage_end(order))).strftime("%a %d %b %Y %H:%M")
    assert re.search(rf"reactor hfr-petten out from \w{{3}} .* to {end} (GMT|BST)", shown), shown[:600]
    assert order["id"] not in shown and "No order has to change" in shown
    assert _declared(own.clinic) == 0


def test_a_batch_failure_preview_changes_nothing_and_its_commit_moves_the_orders(own: Workspace) -> None:
    order = own.clinic.order(own.clinic.approve("leeds"))
    before = order["placement"]
    assert before is not None
    declared = _declared(own.clinic)
    maker = own.desks["maker"]
    failure = {"kind": "batch_failed", "batch": before["batch_id"], "reason": "sterility test failed"}
    preview = maker.post("/disruptions/preview", failure, referer="/disruptions")
    assert preview.status_code == 200
    shown = text_of(preview.text)
    assert "Preview of the re-plan" in shown and f"batch {before['batch_id']} failed QC" in shown
    assert order["id"] in shown and order["patient_id"] in shown
    assert re.search(r"\d+ orders? changes?", shown) and "Centres affected (1): leeds" in shown
    assert own.clinic.call("GET", f"/orders/{order['id']}", "maker")["placement"] == before
    assert _declared(own.clinic) == declared

    carried = re.search(r'name="events" value="([^"]*)"', preview.text)
    assert carried is not None
    done = maker.post("/disruptions/commit", {"events": html.unescape(carried.group(1))}, "/disruptions")
    assert done.status_code == 303 and done.headers["location"] == "/disruptions"
    after = own.clinic.call("GET", f"/orders/{order['id']}", "coord-leeds")["placement"]
    assert after is None or after["batch_id"] != before["batch_id"]
    console = text_of(maker.page("/disruptions"))
    assert "Disruption stored." in console and "changed" in console
    assert f"batch {before['batch_id']} failed QC" in console and _declared(own.clinic) == declared + 1


def test_bad_declarations_are_refused_with_the_reason_and_store_nothing(own: Workspace) -> None:
    admin = own.desks["admin"]  # administrators may declare too
    declared = _declared(own.clinic)
    backwards = {
        "kind": "lane",
        "lane": "ivrea-leeds",
        "start": "2027-01-14T08:00",
        "end": "2027-01-13T08:00",
    }
    cases = [
        (backwards, "'end' must be after 'start'"),
        ({**backwards, "lane": "ivrea-nowhere", "end": "2027-01-15T08:00"}, "unknown lane 'ivrea-nowhere'"),
        (
            {"kind": "reactor_outage", "start": "2027-01-14T08:00", "end": "2027-01-15T08:00"},
            "choose at least",
        ),
        ({**backwards, "end": "2027-01-15T08:00", "lane_change": "delayed"}, "enter the delay in hours"),
        ({"kind": "centre_closed", "centre": "leeds", "day": "2027-02-30"}, "date: "),
        ({"kind": "batch_failed", "batch": ""}, "enter the id of the batch"),
    ]
    for form, reason in cases:
        refused = admin.post("/disruptions/preview", form, referer="/disruptions")
        assert refused.status_code == 303 and refused.headers["location"] == "/disruptions", form
        assert reason in html.unescape(admin.page("/disruptions")), form
    damaged = admin.post("/disruptions/commit", {"events": "[{"}, referer="/disruptions")
    assert damaged.status_code == 303
    assert "damaged on the way; preview it again" in admin.page("/disruptions")
    assert _declared(own.clinic) == declared


def test_a_closed_centre_with_no_one_booked_previews_no_change(own: Workspace) -> None:
    preview = own.desks["admin"].post(
        "/disruptions/preview",
        {"kind": "centre_closed", "centre": "liverpool", "day": "2027-03-03"},
        "/disruptions",
    )
    assert preview.status_code == 200
    shown = text_of(preview.text)
    assert "centre liverpool closed on 2027-03-03" in shown and "No order has to change" in shown


def test_the_console_is_for_the_manufacturer_and_administrators(own: Workspace) -> None:
    for user in ("coord-leeds", "doc-london", "analyst"):
        response = own.desks[user].get("/disruptions")
        assert response.status_code == 403, user
        assert "this page is for: manufacturer, admin" in response.text
    form = {"kind": "centre_closed", "centre": "leeds", "day": "2027-03-03"}
    refused = own.desks["coord-leeds"].post("/disruptions/preview", form, referer="/board")
    assert refused.status_code == 303 and refused.headers["location"] == "/board"
    assert "this is done by: manufacturer, admin" in own.desks["coord-leeds"].page("/board")
