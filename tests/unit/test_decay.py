"""Decay equals radioactivedecay (ICRP-107) to 1e-12 relative, scalar and vectorised."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import radioactivedecay as rd
from hypothesis import given, settings
from hypothesis import strategies as st

from rltnet.domain import decay
from rltnet.domain.errors import InvalidInput
from rltnet.domain.units import Activity

NUCLIDES = ["Lu-177", "Ra-223", "Y-90", "Ga-68", "F-18", "Cu-64"]
CALIBRATION_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RELATIVE = 1e-12
ONE_MICROSECOND = timedelta(microseconds=1)

half_lives = st.floats(min_value=0.0, max_value=4.0)  # elapsed time, in half-lives
becquerels = st.floats(min_value=1e3, max_value=1e13)  # 1 kBq to 10 TBq
examples = settings(max_examples=25, deadline=None)


def reference_activity(symbol: str, start_bq: float, elapsed_s: float) -> float:
    """The activity radioactivedecay gives for `symbol` after `elapsed_s` seconds."""
    inventory = rd.Inventory({symbol: start_bq}, "Bq")
    return float(inventory.decay(elapsed_s, "s").activities("Bq")[symbol])


def reference_half_life_s(symbol: str) -> float:
    return float(rd.Nuclide(symbol).half_life("s"))


def elapsed(symbol: str, in_half_lives: float) -> timedelta:
    return timedelta(seconds=in_half_lives * reference_half_life_s(symbol))


@pytest.mark.parametrize("symbol", NUCLIDES)
def test_a_half_life_comes_from_radioactivedecay(symbol: str) -> None:
    assert decay.nuclide(symbol).half_life_s == pytest.approx(reference_half_life_s(symbol), rel=RELATIVE)


@pytest.mark.parametrize(
    ("symbol", "half_life"),
    [
        ("Lu-177", timedelta(days=6.647)),
        ("Ra-223", timedelta(days=11.43)),
        ("Y-90", timedelta(hours=64.10)),
        ("Ga-68", timedelta(minutes=67.71)),
        ("F-18", timedelta(minutes=109.77)),
        ("Cu-64", timedelta(hours=12.700)),
    ],
)
def test_half_lives_are_the_icrp_107_values(symbol: str, half_life: timedelta) -> None:
    assert decay.nuclide(symbol).half_life == half_life


@pytest.mark.parametrize("written", ["Lu-177", "Lu177", "177Lu", "lu-177"])
def test_a_nuclide_may_be_written_in_the_usual_ways(written: str) -> None:
    assert decay.nuclide(written).symbol == "Lu-177"


@pytest.mark.parametrize("symbol", ["Xx-999", "Lu-999", "Lutetium", ""])
def test_an_unknown_nuclide_is_refused_with_how_to_write_one(symbol: str) -> None:
    with pytest.raises(InvalidInput, match=r"write it as element-mass, e\.g\. 'Lu-177'"):
        decay.nuclide(symbol)


@pytest.mark.parametrize("symbol", ["Hf-177", "Zr-90", "Pb-207"])
def test_a_stable_nuclide_is_refused_because_a_dose_must_decay(symbol: str) -> None:
    with pytest.raises(InvalidInput, match="is stable"):
        decay.nuclide(symbol)


@pytest.mark.parametrize("symbol", NUCLIDES)
def test_one_half_life_halves_the_activity(symbol: str) -> None:
    radionuclide = decay.nuclide(symbol)
    later = CALIBRATION_AT + radionuclide.half_life
    assert decay.activity_at(
        radionuclide, Activity.from_gbq(7.4), CALIBRATION_AT, later
    ).gbq == pytest.approx(3.7, rel=RELATIVE)


@pytest.mark.parametrize("symbol", NUCLIDES)
@given(in_half_lives=half_lives, start_bq=becquerels)
@examples
def test_activity_at_equals_radioactivedecay(symbol: str, in_half_lives: float, start_bq: float) -> None:
    after = elapsed(symbol, in_half_lives)  # whole microseconds: the same span for both
    ours = decay.activity_at(
        decay.nuclide(symbol), Activity(start_bq), CALIBRATION_AT, CALIBRATION_AT + after
    )
    expected = reference_activity(symbol, start_bq, after.total_seconds())
    assert ours.bq == pytest.approx(expected, rel=RELATIVE)


@pytest.mark.parametrize("symbol", NUCLIDES)
@given(
    in_half_lives=st.lists(half_lives, min_size=1, max_size=5),
    start_bq=st.lists(becquerels, min_size=5, max_size=5),
)
@examples
def test_vectorised_activity_equals_radioactivedecay_element_by_element(
    symbol: str, in_half_lives: list[float], start_bq: list[float]
) -> None:
    seconds = np.array(in_half_lives) * reference_half_life_s(symbol)
    starts = np.array(start_bq[: len(in_half_lives)])
    ours = decay.activity_bq(decay.nuclide(symbol), starts, seconds)
    expected = [reference_activity(symbol, a, t) for a, t in zip(starts, seconds, strict=True)]
    assert ours.shape == seconds.shape
    np.testing.assert_allclose(ours, expected, rtol=RELATIVE, atol=0)


@pytest.mark.parametrize("symbol", NUCLIDES)
@given(in_half_lives=half_lives, target_bq=becquerels)
@examples
def test_calibration_activity_decays_to_the_target_by_radioactivedecay(
    symbol: str, in_half_lives: float, target_bq: float
) -> None:
    radionuclide = decay.nuclide(symbol)
    lead = elapsed(symbol, in_half_lives)
    target_at = CALIBRATION_AT + lead
    calibration = decay.calibration_activity_for(radionuclide, Activity(target_bq), target_at, CALIBRATION_AT)
    vectorised = decay.calibration_bq_for(radionuclide, np.array([target_bq]), lead.total_seconds())
    assert reference_activity(symbol, calibration.bq, lead.total_seconds()) == pytest.approx(
        target_bq, rel=RELATIVE
    )
    assert reference_activity(symbol, float(vectorised[0]), lead.total_seconds()) == (
        pytest.approx(target_bq, rel=RELATIVE)
    )


@pytest.mark.parametrize("symbol", NUCLIDES)
@given(in_half_lives=half_lives, start_bq=becquerels)
@examples
def test_seconds_to_decay_reach_the_threshold_by_radioactivedecay(
    symbol: str, in_half_lives: float, start_bq: float
) -> None:
    threshold_bq = start_bq * 2.0**-in_half_lives
    seconds = decay.seconds_to_decay(decay.nuclide(symbol), start_bq, threshold_bq)
    assert reference_activity(symbol, start_bq, float(seconds)) == pytest.approx(threshold_bq, rel=RELATIVE)


@pytest.mark.parametrize("symbol", NUCLIDES)
@given(in_half_lives=half_lives, start_bq=becquerels)
@examples
def test_crossing_at_is_the_microsecond_the_activity_passes_the_threshold(
    symbol: str, in_half_lives: float, start_bq: float
) -> None:
    threshold_bq = start_bq * 2.0**-in_half_lives
    crossing = decay.crossing_at(
        decay.nuclide(symbol), Activity(start_bq), CALIBRATION_AT, Activity(threshold_bq)
    )
    just_before = (crossing - ONE_MICROSECOND - CALIBRATION_AT).total_seconds()
    just_after = (crossing + ONE_MICROSECOND - CALIBRATION_AT).total_seconds()
    assert reference_activity(symbol, start_bq, just_before) >= threshold_bq * (1 - RELATIVE)
    assert reference_activity(symbol, start_bq, just_after) <= threshold_bq * (1 + RELATIVE)


def test_a_threshold_above_the_calibration_activity_is_crossed_before_calibration() -> None:
    lu177 = decay.nuclide("Lu-177")
    crossing = decay.crossing_at(lu177, Activity.from_gbq(7.4), CALIBRATION_AT, Activity.from_gbq(14.8))
    assert crossing == CALIBRATION_AT - lu177.half_life


def test_activity_grows_back_before_calibration() -> None:
    lu177 = decay.nuclide("Lu-177")
    earlier = CALIBRATION_AT - 2 * lu177.half_life
    assert decay.activity_at(lu177, Activity.from_gbq(7.4), CALIBRATION_AT, earlier).gbq == pytest.approx(
        29.6, rel=RELATIVE
    )


def test_time_to_decay_is_negative_when_the_end_is_above_the_start() -> None:
    lu177 = decay.nuclide("Lu-177")
    assert decay.time_to_decay(lu177, Activity.from_gbq(1), Activity.from_gbq(4)) == (-2 * lu177.half_life)


@pytest.mark.parametrize(("start_gbq", "end_gbq"), [(0.0, 1.0), (1.0, 0.0)])
def test_decay_time_to_or_from_zero_activity_is_refused(start_gbq: float, end_gbq: float) -> None:
    with pytest.raises(InvalidInput, match="positive activities"):
        decay.time_to_decay(decay.nuclide("Lu-177"), Activity.from_gbq(start_gbq), Activity.from_gbq(end_gbq))


def test_the_decay_constant_is_ln2_over_the_half_life() -> None:
    lu177 = decay.nuclide("Lu-177")
    assert lu177.decay_constant_per_s == pytest.approx(
        math.log(2) / reference_half_life_s("Lu-177"), rel=RELATIVE
    )
