"""Dose orders and the windows in which a first or later cycle may be given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rltnet.domain.errors import InvalidInput
from rltnet.domain.orders import (
    FIRST_CYCLE_HORIZON,
    DoseOrder,
    first_cycle_window,
    later_cycle_window,
)
from rltnet.domain.products import TherapyProduct
from rltnet.domain.units import Activity

PLACED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EARLIEST_AT = PLACED_AT + timedelta(days=14)
LATEST_AT = EARLIEST_AT + timedelta(days=7)


def order(
    cycle: int = 1,
    preferred_at: datetime = EARLIEST_AT + timedelta(days=2),
    earliest_at: datetime = EARLIEST_AT,
    latest_at: datetime = LATEST_AT,
) -> DoseOrder:
    return DoseOrder(
        order_id="order-1",
        patient_id="patient-1",
        product_id="lu177-vipivotide-tetraxetan",
        cycle=cycle,
        centre_id="leeds",
        earliest_at=earliest_at,
        latest_at=latest_at,
        preferred_at=preferred_at,
        prescribed=Activity.from_gbq(7.4),
        placed_at=PLACED_AT,
    )


def test_an_order_is_placed_unconfirmed() -> None:
    placed = order()
    assert not placed.confirmed
    assert placed.prescribed == Activity.from_gbq(7.4)


@pytest.mark.parametrize(("cycle", "first"), [(1, True), (2, False), (6, False)])
def test_only_cycle_1_is_a_first_cycle(cycle: int, first: bool) -> None:
    assert order(cycle=cycle).first_cycle is first


@pytest.mark.parametrize("cycle", [0, -1])
def test_an_order_for_cycle_0_or_below_is_refused(cycle: int) -> None:
    with pytest.raises(InvalidInput, match=f"cycle must be 1 or more, got {cycle}"):
        order(cycle=cycle)


@pytest.mark.parametrize("preferred_at", [EARLIEST_AT, LATEST_AT])
def test_a_preferred_time_at_either_end_of_the_window_is_accepted(
    preferred_at: datetime,
) -> None:
    assert order(preferred_at=preferred_at).preferred_at == preferred_at


@pytest.mark.parametrize(
    "preferred_at",
    [EARLIEST_AT - timedelta(seconds=1), LATEST_AT + timedelta(seconds=1)],
)
def test_a_preferred_time_outside_the_window_is_refused(preferred_at: datetime) -> None:
    with pytest.raises(InvalidInput, match=r"is outside its window .* choose a time inside it"):
        order(preferred_at=preferred_at)


def test_a_window_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidInput, match="outside its window"):
        order(earliest_at=LATEST_AT, latest_at=EARLIEST_AT, preferred_at=LATEST_AT)


def test_a_first_cycle_may_be_given_from_the_order_lead_time_after_approval(
    pluvicto: TherapyProduct,
) -> None:
    approved_at = datetime(2026, 3, 4, 16, 0, tzinfo=UTC)
    earliest, latest = first_cycle_window(pluvicto, approved_at)
    assert earliest == approved_at + timedelta(days=14)
    assert latest == earliest + timedelta(weeks=4)
    assert timedelta(weeks=4) == FIRST_CYCLE_HORIZON


def test_a_first_cycle_horizon_may_be_chosen(pluvicto: TherapyProduct) -> None:
    approved_at = datetime(2026, 3, 4, 16, 0, tzinfo=UTC)
    earliest, latest = first_cycle_window(pluvicto, approved_at, horizon=timedelta(days=3))
    assert latest - earliest == timedelta(days=3)


def test_a_product_without_a_lead_time_may_be_given_from_approval(
    xofigo: TherapyProduct,
) -> None:
    approved_at = datetime(2026, 3, 4, 16, 0, tzinfo=UTC)
    assert first_cycle_window(xofigo, approved_at)[0] == approved_at


@pytest.mark.parametrize(
    ("brand_fixture", "earliest", "latest"),
    [
        ("pluvicto", timedelta(weeks=5), timedelta(weeks=7)),
        ("lutathera", timedelta(weeks=7), timedelta(weeks=9)),
    ],
)
def test_a_later_cycle_falls_in_the_label_interval_after_the_previous_one(
    request: pytest.FixtureRequest, brand_fixture: str, earliest: timedelta, latest: timedelta
) -> None:
    product: TherapyProduct = request.getfixturevalue(brand_fixture)
    previous_at = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)
    assert later_cycle_window(product, previous_at) == (
        previous_at + earliest,
        previous_at + latest,
    )
