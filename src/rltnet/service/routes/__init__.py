"""The API's routes, a module per family, and the paging parameters every list shares."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Header, Query

# The databases take a 64-bit OFFSET: a larger one failed there (a 500); bounded here it is a 422.
MAX_OFFSET = 1_000_000_000

Limit = Annotated[int, Query(ge=1, le=500, description="how many items to return")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="how many items to skip")]

# An Idempotency-Key (a UUID fits): 8 to 100 of these characters, in the API's header and in
# the pages' hidden form field alike
_KEY_CHARACTERS = "[A-Za-z0-9_.:-]"
IDEMPOTENCY_KEY = re.compile(rf"^{_KEY_CHARACTERS}{{8,100}}$")


def idempotency_key_header(description: str) -> Any:
    """The `Idempotency-Key` header of a POST that resending must not repeat."""
    return Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=100,
        pattern=rf"^{_KEY_CHARACTERS}+$",
        description=description,
    )
