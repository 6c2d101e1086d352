"""The manufacturer declares a reactor outage in the browser, previews what moves, commits it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from clinic import Clinic
from playwright.sync_api import expect
from screen import Screen

LONDON = ZoneInfo("Europe/London")  # the England network's zone, in which the pages take times


def _local(at: datetime) -> str:
    return at.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


def test_a_reactor_outage_moves_the_orders_it_touches(screen: Screen, api_clinic: Clinic) -> None:
    orders = [api_clinic.order(api_clinic.approve("leeds")) for _ in range(2)]
    batches = {o["id"]: o["placement"]["batch_id"] for o in orders}
    assert all(batches.values()), orders
    last_batch = max(datetime.fromisoformat(o["placement"]["calibration_at"]) for o in orders)

    page = screen.page
    screen.login("maker")
    page.get_by_role("link", name="Disruptions").click()
    outage = page.get_by_role("region", name="Reactor outage")
    for box in outage.get_by_role("checkbox").all():  # every Lu-177 reactor: no isotope at all
        box.check()
    # from weeks back: the isotope already delivered to the sites is lost with it (a recall)
    outage.get_by_label("Start").fill(_local(datetime.now(UTC) - timedelta(days=60)))
    outage.get_by_label("End").fill(_local(last_batch + timedelta(days=2)))
    outage.get_by_label("Reason").fill("unplanned shutdown of every reactor")
    outage.get_by_role("button", name="Preview re-plan").click()

    preview = page.get_by_role("region", name="Preview of the re-plan")
    screen.shot("outage-preview")
    for order_id in batches:
        expect(preview.get_by_role("row").filter(has_text=order_id)).to_have_count(1)
    expect(preview).to_contain_text("Centres affected")
    unchanged = api_clinic.call("GET", f"/orders/{orders[0]['id']}", "maker")
    assert unchanged["placement"]["batch_id"] == batches[orders[0]["id"]]  # a preview stores nothing

    preview.get_by_role("button", name=re.compile("^Commit")).click()
    expect(page.get_by_role("status")).to_contain_text("Disruption stored. 2 orders changed (2 moved)")
    screen.shot("outage-committed")
    for order_id, batch in batches.items():
        after = api_clinic.call("GET", f"/orders/{order_id}", "maker")
        moved_to = after["placement"]["batch_id"] if after["placement"] else None
        assert moved_to != batch, (order_id, after)
        if moved_to is not None:
            assert datetime.fromisoformat(after["placement"]["calibration_at"]) > last_batch
