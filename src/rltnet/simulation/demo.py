"""The demo: a network's patients over a few weeks, from referral to infusion.

Referrals arrive at the network's incidence; patients pass eligibility PET and
the MDT through the pathway state machine; their doses are ordered and placed
by the earliest-deadline-first rule; then the plan is carried out day by day:
production, QC, shipping (late by the lane's reliability), infusion. Patients
already on treatment at the start (a warm start at steady state) supply the
later cycles. Every figure of patient flow below that is not from a label is a
stated assumption of the demo, listed in `ASSUMPTIONS` and in the report.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from rltnet.domain import decay
from rltnet.domain.dose import DiscardReason, Dose, DoseFate, WasteSummary
from rltnet.domain.network import Network, TreatmentCentre
from rltnet.domain.orders import DoseOrder, first_cycle_window, later_cycle_window
from rltnet.domain.pathway import DiscontinuationReason, Move, PathwayEvent, PatientPathway, Stage
from rltnet.domain.products import Catalogue, TherapyProduct
from rltnet.domain.units import after
from rltnet.planning.greedy import EarliestDeadlineFirst
from rltnet.planning.plan import Placement, Plan
from rltnet.planning.problem import HANDOVER, PlanningProblem

# Patient-flow assumptions of the demo (not label figures).
IMAGING_WAIT = timedelta(days=7)  # prioritised; NHS nuclear medicine averaged 25 days in 2024
IMAGING_POSITIVE = 0.85
IMAGING_INCONCLUSIVE = 0.03
MDT_APPROVES = 0.90
CONFIRMATION_HOURS = (1.0, 30.0)  # manufacturer's confirmation delay, uniform
QC_FAILURE = 0.01
NO_SHOW = 0.01
LATE_HOURS = (2.0, 30.0)  # how late a late shipment is, uniform
DISCHARGE_AFTER = timedelta(hours=4)

ASSUMPTIONS = (
    f"eligibility PET no sooner than {IMAGING_WAIT.days} days after referral, at the treating "
    "centre's first free scanner slot (the NHS average wait for nuclear-medicine tests was 25 "
    "days in June 2024: a prioritised pathway is assumed)",
    f"imaging positive {IMAGING_POSITIVE:.0%}, inconclusive {IMAGING_INCONCLUSIVE:.0%}; the MDT "
    f"approves {MDT_APPROVES:.0%} of positive patients at its next weekly meeting",
    f"the manufacturer confirms an order {CONFIRMATION_HOURS[0]:.0f}-{CONFIRMATION_HOURS[1]:.0f} h "
    "after it is placed (target: 24 h)",
    f"{QC_FAILURE:.0%} of doses fail QC; {NO_SHOW:.0%} of patients miss their appointment; a late "
    f"shipment (1 - lane reliability) arrives {LATE_HOURS[0]:.0f}-{LATE_HOURS[1]:.0f} h late",
    "patients already on treatment at the start are at steady state: later cycles fall due "
    "uniformly over the weeks shown",
    "referred patients go to the nearest centre giving their therapy",
)


@dataclass(frozen=True)
class DemoSettings:
    weeks: int = 4
    seed: int = 1
    start_date: date = date(2027, 1, 4)


@dataclass
class Patient:
    pathway: PatientPathway
    centre: TreatmentCentre
    home: str
    approved_at: datetime | None = None


@dataclass
class DemoResult:
    """Everything the demo did, for the summary and the report."""

    network: Network
    settings: DemoSettings
    start_at: datetime
    end_at: datetime
    patients: list[Patient]
    plan: Plan
    fates: list[DoseFate]
    administered: list[tuple[Placement, Dose, datetime]]
    late_confirmations: int
    referrals: int
    counts: Counter[str] = field(default_factory=Counter)

    def stages(self) -> Counter[Stage]:
        return Counter(p.pathway.stage for p in self.patients)

    def waste(self) -> WasteSummary:
        return WasteSummary.of(self.fates)

    def chair_occupancy(self) -> dict[str, list[float]]:
        """Per centre, per demo day: booked chair time over open chair time (0 when closed)."""
        days = [self.start_at.date() + timedelta(days=k) for k in range(self.settings.weeks * 7)]
        booked: defaultdict[tuple[str, date], float] = defaultdict(float)
        for placement in self.plan.placements:
            centre = self.network.centre(placement.order.centre_id)
            day = centre.calendar.local_date(placement.appointment_at)
            span = placement.appointment_end_at - placement.appointment_at
            booked[(centre.centre_id, day)] += span.total_seconds()
        occupancy: dict[str, list[float]] = {}
        for centre in self.network.centres.values():
            row = []
            for day in days:
                hours = centre.opening(day)
                open_s = (hours[1] - hours[0]).total_seconds() * centre.chairs if hours else 0.0
                row.append(booked[(centre.centre_id, day)] / open_s if open_s else 0.0)
            occupancy[centre.centre_id] = row
        return occupancy


class _Demo:
    def __init__(self, network: Network, catalogue: Catalogue, settings: DemoSettings) -> None:
        self.network = network
        self.catalogue = catalogue
        self.settings = settings
        self.rng = np.random.default_rng(settings.seed)
        self.start_at = datetime.combine(settings.start_date, time(0), tzinfo=UTC)
        self.end_at = self.start_at + timedelta(weeks=settings.weeks)
        self.patients: list[Patient] = []
        self.orders: dict[str, tuple[Patient, DoseOrder]] = {}
        self.pet_slots: Counter[tuple[str, date]] = Counter()
        self.counts: Counter[str] = Counter()
        population = np.array([a.population for a in network.demand_areas], dtype=float)
        self.home_weights = population / population.sum()

    # -- patients ---------------------------------------------------------------------------

    def _products(self) -> Iterator[tuple[TherapyProduct, float]]:
        for product_id, yearly in sorted(self.network.yearly_patients().items()):
            yield self.catalogue.therapy(product_id), yearly

    def _home_and_centre(self, product: TherapyProduct) -> tuple[str, TreatmentCentre] | None:
        """Where a new patient lives (by population) and the nearest centre giving the product."""
        areas = self.network.demand_areas
        area = areas[int(self.rng.choice(len(areas), p=self.home_weights))]
        centres = self.network.centres_offering(product.product_id)
        if not centres:
            return None
        return area.name, min(centres, key=lambda c: area.location.distance_km(c.location))

    def _new_patient(self, product: TherapyProduct, referred_at: datetime) -> Patient | None:
        placed = self._home_and_centre(product)
        if placed is None:
            return None
        home, centre = placed
        patient_id = f"P{len(self.patients) + 1:05d}"
        pathway = PatientPathway.refer(patient_id, product, referred_at, "oncologist", "referred for RLT")
        patient = Patient(pathway, centre, home)
        self.patients.append(patient)
        return patient

    def refer_new_patients(self) -> int:
        """Referrals over the demo weeks at the network's incidence; they go through imaging
        and MDT up to the end, and approved ones get a cycle-1 order."""
        referrals = 0
        for product, yearly in self._products():
            for day in range(self.settings.weeks * 7):
                for _ in range(int(self.rng.poisson(yearly / 365))):
                    referred_at = self.start_at + timedelta(days=day, hours=9)
                    patient = self._new_patient(product, referred_at)
                    if patient is not None:
                        referrals += 1
                        self._assess(patient)
        return referrals

    def _assess(self, patient: Patient) -> None:
        pathway, centre = patient.pathway, patient.centre
        product = pathway.product
        referred_at = pathway.events[0].at
        self._record(patient, Move.REQUEST_IMAGING, referred_at + timedelta(hours=1), "coordinator")
        imaged_at = self._pet_slot(centre, product, referred_at + IMAGING_WAIT)
        if imaged_at is None or imaged_at > self.end_at:
            return
        roll = self.rng.random()
        if roll < IMAGING_INCONCLUSIVE:
            self._record(patient, Move.RECORD_INCONCLUSIVE, imaged_at, "nuclear medicine")
            return
        positive = roll < IMAGING_INCONCLUSIVE + IMAGING_POSITIVE
        move = Move.RECORD_POSITIVE if positive else Move.RECORD_NEGATIVE
        self._record(patient, move, imaged_at, "nuclear medicine")
        mdt_at = _next_weekday(imaged_at + timedelta(days=1), centre.mdt_weekday, time(13), centre)
        if mdt_at > self.end_at:
            return
        if not positive:
            self._record(patient, Move.DECLINE, mdt_at, "MDT", "eligibility imaging negative")
            return
        if self.rng.random() >= MDT_APPROVES:
            self._record(patient, Move.DEFER, mdt_at, "MDT", "awaiting blood tests")
            return
        self._record(patient, Move.APPROVE, mdt_at, "MDT", "eligible on imaging")
        patient.approved_at = mdt_at
        earliest, latest = first_cycle_window(product, mdt_at)
        self._plan_order(patient, 1, earliest, latest, earliest, mdt_at)

    def _pet_slot(
        self, centre: TreatmentCentre, product: TherapyProduct, not_before: datetime
    ) -> datetime | None:
        """The first day from `not_before` with a free slot on a scanner with a matching tracer."""
        scanners = [
            s for s in centre.pet_scanners if set(s.tracers) & set(product.eligibility.imaging_agents)
        ]
        if not scanners and product.eligibility.imaging_agents:
            return None
        capacity = sum(s.slots_per_day for s in scanners) or 10**6
        day = centre.calendar.local_date(not_before)
        for _ in range(120):
            if centre.is_open(day) and self.pet_slots[(centre.centre_id, day)] < capacity:
                self.pet_slots[(centre.centre_id, day)] += 1
                return centre.calendar.at(day, time(10))
            day += timedelta(days=1)
        return None

    def warm_start(self) -> None:
        """Patients on treatment at the start: their past cycles, and a later cycle due soon."""
        for product, yearly in self._products():
            later_cycles = product.schedule.cycles - 1
            if later_cycles < 1:
                continue
            expected = yearly / 52 * later_cycles * self.settings.weeks
            for _ in range(int(self.rng.poisson(expected))):
                due_at = self.start_at + timedelta(days=float(self.rng.uniform(0, 7 * self.settings.weeks)))
                given = int(self.rng.integers(1, later_cycles + 1))
                self._patient_on_treatment(product, given, due_at)

    def _patient_on_treatment(self, product: TherapyProduct, given: int, due_at: datetime) -> None:
        interval = product.schedule.interval
        first_at = due_at - interval * given
        patient = self._new_patient(product, first_at - timedelta(days=35))
        if patient is None:
            return
        self._record(patient, Move.REQUEST_IMAGING, first_at - timedelta(days=34), "coordinator")
        self._record(patient, Move.RECORD_POSITIVE, first_at - timedelta(days=27), "nuclear medicine")
        self._record(patient, Move.APPROVE, first_at - timedelta(days=22), "MDT", "eligible on imaging")
        for cycle in range(given):
            self._past_cycle(patient, first_at + interval * cycle, cycle + 1)
        previous = patient.pathway.current.last_administered_at
        assert previous is not None
        earliest, latest = later_cycle_window(product, previous)
        placed_at = min(self.start_at, earliest - (product.ordering.lead_time or timedelta(0)))
        placed_at = max(placed_at, patient.pathway.current.last_event_at)
        self._plan_order(patient, given + 1, earliest, latest, previous + interval, placed_at)

    def _past_cycle(self, patient: Patient, given_at: datetime, cycle: int) -> None:
        product = patient.pathway.product
        prescribed = product.prescribe(weight_kg=80, platelets_per_mm3=200_000)
        calibrated_at = given_at - timedelta(hours=30)
        dose = Dose(
            dose_id=f"{patient.pathway.patient_id}-c{cycle}",
            product=product,
            batch_id="before-demo",
            calibration_at=calibrated_at,
            calibration_activity=decay.calibration_activity_for(
                product.nuclide, prescribed, given_at, calibrated_at
            ),
            expiry_at=after(calibrated_at, product.shelf_life),
            prescribed=prescribed,
        )
        steps = [
            (Move.PLAN_CYCLE, -20, "coordinator"),
            (Move.ORDER, -15, "coordinator"),
            (Move.CONFIRM, -14, "manufacturer"),
            (Move.START_PRODUCTION, -2, "manufacturer"),
            (Move.RELEASE, -1.5, "manufacturer"),
            (Move.SHIP, -1.2, "courier"),
            (Move.DELIVER, -0.2, "courier"),
        ]
        for move, days, actor in steps:
            self._record(
                patient,
                move,
                given_at + timedelta(days=days),
                actor,
                planned_at=given_at if move is Move.PLAN_CYCLE else None,
                order_id=f"{patient.pathway.patient_id}-c{cycle}" if move is Move.ORDER else None,
            )
        self._record(patient, Move.ADMINISTER, given_at, "nuclear medicine", dose=dose)
        self._record(patient, Move.START_FOLLOW_UP, given_at + DISCHARGE_AFTER, "nurse")

    # -- orders and their execution ---------------------------------------------------------------

    def _plan_order(
        self,
        patient: Patient,
        cycle: int,
        earliest: datetime,
        latest: datetime,
        preferred: datetime,
        placed_at: datetime,
    ) -> None:
        product = patient.pathway.product
        order_id = f"{patient.pathway.patient_id}-c{cycle}"
        order = DoseOrder(
            order_id=order_id,
            patient_id=patient.pathway.patient_id,
            product_id=product.product_id,
            cycle=cycle,
            centre_id=patient.centre.centre_id,
            earliest_at=earliest,
            latest_at=latest,
            preferred_at=min(max(preferred, earliest), latest),
            prescribed=product.prescribe(weight_kg=80, platelets_per_mm3=200_000),
            placed_at=placed_at,
            weight_kg=80,
        )
        self._record(patient, Move.PLAN_CYCLE, placed_at, "coordinator", planned_at=order.preferred_at)
        self._record(patient, Move.ORDER, placed_at, "coordinator", order_id=order_id)
        self.orders[order_id] = (patient, order)

    def carry_out(self, plan: Plan) -> tuple[list[DoseFate], list[tuple[Placement, Dose, datetime]], int]:
        fates: list[DoseFate] = []
        given: list[tuple[Placement, Dose, datetime]] = []
        late = 0
        for placement in sorted(plan.placements, key=lambda p: (p.batch_start_at, p.order.order_id)):
            patient, order = self.orders[placement.order.order_id]
            product = patient.pathway.product
            confirmed_at = order.placed_at + timedelta(hours=float(self.rng.uniform(*CONFIRMATION_HOURS)))
            late += confirmed_at - order.placed_at > timedelta(hours=24)
            if confirmed_at > self.end_at or placement.batch_start_at < confirmed_at:
                continue
            self._record(patient, Move.CONFIRM, confirmed_at, "manufacturer")
            if placement.batch_start_at > self.end_at:
                continue
            fate = self._make_and_give(patient, placement, product)
            if fate is not None:
                fates.append(fate)
                if fate.given_at is not None:
                    given.append((placement, fate.dose, fate.given_at))
        return fates, given, late

    def _make_and_give(
        self, patient: Patient, placement: Placement, product: TherapyProduct
    ) -> DoseFate | None:
        dose = placement.dose(product)
        made_at = placement.batch_start_at

        def discard(at: datetime, reason: DiscardReason) -> DoseFate:
            self.counts[f"discarded: {reason.value}"] += 1
            return DoseFate(dose, made_at, discarded_at=at, reason=reason)

        self._record(patient, Move.START_PRODUCTION, made_at, "manufacturer")
        if placement.released_at > self.end_at:
            return None
        if self.rng.random() < QC_FAILURE:
            self._record(patient, Move.FAIL_QC, placement.released_at, "manufacturer", "QC failure")
            return discard(placement.released_at, DiscardReason.QC_FAILED)
        self._record(patient, Move.RELEASE, placement.released_at, "manufacturer")
        if placement.departs_at > self.end_at:
            return None
        self._record(patient, Move.SHIP, placement.departs_at, "courier")
        lane = self.network.lanes[placement.lane_id]
        arrives_at = placement.arrives_at
        if self.rng.random() > lane.reliability:
            arrives_at += timedelta(hours=float(self.rng.uniform(*LATE_HOURS)))
        if arrives_at > self.end_at:
            return None
        if arrives_at + HANDOVER > placement.administration_at:
            self._record(patient, Move.MISS, arrives_at, "courier", "shipment arrived too late")
            return discard(arrives_at, DiscardReason.TRANSPORT_DELAY)
        self._record(patient, Move.DELIVER, arrives_at, "courier")
        if placement.administration_at > self.end_at:
            return None
        if self.rng.random() < NO_SHOW:
            self._record(patient, Move.MISS, placement.administration_at, "coordinator", "no-show")
            return discard(placement.administration_at, DiscardReason.NO_SHOW)
        self._record(patient, Move.ADMINISTER, placement.administration_at, "nuclear medicine", dose=dose)
        follow_up_at = placement.administration_at + DISCHARGE_AFTER
        self._record(patient, Move.START_FOLLOW_UP, follow_up_at, "nurse")
        state = patient.pathway.current
        if state.cycles_given == product.schedule.cycles:
            self._record(patient, Move.COMPLETE, follow_up_at, "nuclear medicine", "all cycles given")
        return DoseFate(dose, made_at, given_at=placement.administration_at)

    def _record(
        self,
        patient: Patient,
        move: Move,
        at: datetime,
        actor: str,
        reason: str = "",
        *,
        planned_at: datetime | None = None,
        order_id: str | None = None,
        dose: Dose | None = None,
        discontinuation: DiscontinuationReason | None = None,
    ) -> None:
        patient.pathway.record(
            PathwayEvent(
                move,
                at,
                actor,
                reason,
                planned_at=planned_at,
                order_id=order_id,
                dose=dose,
                discontinuation=discontinuation,
            )
        )
        if at >= self.start_at:  # the history of patients on treatment is not counted
            self.counts[move.value] += 1


def run_demo(network: Network, catalogue: Catalogue, settings: DemoSettings = DemoSettings()) -> DemoResult:
    """Run the demo over `settings.weeks` from `settings.start_date`; deterministic for a seed."""
    demo = _Demo(network, catalogue, settings)
    demo.warm_start()
    referrals = demo.refer_new_patients()
    orders = tuple(order for _, order in demo.orders.values())
    plan = EarliestDeadlineFirst().plan(PlanningProblem(network, catalogue, orders))
    fates, given, late = demo.carry_out(plan)
    return DemoResult(
        network=network,
        settings=settings,
        start_at=demo.start_at,
        end_at=demo.end_at,
        patients=demo.patients,
        plan=plan,
        fates=fates,
        administered=given,
        late_confirmations=late,
        referrals=referrals,
        counts=demo.counts,
    )


def _next_weekday(after: datetime, weekday: int, clock: time, centre: TreatmentCentre) -> datetime:
    """The first `weekday` at `clock` (centre time) from `after`'s date on, skipping holidays."""
    day = centre.calendar.local_date(after)
    while day.weekday() != weekday or centre.calendar.is_holiday(day):
        day += timedelta(days=1)
    return centre.calendar.at(day, clock)
