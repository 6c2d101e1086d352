"""A patient's first cycle, clicked through by each role in a real browser.

The coordinator refers the patient and records a positive PSMA PET, the physician
approves at MDT, the coordinator orders cycle 1 with the live dose-window check,
the manufacturer confirms it from the queue, the dose is produced, released,
shipped and delivered, the physician records the administration, and the
timeline shows every step. A screenshot of each page is saved.
"""

from __future__ import annotations

import re
from datetime import datetime

from clinic import Clinic
from playwright.sync_api import expect
from screen import Screen

from rltnet.files.catalogue_file import default_catalogue

PLUVICTO = default_catalogue().therapy("Pluvicto").product_id
MOVES = (
    "refer",
    "request imaging",
    "record positive",
    "approve",
    "plan cycle",
    "order",
    "confirm",
    "start production",
    "release",
    "ship",
    "deliver",
    "administer",
)


def _log_out(screen: Screen) -> None:
    screen.page.get_by_role("button", name="Log out").click()
    expect(screen.page).to_have_url(re.compile(r"/login$"))


def _flash(screen: Screen, words: str) -> None:
    expect(screen.page.get_by_role("status")).to_contain_text(words)


def test_a_patient_goes_from_referral_to_infusion(screen: Screen, api_clinic: Clinic) -> None:
    page = screen.page
    screen.login("coord-leeds")
    page.get_by_role("link", name="Refer a patient").click()
    page.get_by_label("Therapy").select_option(PLUVICTO)
    page.get_by_label("Indication").fill("mCRPC")
    page.get_by_label("Name").fill("Alan Example")
    page.get_by_label("Date of birth").fill("1952-03-14")
    page.get_by_label("Hospital number").fill("LTH-0042")
    screen.shot("referral")
    page.get_by_role("button", name="Refer").click()
    expect(page).to_have_url(re.compile(r"/patients/P-[0-9A-F]+$"))
    patient = page.url.rsplit("/", 1)[1]
    expect(page.get_by_text("Alan Example")).to_be_visible()

    page.get_by_role("button", name="Request imaging").click()
    page.get_by_role("region", name="Record the imaging result").get_by_label("Result").select_option(
        "positive"
    )
    page.get_by_role("button", name="Record result").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "imaged positive".replace("imaged", "Imaged")
    )
    screen.shot("imaged-positive")
    _log_out(screen)

    screen.login("doc-leeds")
    page.get_by_role("link", name=patient).click()
    mdt = page.get_by_role("region", name="MDT decision")
    mdt.get_by_label("approve").check()
    mdt.get_by_label("Reason").fill("PSMA-positive; meets the label's criteria")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("MDT approved")
    screen.shot("mdt-approved")
    _log_out(screen)

    screen.login("coord-leeds")
    screen.open(f"/patients/{patient}")
    page.get_by_role("link", name="Open the order form").click()
    preferred = page.get_by_label(re.compile("Preferred infusion time"))
    preferred.fill(preferred.input_value())  # typing sets off the live check
    check = page.locator("#order-check .check-result")
    expect(check).to_contain_text(re.compile("can work|cannot work"))
    if "cannot work" in check.inner_text():
        page.get_by_role("link", name=re.compile("^Use ")).first.click()
        expect(check).to_contain_text("can work")
    expect(page.locator("#order-check")).to_contain_text("inside the tolerance band")
    screen.shot("order-form-checked")
    page.get_by_role("button", name="Place the order").click()
    expect(page).to_have_url(re.compile(r"/orders/O-[0-9A-F]+$"))
    order = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("img", name=re.compile("^Dose activity"))).to_be_visible()
    screen.shot("journey-requested")
    _log_out(screen)

    screen.login("maker")
    expect(page).to_have_url(re.compile(r"/queue$"))
    row = page.get_by_role("row").filter(has_text=order)
    expect(row).to_contain_text("0 min")  # how long it has waited for confirmation
    screen.shot("queue")
    row.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("row").filter(has_text=order)).to_have_count(0)
    placed = api_clinic.call("GET", f"/orders/{order}", "maker")
    for step, planned, said in (
        ("Start production", "calibration_at", "Production started"),
        ("Release after QC", "released_at", "Dose released"),
        ("Ship", "departs_at", "Dose shipped"),
        ("Record delivery", "arrives_at", "Delivery recorded"),
    ):
        at = api_clinic.advance_to(datetime.fromisoformat(placed["placement"][planned]))  # time passes
        screen.open(f"/orders/{order}")
        if page.url.endswith("/login") or "/login?" in page.url:  # the week-long login has lapsed
            screen.login("maker")
            screen.open(f"/orders/{order}")
        if step == "Release after QC":
            page.get_by_label(re.compile("^Activity measured")).fill(str(api_clinic.expected_gbq(placed, at)))
            page.get_by_label("Lot").fill("LOT-0042")
        if step == "Ship":
            page.get_by_label("Courier").fill("Movianto")
            page.get_by_label("Tracking reference").fill("MV-0042")
        page.get_by_role("button", name=step, exact=True).click()
        _flash(screen, said)
    screen.shot("journey-delivered")
    _log_out(screen)

    given = api_clinic.advance_to(datetime.fromisoformat(placed["placement"]["administration_at"]))
    screen.login("doc-leeds")
    screen.open(f"/patients/{patient}")
    page.get_by_label("Activity assayed before (GBq)").fill(str(api_clinic.expected_gbq(placed, given)))
    page.get_by_role("button", name="Record administration").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Administered")
    _log_out(screen)

    screen.login("coord-leeds")
    screen.open(f"/patients/{patient}")
    events = page.locator("ol.timeline > li strong")
    expect(events).to_have_text(list(MOVES))
    screen.shot("timeline")


def test_a_coordinator_cannot_open_another_centres_patient_by_url(screen: Screen) -> None:
    page = screen.page
    screen.login("coord-leeds")
    page.get_by_role("link", name="Refer a patient").click()
    page.get_by_label("Therapy").select_option(PLUVICTO)
    page.get_by_label("Indication").fill("mCRPC")
    page.get_by_label("Name").fill("Private Person")
    page.get_by_label("Date of birth").fill("1949-11-02")
    page.get_by_label("Hospital number").fill("LTH-0099")
    page.get_by_role("button", name="Refer").click()
    expect(page).to_have_url(re.compile(r"/patients/P-[0-9A-F]+$"))
    leeds_patient = page.url.rsplit("/", 1)[1]
    _log_out(screen)

    screen.login("coord-london")
    response = page.goto(f"{screen.base_url}/patients/{leeds_patient}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.get_by_text("Private Person")).to_have_count(0)
    screen.shot("other-centre-refused")
    page.goto(f"{screen.base_url}/board")
    expect(page.get_by_role("link", name=leeds_patient)).to_have_count(0)
