"""The order form with its dose-window check, and the dose journey from batch to chair."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from clinic import Clinic
from desk import Desk, log_in
from desk import text_of as tags_off

from rltnet.service.platform import Platform

LONDON = ZoneInfo("Europe/London")  # Leeds' zone


def text_of(page: str) -> str:
    return html.unescape(tags_off(page))


def _local(instant: str | datetime) -> str:
    """An instant as the order form's datetime-local value on Leeds' wall clock."""
    moment = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    return moment.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


def _check(desk: Desk, patient: str, local: str) -> str:
    response = desk.get(f"/patients/{patient}/order-check?preferred_at={quote(local)}")
    assert response.status_code == 200, response.text
    return str(response.text)


def _key(form: str) -> str:
    found = re.search(r'name="idempotency_key" value="([^"]+)"', form)
    assert found, "the order form has no idempotency key"
    return found.group(1)


def test_the_check_refuses_a_time_before_the_window_and_lists_the_nearest_dates_that_can(
    desks: dict[str, Desk], web_clinic: Clinic
) -> None:
    patient = web_clinic.approve("leeds")
    window = web_clinic.call("GET", f"/patients/{patient}/order-check", "coord-leeds")
    tomorrow = _local(datetime.now(UTC) + timedelta(days=1))
    fragment = _check(desks["coord-leeds"], patient, tomorrow)
    words = text_of(fragment)
    assert "cannot work" in words and "is outside the window the Pluvicto label allows" in words
    assert "Nearest dates that can work" in words
    offered = re.findall(r"order\?preferred_at=([0-9T%A-F-]+)", fragment)
    assert 1 <= len(offered) <= 3
    earliest = _local(window["earliest_at"])
    latest = _local(window["latest_at"])
    for link in offered:
        local = link.replace("%3A", ":")
        assert earliest <= local <= latest
        assert "can work" in text_of(_check(desks["coord-leeds"], patient, local))


def test_a_time_inside_the_window_gives_the_expected_activity_inside_the_band(
    desks: dict[str, Desk], web_clinic: Clinic
) -> None:
    patient = web_clinic.approve("leeds")
    planned = web_clinic.call("GET", f"/patients/{patient}/order-check", "coord-leeds")["option"]
    words = text_of(_check(desks["coord-leeds"], patient, _local(planned["administration_at"])))
    assert "can work" in words and "cannot work" not in words
    assert "7.40 GBq, inside the tolerance band 6.66–8.14 GBq (7.40 GBq prescribed ± 10%)" in words


def test_no_dose_on_a_weekend_day_and_the_check_says_which_days_instead(
    desks: dict[str, Desk], web_clinic: Clinic
) -> None:
    patient = web_clinic.approve("leeds")
    earliest = datetime.fromisoformat(
        web_clinic.call("GET", f"/patients/{patient}/order-check", "coord-leeds")["earliest_at"]
    )
    saturday = earliest + timedelta(days=(5 - earliest.astimezone(LONDON).weekday()) % 7 + 7)
    words = text_of(_check(desks["coord-leeds"], patient, _local(saturday.replace(hour=11))))
    assert "cannot work" in words and "No dose of Pluvicto can be given at Leeds" in words
    assert "Sat" in words.split("Nearest dates that can work")[0]
    assert "Sat" not in words.split("Nearest dates that can work")[1]


def test_the_form_without_script_checks_on_load_and_with_its_check_button(
    desks: dict[str, Desk], web_clinic: Clinic
) -> None:
    patient = web_clinic.approve("leeds")
    desk = desks["coord-leeds"]
    form = desk.page(f"/patients/{patient}/order")
    assert 'aria-live="polite"' in form and 'src="/static/order-check.js"' in form
    assert 'type="datetime-local"' in form and '<label for="preferred_at">' in form
    assert "Choose the preferred infusion time" in form  # no check until a time is given
    checked = desk.post(f"/patients/{patient}/order", {"preferred_at": "2020-01-01T09:00", "intent": "check"})
    assert checked.status_code == 303
    assert checked.headers["location"] == f"/patients/{patient}/order?preferred_at=2020-01-01T09%3A00"
    assert "cannot work" in text_of(desk.page(checked.headers["location"]))
    assert desk.get("/static/order-check.js").status_code == 200


def test_sending_the_form_twice_places_one_order(desks: dict[str, Desk], web_clinic: Clinic) -> None:
    patient = web_clinic.approve("leeds")
    desk = desks["coord-leeds"]
    form = desk.page(f"/patients/{patient}/order")
    preferred = re.search(r'id="preferred_at"[^>]*value="([^"]+)"', form)
    assert preferred
    sent = {"idempotency_key": _key(form), "preferred_at": preferred.group(1), "intent": "order"}
    first = desk.post(f"/patients/{patient}/order", sent)
    again = desk.post(f"/patients/{patient}/order", sent)
    assert first.headers["location"] == again.headers["location"]
    assert "already placed from this form" in text_of(desk.page(again.headers["location"]))
    events = web_clinic.call("GET", f"/patients/{patient}/events", "coord-leeds")
    assert [e["move"] for e in events].count("order") == 1


def test_a_time_outside_the_window_is_not_ordered_and_the_form_says_why(
    desks: dict[str, Desk], web_clinic: Clinic
) -> None:
    patient = web_clinic.approve("leeds")
    desk = desks["coord-leeds"]
    form = desk.page(f"/patients/{patient}/order")
    sent = {"idempotency_key": _key(form), "preferred_at": "2020-01-01T09:00", "intent": "order"}
    response = desk.post(f"/patients/{patient}/order", sent)
    assert response.headers["location"].startswith(f"/patients/{patient}/order?preferred_at=2020-01-01")
    words = text_of(desk.page(response.headers["location"]))
    assert "Not ordered: preferred_at" in words and "outside the window" in words
    assert web_clinic.call("GET", f"/patients/{patient}", "coord-leeds")["stage"] == "mdt_approved"


def test_the_dose_journey_from_confirmation_to_the_chair(clocked_web: tuple[Clinic, Platform]) -> None:
    clinic, platform = clocked_web  # each step is taken when the clock reaches its planned time
    patient = clinic.approve("leeds")
    order = clinic.order(patient)
    journey = f"/orders/{order['id']}"
    maker, coordinator = log_in(platform, "maker"), log_in(platform, "coord-leeds")
    page = maker.page(journey)
    assert "Confirm the order" in page and "Test Patient" not in text_of(page)
    assert "Cancel the order" in coordinator.page(journey) and "Move the order" in coordinator.page(journey)
    assert "If cancelled now: no fee: Pluvicto publishes no cancellation terms" in text_of(
        coordinator.page(journey)
    )
    assert maker.post(f"{journey}/confirm", {}).status_code == 303
    assert "confirmed. Next: start production" in text_of(maker.page(journey))
    placed = order["placement"]
    steps: tuple[tuple[str, str, dict[str, str], str], ...] = (
        ("start_production", "calibration_at", {}, "Production started"),
        ("release", "released_at", {"calibration_gbq": "", "lot": "L-77"}, "Dose released"),
        ("ship", "departs_at", {"courier": "Movianto", "tracking": "MV-77"}, "Dose shipped"),
        ("deliver", "arrives_at", {}, "Delivery recorded"),
    )
    for step, planned, facts, said in steps:
        at = clinic.advance_to(datetime.fromisoformat(placed[planned]))
        maker = log_in(platform, "maker")  # the week-long login has lapsed by the batch's start
        page = maker.page(journey)
        assert f'value="{_local(at)}"' in page  # the form's time starts at now, not at the plan
        if step == "release":
            facts = {**facts, "calibration_gbq": str(clinic.expected_gbq(order, at))}
        response = maker.post(f"{journey}/progress", {"step": step, **facts}, referer=journey)
        assert said in text_of(maker.page(response.headers["location"])), step
    page = text_of(maker.page(journey))
    assert "Recorded so far" in page and "lot L-77" in page and "with Movianto, tracking MV-77" in page
    given = clinic.advance_to(datetime.fromisoformat(placed["administration_at"]))
    physician = log_in(platform, "doc-leeds")
    words = text_of(physician.page(journey))
    assert "Record a missed dose" in words and "Shipment delivered" in words
    assert "Record the administration on the patient's page" in words
    timeline = f"/patients/{patient}"
    assert f'id="administered-at" name="at" type="datetime-local" required value="{_local(given)}"' in (
        physician.page(timeline)
    )
    record = {"order_id": order["id"], "at": _local(given), "assayed_gbq": clinic.expected_gbq(order, given)}
    done = physician.post(f"{timeline}/administration", record, referer=timeline)
    assert "cycle 1 given" in text_of(physician.page(done.headers["location"]))
    assert "3. Chair administered" in text_of(physician.page(journey))
    clinic.advance(timedelta(days=7))
    physician, coordinator = log_in(platform, "doc-leeds"), log_in(platform, "coord-leeds")
    labs = {"kind": "labs", "note": "Hb 12.1"}  # when: now, as the form says
    followed = physician.post(f"{timeline}/follow-up", labs, referer=timeline)
    page = text_of(physician.page(followed.headers["location"]))
    assert "Follow-up (labs) recorded. Next: coordinator: plan the next cycle or complete" in page
    assert "Order the dose Cycle 2 of 6" in text_of(coordinator.page(timeline))


def test_the_journey_draws_the_decay_against_the_band_in_words_too(
    desks: dict[str, Desk], web_clinic: Clinic
) -> None:
    order = web_clinic.order(web_clinic.approve("leeds"))
    page = desks["coord-leeds"].page(f"/orders/{order['id']}")
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert f'aria-labelledby="decay-{order["id"]}-title decay-{order["id"]}-desc"' in svg
    desc = html.unescape(svg[svg.index("<desc") : svg.index("</desc>")])
    assert "The label accepts 6.66 GBq to 8.14 GBq at administration: 7.40 GBq prescribed, ±10%" in desc
    assert "Planned administration" in desc and "7.40 GBq, inside the band" in desc
    for step in ("Batch", "Shipment", "Chair"):
        assert step in text_of(page)
    assert order["placement"]["batch_id"] in page and order["placement"]["lane_id"] in page


def test_the_journey_is_hidden_from_other_centres_and_analysts(
    desks: dict[str, Desk], web_clinic: Clinic
) -> None:
    order = web_clinic.order(web_clinic.approve("leeds"))
    assert desks["coord-london"].get(f"/orders/{order['id']}").status_code == 404
    assert desks["coord-london"].get("/orders/O-0000000000").status_code == 404
    assert desks["coord-london"].get(f"/patients/{order['patient_id']}/order").status_code == 404
    assert desks["analyst"].get(f"/orders/{order['id']}").status_code == 403
    assert desks["admin"].get(f"/orders/{order['id']}").status_code == 200


def test_a_superscript_digit_in_the_platelets_is_refused_on_the_order_pages_not_a_server_error(
    desks: dict[str, Desk], web_clinic: Clinic
) -> None:
    """'²'.isdigit() is true in Python, but int('²') fails: it was a 500 on both order pages."""
    patient = web_clinic.approve("leeds")
    desk = desks["coord-leeds"]
    for written in ("²", "１５００００", "1⁵"):
        check = desk.get(f"/patients/{patient}/order-check?platelets_per_mm3={quote(written)}")
        assert check.status_code == 422 and "write it in 0-9" in text_of(check.text), written
        form = desk.page(f"/patients/{patient}/order")
        sent = {"idempotency_key": _key(form), "platelets_per_mm3": written, "intent": "order"}
        response = desk.post(f"/patients/{patient}/order", sent)
        assert response.status_code == 303, written
        assert "write it in 0-9" in text_of(desk.page(response.headers["location"])), written
    assert web_clinic.call("GET", f"/patients/{patient}", "coord-leeds")["stage"] == "mdt_approved"
