"""Exporting a finished campaign: time and peak memory of the export job and of ``labels.csv``.

    .venv/bin/python bench/export.py [--sizes 10000,100000] [--objects-per-image 10] [--no-predictions] [--keep]

Runs on PostgreSQL in its own database (``labelhub_bench_export`` on
``postgres://postgres@127.0.0.1:5432`` unless ``BENCH_DATABASE_URL`` names
another), which it creates, migrates and drops at the end (``--keep`` keeps
it). For every size it loads, with ``INSERT ... SELECT generate_series``
inside PostgreSQL, a finished campaign of that many 1920x1080 images, each
labeled with ``--objects-per-image`` current objects plus one superseded
earlier submission on every tenth image (which the export must skip), and
(unless ``--no-predictions``) a model's predictions for every image: its
current boxes, every second one moved by 3 px and every fifth relabeled, so
the export's comparison step has as many predicted boxes to match.

Each measurement then runs in a fresh Python process, so its peak RSS
(``getrusage(RUSAGE_SELF).ru_maxrss``) belongs to that run alone:

- ``job``: the export job (``campaign_export_run``) with local storage in a
  temporary MEDIA_ROOT and Azure ML not configured — labels CSV, AutoML
  JSONL + MLTable, COCO, images MLTable, the YOLO and Pascal VOC zips and
  the predictions comparison (each step's seconds are printed);
- ``csv``: ``GET /api/v1/campaigns/{id}/labels.csv`` through Django's test
  client with an admin API key, consuming the streamed response.

``baseline`` is the process's RSS after Django and the app are loaded, just
before the measured work; ``peak`` the highest RSS of the whole process.
Goals: the CSV (both the job's CSV step and the endpoint) in under 20 s,
peak RSS under 200 MB, and no growth of peak RSS with the campaign size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from benchdb import LABELS, drop_database, recreate_database

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/labelhub_bench_export"
GOAL_CSV_SECONDS = 20.0
GOAL_PEAK_MB = 200.0


def bench_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    name = urlsplit(url).path.lstrip("/")
    if not name or name == "test" or not name.startswith("labelhub_bench"):
        raise SystemExit(f"refusing to use database {name!r}: the benchmark's database name starts with labelhub_bench")
    return url


def child_env(url: str, media_root: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_ML_")}
    env.update(
        {
            "DATABASE_URL": url,
            "DJANGO_DEBUG": "0",  # DEBUG would keep every query in memory
            "DJANGO_SECRET_KEY": env.get("DJANGO_SECRET_KEY", "labelhub-bench-secret-key-not-for-production"),
            "DJANGO_ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
            "STORAGE_BACKEND": "local",
            "MEDIA_ROOT": media_root,
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


# --- the database ------------------------------------------------------------------


def setup_django(url: str, media_root: str) -> None:
    os.environ.update(child_env(url, media_root))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
    import django

    django.setup()


def load_campaign(*, images: int, per_image: int, predictions: bool = True) -> int:
    """A finished campaign of ``images`` images with ``per_image`` current objects each; returns its id."""
    from django.db import connection

    from campaigns.models import BoundingBox, Campaign
    from imagesets.models import ImageSet

    # Column names as the model maps them (xmin/xmax are PostgreSQL system column names).
    box = ", ".join(BoundingBox._meta.get_field(name).column for name in ("xmin", "xmax", "ymin", "ymax"))

    title = f"bench-{images}"
    imageset = ImageSet.objects.create(
        title=f"set-{images}", status=ImageSet.Status.FINISHED, blobstorage_path=f"images/uploads/set-{images}"
    )
    campaign = Campaign.objects.create(title=title, status=Campaign.Status.FINISHED)
    labels = "ARRAY[" + ",".join("'" + label.replace("'", "''") + "'" for label in LABELS) + "]"
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            """
            INSERT INTO imagesets_image (blobstorage_path, filetype, content_type, filesize, width, height,
                                         date_added, imageset_id, date_taken_by_hand, location_by_hand)
            SELECT format('images/uploads/set-%%s/IMG_%%s.jpg', %(images)s, lpad(g::text, 7, '0')),
                   'JPEG', 'image/jpeg', 2000000 + g, 1920, 1080, now(), %(imageset)s, false, false
            FROM generate_series(1, %(images)s) AS g
            """,
            {"images": images, "imageset": imageset.pk},
        )
        # One submission per 100 images (as a labeler's PUT of a page), and
        # an earlier, superseded one for every tenth image.
        cursor.execute(
            """
            INSERT INTO campaigns_submission (campaign_id, image_count, object_count, date_created)
            SELECT %(campaign)s, 100, 100 * %(per)s, now() FROM generate_series(1, %(subs)s)
            """,
            {"campaign": campaign.pk, "per": per_image, "subs": 2 * ((images + 99) // 100)},
        )
        # Fresh statistics before each join, or the planner sizes the next
        # campaign's joins by the previous (smaller) one.
        cursor.execute("ANALYZE imagesets_image, campaigns_submission")
        cursor.execute(
            """
            WITH img AS (
                SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM imagesets_image WHERE imageset_id = %(imageset)s
            ), sub AS (
                SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM campaigns_submission WHERE campaign_id = %(campaign)s
            )
            INSERT INTO campaigns_campaignimage (campaign_id, image_id, labeled, date_labeled, current_submission_id)
            SELECT %(campaign)s, img.id, true, now(), sub.id
            FROM img JOIN sub ON sub.n = %(old)s + img.n / 100
            """,
            {"imageset": imageset.pk, "campaign": campaign.pk, "old": (images + 99) // 100},
        )
        cursor.execute("ANALYZE campaigns_campaignimage")
        cursor.execute(
            f"""
            INSERT INTO campaigns_boundingbox (campaign_image_id, submission_id, label, label_original, confidence,
                                                {box}, position, date_added)
            SELECT ci.id, ci.current_submission_id, lbl, lbl, round(random()::numeric, 3)::float,
                   x, x + (random() * (1919 - x))::int, y, y + (random() * (1079 - y))::int, p, now()
            FROM campaigns_campaignimage ci
            CROSS JOIN LATERAL (
                SELECT p, ({labels})[1 + (random() * {len(LABELS) - 1})::int] AS lbl,
                       (random() * 1900)::int AS x, (random() * 1060)::int AS y
                FROM generate_series(0, %(last)s) AS p
                WHERE ci.id > 0
            ) AS o
            WHERE ci.campaign_id = %(campaign)s
            """,
            {"campaign": campaign.pk, "last": per_image - 1},
        )
        cursor.execute(
            f"""
            WITH ci AS (
                SELECT id, image_id, row_number() OVER (ORDER BY image_id) - 1 AS n
                FROM campaigns_campaignimage WHERE campaign_id = %(campaign)s
            ), sub AS (
                SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM campaigns_submission WHERE campaign_id = %(campaign)s
            )
            INSERT INTO campaigns_boundingbox (campaign_image_id, submission_id, label, label_original, confidence,
                                                {box}, position, date_added)
            SELECT ci.id, sub.id, 'Superseded', 'Superseded', 0.5, 0, 10, 0, 10, 0, now()
            FROM ci JOIN sub ON sub.n = ci.n / 100
            WHERE ci.n %% 10 = 0
            """,
            {"campaign": campaign.pk},
        )
        if predictions:
            load_predictions(cursor, campaign_id=campaign.pk, images=images, box=box)
        cursor.execute("ANALYZE")
    return campaign.pk


def load_predictions(cursor, *, campaign_id: int, images: int, box: str) -> None:
    """One model submission predicting every image: its current boxes, some moved, some relabeled."""
    cursor.execute(
        """
        INSERT INTO campaigns_submission (campaign_id, image_count, object_count, date_created, source,
                                          model_name, model_version)
        VALUES (%(campaign)s, %(images)s, 0, now(), 'model', 'bench-model', '1') RETURNING id
        """,
        {"campaign": campaign_id, "images": images},
    )
    submission_id = cursor.fetchone()[0]
    xmin, xmax, ymin, ymax = box.split(", ")
    cursor.execute(
        f"""
        INSERT INTO campaigns_boundingbox (campaign_image_id, submission_id, label, label_original, confidence,
                                            {box}, position, date_added)
        SELECT b.campaign_image_id, %(submission)s,
               CASE WHEN b.position %% 5 = 0 THEN 'Predicted' ELSE b.label END, b.label_original, 0.9,
               b.{xmin}, CASE WHEN b.position %% 2 = 0 THEN LEAST(b.{xmax} + 3, 1920) ELSE b.{xmax} END,
               b.{ymin}, b.{ymax}, b.position, now()
        FROM campaigns_boundingbox b
        JOIN campaigns_campaignimage ci ON ci.id = b.campaign_image_id AND b.submission_id = ci.current_submission_id
        WHERE ci.campaign_id = %(campaign)s
        """,
        {"campaign": campaign_id, "submission": submission_id},
    )


# --- one measurement per process -------------------------------------------------------------


def rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def measure(kind: str, campaign_id: int) -> dict:
    from campaigns.export.services import campaign_export_run
    from campaigns.models import CampaignJob

    if kind == "job":
        CampaignJob.objects.filter(campaign_id=campaign_id).delete()
        baseline = rss_mb()
        started = time.perf_counter()
        job = campaign_export_run(campaign_id=campaign_id)
        seconds = time.perf_counter() - started
        result = job.result
        return {
            "seconds": seconds,
            "baseline_mb": baseline,
            "peak_mb": rss_mb(),
            "steps": result["seconds"],
            "files": {f["path"].rsplit("/", 1)[1]: f["size"] for f in result["files"]},
            "images": result["images"],
            "objects": result["objects"],
            "predictions": result.get("predictions"),
        }

    from rest_framework.test import APIClient

    from accounts.services import apikey_issue
    from accounts.tests.factories import UserFactory

    admin = UserFactory(email=f"bench-admin-{uuid.uuid4().hex[:8]}@example.com", is_staff=True)
    issued = apikey_issue(user=admin)
    client = APIClient()
    client.credentials(HTTP_AUTHENTICATION_KEY=issued.apikey, HTTP_AUTHENTICATION_SECRET=issued.secret)
    baseline = rss_mb()
    started = time.perf_counter()
    response = client.get(f"/api/v1/campaigns/{campaign_id}/labels.csv")
    size = rows = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        rows += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    response.close()
    assert response.status_code == 200, response.status_code
    return {"seconds": seconds, "baseline_mb": baseline, "peak_mb": rss_mb(), "bytes": size, "rows": rows - 1}


def run_child(kind: str, campaign_id: int, url: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="labelhub-bench-export-") as media_root:
        out = subprocess.run(
            [sys.executable, __file__, "--measure", kind, "--campaign", str(campaign_id)],
            env=child_env(url, media_root),
            capture_output=True,
            text=True,
            check=False,
        )
    if out.returncode != 0:
        raise SystemExit(f"measurement {kind} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="campaign sizes in images, comma-separated")
    parser.add_argument("--objects-per-image", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--no-predictions", action="store_true", help="load no model predictions")
    parser.add_argument("--measure", choices=["job", "csv"], help=argparse.SUPPRESS)
    parser.add_argument("--campaign", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = bench_url()

    if args.measure:
        setup_django(url, os.environ["MEDIA_ROOT"])
        print(json.dumps(measure(args.measure, args.campaign)))
        return 0

    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"database {urlsplit(url).path.lstrip('/')} (created for this run)")
    recreate_database(url)
    try:
        with tempfile.TemporaryDirectory() as media_root:
            setup_django(url, media_root)
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
            campaigns = {}
            for size in sizes:
                started = time.perf_counter()
                campaigns[size] = load_campaign(
                    images=size, per_image=args.objects_per_image, predictions=not args.no_predictions
                )
                print(
                    f"loaded {size:,} images / {size * args.objects_per_image:,} current objects "
                    f"in {time.perf_counter() - started:.1f} s"
                )
        from django.db import connections

        connections.close_all()

        results = []
        for size in sizes:
            for kind in ("job", "csv"):
                result = run_child(kind, campaigns[size], url)
                results.append((size, kind, result))
                print(
                    f"{kind:>4} {size:>7,} images: {result['seconds']:6.1f} s  "
                    f"peak {result['peak_mb']:6.1f} MB (baseline {result['baseline_mb']:5.1f} MB)"
                    + (f"  steps {result['steps']}" if kind == "job" else f"  {result['bytes']:,} bytes")
                )
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            drop_database(url)

    print()
    print("| images | objects | measurement | seconds | peak RSS MB | baseline RSS MB |")
    print("| ---: | ---: | --- | ---: | ---: | ---: |")
    for size, kind, result in results:
        label = "export job (all files)" if kind == "job" else "GET labels.csv (streamed)"
        print(
            f"| {size:,} | {size * args.objects_per_image:,} | {label} | {result['seconds']:.1f} | "
            f"{result['peak_mb']:.0f} | {result['baseline_mb']:.0f} |"
        )
        if kind == "job":
            for step, seconds in result["steps"].items():
                print(f"| {size:,} | {size * args.objects_per_image:,} | job: {step} step | {seconds:.1f} | | |")
    for size, kind, result in results:
        if kind == "job":
            print(f"\n{size:,} images: files {result['files']}")
            print(f"{size:,} images: predictions {result['predictions']}")

    ok = True
    for _size, kind, result in results:
        csv_seconds = result["steps"]["labels_csv"] if kind == "job" else result["seconds"]
        if csv_seconds > GOAL_CSV_SECONDS or result["peak_mb"] > GOAL_PEAK_MB:
            ok = False
    peaks = {kind: [r["peak_mb"] for s, k, r in results if k == kind] for kind in ("job", "csv")}
    growth = {kind: max(v) - min(v) for kind, v in peaks.items() if v}
    print(
        f"\npeak RSS growth from {sizes[0]:,} to {sizes[-1]:,} images: "
        + ", ".join(f"{k} {v:+.1f} MB" for k, v in growth.items())
    )
    print("goals met" if ok else "GOALS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
