"""A dose's administration window and waste, checked against hand-computed cases.

Expected instants are computed here with `math` from the ICRP-107 half-life and
the label figures, never by calling the code under test.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import radioactivedecay as rd

from rltnet.domain.dose import (
    DiscardReason,
    Dose,
    DoseFate,
    WasteSummary,
    WindowLimit,
)
from rltnet.domain.errors import DoseOutsideWindow, InvalidInput
from rltnet.domain.products import TherapyProduct
from rltnet.domain.units import Activity

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the calibration instant
LU177_HALF_LIFE_S = float(rd.Nuclide("Lu-177").half_life("s"))  # 6.647 d
RA223_HALF_LIFE_S = float(rd.Nuclide("Ra-223").half_life("s"))  # 11.43 d
ONE_SECOND = 1.0
GBQ = 1e9


def after_half_lives(half_lives: float) -> datetime:
    """T plus a number of Lu-177 half-lives."""
    return T + timedelta(seconds=half_lives * LU177_HALF_LIFE_S)


def dose(
    product: TherapyProduct,
    calibration_gbq: float,
    prescribed_gbq: float | None = None,
    released_at: datetime | None = None,
    dose_id: str = "d-1",
) -> Dose:
    return Dose(
        dose_id=dose_id,
        product=product,
        batch_id="b-1",
        calibration_at=T,
        calibration_activity=Activity.from_gbq(calibration_gbq),
        expiry_at=T + product.shelf_life,
        prescribed=None if prescribed_gbq is None else Activity.from_gbq(prescribed_gbq),
        released_at=released_at,
    )


def seconds_apart(one: datetime, other: datetime) -> float:
    return abs((one - other).total_seconds())


def test_a_dose_expires_its_shelf_life_after_calibration(pluvicto: TherapyProduct) -> None:
    made = Dose.calibrated_for("d-1", pluvicto, "b-1", T, Activity.from_gbq(7.4))
    assert made.expiry_at == T + timedelta(hours=120)
    assert made.target == Activity.from_gbq(7.4)


def test_the_activity_of_a_dose_halves_in_one_half_life(pluvicto: TherapyProduct) -> None:
    assert dose(pluvicto, 7.4).activity_at(after_half_lives(1)).gbq == pytest.approx(3.7)


def test_a_pluvicto_dose_is_usable_from_calibration_while_within_ten_percent(
    pluvicto: TherapyProduct,
) -> None:
    window = dose(pluvicto, 7.4).window()
    assert window is not None
    latest = T + timedelta(seconds=LU177_HALF_LIFE_S * math.log2(1 / 0.9))
    assert window.earliest_at == T  # made at calibration: it does not exist before
    assert window.earliest_limited_by is WindowLimit.CALIBRATION
    assert seconds_apart(window.latest_at, latest) < ONE_SECOND
    assert window.latest_limited_by is WindowLimit.TOLERANCE


def test_a_dose_stated_at_a_reference_time_is_usable_before_it_within_tolerance(
    xofigo: TherapyProduct,
) -> None:
    window = Dose.calibrated_for("d-1", xofigo, "b-1", T, Activity.from_mbq(4.4)).window()
    assert window is not None
    earliest = T - timedelta(seconds=RA223_HALF_LIFE_S * math.log2(1.2))  # about 3.0 d before
    latest = T + timedelta(seconds=RA223_HALF_LIFE_S * math.log2(1 / 0.8))  # about 3.7 d after
    assert seconds_apart(window.earliest_at, earliest) < ONE_SECOND
    assert seconds_apart(window.latest_at, latest) < ONE_SECOND
    assert window.earliest_limited_by is WindowLimit.TOLERANCE
    assert window.latest_limited_by is WindowLimit.TOLERANCE


def test_a_full_pluvicto_vial_is_last_usable_at_its_120_hour_expiry(
    pluvicto: TherapyProduct,
) -> None:
    vial = dose(pluvicto, calibration_gbq=1.000 * 12.5, prescribed_gbq=7.4)  # 1000 MBq/mL x 12.5
    window = vial.window()
    assert window is not None
    # 12.5 GBq decays to 7.4 x 1.1 GBq after log2(12.5 / 8.14) half-lives, about 98.7 h;
    # to 7.4 x 0.9 GBq only after about 145 h, past the 120 h expiry.
    earliest = T + timedelta(seconds=LU177_HALF_LIFE_S * math.log2(12.5 / (7.4 * 1.1)))
    assert seconds_apart(window.earliest_at, earliest) < ONE_SECOND
    assert window.earliest_limited_by is WindowLimit.TOLERANCE
    assert window.latest_at == T + timedelta(hours=120)
    assert window.latest_limited_by is WindowLimit.EXPIRY
    by_tolerance = T + timedelta(seconds=LU177_HALF_LIFE_S * math.log2(12.5 / (7.4 * 0.9)))
    assert by_tolerance > T + timedelta(hours=120)


def test_a_lutathera_dose_is_usable_within_twenty_percent(lutathera: TherapyProduct) -> None:
    window = dose(lutathera, 7.4).window()
    assert window is not None
    latest = T + timedelta(seconds=LU177_HALF_LIFE_S * math.log2(1 / 0.8))  # about 51.3 h
    assert window.earliest_at == T
    assert seconds_apart(window.latest_at, latest) < ONE_SECOND
    assert window.latest_limited_by is WindowLimit.TOLERANCE
    assert latest < T + timedelta(hours=72)


def test_a_full_lutathera_vial_is_last_usable_at_its_72_hour_expiry(
    lutathera: TherapyProduct,
) -> None:
    vial = dose(lutathera, calibration_gbq=0.370 * 25.0, prescribed_gbq=7.4)  # 370 MBq/mL x 25
    window = vial.window()
    assert window is not None
    earliest = T + timedelta(seconds=LU177_HALF_LIFE_S * math.log2(9.25 / (7.4 * 1.2)))
    assert seconds_apart(window.earliest_at, earliest) < ONE_SECOND
    assert window.latest_at == T + timedelta(hours=72)
    assert window.latest_limited_by is WindowLimit.EXPIRY


def test_a_dose_is_not_usable_before_its_qc_release(pluvicto: TherapyProduct) -> None:
    released_at = T + timedelta(hours=6)
    window = dose(pluvicto, 7.4, released_at=released_at).window()
    assert window is not None
    assert window.earliest_at == released_at
    assert window.earliest_limited_by is WindowLimit.RELEASE
    latest = T + timedelta(seconds=LU177_HALF_LIFE_S * math.log2(1 / 0.9))
    assert seconds_apart(window.latest_at, latest) < ONE_SECOND


def test_a_release_before_the_tolerance_window_does_not_move_it(
    pluvicto: TherapyProduct,
) -> None:
    vial = dose(pluvicto, 12.5, prescribed_gbq=7.4, released_at=T + timedelta(hours=8))
    window = vial.window()
    assert window is not None
    assert window.earliest_limited_by is WindowLimit.TOLERANCE


def test_a_dose_that_is_within_tolerance_only_after_expiry_has_no_window(
    pluvicto: TherapyProduct,
) -> None:
    # 12.5 GBq reaches 5 x 1.1 GBq after log2(12.5 / 5.5) x 6.647 d = 7.9 d > 120 h.
    assert dose(pluvicto, 12.5, prescribed_gbq=5.0).window() is None


def test_a_dose_released_after_it_has_decayed_out_of_tolerance_has_no_window(
    pluvicto: TherapyProduct,
) -> None:
    assert dose(pluvicto, 7.4, released_at=T + timedelta(days=2)).window() is None


def test_the_window_contains_its_own_ends_and_nothing_outside(pluvicto: TherapyProduct) -> None:
    window = dose(pluvicto, 7.4).window()
    assert window is not None
    assert window.contains(window.earliest_at)
    assert window.contains(window.latest_at)
    assert window.contains(T)
    assert not window.contains(window.latest_at + timedelta(seconds=1))
    assert not window.contains(window.earliest_at - timedelta(seconds=1))


def test_a_dose_given_inside_its_window_gives_its_decayed_activity(
    pluvicto: TherapyProduct,
) -> None:
    given = dose(pluvicto, 7.4).check_administration(T + timedelta(hours=12))
    expected_gbq = 7.4 * 2 ** (-12 * 3600 / LU177_HALF_LIFE_S)
    assert given.gbq == pytest.approx(expected_gbq, rel=1e-12)


@pytest.mark.parametrize(("calibration_gbq", "prescribed_gbq"), [(7.4, None), (8.0, None), (12.5, 7.4)])
def test_a_dose_may_be_given_at_either_end_of_its_window(
    pluvicto: TherapyProduct, calibration_gbq: float, prescribed_gbq: float | None
) -> None:
    made = dose(pluvicto, calibration_gbq, prescribed_gbq)
    window = made.window()
    assert window is not None
    made.check_administration(window.earliest_at)
    made.check_administration(window.latest_at)


def test_an_expired_dose_is_refused_with_a_discard_and_reorder(pluvicto: TherapyProduct) -> None:
    vial = dose(pluvicto, 12.5, prescribed_gbq=7.4)
    with pytest.raises(DoseOutsideWindow, match=r"d-1 expired at 2026-03-07T09:00:00\+00:00"):
        vial.check_administration(T + timedelta(hours=121))


def test_an_out_of_tolerance_dose_is_refused_naming_the_band(pluvicto: TherapyProduct) -> None:
    with pytest.raises(DoseOutsideWindow) as refused:
        dose(pluvicto, 7.4).check_administration(T + timedelta(days=2))
    message = str(refused.value)
    assert "outside the Pluvicto tolerance 6.66 GBq-8.14 GBq" in message
    assert "choose a time inside its window" in message


def test_a_dose_given_before_it_is_made_is_refused(pluvicto: TherapyProduct) -> None:
    with pytest.raises(DoseOutsideWindow, match="not made until its calibration"):
        dose(pluvicto, 7.4).check_administration(T - timedelta(hours=1))


def test_a_dose_given_too_early_is_out_of_tolerance(xofigo: TherapyProduct) -> None:
    reference = Dose.calibrated_for("d-1", xofigo, "b-1", T, Activity.from_mbq(4.4))
    with pytest.raises(DoseOutsideWindow, match="outside the Xofigo tolerance"):
        reference.check_administration(T - timedelta(days=5))


def test_a_dose_before_its_release_is_refused(pluvicto: TherapyProduct) -> None:
    released_at = T + timedelta(hours=6)
    with pytest.raises(DoseOutsideWindow, match=r"not released until 2026-03-02T15:00:00\+00:00"):
        dose(pluvicto, 7.4, released_at=released_at).check_administration(T + timedelta(hours=5))


def test_a_dose_needs_some_activity(pluvicto: TherapyProduct) -> None:
    with pytest.raises(InvalidInput, match="calibration activity must be above 0 Bq"):
        dose(pluvicto, 0.0)


def _fate(
    product: TherapyProduct,
    dose_id: str,
    calibration_gbq: float,
    given_after: float | None = None,
    discarded_after: float | None = None,
    reason: DiscardReason | None = None,
) -> DoseFate:
    """A dose made at its calibration T, given or discarded a number of half-lives later."""
    return DoseFate(
        dose=dose(product, calibration_gbq, prescribed_gbq=7.4, dose_id=dose_id),
        made_at=T,
        given_at=None if given_after is None else after_half_lives(given_after),
        discarded_at=None if discarded_after is None else after_half_lives(discarded_after),
        reason=reason,
    )


def test_waste_adds_up_made_given_lost_to_decay_and_discarded_by_reason(
    pluvicto: TherapyProduct,
) -> None:
    no_show, expired = DiscardReason.NO_SHOW, DiscardReason.EXPIRED
    fates = [
        _fate(pluvicto, "given-a-half-life-on", 14.8, given_after=1),  # 14.8 -> 7.4
        _fate(pluvicto, "given-at-once", 7.4, given_after=0),  # 7.4 -> 7.4
        _fate(pluvicto, "expired", 7.4, discarded_after=1, reason=expired),  # 7.4 -> 3.7
        _fate(pluvicto, "no-show", 7.4, discarded_after=0, reason=no_show),  # 7.4 -> 7.4
        _fate(pluvicto, "late-no-show", 29.6, discarded_after=2, reason=no_show),  # 29.6 -> 7.4
    ]
    summary = WasteSummary.of(fates)
    assert summary.doses_made == 5
    assert summary.doses_given == 2
    assert summary.discarded == Counter({no_show: 2, expired: 1})
    assert summary.made.bq == pytest.approx((14.8 + 7.4 + 7.4 + 7.4 + 29.6) * GBQ, rel=1e-12)
    assert summary.given.bq == pytest.approx((7.4 + 7.4) * GBQ, rel=1e-12)
    assert summary.lost_to_decay.bq == pytest.approx((7.4 + 0.0) * GBQ, rel=1e-12)
    assert summary.discarded_activity.bq == pytest.approx((3.7 + 7.4 + 7.4) * GBQ, rel=1e-12)


def test_no_doses_waste_nothing() -> None:
    summary = WasteSummary.of([])
    assert (summary.doses_made, summary.doses_given) == (0, 0)
    assert summary.made == summary.given == summary.discarded_activity == Activity(0.0)
    assert summary.discarded == Counter()


def test_a_fate_is_either_given_or_discarded_not_both(pluvicto: TherapyProduct) -> None:
    with pytest.raises(InvalidInput, match="either when it was given or discarded"):
        _fate(pluvicto, "both", 7.4, 0, discarded_after=0, reason=DiscardReason.NO_SHOW)
    with pytest.raises(InvalidInput, match="either when it was given or discarded"):
        _fate(pluvicto, "neither", 7.4)


def test_a_fate_cannot_end_before_the_dose_was_made(pluvicto: TherapyProduct) -> None:
    with pytest.raises(InvalidInput, match="cannot end before it was made"):
        _fate(pluvicto, "early", 7.4, given_after=-0.1)


def test_a_discarded_dose_needs_its_reason(pluvicto: TherapyProduct) -> None:
    with pytest.raises(InvalidInput, match="needs its reason"):
        _fate(pluvicto, "why", 7.4, discarded_after=0)


def test_a_given_dose_is_never_counted_as_discarded(pluvicto: TherapyProduct) -> None:
    try:
        fate = _fate(pluvicto, "given", 7.4, given_after=0, reason=DiscardReason.NO_SHOW)
    except InvalidInput:
        return  # refusing the contradiction is also correct
    summary = WasteSummary.of([fate])
    assert summary.discarded == Counter()
    assert summary.discarded_activity == Activity(0.0)
