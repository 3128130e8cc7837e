"""Benchmark ``PUT /campaigns/{id}/objects`` through the real HTTP stack on PostgreSQL.

One PUT with 10 boxes per image for a campaign of 100 images and one of
1,000 images (each repeated on fresh campaigns; the median is reported),
served by Django's WSGI application in a wsgiref server thread and sent with
``requests``. Prints wall time and query count per size and their ratio.
Goal: the same query count for both sizes and t(1000)/t(100) <= 12.

    .venv/bin/python bench/objects.py [--server postgres://postgres@127.0.0.1:5432] [--repeat 3] [--history N]

``--history N`` first submits the same images N times (through the service,
reopening the campaign each time), so the measured PUT also deletes the
revisions past ``SUBMISSION_REVISIONS_KEPT`` (default 20): with N >= 21 each
image holds 21 revisions and one of them goes, as for an agency that keeps
resubmitting.

It creates its own database ``labelhub_bench_objects`` on that server and
drops it afterwards; no other database is touched.

Measured on the development machine (2 cores, PostgreSQL 15, median of 3):

     images  objects   wall s  queries
        100     1000    0.13-0.17      9
       1000    10000    0.83-0.92      9
    t(1000)/t(100) = 5.0-6.8, the same 9 queries for both sizes (8 before
    the DELETE of revisions past SUBMISSION_REVISIONS_KEPT; with --history 21:
    0.09 s / 0.92 s, ratio 10.0, the same 9 queries).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

BASE_DIR = Path(__file__).resolve().parent.parent
DB_NAME = "labelhub_bench_objects"
SIZES = (100, 1000)
BOXES_PER_IMAGE = 10
GOAL_RATIO = 12


def recreate_database(server: str, *, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def setup_django(server: str) -> None:
    os.environ["DATABASE_URL"] = f"{server}/{DB_NAME}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
    os.environ["DJANGO_DEBUG"] = "0"  # DEBUG would record every query in memory
    os.environ.setdefault("DJANGO_SECRET_KEY", "labelhub-bench-objects-only")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_Q_SYNC"] = "1"
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - wsgiref's signature
        pass


class Measured:
    """Wraps the WSGI app: counts the queries and the server time of each request."""

    def __init__(self, app):
        self.app = app
        self.queries = 0
        self.seconds = 0.0

    def __call__(self, environ, start_response):
        from django.db import connection

        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            response = self.app(environ, start_response)
            try:
                body = b"".join(response)  # Django builds the response in app(), not while streaming
            finally:
                response.close()  # fires request_finished, as a real server does
        self.seconds = time.perf_counter() - started
        self.queries = count
        return [body]


def make_campaign(size: int, admin) -> tuple[int, list[int]]:
    from campaigns.models import Campaign, CampaignImage
    from imagesets.models import Image, ImageSet

    campaign = Campaign.objects.create(
        title=f"bench-{size}-{time.monotonic_ns()}", status=Campaign.Status.ACTIVE, created_by=admin
    )
    imageset = ImageSet.objects.create(title=f"set-{campaign.pk}", status=ImageSet.Status.FINISHED)
    images = Image.objects.bulk_create(
        Image(
            imageset=imageset,
            blobstorage_path=f"images/uploads/{imageset.title}/{i}.png",
            filetype="PNG",
            width=4000,
            height=3000,
            filesize=1000,
        )
        for i in range(size)
    )
    CampaignImage.objects.bulk_create(CampaignImage(campaign=campaign, image=image) for image in images)
    return campaign.pk, [image.pk for image in images]


def body_for(image_ids: list[int]) -> bytes:
    return json.dumps(
        [
            {
                "image_id": image_id,
                "objects": [
                    {
                        "label": f"label-{b % 4}",
                        "confidence": 0.5 + b / 100,
                        "bounding_box": {"xmin": 10 * b, "xmax": 10 * b + 50, "ymin": 5 * b, "ymax": 5 * b + 40},
                    }
                    for b in range(BOXES_PER_IMAGE)
                ],
            }
            for image_id in image_ids
        ]
    ).encode()


def make_history(campaign_id: int, body: bytes, rounds: int) -> None:
    from campaigns.inputs import parse_object_items
    from campaigns.models import Campaign
    from campaigns.services import objects_replace

    objects_by_image = parse_object_items(json.loads(body))
    for _ in range(rounds):
        objects_replace(campaign_id=campaign_id, objects_by_image=objects_by_image, user=None)
        Campaign.objects.filter(pk=campaign_id).update(status=Campaign.Status.ACTIVE)


def run(repeat: int, history: int = 0) -> bool:
    import requests
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    from accounts.models import User
    from accounts.services import apikey_issue
    from campaigns.models import BoundingBox, Campaign

    admin = User.objects.create_user(email="bench-admin@example.com", is_staff=True)
    issued = apikey_issue(user=admin)
    headers = {
        "Authentication-Key": issued.apikey,
        "Authentication-Secret": issued.secret,
        "Content-Type": "application/json",
    }

    app = Measured(get_wsgi_application())
    httpd = make_server("127.0.0.1", 0, app, server_class=WSGIServer, handler_class=QuietHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_port}/api/v1"
    session = requests.Session()
    try:
        session.get(f"{base}/campaigns", headers=headers).raise_for_status()  # warm up: connection, key use

        results = {}
        for size in SIZES:
            runs = []
            for _ in range(repeat):
                campaign_id, image_ids = make_campaign(size, admin)
                body = body_for(image_ids)
                make_history(campaign_id, body, history)
                started = time.perf_counter()
                response = session.put(f"{base}/campaigns/{campaign_id}/objects", data=body, headers=headers)
                wall = time.perf_counter() - started
                assert response.status_code == 200, response.text[:500]
                kept = 1 + min(history, settings.SUBMISSION_REVISIONS_KEPT)
                stored = BoundingBox.objects.filter(campaign_image__campaign_id=campaign_id).count()
                assert stored == size * BOXES_PER_IMAGE * kept, stored
                assert Campaign.objects.get(pk=campaign_id).status == Campaign.Status.COMPLETED
                runs.append((wall, app.seconds, app.queries, len(body)))
            results[size] = runs
    finally:
        httpd.shutdown()
        httpd.server_close()

    print(
        f"PUT /campaigns/{{id}}/objects, {BOXES_PER_IMAGE} boxes per image, PostgreSQL, "
        f"median of {repeat} run(s), after {history} earlier submission(s) of the same images"
    )
    print(f"{'images':>7} {'objects':>8} {'body':>9} {'wall s':>8} {'server s':>9} {'queries':>8}")
    medians = {}
    for size, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        server = statistics.median(r[1] for r in runs)
        queries = sorted({r[2] for r in runs})
        medians[size] = (wall, server, queries)
        print(
            f"{size:>7} {size * BOXES_PER_IMAGE:>8} {runs[0][3] / 1e6:>7.2f}MB {wall:>8.3f} {server:>9.3f} "
            f"{','.join(map(str, queries)):>8}"
        )
    small, large = SIZES
    ratio = medians[large][0] / medians[small][0]
    server_ratio = medians[large][1] / medians[small][1]
    same_queries = medians[small][2] == medians[large][2] and len(medians[small][2]) == 1
    print(
        f"t({large})/t({small}) = {ratio:.2f} wall, {server_ratio:.2f} server (goal <= {GOAL_RATIO}); "
        f"query count {'the same' if same_queries else 'DIFFERS'}"
    )
    ok = same_queries and ratio <= GOAL_RATIO
    print("goal met" if ok else "goal NOT met")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--server",
        default=os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without a database name",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--history", type=int, default=0, help="earlier submissions of the same images")
    args = parser.parse_args()
    server = args.server.rstrip("/")

    recreate_database(server)
    try:
        setup_django(server)
        ok = run(args.repeat, args.history)
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001 - Django may not be set up yet
            pass
        recreate_database(server, drop_only=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
