"""Units as types: activities read and print as a department writes them; instants are aware."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rltnet.domain import decay
from rltnet.domain.dose import AdministrationWindow, Dose, WindowLimit
from rltnet.domain.errors import InvalidInput, NaiveDatetime
from rltnet.domain.orders import DoseOrder, first_cycle_window, later_cycle_window
from rltnet.domain.pathway import Move, PathwayEvent
from rltnet.domain.products import TherapyProduct
from rltnet.domain.units import (
    Activity,
    format_duration,
    parse_duration,
    parse_instant,
    require_aware,
)

AWARE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NAIVE = datetime(2026, 3, 2, 9, 0)  # noqa: DTZ001 - the point of these tests


@pytest.mark.parametrize(
    ("text", "becquerels"),
    [
        ("7.4 GBq", 7.4e9),
        ("200 mCi", 7.4e9),
        ("740 MBq", 740e6),
        ("7.4GBq", 7.4e9),
        ("7.4 gbq", 7.4e9),
        ("7.4 GBQ", 7.4e9),
        ("200 MCI", 7.4e9),
        ("200mci", 7.4e9),
        ("740 mbq", 740e6),
        ("55 kBq", 55e3),
        ("1 Ci", 3.7e10),
        ("3 uCi", 111e3),
        ("1.5e3 kBq", 1.5e6),
        ("  7.4 GBq  ", 7.4e9),
    ],
)
def test_an_activity_is_read_from_its_number_and_unit_in_any_case(text: str, becquerels: float) -> None:
    assert Activity.parse(text).bq == pytest.approx(becquerels, rel=1e-15)


def test_200_mci_is_exactly_7_4_gbq() -> None:
    assert Activity.parse("200 mCi") == Activity.parse("7.4 GBq")
    assert Activity.from_mci(200) == Activity.from_gbq(7.4)
    assert Activity.from_gbq(7.4).mci == pytest.approx(200.0, rel=1e-15)


@pytest.mark.parametrize(
    ("activity", "printed"),
    [
        (Activity.from_gbq(7.4), "7.4 GBq"),
        (Activity.from_mci(200), "7.4 GBq"),
        (Activity.from_mbq(740), "740 MBq"),
        (Activity.from_kbq(55), "55 kBq"),
        (Activity(1.2e12), "1.2 TBq"),
        (Activity(0.0), "0 Bq"),
    ],
)
def test_an_activity_prints_in_the_largest_si_unit_below_it(activity: Activity, printed: str) -> None:
    assert str(activity) == printed


@given(st.floats(min_value=1.0, max_value=1e14, allow_nan=False, allow_infinity=False))
@settings(max_examples=50)
def test_a_printed_activity_reads_back_to_four_significant_figures(becquerels: float) -> None:
    activity = Activity(becquerels)
    assert Activity.parse(str(activity)).bq == pytest.approx(becquerels, rel=5e-4)


@pytest.mark.parametrize("text", ["7.4", "GBq", "7.4 GBx", "-7.4 GBq", "seven GBq", "", "7.4 Gy"])
def test_an_unreadable_activity_is_refused_with_an_example_of_how_to_write_it(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Activity.parse(text)
    message = str(refused.value)
    assert repr(text) in message
    assert "e.g. '7.4 GBq'" in message


@pytest.mark.parametrize("becquerels", [-1.0, float("nan"), float("inf")])
def test_an_activity_must_be_finite_and_not_negative(becquerels: float) -> None:
    with pytest.raises(InvalidInput, match="finite and >= 0 Bq"):
        Activity(becquerels)


def test_activities_add_scale_and_divide_like_quantities() -> None:
    assert Activity.from_gbq(1) + Activity.from_mbq(500) == Activity.from_gbq(1.5)
    assert Activity.from_gbq(7.4) - Activity.from_gbq(1.4) == Activity.from_gbq(6.0)
    assert Activity.from_gbq(7.4) * 0.5 == Activity.from_gbq(3.7)
    assert 0.5 * Activity.from_gbq(7.4) == Activity.from_gbq(3.7)
    assert Activity.from_gbq(7.4) / Activity.from_gbq(3.7) == 2.0
    assert Activity.from_mbq(740) < Activity.from_gbq(7.4)


def test_subtracting_more_activity_than_there_is_is_refused() -> None:
    with pytest.raises(InvalidInput):
        Activity.from_gbq(1) - Activity.from_gbq(2)


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("120 h", timedelta(hours=120)),
        ("6 weeks", timedelta(weeks=6)),
        ("1 week", timedelta(weeks=1)),
        ("30 min", timedelta(minutes=30)),
        ("14 d", timedelta(days=14)),
        ("2 days", timedelta(days=2)),
        ("1.5 h", timedelta(minutes=90)),
        ("2 D", timedelta(days=2)),
        ("0 min", timedelta(0)),
    ],
)
def test_a_duration_is_read_from_its_number_and_unit(text: str, span: timedelta) -> None:
    assert parse_duration(text) == span


@pytest.mark.parametrize("text", ["120", "h", "-3 h", "3 hrs", "3 s", ""])
def test_an_unreadable_duration_is_refused_with_examples(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"e\.g\. '30 min', '120 h'"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("span", "said"),
    [
        (timedelta(days=2, hours=3), "2 d 3 h"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(0), "0 min"),
        (timedelta(minutes=-90), "-1 h 30 min"),
        (timedelta(weeks=6), "42 d"),
    ],
)
def test_a_duration_prints_as_a_coordinator_says_it(span: timedelta, said: str) -> None:
    assert format_duration(span) == said


def test_an_instant_is_read_with_its_offset() -> None:
    assert parse_instant("2026-03-02T09:00Z") == AWARE
    assert parse_instant("2026-03-02T10:00+01:00") == AWARE


def test_an_instant_without_offset_is_refused_as_naive() -> None:
    with pytest.raises(NaiveDatetime, match="calibrated_at has no time zone"):
        parse_instant("2026-03-02T09:00", "calibrated_at")


def test_text_that_is_no_instant_is_refused_with_an_example() -> None:
    with pytest.raises(InvalidInput, match=r"not an ISO 8601 date-time; write e\.g\."):
        parse_instant("next tuesday")


def test_require_aware_passes_an_aware_instant_through() -> None:
    assert require_aware(AWARE, "at") is AWARE


def _dose(product: TherapyProduct, calibration_at: datetime = AWARE) -> Dose:
    return Dose.calibrated_for("d-1", product, "b-1", calibration_at, Activity.from_gbq(7.4))


def _order(
    earliest_at: datetime = AWARE,
    latest_at: datetime = AWARE,
    preferred_at: datetime = AWARE,
    placed_at: datetime = AWARE,
) -> DoseOrder:
    return DoseOrder(
        order_id="o-1",
        patient_id="p-1",
        product_id="lu177-vipivotide-tetraxetan",
        cycle=1,
        centre_id="leeds",
        earliest_at=earliest_at,
        latest_at=latest_at,
        preferred_at=preferred_at,
        prescribed=Activity.from_gbq(7.4),
        placed_at=placed_at,
    )


def _naive_uses(product: TherapyProduct) -> dict[str, Callable[[], object]]:
    """Every place the domain takes an instant, each given a naive one."""
    lu177 = decay.nuclide("Lu-177")
    gbq = Activity.from_gbq(7.4)
    dose = _dose(product)
    window = AdministrationWindow(AWARE, AWARE, WindowLimit.TOLERANCE, WindowLimit.TOLERANCE)
    return {
        "decay.activity_at at": lambda: decay.activity_at(lu177, gbq, AWARE, NAIVE),
        "decay.activity_at calibration_at": lambda: decay.activity_at(lu177, gbq, NAIVE, AWARE),
        "decay.calibration_activity_for target_at": lambda: decay.calibration_activity_for(
            lu177, gbq, NAIVE, AWARE
        ),
        "decay.calibration_activity_for calibration_at": lambda: decay.calibration_activity_for(
            lu177, gbq, AWARE, NAIVE
        ),
        "decay.crossing_at": lambda: decay.crossing_at(lu177, gbq, NAIVE, gbq * 0.5),
        "Dose calibration_at": lambda: _dose(product, NAIVE),
        "Dose expiry_at": lambda: Dose("d", product, "b", AWARE, gbq, expiry_at=NAIVE),
        "Dose released_at": lambda: Dose("d", product, "b", AWARE, gbq, expiry_at=AWARE, released_at=NAIVE),
        "Dose.activity_at": lambda: dose.activity_at(NAIVE),
        "Dose.check_administration": lambda: dose.check_administration(NAIVE),
        "AdministrationWindow.contains": lambda: window.contains(NAIVE),
        "PathwayEvent at": lambda: PathwayEvent(Move.REFER, NAIVE, "dr-a"),
        "PathwayEvent planned_at": lambda: PathwayEvent(Move.PLAN_CYCLE, AWARE, "dr-a", planned_at=NAIVE),
        "DoseOrder earliest_at": lambda: _order(earliest_at=NAIVE),
        "DoseOrder latest_at": lambda: _order(latest_at=NAIVE),
        "DoseOrder preferred_at": lambda: _order(preferred_at=NAIVE),
        "DoseOrder placed_at": lambda: _order(placed_at=NAIVE),
        "first_cycle_window": lambda: first_cycle_window(product, NAIVE),
        "later_cycle_window": lambda: later_cycle_window(product, NAIVE),
        "OrderingRules.cancellation_fee": lambda: product.ordering.cancellation_fee(NAIVE, AWARE),
    }


_NAIVE_USE_NAMES = sorted(
    [
        "decay.activity_at at",
        "decay.activity_at calibration_at",
        "decay.calibration_activity_for target_at",
        "decay.calibration_activity_for calibration_at",
        "decay.crossing_at",
        "Dose calibration_at",
        "Dose expiry_at",
        "Dose released_at",
        "Dose.activity_at",
        "Dose.check_administration",
        "AdministrationWindow.contains",
        "PathwayEvent at",
        "PathwayEvent planned_at",
        "DoseOrder earliest_at",
        "DoseOrder latest_at",
        "DoseOrder preferred_at",
        "DoseOrder placed_at",
        "first_cycle_window",
        "later_cycle_window",
        "OrderingRules.cancellation_fee",
    ]
)


def test_the_list_of_naive_uses_covers_every_case(pluvicto: TherapyProduct) -> None:
    assert sorted(_naive_uses(pluvicto)) == _NAIVE_USE_NAMES


@pytest.mark.parametrize("use", _NAIVE_USE_NAMES)
def test_a_naive_datetime_is_refused_wherever_an_instant_is_taken(use: str, pluvicto: TherapyProduct) -> None:
    with pytest.raises(NaiveDatetime, match="has no time zone"):
        _naive_uses(pluvicto)[use]()
