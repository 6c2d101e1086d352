"""Placement tables prepared ahead of the hour: orders then find them built."""

from __future__ import annotations

import gc
import time
from datetime import UTC, datetime, timedelta

from rltnet.domain.orders import DoseOrder
from rltnet.service.platform import Platform
from rltnet.service.preparer import Preparer


def _order(platform: Platform, now: datetime) -> DoseOrder:
    centre = platform.network.centres["leeds"]
    product = platform.catalogue.therapy(centre.products[0])
    start = now + timedelta(days=15)
    return DoseOrder(
        order_id="probe",
        patient_id="probe",
        product_id=product.product_id,
        cycle=1,
        centre_id=centre.centre_id,
        earliest_at=start,
        latest_at=start + timedelta(days=14),
        preferred_at=start,
        prescribed=product.prescribe(80.0, None),
        placed_at=now,
        weight_kg=80.0,
    )


def test_an_order_in_a_prepared_hour_finds_its_tables_built(platform: Platform) -> None:
    # an hour two days ahead: no other test's orders use it
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=48)
    built = platform.placer.prepare(hour)
    assert built == sum(len(c.products) for c in platform.network.centres.values())
    before = platform.placer._cached_tables.cache_info()
    options, why = platform.placer.options(_order(platform, hour + timedelta(minutes=20)), hour)
    after = platform.placer._cached_tables.cache_info()
    assert options and why is None
    assert after.hits == before.hits + 1 and after.misses == before.misses


def test_the_preparer_builds_this_hours_tables_in_the_background_and_stops(platform: Platform) -> None:
    gc.unfreeze()
    preparer = Preparer(platform)
    misses = platform.placer._cached_tables.cache_info().misses
    preparer.start()
    deadline = time.monotonic() + 60
    while gc.get_freeze_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    preparer.stop()
    assert platform.placer._cached_tables.cache_info().misses > misses
    assert not preparer._thread.is_alive()
    # the tables built are out of the collector's sight: no full collection walks them under load
    assert gc.get_freeze_count() > 0
    gc.unfreeze()


def test_the_span_of_an_orders_ranked_options_covers_every_one_of_them(platform: Platform) -> None:
    now = datetime.now(UTC)
    ranked, why = platform.placer.options(_order(platform, now), now)
    options = list(ranked)
    assert why is None and len(options) == len(ranked) > 1
    first, last, first_batch, last_batch = ranked.span()
    assert all(first <= o.start_at and o.end_at <= last for o in options)
    assert all(first_batch <= o.batch_start_at <= last_batch and o.batch_start_at >= now for o in options)
    # the span is tight to a second: the reads it bounds stay small
    assert min(o.start_at for o in options) - first == timedelta(seconds=1)
    assert last - max(o.end_at for o in options) == timedelta(seconds=1)
