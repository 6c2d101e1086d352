"""A produced dose, the window in which it may be given, and what is wasted.

A dose is calibrated: its vial holds `calibration_activity` at `calibration_at`,
and is filled so that it holds the prescribed activity (7.4 GBq for Pluvicto and
Lutathera) at the planned administration. It may be given while its activity lies
inside the product's tolerance band around the prescribed activity, after QC
release and before expiry. Unless the product states its activity at a reference
time instead (Xofigo's reference date, usable from 14 days before), calibration
is when the dose is made, so it cannot be given earlier.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from rltnet.domain import decay
from rltnet.domain.errors import DoseOutsideWindow, InvalidInput
from rltnet.domain.products import TherapyProduct
from rltnet.domain.units import Activity, after, require_aware

# Relative slack on the tolerance band when checking a given activity: float rounding
# only, far below anything a dose calibrator measures.
_BAND_SLACK = 1e-12


class WindowLimit(enum.StrEnum):
    """What sets an end of the administration window."""

    TOLERANCE = "tolerance"
    EXPIRY = "expiry"
    RELEASE = "release"
    CALIBRATION = "calibration"


@dataclass(frozen=True, slots=True)
class AdministrationWindow:
    """Earliest and latest instants (inclusive) at which a dose may be given."""

    earliest_at: datetime
    latest_at: datetime
    earliest_limited_by: WindowLimit
    latest_limited_by: WindowLimit

    def contains(self, at: datetime) -> bool:
        return self.earliest_at <= require_aware(at, "at") <= self.latest_at


@dataclass(frozen=True, slots=True)
class Dose:
    """One patient's dose from one batch.

    `prescribed` is the activity wanted at administration; it defaults to the
    calibration activity, as the label calibrates for the time of administration.
    """

    dose_id: str
    product: TherapyProduct
    batch_id: str
    calibration_at: datetime
    calibration_activity: Activity
    expiry_at: datetime
    prescribed: Activity | None = None
    released_at: datetime | None = None

    def __post_init__(self) -> None:
        require_aware(self.calibration_at, "calibration_at")
        require_aware(self.expiry_at, "expiry_at")
        if self.released_at is not None:
            require_aware(self.released_at, "released_at")
        if self.calibration_activity.bq <= 0:
            raise InvalidInput(f"dose {self.dose_id}: calibration activity must be above 0 Bq")

    @classmethod
    def calibrated_for(
        cls,
        dose_id: str,
        product: TherapyProduct,
        batch_id: str,
        calibration_at: datetime,
        calibration_activity: Activity,
        released_at: datetime | None = None,
    ) -> Dose:
        """A dose whose expiry is the product's shelf life after calibration."""
        return cls(
            dose_id=dose_id,
            product=product,
            batch_id=batch_id,
            calibration_at=calibration_at,
            calibration_activity=calibration_activity,
            expiry_at=after(calibration_at, product.shelf_life),
            released_at=released_at,
        )

    @property
    def made_at(self) -> datetime | None:
        """When the dose came to exist: its calibration, unless that is a reference time."""
        return None if self.product.calibration_convention == "reference_time" else self.calibration_at

    @property
    def target(self) -> Activity:
        return self.prescribed if self.prescribed is not None else self.calibration_activity

    def activity_at(self, at: datetime) -> Activity:
        return decay.activity_at(self.product.nuclide, self.calibration_activity, self.calibration_at, at)

    def window(self) -> AdministrationWindow | None:
        """The administration window, or None when the dose is never usable."""
        low, high = self.product.tolerance_band(self.target)
        nuclide = self.product.nuclide
        earliest = _whole_microseconds(
            decay.crossing_at(nuclide, self.calibration_activity, self.calibration_at, high),
            up=True,
        )
        earliest_by = WindowLimit.TOLERANCE
        if self.made_at is not None and self.made_at > earliest:
            earliest, earliest_by = self.made_at, WindowLimit.CALIBRATION
        if self.released_at is not None and self.released_at > earliest:
            earliest, earliest_by = self.released_at, WindowLimit.RELEASE
        latest = _whole_microseconds(
            decay.crossing_at(nuclide, self.calibration_activity, self.calibration_at, low),
            up=False,
        )
        latest_by = WindowLimit.TOLERANCE
        if self.expiry_at < latest:
            latest, latest_by = self.expiry_at, WindowLimit.EXPIRY
        if earliest > latest:
            return None
        return AdministrationWindow(earliest, latest, earliest_by, latest_by)

    def check_administration(self, at: datetime) -> Activity:
        """Activity given at `at`; raises `DoseOutsideWindow` saying why it may not be given."""
        at = require_aware(at, "at")
        given = self.activity_at(at)
        low, high = self.product.tolerance_band(self.target)
        if self.released_at is not None and at < self.released_at:
            raise DoseOutsideWindow(
                f"dose {self.dose_id} is not released until {self.released_at.isoformat()}"
            )
        if self.made_at is not None and at < self.made_at:
            raise DoseOutsideWindow(
                f"dose {self.dose_id} is not made until its calibration at {self.made_at.isoformat()}"
            )
        if at > self.expiry_at:
            raise DoseOutsideWindow(
                f"dose {self.dose_id} expired at {self.expiry_at.isoformat()}; discard it and re-order"
            )
        if not low.bq * (1 - _BAND_SLACK) <= given.bq <= high.bq * (1 + _BAND_SLACK):
            raise DoseOutsideWindow(
                f"dose {self.dose_id} holds {given} at {at.isoformat()}, outside the "
                f"{self.product.brand} tolerance {low}-{high}; choose a time inside its window"
            )
        return given


class DiscardReason(enum.StrEnum):
    """Why a made dose was not given."""

    EXPIRED = "expired"
    OUT_OF_TOLERANCE = "out_of_tolerance"
    QC_FAILED = "qc_failed"
    TRANSPORT_DELAY = "transport_delay"
    PATIENT_CANCELLED = "patient_cancelled"
    NO_SHOW = "no_show"
    PATIENT_INELIGIBLE = "patient_ineligible"
    NO_CHAIR = "no_chair"


@dataclass(frozen=True, slots=True)
class DoseFate:
    """What became of a made dose: given (with its time) or discarded (with its reason)."""

    dose: Dose
    made_at: datetime
    given_at: datetime | None = None
    discarded_at: datetime | None = None
    reason: DiscardReason | None = None

    def __post_init__(self) -> None:
        if (self.given_at is None) == (self.discarded_at is None):
            raise InvalidInput(f"dose {self.dose.dose_id}: say either when it was given or discarded")
        if (self.discarded_at is not None) != (self.reason is not None):
            raise InvalidInput(
                f"dose {self.dose.dose_id}: a discarded dose needs its reason, and only a "
                f"discarded dose has one"
            )
        if self.end_at < self.made_at:
            raise InvalidInput(f"dose {self.dose.dose_id}: it cannot end before it was made")

    @property
    def end_at(self) -> datetime:
        """When the dose was given or discarded."""
        end = self.given_at if self.given_at is not None else self.discarded_at
        assert end is not None  # guarded in __post_init__
        return end

    @property
    def made_activity(self) -> Activity:
        return self.dose.activity_at(self.made_at)

    @property
    def end_activity(self) -> Activity:
        return self.dose.activity_at(self.end_at)


@dataclass(frozen=True, slots=True)
class WasteSummary:
    """Activity made, given and lost, and doses discarded by reason."""

    doses_made: int
    doses_given: int
    discarded: Counter[DiscardReason]
    made: Activity
    given: Activity
    lost_to_decay: Activity  # decay between making and giving, of the doses given
    discarded_activity: Activity  # activity of discarded doses when discarded

    @classmethod
    def of(cls, fates: Iterable[DoseFate]) -> WasteSummary:
        fates = list(fates)
        given = [f for f in fates if f.given_at is not None]
        thrown = [f for f in fates if f.reason is not None]
        return cls(
            doses_made=len(fates),
            doses_given=len(given),
            discarded=Counter(f.reason for f in thrown if f.reason is not None),
            made=_total(f.made_activity for f in fates),
            given=_total(f.end_activity for f in given),
            lost_to_decay=_total(f.made_activity - f.end_activity for f in given),
            discarded_activity=_total(f.end_activity for f in thrown),
        )


def _total(activities: Iterable[Activity]) -> Activity:
    return Activity(sum(a.bq for a in activities))


def _whole_microseconds(moment: datetime, *, up: bool) -> datetime:
    """`moment` moved one microsecond inward, so that a window's ends are inside the band
    despite the rounding of instants to whole microseconds."""
    return moment + timedelta(microseconds=1 if up else -1)
