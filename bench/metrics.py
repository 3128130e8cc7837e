"""The domain gauges of /metrics on a large campaign: the one aggregate query's time, and its plan.

    .venv/bin/python bench/metrics.py [--images 100000] [--boxes-per-image 10] [--runs 20] [--keep]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432 .venv/bin/python bench/metrics.py

The campaign is bench/review.py's (``load_campaign``: every image labeled at
least once, a tenth revised twice, 2 % rejected and awaiting labeling again;
at 100,000 images 1,200,000 boxes, 1,000,000 of them current). The database
is SQLite unless DATABASE_URL names a PostgreSQL server (then a database
``labelhub_bench_metrics`` is created for the run and dropped after it).

Reported: median and p95 (nearest rank) of ``campaigns.metrics.domain_gauges()``
over ``--runs`` runs with the cache out of the way (each one is a scrape
after the cache interval), its query count, the gauges, and the plan.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from benchdb import bench_database
from review import after_load, load_campaign, setup_django

BENCH_DATABASE = "labelhub_bench_metrics"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--boxes-per-image", type=int, default=10)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    with bench_database(BENCH_DATABASE, prefix="labelhub-bench-metrics-", keep=args.keep) as (db_url, vendor):
        print(f"database: {vendor}", flush=True)
        setup_django(db_url)
        return run(args, vendor)


def run(args, vendor: str) -> int:
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from campaigns.metrics import domain_gauges

    call_command("migrate", verbosity=0)
    staff = User.objects.create_superuser(email="bench-metrics@example.com")
    agency = User.objects.create_user(email="agency@example.com")
    start = datetime.now(UTC) - timedelta(days=60)
    started = time.perf_counter()
    loaded = load_campaign(
        images=args.images, per_image=args.boxes_per_image, start=start, reviewer=staff, agency=agency
    )
    after_load()
    print(f"loaded {args.images:,} images, {loaded['boxes']:,} boxes in {time.perf_counter() - started:.1f} s")

    domain_gauges()  # warm: the first read of the tables
    seconds = []
    for _ in range(args.runs):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            gauges = domain_gauges()
            seconds.append(time.perf_counter() - began)
    seconds.sort()
    p95 = seconds[max(0, round(0.95 * len(seconds)) - 1)]
    print(
        f"{vendor}: domain_gauges() median {statistics.median(seconds) * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms, {len(queries)} query"
    )
    for gauge in gauges:
        print(f"  {gauge.name} {list(gauge.samples)}")
    sql = queries[0]["sql"]
    explain = "EXPLAIN ANALYZE " if vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(explain + sql)
        print("\n".join(" | ".join(str(c) for c in row) for row in cursor.fetchall()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
