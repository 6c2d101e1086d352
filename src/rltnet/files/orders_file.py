"""The orders file: dose orders as CSV, one order a row, the columns in `COLUMNS`.

The format is documented in ``docs/orders-format.md``. `read_orders` checks
every row and raises `DataFileError` listing every problem, each as
``row N (order 'O000012').column: what is wrong (got VALUE). Fix: ...``; rows
are counted as a spreadsheet counts them, the header being row 1. Nothing is
returned half-loaded.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from rltnet.domain.errors import DataFileError, InvalidInput
from rltnet.domain.network import Network
from rltnet.domain.orders import DoseOrder
from rltnet.domain.products import Catalogue, TherapyProduct
from rltnet.domain.units import Activity, format_instant

T = TypeVar("T")

COLUMNS = (
    "order_id",
    "patient_id",
    "product_id",
    "cycle",
    "centre_id",
    "earliest_at",
    "latest_at",
    "preferred_at",
    "placed_at",
    "prescribed_gbq",
    "weight_kg",
    "confirmed",
)
INSTANT_COLUMNS = ("earliest_at", "latest_at", "preferred_at", "placed_at")
ID_TEXT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
NUMBER_TEXT = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
MAX_PRESCRIBED_GBQ = 1000.0  # far above any label's activity: a typo guard, not a rule
MAX_WEIGHT_KG = 500.0  # as the per-kg dosing rules accept
TRUE, FALSE = "true", "false"


def write_orders(path: Path | str, orders: Iterable[DoseOrder]) -> Path:
    """Write `orders` as CSV with a header, instants in UTC with a 'Z'; returns the path."""
    path = Path(path)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for order in orders:
        writer.writerow(
            (
                order.order_id,
                order.patient_id,
                order.product_id,
                order.cycle,
                order.centre_id,
                format_instant(order.earliest_at),
                format_instant(order.latest_at),
                format_instant(order.preferred_at),
                format_instant(order.placed_at),
                _gbq_text(order.prescribed),
                "" if order.weight_kg is None else repr(float(order.weight_kg)),
                TRUE if order.confirmed else FALSE,
            )
        )
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return path


def read_orders(path: Path | str, catalogue: Catalogue, network: Network | None = None) -> list[DoseOrder]:
    """Read and check an orders file; with `network`, every centre must be one of its centres.

    Products may be named by catalogue id or brand, in any case; the order keeps the id.
    Blank lines are skipped. Every problem in the file is reported at once.
    """
    path = Path(path)
    rows = _read_rows(path)
    if not rows:
        raise DataFileError(
            str(path),
            [f"the file is empty. Fix: start it with the header line {','.join(COLUMNS)}"],
        )
    header = _Header.of(rows[0])
    problems = list(header.problems)
    readers = _Readers(catalogue, network)
    orders: list[DoseOrder] = []
    first_row_of: dict[str, int] = {}
    for number, cells in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        row = _Row(number, header, cells)
        order = row.parse(readers)
        if row.order_id is not None and row.order_id in first_row_of:
            row.problem(
                "order_id",
                f"the id is already used on row {first_row_of[row.order_id]}",
                "give each order its own id",
            )
            order = None
        elif row.order_id is not None:
            first_row_of[row.order_id] = number
        problems += row.problems
        if order is not None:
            orders.append(order)
    if problems:
        raise DataFileError(str(path), problems)
    return orders


# --------------------------------------------------------------------------- the file


def _read_rows(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # a spreadsheet's byte-order mark is fine
    except FileNotFoundError:
        raise DataFileError(str(path), ["file not found. Fix: check the path"]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise DataFileError(
            str(path), [f"cannot read the file ({err}). Fix: save it as UTF-8 text"]
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        return list(reader)
    except csv.Error as err:
        raise DataFileError(
            str(path),
            [
                f"line {reader.line_num}: not valid CSV ({err}). Fix: close the quotes there, "
                f"or quote a value that holds a comma"
            ],
        ) from None


@dataclass(frozen=True)
class _Header:
    """Where each known column is, how many cells a row must have, and what is wrong."""

    positions: dict[str, int]
    width: int
    problems: tuple[str, ...]

    @classmethod
    def of(cls, cells: Sequence[str]) -> _Header:
        names = [cell.strip() for cell in cells]
        positions: dict[str, int] = {}
        problems: list[str] = []
        for position, name in enumerate(names):
            if name in positions:
                problems.append(f"header: column {name!r} appears twice. Fix: keep one column of each name")
            elif name in COLUMNS:
                positions[name] = position
            else:
                close = difflib.get_close_matches(name, COLUMNS, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"the columns are {_LISTED}"
                problems.append(
                    f"header: unknown column {name!r}. Fix: remove it or correct the spelling ({hint})"
                )
        for name in COLUMNS:
            if name not in positions:
                problems.append(
                    f"header: required column {name!r} is missing. Fix: add it; the columns are {_LISTED}"
                )
        return cls(positions, len(names), tuple(problems))


_LISTED = ", ".join(COLUMNS)


class _CellProblem(Exception):
    """What is wrong with a cell and how to fix it."""

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(what)
        self.what = what
        self.fix = fix


@dataclass
class _Row:
    """One data row being checked: its cells, and the problems found so far."""

    number: int
    header: _Header
    cells: list[str]
    problems: list[str] = field(default_factory=list)

    @property
    def order_id(self) -> str | None:
        if "order_id" not in self.header.positions:
            return None
        return self.text("order_id") or None

    @property
    def where(self) -> str:
        label = f" (order {self.order_id!r})" if self.order_id else ""
        return f"row {self.number}{label}"

    def text(self, column: str) -> str:
        position = self.header.positions[column]
        return self.cells[position].strip() if position < len(self.cells) else ""

    def problem(self, column: str, what: str, fix: str) -> None:
        self.problems.append(f"{self.where}.{column}: {what} (got {self.text(column)!r}). Fix: {fix}")

    def parse(self, readers: _Readers) -> DoseOrder | None:
        """The row's order, or None with its problems recorded."""
        if len(self.cells) != self.header.width:
            self.problems.append(
                f"{self.where}: {len(self.cells)} values where the header has "
                f"{self.header.width} columns (got {_show(','.join(self.cells))}). Fix: give "
                f"one value per column (leave weight_kg empty, not out), and quote a value "
                f"that holds a comma"
            )
            return None
        order_id = self.cell("order_id", readers.order_id)
        patient_id = self.cell("patient_id", readers.patient_id)
        product = self.cell("product_id", readers.product)
        cycle = self.cell("cycle", readers.cycle(product))
        centre_id = self.cell("centre_id", readers.centre)
        earliest_at = self.cell("earliest_at", _instant)
        latest_at = self.cell("latest_at", _instant)
        preferred_at = self.cell("preferred_at", _instant)
        placed_at = self.cell("placed_at", _instant)
        prescribed = self.cell("prescribed_gbq", _prescribed)
        weight_kg = self.cell("weight_kg", _weight)
        confirmed = self.cell("confirmed", _confirmed)
        self._check_window(earliest_at, latest_at, preferred_at, placed_at)
        if (
            self.problems
            or len(self.header.positions) != len(COLUMNS)
            or order_id is None
            or patient_id is None
            or product is None
            or cycle is None
            or centre_id is None
            or earliest_at is None
            or latest_at is None
            or preferred_at is None
            or placed_at is None
            or prescribed is None
            or confirmed is None
        ):
            return None
        try:
            return DoseOrder(
                order_id=order_id,
                patient_id=patient_id,
                product_id=product.product_id,
                cycle=cycle,
                centre_id=centre_id,
                earliest_at=earliest_at,
                latest_at=latest_at,
                preferred_at=preferred_at,
                prescribed=prescribed,
                placed_at=placed_at,
                weight_kg=weight_kg,
                confirmed=confirmed,
            )
        except InvalidInput as err:  # the checks above leave nothing for the domain to refuse
            self.problems.append(f"{self.where}: {err}. Fix: correct the row")
            return None

    def cell(self, column: str, read: Callable[[str], T]) -> T | None:
        """The cell read by `read`; None where the column is missing or the cell is wrong."""
        if column not in self.header.positions:
            return None
        try:
            return read(self.text(column))
        except _CellProblem as wrong:
            self.problem(column, wrong.what, wrong.fix)
            return None

    def _check_window(
        self,
        earliest_at: datetime | None,
        latest_at: datetime | None,
        preferred_at: datetime | None,
        placed_at: datetime | None,
    ) -> None:
        if earliest_at is None or latest_at is None:
            return
        if latest_at < earliest_at:
            self.problem(
                "latest_at",
                f"the window ends before it starts, at earliest_at {format_instant(earliest_at)}",
                "swap earliest_at and latest_at, or correct the one that is wrong",
            )
            return
        if preferred_at is not None and not earliest_at <= preferred_at <= latest_at:
            self.problem(
                "preferred_at",
                f"the preferred time is outside the window {format_instant(earliest_at)} to "
                f"{format_instant(latest_at)}",
                "choose a time from earliest_at to latest_at",
            )
        if placed_at is not None and placed_at > latest_at:
            self.problem(
                "placed_at",
                f"the order is placed after its window closed at {format_instant(latest_at)}",
                "give the time the order was placed, before latest_at",
            )


# --------------------------------------------------------------------------- cells


@dataclass(frozen=True)
class _Readers:
    """Cell readers that depend on the catalogue and, optionally, the network."""

    catalogue: Catalogue
    network: Network | None

    def order_id(self, text: str) -> str:
        return _identifier(text, "an order id of letters, digits, '-', '_', '.' or ':', e.g. 'O000012'")

    def patient_id(self, text: str) -> str:
        return _identifier(
            text,
            "a pseudonymous patient id of letters, digits, '-', '_', '.' or ':', e.g. 'P000012' "
            "(never a name or hospital number)",
        )

    def product(self, text: str) -> TherapyProduct:
        try:
            return self.catalogue.therapy(text)
        except InvalidInput:
            pass
        therapies = sorted(self.catalogue.therapies.values(), key=lambda p: p.product_id)
        names = {name.casefold(): name for p in therapies for name in (p.product_id, p.brand)}
        close = difflib.get_close_matches(text.casefold(), list(names), n=1)
        hint = f"did you mean {names[close[0]]!r}? Otherwise " if close else ""
        listed = ", ".join(f"{p.product_id} ({p.brand})" for p in therapies)
        raise _CellProblem("not a therapy in the catalogue", f"{hint}use a catalogue id or brand: {listed}")

    def cycle(self, product: TherapyProduct | None) -> Callable[[str], int]:
        def read(text: str) -> int:
            if not re.fullmatch(r"[0-9]+", text) or int(text) < 1:
                raise _CellProblem("not a cycle number", "write a whole number from 1, e.g. 2")
            cycle = int(text)
            if product is not None and cycle > product.schedule.cycles:
                raise _CellProblem(
                    f"{product.brand}'s label allows {product.schedule.cycles} cycle(s)",
                    f"write a cycle from 1 to {product.schedule.cycles}",
                )
            return cycle

        return read

    def centre(self, text: str) -> str:
        centre_id = _identifier(text, "the id of a treatment centre, e.g. 'leeds'")
        if self.network is not None and centre_id not in self.network.centres:
            close = difflib.get_close_matches(centre_id, list(self.network.centres), n=1)
            hint = f"did you mean {close[0]!r}? Otherwise " if close else ""
            raise _CellProblem(
                f"not a centre of network {self.network.name!r}",
                f"{hint}use one of: {', '.join(sorted(self.network.centres))}",
            )
        return centre_id


def _identifier(text: str, what: str) -> str:
    if not text:
        raise _CellProblem("the value is missing", f"write {what}")
    if not ID_TEXT.fullmatch(text):
        raise _CellProblem("not an id", f"write {what}, at most 64 characters")
    return text


def _instant(text: str) -> datetime:
    example = "write an instant with its UTC offset, e.g. '2027-01-18T13:00:00Z'"
    if not text:
        raise _CellProblem("the value is missing", example)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _CellProblem("not an ISO 8601 date-time", example) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise _CellProblem(
            "the time has no UTC offset, so it names no instant",
            "add 'Z' for UTC or the local offset, e.g. '2027-01-18T13:00:00Z' or '2027-01-18T08:00:00-05:00'",
        )
    return moment


def _number(text: str, unit: str, example: str) -> float:
    if not text:
        raise _CellProblem("the value is missing", f"write a number of {unit}, e.g. {example}")
    if not NUMBER_TEXT.fullmatch(text):
        raise _CellProblem("not a number", f"write a number of {unit} without the unit, e.g. {example}")
    return float(text)


def _prescribed(text: str) -> Activity:
    gbq = _number(text, "GBq", "7.4")
    if not 0 < gbq <= MAX_PRESCRIBED_GBQ:
        raise _CellProblem(
            f"the activity must be above 0 and at most {MAX_PRESCRIBED_GBQ:g} GBq",
            "write the prescribed activity in GBq, e.g. 7.4 (for 200 mCi)",
        )
    # Exactly the becquerels written: the decimal is scaled before it is rounded, once.
    return Activity(float(Decimal(text).scaleb(9)))


def _weight(text: str) -> float | None:
    if not text:
        return None
    weight = _number(text, "kg", "72.5")
    if not 0 < weight < MAX_WEIGHT_KG:
        raise _CellProblem(
            f"the weight must be above 0 and below {MAX_WEIGHT_KG:g} kg",
            "write the patient's weight in kg, e.g. 72.5, or leave it empty",
        )
    return weight


def _confirmed(text: str) -> bool:
    if text.casefold() in (TRUE, FALSE):
        return text.casefold() == TRUE
    raise _CellProblem("not true or false", "write true for a booking the manufacturer confirmed, else false")


# --------------------------------------------------------------------------- writing


def _gbq_text(activity: Activity) -> str:
    """GBq in the fewest digits that read back as exactly the same becquerels.

    >>> _gbq_text(Activity.from_gbq(7.4)), _gbq_text(Activity.from_mbq(4.037))
    ('7.4', '0.004037')
    """
    exact = Decimal(repr(activity.bq)).scaleb(-9).normalize()
    return format(exact, "f")


def _show(text: str) -> str:
    shown = repr(text)
    return shown if len(shown) <= 60 else shown[:57] + "..."
