"""Travel times: the default estimate from great-circle distance, and nearest-site searches.

The default car estimate (documented in docs/access.md):

1. great-circle (haversine) distance between the two points;
2. times a road circuity factor of 1.4: road distance over straight-line distance
   averaged about 1.4 from 66,000 US locations to their community hospitals
   (Boscoe, Henry and Zdeb, Prof Geogr 2012;64(2), doi:10.1080/00330124.2011.583586;
   the factor as recalled from that paper, not re-read here);
3. driven at a speed that rises with the trip's road length (ASSUMED bands, the
   first 10 km at 30 km/h through towns, the next 20 km at 45 km/h, the next 50 km
   at 65 km/h, the rest at 85 km/h on trunk roads and motorways);
4. public transport takes 69.4 / 29.1 = 2.385 times the car time: the ratio of the
   mean times to radiotherapy by public transport and by car in England (Han et al.,
   Radiother Oncol 2024;192:110092).

Every function takes and returns numpy arrays; whole matrices are built in row
chunks so that 50,000 areas x 500 sites never hold more than a chunk of float64s.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rltnet.domain.network import EARTH_RADIUS_KM

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

ROAD_CIRCUITY = 1.4  # Boscoe et al. 2012 (see the module docstring)
# (road km up to, km/h) - ASSUMED speed bands, each applying to the km inside it.
CAR_SPEED_BANDS: tuple[tuple[float, float], ...] = ((10.0, 30.0), (30.0, 45.0), (80.0, 65.0), (np.inf, 85.0))
# Han et al. 2024, England, mean time to radiotherapy: public transport 69.4 min, car 29.1 min.
PUBLIC_TRANSPORT_FACTOR = 69.4 / 29.1
MODES = ("car", "public_transport")
CHUNK_CELLS = 4_000_000  # cells of a matrix block: 32 MB of float64


@dataclass(frozen=True, slots=True)
class TravelModel:
    """How straight-line distance becomes minutes on the road."""

    circuity: float = ROAD_CIRCUITY
    speed_bands: tuple[tuple[float, float], ...] = CAR_SPEED_BANDS
    public_transport_factor: float = PUBLIC_TRANSPORT_FACTOR

    def car_minutes(self, straight_km: FloatArray) -> FloatArray:
        """Minutes by car for straight-line distances in km (any shape).

        >>> TravelModel().car_minutes(np.array([0.0, 10 / 1.4])).round(6).tolist()
        [0.0, 20.0]
        """
        road = np.asarray(straight_km, dtype=np.float64) * self.circuity
        minutes = np.zeros_like(road)
        lower = 0.0
        for upper, kmh in self.speed_bands:
            minutes += np.clip(road - lower, 0.0, upper - lower) * (60.0 / kmh)
            lower = upper
        return minutes

    def minutes(self, straight_km: FloatArray, mode: str = "car") -> FloatArray:
        car = self.car_minutes(straight_km)
        return car * self.public_transport_factor if mode == "public_transport" else car

    def road_km(self, straight_km: FloatArray) -> FloatArray:
        return np.asarray(straight_km, dtype=np.float64) * self.circuity


DEFAULT_MODEL = TravelModel()


def great_circle_km(lat_a: FloatArray, lon_a: FloatArray, lat_b: FloatArray, lon_b: FloatArray) -> FloatArray:
    """Haversine distances in km between every a (rows) and every b (columns).

    >>> great_circle_km(np.array([51.5085]), np.array([-0.1257]),
    ...                 np.array([53.4809]), np.array([-2.2374])).round().tolist()
    [[262.0]]
    """
    phi_a = np.radians(np.asarray(lat_a, dtype=np.float64))[:, None]
    phi_b = np.radians(np.asarray(lat_b, dtype=np.float64))[None, :]
    dphi = phi_b - phi_a
    dlmb = (
        np.radians(np.asarray(lon_b, dtype=np.float64))[None, :]
        - np.radians(np.asarray(lon_a, dtype=np.float64))[:, None]
    )
    h = np.sin(dphi / 2) ** 2 + np.cos(phi_a) * np.cos(phi_b) * np.sin(dlmb / 2) ** 2
    km: FloatArray = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return km


def row_chunks(rows: int, columns: int, cells: int = CHUNK_CELLS) -> Iterator[slice]:
    step = max(1, cells // max(columns, 1))
    for start in range(0, rows, step):
        yield slice(start, min(rows, start + step))


def estimated_minutes(
    lat_a: FloatArray,
    lon_a: FloatArray,
    lat_b: FloatArray,
    lon_b: FloatArray,
    mode: str = "car",
    model: TravelModel = DEFAULT_MODEL,
) -> FloatArray:
    """The whole estimated travel-time matrix in minutes (areas x sites), built in chunks."""
    out = np.empty((len(lat_a), len(lat_b)), dtype=np.float64)
    for rows in row_chunks(len(lat_a), len(lat_b)):
        out[rows] = model.minutes(great_circle_km(lat_a[rows], lon_a[rows], lat_b, lon_b), mode)
    return out


def nearest(minutes: FloatArray, allowed: npt.NDArray[np.bool_] | None = None) -> tuple[FloatArray, IntArray]:
    """Minutes to the nearest allowed column of each row and its index (inf and -1 when none)."""
    if minutes.shape[1] == 0 or (allowed is not None and not allowed.any()):
        return np.full(minutes.shape[0], np.inf), np.full(minutes.shape[0], -1, dtype=np.int64)
    columns = np.flatnonzero(allowed) if allowed is not None else np.arange(minutes.shape[1])
    block = minutes[:, columns]
    best = np.argmin(block, axis=1)
    found = block[np.arange(len(block)), best]
    index = np.where(np.isfinite(found), columns[best], -1)
    return found, index.astype(np.int64)
