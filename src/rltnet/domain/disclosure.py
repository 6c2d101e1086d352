"""Small-number suppression: counts shown outside a centre never single out a patient.

RULE is the statement shown with every table it applies to. A count from 1 to
`THRESHOLD` - 1 is hidden (primary suppression). A hidden cell alone in its row or
column could be worked out from the line's total (which another table, or another
day's figures, may give), so the smallest count still shown in that line is hidden
too (complementary suppression), until no line has exactly one hidden cell.
Zeros are not hidden: an empty cell does not identify anyone.

>>> suppress({("referred",): 3, ("ordered",): 12, ("completed",): 30})
{('referred',): None, ('ordered',): None, ('completed',): 30}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping
from typing import TypeVar

K = TypeVar("K", bound=tuple[Hashable, ...])

THRESHOLD = 5
RULE = (
    f"Counts from 1 to {THRESHOLD - 1} are not shown, nor the smallest other count of a row or column "
    f"that would let a hidden count be worked out from the total; hidden counts are shown as null "
    f"(API) or '<{THRESHOLD}' (pages)."
)


def suppress(cells: Mapping[K, int], threshold: int | None = None) -> dict[K, int | None]:
    """Each cell's count, or None where it is hidden by the rule, for a table whose keys are
    tuples (one axis per position: a 1-tuple is a list, a 2-tuple a table of rows and columns).

    Every line along every axis ends with no hidden cell, or with two or more.
    """
    below = THRESHOLD if threshold is None else threshold
    hidden = {key for key, count in cells.items() if 0 < count < below}
    changed = bool(hidden)
    while changed:
        changed = False
        for line in _lines(cells):
            hidden_here = [key for key in line if key in hidden]
            shown = [key for key in line if key not in hidden and cells[key] > 0]
            if len(hidden_here) == 1 and shown:
                hidden.add(min(shown, key=lambda key: (cells[key], str(key))))
                changed = True
    return {key: None if key in hidden else count for key, count in cells.items()}


def _lines(cells: Mapping[K, int]) -> list[list[K]]:
    """The cells grouped along each axis: for a 2-tuple key, its rows and its columns."""
    lines: list[list[K]] = []
    width = len(next(iter(cells))) if cells else 0
    for axis in range(width):
        groups: dict[tuple[Hashable, ...], list[K]] = defaultdict(list)
        for key in cells:
            groups[key[:axis] + key[axis + 1 :]].append(key)
        lines.extend(groups.values())
    return lines
