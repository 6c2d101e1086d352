"""Shared fixtures: the shipped catalogue, its therapies, and a small valid network document.

The network document is built here in code, not read from the demo files, so the
loader tests say exactly what they feed in.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from rltnet.domain.products import Catalogue, TherapyProduct
from rltnet.files.catalogue_file import default_catalogue

Document = dict[str, Any]
WriteYaml = Callable[[Document, str], Path]


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return default_catalogue()


@pytest.fixture(scope="session")
def pluvicto(catalogue: Catalogue) -> TherapyProduct:
    return catalogue.therapy("Pluvicto")


@pytest.fixture(scope="session")
def lutathera(catalogue: Catalogue) -> TherapyProduct:
    return catalogue.therapy("Lutathera")


@pytest.fixture(scope="session")
def xofigo(catalogue: Catalogue) -> TherapyProduct:
    return catalogue.therapy("Xofigo")


@pytest.fixture(scope="session")
def zevalin(catalogue: Catalogue) -> TherapyProduct:
    return catalogue.therapy("Zevalin")


def small_network_document() -> Document:
    """One reactor, two production sites, two centres, three lanes: every section used once."""
    return {
        "name": "Test network",
        "description": "A small network for the loader tests.",
        "provenance": {
            "real": ["reactor and site locations"],
            "assumed": ["delivery per day"],
            "sources": ["test fixture"],
        },
        "reactors": [
            {
                "id": "hfr-petten",
                "name": "High Flux Reactor, Petten",
                "location": {"lat": 52.7867, "lon": 4.6796},
                "nuclides": ["Lu-177"],
                "delivery": "900 GBq",
                "delivery_weekdays": ["mon", "thu"],
                "cycles": {
                    "first_start": date(2026, 1, 5),
                    "every": "28 d",
                    "operating": "24 d",
                    "until": date(2026, 12, 31),
                },
                "outages": [
                    {
                        "start": "2026-02-09T00:00+01:00",
                        "end": "2026-02-20T00:00+01:00",
                        "reason": "primary circuit leak",
                    }
                ],
                "source": "test fixture",
            }
        ],
        "production_sites": [
            {
                "id": "ivrea",
                "name": "AAA Ivrea",
                "location": {"lat": 45.4672, "lon": 7.8762},
                "country": "IT",
                "time_zone": "Europe/Rome",
                "products": ["lu177-vipivotide-tetraxetan", "lu177-oxodotreotide"],
                "production_weekdays": "mon-fri",
                "batch_times": ["06:00"],
                "doses_per_batch": 120,
                "qc_release": "8 h",
                "reactors": ["hfr-petten"],
                "calibration": "at_administration",
            },
            {
                "id": "zaragoza",
                "name": "AAA Zaragoza",
                "location": {"lat": 41.6488, "lon": -0.8891},
                "country": "ES",
                "time_zone": "Europe/Madrid",
                "products": ["lu177-oxodotreotide"],
                "production_weekdays": ["tue", "thu"],
                "batch_times": ["05:30", "13:00"],
                "doses_per_batch": 60,
                "qc_release": "6 h",
                "reactors": ["hfr-petten"],
            },
        ],
        "lanes": [
            {
                "id": "ivrea-leeds",
                "from": "ivrea",
                "to": "leeds",
                "mode": "air",
                "transit": "22 h",
                "cutoffs": ["15:00"],
                "weekdays": "mon-fri",
                "reliability": 0.97,
            },
            {
                "id": "ivrea-london",
                "from": "ivrea",
                "to": "london-rfh",
                "mode": "air",
                "transit": "20 h",
                "cutoffs": ["14:00", "16:30"],
                "weekdays": "mon-fri",
                "reliability": 0.98,
            },
            {
                "id": "zaragoza-london",
                "from": "zaragoza",
                "to": "london-rfh",
                "mode": "road",
                "transit": "30 h",
                "cutoffs": ["12:00"],
                "weekdays": ["tue", "thu"],
                "reliability": 0.9,
            },
        ],
        "centres": [
            {
                "id": "leeds",
                "name": "Leeds (St James's University Hospital)",
                "location": {"lat": 53.7965, "lon": -1.5478},
                "region": "North East and Yorkshire",
                "country": "GB",
                "subdivision": "ENG",
                "time_zone": "Europe/London",
                "chairs": 4,
                "bed_kind": "chair",
                "opening": {"weekdays": "mon-fri", "opens": "08:00", "closes": "18:00"},
                "daily_activity_limit": "60 GBq",
                "mdt_weekday": "wed",
                "products": ["lu177-oxodotreotide", "lu177-vipivotide-tetraxetan"],
                "pet_scanners": [
                    {
                        "id": "pet-1",
                        "tracers": ["ga68-dotatate", "ga68-gozetotide"],
                        "slots_per_day": 8,
                    }
                ],
                "staff": [
                    {
                        "id": "leeds-ap-1",
                        "role": "authorised_practitioner",
                        "weekdays": "mon-fri",
                        "licences": [
                            {
                                "kind": "ARSAC practitioner licence",
                                "covers": ["Lu-177"],
                                "expires_on": date(2029, 3, 31),
                            }
                        ],
                    },
                    {"id": "leeds-nurse-1", "role": "nurse", "weekdays": ["mon", "tue"]},
                ],
            },
            {
                "id": "london-rfh",
                "name": "London (Royal Free Hospital)",
                "location": {"lat": 51.5533, "lon": -0.1652},
                "region": "London",
                "country": "GB",
                "subdivision": "ENG",
                "time_zone": "Europe/London",
                "chairs": 2,
                "bed_kind": "shielded_bed",
                "opening": {"weekdays": "mon-thu", "opens": "09:00", "closes": "17:00"},
                "daily_activity_limit": "30 GBq",
                "mdt_weekday": "tue",
                "products": ["lu177-vipivotide-tetraxetan"],
            },
        ],
        "demand": {
            "incidence": [
                {
                    "indication": "GEP-NET",
                    "per_100k_per_year": 4.6,
                    "eligible_fraction": 0.2,
                    "product": "lu177-oxodotreotide",
                    "source": "test fixture",
                }
            ],
            "areas": [
                {
                    "id": "gn-2643743",
                    "name": "London",
                    "location": {"lat": 51.50853, "lon": -0.12574},
                    "population": 8961989,
                    "region": "London",
                },
                {
                    "id": "gn-2644688",
                    "name": "Leeds",
                    "location": {"lat": 53.79648, "lon": -1.54785},
                    "population": 455123,
                    "region": "North East and Yorkshire",
                },
            ],
        },
    }


@pytest.fixture
def network_document() -> Document:
    """A fresh copy of the small valid network document, free to change in a test."""
    return copy.deepcopy(small_network_document())


@pytest.fixture
def write_yaml(tmp_path: Path) -> WriteYaml:
    """Write a document as YAML under `tmp_path` and return the file's path."""

    def write(document: Document, name: str) -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        return path

    return write
