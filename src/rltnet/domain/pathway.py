"""The patient pathway as an explicit state machine, rebuilt from its events.

referral -> eligibility imaging requested -> imaged (positive / negative /
inconclusive) -> MDT decision (approve / decline / defer) -> per cycle: planned
-> ordered -> confirmed -> in production -> released (or failed QC) -> shipped
-> delivered -> administered (or missed) -> follow-up -> next cycle, completed,
or discontinued.

`TRANSITIONS` is the whole table; `advance` applies one event to a state and is
the only place a state changes, so replaying the events gives the live state.
Guards beyond the table (cycle windows, dose tolerance, reduced doses, event
order) are checked in `advance` and raise `PathwayError` saying what to do.

A wrong entry is corrected or voided by an event of its own (CORRECT, VOID) that
names the entry by its place in the events (`seq`, from 1); the original stays,
and the state is rebuilt by replaying the events as corrected (`effective_events`).
The times recorded are checked against the clock and the facts in `domain.timing`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from rltnet.domain.dose import Dose
from rltnet.domain.errors import DoseOutsideWindow, PathwayError
from rltnet.domain.products import TherapyProduct
from rltnet.domain.records import AdministrationRecord, DoseRecord, ReleaseRecord, ShippingRecord
from rltnet.domain.timing import check_in_order, check_not_future
from rltnet.domain.units import require_aware


class Stage(enum.StrEnum):
    REFERRED = "referred"
    IMAGING_REQUESTED = "imaging_requested"
    IMAGED_POSITIVE = "imaged_positive"
    IMAGED_NEGATIVE = "imaged_negative"
    IMAGED_INCONCLUSIVE = "imaged_inconclusive"
    MDT_APPROVED = "mdt_approved"
    MDT_DECLINED = "mdt_declined"
    MDT_DEFERRED = "mdt_deferred"
    CYCLE_PLANNED = "cycle_planned"
    ORDERED = "ordered"
    CONFIRMED = "confirmed"
    IN_PRODUCTION = "in_production"
    RELEASED = "released"
    QC_FAILED = "qc_failed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    ADMINISTERED = "administered"
    MISSED = "missed"
    FOLLOW_UP = "follow_up"
    COMPLETED = "completed"
    DISCONTINUED = "discontinued"


class Move(enum.StrEnum):
    REFER = "refer"
    REQUEST_IMAGING = "request_imaging"
    RECORD_POSITIVE = "record_positive"
    RECORD_NEGATIVE = "record_negative"
    RECORD_INCONCLUSIVE = "record_inconclusive"
    APPROVE = "approve"
    DECLINE = "decline"
    DEFER = "defer"
    PLAN_CYCLE = "plan_cycle"
    ORDER = "order"
    CONFIRM = "confirm"
    CANCEL_ORDER = "cancel_order"
    START_PRODUCTION = "start_production"
    RELEASE = "release"
    FAIL_QC = "fail_qc"
    SHIP = "ship"
    DELIVER = "deliver"
    ADMINISTER = "administer"
    MISS = "miss"
    START_FOLLOW_UP = "start_follow_up"
    COMPLETE = "complete"
    DISCONTINUE = "discontinue"
    CORRECT = "correct"  # a wrong entry's time or facts, set right
    VOID = "void"  # a wrong entry, undone


CORRECTIONS = frozenset({Move.CORRECT, Move.VOID})
# Entries a person records at the time they happen, and may correct or void. The referral,
# orders, confirmations and cancellations are not: they hold an order row; cancel it instead.
CORRECTABLE = frozenset(
    {
        Move.REQUEST_IMAGING,
        Move.RECORD_POSITIVE,
        Move.RECORD_NEGATIVE,
        Move.RECORD_INCONCLUSIVE,
        Move.APPROVE,
        Move.DECLINE,
        Move.DEFER,
        Move.START_PRODUCTION,
        Move.RELEASE,
        Move.FAIL_QC,
        Move.SHIP,
        Move.DELIVER,
        Move.ADMINISTER,
        Move.MISS,
        Move.START_FOLLOW_UP,
        Move.DISCONTINUE,
        Move.COMPLETE,
    }
)


class DiscontinuationReason(enum.StrEnum):
    TOXICITY = "toxicity"
    PROGRESSION = "progression"
    DEATH = "death"
    PATIENT_CHOICE = "patient_choice"
    INELIGIBLE = "ineligible"
    OTHER = "other"


S, M = Stage, Move
TERMINAL = frozenset({S.MDT_DECLINED, S.COMPLETED, S.DISCONTINUED})

# The whole pathway: from each stage, the moves allowed and the stage each leads to.
# DISCONTINUE is allowed from every stage that is not terminal (added below).
_TABLE: Mapping[Stage, Mapping[Move, Stage]] = {
    # imaging for therapies proved by a PET; the MDT at once for the others (Xofigo, Zevalin):
    # `moves_for` keeps the one that fits the product, and the guards refuse the other
    S.REFERRED: {
        M.REQUEST_IMAGING: S.IMAGING_REQUESTED,
        M.APPROVE: S.MDT_APPROVED,
        M.DECLINE: S.MDT_DECLINED,
        M.DEFER: S.MDT_DEFERRED,
    },
    S.IMAGING_REQUESTED: {
        M.RECORD_POSITIVE: S.IMAGED_POSITIVE,
        M.RECORD_NEGATIVE: S.IMAGED_NEGATIVE,
        M.RECORD_INCONCLUSIVE: S.IMAGED_INCONCLUSIVE,
    },
    S.IMAGED_POSITIVE: {
        M.APPROVE: S.MDT_APPROVED,
        M.DECLINE: S.MDT_DECLINED,
        M.DEFER: S.MDT_DEFERRED,
    },
    S.IMAGED_NEGATIVE: {M.DECLINE: S.MDT_DECLINED, M.DEFER: S.MDT_DEFERRED},
    S.IMAGED_INCONCLUSIVE: {
        M.REQUEST_IMAGING: S.IMAGING_REQUESTED,
        M.DECLINE: S.MDT_DECLINED,
        M.DEFER: S.MDT_DEFERRED,
    },
    S.MDT_DEFERRED: {
        M.REQUEST_IMAGING: S.IMAGING_REQUESTED,
        M.APPROVE: S.MDT_APPROVED,  # guarded: only on positive imaging
        M.DECLINE: S.MDT_DECLINED,
    },
    S.MDT_APPROVED: {M.PLAN_CYCLE: S.CYCLE_PLANNED},
    S.CYCLE_PLANNED: {M.ORDER: S.ORDERED},
    S.ORDERED: {M.CONFIRM: S.CONFIRMED, M.CANCEL_ORDER: S.CYCLE_PLANNED},
    S.CONFIRMED: {M.START_PRODUCTION: S.IN_PRODUCTION, M.CANCEL_ORDER: S.CYCLE_PLANNED},
    S.IN_PRODUCTION: {
        M.RELEASE: S.RELEASED,
        M.FAIL_QC: S.QC_FAILED,
        M.CANCEL_ORDER: S.CYCLE_PLANNED,
    },
    S.QC_FAILED: {M.ORDER: S.ORDERED, M.PLAN_CYCLE: S.CYCLE_PLANNED},
    S.RELEASED: {M.SHIP: S.SHIPPED, M.CANCEL_ORDER: S.CYCLE_PLANNED},
    S.SHIPPED: {M.DELIVER: S.DELIVERED, M.MISS: S.MISSED},
    S.DELIVERED: {M.ADMINISTER: S.ADMINISTERED, M.MISS: S.MISSED},
    S.MISSED: {M.PLAN_CYCLE: S.CYCLE_PLANNED},
    S.ADMINISTERED: {M.START_FOLLOW_UP: S.FOLLOW_UP},
    S.FOLLOW_UP: {M.PLAN_CYCLE: S.CYCLE_PLANNED, M.COMPLETE: S.COMPLETED},
    S.MDT_DECLINED: {},
    S.COMPLETED: {},
    S.DISCONTINUED: {},
}
TRANSITIONS: Mapping[Stage, Mapping[Move, Stage]] = {
    stage: {**moves, **({} if stage in TERMINAL else {M.DISCONTINUE: S.DISCONTINUED})}
    for stage, moves in _TABLE.items()
}


@dataclass(frozen=True, slots=True)
class PathwayEvent:
    """One move on the pathway: what, when, by whom and why, with the move's data.

    `planned_at` goes with PLAN_CYCLE, `order_id` with ORDER, `reduction` (the
    label condition) with an ORDER for a reduced dose, `release` with RELEASE,
    `shipping` with SHIP, `dose` and `administration` with ADMINISTER,
    `discontinuation` with DISCONTINUE. A CORRECT or VOID names the entry it
    corrects by `corrects` (its seq); a CORRECT gives the entry's right time as
    `corrected_at` and its right facts in the same fields as the entry.
    """

    move: Move
    at: datetime
    actor: str
    reason: str = ""
    planned_at: datetime | None = None
    order_id: str | None = None
    reduction: str | None = None
    dose: Dose | None = None
    discontinuation: DiscontinuationReason | None = None
    eligibility: tuple[str, ...] = ()  # the label's checks the MDT confirmed (therapies without PET)
    release: ReleaseRecord | None = None
    shipping: ShippingRecord | None = None
    administration: AdministrationRecord | None = None
    corrects: int | None = None
    corrected_at: datetime | None = None

    def __post_init__(self) -> None:
        require_aware(self.at, "event time")
        if self.planned_at is not None:
            require_aware(self.planned_at, "planned_at")
        if self.corrected_at is not None:
            require_aware(self.corrected_at, "corrected_at")


@dataclass(frozen=True, slots=True)
class PathwayState:
    """Where a patient stands, derived only from the events so far."""

    stage: Stage
    last_event_at: datetime
    stage_since: datetime | None = None  # when the stage began (None: at the referral)
    cycle: int = 0  # the cycle being planned or given; 0 before the first
    cycles_given: int = 0
    last_administered_at: datetime | None = None
    planned_at: datetime | None = None
    order_id: str | None = None
    reductions: int = 0  # steps from full to reduced dose so far
    reduced_dose: bool = False  # whether the latest order is at the reduced dose
    last_imaging: Stage | None = None
    discontinuation: DiscontinuationReason | None = None
    dose: DoseRecord | None = None  # what was recorded of the current order's dose

    def allowed_moves(self) -> tuple[Move, ...]:
        return tuple(TRANSITIONS[self.stage])


def start(event: PathwayEvent) -> PathwayState:
    """The state a referral creates."""
    if event.move is not Move.REFER:
        raise PathwayError(f"a pathway starts with a referral, not {event.move.value!r}")
    return PathwayState(stage=Stage.REFERRED, last_event_at=event.at, stage_since=event.at)


def advance(state: PathwayState, event: PathwayEvent, product: TherapyProduct) -> PathwayState:
    """Apply one event to a state, or raise `PathwayError` naming the state and allowed moves."""
    allowed = TRANSITIONS[state.stage]
    if event.move not in allowed:
        moves = ", ".join(m.value for m in allowed) or "none (the pathway has ended)"
        raise PathwayError(f"cannot {event.move.value!r} at stage {state.stage.value!r}; allowed: {moves}")
    check_in_order(event.at, state.last_event_at, repr(event.move.value))
    stage = allowed[event.move]
    moved = replace(
        state,
        stage=stage,
        last_event_at=max(event.at, state.last_event_at),  # equal to the minute: keep the later
        stage_since=state.stage_since if stage is state.stage else event.at,
        dose=_dose_record(state.dose, event),
    )
    guard = _GUARDS.get(event.move)
    return guard(state, moved, event, product) if guard else moved


def moves_for(stage: Stage, product: TherapyProduct) -> tuple[Move, ...]:
    """The moves allowed at `stage` for this product's patients: no eligibility imaging for a
    therapy the label does not prove by PET, no MDT before imaging for one it does."""
    moves = tuple(TRANSITIONS[stage])
    if stage is Stage.REFERRED:
        skipped = _MDT if product.eligibility.needs_imaging else (M.REQUEST_IMAGING,)
        return tuple(m for m in moves if m not in skipped)
    if stage is Stage.MDT_DEFERRED and not product.eligibility.needs_imaging:
        return tuple(m for m in moves if m is not M.REQUEST_IMAGING)
    return moves


_MDT = (M.APPROVE, M.DECLINE, M.DEFER)


def _request_imaging(
    state: PathwayState, moved: PathwayState, event: PathwayEvent, product: TherapyProduct
) -> PathwayState:
    if not product.eligibility.needs_imaging:
        raise PathwayError(
            f"{product.brand} needs no eligibility PET: the MDT (a physician) decides on the label's "
            f"checks ({_questions(product)})"
        )
    return moved


def _dose_record(record: DoseRecord | None, event: PathwayEvent) -> DoseRecord | None:
    """The current order's dose record after `event`: a new one with each order, none once
    the order is cancelled."""
    move, at = event.move, event.at
    if move is Move.ORDER:
        return DoseRecord(order_id=event.order_id or "")
    if move is Move.CANCEL_ORDER:
        return None
    steps: dict[Move, dict[str, object]] = {
        Move.START_PRODUCTION: {"production_started_at": at},
        Move.RELEASE: {"released_at": at, "release": event.release},
        Move.FAIL_QC: {"qc_failed_at": at},
        Move.SHIP: {"shipped_at": at, "shipping": event.shipping},
        Move.DELIVER: {"delivered_at": at},
        Move.MISS: {"missed_at": at},
        Move.ADMINISTER: {"administered_at": at, "administration": event.administration},
    }
    if record is None or move not in steps:
        return record
    return replace(record, **steps[move])  # type: ignore[arg-type]


def _imaging(
    state: PathwayState, moved: PathwayState, event: PathwayEvent, _: TherapyProduct
) -> PathwayState:
    return replace(moved, last_imaging=moved.stage)


def _mdt_before_imaging(state: PathwayState, product: TherapyProduct) -> None:
    if state.stage is Stage.REFERRED and product.eligibility.needs_imaging:
        raise PathwayError(
            f"{product.brand} eligibility is shown by PET ({', '.join(product.eligibility.imaging_agents)}); "
            f"request imaging before the MDT decides"
        )


def _approve(
    state: PathwayState, moved: PathwayState, event: PathwayEvent, product: TherapyProduct
) -> PathwayState:
    _mdt_before_imaging(state, product)
    if not product.eligibility.needs_imaging:
        unmet = product.eligibility.unmet(event.eligibility)
        if unmet:
            raise PathwayError(
                f"the {product.brand} label's eligibility is not confirmed: "
                + "; ".join(f"{c.check_id} ({c.question})" for c in unmet)
                + "; confirm each, or decline or defer"
            )
        return moved
    if state.last_imaging is not Stage.IMAGED_POSITIVE:
        raise PathwayError("the MDT can approve only on positive eligibility imaging; request imaging first")
    return moved


def _decline_or_defer(
    state: PathwayState, moved: PathwayState, event: PathwayEvent, product: TherapyProduct
) -> PathwayState:
    _mdt_before_imaging(state, product)
    return moved


def _questions(product: TherapyProduct) -> str:
    return "; ".join(c.question for c in product.eligibility.checks) or product.eligibility.criterion


def _plan_cycle(
    state: PathwayState, moved: PathwayState, event: PathwayEvent, product: TherapyProduct
) -> PathwayState:
    if event.planned_at is None:
        raise PathwayError("plan_cycle needs planned_at, the intended administration time")
    repeat = state.stage in (Stage.MISSED, Stage.QC_FAILED)
    cycle = state.cycle if repeat else state.cycles_given + 1
    if cycle > product.schedule.cycles:
        raise PathwayError(
            f"all {product.schedule.cycles} cycles of {product.brand} are given; complete the pathway instead"
        )
    _check_interval(state, event.planned_at, product, "planned")
    return replace(moved, cycle=cycle, planned_at=event.planned_at, order_id=None)


def _order(
    state: PathwayState, moved: PathwayState, event: PathwayEvent, product: TherapyProduct
) -> PathwayState:
    """An order is at full dose, or reduced for a condition the label names.

    Moving from full to reduced dose is a reduction; ordering a reduced dose again
    (the next cycle, or a re-order after a cancellation or QC failure) is not.
    """
    if not event.order_id:
        raise PathwayError("order needs order_id, the dose order's reference")
    rule = product.reduction
    if event.reduction is None:
        if state.reduced_dose and rule is not None and not rule.may_return_to_full:
            raise PathwayError(
                f"after a reduction the {product.brand} label keeps the reduced dose; order it "
                f"with the reduction reason"
            )
        return replace(moved, order_id=event.order_id, reduced_dose=False)
    if rule is None:
        raise PathwayError(f"the {product.brand} label has no reduced dose; order the full dose")
    if event.reduction not in rule.conditions:
        raise PathwayError(
            f"{event.reduction!r} is not a reason the {product.brand} label allows for a "
            f"reduced dose; allowed: {', '.join(rule.conditions)}"
        )
    reductions = state.reductions
    if not state.reduced_dose:
        if reductions >= rule.max_reductions:
            raise PathwayError(
                f"the dose was already reduced {reductions} time(s), the most the "
                f"{product.brand} label allows; discontinue instead"
            )
        reductions += 1
    return replace(moved, order_id=event.order_id, reductions=reductions, reduced_dose=True)


def _cancel(state: PathwayState, moved: PathwayState, event: PathwayEvent, _: TherapyProduct) -> PathwayState:
    return replace(moved, order_id=None)


def _administer(
    state: PathwayState, moved: PathwayState, event: PathwayEvent, product: TherapyProduct
) -> PathwayState:
    dose = event.dose
    if dose is None:
        raise PathwayError("administer needs the dose given")
    if dose.product.product_id != product.product_id:
        raise PathwayError(
            f"dose {dose.dose_id} is {dose.product.brand}, but this patient is treated with {product.brand}"
        )
    try:
        dose.check_administration(event.at)
    except DoseOutsideWindow as refused:
        raise PathwayError(f"cannot administer: {refused}") from refused
    _check_interval(state, event.at, product, "administered")
    return replace(moved, cycles_given=state.cycles_given + 1, last_administered_at=event.at)


def _discontinue(
    state: PathwayState, moved: PathwayState, event: PathwayEvent, _: TherapyProduct
) -> PathwayState:
    if event.discontinuation is None:
        raise PathwayError("discontinue needs a reason: " + ", ".join(r.value for r in DiscontinuationReason))
    return replace(moved, discontinuation=event.discontinuation)


def _complete(
    state: PathwayState, moved: PathwayState, event: PathwayEvent, product: TherapyProduct
) -> PathwayState:
    if state.cycles_given < product.schedule.cycles:
        raise PathwayError(
            f"{state.cycles_given} of {product.schedule.cycles} cycles given; plan the next "
            f"cycle, or discontinue with a reason"
        )
    return moved


def _check_interval(state: PathwayState, at: datetime, product: TherapyProduct, what: str) -> None:
    """Later cycles fall inside the label's interval window after the previous one."""
    if state.last_administered_at is None:
        return
    earliest, latest = product.schedule.next_cycle_window(state.last_administered_at)
    if not earliest <= at <= latest:
        raise PathwayError(
            f"cycle {state.cycles_given + 1} {what} at {at.isoformat()} is outside the "
            f"{product.brand} window {earliest.isoformat()} to {latest.isoformat()} after the "
            f"previous administration; choose a time inside it"
        )


_Guard = Callable[[PathwayState, PathwayState, PathwayEvent, TherapyProduct], PathwayState]
_GUARDS: Mapping[Move, _Guard] = {
    M.REQUEST_IMAGING: _request_imaging,
    M.DECLINE: _decline_or_defer,
    M.DEFER: _decline_or_defer,
    M.RECORD_POSITIVE: _imaging,
    M.RECORD_NEGATIVE: _imaging,
    M.RECORD_INCONCLUSIVE: _imaging,
    M.APPROVE: _approve,
    M.PLAN_CYCLE: _plan_cycle,
    M.ORDER: _order,
    M.CANCEL_ORDER: _cancel,
    M.ADMINISTER: _administer,
    M.DISCONTINUE: _discontinue,
    M.COMPLETE: _complete,
}


def effective_events(events: Iterable[PathwayEvent]) -> list[PathwayEvent]:
    """The events as corrected: each CORRECT applied to the entry it names, each VOID's entry
    left out, in their order; the corrections themselves are not in it."""
    kept: dict[int, PathwayEvent | None] = {}
    for seq, event in enumerate(events, start=1):
        if event.move not in CORRECTIONS:
            kept[seq] = event
            continue
        target = kept.get(event.corrects or 0)
        if target is None:
            raise PathwayError(
                f"entry {event.corrects} is not an entry that can be corrected (unknown, a correction, "
                f"or voided already); choose one from the timeline"
            )
        if target.move not in CORRECTABLE:
            raise PathwayError(
                f"a {target.move.value!r} entry is not corrected or voided: "
                + (
                    "cancel the order instead"
                    if target.move is not Move.REFER
                    else "discontinue the pathway with a reason instead"
                )
            )
        kept[event.corrects or 0] = None if event.move is Move.VOID else _corrected(target, event)
    return [event for event in kept.values() if event is not None]


def _corrected(entry: PathwayEvent, correction: PathwayEvent) -> PathwayEvent:
    """`entry` with the right time and facts a CORRECT gives (what it leaves out stays)."""
    return replace(
        entry,
        at=correction.corrected_at or entry.at,
        release=correction.release or entry.release,
        shipping=correction.shipping or entry.shipping,
        administration=correction.administration or entry.administration,
        dose=correction.dose or entry.dose,
    )


@dataclass
class PatientPathway:
    """One patient's pathway on one therapy: the events (corrections included) and the state
    the events as corrected give."""

    patient_id: str
    product: TherapyProduct
    events: list[PathwayEvent] = field(default_factory=list)
    state: PathwayState | None = None

    @classmethod
    def refer(
        cls, patient_id: str, product: TherapyProduct, at: datetime, actor: str, reason: str = ""
    ) -> PatientPathway:
        pathway = cls(patient_id, product)
        pathway.record(PathwayEvent(Move.REFER, at, actor, reason))
        return pathway

    @classmethod
    def from_events(
        cls, patient_id: str, product: TherapyProduct, events: Iterable[PathwayEvent]
    ) -> PatientPathway:
        """Rebuild a pathway by replaying its events through the same rules."""
        pathway = cls(patient_id, product)
        for event in events:
            pathway.record(event)
        return pathway

    def dose_records(self) -> dict[str, DoseRecord]:
        """What was recorded of each order's dose, by order id, from the events as corrected."""
        records: dict[str, DoseRecord] = {}
        record: DoseRecord | None = None
        for event in effective_events(self.events):
            record = _dose_record(record, event)
            if record is not None:
                records[record.order_id] = record
        return records

    @property
    def stage(self) -> Stage:
        return self.current.stage

    @property
    def current(self) -> PathwayState:
        if self.state is None:
            raise PathwayError(f"patient {self.patient_id} has no referral yet")
        return self.state

    def record(self, event: PathwayEvent, now: datetime | None = None) -> PathwayState:
        """Apply `event` if the rules allow it; the pathway is unchanged when they do not.

        With the clock's `now` (a new entry, not a replay), a time in the future is refused
        (`domain.timing`), and so is a correction's corrected time.
        """
        try:
            if now is not None:
                check_not_future(event.at, now, repr(event.move.value))
                if event.corrected_at is not None:
                    check_not_future(event.corrected_at, now, "the corrected time")
            if event.move in CORRECTIONS:
                new_state = self._replayed([*self.events, event])
            elif self.state is None:
                new_state = start(event)
            else:
                new_state = advance(self.state, event, self.product)
        except PathwayError as refused:
            raise type(refused)(f"patient {self.patient_id}: {refused}") from None
        self.events.append(event)
        self.state = new_state
        return new_state

    def _replayed(self, events: list[PathwayEvent]) -> PathwayState:
        """The state the events as corrected give; refused if they no longer hold together."""
        corrected = effective_events(events)
        try:
            state = start(corrected[0])
            for event in corrected[1:]:
                state = advance(state, event, self.product)
        except PathwayError as refused:
            raise PathwayError(f"the pathway as corrected does not hold: {refused}") from None
        return state

    def allowed_moves(self) -> tuple[Move, ...]:
        return moves_for(self.current.stage, self.product)
