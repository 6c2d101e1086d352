"""The small-number rule: no count under the threshold shown, and none recoverable from a line."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rltnet.domain.disclosure import THRESHOLD, suppress

tables = st.dictionaries(
    st.tuples(st.sampled_from("abcdef"), st.sampled_from("uvwxyz")), st.integers(0, 40), max_size=36
)


@given(tables)
def test_no_small_count_is_shown_and_every_shown_count_is_true(cells: dict[tuple[str, str], int]) -> None:
    shown = suppress(cells)
    assert shown.keys() == cells.keys()
    for key, count in shown.items():
        assert count is None or count == cells[key]
        assert count is None or count == 0 or count >= THRESHOLD


@given(tables)
def test_no_row_or_column_has_a_single_hidden_count_beside_a_shown_one(
    cells: dict[tuple[str, str], int],
) -> None:
    """With one hidden cell in a line, the line's total minus the shown cells would give it."""
    shown = suppress(cells)
    for axis in (0, 1):
        for value in {key[axis] for key in cells}:
            line = [key for key in cells if key[axis] == value]
            hidden = [key for key in line if shown[key] is None]
            visible_positive = [key for key in line if shown[key] not in (None, 0)]
            assert len(hidden) != 1 or not visible_positive


def test_a_lone_small_count_takes_the_smallest_other_count_of_its_row_with_it() -> None:
    shown = suppress({("leeds", "referred"): 2, ("leeds", "ordered"): 9, ("leeds", "completed"): 30})
    assert shown == {("leeds", "referred"): None, ("leeds", "ordered"): None, ("leeds", "completed"): 30}


def test_counts_of_five_and_zeros_are_shown_as_they_are() -> None:
    assert suppress({("a",): 5, ("b",): 0, ("c",): 120}) == {("a",): 5, ("b",): 0, ("c",): 120}
