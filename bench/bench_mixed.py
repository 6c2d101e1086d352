"""Mixed load on `rltnet serve`: 200 requests at once of every kind, on SQLite and PostgreSQL.

Each run creates an empty database, takes patients to MDT approval in-process,
starts `rltnet serve --workers 2`, places 40 orders, and then sends at once 80
reads (centres, orders, the plan, appointments), 60 new orders, 25 cancellations,
25 adjustments (some of orders being cancelled at the same moment) and 10
re-optimisations that commit (`tests/support/mixed_load.py`, the same load as the
suite's test in tests/service/test_load.py). It prints, per database and run: the
requests, how many were sent again after a dropped connection and how many got no
answer even then, the 5xx, each kind's statuses, p50/p99/max
latency, the burst's wall time, and the counters recounted from the orders
(every batch's booked doses, every centre-day's activity, every chair). Run:

    .venv/bin/python bench/bench_mixed.py [--databases sqlite postgresql] [--runs 3]
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from mixed_load import Mix, Outcome, run

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _once(database: str, mix: Mix) -> Outcome:
    with tempfile.TemporaryDirectory() as folder:
        if database == "sqlite":
            return run(f"sqlite:///{folder}/rltnet.sqlite", Path(folder), mix)
        name = f"rltnet_bench_{secrets.token_hex(4)}"
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            return run(f"{POSTGRES_ADMIN.rsplit('/', 1)[0]}/{name}", Path(folder), mix)
        finally:
            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    mix = Mix()
    columns = (
        "database",
        "run",
        "requests",
        "resent",
        "unanswered",
        "5xx",
        "p50 s",
        "p99 s",
        "max s",
        "burst s",
    )
    print("| " + " | ".join((*columns, "statuses", "counters")) + " |")
    print("|" + "---|" * (len(columns) + 2))
    for database in args.databases:
        for index in range(1, args.runs + 1):
            o = _once(database, mix)
            statuses = "; ".join(
                f"{kind} " + ", ".join(f"{n}x{code}" for code, n in sorted(found.items()))
                for kind, found in sorted(o.by_status().items())
            )
            counters = (
                f"{o.orders_checked} orders, {o.batches_checked} batch, "
                f"{o.centre_days_checked} centre-days, chairs: all match"
            )
            print(
                f"| {database} | {index} | {len(o.sent)} | {len(o.resent)} | {len(o.unanswered)} | "
                f"{len(o.server_errors)} | "
                f"{o.p(0.5):.2f} | {o.p(0.99):.2f} | {o.p(1.0):.2f} | {o.wall_s:.1f} | {statuses} | "
                f"{counters} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
