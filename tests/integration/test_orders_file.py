"""The orders file: what is written reads back equal; a bad file is refused naming row, order,
column, value and fix, with every problem listed and nothing half-loaded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rltnet.domain.errors import DataFileError
from rltnet.domain.network import Network
from rltnet.domain.orders import DoseOrder
from rltnet.domain.products import Catalogue
from rltnet.domain.units import Activity
from rltnet.files.catalogue_file import default_catalogue
from rltnet.files.network_file import bundled_networks, load_network
from rltnet.files.orders_file import COLUMNS, read_orders, write_orders
from rltnet.planning.order_generator import generate_orders

HEADER = ",".join(COLUMNS)
# Two valid rows: a Pluvicto later cycle and a Xofigo first cycle dosed by weight.
PLUVICTO_ROW = (
    "O000001,P000001,lu177-vipivotide-tetraxetan,2,leeds,2027-01-11T10:00:00Z,"
    "2027-01-25T10:00:00Z,2027-01-18T10:00:00Z,2027-01-04T10:00:00Z,7.4,,false"
)
XOFIGO_ROW = (
    "O000002,P000002,ra223-dichloride,1,london,2027-01-20T13:00:00Z,2027-02-17T13:00:00Z,"
    "2027-01-20T13:00:00Z,2027-01-20T13:00:00Z,0.004037,73.4,true"
)


@cache
def england() -> Network:
    return load_network(bundled_networks()["england"], default_catalogue())


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def refusal(path: Path, catalogue: Catalogue, network: Network | None = None) -> DataFileError:
    """The error reading `path` raises; fails the test if the file reads."""
    with pytest.raises(DataFileError) as refused:
        read_orders(path, catalogue, network)
    assert refused.value.path == str(path)
    assert "nothing was loaded" in str(refused.value)
    return refused.value


def test_generated_orders_read_back_equal_to_those_written(tmp_path: Path, catalogue: Catalogue) -> None:
    orders = generate_orders(england(), catalogue, start_date=date(2027, 1, 4), weeks=2, seed=1)
    path = write_orders(tmp_path / "orders.csv", orders)
    assert read_orders(path, catalogue, england()) == orders
    assert path.read_text(encoding="utf-8").splitlines()[0] == HEADER


def test_the_valid_example_rows_read_as_the_orders_they_describe(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(csv_text(PLUVICTO_ROW, XOFIGO_ROW), encoding="utf-8")
    pluvicto, xofigo = read_orders(path, catalogue, england())
    assert pluvicto.prescribed == Activity.from_gbq(7.4) and pluvicto.weight_kg is None
    assert pluvicto.preferred_at == datetime(2027, 1, 18, 10, tzinfo=UTC)
    assert not pluvicto.confirmed
    assert xofigo.prescribed == Activity.from_kbq(4037) and xofigo.weight_kg == 73.4
    assert xofigo.confirmed and xofigo.first_cycle


def test_a_product_may_be_named_by_brand_in_any_case_and_is_kept_as_its_id(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(csv_text(PLUVICTO_ROW.replace("lu177-vipivotide-tetraxetan", "PLUVICTO")))
    (order,) = read_orders(path, catalogue)
    assert order.product_id == "lu177-vipivotide-tetraxetan"


def test_columns_in_another_order_offsets_a_byte_order_mark_and_blank_lines_are_read(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(csv_text(PLUVICTO_ROW, XOFIGO_ROW), encoding="utf-8")
    expected = read_orders(path, catalogue)
    columns = list(reversed(COLUMNS))
    rows = [",".join(reversed(row.split(","))) for row in (PLUVICTO_ROW, XOFIGO_ROW)]
    local = rows[0].replace("2027-01-18T10:00:00Z", "2027-01-18T11:00:00+01:00")
    path.write_text("\ufeff" + csv_text(local, "", rows[1], header=",".join(columns)))
    assert read_orders(path, catalogue) == expected


def test_a_file_of_only_the_header_holds_no_orders(tmp_path: Path, catalogue: Catalogue) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(csv_text())
    assert read_orders(path, catalogue) == []


# Each kind: the rows of the file (the valid Pluvicto row changed), and what the one problem
# line must say: its place first, then the rule broken and the value found. Every line must
# also carry a 'Fix:'.
Rows = tuple[str, ...]


def changed(old: str, new: str, row: str = PLUVICTO_ROW) -> Rows:
    assert old in row
    return (row.replace(old, new, 1),)


MALFORMED: dict[str, tuple[Rows, list[str]]] = {
    "unknown product": (
        changed("lu177-vipivotide-tetraxetan", "pluvictoo"),
        [
            "row 2 (order 'O000001').product_id: not a therapy in the catalogue",
            "(got 'pluvictoo')",
            "did you mean 'Pluvicto'?",
        ],
    ),
    "naive instant": (
        changed("2027-01-11T10:00:00Z", "2027-01-11T10:00:00"),
        [
            "row 2 (order 'O000001').earliest_at: the time has no UTC offset",
            "(got '2027-01-11T10:00:00')",
        ],
    ),
    "malformed instant": (
        changed("2027-01-04T10:00:00Z", "4 Jan 2027"),
        ["row 2 (order 'O000001').placed_at: not an ISO 8601 date-time", "(got '4 Jan 2027')"],
    ),
    "window inverted": (
        changed("2027-01-25T10:00:00Z", "2027-01-10T10:00:00Z"),
        [
            "row 2 (order 'O000001').latest_at: the window ends before it starts",
            "(got '2027-01-10T10:00:00Z')",
            "swap earliest_at and latest_at",
        ],
    ),
    "preferred outside the window": (
        changed("2027-01-18T10:00:00Z", "2027-01-26T10:00:00Z"),
        [
            "row 2 (order 'O000001').preferred_at: the preferred time is outside the window",
            "(got '2027-01-26T10:00:00Z')",
        ],
    ),
    "placed after the window": (
        changed("2027-01-04T10:00:00Z", "2027-01-26T10:00:00Z"),
        [
            "row 2 (order 'O000001').placed_at: the order is placed after its window closed",
            "(got '2027-01-26T10:00:00Z')",
        ],
    ),
    "activity with its unit": (
        changed(",7.4,", ",7.4 GBq,"),
        [
            "row 2 (order 'O000001').prescribed_gbq: not a number",
            "(got '7.4 GBq')",
            "without the unit",
        ],
    ),
    "activity of zero": (
        changed(",7.4,", ",0,"),
        ["row 2 (order 'O000001').prescribed_gbq: the activity must be above 0", "(got '0')"],
    ),
    "weight out of range": (
        changed(",73.4,", ",-73.4,", XOFIGO_ROW),
        ["row 2 (order 'O000002').weight_kg: the weight must be above 0", "(got '-73.4')"],
    ),
    "cycle beyond the label": (
        changed(",2,leeds", ",7,leeds"),
        ["row 2 (order 'O000001').cycle: Pluvicto's label allows 6 cycle(s)", "(got '7')"],
    ),
    "cycle not a whole number": (
        changed(",2,leeds", ",two,leeds"),
        ["row 2 (order 'O000001').cycle: not a cycle number", "(got 'two')"],
    ),
    "confirmed neither true nor false": (
        changed(",false", ",maybe"),
        ["row 2 (order 'O000001').confirmed: not true or false", "(got 'maybe')"],
    ),
    "missing patient id": (
        changed("P000001", ""),
        ["row 2 (order 'O000001').patient_id: the value is missing", "(got '')"],
    ),
    "id with a space": (
        changed("O000001", "O 1"),
        ["row 2 (order 'O 1').order_id: not an id", "(got 'O 1')"],
    ),
    "too few values": (
        (PLUVICTO_ROW.rsplit(",", 2)[0],),
        [
            "row 2 (order 'O000001'): 10 values where the header has 12 columns",
            "(got 'O000001,P000001,",
        ],
    ),
}


@pytest.mark.parametrize("kind", MALFORMED)
def test_each_kind_of_malformed_row_is_refused_naming_row_order_column_value_and_fix(
    tmp_path: Path, catalogue: Catalogue, kind: str
) -> None:
    rows, expected = MALFORMED[kind]
    path = tmp_path / "orders.csv"
    path.write_text(csv_text(*rows), encoding="utf-8")
    error = refusal(path, catalogue)
    assert len(error.problems) == 1, error.problems
    (problem,) = error.problems
    assert problem.startswith(expected[0]), problem
    for part in expected[1:]:
        assert part in problem, problem
    assert "Fix: " in problem


def test_a_centre_unknown_to_the_network_is_refused_when_a_network_is_given(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(csv_text(*changed(",leeds,", ",leedz,")), encoding="utf-8")
    (problem,) = refusal(path, catalogue, england()).problems
    assert problem.startswith("row 2 (order 'O000001').centre_id: not a centre of network")
    assert "(got 'leedz')" in problem and "Fix: did you mean 'leeds'?" in problem
    assert len(read_orders(path, catalogue)) == 1  # without a network, any centre id will do


def test_a_repeated_order_id_is_refused_at_the_second_row_naming_the_first(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(csv_text(PLUVICTO_ROW, XOFIGO_ROW.replace("O000002", "O000001")))
    (problem,) = refusal(path, catalogue).problems
    assert problem == (
        "row 3 (order 'O000001').order_id: the id is already used on row 2 (got 'O000001'). "
        "Fix: give each order its own id"
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (HEADER.replace(",weight_kg", ""), "header: required column 'weight_kg' is missing"),
        (HEADER + ",ward", "header: unknown column 'ward'"),
        (HEADER.replace("weight_kg", "wieght_kg"), "(did you mean 'weight_kg'?)"),
        (HEADER.replace("cycle", "order_id"), "header: column 'order_id' appears twice"),
    ],
)
def test_a_header_with_a_missing_unknown_or_doubled_column_is_refused(
    tmp_path: Path, catalogue: Catalogue, header: str, expected: str
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(csv_text(header=header))
    problems = refusal(path, catalogue).problems
    assert any(expected in p and "Fix: " in p for p in problems), problems


def test_every_problem_in_a_file_is_listed_at_once(tmp_path: Path, catalogue: Catalogue) -> None:
    rows = (
        PLUVICTO_ROW.replace(",7.4,", ",seven,").replace(",false", ",no"),
        XOFIGO_ROW.replace("ra223-dichloride", "radium"),
        PLUVICTO_ROW.replace("O000001", "O000003").replace("2027-01-11T10:00:00Z", "soon"),
        XOFIGO_ROW,  # valid, but its id O000002 is taken by the second row
    )
    path = tmp_path / "orders.csv"
    path.write_text(csv_text(*(row + ",a note" for row in rows), header=HEADER + ",note"))
    problems = refusal(path, catalogue).problems
    places = [p.split(":", 1)[0] for p in problems]
    assert places == [
        "header",
        "row 2 (order 'O000001').prescribed_gbq",
        "row 2 (order 'O000001').confirmed",
        "row 3 (order 'O000002').product_id",
        "row 4 (order 'O000003').earliest_at",
        "row 5 (order 'O000002').order_id",
    ]
    assert all("Fix: " in p for p in problems)
    assert str(refusal(path, catalogue)).startswith(f"{path}: 6 problem(s), nothing was loaded")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "file not found. Fix: check the path"),
        (b"", "the file is empty. Fix: start it with the header line order_id,"),
        (b"\xff\xfe\x00o", "cannot read the file"),
        (f'{HEADER}\n"O1,P1'.encode(), "not valid CSV"),
    ],
)
def test_a_missing_empty_binary_or_broken_file_is_refused_with_a_fix(
    tmp_path: Path, catalogue: Catalogue, content: bytes | None, expected: str
) -> None:
    path = tmp_path / "orders.csv"
    if content is not None:
        path.write_bytes(content)
    (problem,) = refusal(path, catalogue).problems
    assert expected in problem and "Fix: " in problem


# --------------------------------------------------------------------------- any order

ids = st.text(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:", min_size=1, max_size=64
).filter(lambda text: text[0].isalnum())
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
instants = st.builds(
    lambda seconds, zone: (EPOCH + timedelta(seconds=seconds)).astimezone(zone),
    st.integers(0, 100 * 366 * 86_400),
    offsets,
)


@st.composite
def dose_orders(draw: st.DrawFn) -> DoseOrder:
    """Any order the domain accepts, its instants to the second in any UTC offset."""
    catalogue = default_catalogue()
    product = draw(st.sampled_from(sorted(catalogue.therapies)))
    earliest_at, preferred_at, latest_at = sorted(draw(st.lists(instants, min_size=3, max_size=3)))
    return DoseOrder(
        order_id=draw(ids),
        patient_id=draw(ids),
        product_id=product,
        cycle=draw(st.integers(1, catalogue.therapies[product].schedule.cycles)),
        centre_id=draw(ids),
        earliest_at=earliest_at,
        latest_at=latest_at,
        preferred_at=preferred_at,
        prescribed=Activity(draw(st.floats(1.0, 1e12))),
        placed_at=earliest_at - timedelta(minutes=draw(st.integers(0, 60 * 24 * 60))),
        weight_kg=draw(st.none() | st.floats(0.1, 499.9)),
        confirmed=draw(st.booleans()),
    )


@settings(max_examples=60, deadline=None)
@given(orders=st.lists(dose_orders(), max_size=5, unique_by=lambda o: o.order_id))
def test_any_orders_written_read_back_equal_to_the_same_becquerel_and_second(
    tmp_path_factory: pytest.TempPathFactory, orders: list[DoseOrder]
) -> None:
    path = write_orders(tmp_path_factory.mktemp("orders") / "orders.csv", orders)
    assert read_orders(path, default_catalogue()) == orders
