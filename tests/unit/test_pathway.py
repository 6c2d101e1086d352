"""The patient pathway: only the table's moves, every guard, and a state rebuilt from events."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rltnet.domain.dose import Dose
from rltnet.domain.errors import PathwayError
from rltnet.domain.pathway import (
    CORRECTIONS,
    TERMINAL,
    TRANSITIONS,
    DiscontinuationReason,
    Move,
    PathwayEvent,
    PathwayState,
    PatientPathway,
    Stage,
)
from rltnet.domain.products import Catalogue, TherapyProduct
from rltnet.domain.records import ShippingRecord
from rltnet.domain.timing import EventTimeRefused
from rltnet.domain.units import Activity

REFERRED_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
APPROVED_AT = REFERRED_AT + timedelta(days=10)
FIRST_DOSE_AT = REFERRED_AT + timedelta(days=30)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def event(move: Move, at: datetime, **payload: Any) -> PathwayEvent:
    return PathwayEvent(move, at, actor="coordinator-1", **payload)


def prescribed(product: TherapyProduct) -> Activity:
    """The full activity for a 70 kg patient with normal platelets."""
    return product.prescribe(weight_kg=70, platelets_per_mm3=200_000)


def dose_for(product: TherapyProduct, given_at: datetime, dose_id: str = "dose-1") -> Dose:
    """A dose made and released ahead (36 h, or half its shelf life if shorter), filled to
    hold the prescription at `given_at`."""
    made_at = given_at - min(timedelta(hours=36), product.shelf_life / 2)
    lead_in_half_lives = (given_at - made_at) / product.nuclide.half_life
    return Dose(
        dose_id=dose_id,
        product=product,
        batch_id="batch-1",
        calibration_at=made_at,
        calibration_activity=prescribed(product) * 2**lead_in_half_lives,
        expiry_at=made_at + product.shelf_life,
        prescribed=prescribed(product),
        released_at=made_at,
    )


def approved(product: TherapyProduct) -> PatientPathway:
    """A patient referred, imaged positive and approved by the MDT."""
    pathway = PatientPathway.refer("patient-1", product, REFERRED_AT, "oncologist-1")
    pathway.record(event(Move.REQUEST_IMAGING, REFERRED_AT + DAY))
    pathway.record(event(Move.RECORD_POSITIVE, REFERRED_AT + 8 * DAY))
    pathway.record(event(Move.APPROVE, APPROVED_AT))
    return pathway


def order_cycle(pathway: PatientPathway, given_at: datetime, reduction: str | None = None) -> PatientPathway:
    """Plan, order and confirm the next cycle for `given_at`."""
    pathway.record(event(Move.PLAN_CYCLE, given_at - 15 * DAY, planned_at=given_at))
    pathway.record(
        event(
            Move.ORDER,
            given_at - 14 * DAY,
            order_id=f"order-{given_at:%Y%m%d}",
            reduction=reduction,
        )
    )
    pathway.record(event(Move.CONFIRM, given_at - 13 * DAY))
    return pathway


def deliver_cycle(pathway: PatientPathway, given_at: datetime) -> PatientPathway:
    """Produce, release, ship and deliver the confirmed dose."""
    pathway.record(event(Move.START_PRODUCTION, given_at - 2 * DAY))
    pathway.record(event(Move.RELEASE, given_at - 36 * HOUR))
    pathway.record(event(Move.SHIP, given_at - DAY))
    pathway.record(event(Move.DELIVER, given_at - 2 * HOUR))
    return pathway


def give_cycle(pathway: PatientPathway, given_at: datetime, reduction: str | None = None) -> PatientPathway:
    """One whole cycle, from planning to follow-up, with the dose given at `given_at`."""
    order_cycle(pathway, given_at, reduction)
    deliver_cycle(pathway, given_at)
    dose = dose_for(pathway.product, given_at, dose_id=f"dose-{given_at:%Y%m%d}")
    pathway.record(event(Move.ADMINISTER, given_at, dose=dose))
    pathway.record(event(Move.START_FOLLOW_UP, given_at + DAY))
    return pathway


def cycle_times(product: TherapyProduct, cycles: int) -> list[datetime]:
    return [FIRST_DOSE_AT + n * product.schedule.interval for n in range(cycles)]


# The table, as properties over arbitrary sequences of moves.


def _payload_strategy(
    move: Move, state: PathwayState, product: TherapyProduct, at: datetime
) -> st.SearchStrategy[dict[str, Any]]:
    """The move's data: mostly valid, now and then missing or wrong, to reach every guard.

    Hypothesis favours the first choice of a list, so the first is the valid one.
    """
    if move is Move.PLAN_CYCLE:
        planned: list[datetime | None] = [at, at + 14 * DAY, None]
        if state.last_administered_at is not None:
            planned.insert(0, state.last_administered_at + product.schedule.interval)
        return st.fixed_dictionaries({"planned_at": st.sampled_from(planned)})
    if move is Move.ORDER:
        reductions: list[str | None] = [None, None, None, "a reason no label gives"]
        reductions += list(product.reduction.conditions) if product.reduction else []
        return st.fixed_dictionaries(
            {
                "order_id": st.sampled_from(["order-1", "order-2", None]),
                "reduction": st.sampled_from(reductions),
            }
        )
    if move is Move.ADMINISTER:
        stale = dose_for(product, at - product.shelf_life - DAY, dose_id="expired")
        return st.fixed_dictionaries({"dose": st.sampled_from([dose_for(product, at), stale, None])})
    if move is Move.DISCONTINUE:
        reasons = [*DiscontinuationReason, None]
        return st.fixed_dictionaries({"discontinuation": st.sampled_from(reasons)})
    return st.just({})


def _time_strategy(state: PathwayState, product: TherapyProduct) -> st.SearchStrategy[datetime]:
    """The next cycle's date when one is due, else soon after the last event; now and then
    long after it, or before it."""
    last = state.last_event_at
    times = [last, last + HOUR, last + DAY, last + 14 * DAY, last - HOUR]
    if state.last_administered_at is not None:
        next_cycle = state.last_administered_at + product.schedule.interval
        if next_cycle >= last:
            times.insert(0, next_cycle)
    return st.sampled_from(times)


@st.composite
def next_events(draw: st.DrawFn, state: PathwayState, product: TherapyProduct) -> PathwayEvent:
    """Mostly a move that goes on along the table, sometimes one that ends it, and now and
    then any move at all."""
    allowed = list(TRANSITIONS[state.stage])
    going_on = [m for m in allowed if TRANSITIONS[state.stage][m] not in TERMINAL]
    kind = draw(st.integers(min_value=0, max_value=19))
    if kind < 18 and going_on:
        choices = going_on
    elif kind < 19 and allowed:
        choices = allowed
    else:
        choices = [m for m in Move if m not in CORRECTIONS]  # corrections: tested below
    move = draw(st.sampled_from(choices))
    at = draw(_time_strategy(state, product))
    return event(move, at, **draw(_payload_strategy(move, state, product, at)))


THERAPIES = ["Pluvicto", "Lutathera", "Xofigo", "Zevalin"]


@given(data=st.data(), brand=st.sampled_from(THERAPIES), steps=st.integers(10, 100))
@settings(max_examples=100, deadline=None)
def test_no_sequence_of_moves_leaves_the_table_and_replaying_gives_the_live_state(
    catalogue: Catalogue, data: st.DataObject, brand: str, steps: int
) -> None:
    product = catalogue.therapy(brand)
    pathway = PatientPathway.refer("patient-1", product, REFERRED_AT, "oncologist-1")
    for _ in range(steps):
        before = pathway.current
        events_before = list(pathway.events)
        attempt = data.draw(next_events(before, product))
        try:
            after = pathway.record(attempt)
        except PathwayError as refused:
            assert pathway.state is before, "a refused move must leave the state as it was"
            assert pathway.events == events_before, "a refused move must not be recorded"
            if attempt.move not in TRANSITIONS[before.stage]:
                _assert_names_stage_and_allowed_moves(str(refused), before.stage)
        else:
            assert after.stage is TRANSITIONS[before.stage][attempt.move]
            assert pathway.events == [*events_before, attempt]
            assert before.stage not in TERMINAL
            assert after.last_event_at >= before.last_event_at
            assert after.cycles_given <= product.schedule.cycles
            rule = product.reduction
            assert after.reductions <= (rule.max_reductions if rule else 0)
    rebuilt = PatientPathway.from_events("patient-1", product, pathway.events)
    assert rebuilt.state == pathway.state
    assert rebuilt.events == pathway.events


def _assert_names_stage_and_allowed_moves(message: str, stage: Stage) -> None:
    assert f"at stage {stage.value!r}" in message
    allowed = message.rsplit("allowed: ", 1)[1]
    if TRANSITIONS[stage]:
        assert set(allowed.split(", ")) == {m.value for m in TRANSITIONS[stage]}
    else:
        assert allowed == "none (the pathway has ended)"


def test_every_stage_is_in_the_table_and_every_target_is_a_stage() -> None:
    assert set(TRANSITIONS) == set(Stage)
    for moves in TRANSITIONS.values():
        assert set(moves.values()) <= set(Stage)


def test_every_stage_but_the_ends_may_discontinue_and_the_ends_allow_nothing() -> None:
    for stage, moves in TRANSITIONS.items():
        if stage in TERMINAL:
            assert moves == {}
        else:
            assert moves[Move.DISCONTINUE] is Stage.DISCONTINUED


def test_every_stage_can_be_reached_from_a_referral() -> None:
    reached, frontier = {Stage.REFERRED}, [Stage.REFERRED]
    while frontier:
        for target in TRANSITIONS[frontier.pop()].values():
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(Stage)


# Example tests of each guard.


def test_a_pathway_starts_with_a_referral(pluvicto: TherapyProduct) -> None:
    pathway = PatientPathway("patient-1", pluvicto)
    with pytest.raises(PathwayError, match="has no referral yet"):
        _ = pathway.stage
    with pytest.raises(PathwayError, match="starts with a referral, not 'request_imaging'"):
        pathway.record(event(Move.REQUEST_IMAGING, REFERRED_AT))
    assert pathway.events == []
    assert pathway.state is None


def test_a_referral_waits_for_eligibility_imaging(pluvicto: TherapyProduct) -> None:
    pathway = PatientPathway.refer("patient-1", pluvicto, REFERRED_AT, "oncologist-1")
    assert pathway.stage is Stage.REFERRED
    assert pathway.allowed_moves() == (Move.REQUEST_IMAGING, Move.DISCONTINUE)


def test_no_order_before_mdt_approval(pluvicto: TherapyProduct) -> None:
    pathway = PatientPathway.refer("patient-1", pluvicto, REFERRED_AT, "oncologist-1")
    pathway.record(event(Move.REQUEST_IMAGING, REFERRED_AT + DAY))
    pathway.record(event(Move.RECORD_POSITIVE, REFERRED_AT + 8 * DAY))
    with pytest.raises(PathwayError) as refused:
        pathway.record(event(Move.ORDER, REFERRED_AT + 9 * DAY, order_id="order-1"))
    assert str(refused.value) == (
        "patient patient-1: cannot 'order' at stage 'imaged_positive'; "
        "allowed: approve, decline, defer, discontinue"
    )
    assert pathway.stage is Stage.IMAGED_POSITIVE


def test_an_approved_patient_orders_only_once_a_cycle_is_planned(
    pluvicto: TherapyProduct,
) -> None:
    pathway = approved(pluvicto)
    with pytest.raises(PathwayError, match="allowed: plan_cycle, discontinue"):
        pathway.record(event(Move.ORDER, APPROVED_AT + DAY, order_id="order-1"))
    order_cycle(pathway, FIRST_DOSE_AT)
    assert pathway.stage is Stage.CONFIRMED
    assert pathway.current.order_id == f"order-{FIRST_DOSE_AT:%Y%m%d}"


@pytest.mark.parametrize("finding", [Move.RECORD_NEGATIVE, Move.RECORD_INCONCLUSIVE])
def test_mdt_approval_needs_positive_imaging(pluvicto: TherapyProduct, finding: Move) -> None:
    pathway = PatientPathway.refer("patient-1", pluvicto, REFERRED_AT, "oncologist-1")
    pathway.record(event(Move.REQUEST_IMAGING, REFERRED_AT + DAY))
    pathway.record(event(finding, REFERRED_AT + 8 * DAY))
    with pytest.raises(PathwayError, match="cannot 'approve'"):
        pathway.record(event(Move.APPROVE, REFERRED_AT + 9 * DAY))
    pathway.record(event(Move.DEFER, REFERRED_AT + 9 * DAY))
    with pytest.raises(PathwayError, match="approve only on positive eligibility imaging"):
        pathway.record(event(Move.APPROVE, REFERRED_AT + 16 * DAY))
    assert pathway.stage is Stage.MDT_DEFERRED


def test_a_deferred_patient_is_approved_after_positive_imaging(pluvicto: TherapyProduct) -> None:
    pathway = PatientPathway.refer("patient-1", pluvicto, REFERRED_AT, "oncologist-1")
    pathway.record(event(Move.REQUEST_IMAGING, REFERRED_AT + DAY))
    pathway.record(event(Move.RECORD_INCONCLUSIVE, REFERRED_AT + 8 * DAY))
    pathway.record(event(Move.DEFER, REFERRED_AT + 9 * DAY))
    pathway.record(event(Move.REQUEST_IMAGING, REFERRED_AT + 10 * DAY))
    pathway.record(event(Move.RECORD_POSITIVE, REFERRED_AT + 15 * DAY))
    pathway.record(event(Move.APPROVE, REFERRED_AT + 16 * DAY))
    assert pathway.stage is Stage.MDT_APPROVED


def test_a_deferral_after_positive_imaging_may_still_be_approved(
    pluvicto: TherapyProduct,
) -> None:
    pathway = PatientPathway.refer("patient-1", pluvicto, REFERRED_AT, "oncologist-1")
    pathway.record(event(Move.REQUEST_IMAGING, REFERRED_AT + DAY))
    pathway.record(event(Move.RECORD_POSITIVE, REFERRED_AT + 8 * DAY))
    pathway.record(event(Move.DEFER, REFERRED_AT + 9 * DAY))
    pathway.record(event(Move.APPROVE, REFERRED_AT + 16 * DAY))
    assert pathway.stage is Stage.MDT_APPROVED


def _delivered(product: TherapyProduct) -> PatientPathway:
    pathway = approved(product)
    order_cycle(pathway, FIRST_DOSE_AT)
    return deliver_cycle(pathway, FIRST_DOSE_AT)


def test_an_expired_dose_cannot_be_administered(pluvicto: TherapyProduct) -> None:
    pathway = _delivered(pluvicto)
    stale = dose_for(pluvicto, FIRST_DOSE_AT - 7 * DAY, dose_id="stale")
    with pytest.raises(PathwayError, match="cannot administer: dose stale expired at"):
        pathway.record(event(Move.ADMINISTER, FIRST_DOSE_AT, dose=stale))
    assert pathway.stage is Stage.DELIVERED


def test_an_out_of_tolerance_dose_cannot_be_administered(pluvicto: TherapyProduct) -> None:
    pathway = _delivered(pluvicto)
    filled = dose_for(pluvicto, FIRST_DOSE_AT)
    too_hot = dataclasses.replace(
        filled, dose_id="too-hot", calibration_activity=filled.calibration_activity * 1.2
    )  # 8.88 GBq at administration, above 7.4 GBq + 10 %
    with pytest.raises(PathwayError, match=r"cannot administer: dose too-hot holds 8\.88 GBq"):
        pathway.record(event(Move.ADMINISTER, FIRST_DOSE_AT, dose=too_hot))
    assert pathway.stage is Stage.DELIVERED
    assert pathway.current.cycles_given == 0


def test_another_products_dose_cannot_be_administered(
    pluvicto: TherapyProduct, lutathera: TherapyProduct
) -> None:
    pathway = _delivered(pluvicto)
    with pytest.raises(PathwayError, match="is Lutathera, but this patient is treated with Pluvicto"):
        pathway.record(event(Move.ADMINISTER, FIRST_DOSE_AT, dose=dose_for(lutathera, FIRST_DOSE_AT)))


def test_an_administration_needs_its_dose(pluvicto: TherapyProduct) -> None:
    pathway = _delivered(pluvicto)
    with pytest.raises(PathwayError, match="administer needs the dose given"):
        pathway.record(event(Move.ADMINISTER, FIRST_DOSE_AT))


def test_a_dose_in_tolerance_is_administered_and_counted(pluvicto: TherapyProduct) -> None:
    pathway = _delivered(pluvicto)
    pathway.record(event(Move.ADMINISTER, FIRST_DOSE_AT, dose=dose_for(pluvicto, FIRST_DOSE_AT)))
    assert pathway.stage is Stage.ADMINISTERED
    assert pathway.current.cycles_given == 1
    assert pathway.current.last_administered_at == FIRST_DOSE_AT


@pytest.mark.parametrize("after", [timedelta(weeks=3), timedelta(weeks=4, days=6), timedelta(weeks=8)])
def test_cycle_2_planned_outside_the_interval_window_is_refused(
    pluvicto: TherapyProduct, after: timedelta
) -> None:
    pathway = give_cycle(approved(pluvicto), FIRST_DOSE_AT)
    with pytest.raises(PathwayError, match=r"cycle 2 planned at .* outside the Pluvicto window"):
        pathway.record(event(Move.PLAN_CYCLE, FIRST_DOSE_AT + 2 * DAY, planned_at=FIRST_DOSE_AT + after))
    assert pathway.stage is Stage.FOLLOW_UP


@pytest.mark.parametrize("after", [timedelta(weeks=5), timedelta(weeks=6), timedelta(weeks=7)])
def test_cycle_2_inside_the_interval_window_is_accepted(pluvicto: TherapyProduct, after: timedelta) -> None:
    pathway = give_cycle(approved(pluvicto), FIRST_DOSE_AT)
    give_cycle(pathway, FIRST_DOSE_AT + after)
    assert pathway.current.cycles_given == 2


def test_cycle_2_administered_outside_the_window_is_refused(pluvicto: TherapyProduct) -> None:
    pathway = give_cycle(approved(pluvicto), FIRST_DOSE_AT)
    second = FIRST_DOSE_AT + pluvicto.schedule.interval
    order_cycle(pathway, second)
    deliver_cycle(pathway, second + 2 * pluvicto.schedule.interval_tolerance)
    late = second + 2 * pluvicto.schedule.interval_tolerance  # 8 weeks after cycle 1
    with pytest.raises(PathwayError, match=r"cycle 2 administered at .* outside the Pluvicto window"):
        pathway.record(event(Move.ADMINISTER, late, dose=dose_for(pluvicto, late)))


def test_a_reduced_dose_is_ordered_under_a_condition_of_the_label(
    pluvicto: TherapyProduct,
) -> None:
    pathway = give_cycle(approved(pluvicto), FIRST_DOSE_AT)
    order_cycle(pathway, FIRST_DOSE_AT + 6 * 7 * DAY, reduction="renal toxicity")
    assert pathway.stage is Stage.CONFIRMED
    assert pathway.current.reductions == 1


def test_a_reduced_dose_for_a_reason_the_label_does_not_give_is_refused(
    pluvicto: TherapyProduct,
) -> None:
    pathway = give_cycle(approved(pluvicto), FIRST_DOSE_AT)
    second = FIRST_DOSE_AT + pluvicto.schedule.interval
    pathway.record(event(Move.PLAN_CYCLE, second - 15 * DAY, planned_at=second))
    with pytest.raises(PathwayError, match="'fatigue' is not a reason the Pluvicto label allows"):
        pathway.record(event(Move.ORDER, second - 14 * DAY, order_id="o-2", reduction="fatigue"))
    assert pathway.current.reductions == 0


def test_pluvicto_never_returns_to_the_full_dose_after_a_reduction(
    pluvicto: TherapyProduct,
) -> None:
    pathway = give_cycle(approved(pluvicto), FIRST_DOSE_AT)
    second, third = cycle_times(pluvicto, 3)[1:]
    give_cycle(pathway, second, reduction="grade 3 or higher myelosuppression")
    pathway.record(event(Move.PLAN_CYCLE, third - 15 * DAY, planned_at=third))
    with pytest.raises(PathwayError, match="keeps the reduced dose"):
        pathway.record(event(Move.ORDER, third - 14 * DAY, order_id="order-3"))


def test_after_one_reduction_later_pluvicto_cycles_continue_at_the_reduced_dose(
    pluvicto: TherapyProduct,
) -> None:
    pathway = give_cycle(approved(pluvicto), FIRST_DOSE_AT)
    second, third = cycle_times(pluvicto, 3)[1:]
    give_cycle(pathway, second, reduction="renal toxicity")
    give_cycle(pathway, third, reduction="renal toxicity")
    assert pathway.current.cycles_given == 3
    assert pathway.current.reductions == 1


def test_re_ordering_a_cancelled_reduced_dose_is_not_a_second_reduction(
    pluvicto: TherapyProduct,
) -> None:
    pathway = give_cycle(approved(pluvicto), FIRST_DOSE_AT)
    second = FIRST_DOSE_AT + pluvicto.schedule.interval
    order_cycle(pathway, second, reduction="renal toxicity")
    pathway.record(event(Move.CANCEL_ORDER, second - 12 * DAY))
    pathway.record(event(Move.ORDER, second - 11 * DAY, order_id="order-2b", reduction="renal toxicity"))
    assert pathway.stage is Stage.ORDERED
    assert pathway.current.reductions == 1


def test_a_dose_is_reduced_at_most_as_often_as_the_label_allows(
    pluvicto: TherapyProduct,
) -> None:
    assert pluvicto.reduction is not None
    # A label that allows one reduction but lets later doses go back to full.
    once_then_full = dataclasses.replace(
        pluvicto, reduction=dataclasses.replace(pluvicto.reduction, may_return_to_full=True)
    )
    first, second, third = cycle_times(once_then_full, 3)
    pathway = give_cycle(approved(once_then_full), first, reduction="renal toxicity")
    give_cycle(pathway, second)  # back to full
    pathway.record(event(Move.PLAN_CYCLE, third - 15 * DAY, planned_at=third))
    with pytest.raises(PathwayError, match="already reduced 1 time"):
        pathway.record(event(Move.ORDER, third - 14 * DAY, order_id="order-3", reduction="renal toxicity"))
    assert pathway.current.reductions == 1


def test_lutathera_refuses_any_reduced_dose(lutathera: TherapyProduct) -> None:
    pathway = approved(lutathera)
    pathway.record(event(Move.PLAN_CYCLE, FIRST_DOSE_AT - 15 * DAY, planned_at=FIRST_DOSE_AT))
    with pytest.raises(PathwayError, match="the Lutathera label has no reduced dose"):
        pathway.record(
            event(Move.ORDER, FIRST_DOSE_AT - 14 * DAY, order_id="o-1", reduction="renal toxicity")
        )
    assert pathway.stage is Stage.CYCLE_PLANNED


def test_completion_only_after_all_cycles(pluvicto: TherapyProduct) -> None:
    pathway = give_cycle(approved(pluvicto), FIRST_DOSE_AT)
    with pytest.raises(PathwayError, match="1 of 6 cycles given; plan the next cycle"):
        pathway.record(event(Move.COMPLETE, FIRST_DOSE_AT + 2 * DAY))
    assert pathway.stage is Stage.FOLLOW_UP


def test_events_out_of_time_order_are_refused(pluvicto: TherapyProduct) -> None:
    pathway = approved(pluvicto)
    with pytest.raises(PathwayError, match=r"is before the last event recorded, at .*give the time it"):
        pathway.record(event(Move.PLAN_CYCLE, APPROVED_AT - HOUR, planned_at=FIRST_DOSE_AT))
    assert pathway.current.last_event_at == APPROVED_AT


def test_pluvicto_runs_six_cycles_to_completion(pluvicto: TherapyProduct) -> None:
    pathway = approved(pluvicto)
    times = cycle_times(pluvicto, 6)
    for given_at in times:
        give_cycle(pathway, given_at)
    assert pathway.current.cycles_given == 6
    assert pathway.current.last_administered_at == times[-1]
    with pytest.raises(PathwayError, match="all 6 cycles of Pluvicto are given"):
        pathway.record(event(Move.PLAN_CYCLE, times[-1] + 2 * DAY, planned_at=times[-1] + 42 * DAY))
    pathway.record(event(Move.COMPLETE, times[-1] + 3 * DAY))
    assert pathway.stage is Stage.COMPLETED
    assert pathway.allowed_moves() == ()
    assert PatientPathway.from_events("patient-1", pluvicto, pathway.events).state == pathway.state


def test_a_completed_pathway_allows_no_further_move(pluvicto: TherapyProduct) -> None:
    pathway = approved(pluvicto)
    pathway.record(event(Move.DISCONTINUE, APPROVED_AT + DAY, discontinuation=DiscontinuationReason.DEATH))
    with pytest.raises(PathwayError, match="allowed: none \\(the pathway has ended\\)"):
        pathway.record(event(Move.PLAN_CYCLE, APPROVED_AT + 2 * DAY, planned_at=FIRST_DOSE_AT))


def test_a_missed_dose_is_planned_again_as_the_same_cycle(pluvicto: TherapyProduct) -> None:
    pathway = give_cycle(approved(pluvicto), FIRST_DOSE_AT)
    second = FIRST_DOSE_AT + pluvicto.schedule.interval
    order_cycle(pathway, second)
    deliver_cycle(pathway, second)
    pathway.record(event(Move.MISS, second))
    assert pathway.current.cycle == 2
    third_try = second + 5 * DAY
    pathway.record(event(Move.PLAN_CYCLE, second + DAY, planned_at=third_try))
    assert pathway.current.cycle == 2
    assert pathway.current.cycles_given == 1


def test_a_failed_qc_batch_is_re_ordered_for_the_same_cycle(pluvicto: TherapyProduct) -> None:
    pathway = order_cycle(approved(pluvicto), FIRST_DOSE_AT)
    pathway.record(event(Move.START_PRODUCTION, FIRST_DOSE_AT - 2 * DAY))
    pathway.record(event(Move.FAIL_QC, FIRST_DOSE_AT - 36 * HOUR))
    pathway.record(event(Move.ORDER, FIRST_DOSE_AT - 35 * HOUR, order_id="order-1b"))
    assert pathway.stage is Stage.ORDERED
    assert pathway.current.cycle == 1
    assert pathway.current.order_id == "order-1b"


def test_a_cancelled_order_returns_to_the_planned_cycle(pluvicto: TherapyProduct) -> None:
    pathway = order_cycle(approved(pluvicto), FIRST_DOSE_AT)
    pathway.record(event(Move.CANCEL_ORDER, FIRST_DOSE_AT - 12 * DAY))
    assert pathway.stage is Stage.CYCLE_PLANNED
    assert pathway.current.order_id is None


@pytest.mark.parametrize(
    ("move", "needs"),
    [
        (Move.PLAN_CYCLE, "plan_cycle needs planned_at"),
        (Move.DISCONTINUE, "discontinue needs a reason: toxicity, progression, death"),
    ],
)
def test_a_move_without_its_data_is_refused(pluvicto: TherapyProduct, move: Move, needs: str) -> None:
    pathway = approved(pluvicto)
    with pytest.raises(PathwayError, match=needs):
        pathway.record(event(move, APPROVED_AT + DAY))
    assert pathway.stage is Stage.MDT_APPROVED


def test_an_order_needs_its_reference(pluvicto: TherapyProduct) -> None:
    pathway = approved(pluvicto)
    pathway.record(event(Move.PLAN_CYCLE, APPROVED_AT + DAY, planned_at=FIRST_DOSE_AT))
    with pytest.raises(PathwayError, match="order needs order_id"):
        pathway.record(event(Move.ORDER, APPROVED_AT + DAY))


def test_a_discontinuation_records_its_reason(pluvicto: TherapyProduct) -> None:
    pathway = give_cycle(approved(pluvicto), FIRST_DOSE_AT)
    pathway.record(
        event(
            Move.DISCONTINUE,
            FIRST_DOSE_AT + 10 * DAY,
            discontinuation=DiscontinuationReason.TOXICITY,
        )
    )
    assert pathway.stage is Stage.DISCONTINUED
    assert pathway.current.discontinuation is DiscontinuationReason.TOXICITY


# Corrections: a wrong entry set right or voided by an entry of its own; the state is rebuilt.


def shipped(product: TherapyProduct) -> PatientPathway:
    pathway = order_cycle(approved(product), FIRST_DOSE_AT)
    pathway.record(event(Move.START_PRODUCTION, FIRST_DOSE_AT - 2 * DAY))
    pathway.record(event(Move.RELEASE, FIRST_DOSE_AT - 36 * HOUR))
    pathway.record(event(Move.SHIP, FIRST_DOSE_AT - DAY, shipping=ShippingRecord("Movianto", "MV-1")))
    return pathway


def test_a_voided_entry_stays_but_the_state_is_rebuilt_without_it(pluvicto: TherapyProduct) -> None:
    pathway = shipped(pluvicto)
    ship_seq = len(pathway.events)
    state = pathway.record(
        event(Move.VOID, FIRST_DOSE_AT - 20 * HOUR, corrects=ship_seq, reason="not shipped")
    )
    assert state.stage is Stage.RELEASED
    assert pathway.events[ship_seq - 1].move is Move.SHIP  # the original stays
    record = pathway.dose_records()[pathway.current.order_id or ""]
    assert record.shipped_at is None and record.shipping is None
    again = pathway.record(event(Move.SHIP, FIRST_DOSE_AT - 19 * HOUR, shipping=ShippingRecord("DHL", "D-2")))
    assert again.stage is Stage.SHIPPED
    rebuilt = PatientPathway.from_events("patient-1", pluvicto, pathway.events)
    assert rebuilt.current == pathway.current
    assert rebuilt.dose_records() == pathway.dose_records()


def test_a_corrected_time_and_facts_replace_the_entrys_in_the_rebuilt_state(pluvicto: TherapyProduct) -> None:
    pathway = shipped(pluvicto)
    ship_seq = len(pathway.events)
    right_at = FIRST_DOSE_AT - DAY - 30 * timedelta(minutes=1)
    pathway.record(
        event(
            Move.CORRECT,
            FIRST_DOSE_AT - 20 * HOUR,
            corrects=ship_seq,
            corrected_at=right_at,
            shipping=ShippingRecord("Movianto", "MV-2"),
            reason="tracking mistyped",
        )
    )
    record = pathway.dose_records()[pathway.current.order_id or ""]
    assert record.shipped_at == right_at and record.shipping == ShippingRecord("Movianto", "MV-2")
    assert pathway.stage is Stage.SHIPPED


def test_a_correction_that_breaks_the_pathway_is_refused_and_changes_nothing(
    pluvicto: TherapyProduct,
) -> None:
    pathway = shipped(pluvicto)
    release_seq = len(pathway.events) - 1
    before, events = pathway.current, list(pathway.events)
    with pytest.raises(PathwayError, match="as corrected does not hold: cannot 'ship' at stage"):
        pathway.record(event(Move.VOID, FIRST_DOSE_AT - 20 * HOUR, corrects=release_seq, reason="x"))
    assert pathway.current is before and pathway.events == events


def test_a_corrected_time_out_of_order_is_refused(pluvicto: TherapyProduct) -> None:
    pathway = shipped(pluvicto)
    with pytest.raises(PathwayError, match="before the last event recorded"):
        pathway.record(
            event(
                Move.CORRECT,
                FIRST_DOSE_AT - 20 * HOUR,
                corrects=len(pathway.events),
                corrected_at=FIRST_DOSE_AT - 3 * DAY,
                reason="x",
            )
        )


def test_a_corrected_time_in_the_future_is_refused(pluvicto: TherapyProduct) -> None:
    pathway = shipped(pluvicto)
    now = FIRST_DOSE_AT - 20 * HOUR
    with pytest.raises(EventTimeRefused, match=r"the corrected time at .* is in the future"):
        pathway.record(
            event(Move.CORRECT, now, corrects=len(pathway.events), corrected_at=now + HOUR, reason="x"),
            now,
        )


@pytest.mark.parametrize(("seq", "why"), [(1, "discontinue the pathway"), (6, "cancel the order")])
def test_the_referral_and_the_order_are_not_corrected(pluvicto: TherapyProduct, seq: int, why: str) -> None:
    pathway = shipped(pluvicto)
    assert pathway.events[5].move is Move.ORDER
    with pytest.raises(PathwayError, match=why):
        pathway.record(event(Move.VOID, FIRST_DOSE_AT - 20 * HOUR, corrects=seq, reason="x"))


def test_a_correction_names_an_entry_that_can_be_corrected(pluvicto: TherapyProduct) -> None:
    pathway = shipped(pluvicto)
    ship_seq = len(pathway.events)
    pathway.record(event(Move.VOID, FIRST_DOSE_AT - 20 * HOUR, corrects=ship_seq, reason="x"))
    for target in (ship_seq, ship_seq + 1, 99):  # voided already, a correction, unknown
        with pytest.raises(PathwayError, match="not an entry that can be corrected"):
            pathway.record(event(Move.VOID, FIRST_DOSE_AT - 20 * HOUR, corrects=target, reason="x"))
