"""GET /patients/{id}/order-check: could the next dose be given at a preferred time?

The window is the one an order would get; the option is the instant placer's nearest to the
preferred time, and the activity it reports is the dose's own decay from calibration.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from clinic import Clinic, Headers
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from rltnet.domain.decay import activity_at, nuclide
from rltnet.domain.units import Activity

LEEDS = ZoneInfo("Europe/London")
LU177 = nuclide("Lu-177")


def _check(clinic: Clinic, patient: str, preferred: datetime | None = None) -> dict[str, Any]:
    query = {"preferred_at": preferred.isoformat()} if preferred else None
    path = f"/patients/{patient}/order-check"
    answer: dict[str, Any] = clinic.call("GET", path, "coord-leeds", params=query)
    return answer


def _a_working_morning_14_days_ahead_of(now: datetime) -> datetime:
    """06:00 UTC on the first day after now + 14 d (the Pluvicto lead) that is a Tuesday to
    Thursday with it and the day before (Ivrea's batch) not English bank holidays."""
    bank = holidays.country_holidays("GB", subdiv="ENG")
    day = (now + timedelta(days=15)).date()
    while day.weekday() not in (1, 2, 3) or day in bank or day - timedelta(days=1) in bank:
        day += timedelta(days=1)
    return datetime.combine(day, time(6), tzinfo=UTC)


def test_the_earliest_time_works_with_the_prescribed_activity_inside_the_band(clocked: Clinic) -> None:
    # at 06:00 UTC the earliest day still has its sessions ahead; later in the afternoon it has
    # none left and the check rightly answers with the next days instead
    clinic = clocked
    now = clinic.clock.now()
    clinic.advance(_a_working_morning_14_days_ahead_of(now) - timedelta(days=14) - now)
    patient = clinic.approve("leeds")
    check = _check(clinic, patient)
    assert check["workable"] and check["in_window"] and check["refusal"] is None, check
    assert check["preferred_at"] == check["earliest_at"] and check["cycle"] == 1
    assert (check["low_gbq"], check["prescribed_gbq"], check["high_gbq"]) == (6.66, 7.4, 8.14)
    option = check["option"]
    assert option["within_band"] and abs(option["expected_gbq"] - 7.4) < 1e-6
    assert check["earliest_at"] <= option["administration_at"] <= check["latest_at"]
    assert option["calibration_at"] < option["arrives_at"] < option["administration_at"]
    assert check["nearest_workable"] == []


def test_a_time_before_the_window_is_refused_with_the_nearest_days_that_can_work(clinic: Clinic) -> None:
    patient = clinic.approve("leeds")
    earliest = datetime.fromisoformat(_check(clinic, patient)["earliest_at"])
    check = _check(clinic, patient, earliest - timedelta(days=5))
    assert not check["workable"] and not check["in_window"]
    assert "outside the window the Pluvicto label allows" in check["refusal"]
    days = [datetime.fromisoformat(at) for at in check["nearest_workable"]]
    assert 1 <= len(days) <= 3 and days == sorted(days)
    assert len({d.astimezone(LEEDS).date() for d in days}) == len(days)  # distinct local days
    assert all(earliest <= d <= datetime.fromisoformat(check["latest_at"]) for d in days)


def test_checking_books_nothing_and_needs_an_orderable_patient(
    client: TestClient, clinic: Clinic, auth: dict[str, Headers]
) -> None:
    patient = clinic.approve("leeds")
    _check(clinic, patient)
    assert clinic.call("GET", f"/patients/{patient}", "coord-leeds")["stage"] == "mdt_approved"
    referred = clinic.refer("leeds")
    response = client.get(f"/api/v1/patients/{referred}/order-check", headers=auth["coord-leeds"])
    assert response.status_code == 422
    assert "an order needs MDT approval" in response.json()["message"]
    naive = client.get(
        f"/api/v1/patients/{patient}/order-check",
        params={"preferred_at": "2026-12-09T09:00"},
        headers=auth["coord-leeds"],
    )
    assert naive.status_code == 422 and "time zone" in naive.json()["message"]


def test_a_reduced_dose_is_checked_at_its_own_activity(clinic: Clinic) -> None:
    patient = clinic.approve("leeds")
    reduced = clinic.call(
        "GET",
        f"/patients/{patient}/order-check",
        "coord-leeds",
        params={"reduction": "renal toxicity"},
    )
    assert reduced["prescribed_gbq"] == 5.9 and abs(reduced["option"]["expected_gbq"] - 5.9) < 1e-6


@pytest.fixture(scope="module")
def approved_leeds(clinic: Clinic) -> str:
    return clinic.approve("leeds")


@settings(max_examples=25, deadline=None)
@given(share=st.floats(min_value=0.0, max_value=1.0))
def test_the_expected_activity_is_the_calibration_activity_decayed_to_the_administration(
    clinic: Clinic, approved_leeds: str, share: float
) -> None:
    window = _check(clinic, approved_leeds)
    earliest = datetime.fromisoformat(window["earliest_at"]) + timedelta(minutes=1)  # the window moves on
    latest = datetime.fromisoformat(window["latest_at"])
    check = _check(clinic, approved_leeds, earliest + (latest - earliest) * share)
    option = check["option"]
    assert check["in_window"]
    decayed = activity_at(
        LU177,
        Activity.from_gbq(option["calibration_gbq"]),
        datetime.fromisoformat(option["calibration_at"]),
        datetime.fromisoformat(option["administration_at"]),
    )
    assert abs(option["expected_gbq"] - decayed.gbq) <= 1e-9 * decayed.gbq
    assert option["within_band"] and check["low_gbq"] <= option["expected_gbq"] <= check["high_gbq"]
    preferred_day = datetime.fromisoformat(check["preferred_at"]).astimezone(LEEDS).date()
    planned_day = datetime.fromisoformat(option["administration_at"]).astimezone(LEEDS).date()
    assert check["workable"] == (planned_day == preferred_day)
