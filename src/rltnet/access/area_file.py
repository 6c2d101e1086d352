"""Reading a user's demand areas (CSV, GeoJSON, GeoPackage) and travel-time matrices (CSV, Parquet).

A file is taken whole or refused whole: every problem is listed with its row,
field, value and the fix, and nothing is used from a file with a problem.
pandas and geopandas are imported here only, at the edge.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from rltnet.access.areas import Areas, FloatArray
from rltnet.domain.errors import DataFileError

AREA_COLUMNS = (
    "id, population, and lat + lon (or a point or polygon geometry); optional: name, region, "
    "incidence, deprivation"
)
LAT_NAMES = ("lat", "latitude", "y")
LON_NAMES = ("lon", "lng", "longitude", "x")
MAX_LISTED = 200


def _refuse(path: Path, problems: list[str]) -> DataFileError:
    if len(problems) > MAX_LISTED:
        problems = [
            *problems[:MAX_LISTED],
            f"... and {len(problems) - MAX_LISTED} more problems of these kinds",
        ]
    return DataFileError(str(path), problems)


def _read_table(path: Path) -> Any:
    """A pandas DataFrame (CSV, Parquet) or GeoDataFrame (GeoJSON, GeoPackage, Shapefile)."""
    import pandas as pd

    if not path.exists():
        raise DataFileError(str(path), ["file not found. Fix: check the path"])
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix in (".geojson", ".json", ".gpkg", ".shp", ".fgb"):
            import geopandas

            return geopandas.read_file(path, engine="pyogrio")
    except Exception as err:  # pandas, pyarrow and GDAL each raise their own kinds
        raise DataFileError(
            str(path),
            [
                f"cannot read the file ({type(err).__name__}: {err}). Fix: export it again as "
                f"UTF-8 CSV, Parquet, GeoJSON or GeoPackage"
            ],
        ) from None
    raise DataFileError(
        str(path), [f"unknown file kind {suffix!r}. Fix: give a .csv, .parquet, .geojson or .gpkg file"]
    )


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(str(value).strip().replace(",", "")) if isinstance(value, str) else float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _column(frame: Any, names: tuple[str, ...]) -> str | None:
    lower = {str(c).lower(): str(c) for c in frame.columns}
    return next((lower[n] for n in names if n in lower), None)


def _centroids(frame: Any, path: Path, problems: list[str]) -> tuple[FloatArray, FloatArray] | None:
    """Point coordinates, or polygon centroids taken in an equal-area projection, in WGS 84."""
    geometry = frame.geometry
    if frame.crs is None:
        problems.append(
            "the file has no coordinate reference system. Fix: save it with one (e.g. EPSG:4326, WGS 84)"
        )
        return None
    empty = geometry.is_empty | geometry.isna()
    for row in np.flatnonzero(np.asarray(empty)):
        problems.append(f"row {row + 1}, geometry: empty. Fix: give the area a point or polygon")
    projected = geometry.to_crs("EPSG:6933")  # World Cylindrical Equal Area: centroids by area
    points = projected.centroid.to_crs("EPSG:4326")
    return np.asarray(points.y, dtype=np.float64), np.asarray(points.x, dtype=np.float64)


def read_areas(path: Path, need_population: bool = True) -> Areas:
    """The areas in `path`, or `DataFileError` listing every problem (row, field, value, fix).

    Candidate sites are read the same way, without a population (`need_population=False`).
    """
    frame = _read_table(path)
    problems: list[str] = []
    id_col = _column(frame, ("id", "area_id", "code"))
    pop_col = _column(frame, ("population", "pop", "people"))
    lat_col, lon_col = _column(frame, LAT_NAMES), _column(frame, LON_NAMES)
    has_geometry = hasattr(frame, "geometry") and "geometry" in frame.columns
    required = (("id", id_col), ("population", pop_col)) if need_population else (("id", id_col),)
    for field, found in required:
        if found is None:
            problems.append(f"column {field!r} is missing. Fix: add it; columns: {AREA_COLUMNS}")
    if not has_geometry and (lat_col is None or lon_col is None):
        problems.append(
            f"columns 'lat' and 'lon' are missing. Fix: add them (WGS 84 degrees) or give a "
            f"GeoJSON/GeoPackage with geometries; columns: {AREA_COLUMNS}"
        )
    if problems:
        raise _refuse(path, problems)
    n = len(frame)
    if n == 0:
        raise _refuse(path, ["the file has no rows. Fix: give one row per area"])
    ids = [str(v).strip() for v in frame[id_col]]
    seen: dict[str, int] = {}
    for row, area_id in enumerate(ids, start=1):
        if not area_id or area_id.lower() == "nan":
            problems.append(f"row {row}, id: empty. Fix: give each area an id of its own")
        elif area_id in seen:
            problems.append(
                f"row {row}, id: {area_id!r} repeats row {seen[area_id]}. Fix: give each area "
                f"one row and an id of its own"
            )
        else:
            seen[area_id] = row
    people = np.zeros(n)
    for row, value in enumerate(frame[pop_col] if pop_col is not None else [], start=1):
        number = _number(value)
        if number is None or number < 0:
            problems.append(
                f"row {row}, population: {value!r} is not a number of people 0 or more. "
                f"Fix: give the residents as a whole number"
            )
        else:
            people[row - 1] = number
    if has_geometry and (lat_col is None or lon_col is None):
        centroids = _centroids(frame, path, problems)
        lat, lon = centroids if centroids is not None else (np.zeros(n), np.zeros(n))
    else:
        lat, lon = np.zeros(n), np.zeros(n)
        for name, col, limit, out in (("lat", lat_col, 90.0, lat), ("lon", lon_col, 180.0, lon)):
            for row, value in enumerate(frame[col], start=1):
                number = _number(value)
                if number is None or abs(number) > limit:
                    problems.append(
                        f"row {row}, {name}: {value!r} is not a WGS 84 {name} in degrees "
                        f"(-{limit:g} to {limit:g}). Fix: give decimal degrees, e.g. 51.5074"
                    )
                else:
                    out[row - 1] = number
    extras: dict[str, FloatArray | None] = {}
    for field, names, fix in (
        ("incidence", ("incidence",), "a multiplier of the network's incidence rate, 0 or more (1 = same)"),
        ("deprivation", ("deprivation", "imd"), "a number (any deprivation score), or leave it empty"),
    ):
        col = _column(frame, names)
        if col is None:
            extras[field] = None
            continue
        values = np.full(n, np.nan if field == "deprivation" else 1.0)
        for row, value in enumerate(frame[col], start=1):
            if field == "deprivation" and str(value).strip() in ("", "nan", "None"):
                continue
            number = _number(value)
            if number is None or (field == "incidence" and number < 0):
                problems.append(f"row {row}, {field}: {value!r} is not valid. Fix: give {fix}")
            else:
                values[row - 1] = number
        extras[field] = values
    if problems:
        raise _refuse(path, problems)
    name_col = _column(frame, ("name",))
    region_col = _column(frame, ("region",))
    return Areas.build(
        area_id=ids,
        name=[str(v) for v in frame[name_col]] if name_col else ids,
        latitude=lat,
        longitude=lon,
        population=people,
        region=[str(v) or "(none)" for v in frame[region_col]] if region_col else ["(none)"] * n,
        incidence=extras["incidence"],
        deprivation=extras["deprivation"],
        notes=(f"areas from {path.name} ({n:,} areas)",),
    )


def positions(values: Any, ids: Any) -> npt.NDArray[np.int64]:
    """Index of each value in `ids` (-1 where it is not there), hashed by Arrow in C++.

    Integer ids are matched as integers; otherwise as text, so 17031 and '17031' agree.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    found, known = pa.array(values, from_pandas=True), pa.array(ids, from_pandas=True)
    if not (pa.types.is_integer(found.type) and pa.types.is_integer(known.type)):
        found, known = (a if pa.types.is_string(a.type) else pc.cast(a, pa.string()) for a in (found, known))
    index = pc.fill_null(pc.index_in(found, value_set=known), -1)
    return np.asarray(index.to_numpy(zero_copy_only=False), dtype=np.int64)


def read_travel_matrix(path: Path, area_ids: list[str], site_ids: list[str]) -> FloatArray:
    """Minutes (areas x sites) from a long table of origin, destination, minutes.

    Origins must be area ids, destinations site ids (centres); a pair not listed
    is taken as unreachable (infinite minutes), as routers leave out pairs beyond
    their limit. Every problem is listed; nothing is used from a file with one.
    """
    import pandas as pd

    frame = _read_table(path)
    problems: list[str] = []
    cols = {}
    for field in ("origin", "destination", "minutes"):
        found = _column(frame, (field,))
        if found is None:
            problems.append(
                f"column {field!r} is missing. Fix: give columns origin (area id), destination "
                f"(centre id) and minutes"
            )
        cols[field] = found
    if problems:
        raise _refuse(path, problems)
    i = positions(frame[cols["origin"]].astype(str).str.strip(), area_ids)
    j = positions(frame[cols["destination"]].astype(str).str.strip(), site_ids)
    raw = frame[cols["minutes"]]
    minutes = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad_minutes = ~np.isfinite(minutes) | (minutes < 0)
    valid = (i >= 0) & (j >= 0) & ~bad_minutes
    pair = np.where(valid, i * max(len(site_ids), 1) + j, -1)
    _, first = np.unique(pair, return_index=True)
    repeated = valid.copy()
    repeated[first] = False
    shown = ", ".join(site_ids[:5]) + (", ..." if len(site_ids) > 5 else "")
    origins, destinations = frame[cols["origin"]], frame[cols["destination"]]
    first_row = {int(pair[k]): int(k) + 1 for k in first}
    for row in np.flatnonzero((i < 0) | (j < 0) | bad_minutes | repeated):
        r = int(row)
        if i[r] < 0:
            problems.append(
                f"row {r + 1}, origin: {str(origins.iloc[r]).strip()!r} is not an area id. Fix: use the "
                f"ids of the areas file (or the network's areas)"
            )
        if j[r] < 0:
            problems.append(
                f"row {r + 1}, destination: {str(destinations.iloc[r]).strip()!r} is not a centre id. "
                f"Fix: use one of {shown}"
            )
        if bad_minutes[r]:
            problems.append(
                f"row {r + 1}, minutes: {raw.iloc[r]!r} is not a travel time. Fix: give minutes, 0 or more"
            )
        if repeated[r]:
            problems.append(
                f"row {r + 1}: the pair {str(origins.iloc[r]).strip()!r} -> "
                f"{str(destinations.iloc[r]).strip()!r} repeats row {first_row[int(pair[r])]}. "
                f"Fix: keep one row per pair"
            )
    if problems:
        raise _refuse(path, problems)
    matrix = np.full((len(area_ids), len(site_ids)), np.inf)
    matrix[i, j] = minutes
    return matrix


def write_travel_matrix(path: Path, matrix: FloatArray, area_ids: list[str], site_ids: list[str]) -> None:
    """The finite cells of `matrix` as a long CSV or Parquet table (origin, destination, minutes)."""
    import pandas as pd

    i, j = np.nonzero(np.isfinite(matrix))
    frame = pd.DataFrame(
        {
            "origin": np.asarray(area_ids)[i],
            "destination": np.asarray(site_ids)[j],
            "minutes": matrix[i, j],
        }
    )
    if path.suffix.lower() == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, float_format="%.17g")
