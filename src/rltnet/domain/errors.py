"""The error family of rltnet: one root, few leaves, each message says what to do."""

from __future__ import annotations

from collections.abc import Iterable


class RltnetError(Exception):
    """Root of every error rltnet raises on purpose."""


class InvalidInput(RltnetError, ValueError):
    """A value given by a user or a file is malformed or out of range."""


class NaiveDatetime(InvalidInput):
    """A datetime without a time zone was given where an instant is needed."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"{name} has no time zone; give an aware datetime such as "
            f"'2026-03-02T09:00:00+00:00' or '2026-03-02T09:00Z'"
        )


class UnknownName(InvalidInput):
    """A name (product, nuclide, network, centre...) that is not known."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        choices = ", ".join(sorted(known))
        super().__init__(f"unknown {kind} {name!r}; use one of: {choices}")


class DoseOutsideWindow(RltnetError):
    """A dose would be given outside its activity tolerance or after its expiry."""


class PathwayError(RltnetError):
    """A patient-pathway move that the pathway's rules do not allow."""


class OrderStateError(RltnetError):
    """A change an order's status does not allow (adjusting a cancelled order, say)."""


class DataFileError(InvalidInput):
    """A data file (catalogue, network) is malformed; names the file, field, value and fix."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        listed = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: {len(problems)} problem(s), nothing was loaded:\n{listed}")
