"""Which rows a list may show: a filter for data the caller may not see is refused (403),
never answered silently with other rows; a filter naming nothing known is refused (422)."""

from __future__ import annotations

from rltnet.domain.errors import InvalidInput
from rltnet.domain.products import Catalogue
from rltnet.service.errors import Forbidden
from rltnet.service.security import CENTRE_ROLES, Principal


def centre_scope(who: Principal, centre_id: str | None) -> str | None:
    """The centre a list is limited to: a centre's staff see their own centre only (asking for
    another is `Forbidden`), others every centre or the one they name."""
    if who.role not in CENTRE_ROLES:
        return centre_id
    if centre_id is not None and centre_id != who.centre_id:
        raise Forbidden(
            f"a {who.role.value} sees the data of their own centre {who.centre_id!r} only; "
            f"leave centre_id out or give {who.centre_id!r}"
        )
    return who.centre_id


def therapy_id(catalogue: Catalogue, product: str | None) -> str | None:
    """The catalogue id a product filter names (id or brand, any case); unknown: 422."""
    return None if product is None else catalogue.therapy(product).product_id


def known(what: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    """`value` if it is one of `allowed`; an unknown value is refused, not matched to nothing."""
    if value is not None and value not in allowed:
        raise InvalidInput(f"{what} {value!r} is not one of: {', '.join(allowed)}")
    return value
