"""Whole courses on the service clock, each step clicked by the role that owns it.

The service runs on a clock the test advances (never on events dated ahead of it):
a Pluvicto patient goes through all six cycles, follow-up and completion, and a
Lutathera patient through four. The coordinator refers and orders, the physician
decides at MDT, records each administration and follow-up, the manufacturer
confirms, makes, releases (with the measured activity and lot), ships (courier
and tracking) and delivers each dose, each when the clock reaches its planned
time. On the way the manufacturer tries to start production before the batch
starts, the physician tries to record an administration in the future (both are
refused with what to do), and a mistyped administration time is corrected from
the timeline. Three browser windows stay logged in, one per role, and log in
again only when the clock has passed their token's week.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from clinic import Clinic
from playwright.sync_api import Browser, Page, expect
from screen import Screen

from rltnet.files.catalogue_file import default_catalogue

CATALOGUE = default_catalogue()
PLUVICTO = CATALOGUE.therapy("Pluvicto")
LUTATHERA = CATALOGUE.therapy("Lutathera")
LEEDS = ZoneInfo("Europe/London")


class Desk:
    """One role's browser window, logged in; it logs in again when its token has expired."""

    def __init__(self, browser: Browser, base_url: str, username: str) -> None:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        context.set_default_timeout(20_000)
        self.screen = Screen(context.new_page(), base_url, f"courses-{username}")
        self.username = username
        self.screen.login(username)

    @property
    def page(self) -> Page:
        return self.screen.page

    def open(self, path: str) -> Page:
        self.screen.open(path)
        if re.search(r"/login(\?|$)", self.page.url):
            self.screen.login(self.username)
            self.screen.open(path)
        return self.page

    def said(self, words: str) -> None:
        expect(self.page.get_by_role("status")).to_contain_text(words)

    def refused(self, words: str) -> None:
        expect(self.page.get_by_role("alert")).to_contain_text(words)


class Course:
    """Walks one patient's course through the three desks, moving the clock between steps."""

    def __init__(self, desks: dict[str, Desk], api: Clinic, product: Any) -> None:
        self.coordinator, self.physician, self.maker = desks["coord"], desks["doc"], desks["maker"]
        self.api = api
        self.product = product
        self.patient = ""

    def refer_and_approve(self, name: str, indication: str) -> None:
        page = self.coordinator.open("/patients/new")
        page.get_by_label("Therapy").select_option(self.product.product_id)
        page.get_by_label("Indication").fill(indication)
        page.get_by_label("Name").fill(name)
        page.get_by_label("Date of birth").fill("1951-06-01")
        page.get_by_label("Hospital number").fill(f"LTH-{name[:3].upper()}")
        page.get_by_role("button", name="Refer").click()
        expect(page).to_have_url(re.compile(r"/patients/P-[0-9A-F]+$"))
        self.patient = page.url.rsplit("/", 1)[1]
        page.get_by_role("button", name="Request imaging").click()
        self.coordinator.said("requested")
        page.get_by_role("region", name="Record the imaging result").get_by_label("Result").select_option(
            "positive"
        )
        page.get_by_role("button", name="Record result").click()
        self.coordinator.said("Imaging recorded as positive")
        self.api.advance(timedelta(days=2))  # the MDT meets
        page = self.physician.open(f"/patients/{self.patient}")
        page.get_by_role("region", name="MDT decision").get_by_label("approve").check()
        page.get_by_role("button", name="Record decision").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("MDT approved")

    def order(self) -> dict[str, Any]:
        page = self.coordinator.open(f"/patients/{self.patient}/order")
        page.get_by_role("button", name="Place the order").click()
        expect(page).to_have_url(re.compile(r"/orders/O-[0-9A-F]+$"))
        order: dict[str, Any] = self.api.call("GET", f"/orders/{page.url.rsplit('/', 1)[1]}", "coord-leeds")
        assert order["placement"] is not None, order["plan_note"]
        return order

    def at(self, order: dict[str, Any], planned: str) -> datetime:
        """Let the clock reach the step's planned time."""
        return self.api.advance_to(datetime.fromisoformat(order["placement"][planned]))

    def make_and_deliver(self, order: dict[str, Any], *, try_too_early: bool = False) -> None:
        journey = f"/orders/{order['id']}"
        page = self.maker.open(journey)
        page.get_by_role("button", name="Confirm the order").click()
        self.maker.said("confirmed")
        if try_too_early:  # the batch has not started: refused, and told when it may
            page.get_by_role("button", name="Start production").click()
            self.maker.refused("before batch")
            self.maker.refused("record it once the batch has started")
        self.at(order, "calibration_at")
        page = self.maker.open(journey)  # each form says "now" as the clock stands
        page.get_by_role("button", name="Start production").click()
        self.maker.said("Production started")
        released = self.at(order, "released_at")
        page = self.maker.open(journey)
        page.get_by_label(re.compile("^Activity measured")).fill(str(self.api.expected_gbq(order, released)))
        page.get_by_label("Lot").fill(f"LOT-{order['id'][-4:]}")
        page.get_by_role("button", name="Release after QC").click()
        self.maker.said("Dose released")
        self.at(order, "departs_at")
        page = self.maker.open(journey)
        page.get_by_label("Courier").fill("Movianto")
        page.get_by_label("Tracking reference").fill(f"MV-{order['id'][-6:]}")
        page.get_by_role("button", name="Ship", exact=True).click()
        self.maker.said("Dose shipped")
        self.at(order, "arrives_at")
        page = self.maker.open(journey)
        page.get_by_role("button", name="Record delivery").click()
        self.maker.said("Delivery recorded")

    def administer(self, order: dict[str, Any], *, typed: datetime | None = None) -> None:
        """The physician records the dose given now (or at the `typed` time), then follow-up a
        day later."""
        given = self.at(order, "administration_at")
        page = self.physician.open(f"/patients/{self.patient}")
        if typed is not None:
            page.get_by_label(re.compile("^Given at")).fill(_local(typed))
        page.get_by_label("Activity assayed before (GBq)").fill(str(self.api.expected_gbq(order, given)))
        page.get_by_label("Activity left after (GBq)").fill("0.08")
        page.get_by_role("button", name="Record administration").click()
        self.physician.said(f"Administration of order {order['id']} recorded")
        self.api.advance(timedelta(days=1))
        page = self.physician.open(f"/patients/{self.patient}")
        page.get_by_role("button", name="Record follow-up").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Follow up")

    def cycle(self, **tries: Any) -> dict[str, Any]:
        order = self.order()
        self.make_and_deliver(order, try_too_early=tries.get("too_early", False))
        self.administer(order, typed=tries.get("typed"))
        return order


def _local(instant: datetime) -> str:
    """As a datetime-local field of a Leeds page takes it."""
    return instant.astimezone(LEEDS).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture(scope="module")
def desks(browser: Browser, base_url: str) -> dict[str, Desk]:
    return {
        "coord": Desk(browser, base_url, "coord-leeds"),
        "doc": Desk(browser, base_url, "doc-leeds"),
        "maker": Desk(browser, base_url, "maker"),
    }


def test_a_pluvicto_patient_goes_through_six_cycles_on_the_clock(
    desks: dict[str, Desk], api_clinic: Clinic
) -> None:
    course = Course(desks, api_clinic, PLUVICTO)
    course.refer_and_approve("Arthur Sixcycles", "mCRPC")
    first = course.order()
    course.make_and_deliver(first, try_too_early=True)
    given = course.at(first, "administration_at")
    page = desks["doc"].open(f"/patients/{course.patient}")
    page.get_by_label(re.compile("^Given at")).fill(_local(given + timedelta(hours=2)))
    page.get_by_label("Activity assayed before (GBq)").fill("7.4")
    page.get_by_role("button", name="Record administration").click()
    desks["doc"].refused("is in the future")
    desks["doc"].refused("once it has happened")
    course.administer(first)
    for _ in range(2, 7):
        course.cycle()
    page = desks["doc"].open(f"/patients/{course.patient}")
    expect(page.get_by_text("6 of 6 given")).to_be_visible()
    page.get_by_role("button", name="Complete").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Completed")
    patient = api_clinic.call("GET", f"/patients/{course.patient}", "coord-leeds")
    assert patient["cycles_given"] == 6 and patient["waiting_hours"] >= 0
    moves = [e["move"] for e in api_clinic.call("GET", f"/patients/{course.patient}/events", "coord-leeds")]
    assert moves.count("administer") == 6 and moves.count("start_follow_up") == 6 and moves[-1] == "complete"
    course.physician.screen.shot("pluvicto-completed")


def test_a_lutathera_patient_goes_through_four_cycles_with_a_mistyped_time_corrected(
    desks: dict[str, Desk], api_clinic: Clinic
) -> None:
    course = Course(desks, api_clinic, LUTATHERA)
    course.refer_and_approve("Beatrice Fourcycles", "GEP-NET")
    first = course.order()
    course.make_and_deliver(first)
    planned = datetime.fromisoformat(first["placement"]["administration_at"])
    course.administer(first, typed=planned - timedelta(minutes=10))  # a slip of the keyboard
    events = api_clinic.call("GET", f"/patients/{course.patient}/events", "doc-leeds")
    wrong = next(e for e in events if e["move"] == "administer")
    assert datetime.fromisoformat(wrong["at"]) == planned - timedelta(minutes=10)
    page = desks["doc"].open(f"/patients/{course.patient}")
    entry = page.locator(f"#entry-{wrong['seq']}")
    entry.get_by_text(f"Correct entry {wrong['seq']}").click()
    entry.get_by_label(re.compile("^The right time")).fill(_local(planned))
    entry.get_by_label("Why the entry was wrong").fill("time mistyped: given at the planned time")
    entry.get_by_role("button", name="Correct the time").click()
    desks["doc"].said(f"Entry {wrong['seq']} corrected")
    expect(page.locator(f"#entry-{wrong['seq']}")).to_contain_text("corrected by entry")
    course.physician.screen.shot("lutathera-corrected")
    recorded = api_clinic.call("GET", f"/orders/{first['id']}", "doc-leeds")["recorded"]
    assert datetime.fromisoformat(recorded["administered_at"]) == planned
    for _ in range(2, 5):
        course.cycle()
    page = desks["coord"].open(f"/patients/{course.patient}")
    expect(page.get_by_text("4 of 4 given")).to_be_visible()
    page.get_by_role("button", name="Complete").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Completed")
