"""Radioactive decay of a dose, from ICRP-107 nuclear data.

Half-lives come from radioactivedecay's ICRP-107 data set, never from a constant
typed in here. A dose is one radionuclide decaying from its calibration:

    A(t) = A_cal * 2 ** (-(t - t_cal) / T_half)

which is exact for the therapy nuclides in use (Lu-177 -> Hf-177, Y-90 -> Zr-90
and Ra-223 as the labelled parent activity; the label states the parent's
activity, not the daughters'). radioactivedecay is imported lazily, on the first
nuclide looked up, because importing it costs about a second.

Scalar functions take `Activity`, aware `datetime` and `timedelta`; the ``*_bq``
functions take NumPy arrays of seconds and becquerels for the planner and the
simulator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import numpy as np
import numpy.typing as npt

from rltnet.domain.errors import InvalidInput
from rltnet.domain.units import Activity, after, elapsed

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Nuclide:
    """A radionuclide and its half-life (ICRP-107 via radioactivedecay)."""

    symbol: str
    half_life: timedelta

    @property
    def half_life_s(self) -> float:
        return self.half_life.total_seconds()

    @property
    def decay_constant_per_s(self) -> float:
        return math.log(2) / self.half_life_s


@cache
def nuclide(symbol: str) -> Nuclide:
    """Look up a nuclide ('Lu-177', 'Lu177' or '177Lu') in ICRP-107.

    >>> nuclide("Lu-177").half_life.total_seconds() / 86400
    6.647
    """
    import radioactivedecay as rd  # lazy: about 1 s to import

    try:
        found = rd.Nuclide(symbol)
    except ValueError:
        raise InvalidInput(
            f"unknown nuclide {symbol!r}; write it as element-mass, e.g. 'Lu-177', 'Ra-223'"
        ) from None
    half_life_s = float(found.half_life("s"))
    if not math.isfinite(half_life_s):
        raise InvalidInput(f"{found.nuclide} is stable; a therapy or imaging nuclide must decay")
    return Nuclide(symbol=str(found.nuclide), half_life=timedelta(seconds=half_life_s))


def decay_factor(radionuclide: Nuclide, elapsed: timedelta) -> float:
    """Fraction of activity left after `elapsed` (above 1 for negative `elapsed`)."""
    return math.exp(-radionuclide.decay_constant_per_s * elapsed.total_seconds())


def activity_at(
    radionuclide: Nuclide, calibration: Activity, calibration_at: datetime, at: datetime
) -> Activity:
    """Activity at `at` of a dose holding `calibration` at `calibration_at`."""
    return calibration * decay_factor(radionuclide, elapsed(calibration_at, at))


def calibration_activity_for(
    radionuclide: Nuclide, target: Activity, target_at: datetime, calibration_at: datetime
) -> Activity:
    """Activity to state at `calibration_at` so that the dose holds `target` at `target_at`."""
    return target * (1.0 / decay_factor(radionuclide, elapsed(calibration_at, target_at)))


def time_to_decay(radionuclide: Nuclide, start: Activity, end: Activity) -> timedelta:
    """Time for `start` to decay to `end` (negative when `end` is above `start`)."""
    if start.bq <= 0 or end.bq <= 0:
        raise InvalidInput(f"decay time needs positive activities, got {start} and {end}")
    return timedelta(seconds=math.log2(start / end) * radionuclide.half_life_s)


def crossing_at(
    radionuclide: Nuclide, calibration: Activity, calibration_at: datetime, threshold: Activity
) -> datetime:
    """The instant at which the dose's activity equals `threshold`.

    Before calibration when `threshold` is above the calibration activity.
    """
    return after(calibration_at, time_to_decay(radionuclide, calibration, threshold))


# Vectorised forms for bulk work: seconds and becquerels as float64 arrays.


def activity_bq(
    radionuclide: Nuclide, calibration_bq: FloatArray | float, elapsed_s: FloatArray | float
) -> FloatArray:
    """Activities (Bq) after `elapsed_s` seconds from calibration, element-wise."""
    return np.asarray(calibration_bq, dtype=np.float64) * np.exp(
        -radionuclide.decay_constant_per_s * np.asarray(elapsed_s, dtype=np.float64)
    )


def calibration_bq_for(
    radionuclide: Nuclide, target_bq: FloatArray | float, lead_s: FloatArray | float
) -> FloatArray:
    """Calibration activities (Bq) that decay to `target_bq` after `lead_s` seconds."""
    return np.asarray(target_bq, dtype=np.float64) * np.exp(
        radionuclide.decay_constant_per_s * np.asarray(lead_s, dtype=np.float64)
    )


def seconds_to_decay(
    radionuclide: Nuclide, start_bq: FloatArray | float, end_bq: FloatArray | float
) -> FloatArray:
    """Seconds for `start_bq` to decay to `end_bq`, element-wise."""
    return np.log2(np.asarray(start_bq, np.float64) / np.asarray(end_bq, np.float64)) * (
        radionuclide.half_life_s
    )
