"""A centre's week: appointments by day and chair, closed days, staff on duty, licence warnings;
a centre's calendar never shows another centre's patients."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from clinic import Clinic
from desk import Desk, text_of

from rltnet.service.platform import Platform
from rltnet.store import tables

LONDON = ZoneInfo("Europe/London")  # the england network's centres' zone


def _placed(clinic: Clinic, centre: str) -> dict[str, Any]:
    order = clinic.order(clinic.approve(centre), centre)
    assert order["placement"] is not None, order
    return order


def _cell(html: str, headers: str) -> str:
    """What a reader sees in the cell under the day's and the row's headers."""
    found = re.search(rf'<td headers="{headers}">(.*?)</td>', html, re.S)
    assert found, f"no cell under {headers}"
    return text_of(found.group(1))


def _day_of(order: dict[str, Any]) -> str:
    return datetime.fromisoformat(order["placement"]["appointment_at"]).astimezone(LONDON).date().isoformat()


def test_a_placed_order_is_on_its_day_and_chair_for_both_of_the_centres_roles(
    desks: dict[str, Desk], web_clinic: Clinic
) -> None:
    order = _placed(web_clinic, "leeds")
    day, chair = _day_of(order), order["placement"]["chair"]
    start = datetime.fromisoformat(order["placement"]["appointment_at"]).astimezone(LONDON)
    for user in ("coord-leeds", "doc-leeds"):
        week = desks[user].page(f"/calendar?week={day}")
        cell = _cell(week, f"day-{day} chair-{chair}")
        assert order["patient_id"] in cell and f"order {order['id']}" in cell, user
        assert start.strftime("%H:%M") in cell and "Pluvicto" in cell
        assert f'href="/patients/{order["patient_id"]}"' in week and f'href="/orders/{order["id"]}"' in week
        others = [_cell(week, f"day-{day} chair-{c}") for c in range(1, 5) if c != chair]
        assert all(order["patient_id"] not in c for c in others)


def test_a_centre_never_sees_another_centres_patients(desks: dict[str, Desk], web_clinic: Clinic) -> None:
    leeds = _placed(web_clinic, "leeds")
    london = _placed(web_clinic, "london")
    for day in {_day_of(leeds), _day_of(london)}:
        seen = desks["coord-london"].page(f"/calendar?week={day}")
        assert leeds["patient_id"] not in seen and leeds["id"] not in seen
        assert "London RLT centre" in seen
    assert london["patient_id"] in desks["doc-london"].page(f"/calendar?week={_day_of(london)}")


def test_weekends_and_public_holidays_are_closed_and_staff_on_duty_are_listed(desks: dict[str, Desk]) -> None:
    week = desks["coord-leeds"].page("/calendar?week=2026-12-23")  # any day picks its week
    heads = text_of(week.split("</thead>", 1)[0])
    assert "Mon 21 Dec" in heads and "Sun 27 Dec" in heads
    assert "public holiday: Christmas Day" in heads and "not an opening day" in heads
    monday, thursday = _cell(week, "day-2026-12-21 on-duty"), _cell(week, "day-2026-12-24 on-duty")
    assert "leeds-ap-2" in monday and "leeds-ap-2" not in thursday  # on duty mon, tue, wed
    assert "leeds-ap-1" in thursday and "leeds-tech-1" in thursday
    assert _cell(week, "day-2026-12-25 on-duty") == "closed"
    assert 'href="/calendar?week=2026-12-14"' in week and 'href="/calendar?week=2026-12-28"' in week


def test_licences_that_lapse_are_warned_of_and_days_without_a_licence_flagged(
    desks: dict[str, Desk],
) -> None:
    desk = desks["doc-leeds"]
    june = text_of(desk.page("/calendar?week=2029-06-25"))
    assert "Licences to renew" in june
    assert "lapses by this week's end leeds-ap-1" in june.replace("&#39;", "'")
    assert "for Lu-177 expires on Sat 30 Jun 2029" in june
    december = desk.page("/calendar?week=2029-12-03")  # both practitioners' licences have lapsed
    assert "no one on duty licensed for Lu-177" in _cell(december, "day-2029-12-03 on-duty")
    assert "licence expired" in _cell(december, "day-2029-12-03 on-duty")


def test_a_licence_expiring_soon_is_warned_of_this_week(
    desks: dict[str, Desk], web_platform: Platform
) -> None:
    soon = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    with web_platform.sessions() as session:
        nurse = session.get(tables.StaffMember, "leeds-nurse-1")
        assert nurse is not None
        kept = list(nurse.licences)
        nurse.licences = [{"kind": "IV cannulation", "covers": ["Lu-177"], "expires_on": soon}]
        session.commit()
        try:
            page = text_of(desks["coord-leeds"].page("/calendar"))
            assert "expiring soon leeds-nurse-1 (nurse): IV cannulation for Lu-177 expires on" in page
            assert "This week" not in page  # already on this week
        finally:
            nurse.licences = kept
            session.commit()


def test_a_week_that_is_not_a_date_is_refused_with_what_to_give(desks: dict[str, Desk]) -> None:
    response = desks["coord-leeds"].get("/calendar?week=next-tuesday")
    assert response.status_code == 422
    assert "give any day of the week as YYYY-MM-DD" in response.text


def test_the_calendar_is_for_the_centres_staff(desks: dict[str, Desk]) -> None:
    for user in ("maker", "analyst", "admin"):
        response = desks[user].get("/calendar")
        assert response.status_code == 403, user
        assert "this page is for: coordinator, physician" in response.text
