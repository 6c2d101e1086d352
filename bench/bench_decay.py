"""Decay of many doses: rltnet's vectorised path against radioactivedecay, in one run.

Prints the wall time of each, their ratio, and the largest relative difference.
Run: ``.venv/bin/python bench/bench_decay.py [--doses 10000]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import radioactivedecay as rd

from rltnet.domain import decay


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--doses", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    lu177 = decay.nuclide("Lu-177")
    calibration_bq = rng.uniform(5e9, 13e9, args.doses)
    elapsed_s = rng.uniform(0, 5 * 86_400, args.doses)

    peer_times, ours_times = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        peer = np.array(
            [
                rd.Inventory({"Lu-177": a}, "Bq").decay(t, "s").activities("Bq")["Lu-177"]
                for a, t in zip(calibration_bq, elapsed_s, strict=True)
            ]
        )
        peer_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        ours = decay.activity_bq(lu177, calibration_bq, elapsed_s)
        ours_times.append(time.perf_counter() - start)

    worst = float(np.max(np.abs(ours - peer) / peer))
    peer_s, ours_s = float(np.median(peer_times)), float(np.median(ours_times))
    print(f"doses: {args.doses}, median of {args.repeats} runs")
    print(f"radioactivedecay 0.6.1, one Inventory per dose: {peer_s:.3f} s")
    print(f"rltnet decay.activity_bq (numpy):            {ours_s * 1e3:.3f} ms")
    print(f"speed-up: {peer_s / ours_s:,.0f}x; largest relative difference: {worst:.1e}")


if __name__ == "__main__":
    main()
