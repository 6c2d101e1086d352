"""Request and response bodies of the API (pydantic), by family: XCreate in, XPublic out."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    model_validator,
)
from pydantic_core import PydanticCustomError

from rltnet.files.event_file import EventFile, LaneDelayedFile

T = TypeVar("T")
Id = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
Text = Field(default="", max_length=500)
EARLIEST, LATEST = datetime(1900, 1, 1, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC)
MAX_LANE_DELAY = timedelta(days=30)


def _in_range(value: datetime) -> datetime:
    # near datetime's own limits, converting to UTC or adding a cycle's weeks overflows (a 500)
    if not EARLIEST <= value < LATEST:
        raise PydanticCustomError("instant_range", "should be in the years 1900 to 2999")
    return value


# an ISO 8601 date and time, as text: pydantic would also take a number of seconds since 1970
_ISO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _instant_text(value: Any) -> Any:
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_INSTANT.match(value)):
        return value
    raise PydanticCustomError(
        "instant_text",
        "should be a date and time as ISO 8601 text with its offset, e.g. 2026-03-02T09:00:00+00:00",
    )


Instant = Annotated[AwareDatetime, BeforeValidator(_instant_text), AfterValidator(_in_range)]
"""A moment with its time zone, as ISO 8601 text, in a range the service can compute with."""

Flag = StrictBool
"""A yes or no: JSON true or false only (not "yes", 1 or "false")."""

OLDEST_PATIENT_YEARS = 130  # ASSUMED: no living person is older (the oldest recorded lived 122 years)


def _date_text(value: Any) -> Any:
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise PydanticCustomError("date_text", "should be a date as ISO 8601 text, e.g. 1956-04-21")


def _plausible_birth(value: date) -> date:
    today = datetime.now(UTC).date()
    if value >= today:
        raise PydanticCustomError("birth_future", "should be in the past; check the year")
    if value.year < today.year - OLDEST_PATIENT_YEARS:
        raise PydanticCustomError(
            "birth_too_early",
            "should be within the last {years} years; check the year",
            {"years": OLDEST_PATIENT_YEARS},
        )
    return value


BirthDate = Annotated[date, BeforeValidator(_date_text), AfterValidator(_plausible_birth)]
"""A date of birth: ISO text, in the past, under 130 years ago."""


def _whole_number(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return value
    raise PydanticCustomError(
        "whole_number", "should be a whole number written in the digits 0-9, e.g. 150000"
    )


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
"""A count: a JSON integer (or its ASCII digits), never true/false, 2.5 or a superscript '²'."""

_DECIMAL = re.compile(r"\d+(\.\d+)?")


def _decimal(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and _DECIMAL.fullmatch(value):
        return value
    raise PydanticCustomError("decimal_number", "should be a number written in the digits 0-9, e.g. 72.5")


Measure = Annotated[float, BeforeValidator(_decimal)]
"""A measured amount: a JSON number (or its ASCII digits, from a form), never true/false."""


MAX_JSON_DEPTH = 16  # a follow-up's data is a flat record or a table of them; 300 deep broke the trail
MAX_JSON_VALUES = 2_000  # values in one body: a lab panel has tens


class Body(BaseModel):
    """Every request body: unknown fields are refused, strings are trimmed, and only JSON that
    every reader can read back is taken (`unreadable`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _readable(cls, data: Any) -> Any:
        problem = unreadable(data)
        if problem is not None:
            where, what = problem
            raise PydanticCustomError(
                "unreadable_json", "{where} {what}", {"where": where or "the body", "what": what}
            )
        return data


def unreadable(value: Any) -> tuple[str, str] | None:
    """Where in a JSON value, and what, no reader could take back, if anywhere.

    A NUL character (PostgreSQL can neither store nor compare text with one), a lone UTF-16
    surrogate such as "\\ud800" (not Unicode: no UTF-8 encoder writes it), a number that is not
    finite (NaN, Infinity, 1e309: not JSON), nesting deeper than `MAX_JSON_DEPTH` or more than
    `MAX_JSON_VALUES` values. Stored, each broke the reads of the record (and, append-only,
    the audit trail) for good.
    """
    seen = 0
    stack: list[tuple[str, Any, int]] = [("", value, 0)]
    while stack:
        path, item, depth = stack.pop()
        seen += 1
        if seen > MAX_JSON_VALUES:
            return "", f"holds more than {MAX_JSON_VALUES} values; send less at once"
        if isinstance(item, str):
            problem = _text_problem(item)
            if problem is not None:
                return path, problem
        elif isinstance(item, float) and not math.isfinite(item):
            return path, "is not a finite number (NaN, Infinity or too large); send a number JSON can hold"
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                return path, f"is nested more than {MAX_JSON_DEPTH} deep; send a flatter value"
            children: list[tuple[Any, Any]] = (
                list(item.items()) if isinstance(item, dict) else list(enumerate(item))
            )
            for key, child in children:
                problem = _text_problem(key) if isinstance(key, str) else None
                # the name as ASCII: the message must itself be readable JSON
                name = str(key).encode("ascii", "backslashreplace").decode() if problem else str(key)
                where = f"{path}.{name}" if path else name
                if problem is not None:
                    return where, f"(a key) {problem}"
                stack.append((where, child, depth + 1))
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "holds a NUL character (\\u0000); remove it"
    if _SURROGATE.search(text):
        return "holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not Unicode; send valid text"
    return None


class FieldProblem(BaseModel):
    """One field at fault in a refused request."""

    loc: list[str | int] = Field(description="where: 'body' and the field's path, or a parameter")
    msg: str = Field(description="what is wrong with it and what to send")
    type: str = Field(description="the kind of fault, e.g. 'missing', 'instant_text'")


class ErrorPublic(BaseModel):
    """A refused request (any 4xx but 422, and 503)."""

    detail: str = Field(description="the message again")
    message: str = Field(description="what is wrong and what to do")
    error: str = Field(description="the error's name, e.g. NotFound, TooManyAttempts")


class ValidationErrorPublic(BaseModel):
    """A request refused for its values (422): each field at fault."""

    detail: list[FieldProblem]
    message: str = Field(description="every fault in one sentence, with what to do")
    error: str = Field(description="InvalidRequest for a value of the wrong form, else the rule's name")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# -- auth -------------------------------------------------------------------------------------


class LoginCreate(Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class TokenPublic(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    role: str
    centre_id: str | None


class MePublic(BaseModel):
    username: str
    role: str
    centre_id: str | None


class UserCreate(Body):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    password: str = Field(min_length=12, max_length=200)
    role: Literal["coordinator", "physician", "manufacturer", "analyst", "admin"]
    centre_id: str | None = Field(default=None, max_length=64)


# The values a list's status filter takes: any other is refused (422), not matched to nothing.
OrderStatusName = Literal["requested", "confirmed", "cancelled", "failed", "missed", "administered"]
ShipmentStatusName = Literal["planned", "in transit", "delivered", "missed"]


class PasswordChange(Body):
    """A user's own new password: the current one proves it is them; every login they hold ends."""

    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=12, max_length=200)


class UserPublic(BaseModel):
    id: int
    username: str
    role: str
    centre_id: str | None
    active: bool


# -- network ----------------------------------------------------------------------------------


class CentrePublic(BaseModel):
    id: str
    name: str
    region: str
    chairs: int
    products: list[str]
    time_zone: str
    latitude: float
    longitude: float
    mdt_weekday: str
    daily_activity_limit_gbq: float


class LicencePublic(BaseModel):
    kind: str
    covers: list[str]
    expires_on: date
    expiring_soon: bool


class StaffPublic(BaseModel):
    id: str
    centre_id: str
    role: str
    weekdays: list[str]
    licences: list[LicencePublic]


# -- patients and their pathway -------------------------------------------------------------


class IdentityCreate(Body):
    name: str = Field(min_length=1, max_length=200)
    date_of_birth: BirthDate
    hospital_number: str = Field(min_length=1, max_length=40)


class PatientCreate(Body):
    """A referral: the patient's centre, therapy and identifying details (sealed)."""

    centre_id: str = Field(min_length=1, max_length=64)
    product: str = Field(min_length=1, max_length=64, description="catalogue id or brand")
    indication: str = Field(min_length=1, max_length=100)
    weight_kg: Measure | None = Field(default=None, gt=0, lt=500)
    identity: IdentityCreate
    referred_at: Instant | None = None
    reason: str = Text


class PatientPublic(BaseModel):
    id: str
    centre_id: str
    product_id: str
    indication: str
    stage: str
    stage_since: datetime
    waiting_hours: float
    next_step: str
    cycle: int
    cycles_given: int
    referred_at: datetime


class IdentityPublic(BaseModel):
    patient_id: str
    name: str
    date_of_birth: BirthDate
    hospital_number: str


class EventPublic(BaseModel):
    """A pathway entry as recorded; a later correction or void of it is named, never erased."""

    seq: int
    move: str
    at: datetime
    actor: str
    reason: str
    data: dict[str, Any]
    status: Literal["recorded", "corrected", "voided"] = Field(
        default="recorded", description="whether a later entry corrected or voided this one"
    )
    corrected_by: list[int] = Field(default_factory=list, description="seqs of the corrections of it")


class CorrectionCreate(Body):
    """A wrong entry set right (`correct`: its right time and facts) or undone (`void`), with why.

    Only the facts of the entry's kind apply: a release's calibration_gbq, calibration_at,
    qc_result and lot; a shipping's courier and tracking; an administration's assayed_gbq,
    residual_gbq and given_by. What is left out stays as recorded.
    """

    entry: int = Field(ge=1, description="the entry's seq on the patient's timeline")
    action: Literal["correct", "void"]
    reason: str = Field(min_length=3, max_length=500, description="why the entry was wrong")
    at: Instant | None = Field(default=None, description="correct: the time it really happened")
    calibration_gbq: float | None = Field(default=None, gt=0, le=1000)
    calibration_at: Instant | None = None
    qc_result: str | None = Field(default=None, max_length=200)
    lot: str | None = Field(default=None, max_length=64)
    courier: str | None = Field(default=None, max_length=100)
    tracking: str | None = Field(default=None, max_length=100)
    assayed_gbq: float | None = Field(default=None, gt=0, le=100)
    residual_gbq: float | None = Field(default=None, ge=0, le=100)
    given_by: str | None = Field(default=None, max_length=100)


class ImagingRequestCreate(Body):
    agent: str = Field(min_length=1, max_length=64, description="imaging agent id or brand")
    at: Instant | None = None
    reason: str = Text


class ImagingResultCreate(Body):
    result: Literal["positive", "negative", "inconclusive"]
    at: Instant | None = None
    reason: str = Text


class MdtDecisionCreate(Body):
    decision: Literal["approve", "decline", "defer"]
    at: Instant | None = None
    reason: str = Text
    eligibility: list[Annotated[str, Field(max_length=40)]] = Field(
        default_factory=list,
        max_length=20,
        description="for a therapy without eligibility PET (Xofigo, Zevalin): the ids of the label's "
        "checks the MDT confirms (a refusal names those missing); approval needs every one",
    )


class AdministrationCreate(Body):
    """The dose given: when, the activity assayed before and left after, and who gave it."""

    order_id: str = Id
    at: Instant | None = Field(default=None, description="when it was given; default: now")
    assayed_gbq: float = Field(gt=0, le=100, description="activity measured before the infusion, GBq")
    residual_gbq: float = Field(default=0.0, ge=0, le=100, description="activity left after, GBq")
    given_by: str = Field(default="", max_length=100, description="who gave it; default: the recorder")


class FollowUpCreate(Body):
    kind: str = Field(min_length=1, max_length=40, description="e.g. 'labs', 'psa', 'toxicity', 'prom'")
    at: Instant | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class DiscontinuationCreate(Body):
    reason: Literal["toxicity", "progression", "death", "patient_choice", "ineligible", "other"]
    at: Instant | None = None
    note: str = Text


# -- orders -----------------------------------------------------------------------------------


class OrderCreate(Body):
    """A dose order for the patient's next cycle; the window follows the label."""

    patient_id: str = Id
    preferred_at: Instant | None = Field(
        default=None, description="preferred administration; default: the earliest the label allows"
    )
    reduction: str | None = Field(
        default=None, max_length=100, description="label condition for a reduced dose"
    )
    platelets_per_mm3: WholeNumber | None = Field(default=None, ge=0, le=2_000_000, description="for Zevalin")


class OrderAdjust(Body):
    preferred_at: Instant


class ProposalCreate(Body):
    """Another administration time the manufacturer offers; it must lie inside the order's window."""

    proposed_at: Instant
    note: str = Text


class OrderCancel(Body):
    reason: str = Field(min_length=1, max_length=500)


class ProgressCreate(Body):
    """A step of the dose's journey, when it happened (default: now) and its facts: a release
    gives the activity measured, when, the QC result and the lot; shipping the courier and
    the tracking reference."""

    step: Literal["start_production", "release", "fail_qc", "ship", "deliver", "miss"]
    at: Instant | None = None
    reason: str = Text
    calibration_gbq: float | None = Field(default=None, gt=0, le=1000, description="release: measured GBq")
    calibration_at: Instant | None = Field(default=None, description="release: when measured")
    qc_result: str = Field(default="pass", max_length=200, description="release: the QC result")
    lot: str = Field(default="", max_length=64, description="release: the lot number")
    courier: str = Field(default="", max_length=100, description="ship: the courier")
    tracking: str = Field(default="", max_length=100, description="ship: the courier's reference")


class PlacementPublic(BaseModel):
    site_id: str
    batch_id: str
    calibration_at: datetime
    calibration_gbq: float
    released_at: datetime
    expiry_at: datetime
    lane_id: str
    departs_at: datetime
    arrives_at: datetime
    shipment_status: str
    chair: int
    appointment_at: datetime
    appointment_end_at: datetime
    administration_at: datetime


class DoseRecordPublic(BaseModel):
    """What was recorded of the order's dose, step by step: facts, not the plan."""

    production_started_at: datetime | None
    released_at: datetime | None
    calibration_at: datetime | None = Field(description="when the activity was measured at release")
    calibration_gbq: float | None = Field(description="the activity measured at release")
    qc_result: str | None
    lot: str | None
    qc_failed_at: datetime | None
    shipped_at: datetime | None
    courier: str | None
    tracking: str | None
    delivered_at: datetime | None = Field(description="when the centre received the dose")
    missed_at: datetime | None
    administered_at: datetime | None
    assayed_gbq: float | None
    residual_gbq: float | None
    administered_gbq: float | None = Field(description="assayed less residual")
    given_by: str | None


class OrderPublic(BaseModel):
    id: str
    patient_id: str
    product_id: str
    cycle: int
    centre_id: str
    earliest_at: datetime
    latest_at: datetime
    preferred_at: datetime
    prescribed_gbq: float
    reduction: str | None
    placed_at: datetime
    status: str
    confirmed_at: datetime | None
    waiting_hours: float | None = Field(description="hours awaiting confirmation; None once confirmed")
    overdue: bool = Field(description="awaiting confirmation for more than the product's target (24 h)")
    cancellation_fee: str | None
    plan_note: str | None
    placement: PlacementPublic | None
    proposed_at: datetime | None = Field(
        default=None, description="another time the manufacturer proposes; the centre may accept it"
    )
    proposal_note: str | None = None
    recorded: DoseRecordPublic | None = Field(
        default=None, description="what was recorded of the dose so far (None before production)"
    )


class CancellationPreviewPublic(BaseModel):
    """What cancelling the order now would cost, before anyone confirms it."""

    order_id: str
    at: datetime = Field(description="the moment the fee is reckoned for: now on the service clock")
    country: str = Field(description="ISO 3166 country of the order's centre, whose terms apply")
    fee: str | None = Field(description="the fee that would apply; None where none is set")
    consequence: str = Field(description="what cancelling now means, in words")


class CancellationPublic(BaseModel):
    order: OrderPublic
    fee: str | None
    consequence: str


class CheckedOptionPublic(BaseModel):
    """The planned administration nearest a preferred time, and the dose that would be given."""

    administration_at: datetime
    site_id: str
    batch_id: str
    calibration_at: datetime
    calibration_gbq: float
    arrives_at: datetime
    expected_gbq: float = Field(description="the calibration activity decayed to the administration")
    within_band: bool = Field(description="expected activity inside the product's tolerance band")


class OrderCheckPublic(BaseModel):
    """Whether the patient's next dose could be given at a preferred time; nothing is booked."""

    patient_id: str
    product_id: str
    cycle: int
    preferred_at: datetime
    earliest_at: datetime = Field(description="the earliest administration the label and lead time allow")
    latest_at: datetime = Field(description="the latest administration the label allows for this cycle")
    in_window: bool
    workable: bool = Field(description="a dose can be given on the preferred day, inside the band")
    prescribed_gbq: float
    tolerance: float = Field(description="fraction either side of the prescribed activity")
    low_gbq: float
    high_gbq: float
    option: CheckedOptionPublic | None = Field(description="the option nearest the preferred time")
    refusal: str | None = Field(description="why the preferred time cannot work, and what to do")
    nearest_workable: list[datetime] = Field(
        description="when refused: planned administrations on up to 3 nearest days that can work"
    )


# -- logistics --------------------------------------------------------------------------------


class DosePublic(BaseModel):
    """A dose made for an order: its batch, calibration and activity (pseudonyms only)."""

    order_id: str
    patient_id: str
    centre_id: str
    product_id: str
    cycle: int
    order_status: str
    site_id: str
    batch_id: str
    calibration_at: datetime
    calibration_gbq: float = Field(description="activity at calibration, GBq")
    prescribed_gbq: float = Field(description="activity prescribed at administration, GBq")
    released_at: datetime
    expiry_at: datetime
    dose_of: str | None = Field(description="the order the dose was first filled for, when re-used")


class ShipmentPublic(BaseModel):
    """A dose on its way from the production site to the centre."""

    order_id: str
    patient_id: str
    centre_id: str
    product_id: str
    site_id: str | None
    lane_id: str
    departs_at: datetime
    eta_at: datetime = Field(description="expected arrival at the centre (the lane's planned arrival)")
    status: str = Field(description="planned, in transit, delivered or missed")


class AppointmentPublic(BaseModel):
    """A chair booked at the centre for an order's administration."""

    order_id: str
    patient_id: str
    centre_id: str
    product_id: str
    order_status: str
    chair: int
    start_at: datetime
    end_at: datetime
    administration_at: datetime
    delay_reason: str | None


# -- administration ---------------------------------------------------------------------------


class AuditPublic(BaseModel):
    """One entry of the append-only audit trail."""

    id: int
    at: datetime
    username: str
    role: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


HIDDEN = "null where the small-number rule hides it (see `suppression`)"


class CentreStageCount(BaseModel):
    centre_id: str
    stage: str
    patients: int | None = Field(description=HIDDEN)


class ProductStageCount(BaseModel):
    product_id: str
    stage: str
    patients: int | None = Field(description=HIDDEN)


class StatusCount(BaseModel):
    status: str
    orders: int | None = Field(description=HIDDEN)


class CentreMonthCount(BaseModel):
    centre_id: str
    month: str = Field(description="calendar month of the administration, UTC, as YYYY-MM")
    doses: int | None = Field(description=HIDDEN)


class ConfirmationAggregate(BaseModel):
    awaiting: int | None = Field(description="orders awaiting the manufacturer's confirmation now; " + HIDDEN)
    mean_waiting_hours: float | None = Field(
        description="their mean wait so far, hours; None if none wait, or too few to show"
    )
    overdue: int | None = Field(
        description="of those, waiting longer than the product's target (24 h); " + HIDDEN
    )
    mean_hours_to_confirmation: float | None = Field(
        description="mean hours from order to confirmation, over every order ever confirmed"
    )


class AggregatesPublic(BaseModel):
    """De-identified counts for the health system: no patient or order ids."""

    at: datetime
    suppression: str = Field(description="the small-number rule applied to every count below")
    patients_by_centre_stage: list[CentreStageCount]
    patients_by_product_stage: list[ProductStageCount]
    orders_by_status: list[StatusCount]
    administered_by_centre_month: list[CentreMonthCount]
    confirmation: ConfirmationAggregate


# -- the plan and disruptions -------------------------------------------------------------------


class PlanEntryPublic(BaseModel):
    """Where and when one open order is made, shipped and given."""

    order_id: str
    patient_id: str = Field(description="pseudonym")
    product_id: str
    centre_id: str
    site_id: str
    batch_id: str
    batch_start_at: datetime
    lane_id: str
    departs_at: datetime
    arrives_at: datetime
    chair: int
    appointment_at: datetime
    administration_at: datetime
    calibration_gbq: float
    delay_reason: str | None


class UnplannedPublic(BaseModel):
    order_id: str
    reason: str


class PlanPublic(BaseModel):
    """The plan in force: the manufacturer sees all of it, a centre its own part."""

    summary: dict[str, Any] = Field(description="key figures, as in `rltnet plan check --summary`")
    placements: list[PlanEntryPublic]
    unplanned: list[UnplannedPublic]


class ChangePublic(BaseModel):
    order_id: str
    kind: str = Field(description="moved | dose re-seated | dose reassigned | unplanned | newly planned")
    before: str | None
    after: str | None
    reason: str


class SolverPublic(BaseModel):
    objective: float
    bound: float | None
    gap: float | None
    status: str


class ReplanPublic(BaseModel):
    """What re-planning changes; written only when `committed`."""

    committed: bool
    events: list[dict[str, Any]]
    changes: list[ChangePublic]
    solver: SolverPublic | None


class OptimiseCreate(Body):
    commit: Flag = Field(default=False, description="write the new plan; false shows the changes only")


class DisruptionPublic(BaseModel):
    id: int
    declared_at: datetime
    declared_by: str
    events: list[dict[str, Any]]
    changed_orders: int


class DisruptionCreate(Body):
    """What failed, in the shape of the event file of `rltnet plan replan` (docs/plan-format.md)."""

    events: list[EventFile] = Field(min_length=1, max_length=200)
    now: Instant | None = Field(
        default=None,
        description="when it is declared (default: the server's clock); new batches start after it",
    )
    commit: Flag = Field(default=False, description="store the events and write the new plan")

    @model_validator(mode="after")
    def _plannable(self) -> DisruptionCreate:
        """Times near datetime's limits, or a delay of centuries, overflow when the plan is
        re-made around them (a 500): refuse them here, naming the event."""
        for index, event in enumerate(self.events):
            for name in ("start", "end"):
                moment: datetime | None = getattr(event, name, None)
                if moment is not None and not EARLIEST <= moment < LATEST:
                    raise PydanticCustomError(
                        "instant_range",
                        "events.{index}.{name} should be in the years 1900 to 2999",
                        {"index": index, "name": name},
                    )
            if isinstance(event, LaneDelayedFile) and event.delay > MAX_LANE_DELAY:
                raise PydanticCustomError(
                    "delay_range",
                    "events.{index}.delay is over 30 d; a lane delayed longer is cancelled: declare "
                    "lane_cancelled for the period",
                    {"index": index},
                )
        return self
