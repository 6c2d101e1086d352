"""Therapies whose eligibility no PET shows (Xofigo, Zevalin) go from referral to the MDT,
which approves only on every one of the label's checks; the others still need their PET."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rltnet.domain.errors import PathwayError
from rltnet.domain.pathway import Move, PathwayEvent, PatientPathway, Stage, moves_for
from rltnet.domain.products import Catalogue

REFERRED_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MDT_AT = REFERRED_AT + timedelta(days=3)


def referred(catalogue: Catalogue, brand: str) -> PatientPathway:
    return PatientPathway.refer("P-1", catalogue.therapy(brand), REFERRED_AT, "coordinator")


@pytest.mark.parametrize("brand", ["Xofigo", "Zevalin"])
def test_the_mdt_approves_at_once_on_every_check_of_the_label(catalogue: Catalogue, brand: str) -> None:
    pathway = referred(catalogue, brand)
    checks = tuple(c.check_id for c in pathway.product.eligibility.checks)
    assert checks and Move.REQUEST_IMAGING not in pathway.allowed_moves()
    assert Move.APPROVE in pathway.allowed_moves()
    pathway.record(PathwayEvent(Move.APPROVE, MDT_AT, "physician", eligibility=checks))
    assert pathway.stage is Stage.MDT_APPROVED


@given(st.data())
def test_approval_is_refused_while_any_check_is_unconfirmed(
    catalogue: Catalogue, data: st.DataObject
) -> None:
    brand = data.draw(st.sampled_from(["Xofigo", "Zevalin"]))
    pathway = referred(catalogue, brand)
    every = [c.check_id for c in pathway.product.eligibility.checks]
    confirmed = data.draw(st.lists(st.sampled_from(every), unique=True, max_size=len(every) - 1))
    with pytest.raises(PathwayError) as refused:
        pathway.record(PathwayEvent(Move.APPROVE, MDT_AT, "physician", eligibility=tuple(confirmed)))
    missing = set(every) - set(confirmed)
    assert all(check in str(refused.value) for check in missing)
    assert pathway.stage is Stage.REFERRED


def test_xofigo_cannot_be_sent_for_a_pet(catalogue: Catalogue) -> None:
    pathway = referred(catalogue, "Xofigo")
    with pytest.raises(PathwayError, match="needs no eligibility PET: the MDT"):
        pathway.record(PathwayEvent(Move.REQUEST_IMAGING, MDT_AT, "coordinator"))


def test_a_deferred_xofigo_patient_is_approved_later_on_the_checks(catalogue: Catalogue) -> None:
    pathway = referred(catalogue, "Xofigo")
    pathway.record(PathwayEvent(Move.DEFER, MDT_AT, "physician", "await bone scan"))
    assert moves_for(Stage.MDT_DEFERRED, pathway.product).count(Move.REQUEST_IMAGING) == 0
    checks = tuple(c.check_id for c in pathway.product.eligibility.checks)
    pathway.record(PathwayEvent(Move.APPROVE, MDT_AT + timedelta(days=7), "physician", eligibility=checks))
    assert pathway.stage is Stage.MDT_APPROVED


@pytest.mark.parametrize("move", [Move.APPROVE, Move.DECLINE, Move.DEFER])
def test_a_pet_proved_therapy_still_needs_its_pet_before_the_mdt(catalogue: Catalogue, move: Move) -> None:
    pathway = referred(catalogue, "Pluvicto")
    assert move not in pathway.allowed_moves()
    with pytest.raises(PathwayError, match="request imaging before the MDT decides"):
        pathway.record(PathwayEvent(move, MDT_AT, "physician"))
