"""What was recorded of a dose on its way, step by step: facts, not the plan.

At release the manufacturer records the activity measured at calibration, the QC
result and the lot; at shipping the courier and the tracking reference; at delivery
the time received; at administration the activity assayed before and left after, the
time, and who gave it. The dose's record, its waste and the registry read these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rltnet.domain.errors import InvalidInput
from rltnet.domain.units import Activity, require_aware


@dataclass(frozen=True, slots=True)
class ReleaseRecord:
    """The dose as measured and released after QC."""

    calibration_at: datetime  # when the activity was measured
    calibration_activity: Activity
    qc_result: str
    lot: str

    def __post_init__(self) -> None:
        require_aware(self.calibration_at, "calibration_at")
        if self.calibration_activity.bq <= 0:
            raise InvalidInput("the measured calibration activity must be above 0 Bq")
        if not self.lot.strip():
            raise InvalidInput("give the dose's lot number as printed on the vial")


@dataclass(frozen=True, slots=True)
class ShippingRecord:
    """Who carries the dose, and the reference to follow it by."""

    courier: str
    tracking: str


@dataclass(frozen=True, slots=True)
class AdministrationRecord:
    """The activity given: assayed in the syringe or vial before, and left in it after.

    Both readings are taken minutes apart at the infusion, so the decay between them
    is neglected (0.02 % for Lu-177 over 30 min).
    """

    assayed: Activity
    residual: Activity
    given_by: str

    def __post_init__(self) -> None:
        if self.assayed.bq <= 0:
            raise InvalidInput("the assayed activity must be above 0 Bq")
        if not 0 <= self.residual.bq <= self.assayed.bq:
            raise InvalidInput(
                f"the residual activity {self.residual} must lie between 0 and the assayed {self.assayed}"
            )
        if not self.given_by.strip():
            raise InvalidInput("say who gave the dose")

    @property
    def administered(self) -> Activity:
        return Activity(self.assayed.bq - self.residual.bq)


@dataclass(frozen=True, slots=True)
class DoseRecord:
    """One order's dose as recorded so far: when each step happened, and its facts."""

    order_id: str
    production_started_at: datetime | None = None
    released_at: datetime | None = None
    release: ReleaseRecord | None = None
    qc_failed_at: datetime | None = None
    shipped_at: datetime | None = None
    shipping: ShippingRecord | None = None
    delivered_at: datetime | None = None
    missed_at: datetime | None = None
    administered_at: datetime | None = None
    administration: AdministrationRecord | None = None

    @property
    def shipment_status(self) -> str:
        """The shipment's status as recorded: planned, in transit, delivered or missed."""
        if self.missed_at is not None:
            return "missed"
        if self.delivered_at is not None:
            return "delivered"
        return "in transit" if self.shipped_at is not None else "planned"
