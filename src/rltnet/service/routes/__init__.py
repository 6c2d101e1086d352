"""The API's routes, a module per family, and the paging parameters every list shares."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

# The databases take a 64-bit OFFSET: a larger one failed there (a 500); bounded here it is a 422.
MAX_OFFSET = 1_000_000_000

Limit = Annotated[int, Query(ge=1, le=500, description="how many items to return")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="how many items to skip")]
