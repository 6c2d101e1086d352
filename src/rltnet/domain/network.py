"""The supply and treatment network: reactors, production sites, lanes, centres, demand.

Clock times in the network (batch times, departure cut-offs, opening hours) are
local wall-clock times of the place they belong to; each place carries its
`Calendar` (time zone and public holidays), and every instant the network hands
out is time-zone aware.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from rltnet.domain.errors import UnknownName
from rltnet.domain.products import Weekday
from rltnet.domain.units import Activity, require_aware

T = TypeVar("T")

# Mean Earth radius, IUGG value (Moritz, "Geodetic Reference System 1980", J. Geodesy 2000).
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A WGS 84 position in decimal degrees."""

    latitude: float
    longitude: float

    def distance_km(self, other: GeoPoint) -> float:
        """Great-circle (haversine) distance in km.

        >>> round(GeoPoint(51.5085, -0.1257).distance_km(GeoPoint(53.4809, -2.2374)))
        262
        """
        lat1, lat2 = math.radians(self.latitude), math.radians(other.latitude)
        dlat = lat2 - lat1
        dlon = math.radians(other.longitude - self.longitude)
        h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
        return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


class HolidayLookup(Protocol):
    """Public holidays of a place (the `holidays` package fills this at the edge)."""

    def __contains__(self, day: object) -> bool: ...

    def get(self, key: date, default: str | None = None) -> str | None: ...


@dataclass(frozen=True)
class Calendar:
    """A place's time zone and public holidays, e.g. Europe/London with England's bank holidays."""

    name: str
    time_zone: ZoneInfo
    holidays: HolidayLookup

    @property
    def country(self) -> str:
        """The ISO 3166 country of the holiday calendar ('GB' of 'GB-ENG')."""
        return self.name.split("-", 1)[0]

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays

    def at(self, day: date, clock: time) -> datetime:
        """The instant (in UTC) of local wall-clock `clock` on `day`.

        In UTC so that adding a transit time or a shelf life to it counts real hours,
        across clock changes too.
        """
        return datetime.combine(day, clock, tzinfo=self.time_zone).astimezone(UTC)

    def local_date(self, at: datetime) -> date:
        return require_aware(at, "at").astimezone(self.time_zone).date()


def _works_on(day: date, weekdays: frozenset[Weekday], calendar: Calendar) -> bool:
    return Weekday(day.weekday()) in weekdays and not calendar.is_holiday(day)


@dataclass(frozen=True, slots=True)
class IrradiationCycle:
    """A reactor operating cycle, first to last day inclusive."""

    start_date: date
    end_date: date


@dataclass(frozen=True, slots=True)
class Outage:
    """An unplanned or planned stop of a reactor, [start_at, end_at)."""

    start_at: datetime
    end_at: datetime
    reason: str

    def covers(self, day: date) -> bool:
        """Whether the reactor is stopped at any time of `day`."""
        last_day = (self.end_at - timedelta(microseconds=1)).date()
        return self.start_at.date() <= day <= last_day


@dataclass(frozen=True)
class Reactor:
    """A research reactor irradiating targets; delivers isotope on its delivery weekdays."""

    reactor_id: str
    name: str
    location: GeoPoint
    nuclides: tuple[str, ...]
    delivery: Activity  # isotope shipped on each delivery day while operating
    delivery_weekdays: frozenset[Weekday]
    cycles: tuple[IrradiationCycle, ...]
    outages: tuple[Outage, ...] = ()

    def is_operating(self, day: date) -> bool:
        """In a cycle and not stopped at any time of `day` (outage dates in their own offset)."""
        in_cycle = any(c.start_date <= day <= c.end_date for c in self.cycles)
        return in_cycle and not any(o.covers(day) for o in self.outages)

    def delivers_on(self, day: date) -> Activity:
        operating = Weekday(day.weekday()) in self.delivery_weekdays and self.is_operating(day)
        return self.delivery if operating else Activity(0.0)


@dataclass(frozen=True)
class ProductionSite:
    """Where isotope is bound to its ligand, filled into doses and released after QC.

    A batch starts at each of `batch_times` on production days; its doses are
    released `qc_release` after the start.
    """

    site_id: str
    name: str
    location: GeoPoint
    calendar: Calendar
    products: tuple[str, ...]
    production_weekdays: frozenset[Weekday]
    batch_times: tuple[time, ...]
    doses_per_batch: int
    qc_release: timedelta
    reactors: tuple[str, ...]
    calibration_convention: str = "at_administration"

    def produces_on(self, day: date) -> bool:
        return _works_on(day, self.production_weekdays, self.calendar)

    def batch_starts(self, day: date) -> list[datetime]:
        if not self.produces_on(day):
            return []
        return [self.calendar.at(day, clock) for clock in self.batch_times]


@dataclass(frozen=True)
class Lane:
    """A courier route from a production site to a centre.

    A dose handed over by a cut-off leaves then and arrives `transit` later.
    `reliability` is the share of shipments that arrive on time.
    """

    lane_id: str
    site_id: str
    centre_id: str
    mode: str  # road | air
    transit: timedelta
    cutoffs: tuple[time, ...]  # local time at the production site
    weekdays: frozenset[Weekday]
    reliability: float

    def departures(self, day: date, site_calendar: Calendar) -> list[datetime]:
        if not _works_on(day, self.weekdays, site_calendar):
            return []
        return [site_calendar.at(day, clock) for clock in self.cutoffs]


class StaffRole(enum.StrEnum):
    AUTHORISED_PRACTITIONER = "authorised_practitioner"  # ARSAC licence holder / NRC authorised user
    NUCLEAR_MEDICINE_PHYSICIAN = "nuclear_medicine_physician"
    TECHNOLOGIST = "technologist"
    NURSE = "nurse"
    RADIATION_PROTECTION = "radiation_protection"
    RADIOPHARMACIST = "radiopharmacist"


@dataclass(frozen=True, slots=True)
class Licence:
    """A personal licence or authorisation to administer given nuclides, until its expiry."""

    kind: str
    covers: tuple[str, ...]  # nuclide symbols, e.g. ('Lu-177',)
    expires_on: date

    def valid_for(self, nuclide: str, on: date) -> bool:
        return nuclide in self.covers and on <= self.expires_on


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A member of a centre's team, by pseudonymous id."""

    staff_id: str
    role: StaffRole
    weekdays: frozenset[Weekday]
    licences: tuple[Licence, ...] = ()

    def licensed_for(self, nuclide: str, on: date) -> bool:
        return any(licence.valid_for(nuclide, on) for licence in self.licences)


@dataclass(frozen=True, slots=True)
class PetScanner:
    """A PET/CT scanner and the tracers the centre runs on it."""

    scanner_id: str
    tracers: tuple[str, ...]
    slots_per_day: int


@dataclass(frozen=True, slots=True)
class OpeningHours:
    weekdays: frozenset[Weekday]
    opens: time
    closes: time


@dataclass(frozen=True)
class TreatmentCentre:
    """A licensed site that infuses RLT, with its chairs or shielded beds and its team."""

    centre_id: str
    name: str
    location: GeoPoint
    region: str
    calendar: Calendar
    chairs: int
    bed_kind: str  # chair | shielded_bed
    hours: OpeningHours
    daily_activity_limit: Activity  # the site's radioactive-substances permit, per day
    mdt_weekday: Weekday
    products: tuple[str, ...]
    staff: tuple[StaffMember, ...] = ()
    pet_scanners: tuple[PetScanner, ...] = ()

    def is_open(self, day: date) -> bool:
        return _works_on(day, self.hours.weekdays, self.calendar)

    def opening(self, day: date) -> tuple[datetime, datetime] | None:
        """Aware opening and closing instants on `day`, or None when closed."""
        if not self.is_open(day):
            return None
        return self.calendar.at(day, self.hours.opens), self.calendar.at(day, self.hours.closes)

    def authorised_on(self, day: date, nuclide: str) -> list[StaffMember]:
        """Staff on duty on `day` holding a valid licence for `nuclide`."""
        return [
            s for s in self.staff if Weekday(day.weekday()) in s.weekdays and s.licensed_for(nuclide, day)
        ]

    def licences_expiring(self, within: timedelta, today: date) -> list[tuple[StaffMember, Licence]]:
        return [
            (s, lic) for s in self.staff for lic in s.licences if today <= lic.expires_on <= today + within
        ]

    def pet_tracers(self) -> frozenset[str]:
        return frozenset(t for scanner in self.pet_scanners for t in scanner.tracers)


@dataclass(frozen=True, slots=True)
class DemandArea:
    """A place whose residents are referred for RLT (a GeoNames city, for the demos)."""

    area_id: str
    name: str
    location: GeoPoint
    population: int
    region: str


@dataclass(frozen=True, slots=True)
class Incidence:
    """New patients a year per 100,000 residents, and the share who reach a therapy."""

    indication: str
    per_100k_per_year: float
    eligible_fraction: float
    product_id: str
    source: str

    @property
    def patients_per_person_year(self) -> float:
        return self.per_100k_per_year / 100_000 * self.eligible_fraction


@dataclass(frozen=True)
class Network:
    """A whole delivery network, loaded whole from one file and validated."""

    name: str
    description: str
    reactors: Mapping[str, Reactor]
    sites: Mapping[str, ProductionSite]
    lanes: Mapping[str, Lane]
    centres: Mapping[str, TreatmentCentre]
    demand_areas: tuple[DemandArea, ...] = ()
    incidence: tuple[Incidence, ...] = ()
    provenance: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def centre(self, centre_id: str) -> TreatmentCentre:
        return _get(self.centres, centre_id, "treatment centre")

    def site(self, site_id: str) -> ProductionSite:
        return _get(self.sites, site_id, "production site")

    def lanes_to(self, centre_id: str) -> list[Lane]:
        return [lane for lane in self.lanes.values() if lane.centre_id == centre_id]

    def isotope_supply(self, site_id: str, day: date, nuclide: str | None = None) -> Activity:
        """Isotope delivered to `site_id` on `day` by its reactors, of `nuclide` if given.

        Each reactor's delivery is split evenly among the sites it serves. The network
        never changes, so each answer is kept (planners ask for the same days often).
        """
        key = (site_id, day, nuclide)
        found = self._supplies.get(key)
        if found is None:
            total = 0.0
            for reactor_id in self.site(site_id).reactors:
                reactor = self.reactors[reactor_id]
                if nuclide is None or nuclide in reactor.nuclides:
                    total += reactor.delivers_on(day).bq / self._sites_served[reactor_id]
            found = self._supplies[key] = Activity(total)
        return found

    @cached_property
    def _sites_served(self) -> dict[str, int]:
        """How many sites each reactor's deliveries are shared among."""
        return {r: sum(1 for s in self.sites.values() if r in s.reactors) for r in self.reactors}

    @cached_property
    def _supplies(self) -> dict[tuple[str, date, str | None], Activity]:
        return {}

    def supplies(self, centre_id: str, product_id: str) -> bool:
        """Whether a production site that makes `product_id` has a lane to the centre."""
        return any(
            product_id in self.sites[lane.site_id].products
            for lane in self.lanes_to(centre_id)
            if lane.site_id in self.sites
        )

    def unsupplied(self) -> dict[str, tuple[str, ...]]:
        """The products each centre offers that no site and lane of the network can bring it,
        by centre (only centres with any): a patient referred for them could not be dosed."""
        gaps = {
            centre.centre_id: tuple(p for p in centre.products if not self.supplies(centre.centre_id, p))
            for centre in self.centres.values()
        }
        return {centre_id: products for centre_id, products in gaps.items() if products}

    def centres_offering(self, product_id: str) -> list[TreatmentCentre]:
        return [c for c in self.centres.values() if product_id in c.products]

    def population(self) -> int:
        return sum(a.population for a in self.demand_areas)

    def yearly_patients(self) -> dict[str, float]:
        """Expected new patients a year per product over all demand areas."""
        people = self.population()
        totals: dict[str, float] = {}
        for rate in self.incidence:
            totals[rate.product_id] = (
                totals.get(rate.product_id, 0.0) + people * rate.patients_per_person_year
            )
        return totals


def _get(items: Mapping[str, T], key: str, kind: str) -> T:
    try:
        return items[key]
    except KeyError:
        raise UnknownName(kind, key, items) from None


def nearest(origin: GeoPoint, places: Iterable[tuple[GeoPoint, T]]) -> T | None:
    """The item whose position is closest to `origin` (None for no places)."""
    best = min(places, key=lambda pair: origin.distance_km(pair[0]), default=None)
    return best[1] if best is not None else None
