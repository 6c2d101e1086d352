"""The manufacturer declares a disruption in the browser, previews what moves, commits it."""

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


def test_a_failed_batch_moves_the_orders_it_touches(screen: Screen, api_clinic: Clinic) -> None:
    orders = [api_clinic.order(api_clinic.approve("leeds")) for _ in range(2)]
    batches = {o["id"]: o["placement"]["batch_id"] for o in orders}
    assert all(batches.values()), orders
    failed = batches[orders[0]["id"]]
    touched = sorted(order_id for order_id, batch in batches.items() if batch == failed)

    page = screen.page
    screen.login("maker")
    page.get_by_role("link", name="Disruptions").click()
    form = page.get_by_role("region", name="Batch failure")
    form.get_by_label("Batch id").fill(failed)
    form.get_by_label("Reason").fill("QC: sterility test failed")
    form.get_by_role("button", name="Preview re-plan").click()

    preview = page.get_by_role("region", name="Preview of the re-plan")
    screen.shot("batch-failure-preview")
    for order_id in touched:
        expect(preview.get_by_role("row").filter(has_text=order_id)).to_have_count(1)
    expect(preview).to_contain_text("Centres affected")
    unchanged = api_clinic.call("GET", f"/orders/{orders[0]['id']}", "maker")
    assert unchanged["placement"]["batch_id"] == failed  # a preview stores nothing

    preview.get_by_role("button", name=re.compile("^Commit")).click()
    expect(page.get_by_role("status")).to_contain_text("Disruption stored.")
    screen.shot("batch-failure-committed")
    for order_id in touched:
        after = api_clinic.call("GET", f"/orders/{order_id}", "maker")
        moved_to = after["placement"]["batch_id"] if after["placement"] else None
        assert moved_to != failed, (order_id, after)


def test_an_outage_keeps_the_isotope_already_delivered(screen: Screen, api_clinic: Clinic) -> None:
    """An outage stops deliveries from when it is declared: what the sites hold is still there.

    Before re-planning took this rule (docs/plan-format.md, the isotope model), the same
    outage recalled the isotope already delivered and moved every order.
    """
    order = api_clinic.order(api_clinic.approve("leeds"))
    calibration = datetime.fromisoformat(order["placement"]["calibration_at"])

    page = screen.page
    screen.login("maker")
    page.get_by_role("link", name="Disruptions").click()
    outage = page.get_by_role("region", name="Reactor outage")
    for box in outage.get_by_role("checkbox").all():  # every Lu-177 reactor, from weeks back
        box.check()
    outage.get_by_label("Start").fill(_local(datetime.now(UTC) - timedelta(days=60)))
    outage.get_by_label("End").fill(_local(calibration + timedelta(days=2)))
    outage.get_by_label("Reason").fill("unplanned shutdown")
    outage.get_by_role("button", name="Preview re-plan").click()

    preview = page.get_by_role("region", name="Preview of the re-plan")
    screen.shot("outage-preview")
    expect(preview.get_by_role("row").filter(has_text=order["id"])).to_have_count(0)
    after = api_clinic.call("GET", f"/orders/{order['id']}", "maker")
    assert after["placement"]["batch_id"] == order["placement"]["batch_id"]
