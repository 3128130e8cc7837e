"""Reading reviews and vendor statistics of a large campaign: wall time and SQL queries per request.

    .venv/bin/python bench/review.py [--images 100000] [--small 1000] [--boxes-per-image 10]
                                     [--runs 20] [--explain] [--keep]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432 .venv/bin/python bench/review.py

The database is SQLite (a file in a temporary folder) unless DATABASE_URL
names a PostgreSQL server: then a database ``labelhub_bench_review`` on that
server is created for the run and dropped after it (``--keep`` keeps either
and prints where).

Two campaigns are loaded straight into the tables (``COPY`` on PostgreSQL,
``executemany`` on SQLite; no API, no service), a small one (``--small``
images) and a large one (``--images``), each labeled by an agency of its own
with ``--boxes-per-image`` boxes per image, and shaped as a delivery under
review (``i`` is the image's position):

- every image's first revision arrives in a submission of 100 images, spread
  over 40 days from the campaign's activation;
- a tenth of the images (``i % 10 == 0``) have 3 revisions, each holding its
  boxes (all kept, as ``SUBMISSION_REVISIONS_KEPT`` keeps 20): half of them
  were rejected, resubmitted (``date_reworked``), corrected once more and
  accepted; the other half were corrected twice by the agency and await review;
- a quarter more (``i % 10 in (1, 2)`` or ``i % 20 == 3``) were reviewed once:
  accepted, except 2 % (``i % 50 == 1``) rejected and not resubmitted yet;
- the rest (65 %) await review.

At 100,000 images: 1,200,000 boxes (1,000,000 current), 1,200 submissions,
35,000 decisions, 28,000 images accepted, 2,000 rejected, 70,000 pending.

5 % of the images are gold (``i % 20 == 0``, those revised three times):
each gets a reference made from its current boxes (one shifted by 8 px, the
last left out, one more added) and a score per revision, computed by
``campaigns.scoring`` as ``objects_replace`` would (the third one the
latest): at 100,000 images 5,000 gold images, 50,000 reference boxes,
15,000 scores.

Then, through Django's test client in this process (an image-admin's API key,
the agency's key, a staff session for the admin), each request is sent once
to warm up and ``--runs`` times measured; each measured run is wrapped in
``CaptureQueriesContext``. Reported per request and campaign: median and p95
(nearest rank) wall time, SQL queries, and the slowest query's ``execute`` in the last run.
A request must make as many queries on the large campaign as on the small
one, or the benchmark fails. The later page of ``/reviews`` is page 20 with
1,000 per page on the large campaign, and page 20 with a per-page scaled to
the small campaign's size there (a page past the end takes another path).

``--explain`` runs each request's queries on the large campaign once more,
fetching every row (``CaptureQueriesContext`` times the ``execute`` call
only, which on SQLite leaves the fetching out), and prints the three slowest
with their plans (``EXPLAIN ANALYZE`` on PostgreSQL, ``EXPLAIN QUERY PLAN``
on SQLite).
On PostgreSQL the tables are ANALYZEd after loading (as autovacuum would);
SQLite gets no ANALYZE, as the service never runs one.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from benchdb import LABELS, bench_database

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_DATABASE = "labelhub_bench_review"
IMAGES_PER_SUBMISSION = 100
SPREAD_DAYS = 40  # first revisions arrive over this many days after the activation
GOLD_EVERY = 20  # one image in 20 is gold (5 %)
LATER_PAGE = 20


def setup_django(db_url: str) -> None:
    env = {
        "DATABASE_URL": db_url,
        "DJANGO_SETTINGS_MODULE": "labelhub.settings",
        "DJANGO_DEBUG": "0",  # DEBUG would keep every query in memory
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "labelhub-bench-secret-key-not-for-production"),
        "DJANGO_ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
        "DJANGO_Q_NAME": "bench-review",
        "LOG_LEVEL": "WARNING",
        # No last-used update of the keys in the middle of the measured runs.
        "API_KEY_LAST_USED_INTERVAL": str(10**9),
    }
    for name in ("DATABASE_TEST_NAME", "PROMETHEUS_MULTIPROC_DIR", "REDIS_URL"):
        os.environ.pop(name, None)
    os.environ.update(env)
    import django

    django.setup()


# --- loading ----------------------------------------------------------------------------------


def insert_rows(model, names: Sequence[str], rows: Iterable[tuple]) -> None:
    """Insert ``rows`` (values of the fields ``names``, database-ready) into ``model``'s table, fast.

    Every other column gets its field's default. PostgreSQL: ``COPY``; SQLite: ``executemany``.
    """
    from django.db import connection

    meta = model._meta
    given = [meta.get_field(name) for name in names]
    others = [f for f in meta.concrete_fields if f.name not in names and not f.primary_key]
    defaults = tuple(
        None if f.get_default() is None else f.get_db_prep_save(f.get_default(), connection) for f in others
    )
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in [*given, *others])
    connection.ensure_connection()
    raw = connection.connection
    if connection.vendor == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row + defaults)
    else:
        marks = ", ".join("?" * (len(given) + len(others)))
        cursor = raw.cursor()
        cursor.executemany(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})", (row + defaults for row in rows)
        )
        cursor.close()


def next_id(model) -> int:
    from django.db.models import Max

    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def load_campaign(*, images: int, per_image: int, start: datetime, reviewer, agency) -> dict:
    """Load one campaign under review (see the module's docstring); returns its id and its row counts."""
    from django.db import connection, transaction

    from campaigns.models import BoundingBox, Campaign, CampaignImage, CampaignLabeler, Review, ReviewState, Submission
    from imagesets.models import Image, ImageSet

    adapt = cache(connection.ops.adapt_datetimefield_value)
    accepted, rejected = Review.Decision.ACCEPTED, Review.Decision.REJECTED
    day, minute = timedelta(days=1), timedelta(minutes=1)

    imageset = ImageSet.objects.create(
        title=f"bench-review-{images}", status=ImageSet.Status.FINISHED, blobstorage_path=f"images/uploads/r{images}"
    )
    campaign = Campaign.objects.create(
        title=f"bench-review-{images}",
        status=Campaign.Status.ACTIVE,
        review_required=True,
        date_created=start - day,
        date_started=start,
        created_by=reviewer,
    )
    CampaignLabeler.objects.create(campaign=campaign, user=agency)

    # Submissions: the first revision of every 100 images; the second and the third of the
    # revised images (one in ten) of every 1,000. Ids in the order they arrived.
    blocks = math.ceil(images / IMAGES_PER_SUBMISSION)
    first_dates = [start + day + b * timedelta(days=SPREAD_DAYS) / blocks for b in range(blocks)]
    subs = []  # (date, revision, image positions)
    for b in range(blocks):
        subs.append((first_dates[b], 1, range(b * 100, min(b * 100 + 100, images))))
    for g in range(math.ceil(images / 1000)):
        revised = range(g * 1000, min(g * 1000 + 1000, images), 10)
        second = first_dates[min(blocks - 1, (g * 1000 + 999) // 100)] + 3 * day
        subs.append((second, 2, revised))
        subs.append((second + 2 * day, 3, revised))
    subs.sort(key=lambda s: (s[0], s[1]))
    sub_id = next_id(Submission)
    revisions: dict[int, list[tuple[int, datetime]]] = {}  # image position -> [(submission id, date)] oldest first
    sub_rows = []
    for n, (date, _rev, positions) in enumerate(subs):
        for i in positions:
            revisions.setdefault(i, []).append((sub_id + n, date))
        sub_rows.append((sub_id + n, campaign.pk, agency.pk, len(positions), len(positions) * per_image, adapt(date)))

    # Decisions: (date, image position, submission id, decision, date_reworked), ids by date.
    decisions = []
    for i in range(images):
        revs = revisions[i]
        if i % 20 == 0:  # rejected, resubmitted, corrected again, accepted
            decisions.append((revs[0][1] + day + (i % 100) * minute, i, revs[0][0], rejected, revs[1][1]))
            decisions.append((revs[2][1] + day + (i % 100) * minute, i, revs[2][0], accepted, None))
        elif i % 10 in (1, 2) or i % 20 == 3:
            decision = rejected if i % 50 == 1 else accepted
            decisions.append((revs[0][1] + 2 * day + (i % 100) * minute, i, revs[0][0], decision, None))
    decisions.sort(key=lambda d: (d[0], d[1]))
    review_id, ci_id, image_id = next_id(Review), next_id(CampaignImage), next_id(Image)
    last_review: dict[int, tuple[int, str]] = {}
    review_rows = []
    for n, (date, i, submission, decision, reworked) in enumerate(decisions):
        last_review[i] = (review_id + n, decision)
        reason, code = ("The bottles on the left have no box.", "missing-object") if decision == rejected else ("", "")
        review_rows.append(
            (
                review_id + n,
                campaign.pk,
                ci_id + i,
                submission,
                decision,
                reason,
                code,
                reviewer.pk,
                adapt(date),
                None if reworked is None else adapt(reworked),
            )
        )

    def image_rows():
        for i in range(images):
            path = f"images/uploads/r{images}/IMG_{i:07d}.jpg"
            yield (image_id + i, imageset.pk, path, "JPEG", "image/jpeg", 2_000_000 + i % 1000, 1920, 1080)

    def campaign_image_rows():
        for i in range(images):
            revs = revisions[i]
            review, decision = last_review.get(i, (None, None))
            state = ReviewState.PENDING
            if decision is not None and (i % 20 != 0 or decision == accepted):
                state = ReviewState.ACCEPTED if decision == accepted else ReviewState.REJECTED
            yield (
                ci_id + i,
                campaign.pk,
                image_id + i,
                state != ReviewState.REJECTED,
                adapt(revs[-1][1]),
                adapt(revs[0][1]),
                revs[-1][0],
                state,
                review,
                len(revs),
                1 if i % 20 == 0 else 0,
            )

    def box_rows():
        # In the order they arrived: submission by submission.
        for n, (date, _rev, positions) in enumerate(subs):
            submission, added = sub_id + n, adapt(date)
            for i in positions:
                for p in range(per_image):
                    label = LABELS[(i * 7 + p * 3 + n) % len(LABELS)]
                    x, y = (i * 37 + p * 101) % 1800, (i * 53 + p * 71) % 1000
                    yield (
                        ci_id + i,
                        submission,
                        label,
                        label,
                        ((i + p) % 1000) / 1000,
                        x,
                        x + 20 + (i + p * 13) % 100,
                        y,
                        y + 20 + (i * 3 + p) % 60,
                        p,
                        added,
                    )

    with transaction.atomic():
        insert_rows(
            Image,
            ["id", "imageset", "blobstorage_path", "filetype", "content_type", "filesize", "width", "height"],
            image_rows(),
        )
        insert_rows(
            Submission, ["id", "campaign", "user", "image_count", "object_count", "date_created"], iter(sub_rows)
        )
        insert_rows(
            CampaignImage,
            [
                "id",
                "campaign",
                "image",
                "labeled",
                "date_labeled",
                "date_first_labeled",
                "current_submission",
                "review_state",
                "last_review",
                "revision_count",
                "rework_round",
            ],
            campaign_image_rows(),
        )
        insert_rows(
            BoundingBox,
            [
                "campaign_image",
                "submission",
                "label",
                "label_original",
                "confidence",
                "xmin",
                "xmax",
                "ymin",
                "ymax",
                "position",
                "date_added",
            ],
            box_rows(),
        )
        insert_rows(
            Review,
            [
                "id",
                "campaign",
                "campaign_image",
                "submission",
                "decision",
                "reason",
                "reason_code",
                "reviewer",
                "date_created",
                "date_reworked",
            ],
            iter(review_rows),
        )
    boxes = sum(len(positions) for _d, _r, positions in subs) * per_image
    return {
        "campaign_id": campaign.pk,
        "images": images,
        "boxes": boxes,
        "current_boxes": images * per_image,
        "submissions": len(subs),
        "reviews": len(decisions),
    }


def load_gold(*, campaign_id: int) -> dict:
    """Make one image in ``GOLD_EVERY`` gold and score each of its revisions (see the module's docstring)."""
    from collections import defaultdict
    from types import SimpleNamespace

    from django.conf import settings
    from django.db import connection, transaction

    from campaigns.models import BoundingBox, CampaignImage, GoldBox, GoldImage, GoldScore, GoldScoreLabel, Submission
    from campaigns.scoring import score_boxes

    adapt = connection.ops.adapt_datetimefield_value
    rows = CampaignImage.objects.filter(campaign_id=campaign_id).order_by("image_id")
    gold_rows = list(rows.values_list("pk", "image_id", "current_submission_id"))[::GOLD_EVERY]
    revisions: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))  # ci -> submission -> boxes
    for ci, submission, label, xmin, ymin, xmax, ymax in (
        BoundingBox.objects.filter(campaign_image_id__in=[row[0] for row in gold_rows])
        .order_by("campaign_image_id", "submission_id", "position")
        .values_list("campaign_image_id", "submission_id", "label", "xmin", "ymin", "xmax", "ymax")
        .iterator(chunk_size=10_000)
    ):
        revisions[ci][submission].append(SimpleNamespace(label=label, xmin=xmin, ymin=ymin, xmax=xmax, ymax=ymax))
    dates = dict(Submission.objects.filter(campaign_id=campaign_id).values_list("pk", "date_created"))
    now = adapt(datetime.now(UTC))
    gold_id, score_id = next_id(GoldImage), next_id(GoldScore)
    golds, references, scores, label_counts = [], [], [], []
    for n, (ci, image_id, current) in enumerate(gold_rows):
        golds.append((gold_id + n, campaign_id, ci, image_id, now, now))
        boxes = revisions[ci][current]
        first = boxes[0]
        reference = [
            SimpleNamespace(
                label=first.label, xmin=first.xmin + 8, ymin=first.ymin, xmax=first.xmax + 8, ymax=first.ymax
            ),
            *boxes[1:-1],
            SimpleNamespace(label=boxes[-1].label, xmin=0, ymin=0, xmax=30, ymax=30),
        ]
        references += [(gold_id + n, b.label, b.xmin, b.xmax, b.ymin, b.ymax, p) for p, b in enumerate(reference)]
        for submission, submitted in sorted(revisions[ci].items()):
            score = score_boxes(reference, submitted, threshold=settings.GOLD_IOU_THRESHOLD)
            f = score.figures()
            scores.append(
                (score_id + len(scores), gold_id + n, campaign_id, submission, submission == current)
                + (score.tp, score.fp, score.fn, score.iou_sum, score.matched)
                + (f["precision"], f["recall"], f["f1"], f["mean_iou"], adapt(dates[submission]), now)
            )
            label_counts += [(scores[-1][0], label, c.tp, c.fp, c.fn) for label, c in score.by_label.items()]
    with transaction.atomic():
        insert_rows(GoldImage, ["id", "campaign", "campaign_image", "image", "date_created", "date_updated"], golds)
        insert_rows(GoldBox, ["gold", "label", "xmin", "xmax", "ymin", "ymax", "position"], references)
        insert_rows(
            GoldScore,
            ["id", "gold", "campaign", "submission", "latest", "tp", "fp", "fn", "iou_sum", "matched"]
            + ["precision", "recall", "f1", "mean_iou", "date_submitted", "date_scored"],
            scores,
        )
        insert_rows(GoldScoreLabel, ["score", "label", "tp", "fp", "fn"], label_counts)
    return {"gold": len(golds), "gold_boxes": len(references), "gold_scores": len(scores)}


def load_twin(*, loaded: dict, start: datetime, agency) -> dict:
    """Agreement: a second campaign over the same images for another agency, its boxes derived from the first's.

    One submission per 100 images, every image awaiting review. Each image's
    boxes are the first campaign's current ones, except (``i`` the image's
    position): ``i % 10 == 0`` the last box left out, ``== 1`` every box
    3 px to the right (still the same box at IoU >= 0.5), ``== 2`` the first
    box under another label, ``== 3`` one more box. Two ``INSERT ... SELECT``
    copy the boxes in the database. The first campaign's deliveries then name
    50 annotators (``w0`` to ``w49``, by submission), for ``/annotators``.
    """
    from django.db import connection, transaction
    from django.db.models import CharField, F, Value
    from django.db.models.functions import Cast, Concat

    from campaigns.models import BoundingBox, Campaign, CampaignImage, CampaignLabeler, ReviewState, Submission

    adapt = connection.ops.adapt_datetimefield_value
    source_id, images = loaded["campaign_id"], loaded["images"]
    rows = CampaignImage.objects.filter(campaign_id=source_id)
    first_image = rows.order_by("image_id").values_list("image_id", flat=True).first()
    twin = Campaign.objects.create(
        title=f"bench-review-{images}-twin", status=Campaign.Status.ACTIVE, date_started=start, review_required=True
    )
    CampaignLabeler.objects.create(campaign=twin, user=agency)
    sub_id, ci_id = next_id(Submission), next_id(CampaignImage)
    delivered = adapt(start + timedelta(days=SPREAD_DAYS))
    blocks = math.ceil(images / IMAGES_PER_SUBMISSION)
    per_image = loaded["current_boxes"] // images
    quote = connection.ops.quote_name
    box, ci = quote(BoundingBox._meta.db_table), quote(CampaignImage._meta.db_table)
    columns = ", ".join(
        quote(BoundingBox._meta.get_field(name).column)
        for name in ("campaign_image", "submission", "label", "label_original", "confidence")
        + ("xmin", "xmax", "ymin", "ymax", "position", "date_added")
    )
    i = f"(ci.{quote('image_id')} - {first_image})"
    with transaction.atomic():
        insert_rows(
            Submission,
            ["id", "campaign", "user", "image_count", "object_count", "date_created"],
            (
                (sub_id + b, twin.pk, agency.pk, min(100, images - b * 100), min(100, images - b * 100) * per_image)
                + (delivered,)
                for b in range(blocks)
            ),
        )
        insert_rows(
            CampaignImage,
            ["id", "campaign", "image", "labeled", "date_labeled", "date_first_labeled", "current_submission"]
            + ["review_state", "revision_count"],
            (
                (ci_id + n, twin.pk, first_image + n, True, delivered, delivered, sub_id + n // 100)
                + (ReviewState.PENDING, 1)
                for n in range(images)
            ),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {box} ({columns}) "
                f"SELECT {ci_id} + {i}, {sub_id} + {i} / 100, "
                f"CASE WHEN {i} %% 10 = 2 AND b.{quote('position')} = 0 THEN 'Relabeled' ELSE b.{quote('label')} END, "
                f"b.{quote('label_original')}, b.{quote('confidence')}, "
                f"b.{quote('box_xmin')} + CASE WHEN {i} %% 10 = 1 THEN 3 ELSE 0 END, "
                f"b.{quote('box_xmax')} + CASE WHEN {i} %% 10 = 1 THEN 3 ELSE 0 END, "
                f"b.{quote('box_ymin')}, b.{quote('box_ymax')}, b.{quote('position')}, %s "
                f"FROM {box} b JOIN {ci} ci ON b.{quote('campaign_image_id')} = ci.{quote('id')} "
                f"AND b.{quote('submission_id')} = ci.{quote('current_submission_id')} "
                f"WHERE ci.{quote('campaign_id')} = %s "
                f"AND NOT ({i} %% 10 = 0 AND b.{quote('position')} = {per_image - 1})",
                [delivered, source_id],
            )
            cursor.execute(
                f"INSERT INTO {box} ({columns}) "
                f"SELECT {ci_id} + {i}, {sub_id} + {i} / 100, 'Extra', 'Extra', NULL, 0, 10, 0, 10, {per_image}, %s "
                f"FROM {ci} ci WHERE ci.{quote('campaign_id')} = %s AND {i} %% 10 = 3",
                [delivered, source_id],
            )
        Submission.objects.filter(campaign_id=source_id).update(
            annotator=Concat(Value("w"), Cast(F("id") % 50, CharField()))
        )
    # Compared with its twin: the admin's statistics show the agreement, per annotator too.
    Campaign.objects.filter(pk=source_id).update(consensus_with=twin)
    return {"twin_id": twin.pk, "twin_boxes": BoundingBox.objects.filter(campaign_image__campaign=twin).count()}


class ColdCache:
    """A client whose every request finds the cache empty: the agreement is computed, not read back."""

    def __init__(self, client):
        self.client = client

    def get(self, path: str):
        from django.core.cache import cache

        cache.clear()
        return self.client.get(path)


def agreement_requests(loaded: dict, *, staff, agency_client, admin_client) -> list[tuple]:
    """(name, client, path) of the agreement and per-annotator requests on one campaign and its twin."""
    cid, twin = loaded["campaign_id"], loaded["twin_id"]
    agreement = f"/api/v1/campaigns/{cid}/agreement?with={twin}"
    return [
        ("GET /agreement (computed)", ColdCache(staff), agreement),
        ("GET /agreement?page=2 (cached)", staff, f"{agreement}&page=2"),
        ("agency GET /annotators", agency_client, f"/api/v1/campaigns/{cid}/annotators"),
        ("admin campaign stats (computed)", ColdCache(admin_client), f"/admin/campaigns/campaign/{cid}/stats/"),
    ]


def after_load() -> None:
    """Sequences past the ids given by hand; fresh planner statistics on PostgreSQL."""
    from django.core.management.color import no_style
    from django.db import connection

    from campaigns.models import CampaignImage, GoldImage, GoldScore, Review, Submission
    from imagesets.models import Image

    with connection.cursor() as cursor:
        models = [Image, CampaignImage, Submission, Review, GoldImage, GoldScore]
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")


# --- measuring --------------------------------------------------------------------------------


def api_client(user):
    from rest_framework.test import APIClient

    from accounts.services import apikey_issue

    issued = apikey_issue(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHENTICATION_KEY=issued.apikey, HTTP_AUTHENTICATION_SECRET=issued.secret)
    return client


def requests_of(loaded: dict, *, since: str, until: str, staff, agency_client, admin_client) -> list[tuple]:
    """(name, client, path) of each measured request on one campaign."""
    cid, images = loaded["campaign_id"], loaded["images"]
    later_per_page = max(1, round(1000 * images / 100_000))
    return [
        ("GET /stats", staff, f"/api/v1/campaigns/{cid}/stats"),
        ("GET /stats?since", staff, f"/api/v1/campaigns/{cid}/stats?since={since}"),
        ("GET /stats?since&until", staff, f"/api/v1/campaigns/{cid}/stats?since={since}&until={until}"),
        ("GET /reviews (page 1)", staff, f"/api/v1/campaigns/{cid}/reviews"),
        (
            f"GET /reviews?page={LATER_PAGE}",
            staff,
            f"/api/v1/campaigns/{cid}/reviews?page={LATER_PAGE}&per_page={later_per_page}",
        ),
        ("GET /quality", staff, f"/api/v1/campaigns/{cid}/quality"),
        ("GET /gold (page 1)", staff, f"/api/v1/campaigns/{cid}/gold"),
        ("agency GET /images?state=rejected", agency_client, f"/api/v1/campaigns/{cid}/images?state=rejected"),
        ("agency GET /images?state=labeled", agency_client, f"/api/v1/campaigns/{cid}/images?state=labeled"),
        (
            "admin agency stats CSV",
            admin_client,
            f"/admin/campaigns/campaign/stats/agency/?agency={loaded['agency_email']}&format=csv",
        ),
    ]


def measure(client, path: str, runs: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(path)  # warm-up: compiled queries, caches, the key's first use
    if response.status_code != 200:
        raise SystemExit(f"GET {path}: {response.status_code} {response.content[:500]!r}")
    seconds, counts = [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            body = response.content
            seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
        counts.append(len(captured.captured_queries))
    if len(set(counts)) != 1:
        raise SystemExit(f"GET {path}: the query count varies between runs: {counts}")
    slowest = max(captured.captured_queries, key=lambda q: float(q["time"]))
    seconds.sort()
    return {
        "median": statistics.median(seconds),
        "p95": seconds[math.ceil(0.95 * len(seconds)) - 1],
        "queries": counts[0],
        "bytes": len(body),
        "items": _items(response, body),
        "slowest_seconds": float(slowest["time"]),
        "sql": [q["sql"] for q in captured.captured_queries],
    }


def _items(response, body: bytes) -> str:
    if response["Content-Type"].startswith("text/csv"):
        return f"{len(body.splitlines()) - 1} rows"
    if response["Content-Type"].startswith("text/html"):
        return f"HTML page, {len(body) // 1024} KiB"
    data = response.json()
    if "disagreements" in data:
        return f"{data['images']:,} shared images, F1 {data['f1']:.4f}, {data['pagination']['total']:,} disagree"
    if "annotators" in data:
        return f"{data['pagination']['total']} annotators"
    if "pagination" in data:
        items = next(v for k, v in data.items() if k != "pagination")
        return f"{len(items)} of {data['pagination']['total']}"
    if "gold" in data:
        return f"{data['gold']['scored']:,} of {data['gold']['images']:,} gold images scored"
    return f"{data['boxes']} boxes, {data['decisions']} decisions"


def explain(queries: list[str], top: int = 3) -> str:
    """Each SELECT of ``queries`` run again and fetched whole, the ``top`` slowest with their plans.

    (``CaptureQueriesContext`` times the ``execute`` call only: on SQLite that
    leaves out the rows fetched afterwards.)
    """
    from django.db import connection

    timed = []
    with connection.cursor() as cursor:
        for sql in queries:
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            started = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            timed.append((time.perf_counter() - started, sql))
        timed.sort(reverse=True)
        out = [f"{len(timed)} SELECTs, {sum(t for t, _ in timed) * 1000:.0f} ms in all when fetched whole"]
        for seconds, sql in timed[:top]:
            out.append(f"\n{seconds * 1000:.0f} ms: {sql}")
            if connection.vendor == "postgresql":
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                out.extend(row[0] for row in cursor.fetchall())
            else:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
                out.extend(f"{row[0]:>4} {row[1]:>4}  {row[-1]}" for row in cursor.fetchall())
    return "\n".join(out)


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=100_000, help="images of the large campaign")
    parser.add_argument("--small", type=int, default=1000, help="images of the small campaign")
    parser.add_argument("--boxes-per-image", type=int, default=10)
    parser.add_argument("--runs", type=int, default=20, help="measured runs per request")
    parser.add_argument("--explain", action="store_true", help="print the plans of each request's slowest queries")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    if args.small < 100 or args.images < args.small:
        parser.error("--small must be at least 100 and --images at least --small")

    with bench_database(BENCH_DATABASE, prefix="labelhub-bench-review-", keep=args.keep) as (db_url, vendor):
        print(f"database: {vendor} ({BENCH_DATABASE if vendor == 'postgresql' else db_url})", flush=True)
        setup_django(db_url)
        return run(args, vendor)


def run(args, vendor: str) -> int:
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import User

    call_command("migrate", verbosity=0)
    staff = User.objects.create_superuser(email="bench-reviewer@example.com")
    staff_client = api_client(staff)
    admin_client = Client()
    admin_client.force_login(staff)
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=60)
    since, until = (start + timedelta(days=30)).date().isoformat(), (start + timedelta(days=45)).date().isoformat()

    campaigns = {}
    for size in (args.small, args.images):
        agency = User.objects.create_user(email=f"agency-{size}@example.com")
        started = time.perf_counter()
        loaded = load_campaign(images=size, per_image=args.boxes_per_image, start=start, reviewer=staff, agency=agency)
        loaded.update(agency_email=agency.email, agency_client=api_client(agency))
        loaded.update(load_gold(campaign_id=loaded["campaign_id"]))
        twin_agency = User.objects.create_user(email=f"twin-agency-{size}@example.com")
        loaded.update(load_twin(loaded=loaded, start=start, agency=twin_agency))
        campaigns[size] = loaded
        print(
            f"loaded {size:,} images, {loaded['boxes']:,} boxes ({loaded['current_boxes']:,} current), "
            f"{loaded['submissions']:,} submissions, {loaded['reviews']:,} decisions, "
            f"{loaded['gold']:,} gold images ({loaded['gold_scores']:,} scores), "
            f"a twin campaign of {loaded['twin_boxes']:,} boxes "
            f"in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
    started = time.perf_counter()
    after_load()
    print(
        f"after loading ({'ANALYZE, ' if vendor == 'postgresql' else ''}sequences): "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )

    results: dict[int, list[tuple[str, dict]]] = {}
    for size, loaded in campaigns.items():
        results[size] = []
        for name, client, path in requests_of(
            loaded,
            since=since,
            until=until,
            staff=staff_client,
            agency_client=loaded["agency_client"],
            admin_client=admin_client,
        ) + agreement_requests(
            loaded, staff=staff_client, agency_client=loaded["agency_client"], admin_client=admin_client
        ):
            result = measure(client, path, args.runs)
            results[size].append((name, result))
            print(
                f"{size:>7,} images  {name:<34} median {result['median'] * 1000:8.1f} ms  "
                f"p95 {result['p95'] * 1000:8.1f} ms  {result['queries']:>2} queries  "
                f"slowest execute {result['slowest_seconds'] * 1000:7.1f} ms  {result['items']}",
                flush=True,
            )

    small, large = args.small, args.images
    print(f"\n{vendor}, {args.runs} runs each, since={since} until={until}\n")
    print(f"| request | median ms | p95 ms | queries ({small:,} images) | queries ({large:,} images) | answer |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    same = True
    for (name, result), (_, small_result) in zip(results[large], results[small], strict=True):
        same &= result["queries"] == small_result["queries"]
        print(
            f"| {name} | {result['median'] * 1000:.0f} | {result['p95'] * 1000:.0f} | "
            f"{small_result['queries']} | {result['queries']} | "
            f"{result['items']} |"
        )
    if args.explain:
        for name, result in results[large]:
            print(f"\n--- {name} ({large:,} images)\n{explain(result['sql'])}")
    print("\nthe same query counts at both sizes" if same else "\nQUERY COUNTS DIFFER BETWEEN THE SIZES")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
