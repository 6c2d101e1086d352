"""Demand areas as arrays: where people live, how many, in which region and rurality class.

Settlement-size thresholds for the rurality classes (settlement population, people):

- urban: 10,000 and more. England's Rural-Urban Classification (ONS, 2011) counts
  settlements of 10,000 residents and more as urban, everything smaller as rural.
- town: 2,500 to 9,999. The US Census Bureau's urban clusters of 2010 began at 2,500
  people; in England these places are the classification's "rural town and fringe".
- rural: below 2,500 (villages, hamlets, dispersed dwellings), and the people who live
  outside every listed place (see `reconcile_population`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from rltnet.domain.errors import InvalidInput
from rltnet.domain.network import EARTH_RADIUS_KM

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
StrArray = npt.NDArray[np.str_]

URBAN_MIN_PEOPLE = 10_000  # ONS 2011 Rural-Urban Classification: urban settlements
TOWN_MIN_PEOPLE = 2_500  # US Census Bureau 2010: urban clusters from 2,500 people
RURALITY_CLASSES = ("urban", "town", "rural")

# A GeoNames city's population covers its whole built-up area, whose boroughs and
# suburbs GeoNames also lists as places of their own (London and Brent). A place is
# taken as part of a larger one when it lies inside the larger one's footprint: a
# disc holding its population at this density. ASSUMED: 5,000 people per km², near
# Greater London's 2021 density (8.8 million on 1,572 km², about 5,600 per km²; ONS
# Census 2021), which gives London a 24 km radius and Birmingham an 8.5 km one.
FOOTPRINT_PEOPLE_PER_KM2 = 5_000.0


@dataclass(frozen=True)
class Areas:
    """Demand areas, one entry per area in every array (all the same length).

    `incidence` multiplies the network's incidence rates for the area (1.0 = the
    network's rate); `deprivation` is any score the user brings (NaN when none).
    """

    area_id: StrArray
    name: StrArray
    latitude: FloatArray
    longitude: FloatArray
    population: FloatArray
    region: StrArray
    rurality: StrArray
    incidence: FloatArray
    deprivation: FloatArray
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        n = len(self.area_id)
        for name in ("name", "latitude", "longitude", "population", "region", "rurality"):
            if len(getattr(self, name)) != n:
                raise InvalidInput(f"areas: {name} has {len(getattr(self, name))} entries, not {n}")

    def __len__(self) -> int:
        return len(self.area_id)

    @classmethod
    def build(
        cls,
        area_id: Sequence[str],
        name: Sequence[str],
        latitude: Sequence[float] | FloatArray,
        longitude: Sequence[float] | FloatArray,
        population: Sequence[float] | FloatArray,
        region: Sequence[str],
        rurality: Sequence[str] | None = None,
        incidence: Sequence[float] | FloatArray | None = None,
        deprivation: Sequence[float] | FloatArray | None = None,
        notes: tuple[str, ...] = (),
    ) -> Areas:
        """Areas from plain sequences; rurality from each area's own population when not given."""
        people = np.asarray(population, dtype=np.float64)
        n = len(people)
        return cls(
            area_id=np.asarray(area_id, dtype=np.str_),
            name=np.asarray(name, dtype=np.str_),
            latitude=np.asarray(latitude, dtype=np.float64),
            longitude=np.asarray(longitude, dtype=np.float64),
            population=people,
            region=np.asarray(region, dtype=np.str_),
            rurality=np.asarray(rurality, dtype=np.str_) if rurality is not None else classify(people),
            incidence=np.ones(n) if incidence is None else np.asarray(incidence, dtype=np.float64),
            deprivation=np.full(n, np.nan)
            if deprivation is None
            else np.asarray(deprivation, dtype=np.float64),
            notes=notes,
        )


def classify(settlement_people: FloatArray) -> StrArray:
    """Rurality class of each settlement by its size.

    >>> classify(np.array([250_000.0, 9_999.0, 2_500.0, 800.0])).tolist()
    ['urban', 'town', 'town', 'rural']
    """
    people = np.asarray(settlement_people, dtype=np.float64)
    return np.where(
        people >= URBAN_MIN_PEOPLE, "urban", np.where(people >= TOWN_MIN_PEOPLE, "town", "rural")
    ).astype(np.str_)


def unit_vectors(latitude: FloatArray, longitude: FloatArray) -> FloatArray:
    """Points on the unit sphere (n x 3), for k-d tree searches by chord length."""
    lat, lon = np.radians(latitude), np.radians(longitude)
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


def chord(km: FloatArray | float) -> FloatArray:
    """Chord length on the unit sphere of a great-circle distance in km."""
    return np.asarray(2.0 * np.sin(np.asarray(km) / (2.0 * EARTH_RADIUS_KM)), dtype=np.float64)


def footprint_km(people: FloatArray, density: float = FOOTPRINT_PEOPLE_PER_KM2) -> FloatArray:
    """Radius of a disc holding `people` at `density` per km².

    >>> round(float(footprint_km(np.array([8_961_989.0]))[0]), 1)
    23.9
    """
    return np.sqrt(np.asarray(people, dtype=np.float64) / (np.pi * density))


def parts_of_larger_places(latitude: FloatArray, longitude: FloatArray, population: FloatArray) -> BoolArray:
    """True for each place inside the footprint of a larger place that is itself kept.

    Largest first: a place kept claims every smaller place within its footprint,
    so a borough is counted once, in its city, and never twice.
    """
    n = len(population)
    if n == 0:
        return np.zeros(0, dtype=np.bool_)
    points = unit_vectors(latitude, longitude)
    tree = cKDTree(points)
    order = np.argsort(-population, kind="stable")
    radius = chord(footprint_km(population))
    # Only places whose footprint can reach another place need a search.
    nearest_other, _ = tree.query(points, k=2)
    reaching = radius >= nearest_other[:, 1]
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    claimed = np.zeros(n, dtype=np.bool_)
    for place in order:
        if claimed[place] or not reaching[place]:
            continue
        inside = np.asarray(tree.query_ball_point(points[place], radius[place]), dtype=np.int64)
        claimed[inside[rank[inside] > rank[place]]] = True
    return claimed


def reconcile_population(population: FloatArray, rurality: StrArray, total: float) -> tuple[FloatArray, str]:
    """Populations scaled so that they add up to `total`, and a sentence saying how.

    Listed places hold fewer people than live in a country: the rest live in
    hamlets and dispersed dwellings below the list's floor. That remainder is given
    to the rural areas in proportion to their people (each village stands for its
    parish), or to every area when there is none. When the places hold more people
    than the total (overlaps left), every area is scaled down alike.
    """
    listed = float(population.sum())
    if listed <= 0 or total <= 0:
        raise InvalidInput("cannot reconcile areas with no people, or with a total of 0")
    if listed >= total:
        factor = total / listed
        return population * factor, (
            f"listed places hold {listed:,.0f} people, more than the total {total:,.0f}: "
            f"every area scaled by {factor:.4f}"
        )
    rural = rurality == "rural"
    receivers = rural if population[rural].sum() > 0 else np.ones_like(rural)
    remainder = total - listed
    share = np.where(receivers, population / population[receivers].sum(), 0.0)
    where = "rural areas" if receivers is rural else "all areas"
    return population + remainder * share, (
        f"listed places hold {listed:,.0f} people of {total:,.0f}; the other {remainder:,.0f} "
        f"(outside every listed place) given to the {where} in proportion to their people"
    )


def nearest_labels(
    latitude: FloatArray,
    longitude: FloatArray,
    ref_latitude: FloatArray,
    ref_longitude: FloatArray,
    ref_labels: StrArray,
) -> StrArray:
    """The label of the nearest reference point of each point (regions from a network's areas)."""
    if len(ref_labels) == 0:
        return np.full(len(latitude), "", dtype=np.str_)
    tree = cKDTree(unit_vectors(ref_latitude, ref_longitude))
    _, index = tree.query(unit_vectors(latitude, longitude), k=1)
    return np.asarray(ref_labels)[np.asarray(index, dtype=np.int64)]
