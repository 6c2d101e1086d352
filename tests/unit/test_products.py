"""The product catalogue: label rules, their sources, and look-ups by id or brand."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest
import radioactivedecay as rd

from rltnet.domain.errors import InvalidInput, UnknownName
from rltnet.domain.products import (
    Catalogue,
    CycleSchedule,
    DoseNotAllowed,
    FixedActivity,
    ImagingAgent,
    PerKgActivity,
    Source,
    TherapyProduct,
    Weekday,
)
from rltnet.domain.units import Activity

LU177_HALF_LIFE_S = float(rd.Nuclide("Lu-177").half_life("s"))
HOUR_S = 3600.0

THERAPY_FIGURES = {
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
}
IMAGING_FIGURES = {"activity", "uptake", "shelf_life"}


def test_the_catalogue_holds_four_therapies_and_five_imaging_agents(catalogue: Catalogue) -> None:
    assert sorted(p.brand for p in catalogue.therapies.values()) == [
        "Lutathera",
        "Pluvicto",
        "Xofigo",
        "Zevalin",
    ]
    assert sorted(catalogue.imaging_agents) == [
        "cu64-dotatate",
        "f18-flotufolastat",
        "f18-piflufolastat",
        "ga68-dotatate",
        "ga68-gozetotide",
    ]
    assert len(list(catalogue)) == 9


@pytest.mark.parametrize(
    "name", ["Pluvicto", "pluvicto", "PLUVICTO", "  Pluvicto ", "lu177-vipivotide-tetraxetan"]
)
def test_a_therapy_is_found_by_id_or_brand_in_any_case(catalogue: Catalogue, name: str) -> None:
    assert catalogue.therapy(name).product_id == "lu177-vipivotide-tetraxetan"


@pytest.mark.parametrize("name", ["NETSPOT", "netspot", "ga68-dotatate", "GA68-DOTATATE"])
def test_an_imaging_agent_is_found_by_id_or_brand_in_any_case(catalogue: Catalogue, name: str) -> None:
    assert catalogue.imaging_agent(name).product_id == "ga68-dotatate"


def test_an_unknown_therapy_is_refused_listing_the_choices(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownName) as refused:
        catalogue.therapy("Pluvikto")
    message = str(refused.value)
    assert "unknown therapy product 'Pluvikto'" in message
    for choice in ("Pluvicto", "Lutathera", "Xofigo", "Zevalin", "lu177-oxodotreotide"):
        assert choice in message


def test_an_imaging_agent_is_not_a_therapy(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownName, match="unknown therapy product 'Locametz'"):
        catalogue.therapy("Locametz")


def test_an_unknown_imaging_agent_is_refused_listing_the_choices(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownName, match="use one of: cu64-dotatate, f18-flotufolastat"):
        catalogue.imaging_agent("Illuccix-2")


def test_every_figure_of_every_therapy_has_a_source(catalogue: Catalogue) -> None:
    for therapy in catalogue.therapies.values():
        assert set(therapy.sources) == THERAPY_FIGURES, therapy.brand
        for figure, source in therapy.sources.items():
            _assert_is_cited(catalogue, source, f"{therapy.brand}.{figure}")


def test_every_figure_of_every_imaging_agent_has_a_source(catalogue: Catalogue) -> None:
    for agent in catalogue.imaging_agents.values():
        assert set(agent.sources) == IMAGING_FIGURES, agent.brand
        for figure, source in agent.sources.items():
            _assert_is_cited(catalogue, source, f"{agent.brand}.{figure}")


def _assert_is_cited(catalogue: Catalogue, source: Source, where: str) -> None:
    assert catalogue.sources[source.key] == source, where
    assert source.citation.strip(), where
    assert source.kind in {
        "label",
        "regulator",
        "regulation",
        "literature",
        "manufacturer",
        "derived",
        "assumption",
    }, where


@pytest.mark.parametrize(
    ("brand", "nuclide", "half_life"),
    [
        ("Pluvicto", "Lu-177", timedelta(days=6.647)),
        ("Lutathera", "Lu-177", timedelta(days=6.647)),
        ("Xofigo", "Ra-223", timedelta(days=11.43)),
        ("Zevalin", "Y-90", timedelta(hours=64.10)),
    ],
)
def test_each_therapy_carries_its_nuclide_with_the_icrp_half_life(
    catalogue: Catalogue, brand: str, nuclide: str, half_life: timedelta
) -> None:
    therapy = catalogue.therapy(brand)
    assert therapy.nuclide.symbol == nuclide
    assert therapy.nuclide.half_life == half_life


@pytest.mark.parametrize(
    ("agent", "nuclide"),
    [
        ("Locametz", "Ga-68"),
        ("Pylarify", "F-18"),
        ("Posluma", "F-18"),
        ("NETSPOT", "Ga-68"),
        ("Detectnet", "Cu-64"),
    ],
)
def test_each_imaging_agent_carries_its_pet_nuclide(catalogue: Catalogue, agent: str, nuclide: str) -> None:
    found: ImagingAgent = catalogue.imaging_agent(agent)
    assert found.nuclide.symbol == nuclide


def test_pluvicto_is_7_4_gbq_within_10_percent_for_every_patient(
    pluvicto: TherapyProduct,
) -> None:
    assert isinstance(pluvicto.activity, FixedActivity)
    assert pluvicto.prescribe() == Activity.from_gbq(7.4)
    assert pluvicto.prescribe(weight_kg=120) == Activity.from_gbq(7.4)
    assert pluvicto.tolerance == pytest.approx(0.10)
    low, high = pluvicto.tolerance_band(Activity.from_gbq(7.4))
    assert low.gbq == pytest.approx(6.66)
    assert high.gbq == pytest.approx(8.14)
    assert pluvicto.shelf_life == timedelta(hours=120)


def test_lutathera_uses_the_nrc_20_percent_bound_and_a_72_hour_shelf_life(
    lutathera: TherapyProduct,
) -> None:
    assert lutathera.tolerance == pytest.approx(0.20)
    assert lutathera.sources["tolerance_percent"].key == "nrc-35-63"
    assert lutathera.shelf_life == timedelta(hours=72)


def test_lutathera_gives_amino_acids_for_four_hours_from_30_minutes_before(
    lutathera: TherapyProduct,
) -> None:
    (amino_acids,) = lutathera.co_infusions
    assert "amino acids" in amino_acids.name
    assert amino_acids.starts_before_dose == timedelta(minutes=30)
    assert amino_acids.duration == timedelta(hours=4)


@pytest.mark.parametrize(
    ("brand", "appointment", "infusion"),
    [
        ("Pluvicto", timedelta(minutes=300), timedelta(minutes=10)),
        ("Lutathera", timedelta(minutes=300), timedelta(minutes=40)),
        ("Xofigo", timedelta(minutes=60), timedelta(minutes=1)),
        ("Zevalin", timedelta(minutes=300), timedelta(minutes=10)),
    ],
)
def test_each_therapy_books_a_chair_for_its_appointment_and_infuses_inside_it(
    catalogue: Catalogue, brand: str, appointment: timedelta, infusion: timedelta
) -> None:
    therapy = catalogue.therapy(brand)
    assert therapy.appointment == appointment
    assert therapy.infusion == infusion
    assert therapy.infusion <= therapy.appointment


def test_xofigo_is_55_kbq_per_kg(xofigo: TherapyProduct) -> None:
    assert isinstance(xofigo.activity, PerKgActivity)
    assert xofigo.prescribe(weight_kg=80) == Activity.from_kbq(55 * 80)
    assert xofigo.prescribe(weight_kg=62.5).mbq == pytest.approx(3.4375)


@pytest.mark.parametrize("weight_kg", [None, 0.0, -70.0, 600.0])
def test_a_per_kg_dose_needs_a_plausible_weight(xofigo: TherapyProduct, weight_kg: float | None) -> None:
    with pytest.raises(InvalidInput, match="give the patient's weight in kg"):
        xofigo.prescribe(weight_kg=weight_kg)


@pytest.mark.parametrize(
    ("weight_kg", "platelets", "expected_mbq"),
    [
        (70.0, 200_000, 14.8 * 70),  # 1036 MBq
        (70.0, 150_000, 14.8 * 70),  # the band's floor is inclusive
        (70.0, 149_999, 11.1 * 70),  # 777 MBq
        (70.0, 100_000, 11.1 * 70),
        (90.0, 200_000, 1184.0),  # 14.8 x 90 = 1332 MBq, capped
        (120.0, 120_000, 1184.0),  # 11.1 x 120 = 1332 MBq, capped
    ],
)
def test_zevalin_is_dosed_per_kg_by_platelet_band_up_to_1184_mbq(
    zevalin: TherapyProduct, weight_kg: float, platelets: int, expected_mbq: float
) -> None:
    prescribed = zevalin.prescribe(weight_kg=weight_kg, platelets_per_mm3=platelets)
    assert prescribed.mbq == pytest.approx(expected_mbq, rel=1e-12)


@pytest.mark.parametrize("platelets", [99_999, 50_000, 0])
def test_zevalin_is_not_allowed_below_100000_platelets(zevalin: TherapyProduct, platelets: int) -> None:
    with pytest.raises(DoseNotAllowed, match=r"below 100,000/mm³: the label forbids treatment"):
        zevalin.prescribe(weight_kg=70, platelets_per_mm3=platelets)


def test_zevalin_needs_the_platelet_count(zevalin: TherapyProduct) -> None:
    with pytest.raises(InvalidInput, match="dosed by platelet count"):
        zevalin.prescribe(weight_kg=70)


def test_a_pluvicto_vial_is_calibrated_3_1_to_120_6_hours_before_administration(
    pluvicto: TherapyProduct,
) -> None:
    assert pluvicto.vial is not None
    shortest, longest = pluvicto.vial.calibration_lead(pluvicto.nuclide, Activity.from_gbq(7.4))
    # 1000 MBq/mL x 7.5 mL = 7.5 GBq, x 12.5 mL = 12.5 GBq, decaying to 7.4 GBq.
    assert shortest.total_seconds() == pytest.approx(LU177_HALF_LIFE_S * math.log2(7.5 / 7.4), abs=1e-3)
    assert longest.total_seconds() == pytest.approx(LU177_HALF_LIFE_S * math.log2(12.5 / 7.4), abs=1e-3)
    assert shortest.total_seconds() / HOUR_S == pytest.approx(3.1, abs=0.1)
    assert longest.total_seconds() / HOUR_S == pytest.approx(120.6, abs=0.1)


def test_a_lutathera_vial_is_calibrated_5_7_to_51_4_hours_before_administration(
    lutathera: TherapyProduct,
) -> None:
    assert lutathera.vial is not None
    shortest, longest = lutathera.vial.calibration_lead(lutathera.nuclide, Activity.from_gbq(7.4))
    # 370 MBq/mL x 20.5 mL = 7.585 GBq, x 25 mL = 9.25 GBq, decaying to 7.4 GBq.
    assert shortest.total_seconds() == pytest.approx(LU177_HALF_LIFE_S * math.log2(7.585 / 7.4), abs=1e-3)
    assert longest.total_seconds() == pytest.approx(LU177_HALF_LIFE_S * math.log2(9.25 / 7.4), abs=1e-3)
    assert shortest.total_seconds() / HOUR_S == pytest.approx(5.7, abs=0.1)
    assert longest.total_seconds() / HOUR_S == pytest.approx(51.4, abs=0.1)


def test_a_vial_too_small_for_the_prescription_allows_no_lead(pluvicto: TherapyProduct) -> None:
    assert pluvicto.vial is not None
    shortest, longest = pluvicto.vial.calibration_lead(pluvicto.nuclide, Activity.from_gbq(20))
    assert shortest == longest == timedelta(0)


@pytest.mark.parametrize(
    ("calibration_date", "deadline"),
    [
        (date(2026, 3, 16), date(2026, 2, 24)),  # Mon: 14 d before is Mon 2 Mar -> Tue 24 Feb
        (date(2026, 3, 17), date(2026, 3, 3)),  # Tue: 14 d before is that Tuesday itself
        (date(2026, 3, 20), date(2026, 3, 3)),  # Fri: 14 d before is Fri 6 Mar -> Tue 3 Mar
    ],
)
def test_a_lutathera_order_is_due_the_tuesday_on_or_before_calibration_less_14_days(
    lutathera: TherapyProduct, calibration_date: date, deadline: date
) -> None:
    assert lutathera.ordering.order_by_weekday is Weekday.TUESDAY
    due = lutathera.ordering.order_deadline(calibration_date)
    assert due == deadline
    assert due.weekday() == Weekday.TUESDAY


def test_a_pluvicto_order_is_due_14_days_before_calibration(pluvicto: TherapyProduct) -> None:
    assert pluvicto.ordering.order_deadline(date(2026, 3, 20)) == date(2026, 3, 6)
    assert pluvicto.ordering.confirmation_target == timedelta(hours=24)


def test_a_product_without_ordering_rules_is_due_on_its_calibration_day(
    xofigo: TherapyProduct,
) -> None:
    assert xofigo.ordering.order_deadline(date(2026, 3, 20)) == date(2026, 3, 20)


@pytest.mark.parametrize(
    ("ahead", "fee"),
    [
        (timedelta(days=12), "none"),
        (timedelta(days=10), "none"),
        (timedelta(days=9, hours=23), "USD 500"),
        (timedelta(days=2), "USD 500"),
        (timedelta(days=1), "USD 2,000 (unused dose; waived if pre-treatment tests make the"),
    ],
)
def test_cancelling_lutathera_costs_by_how_far_ahead_of_calibration(
    lutathera: TherapyProduct, ahead: timedelta, fee: str
) -> None:
    calibration_at = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
    charged = lutathera.ordering.cancellation_fee(calibration_at - ahead, calibration_at)
    assert charged is not None
    assert charged.startswith(fee)


@pytest.mark.parametrize(
    ("ahead", "fee", "said"),
    [
        (timedelta(days=12), None, "no fee under the Lutathera terms (US) this long before calibration"),
        (timedelta(days=5), "USD 500", "fee under the Lutathera terms (US): USD 500"),
    ],
)
def test_a_us_centre_is_told_the_fee_of_the_us_terms(
    lutathera: TherapyProduct, ahead: timedelta, fee: str | None, said: str
) -> None:
    calibration_at = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
    terms = lutathera.ordering.cancellation_in("Lutathera", "US", calibration_at - ahead, calibration_at)
    assert terms == (fee, said)


def test_a_centre_elsewhere_is_not_charged_under_another_countrys_terms(lutathera: TherapyProduct) -> None:
    calibration_at = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
    fee, said = lutathera.ordering.cancellation_in("Lutathera", "GB", calibration_at, calibration_at)
    assert fee is None and "published for US, none for GB; agree any fee with the manufacturer" in said
    no_dose = lutathera.ordering.cancellation_in("Lutathera", "US", calibration_at, None)
    assert no_dose == (None, "no fee: no dose is placed on a batch yet")


def test_cancelling_pluvicto_has_no_published_fee(pluvicto: TherapyProduct) -> None:
    calibration_at = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
    assert pluvicto.ordering.cancellation_fee(calibration_at, calibration_at) is None


@pytest.mark.parametrize(
    ("brand", "cycles", "earliest", "latest"),
    [
        ("Pluvicto", 6, timedelta(weeks=5), timedelta(weeks=7)),
        ("Lutathera", 4, timedelta(weeks=7), timedelta(weeks=9)),
        ("Xofigo", 6, timedelta(weeks=3), timedelta(weeks=5)),
    ],
)
def test_the_next_cycle_falls_in_the_label_interval_and_its_slack(
    catalogue: Catalogue, brand: str, cycles: int, earliest: timedelta, latest: timedelta
) -> None:
    schedule = catalogue.therapy(brand).schedule
    given_at = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert schedule.cycles == cycles
    assert schedule.next_cycle_window(given_at) == (given_at + earliest, given_at + latest)


def test_a_cycle_schedule_states_its_interval_bounds() -> None:
    schedule = CycleSchedule(cycles=4, interval=timedelta(weeks=8), interval_tolerance=timedelta(7))
    assert schedule.earliest_interval == timedelta(weeks=7)
    assert schedule.latest_interval == timedelta(weeks=9)


@pytest.mark.parametrize(
    ("brand", "target", "agents"),
    [
        ("Pluvicto", "PSMA", {"ga68-gozetotide", "f18-piflufolastat", "f18-flotufolastat"}),
        ("Lutathera", "SSTR", {"ga68-dotatate", "cu64-dotatate"}),
    ],
)
def test_eligibility_is_proven_by_the_matching_pet_tracer(
    catalogue: Catalogue, brand: str, target: str, agents: set[str]
) -> None:
    eligibility = catalogue.therapy(brand).eligibility
    assert eligibility.target == target
    assert set(eligibility.imaging_agents) == agents
    for agent in agents:
        assert catalogue.imaging_agent(agent).target == target


def test_pluvicto_may_be_reduced_once_to_5_9_gbq_and_never_back(
    pluvicto: TherapyProduct,
) -> None:
    assert pluvicto.reduction is not None
    assert pluvicto.reduction.activity == Activity.from_gbq(5.9)
    assert pluvicto.reduction.max_reductions == 1
    assert not pluvicto.reduction.may_return_to_full
    assert "renal toxicity" in pluvicto.reduction.conditions


def test_lutathera_has_no_reduced_dose_until_the_label_figure_is_confirmed(
    lutathera: TherapyProduct,
) -> None:
    assert lutathera.reduction is None
