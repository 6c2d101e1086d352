"""The order's state machine (`domain.orders`): only live orders change; finished ones never."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rltnet.domain.errors import OrderStateError
from rltnet.domain.orders import LIVE, TRANSITIONS, OrderChange, OrderStatus, next_status

FINISHED = [s for s in OrderStatus if s not in LIVE]


@given(st.sampled_from(list(OrderStatus)), st.sampled_from(list(OrderChange)))
def test_a_change_is_allowed_exactly_where_the_table_says(status: OrderStatus, change: OrderChange) -> None:
    allowed = TRANSITIONS[status].get(change)
    if allowed is None:
        with pytest.raises(OrderStateError, match=f"is {status.value}, so it cannot {change.value}"):
            next_status("O-1", status.value, change)
    else:
        assert next_status("O-1", status.value, change) is allowed


@pytest.mark.parametrize("status", FINISHED)
@pytest.mark.parametrize("change", list(OrderChange))
def test_a_finished_order_cannot_be_revived(status: OrderStatus, change: OrderChange) -> None:
    with pytest.raises(OrderStateError, match="it is finished: order the patient's next dose instead"):
        next_status("O-7", status.value, change)


def test_every_change_leads_from_a_live_order_and_only_adjusting_makes_it_requested_again() -> None:
    for change in OrderChange:
        assert any(change in TRANSITIONS[s] for s in LIVE), change
    assert next_status("O-1", "confirmed", OrderChange.ADJUST) is OrderStatus.REQUESTED
    assert next_status("O-1", "confirmed", OrderChange.ACCEPT_PROPOSAL) is OrderStatus.REQUESTED
    assert next_status("O-1", "confirmed", OrderChange.REPLAN) is OrderStatus.CONFIRMED


def test_the_message_names_the_statuses_that_allow_the_change() -> None:
    with pytest.raises(OrderStateError) as refused:
        next_status("O-9", "requested", OrderChange.ADMINISTER)
    assert str(refused.value) == (
        "order O-9 is requested, so it cannot be administered: only a confirmed order can"
    )
