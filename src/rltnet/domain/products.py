"""The product catalogue: therapy radiopharmaceuticals and eligibility imaging agents.

Every figure comes from a product label or another public source; each product
carries, per figure, the `Source` it was read in (see ``data/products.yaml``).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar

from rltnet.domain.decay import Nuclide
from rltnet.domain.errors import InvalidInput, RltnetError, UnknownName
from rltnet.domain.units import Activity, after, require_aware


@dataclass(frozen=True, slots=True)
class Source:
    """Where a figure was read: a citation and, where public, its address."""

    key: str
    citation: str
    url: str | None = None
    kind: str = "label"  # label | literature | regulation | press | assumption


class DoseNotAllowed(RltnetError):
    """The product's label rules forbid this dose (e.g. platelets below the floor)."""


@dataclass(frozen=True, slots=True)
class PlateletBand:
    """Per-kg activity for patients whose platelet count is at least `min_platelets_per_mm3`."""

    min_platelets_per_mm3: int
    per_kg: Activity


@dataclass(frozen=True, slots=True)
class FixedActivity:
    """The same activity for every patient (e.g. 7.4 GBq at administration)."""

    activity: Activity

    def prescribe(self, weight_kg: float | None = None, platelets_per_mm3: int | None = None) -> Activity:
        return self.activity


@dataclass(frozen=True, slots=True)
class PerKgActivity:
    """Activity by body weight, optionally banded by platelet count and capped.

    With `platelet_bands`, the band with the highest floor at or below the
    patient's count applies; below every floor the dose is not allowed.
    """

    per_kg: Activity
    cap: Activity | None = None
    platelet_bands: tuple[PlateletBand, ...] = ()

    def prescribe(self, weight_kg: float | None = None, platelets_per_mm3: int | None = None) -> Activity:
        if weight_kg is None or not 0 < weight_kg < 500:
            raise InvalidInput(
                f"this product is dosed per kg: give the patient's weight in kg (0-500), got {weight_kg!r}"
            )
        per_kg = self._per_kg_for(platelets_per_mm3)
        activity = per_kg * weight_kg
        return min(activity, self.cap) if self.cap is not None else activity

    def _per_kg_for(self, platelets_per_mm3: int | None) -> Activity:
        if not self.platelet_bands:
            return self.per_kg
        if platelets_per_mm3 is None:
            raise InvalidInput("this product is dosed by platelet count: give platelets per mm³")
        eligible = [b for b in self.platelet_bands if platelets_per_mm3 >= b.min_platelets_per_mm3]
        if not eligible:
            floor = min(b.min_platelets_per_mm3 for b in self.platelet_bands)
            raise DoseNotAllowed(
                f"platelets {platelets_per_mm3:,}/mm³ are below {floor:,}/mm³: "
                f"the label forbids treatment; re-test before re-ordering"
            )
        return max(eligible, key=lambda b: b.min_platelets_per_mm3).per_kg


ActivityRule = FixedActivity | PerKgActivity


@dataclass(frozen=True, slots=True)
class DoseReduction:
    """A reduced activity the label allows, when, and how often."""

    activity: Activity
    conditions: tuple[str, ...]
    max_reductions: int
    may_return_to_full: bool


@dataclass(frozen=True, slots=True)
class CycleSchedule:
    """Number of cycles and the interval between administrations, with its allowed slack."""

    cycles: int
    interval: timedelta
    interval_tolerance: timedelta

    @property
    def earliest_interval(self) -> timedelta:
        return self.interval - self.interval_tolerance

    @property
    def latest_interval(self) -> timedelta:
        return self.interval + self.interval_tolerance

    def next_cycle_window(self, previous_at: datetime) -> tuple[datetime, datetime]:
        """Earliest and latest administration of the next cycle after `previous_at`."""
        previous_at = require_aware(previous_at, "previous_at")
        return after(previous_at, self.earliest_interval), after(previous_at, self.latest_interval)


@dataclass(frozen=True, slots=True)
class CoInfusion:
    """An infusion given alongside the dose (e.g. renal-protective amino acids)."""

    name: str
    starts_before_dose: timedelta
    duration: timedelta | None = None


@dataclass(frozen=True, slots=True)
class VialFill:
    """A vial filled at a fixed activity concentration at calibration, its volume chosen so
    that it holds the prescribed activity at the planned administration.

    The fill-volume range bounds how long before administration the dose may be
    calibrated: at least long enough to decay from the smallest fill, at most from
    the largest.
    """

    concentration_per_ml: Activity
    min_volume_ml: float
    max_volume_ml: float

    def calibration_lead(self, nuclide: Nuclide, prescribed: Activity) -> tuple[timedelta, timedelta]:
        """Shortest and longest time from calibration to administration the fill allows."""
        half_life_s = nuclide.half_life_s
        low = self.concentration_per_ml * self.min_volume_ml
        high = self.concentration_per_ml * self.max_volume_ml
        shortest = max(0.0, math.log2(low / prescribed)) * half_life_s
        longest = math.log2(high / prescribed) * half_life_s
        return timedelta(seconds=shortest), timedelta(seconds=max(0.0, longest))


class Weekday(enum.IntEnum):
    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


@dataclass(frozen=True, slots=True)
class CancellationTier:
    """Cancelling at least `before_calibration` ahead of calibration costs `fee`."""

    before_calibration: timedelta
    fee: str


@dataclass(frozen=True, slots=True)
class OrderingRules:
    """When an order must be in, how fast it is confirmed, and what cancelling costs.

    The order deadline is the latest `order_by_weekday` on or before
    ``calibration_date - lead_time`` (for Lutathera: the Tuesday two weeks ahead);
    without a weekday, simply ``calibration_date - lead_time``.
    """

    lead_time: timedelta | None = None
    confirmation_target: timedelta | None = None
    order_by_weekday: Weekday | None = None
    calibration_weekdays: frozenset[Weekday] = frozenset()
    cancellation_tiers: tuple[CancellationTier, ...] = ()  # most generous first
    late_cancellation_fee: str | None = None
    terms_country: str | None = None  # ISO 3166 country the cancellation terms are published for

    def order_deadline(self, calibration_date: date) -> date:
        deadline = calibration_date - (self.lead_time or timedelta(0))
        if self.order_by_weekday is not None:
            deadline -= timedelta(days=(deadline.weekday() - self.order_by_weekday) % 7)
        return deadline

    def cancellation_fee(self, cancel_at: datetime, calibration_at: datetime) -> str | None:
        """The fee for cancelling at `cancel_at`; None where no tier is published."""
        ahead = require_aware(calibration_at, "calibration_at") - require_aware(cancel_at, "cancel_at")
        for tier in self.cancellation_tiers:
            if ahead >= tier.before_calibration:
                return tier.fee
        return self.late_cancellation_fee

    def cancellation_in(
        self, brand: str, country: str, cancel_at: datetime, calibration_at: datetime | None
    ) -> tuple[str | None, str]:
        """The fee for cancelling at `cancel_at` at a centre in `country` (ISO 3166), and what
        it means in words: terms published for another country are not applied.

        `calibration_at` is the dose's planned calibration; None when no dose is placed yet.
        """
        if calibration_at is None:
            return None, "no fee: no dose is placed on a batch yet"
        if not self.cancellation_tiers and self.late_cancellation_fee is None:
            return None, f"no fee: {brand} publishes no cancellation terms"
        if self.terms_country is not None and self.terms_country != country:
            return None, (
                f"no published fee: the {brand} cancellation terms are published for "
                f"{self.terms_country}, none for {country}; agree any fee with the manufacturer"
            )
        fee = self.cancellation_fee(cancel_at, calibration_at)
        if fee is None or fee == "none":
            return None, f"no fee under the {brand} terms ({country}) this long before calibration"
        return fee, f"fee under the {brand} terms ({country}): {fee}"


@dataclass(frozen=True, slots=True)
class EligibilityCheck:
    """One condition of the label the MDT confirms before approving (e.g. 'no known visceral
    metastatic disease'), for therapies whose eligibility is not shown by a PET."""

    check_id: str
    question: str


@dataclass(frozen=True, slots=True)
class Eligibility:
    """The imaging that proves eligibility and the criterion it must meet, or, for therapies
    without eligibility imaging, the label's conditions the MDT confirms (`checks`)."""

    target: str  # PSMA | SSTR | CD20 | bone
    imaging_agents: tuple[str, ...]
    criterion: str
    checks: tuple[EligibilityCheck, ...] = ()

    @property
    def needs_imaging(self) -> bool:
        return bool(self.imaging_agents)

    def unmet(self, confirmed: tuple[str, ...]) -> tuple[EligibilityCheck, ...]:
        """The label's checks not among the `confirmed` check ids."""
        return tuple(check for check in self.checks if check.check_id not in confirmed)


@dataclass(frozen=True, slots=True)
class TherapyProduct:
    """A therapy radiopharmaceutical, its label rules and their sources."""

    product_id: str
    brand: str
    name: str
    nuclide: Nuclide
    indications: tuple[str, ...]
    activity: ActivityRule
    tolerance: float  # fraction either side of the prescribed activity, e.g. 0.10
    shelf_life: timedelta  # from calibration/production to expiry
    schedule: CycleSchedule
    appointment: timedelta
    infusion: timedelta
    eligibility: Eligibility
    ordering: OrderingRules
    reduction: DoseReduction | None = None
    co_infusions: tuple[CoInfusion, ...] = ()
    premedication: tuple[str, ...] = ()
    calibration_convention: str = "at_administration"
    vial: VialFill | None = None
    sources: Mapping[str, Source] = field(default_factory=dict)
    notes: Mapping[str, str] = field(default_factory=dict)

    def prescribe(self, weight_kg: float | None = None, platelets_per_mm3: int | None = None) -> Activity:
        """The full activity for a patient, by the label's rule."""
        return self.activity.prescribe(weight_kg, platelets_per_mm3)

    def tolerance_band(self, prescribed: Activity) -> tuple[Activity, Activity]:
        """Lowest and highest activity at administration that the label accepts."""
        return prescribed * (1 - self.tolerance), prescribed * (1 + self.tolerance)


@dataclass(frozen=True, slots=True)
class ImagingAgent:
    """A PET tracer that shows whether a patient is eligible for a therapy."""

    product_id: str
    brand: str
    name: str
    nuclide: Nuclide
    target: str
    activity_min: Activity | None
    activity_max: Activity | None
    per_kg: Activity | None
    uptake_min: timedelta | None
    uptake_max: timedelta | None
    shelf_life: timedelta | None
    sources: Mapping[str, Source] = field(default_factory=dict)
    notes: Mapping[str, str] = field(default_factory=dict)


Product = TherapyProduct | ImagingAgent
_P = TypeVar("_P", TherapyProduct, ImagingAgent)


@dataclass(frozen=True)
class Catalogue:
    """All products by id; look-ups by id or brand, in any case."""

    therapies: Mapping[str, TherapyProduct]
    imaging_agents: Mapping[str, ImagingAgent]
    sources: Mapping[str, Source]

    def __iter__(self) -> Iterator[Product]:
        yield from self.therapies.values()
        yield from self.imaging_agents.values()

    def therapy(self, name: str) -> TherapyProduct:
        """The therapy whose id or brand is `name` (any case)."""
        found = _find(self.therapies, name)
        if found is None:
            known = [p.product_id for p in self.therapies.values()]
            known += [p.brand for p in self.therapies.values()]
            raise UnknownName("therapy product", name, known)
        return found

    def imaging_agent(self, name: str) -> ImagingAgent:
        found = _find(self.imaging_agents, name)
        if found is None:
            raise UnknownName("imaging agent", name, self.imaging_agents)
        return found


def _find(products: Mapping[str, _P], name: str) -> _P | None:
    wanted = name.strip().casefold()
    for product in products.values():
        if wanted in (product.product_id.casefold(), product.brand.casefold()):
            return product
    return None
