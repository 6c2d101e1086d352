"""The network file: a YAML document describing one whole delivery network.

The format is documented in ``docs/network-format.md``. `load_network` reads a
file, validates every section and every cross-reference, and returns a domain
`Network`, or raises `DataFileError` listing every problem; nothing is returned
half-loaded.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import holidays
from pydantic import AfterValidator, Discriminator, Field, Tag, model_validator

from rltnet.domain.decay import nuclide
from rltnet.domain.errors import DataFileError, UnknownName
from rltnet.domain.network import (
    Calendar,
    DemandArea,
    GeoPoint,
    Incidence,
    IrradiationCycle,
    Lane,
    Licence,
    Network,
    OpeningHours,
    Outage,
    PetScanner,
    ProductionSite,
    Reactor,
    StaffMember,
    StaffRole,
    TreatmentCentre,
)
from rltnet.domain.products import Catalogue
from rltnet.files.fields import (
    ActivityText,
    AwareDatetime,
    ClockText,
    DurationText,
    FieldProblem,
    FileModel,
    TimeZoneText,
    WeekdaysText,
    WeekdayText,
)
from rltnet.files.problems import check, location, read_yaml


def _nuclides(symbols: list[str]) -> list[str]:
    """Canonical symbols ('Lu177' -> 'Lu-177'); unknown ones are refused by `nuclide`."""
    return [nuclide(symbol).symbol for symbol in symbols]


NuclideList = Annotated[list[str], AfterValidator(_nuclides)]

ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
IdText = Field(
    pattern=ID_PATTERN,
    max_length=64,
    description="a lower-case id of letters, digits, '-', '_' or '.', e.g. 'leeds-sjuh'",
)


class LocationFile(FileModel):
    lat: float = Field(ge=-90, le=90, description="latitude in decimal degrees, -90 to 90")
    lon: float = Field(ge=-180, le=180, description="longitude in decimal degrees, -180 to 180")

    def point(self) -> GeoPoint:
        return GeoPoint(self.lat, self.lon)


class PlaceFile(FileModel):
    """Where a site or centre is and whose clock and holidays it keeps."""

    country: str = Field(description="ISO 3166 country code of the holiday calendar, e.g. 'GB', 'US', 'IT'")
    subdivision: str | None = Field(
        default=None, description="holiday subdivision of the country, e.g. 'ENG' for England, 'NJ'"
    )
    time_zone: TimeZoneText = Field(description="IANA time zone, e.g. 'Europe/London'")

    @model_validator(mode="after")
    def _known_calendar(self) -> PlaceFile:
        supported = holidays.list_supported_countries()
        if self.country not in supported:
            raise FieldProblem(
                "country",
                f"unknown holiday country {self.country!r}",
                "an ISO 3166 country code such as 'GB', 'US', 'IT'",
            )
        if self.subdivision is not None and self.subdivision not in supported[self.country]:
            raise FieldProblem(
                "subdivision",
                f"unknown subdivision {self.subdivision!r} of {self.country}",
                f"use one of: {', '.join(supported[self.country])}",
            )
        return self

    def calendar(self) -> Calendar:
        name = self.country + (f"-{self.subdivision}" if self.subdivision else "")
        return Calendar(name, self.time_zone, _holiday_calendar(self.country, self.subdivision))


class CyclePatternFile(FileModel):
    first_start: date = Field(description="first day of the first cycle, e.g. 2026-01-06")
    every: DurationText = Field(description="time from one cycle start to the next, e.g. '28 d'")
    operating: DurationText = Field(description="days the reactor runs in each cycle, e.g. '24 d'")
    until: date = Field(description="last day cycles are generated for, e.g. 2028-12-31")

    @model_validator(mode="after")
    def _sane(self) -> CyclePatternFile:
        if not timedelta(days=1) <= self.operating <= self.every:
            raise FieldProblem("operating", "'operating' must be at least 1 d and no longer than 'every'")
        if self.until < self.first_start:
            raise FieldProblem("until", "'until' must not be before 'first_start'")
        return self

    def expand(self) -> tuple[IrradiationCycle, ...]:
        cycles, start = [], self.first_start
        while start <= self.until:
            cycles.append(IrradiationCycle(start, start + self.operating - timedelta(days=1)))
            start += self.every
        return tuple(cycles)


class CycleFile(FileModel):
    start: date = Field(description="first operating day, e.g. 2026-01-06")
    end: date = Field(description="last operating day, not before 'start'")

    @model_validator(mode="after")
    def _ordered(self) -> CycleFile:
        if self.end < self.start:
            raise FieldProblem("end", f"cycle ends {self.end} before it starts {self.start}; swap them")
        return self


class OutageFile(FileModel):
    start: AwareDatetime = Field(description="first instant of the outage, with UTC offset")
    end: AwareDatetime = Field(description="instant the reactor is back, after 'start'")
    reason: str = Field(default="", description="why, e.g. 'primary circuit leak'")

    @model_validator(mode="after")
    def _ordered(self) -> OutageFile:
        if self.end <= self.start:
            raise FieldProblem("end", "outage 'end' must be after 'start'")
        return self


# A pattern or a list, told apart by shape so that an error is reported once.
Cycles = Annotated[
    Annotated[CyclePatternFile, Tag("pattern")] | Annotated[list[CycleFile], Tag("list")],
    Discriminator(lambda value: "list" if isinstance(value, list) else "pattern"),
]


class ReactorFile(FileModel):
    id: str = IdText
    name: str
    location: LocationFile
    nuclides: NuclideList = Field(min_length=1, description="nuclides irradiated, e.g. ['Lu-177']")
    delivery: ActivityText = Field(description="isotope shipped per delivery day, e.g. '400 GBq'")
    delivery_weekdays: WeekdaysText = Field(description="days it ships, e.g. 'mon-fri' or [mon, thu]")
    cycles: Cycles = Field(
        description="a pattern {first_start, every, operating, until} or a list of {start, end}"
    )
    outages: list[OutageFile] = Field(default_factory=list)
    source: str = Field(default="", description="where the reactor's figures come from")

    def to_domain(self) -> Reactor:
        cycles = (
            self.cycles.expand()
            if isinstance(self.cycles, CyclePatternFile)
            else tuple(IrradiationCycle(c.start, c.end) for c in self.cycles)
        )
        return Reactor(
            reactor_id=self.id,
            name=self.name,
            location=self.location.point(),
            nuclides=tuple(self.nuclides),
            delivery=self.delivery,
            delivery_weekdays=self.delivery_weekdays,
            cycles=cycles,
            outages=tuple(Outage(o.start, o.end, o.reason) for o in self.outages),
        )


class ProductionSiteFile(PlaceFile):
    id: str = IdText
    name: str
    location: LocationFile
    products: list[str] = Field(min_length=1, description="catalogue ids of products made here")
    production_weekdays: WeekdaysText = Field(description="days batches are made, e.g. 'mon-fri'")
    batch_times: list[ClockText] = Field(
        min_length=1, description="local start times of batches, quoted, e.g. ['06:00']"
    )
    doses_per_batch: int = Field(ge=1, le=10_000, description="doses one batch can fill, 1-10000")
    qc_release: DurationText = Field(description="time from batch start to QC release, e.g. '6 h'")
    reactors: list[str] = Field(min_length=1, description="ids of the reactors that supply isotope")
    calibration: Literal["at_administration", "reference_time", "prepared_on_site"] = Field(
        default="at_administration",
        description="how doses are calibrated: at_administration, reference_time or prepared_on_site",
    )
    source: str = Field(default="", description="where the site's figures come from")

    def to_domain(self) -> ProductionSite:
        return ProductionSite(
            site_id=self.id,
            name=self.name,
            location=self.location.point(),
            calendar=self.calendar(),
            products=tuple(self.products),
            production_weekdays=self.production_weekdays,
            batch_times=tuple(self.batch_times),
            doses_per_batch=self.doses_per_batch,
            qc_release=self.qc_release,
            reactors=tuple(self.reactors),
            calibration_convention=self.calibration,
        )


class LaneFile(FileModel):
    id: str = IdText
    from_site: str = Field(alias="from", description="id of the production site it leaves from")
    to: str = Field(description="id of the treatment centre it delivers to")
    mode: Literal["road", "air"] = Field(description="'road' or 'air'")
    transit: DurationText = Field(description="door-to-door time from cut-off, e.g. '20 h'")
    cutoffs: list[ClockText] = Field(
        min_length=1, description="local times at the site by which doses must be handed over"
    )
    weekdays: WeekdaysText = Field(description="days the lane runs, e.g. 'mon-fri'")
    reliability: float = Field(
        gt=0, le=1, description="share of shipments on time, above 0 and at most 1, e.g. 0.98"
    )

    def to_domain(self) -> Lane:
        return Lane(
            lane_id=self.id,
            site_id=self.from_site,
            centre_id=self.to,
            mode=self.mode,
            transit=self.transit,
            cutoffs=tuple(self.cutoffs),
            weekdays=self.weekdays,
            reliability=self.reliability,
        )


class LicenceFile(FileModel):
    kind: str = Field(description="the licence, e.g. 'ARSAC practitioner licence'")
    covers: NuclideList = Field(min_length=1, description="nuclides it covers, e.g. ['Lu-177']")
    expires_on: date = Field(description="last valid day, e.g. 2028-06-30")


class StaffFile(FileModel):
    id: str = IdText
    role: StaffRole = Field(description="one of: " + ", ".join(r.value for r in StaffRole))
    weekdays: WeekdaysText = Field(description="days on duty, e.g. 'mon-fri'")
    licences: list[LicenceFile] = Field(default_factory=list)

    def to_domain(self) -> StaffMember:
        return StaffMember(
            staff_id=self.id,
            role=self.role,
            weekdays=self.weekdays,
            licences=tuple(Licence(lic.kind, tuple(lic.covers), lic.expires_on) for lic in self.licences),
        )


class OpeningFile(FileModel):
    weekdays: WeekdaysText = Field(description="opening days, e.g. 'mon-fri'")
    opens: ClockText = Field(description="local opening time, quoted, e.g. '08:00'")
    closes: ClockText = Field(description="local closing time, quoted, after 'opens'")

    @model_validator(mode="after")
    def _ordered(self) -> OpeningFile:
        if self.closes <= self.opens:
            raise FieldProblem("closes", "'closes' must be after 'opens' on the same day")
        return self


class ScannerFile(FileModel):
    id: str = IdText
    tracers: list[str] = Field(min_length=1, description="catalogue ids of PET tracers it runs")
    slots_per_day: int = Field(ge=1, le=100, description="eligibility scans a day, 1-100")


class CentreFile(PlaceFile):
    id: str = IdText
    name: str
    location: LocationFile
    region: str = Field(description="health region, e.g. 'North West'")
    chairs: int = Field(ge=1, le=200, description="infusion chairs or shielded beds, 1-200")
    bed_kind: Literal["chair", "shielded_bed"] = Field(
        default="chair", description="'chair' or 'shielded_bed'"
    )
    opening: OpeningFile
    daily_activity_limit: ActivityText = Field(
        description="most activity the site permit allows to be given a day, e.g. '60 GBq'"
    )
    mdt_weekday: WeekdayText = Field(description="weekday the MDT meets, e.g. 'wed'")
    products: list[str] = Field(min_length=1, description="catalogue ids of therapies given here")
    staff: list[StaffFile] = Field(default_factory=list)
    pet_scanners: list[ScannerFile] = Field(default_factory=list)
    source: str = Field(default="", description="where the centre's figures come from")

    def to_domain(self) -> TreatmentCentre:
        return TreatmentCentre(
            centre_id=self.id,
            name=self.name,
            location=self.location.point(),
            region=self.region,
            calendar=self.calendar(),
            chairs=self.chairs,
            bed_kind=self.bed_kind,
            hours=OpeningHours(self.opening.weekdays, self.opening.opens, self.opening.closes),
            daily_activity_limit=self.daily_activity_limit,
            mdt_weekday=self.mdt_weekday,
            products=tuple(self.products),
            staff=tuple(s.to_domain() for s in self.staff),
            pet_scanners=tuple(
                PetScanner(s.id, tuple(s.tracers), s.slots_per_day) for s in self.pet_scanners
            ),
        )


class IncidenceFile(FileModel):
    indication: str = Field(description="the indication, e.g. 'GEP-NET' or 'mCRPC'")
    per_100k_per_year: float = Field(gt=0, le=1000, description="new cases a year per 100,000 people")
    eligible_fraction: float = Field(
        gt=0, le=1, description="share of new cases that reach this therapy, above 0 and at most 1"
    )
    product: str = Field(description="catalogue id of the therapy they receive")
    source: str = Field(min_length=1, description="where the rate and the fraction come from")


class DemandAreaFile(FileModel):
    id: str = IdText
    name: str
    location: LocationFile
    population: int = Field(ge=0, description="residents, a whole number >= 0")
    region: str = Field(description="health region the area belongs to")


class DemandFile(FileModel):
    incidence: list[IncidenceFile] = Field(default_factory=list)
    areas: list[DemandAreaFile] = Field(default_factory=list)


class ProvenanceFile(FileModel):
    real: list[str] = Field(default_factory=list, description="what in this file is real data")
    assumed: list[str] = Field(default_factory=list, description="what is assumed, and why")
    sources: list[str] = Field(default_factory=list, description="citations for the real data")


class NetworkFile(FileModel):
    name: str = Field(min_length=1, description="the network's name, e.g. 'England demo'")
    description: str = ""
    provenance: ProvenanceFile = Field(default_factory=ProvenanceFile)
    reactors: list[ReactorFile] = Field(min_length=1, description="at least one reactor")
    production_sites: list[ProductionSiteFile] = Field(min_length=1, description="at least one site")
    lanes: list[LaneFile] = Field(min_length=1, description="at least one lane")
    centres: list[CentreFile] = Field(min_length=1, description="at least one treatment centre")
    demand: DemandFile = Field(default_factory=DemandFile)


def load_network(path: Path | str, catalogue: Catalogue) -> Network:
    """Read and validate a network file; raise `DataFileError` listing every problem."""
    path = Path(path)
    document = read_yaml(path)
    parsed, problems = check(NetworkFile, document)
    problems += _reference_problems(document, catalogue)
    if parsed is None or problems:
        raise DataFileError(str(path), problems)
    return _to_domain(parsed)


def bundled_networks() -> dict[str, Path]:
    """The demo networks shipped with rltnet, by name ('england', 'us')."""
    folder = resources.files("rltnet") / "data" / "networks"
    return {Path(str(f)).stem: Path(str(f)) for f in folder.iterdir() if str(f).endswith(".yaml")}


def network_path(name_or_file: str) -> Path:
    """A bundled network by name, or a file path."""
    shipped = bundled_networks()
    if name_or_file.lower() in shipped:
        return shipped[name_or_file.lower()]
    path = Path(name_or_file)
    if path.suffix in (".yaml", ".yml", ".json") or path.exists():
        return path
    raise UnknownName("network (name or .yaml file)", name_or_file, shipped)


def _to_domain(parsed: NetworkFile) -> Network:
    return Network(
        name=parsed.name,
        description=parsed.description,
        reactors={r.id: r.to_domain() for r in parsed.reactors},
        sites={s.id: s.to_domain() for s in parsed.production_sites},
        lanes={lane.id: lane.to_domain() for lane in parsed.lanes},
        centres={c.id: c.to_domain() for c in parsed.centres},
        demand_areas=tuple(
            DemandArea(a.id, a.name, a.location.point(), a.population, a.region) for a in parsed.demand.areas
        ),
        incidence=tuple(
            Incidence(i.indication, i.per_100k_per_year, i.eligible_fraction, i.product, i.source)
            for i in parsed.demand.incidence
        ),
        provenance={
            "real": tuple(parsed.provenance.real),
            "assumed": tuple(parsed.provenance.assumed),
            "sources": tuple(parsed.provenance.sources),
        },
    )


def _reference_problems(document: dict[str, Any], catalogue: Catalogue) -> list[str]:
    """Duplicate ids and references to things the file or the catalogue does not have.

    Read from the document itself, so they are found even where other fields are wrong.
    """
    problems: list[str] = []
    known: dict[str, set[str]] = {}
    for section in ("reactors", "production_sites", "lanes", "centres"):
        ids = [item.get("id") for _, item in _items(document, section)]
        for duplicate in sorted({i for i in ids if isinstance(i, str) and ids.count(i) > 1}):
            problems.append(
                f"{section}: id {duplicate!r} is used more than once. Fix: give each a unique id."
            )
        if ids and all(isinstance(i, str) and re.fullmatch(ID_PATTERN, i) for i in ids):
            known[section] = {i for i in ids if isinstance(i, str)}
    therapies, tracers = set(catalogue.therapies), set(catalogue.imaging_agents)

    def refer(loc: tuple[str | int, ...], value: object, choices: set[str] | None, what: str) -> None:
        # References into a section whose ids are themselves wrong wait until those are fixed.
        if choices is not None and isinstance(value, str) and value not in choices:
            problems.append(
                f"{location(loc, document)}: {value!r} is not {what}. "
                f"Fix: use one of: {', '.join(sorted(choices))}"
            )

    for i, site in _items(document, "production_sites"):
        for j, product in _listed(site, "products"):
            refer(
                ("production_sites", i, "products", j),
                product,
                therapies,
                "a therapy in the catalogue",
            )
        for j, reactor in _listed(site, "reactors"):
            refer(
                ("production_sites", i, "reactors", j),
                reactor,
                known.get("reactors"),
                "a reactor of this network",
            )
    for i, lane in _items(document, "lanes"):
        refer(
            ("lanes", i, "from"),
            lane.get("from"),
            known.get("production_sites"),
            "a production site of this network",
        )
        refer(("lanes", i, "to"), lane.get("to"), known.get("centres"), "a centre of this network")
    for i, centre in _items(document, "centres"):
        for j, product in _listed(centre, "products"):
            refer(("centres", i, "products", j), product, therapies, "a therapy in the catalogue")
        for j, scanner in _listed(centre, "pet_scanners"):
            for k, tracer in _listed(scanner, "tracers"):
                refer(
                    ("centres", i, "pet_scanners", j, "tracers", k),
                    tracer,
                    tracers,
                    "a PET tracer in the catalogue",
                )
    demand = document.get("demand")
    for i, rate in _listed(demand, "incidence"):
        refer(
            ("demand", "incidence", i, "product"),
            rate.get("product") if isinstance(rate, dict) else None,
            therapies,
            "a therapy in the catalogue",
        )
    return problems


def _items(document: dict[str, Any], section: str) -> list[tuple[int, dict[str, Any]]]:
    """The mappings of a list section, with their positions; anything else is skipped."""
    return [(i, item) for i, item in _listed(document, section) if isinstance(item, dict)]


def _listed(owner: object, key: str) -> list[tuple[int, Any]]:
    value = owner.get(key) if isinstance(owner, dict) else None
    return list(enumerate(value)) if isinstance(value, list) else []


@cache
def _holiday_calendar(country: str, subdivision: str | None) -> holidays.HolidayBase:
    """The public holidays of a place (validated in `PlaceFile`), built once per place."""
    return holidays.country_holidays(country, subdiv=subdivision)
