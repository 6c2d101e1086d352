"""The product catalogue file: every label figure with the source it was read in.

Each figure is written ``{value: ..., source: KEY, note: ...}`` where KEY names an
entry of the file's ``sources`` table; a figure without a known source is
refused. `load_catalogue` returns a domain `Catalogue` or raises
`DataFileError` listing every problem.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, Field, model_validator

from rltnet.domain.decay import nuclide
from rltnet.domain.errors import DataFileError
from rltnet.domain.products import (
    CancellationTier,
    Catalogue,
    CoInfusion,
    CycleSchedule,
    DoseReduction,
    Eligibility,
    EligibilityCheck,
    FixedActivity,
    ImagingAgent,
    OrderingRules,
    PerKgActivity,
    PlateletBand,
    Source,
    TherapyProduct,
    VialFill,
)
from rltnet.files.fields import (
    ActivityText,
    DurationText,
    FieldProblem,
    FileModel,
    WeekdaysText,
    WeekdayText,
)
from rltnet.files.problems import location, read_yaml, validate

T = TypeVar("T")

NuclideText = Annotated[str, AfterValidator(lambda symbol: nuclide(symbol).symbol)]


class Figure(FileModel, Generic[T]):
    """One figure and where it comes from."""

    value: T
    source: str = Field(min_length=1, description="a key of the file's 'sources' table")
    note: str | None = Field(default=None, description="what the source says, or what is derived")


class SourceFile(FileModel):
    citation: str = Field(min_length=1, description="who says it, in which document and section")
    url: str | None = None
    kind: Literal[
        "label", "regulator", "regulation", "literature", "manufacturer", "derived", "assumption"
    ] = Field(description="label, regulator, regulation, literature, manufacturer, derived or assumption")


class PlateletBandFile(FileModel):
    min_platelets_per_mm3: int = Field(ge=0, description="lowest platelet count of the band, per mm³")
    per_kg: ActivityText = Field(description="activity per kg in this band, e.g. '14.8 MBq'")


class ActivityRuleFile(FileModel):
    fixed: ActivityText | None = Field(default=None, description="one activity for all, e.g. '7.4 GBq'")
    per_kg: ActivityText | None = Field(default=None, description="activity per kg, e.g. '55 kBq'")
    cap: ActivityText | None = Field(default=None, description="most activity whatever the weight")
    platelet_bands: list[PlateletBandFile] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_rule(self) -> ActivityRuleFile:
        if (self.fixed is None) == (self.per_kg is None):
            raise ValueError("give exactly one of 'fixed' or 'per_kg'")
        if self.fixed is not None and (self.cap or self.platelet_bands):
            raise ValueError("'cap' and 'platelet_bands' go with 'per_kg', not with 'fixed'")
        return self

    def to_domain(self) -> FixedActivity | PerKgActivity:
        if self.fixed is not None:
            return FixedActivity(self.fixed)
        assert self.per_kg is not None  # guarded by _one_rule
        bands = tuple(PlateletBand(b.min_platelets_per_mm3, b.per_kg) for b in self.platelet_bands)
        return PerKgActivity(self.per_kg, self.cap, bands)


class VialFile(FileModel):
    concentration_per_ml: ActivityText = Field(description="activity per mL at calibration, e.g. '1000 MBq'")
    min_volume_ml: float = Field(gt=0, description="smallest fill volume in mL")
    max_volume_ml: float = Field(gt=0, description="largest fill volume in mL, at least the smallest")

    @model_validator(mode="after")
    def _ordered(self) -> VialFile:
        if self.max_volume_ml < self.min_volume_ml:
            raise FieldProblem("max_volume_ml", "'max_volume_ml' is below 'min_volume_ml'; swap them")
        return self


class ReductionFile(FileModel):
    activity: ActivityText = Field(description="the reduced activity, e.g. '5.9 GBq'")
    conditions: list[str] = Field(min_length=1, description="label conditions that allow it")
    max_reductions: int = Field(ge=1, description="how many reductions the label allows, >= 1")
    may_return_to_full: bool = Field(description="whether later doses may go back to full")


class CoInfusionFile(FileModel):
    name: str
    starts_before_dose: DurationText = Field(description="how long before the dose it starts, e.g. '30 min'")
    duration: DurationText | None = Field(default=None, description="how long it runs, e.g. '4 h'")


class EligibilityCheckFile(FileModel):
    id: str = Field(
        pattern=r"^[a-z][a-z0-9_]{1,40}$", description="a short id, e.g. 'no_visceral_metastases'"
    )
    question: str = Field(min_length=1, description="the label's condition, as the MDT confirms it")


class EligibilityFile(FileModel):
    target: str = Field(description="the receptor or finding imaged, e.g. 'PSMA', 'SSTR'")
    imaging_agents: list[str] = Field(default_factory=list, description="ids of imaging agents")
    criterion: str = Field(min_length=1, description="what the imaging must show")
    checks: list[EligibilityCheckFile] = Field(
        default_factory=list,
        description="without imaging agents: the label's conditions the MDT confirms before approving",
    )

    @model_validator(mode="after")
    def _checks_without_imaging(self) -> EligibilityFile:
        if not self.imaging_agents and not self.checks:
            raise FieldProblem(
                "checks", "a therapy without eligibility imaging needs the label's checks for the MDT"
            )
        return self


class CancellationFile(FileModel):
    before_calibration: DurationText = Field(description="cancelled at least this long before, e.g. '10 d'")
    fee: str = Field(description="the fee, e.g. 'none' or 'USD 500'")


class OrderingFile(FileModel):
    lead_time: DurationText | None = Field(default=None, description="order this long before calibration")
    order_by_weekday: WeekdayText | None = Field(
        default=None, description="weekday orders are due, e.g. 'tue'"
    )
    confirmation_target: DurationText | None = Field(default=None, description="e.g. '24 h'")
    calibration_weekdays: WeekdaysText | None = Field(default=None, description="e.g. 'mon-fri'")
    cancellation: list[CancellationFile] = Field(default_factory=list)
    late_cancellation_fee: str | None = None
    terms_country: str | None = Field(
        default=None,
        min_length=2,
        max_length=2,
        description="ISO 3166 country the cancellation terms are published for, e.g. 'US'",
    )


_FIGURES = (
    "activity",
    "tolerance_percent",
    "shelf_life",
    "cycles",
    "interval",
    "interval_tolerance",
    "reduction",
    "co_infusions",
    "premedication",
    "appointment",
    "infusion",
    "eligibility",
    "ordering",
    "calibration",
    "vial",
)


class TherapyFile(FileModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="catalogue id, e.g. 'lu177-oxodotreotide'")
    brand: str = Field(min_length=1)
    name: str = Field(min_length=1)
    nuclide: NuclideText = Field(description="therapy nuclide, e.g. 'Lu-177'")
    indications: list[str] = Field(min_length=1)
    activity: Figure[ActivityRuleFile] = Field(
        description="{fixed: 7.4 GBq}, or {per_kg: 14.8 MBq, cap: ..., platelet_bands: [...]}"
    )
    tolerance_percent: Figure[float] = Field(
        description="tolerance either side of the prescribed activity, 0-50 %"
    )
    shelf_life: Figure[DurationText] = Field(description="from calibration to expiry, e.g. '120 h'")
    cycles: Figure[int] = Field(description="number of administrations, 1-20")
    interval: Figure[DurationText] = Field(description="time between administrations, e.g. '6 weeks'")
    interval_tolerance: Figure[DurationText] = Field(
        description="allowed slack on the interval, e.g. '1 week'"
    )
    reduction: Figure[ReductionFile | None]
    co_infusions: Figure[list[CoInfusionFile]]
    premedication: Figure[list[str]]
    appointment: Figure[DurationText] = Field(description="chair time for one administration, e.g. '300 min'")
    infusion: Figure[DurationText] = Field(description="time the dose itself runs in, e.g. '30 min'")
    eligibility: Figure[EligibilityFile]
    ordering: Figure[OrderingFile]
    calibration: Figure[Literal["at_administration", "reference_time", "prepared_on_site"]]
    vial: Figure[VialFile | None]

    @model_validator(mode="after")
    def _ranges(self) -> TherapyFile:
        if not 0 <= self.tolerance_percent.value <= 50:
            raise FieldProblem(("tolerance_percent", "value"), "tolerance_percent must be between 0 and 50")
        if not 1 <= self.cycles.value <= 20:
            raise FieldProblem(("cycles", "value"), "cycles must be between 1 and 20")
        if self.interval_tolerance.value > self.interval.value:
            raise FieldProblem(
                ("interval_tolerance", "value"), "interval_tolerance must not exceed the interval"
            )
        if self.infusion.value > self.appointment.value:
            raise FieldProblem(
                ("infusion", "value"),
                "the infusion must fit inside the appointment",
                "make the infusion no longer than the appointment",
            )
        return self


class ActivityRangeFile(FileModel):
    min: ActivityText | None = None
    max: ActivityText | None = None
    per_kg: ActivityText | None = None


class UptakeFile(FileModel):
    min: DurationText | None = Field(default=None, description="earliest imaging after injection")
    max: DurationText | None = Field(default=None, description="latest imaging after injection")


class ImagingFile(FileModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="catalogue id, e.g. 'ga68-dotatate'")
    brand: str = Field(min_length=1)
    name: str = Field(min_length=1)
    nuclide: NuclideText = Field(description="PET nuclide, e.g. 'Ga-68'")
    target: str = Field(description="'PSMA' or 'SSTR'")
    activity: Figure[ActivityRangeFile]
    uptake: Figure[UptakeFile]
    shelf_life: Figure[DurationText | None]


class CatalogueFile(FileModel):
    sources: dict[str, SourceFile] = Field(min_length=1)
    therapies: list[TherapyFile] = Field(min_length=1)
    imaging_agents: list[ImagingFile] = Field(default_factory=list)


def load_catalogue(path: Path | str) -> Catalogue:
    """Read and validate a catalogue file; raise `DataFileError` listing every problem."""
    path = Path(path)
    document = read_yaml(path)
    parsed = validate(path, CatalogueFile, document)
    problems = list(_reference_problems(parsed, document))
    if problems:
        raise DataFileError(str(path), problems)
    return _to_domain(parsed)


@cache
def default_catalogue() -> Catalogue:
    """The catalogue shipped with rltnet (``data/products.yaml``), loaded once."""
    return load_catalogue(Path(str(resources.files("rltnet") / "data" / "products.yaml")))


def _figures(item: TherapyFile | ImagingFile) -> Iterable[tuple[str, Figure[Any]]]:
    for name in type(item).model_fields:
        value = getattr(item, name)
        if isinstance(value, Figure):
            yield name, value


def _reference_problems(parsed: CatalogueFile, document: Any) -> Iterable[str]:
    known_sources = set(parsed.sources)
    sections: list[tuple[str, list[TherapyFile | ImagingFile]]] = [
        ("therapies", list(parsed.therapies)),
        ("imaging_agents", list(parsed.imaging_agents)),
    ]
    ids = [item.id for _, items in sections for item in items]
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
        yield f"id {duplicate!r} is used more than once. Fix: give each product a unique id."
    imaging_ids = {a.id for a in parsed.imaging_agents}
    for section, items in sections:
        for i, item in enumerate(items):
            for name, figure in _figures(item):
                if figure.source not in known_sources:
                    yield (
                        f"{location((section, i, name, 'source'), document)}: {figure.source!r} is "
                        f"not in 'sources'. Fix: add it there or use one of: "
                        f"{', '.join(sorted(known_sources))}"
                    )
    for i, therapy in enumerate(parsed.therapies):
        for j, agent in enumerate(therapy.eligibility.value.imaging_agents):
            if agent not in imaging_ids:
                where = location(("therapies", i, "eligibility", "value", "imaging_agents", j), document)
                known = ", ".join(sorted(imaging_ids))
                yield f"{where}: {agent!r} is not an imaging agent here. Fix: use one of: {known}"


def _to_domain(parsed: CatalogueFile) -> Catalogue:
    sources = {key: Source(key, s.citation, s.url, s.kind) for key, s in parsed.sources.items()}
    therapies = {t.id: _therapy(t, sources) for t in parsed.therapies}
    imaging = {a.id: _imaging(a, sources) for a in parsed.imaging_agents}
    return Catalogue(therapies, imaging, sources)


def _provenance(
    item: TherapyFile | ImagingFile, sources: dict[str, Source]
) -> tuple[dict[str, Source], dict[str, str]]:
    figures = dict(_figures(item))
    notes = {name: f.note for name, f in figures.items() if f.note}
    return {name: sources[f.source] for name, f in figures.items()}, notes


def _therapy(t: TherapyFile, sources: dict[str, Source]) -> TherapyProduct:
    figure_sources, notes = _provenance(t, sources)
    ordering = t.ordering.value
    reduction = t.reduction.value
    vial = t.vial.value
    return TherapyProduct(
        product_id=t.id,
        brand=t.brand,
        name=t.name,
        nuclide=nuclide(t.nuclide),
        indications=tuple(t.indications),
        activity=t.activity.value.to_domain(),
        tolerance=t.tolerance_percent.value / 100,
        shelf_life=t.shelf_life.value,
        schedule=CycleSchedule(t.cycles.value, t.interval.value, t.interval_tolerance.value),
        appointment=t.appointment.value,
        infusion=t.infusion.value,
        eligibility=Eligibility(
            t.eligibility.value.target,
            tuple(t.eligibility.value.imaging_agents),
            t.eligibility.value.criterion,
            tuple(EligibilityCheck(c.id, c.question) for c in t.eligibility.value.checks),
        ),
        ordering=OrderingRules(
            lead_time=ordering.lead_time,
            confirmation_target=ordering.confirmation_target,
            order_by_weekday=ordering.order_by_weekday,
            calibration_weekdays=ordering.calibration_weekdays or frozenset(),
            cancellation_tiers=tuple(
                CancellationTier(c.before_calibration, c.fee)
                for c in sorted(ordering.cancellation, key=lambda c: -c.before_calibration)
            ),
            late_cancellation_fee=ordering.late_cancellation_fee,
            terms_country=ordering.terms_country,
        ),
        reduction=None
        if reduction is None
        else DoseReduction(
            reduction.activity,
            tuple(reduction.conditions),
            reduction.max_reductions,
            reduction.may_return_to_full,
        ),
        co_infusions=tuple(
            CoInfusion(c.name, c.starts_before_dose, c.duration) for c in t.co_infusions.value
        ),
        premedication=tuple(t.premedication.value),
        calibration_convention=t.calibration.value,
        vial=None
        if vial is None
        else VialFill(vial.concentration_per_ml, vial.min_volume_ml, vial.max_volume_ml),
        sources=figure_sources,
        notes=notes,
    )


def _imaging(a: ImagingFile, sources: dict[str, Source]) -> ImagingAgent:
    figure_sources, notes = _provenance(a, sources)
    return ImagingAgent(
        product_id=a.id,
        brand=a.brand,
        name=a.name,
        nuclide=nuclide(a.nuclide),
        target=a.target,
        activity_min=a.activity.value.min,
        activity_max=a.activity.value.max,
        per_kg=a.activity.value.per_kg,
        uptake_min=a.uptake.value.min,
        uptake_max=a.uptake.value.max,
        shelf_life=a.shelf_life.value,
        sources=figure_sources,
        notes=notes,
    )
